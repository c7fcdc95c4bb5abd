/* SPDX-License-Identifier: Apache-2.0 */
#include "sandbox/sg_sbx_assert.h"

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "json/sg_json.h"
#include "sandbox/sg_sbx_table.h"
#include "svc/sg_jwt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct jti {
  sg_sbx_entry e;
  int64_t exp_ms;
} jti;

struct sg_sbx_jtis {
  sg_sbx_table table;
  size_t max;
};

sg_sbx_jtis *sg_sbx_jtis_new(size_t max) {
  sg_sbx_jtis *j = sg_xcalloc(1, sizeof *j);
  sg_sbx_table_init(&j->table);
  j->max = max ? max : SG_SBX_JTI_DEFAULT_MAX;
  return j;
}

static void free_jti(sg_sbx_entry *e) {
  sg_free(sg_container_of(e, jti, e));
}

void sg_sbx_jtis_free(sg_sbx_jtis *j) {
  if (j == NULL)
    return;
  sg_sbx_table_free(&j->table, free_jti);
  sg_free(j);
}

size_t sg_sbx_jtis_count(const sg_sbx_jtis *j) {
  return j->table.count;
}

static void drop(sg_sbx_jtis *j, sg_sbx_entry *e) {
  sg_sbx_table_remove(&j->table, e);
  free_jti(e);
}

/* Forgets expired ones (oldest first, until a live one) and makes room. */
static void remember(sg_sbx_jtis *j, const char *id, size_t len, int64_t exp_ms, int64_t now_ms) {
  sg_sbx_entry *e;
  while ((e = sg_sbx_table_oldest(&j->table)) != NULL &&
         (sg_container_of(e, jti, e)->exp_ms <= now_ms || j->table.count >= j->max))
    drop(j, e);
  jti *k = sg_xcalloc(1, sizeof *k);
  k->exp_ms = exp_ms;
  sg_sbx_table_insert(&j->table, &k->e, id, len);
}

static int refuse(sg_sbx_assert_verdict *out, int status, const char *error, int aadsts,
                  const char *fmt, ...) {
  out->aadsts = aadsts;
  out->status = status;
  out->error = error;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out->message, sizeof out->message, fmt, ap);
  va_end(ap);
  return aadsts;
}

/* Parses one base64url JSON part into |doc|. */
static int part_json(const char *b64, size_t n, sg_json_doc **doc) {
  sg_buf raw = SG_BUF_INIT;
  int rv = sg_jwt_b64url_decode(&raw, b64, n);
  char e[64];
  if (rv == 0)
    rv = sg_json_parse(doc, raw.data, raw.len, 8, e, sizeof e);
  sg_buf_free(&raw);
  if (rv == 0 && sg_json_root(*doc)->type != SG_JSON_OBJECT)
    rv = SG_ERR_PARSE;
  return rv;
}

static const char *str_of(const sg_json *obj, const char *key) {
  const sg_json *v = sg_json_get(obj, key);
  return v && v->type == SG_JSON_STRING ? v->str : NULL;
}

static bool int_of(const sg_json *obj, const char *key, int64_t *out) {
  const sg_json *v = sg_json_get(obj, key);
  return v && v->type == SG_JSON_NUMBER && sg_json_int(v, out);
}

