/* SPDX-License-Identifier: Apache-2.0 */
#include "net/sg_proxy.h"

#include "core/sg_base64.h"
#include "core/sg_err.h"
#include "core/sg_settings.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c = (char)tolower((unsigned char)c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes |n| bytes of |s| into |out| (NUL-terminated); false if bad. */
static bool pct_decode(const char *s, size_t n, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= n)
        return false;
      int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
      if (h < 0 || l < 0)
        return false;
      c = (char)(h * 16 + l);
      i += 2;
    }
    if (o + 1 >= cap || c == '\0')
      return false;
    out[o++] = c;
  }
  out[o] = '\0';
  return true;
}

int sg_proxy_parse(const char *url, sg_proxy *out, char *err, size_t errcap) {
  memset(out, 0, sizeof *out);
  const char *p = url;
  const char *sep = strstr(p, "://");
  if (sep) {
    if ((size_t)(sep - p) != 4 || strncasecmp(p, "http", 4) != 0) {
      snprintf(err, errcap, "proxy %.*s: only http:// proxies are supported", (int)(sep - p), p);
      return SG_ERR_INVAL;
    }
    p = sep + 3;
  }
  const char *end = p + strcspn(p, "/?#");
  if (*end == '/' && end[1] != '\0') {
    snprintf(err, errcap, "proxy URL: a path is not allowed");
    return SG_ERR_INVAL;
  }
  if (*end == '?' || *end == '#') {
    snprintf(err, errcap, "proxy URL: a query is not allowed");
    return SG_ERR_INVAL;
  }
  const char *at = NULL;
  for (const char *q = p; q < end; q++)
    if (*q == '@')
      at = q;
  if (at) {
    const char *colon = memchr(p, ':', (size_t)(at - p));
    char user[256], pass[256];
    if (!pct_decode(p, colon ? (size_t)(colon - p) : (size_t)(at - p), user, sizeof user) ||
        !pct_decode(colon ? colon + 1 : at, colon ? (size_t)(at - colon - 1) : 0, pass,
                    sizeof pass)) {
      snprintf(err, errcap, "proxy URL: bad credentials");
      return SG_ERR_INVAL;
    }
    char both[520];
    int bl = snprintf(both, sizeof both, "%s:%s", user, pass);
    sg_buf b = SG_BUF_INIT;
    sg_base64_encode(&b, both, (size_t)bl);
    snprintf(out->auth, sizeof out->auth, "%s", b.data);
    sg_buf_free(&b);
    memset(both, 0, sizeof both);
    memset(pass, 0, sizeof pass);
    p = at + 1;
  }
  const char *hs = p, *he;
  const char *portp = NULL;
  if (*p == '[') {
    const char *rb = memchr(p, ']', (size_t)(end - p));
    if (rb == NULL) {
      snprintf(err, errcap, "proxy URL: bad IPv6 address");
      return SG_ERR_INVAL;
    }
    hs = p + 1;
    he = rb;
    if (rb + 1 < end && rb[1] == ':')
      portp = rb + 2;
    else if (rb + 1 != end) {
      snprintf(err, errcap, "proxy URL: bad IPv6 address");
      return SG_ERR_INVAL;
    }
  } else {
    const char *colon = memchr(p, ':', (size_t)(end - p));
    he = colon ? colon : end;
    portp = colon ? colon + 1 : NULL;
  }
  if (he == hs || (size_t)(he - hs) >= sizeof out->host) {
    snprintf(err, errcap, "proxy URL: no host");
    return SG_ERR_INVAL;
  }
  memcpy(out->host, hs, (size_t)(he - hs));
  out->host[he - hs] = '\0';
  out->port = SG_PROXY_DEFAULT_PORT;
  if (portp) {
    char *pe;
    long port = strtol(portp, &pe, 10);
    if (pe == portp || pe != end || port < 1 || port > 65535) {
      snprintf(err, errcap, "proxy URL: bad port");
      return SG_ERR_INVAL;
    }
    out->port = (uint16_t)port;
  }
  return 0;
}

