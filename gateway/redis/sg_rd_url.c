/* SPDX-License-Identifier: Apache-2.0 */
/* Redis URL parsing (see sg_rd_url.h). Pure string handling. */
#include "redis/sg_rd_url.h"

#include "core/sg_err.h"

#include <stdio.h>
#include <string.h>

/* Upper bound for SELECT; Redis defaults to 16 databases but allows more. */
#define DB_MAX 1000000

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Copies [s, s+n) into out (cap bytes) with %XX decoding when |decode|. */
static int copy_part(const char *s, size_t n, char *out, size_t cap, bool decode) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (decode && c == '%') {
      if (i + 2 >= n)
        return SG_ERR_PARSE;
      int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
      if (hi < 0 || lo < 0)
        return SG_ERR_PARSE;
      c = (char)(hi * 16 + lo);
      if (c == '\0')
        return SG_ERR_PARSE;
      i += 2;
    }
    if (o + 1 >= cap)
      return SG_ERR_TOOBIG;
    out[o++] = c;
  }
  out[o] = '\0';
  return 0;
}

/* Parses a decimal in [lo, hi] from exactly [s, s+n). */
static int parse_num(const char *s, size_t n, long lo, long hi, long *out) {
  if (n == 0 || n > 9)
    return SG_ERR_PARSE;
  long v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return SG_ERR_PARSE;
    v = v * 10 + (s[i] - '0');
  }
  if (v < lo || v > hi)
    return SG_ERR_PARSE;
  *out = v;
  return 0;
}

static int parse_userinfo(const char *s, size_t n, sg_rd_url *u) {
  const char *colon = memchr(s, ':', n);
  if (colon == NULL) /* "redis://secret@host": redis-cli reads a lone part as the password */
    return copy_part(s, n, u->password, sizeof u->password, true);
  int rv = copy_part(s, (size_t)(colon - s), u->user, sizeof u->user, true);
  if (rv == 0)
    rv = copy_part(colon + 1, n - (size_t)(colon - s) - 1, u->password, sizeof u->password, true);
  return rv;
}

static int parse_hostport(const char *s, size_t n, sg_rd_url *u) {
  const char *port = NULL;
  size_t portlen = 0;
  if (n > 0 && s[0] == '[') {
    const char *close = memchr(s, ']', n);
    if (close == NULL || close == s + 1)
      return SG_ERR_PARSE;
    int rv = copy_part(s + 1, (size_t)(close - s - 1), u->host, sizeof u->host, false);
    if (rv)
      return rv;
    const char *rest = close + 1;
    size_t restlen = n - (size_t)(rest - s);
    if (restlen > 0) {
      if (rest[0] != ':')
        return SG_ERR_PARSE;
      port = rest + 1;
      portlen = restlen - 1;
    }
  } else {
    const char *colon = memchr(s, ':', n);
    size_t hostlen = colon ? (size_t)(colon - s) : n;
    if (hostlen > 0) {
      int rv = copy_part(s, hostlen, u->host, sizeof u->host, false);
      if (rv)
        return rv;
    }
    if (colon) {
      port = colon + 1;
      portlen = n - hostlen - 1;
    }
  }
  for (const char *p = u->host; *p; p++)
    if (*p == '/' || *p == '@' || *p == '?' || *p == '[' || *p == ']' || *p <= ' ')
      return SG_ERR_PARSE;
  if (port) {
    long v;
    if (parse_num(port, portlen, 1, 65535, &v))
      return SG_ERR_PARSE;
    u->port = (uint16_t)v;
  }
  return 0;
}

static int parse_tcp(const char *s, sg_rd_url *u) {
  size_t n = strlen(s);
  const char *slash = memchr(s, '/', n);
  size_t auth_len = slash ? (size_t)(slash - s) : n;
  /* The last '@' before the path ends the userinfo (passwords may hold '@' only encoded,
   * but be lenient as redis-cli is). */
  const char *at = NULL;
  for (size_t i = 0; i < auth_len; i++)
    if (s[i] == '@')
      at = s + i;
  const char *hp = s;
  if (at) {
    int rv = parse_userinfo(s, (size_t)(at - s), u);
    if (rv)
      return rv;
    hp = at + 1;
  }
  int rv = parse_hostport(hp, auth_len - (size_t)(hp - s), u);
  if (rv)
    return rv;
  if (slash) {
    const char *db = slash + 1;
    size_t dblen = strlen(db);
    if (dblen > 0) {
      long v;
      if (parse_num(db, dblen, 0, DB_MAX, &v))
        return SG_ERR_PARSE;
      u->db = (int)v;
    }
  }
  return 0;
}

