/* SPDX-License-Identifier: Apache-2.0 */
/* ACS HMAC-SHA256 signing and verification, connection strings; see sg_acs_hmac.h. */
#include "svc/sg_acs_hmac.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "core/sg_base64.h"
#include "core/sg_err.h"

#define SIGNED_HEADERS "x-ms-date;host;x-ms-content-sha256"
#define AUTH_PREFIX "HMAC-SHA256 SignedHeaders=" SIGNED_HEADERS "&Signature="

static sg_acs_str str_of(const char *s) {
  sg_acs_str r = {s, s ? strlen(s) : 0};
  return r;
}

static bool ieq(const char *a, size_t an, const char *b) {
  size_t bn = strlen(b);
  return an == bn && strncasecmp(a, b, bn) == 0;
}

static void trim(const char **p, size_t *n) {
  while (*n && (**p == ' ' || **p == '\t')) {
    (*p)++;
    (*n)--;
  }
  while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
    (*n)--;
}

/* ---- connection string ---------------------------------------------------------------- */

static bool host_char(char c) {
  return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

/* Parses |u| (|n| bytes) as scheme://host[:port][/path] into |c|. */
static int parse_endpoint(const char *u, size_t n, sg_acs_conn *c) {
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)u[i];
    if (ch <= 0x20 || ch >= 0x7f || ch == '?' || ch == '#' || ch == '@' || ch == '\\')
      return SG_ERR_PARSE;
  }
  const char *scheme;
  uint16_t defport;
  size_t skip;
  if (n >= 8 && strncasecmp(u, "https://", 8) == 0) {
    scheme = "https", defport = 443, skip = 8;
  } else if (n >= 7 && strncasecmp(u, "http://", 7) == 0) {
    scheme = "http", defport = 80, skip = 7;
  } else {
    return SG_ERR_PARSE;
  }
  const char *a = u + skip, *end = u + n;
  const char *slash = memchr(a, '/', (size_t)(end - a));
  const char *aend = slash ? slash : end;
  const char *h = a, *hend;
  if (a < aend && *a == '[') {
    const char *rb = memchr(a, ']', (size_t)(aend - a));
    if (rb == NULL || rb == a + 1)
      return SG_ERR_PARSE;
    for (const char *q = a + 1; q < rb; q++)
      if (!isxdigit((unsigned char)*q) && *q != ':' && *q != '.')
        return SG_ERR_PARSE;
    hend = rb + 1;
  } else {
    hend = a;
    while (hend < aend && *hend != ':') {
      if (!host_char(*hend))
        return SG_ERR_PARSE;
      hend++;
    }
    if (hend == a)
      return SG_ERR_PARSE;
  }
  uint32_t port = defport;
  if (hend < aend) {
    if (*hend != ':' || aend - hend < 2 || aend - hend > 6)
      return SG_ERR_PARSE;
    port = 0;
    for (const char *q = hend + 1; q < aend; q++) {
      if (!isdigit((unsigned char)*q))
        return SG_ERR_PARSE;
      port = port * 10 + (uint32_t)(*q - '0');
    }
    if (port == 0 || port > 65535)
      return SG_ERR_PARSE;
  }
  size_t plen = slash ? (size_t)(end - slash) : 0;
  while (plen && slash[plen - 1] == '/')
    plen--;

  c->scheme = sg_xstrdup(scheme);
  c->host = sg_xstrndup(h, (size_t)(hend - h));
  for (char *q = c->host; *q; q++)
    *q = (char)tolower((unsigned char)*q);
  c->port = (uint16_t)port;
  sg_buf b = SG_BUF_INIT;
  sg_buf_append_str(&b, c->host);
  if (port != defport)
    sg_buf_printf(&b, ":%u", (unsigned)port);
  c->authority = sg_buf_steal(&b, NULL);
  c->base_path = sg_xstrndup(plen ? slash : "", plen);
  sg_buf_printf(&b, "%s://%s%s", scheme, c->authority, c->base_path);
  c->endpoint = sg_buf_steal(&b, NULL);
  return 0;
}

