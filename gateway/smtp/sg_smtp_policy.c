/* SPDX-License-Identifier: Apache-2.0 */
/* Relay networks and senders; see sg_smtp_policy.h. */
#include "smtp/sg_smtp_policy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"

static bool parse_ip(const char *s, bool *v6, uint8_t out[16]) {
  memset(out, 0, 16);
  if (inet_pton(AF_INET, s, out) == 1) {
    *v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, s, out) == 1) {
    *v6 = true;
    return true;
  }
  return false;
}

static void clear_host_bits(uint8_t *a, unsigned bits, unsigned total) {
  for (unsigned b = bits; b < total; b++)
    a[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
}

static int parse_one(const char *s, size_t n, sg_smtp_cidr *c, char *err, size_t errcap) {
  char tmp[64];
  if (n == 0 || n >= sizeof tmp) {
    snprintf(err, errcap, "relay_networks: bad entry '%.*s'", (int)(n < 60 ? n : 60), s);
    return SG_ERR_CONFIG;
  }
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  char *slash = strchr(tmp, '/');
  long bits = -1;
  if (slash) {
    *slash = '\0';
    char *end;
    bits = strtol(slash + 1, &end, 10);
    if (slash[1] == '\0' || *end != '\0' || bits < 0) {
      snprintf(err, errcap, "relay_networks: bad prefix length in '%.*s'", (int)n, s);
      return SG_ERR_CONFIG;
    }
  }
  if (!parse_ip(tmp, &c->v6, c->addr)) {
    snprintf(err, errcap, "relay_networks: '%s' is not an IPv4 or IPv6 address", tmp);
    return SG_ERR_CONFIG;
  }
  unsigned total = c->v6 ? 128 : 32;
  if (bits > (long)total) {
    snprintf(err, errcap, "relay_networks: prefix length %ld is over %u in '%.*s'", bits, total,
             (int)n, s);
    return SG_ERR_CONFIG;
  }
  c->bits = bits < 0 ? total : (unsigned)bits;
  clear_host_bits(c->addr, c->bits, total);
  return 0;
}

int sg_smtp_nets_parse(const char *list, sg_smtp_nets *out, char *err, size_t errcap) {
  memset(out, 0, sizeof *out);
  for (const char *p = list ? list : ""; *p;) {
    p += strspn(p, " \t,");
    if (*p == '\0')
      break;
    size_t n = strcspn(p, " \t,");
    sg_smtp_cidr c;
    int rv = parse_one(p, n, &c, err, errcap);
    if (rv) {
      sg_smtp_nets_free(out);
      return rv;
    }
    out->v = sg_xrealloc(out->v, (out->n + 1) * sizeof *out->v);
    out->v[out->n++] = c;
    p += n;
  }
  return 0;
}

void sg_smtp_nets_free(sg_smtp_nets *n) {
  sg_free(n->v);
  n->v = NULL;
  n->n = 0;
}

static bool prefix_eq(const uint8_t *a, const uint8_t *net, unsigned bits) {
  for (unsigned b = 0; b < bits; b++) {
    uint8_t m = (uint8_t)(0x80u >> (b % 8));
    if ((a[b / 8] & m) != (net[b / 8] & m))
      return false;
  }
  return true;
}

bool sg_smtp_nets_match(const sg_smtp_nets *n, const char *ip) {
  bool v6;
  uint8_t a[16];
  if (!parse_ip(ip, &v6, a))
    return false;
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  bool is_mapped = v6 && memcmp(a, mapped, 12) == 0;
  for (size_t i = 0; i < n->n; i++) {
    const sg_smtp_cidr *c = &n->v[i];
    if (c->v6 == v6 && prefix_eq(a, c->addr, c->bits))
      return true;
    if (!c->v6 && is_mapped && prefix_eq(a + 12, c->addr, c->bits))
      return true;
  }
  return false;
}

bool sg_smtp_addr_in_list(const char *list, const char *addr) {
  size_t al = strlen(addr);
  const char *at = strrchr(addr, '@');
  if (al == 0 || at == NULL || list == NULL)
    return false;
  for (const char *p = list; *p;) {
    p += strspn(p, " \t,");
    size_t n = strcspn(p, " \t,");
    if (n == 0)
      break;
    if (p[0] == '@') {
      if (strlen(at) == n && strncasecmp(at, p, n) == 0)
        return true;
    } else if (n == al && strncasecmp(addr, p, n) == 0) {
      return true;
    }
    p += n;
  }
  return false;
}