/* |host| in the CIDR |spec| ("10.0.0.0/8", "fd00::/8"). */
static bool in_cidr(const char *spec, size_t n, const char *host) {
  char net[64];
  const char *slash = memchr(spec, '/', n);
  if (slash == NULL || (size_t)(slash - spec) >= sizeof net)
    return false;
  memcpy(net, spec, (size_t)(slash - spec));
  net[slash - spec] = '\0';
  char *e;
  char bits_s[8];
  size_t bl = n - (size_t)(slash - spec) - 1;
  if (bl == 0 || bl >= sizeof bits_s)
    return false;
  memcpy(bits_s, slash + 1, bl);
  bits_s[bl] = '\0';
  long bits = strtol(bits_s, &e, 10);
  if (*e)
    return false;
  unsigned char a[16], b[16];
  int family = strchr(net, ':') ? AF_INET6 : AF_INET;
  size_t len = family == AF_INET6 ? 16 : 4;
  if (bits < 0 || bits > (long)len * 8 || inet_pton(family, net, a) != 1 ||
      inet_pton(family, host, b) != 1)
    return false;
  for (long i = 0; i < bits; i++) {
    int m = 0x80 >> (i % 8);
    if ((a[i / 8] & m) != (b[i / 8] & m))
      return false;
  }
  return true;
}

bool sg_proxy_bypass(const char *list, const char *host) {
  if (list == NULL || host == NULL)
    return false;
  size_t hl = strlen(host);
  while (hl > 0 && host[hl - 1] == '.')
    hl--;
  const char *p = list;
  while (*p) {
    while (*p == ',' || *p == ' ' || *p == '\t')
      p++;
    const char *e = p + strcspn(p, ", \t");
    size_t n = (size_t)(e - p);
    if (n == 1 && *p == '*')
      return true;
    if (n > 0 && memchr(p, '/', n)) {
      if (in_cidr(p, n, host))
        return true;
    } else if (n > 0) {
      const char *d = p;
      size_t dl = n;
      if (*d == '.') {
        d++;
        dl--;
      }
      while (dl > 0 && d[dl - 1] == '.')
        dl--;
      if (dl > 0 && dl <= hl && strncasecmp(host + hl - dl, d, dl) == 0 &&
          (dl == hl || host[hl - dl - 1] == '.'))
        return true;
    }
    p = e;
  }
  return false;
}

const char *sg_proxy_env(char *const *envp, const char *lower, const char *upper) {
  const char *v = sg_settings_env(envp, lower);
  if (v == NULL || v[0] == '\0')
    v = sg_settings_env(envp, upper);
  return v && v[0] ? v : NULL;
}

int sg_proxy_for(const char *setting, char *const *envp, const char *host, sg_proxy *out, char *err,
                 size_t errcap) {
  const char *url =
      setting && setting[0] ? setting : sg_proxy_env(envp, "https_proxy", "HTTPS_PROXY");
  if (url == NULL)
    return 0;
  if (sg_proxy_bypass(sg_proxy_env(envp, "no_proxy", "NO_PROXY"), host))
    return 0;
  int rv = sg_proxy_parse(url, out, err, errcap);
  return rv ? rv : 1;
}

void sg_proxy_connect_request(const sg_proxy *p, const char *host, uint16_t port, sg_buf *out) {
  bool v6 = strchr(host, ':') != NULL;
  char target[300];
  snprintf(target, sizeof target, v6 ? "[%s]:%u" : "%s:%u", host, (unsigned)port);
  sg_buf_printf(out, "CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: sendgate\r\n", target, target);
  if (p->auth[0])
    sg_buf_printf(out, "Proxy-Authorization: Basic %s\r\n", p->auth);
  sg_buf_append_str(out, "\r\n");
}

int sg_proxy_connect_response(const char *p, size_t n, int *status, size_t *head_len) {
  size_t lim = n < SG_PROXY_MAX_RESPONSE ? n : SG_PROXY_MAX_RESPONSE;
  const char *end = NULL;
  for (size_t i = 0; i + 3 < lim; i++)
    if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n') {
      end = p + i + 4;
      break;
    }
  if (n >= 12 && (memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
                  !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
                  !isdigit((unsigned char)p[11])))
    return SG_ERR_PARSE;
  if (end == NULL)
    return n >= SG_PROXY_MAX_RESPONSE ? SG_ERR_PARSE : SG_ERR_AGAIN;
  if ((size_t)(end - p) < 16)
    return SG_ERR_PARSE;
  *status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
  *head_len = (size_t)(end - p);
  return 0;
}