int sg_acs_conn_parse(const char *s, sg_acs_conn *out) {
  if (s == NULL || out == NULL)
    return SG_ERR_PARSE;
  sg_acs_str ep = {NULL, 0}, key = {NULL, 0};
  const char *p = s;
  for (;;) {
    const char *semi = strchr(p, ';');
    size_t n = semi ? (size_t)(semi - p) : strlen(p);
    const char *part = p;
    trim(&part, &n);
    if (n > 0) {
      const char *eq = memchr(part, '=', n);
      if (eq == NULL)
        return SG_ERR_PARSE;
      const char *k = part, *v = eq + 1;
      size_t kn = (size_t)(eq - part), vn = n - kn - 1;
      trim(&k, &kn);
      trim(&v, &vn);
      sg_acs_str *slot = ieq(k, kn, "endpoint") ? &ep : ieq(k, kn, "accesskey") ? &key : NULL;
      if (slot) {
        if (slot->p != NULL || vn == 0)
          return SG_ERR_PARSE;
        slot->p = v;
        slot->n = vn;
      }
    }
    if (semi == NULL)
      break;
    p = semi + 1;
  }
  if (ep.p == NULL || key.p == NULL)
    return SG_ERR_PARSE;

  sg_buf kb = SG_BUF_INIT;
  if (sg_base64_decode(&kb, key.p, key.n, false) != 0 || kb.len == 0) {
    OPENSSL_cleanse(kb.data, kb.cap);
    sg_buf_free(&kb);
    return SG_ERR_PARSE;
  }
  sg_acs_conn c;
  memset(&c, 0, sizeof c);
  int rv = parse_endpoint(ep.p, ep.n, &c);
  if (rv != 0) {
    OPENSSL_cleanse(kb.data, kb.cap);
    sg_buf_free(&kb);
    return rv;
  }
  c.key = (unsigned char *)sg_buf_steal(&kb, &c.key_len);
  *out = c;
  return 0;
}

void sg_acs_conn_free(sg_acs_conn *c) {
  if (c == NULL)
    return;
  if (c->key)
    OPENSSL_cleanse(c->key, c->key_len);
  sg_free(c->key);
  sg_free(c->scheme);
  sg_free(c->host);
  sg_free(c->authority);
  sg_free(c->base_path);
  sg_free(c->endpoint);
  memset(c, 0, sizeof *c);
}

/* ---- signing -------------------------------------------------------------------------- */

int sg_acs_content_hash(const void *body, size_t len, char out[SG_ACS_B64_SHA256_LEN + 1]) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  unsigned int mdlen = 0;
  if (!EVP_Digest(len ? body : "", len, md, &mdlen, EVP_sha256(), NULL) ||
      mdlen != SHA256_DIGEST_LENGTH)
    return SG_ERR_CRYPTO;
  EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
  return 0;
}

static void sts_append(sg_buf *out, sg_acs_str verb, sg_acs_str pq, sg_acs_str date,
                       sg_acs_str host, sg_acs_str hash) {
  sg_buf_reserve(out, verb.n + pq.n + date.n + host.n + hash.n + 4);
  for (size_t i = 0; i < verb.n; i++)
    sg_buf_append_char(out, (char)toupper((unsigned char)verb.p[i]));
  sg_buf_append_char(out, '\n');
  sg_buf_append(out, pq.p, pq.n);
  sg_buf_append_char(out, '\n');
  sg_buf_append(out, date.p, date.n);
  sg_buf_append_char(out, ';');
  sg_buf_append(out, host.p, host.n);
  sg_buf_append_char(out, ';');
  sg_buf_append(out, hash.p, hash.n);
}

void sg_acs_string_to_sign(sg_buf *out, const char *verb, const char *path_and_query,
                           const char *date, const char *host, const char *content_hash) {
  sts_append(out, str_of(verb), str_of(path_and_query), str_of(date), str_of(host),
             str_of(content_hash));
}

/* base64(HMAC-SHA256(key, sts)) into |out|. */
static int mac_b64(const unsigned char *key, size_t key_len, const sg_buf *sts,
                   char out[SG_ACS_B64_SHA256_LEN + 1]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  if (key_len > (size_t)INT32_MAX ||
      HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)(sts->len ? sts->data : ""),
           sts->len, md, &mdlen) == NULL ||
      mdlen != SHA256_DIGEST_LENGTH)
    return SG_ERR_CRYPTO;
  EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
  OPENSSL_cleanse(md, sizeof md);
  return 0;
}

