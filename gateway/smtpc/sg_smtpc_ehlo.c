/* SPDX-License-Identifier: Apache-2.0 */
/* EHLO extension keywords; see sg_smtpc_ehlo.h. */
#include "smtpc/sg_smtpc_ehlo.h"

#include <string.h>
#include <strings.h>

/* Whether the line |p| (|n| bytes) starts with keyword |kw| followed by the
 * end, a space (parameters) or, when |eq|, '='. Sets *rest to what follows. */
static bool keyword(const char *p, size_t n, const char *kw, bool eq, const char **rest,
                    size_t *rn) {
  size_t k = strlen(kw);
  if (n < k || strncasecmp(p, kw, k) != 0)
    return false;
  if (n > k && p[k] != ' ' && !(eq && p[k] == '='))
    return false;
  *rest = n > k ? p + k + 1 : p + n;
  *rn = n > k ? n - k - 1 : 0;
  return true;
}

static unsigned parse_mechs(const char *p, size_t n) {
  unsigned m = 0;
  size_t i = 0;
  while (i < n) {
    while (i < n && p[i] == ' ')
      i++;
    size_t s = i;
    while (i < n && p[i] != ' ')
      i++;
    size_t l = i - s;
    if (l == 5 && strncasecmp(p + s, "PLAIN", 5) == 0)
      m |= SG_SMTPC_MECH_PLAIN;
    else if (l == 5 && strncasecmp(p + s, "LOGIN", 5) == 0)
      m |= SG_SMTPC_MECH_LOGIN;
    else if (l == 7 && strncasecmp(p + s, "XOAUTH2", 7) == 0)
      m |= SG_SMTPC_MECH_XOAUTH2;
  }
  return m;
}

static uint64_t parse_size(const char *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
    if (v > (UINT64_MAX - 9) / 10)
      return 0; /* absurd: treat as no limit announced */
    v = v * 10 + (uint64_t)(p[i] - '0');
  }
  return v;
}

void sg_smtpc_ehlo_parse(const sg_smtpc_reply *r, sg_smtpc_ext *out) {
  memset(out, 0, sizeof *out);
  size_t pos = 0;
  const char *line, *rest;
  size_t len, rn;
  bool first = true;
  while (sg_smtpc_reply_next_line(r, &pos, &line, &len)) {
    if (first) { /* the greeting line: the server's name */
      first = false;
      continue;
    }
    if (keyword(line, len, "STARTTLS", false, &rest, &rn))
      out->starttls = true;
    else if (keyword(line, len, "PIPELINING", false, &rest, &rn))
      out->pipelining = true;
    else if (keyword(line, len, "8BITMIME", false, &rest, &rn))
      out->eightbitmime = true;
    else if (keyword(line, len, "SMTPUTF8", false, &rest, &rn))
      out->smtputf8 = true;
    else if (keyword(line, len, "ENHANCEDSTATUSCODES", false, &rest, &rn))
      out->enhanced = true;
    else if (keyword(line, len, "SIZE", false, &rest, &rn)) {
      out->size = true;
      out->size_max = parse_size(rest, rn);
    } else if (keyword(line, len, "AUTH", true, &rest, &rn))
      out->mechs |= parse_mechs(rest, rn);
  }
}