static int check(sg_sbx_jtis *seen, const sg_jwt_parts *p, const sg_json *h, const sg_json *c,
                 X509 *cert, const char *token_url, const char *client_id, int64_t now_ms,
                 sg_sbx_assert_verdict *out) {
  const char *algs = str_of(h, "alg");
  sg_jwt_alg alg;
  if (algs == NULL || sg_jwt_alg_parse(algs, &alg) != 0)
    return refuse(out, 401, "invalid_client", 700027,
                  "Client assertion failed signature validation: alg '%s' is not supported.",
                  algs ? algs : "");
  const char *t256 = str_of(h, "x5t#S256"), *t1 = str_of(h, "x5t");
  char want[SG_JWT_THUMB_MAX];
  bool known = false;
  if (t256 && sg_jwt_thumbprint(cert, true, want) == 0)
    known = strcmp(t256, want) == 0;
  else if (t1 && sg_jwt_thumbprint(cert, false, want) == 0)
    known = strcmp(t1, want) == 0;
  if (!known)
    return refuse(out, 401, "invalid_client", 700027,
                  "The certificate with identifier used to sign the client assertion is not "
                  "registered on application. [Reason - The key was not found., Thumbprint of key "
                  "used by client: '%s'].",
                  t256 ? t256
                  : t1 ? t1
                       : "");
  EVP_PKEY *pub = X509_get0_pubkey(cert);
  if (!sg_jwt_verify(p, alg, pub))
    return refuse(out, 401, "invalid_client", 700027,
                  "Client assertion failed signature validation.");
  const char *aud = str_of(c, "aud"), *iss = str_of(c, "iss"), *sub = str_of(c, "sub");
  const char *id = str_of(c, "jti");
  int64_t exp = 0, nbf = 0;
  if (aud == NULL || strcasecmp(aud, token_url) != 0)
    return refuse(out, 401, "invalid_client", 50012,
                  "The audience claim value is invalid '%s'. The audience must be '%s'.",
                  aud ? aud : "", token_url);
  if (iss == NULL || sub == NULL || strcasecmp(iss, client_id) != 0 ||
      strcasecmp(sub, client_id) != 0)
    return refuse(out, 401, "invalid_client", 50048,
                  "Subject mismatches Issuer claim in the client assertion. Subject: '%s', "
                  "Issuer: '%s'.",
                  sub ? sub : "", iss ? iss : "");
  if (!int_of(c, "exp", &exp))
    return refuse(out, 401, "invalid_client", 700024,
                  "Client assertion is not within its valid time range: no exp.");
  if (!int_of(c, "nbf", &nbf))
    nbf = 0;
  int64_t now_s = now_ms / 1000;
  if (exp <= now_s || nbf > now_s + SG_SBX_ASSERT_SKEW_S)
    return refuse(out, 401, "invalid_client", 700024,
                  "Client assertion is not within its valid time range. Current time: %lld, "
                  "assertion valid from %lld, expiry time of assertion %lld.",
                  (long long)now_s, (long long)nbf, (long long)exp);
  if (id == NULL || id[0] == '\0' || strlen(id) > 200)
    return refuse(out, 400, "invalid_request", 50027, "JWT token is invalid or malformed: no jti.");
  size_t idlen = strlen(id);
  if (sg_sbx_table_find(&seen->table, id, idlen))
    return refuse(out, 401, "invalid_client", 700027,
                  "Client assertion failed signature validation: jti '%s' was already used.", id);
  remember(seen, id, idlen, exp * 1000, now_ms);
  memset(out, 0, sizeof *out);
  return 0;
}

int sg_sbx_assert_check(sg_sbx_jtis *seen, const char *jwt, X509 *cert, const char *token_url,
                        const char *client_id, int64_t now_ms, sg_sbx_assert_verdict *out) {
  memset(out, 0, sizeof *out);
  sg_jwt_parts p;
  sg_json_doc *h = NULL, *c = NULL;
  int rv;
  if (jwt == NULL || sg_jwt_split(jwt, strlen(jwt), &p) != 0 ||
      part_json(p.header_b64, p.header_len, &h) != 0 ||
      part_json(p.claims_b64, p.claims_len, &c) != 0)
    rv = refuse(out, 400, "invalid_request", 50027, "JWT token is invalid or malformed.");
  else
    rv = check(seen, &p, sg_json_root(h), sg_json_root(c), cert, token_url, client_id, now_ms, out);
  sg_json_doc_free(h);
  sg_json_doc_free(c);
  return rv;
}