int sg_acs_sign(const unsigned char *key, size_t key_len, const char *verb,
                const char *path_and_query, const char *host, const char *date, const void *body,
                size_t body_len, sg_acs_signed *out) {
  if (key == NULL || key_len == 0 || verb == NULL || path_and_query == NULL || host == NULL ||
      date == NULL || out == NULL || (body == NULL && body_len > 0))
    return SG_ERR_INVAL;
  int rv = sg_acs_content_hash(body, body_len, out->content_hash);
  if (rv != 0)
    return rv;
  sg_buf sts = SG_BUF_INIT;
  sg_acs_string_to_sign(&sts, verb, path_and_query, date, host, out->content_hash);
  rv = mac_b64(key, key_len, &sts, out->signature);
  sg_buf_free(&sts);
  if (rv != 0)
    return rv;
  memcpy(out->authorization, AUTH_PREFIX, sizeof(AUTH_PREFIX) - 1);
  memcpy(out->authorization + sizeof(AUTH_PREFIX) - 1, out->signature, SG_ACS_B64_SHA256_LEN + 1);
  return 0;
}

/* ---- verification --------------------------------------------------------------------- */

int sg_acs_auth_parse(const char *v, size_t n, sg_acs_str *sig) {
  static const char scheme[] = "HMAC-SHA256";
  if (v == NULL)
    return SG_ERR_PARSE;
  trim(&v, &n);
  size_t sl = sizeof(scheme) - 1;
  if (n <= sl || strncasecmp(v, scheme, sl) != 0 || v[sl] != ' ')
    return SG_ERR_PARSE;
  const char *p = v + sl, *end = v + n;
  while (p < end && *p == ' ')
    p++;
  sg_acs_str sh = {NULL, 0}, sg = {NULL, 0};
  while (p < end) {
    const char *amp = memchr(p, '&', (size_t)(end - p));
    const char *pend = amp ? amp : end;
    const char *eq = memchr(p, '=', (size_t)(pend - p));
    if (eq == NULL)
      return SG_ERR_PARSE;
    sg_acs_str *slot = ieq(p, (size_t)(eq - p), "SignedHeaders") ? &sh
                       : ieq(p, (size_t)(eq - p), "Signature")   ? &sg
                                                                 : NULL;
    if (slot == NULL || slot->p != NULL)
      return SG_ERR_PARSE;
    slot->p = eq + 1;
    slot->n = (size_t)(pend - eq - 1);
    p = amp ? amp + 1 : end;
  }
  if (sh.p == NULL || sg.p == NULL || sg.n == 0)
    return SG_ERR_PARSE;
  if (!ieq(sh.p, sh.n, SIGNED_HEADERS) && !ieq(sh.p, sh.n, "date;host;x-ms-content-sha256"))
    return SG_ERR_PARSE;
  for (size_t i = 0; i < sg.n; i++)
    if (!isalnum((unsigned char)sg.p[i]) && sg.p[i] != '+' && sg.p[i] != '/' && sg.p[i] != '=')
      return SG_ERR_PARSE;
  *sig = sg;
  return 0;
}

static int digits(const char *s, size_t n) {
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i]))
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int sg_acs_parse_date(const char *s, size_t n, int64_t *unix_s) {
  static const char *days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static const char *mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  /* "Mon, 01 Jan 2024 00:00:00 GMT" */
  if (s == NULL || n != 29 || memcmp(s + 3, ", ", 2) != 0 || s[7] != ' ' || s[11] != ' ' ||
      s[16] != ' ' || s[19] != ':' || s[22] != ':' || memcmp(s + 25, " GMT", 4) != 0)
    return SG_ERR_PARSE;
  bool day_ok = false;
  for (size_t i = 0; i < SG_ARRAY_LEN(days); i++)
    day_ok = day_ok || memcmp(s, days[i], 3) == 0;
  int mon = -1;
  for (int i = 0; i < 12; i++)
    if (memcmp(s + 8, mons[i], 3) == 0)
      mon = i + 1;
  int d = digits(s + 5, 2), y = digits(s + 12, 4), hh = digits(s + 17, 2), mm = digits(s + 20, 2),
      ss = digits(s + 23, 2);
  if (!day_ok || mon < 0 || d < 1 || y < 0 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 ||
      ss > 60 || d > mdays[mon - 1])
    return SG_ERR_PARSE;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mon == 2 && d == 29 && !leap)
    return SG_ERR_PARSE;
  *unix_s = days_from_civil(y, mon, d) * 86400 + hh * 3600 + mm * 60 + ss;
  return 0;
}