/* "[userinfo@]host[:port][,host[:port]...]/master[/db]" */
static int parse_sentinel(const char *s, sg_rd_url *u) {
  const char *slash = strchr(s, '/');
  if (slash == NULL)
    return SG_ERR_PARSE; /* the master's name is required */
  const char *at = NULL;
  for (const char *p = s; p < slash; p++)
    if (*p == '@')
      at = p;
  const char *hp = s;
  if (at) {
    int rv = parse_userinfo(s, (size_t)(at - s), u);
    if (rv)
      return rv;
    hp = at + 1;
  }
  while (hp < slash) {
    const char *comma = memchr(hp, ',', (size_t)(slash - hp));
    const char *end = comma ? comma : slash;
    if (end == hp || u->nsentinels == SG_RD_URL_SENTINELS_MAX)
      return end == hp ? SG_ERR_PARSE : SG_ERR_TOOBIG;
    sg_rd_url one;
    memset(&one, 0, sizeof one);
    int rv = parse_hostport(hp, (size_t)(end - hp), &one);
    if (rv)
      return rv;
    if (one.host[0] == '\0')
      return SG_ERR_PARSE;
    sg_rd_url_node *n = &u->sentinels[u->nsentinels++];
    memcpy(n->host, one.host, sizeof n->host);
    n->port = one.port ? one.port : 26379;
    hp = comma ? comma + 1 : slash;
    if (comma && hp == slash)
      return SG_ERR_PARSE; /* a trailing comma */
  }
  if (u->nsentinels == 0)
    return SG_ERR_PARSE;
  const char *name = slash + 1;
  const char *dbs = strchr(name, '/');
  size_t nlen = dbs ? (size_t)(dbs - name) : strlen(name);
  if (nlen == 0)
    return SG_ERR_PARSE;
  for (size_t i = 0; i < nlen; i++)
    if (name[i] <= ' ' || name[i] == '?' || name[i] == '@' || name[i] == ',')
      return SG_ERR_PARSE;
  int rv = copy_part(name, nlen, u->master, sizeof u->master, true);
  if (rv)
    return rv;
  if (dbs && dbs[1] != '\0') {
    long v;
    if (parse_num(dbs + 1, strlen(dbs + 1), 0, DB_MAX, &v))
      return SG_ERR_PARSE;
    u->db = (int)v;
  }
  u->sentinel = true;
  memcpy(u->host, u->sentinels[0].host, sizeof u->host);
  u->port = u->sentinels[0].port;
  return 0;
}

static int parse_unix(const char *s, sg_rd_url *u) {
  if (s[0] != '/')
    return SG_ERR_PARSE;
  const char *q = strchr(s, '?');
  size_t plen = q ? (size_t)(q - s) : strlen(s);
  int rv = copy_part(s, plen, u->path, sizeof u->path, true);
  if (rv)
    return rv;
  if (q) {
    if (strncmp(q + 1, "db=", 3) != 0)
      return SG_ERR_PARSE;
    long v;
    if (parse_num(q + 4, strlen(q + 4), 0, DB_MAX, &v))
      return SG_ERR_PARSE;
    u->db = (int)v;
  }
  u->is_unix = true;
  return 0;
}

int sg_rd_url_parse(const char *s, sg_rd_url *out) {
  memset(out, 0, sizeof *out);
  int rv;
  if (s == NULL || *s == '\0') {
    rv = 0;
  } else if (strncmp(s, "redis://", 8) == 0) {
    rv = parse_tcp(s + 8, out);
  } else if (strncmp(s, "redis-sentinel://", 17) == 0) {
    rv = parse_sentinel(s + 17, out);
  } else if (strncmp(s, "rediss-sentinel://", 18) == 0) {
    out->tls = true;
    rv = parse_sentinel(s + 18, out);
  } else if (strncmp(s, "rediss://", 9) == 0) {
    out->tls = true;
    rv = parse_tcp(s + 9, out);
  } else if (strncmp(s, "unix://", 7) == 0) {
    rv = parse_unix(s + 7, out);
  } else {
    rv = SG_ERR_PARSE;
  }
  if (rv) {
    memset(out, 0, sizeof *out);
    return rv;
  }
  if (!out->is_unix) {
    if (out->host[0] == '\0')
      strcpy(out->host, "127.0.0.1");
    if (out->port == 0)
      out->port = 6379;
  }
  return 0;
}

int sg_rd_url_describe(const sg_rd_url *u, char *out, size_t cap) {
  const char *pw = u->password[0] ? "***@" : "";
  if (u->is_unix)
    return snprintf(out, cap, "unix://%s?db=%d", u->path, u->db);
  if (u->sentinel) /* enough to tell which: the first sentinel and the master */
    return snprintf(out, cap, "%s://%s%s%s%s:%u/%s/%d",
                    u->tls ? "rediss-sentinel" : "redis-sentinel", u->user,
                    u->user[0] && !u->password[0] ? "@" : (u->user[0] ? ":" : ""), pw,
                    u->sentinels[0].host, (unsigned)u->sentinels[0].port, u->master, u->db);
  bool v6 = strchr(u->host, ':') != NULL;
  return snprintf(out, cap, "%s://%s%s%s%s%s%s:%u/%d", u->tls ? "rediss" : "redis", u->user,
                  u->user[0] && !u->password[0] ? "@" : (u->user[0] ? ":" : ""), pw, v6 ? "[" : "",
                  u->host, v6 ? "]" : "", (unsigned)u->port, u->db);
}

bool sg_rd_url_has_password(const char *s) {
  sg_rd_url u;
  return s != NULL && sg_rd_url_parse(s, &u) == 0 && u.password[0] != '\0';
}