sg_acs_verify_result sg_acs_verify(const unsigned char *key, size_t key_len,
                                   const sg_acs_verify_req *req, int64_t now_ms,
                                   int64_t max_skew_ms) {
  sg_acs_str sig;
  int64_t date_s;
  if (key == NULL || key_len == 0 || req->method.n == 0 || req->path_and_query.n == 0 ||
      req->host.n == 0 || req->content_hash.p == NULL ||
      sg_acs_auth_parse(req->authorization.p, req->authorization.n, &sig) != 0 ||
      sg_acs_parse_date(req->date.p, req->date.n, &date_s) != 0)
    return SG_ACS_VERIFY_MALFORMED;

  char hash[SG_ACS_B64_SHA256_LEN + 1];
  if (sg_acs_content_hash(req->body, req->body_len, hash) != 0)
    return SG_ACS_VERIFY_MALFORMED;
  if (req->content_hash.n != SG_ACS_B64_SHA256_LEN ||
      memcmp(req->content_hash.p, hash, SG_ACS_B64_SHA256_LEN) != 0)
    return SG_ACS_VERIFY_CONTENT_HASH;

  sg_buf sts = SG_BUF_INIT;
  sts_append(&sts, req->method, req->path_and_query, req->date, req->host, req->content_hash);
  char want[SG_ACS_B64_SHA256_LEN + 1];
  int rv = mac_b64(key, key_len, &sts, want);
  sg_buf_free(&sts);
  if (rv != 0 || sig.n != SG_ACS_B64_SHA256_LEN ||
      CRYPTO_memcmp(sig.p, want, SG_ACS_B64_SHA256_LEN) != 0)
    return SG_ACS_VERIFY_SIGNATURE;

  if (max_skew_ms >= 0) {
    int64_t diff = now_ms - date_s * 1000;
    if (diff > max_skew_ms || -diff > max_skew_ms)
      return SG_ACS_VERIFY_DATE_SKEW;
  }
  return SG_ACS_VERIFY_OK;
}

static sg_acs_str hdr(const sg_http_header *h, size_t n, const char *name) {
  const sg_http_header *f = sg_http_find(h, n, name);
  sg_acs_str r = {f ? f->value : NULL, f ? f->value_len : 0};
  return r;
}

sg_acs_verify_result sg_acs_verify_headers(const unsigned char *key, size_t key_len,
                                           const char *method, const char *path_and_query,
                                           const char *host, const sg_http_header *hdrs,
                                           size_t nhdrs, const void *body, size_t body_len,
                                           int64_t now_ms, int64_t max_skew_ms) {
  sg_acs_verify_req r;
  r.method = str_of(method);
  r.path_and_query = str_of(path_and_query);
  r.host = str_of(host);
  r.authorization = hdr(hdrs, nhdrs, "authorization");
  r.date = hdr(hdrs, nhdrs, "x-ms-date");
  if (r.date.p == NULL)
    r.date = hdr(hdrs, nhdrs, "date");
  r.content_hash = hdr(hdrs, nhdrs, "x-ms-content-sha256");
  r.body = body;
  r.body_len = body_len;
  return sg_acs_verify(key, key_len, &r, now_ms, max_skew_ms);
}

const char *sg_acs_verify_message(sg_acs_verify_result r) {
  switch (r) {
  case SG_ACS_VERIFY_OK:
    return NULL;
  case SG_ACS_VERIFY_CONTENT_HASH:
    return "Request 'x-ms-content-sha256' differs from generated content hash.";
  default:
    return "Denied by the resource provider.";
  }
}

const char *sg_acs_verify_name(sg_acs_verify_result r) {
  switch (r) {
  case SG_ACS_VERIFY_OK:
    return "ok";
  case SG_ACS_VERIFY_MALFORMED:
    return "malformed";
  case SG_ACS_VERIFY_CONTENT_HASH:
    return "content_hash";
  case SG_ACS_VERIFY_SIGNATURE:
    return "signature";
  case SG_ACS_VERIFY_DATE_SKEW:
    return "date_skew";
  }
  return "unknown";
}
