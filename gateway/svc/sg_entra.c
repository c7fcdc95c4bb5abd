/* SPDX-License-Identifier: Apache-2.0 */
/* Entra client-credentials request building and token parsing; see sg_entra.h. */
#include "svc/sg_entra.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "core/sg_err.h"
#include "json/sg_json.h"

/* JSON nesting needed by a token response is 1; allow a little slack. */
#define TOKEN_JSON_DEPTH 8

static void pct_encode(sg_buf *out, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    unsigned char c = *p;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      sg_buf_append_char(out, (char)c);
    } else {
      char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
      sg_buf_append(out, enc, 3);
    }
  }
}

static bool empty(const char *s) {
  return s == NULL || s[0] == '\0';
}

int sg_entra_token_path(sg_buf *out, const char *tenant) {
  static const char *const aliases[] = {"common", "consumers", "organizations"};
  if (out == NULL || empty(tenant))
    return SG_ERR_INVAL;
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (strcasecmp(tenant, aliases[i]) == 0)
      return SG_ERR_INVAL;
  if (strcmp(tenant, ".") == 0 || strcmp(tenant, "..") == 0)
    return SG_ERR_INVAL;
  sg_buf_append_char(out, '/');
  pct_encode(out, tenant);
  sg_buf_append_str(out, "/oauth2/v2.0/token");
  return 0;
}

int sg_entra_token_body(sg_buf *out, const char *client_id, const char *client_secret,
                        const char *scope) {
  if (out == NULL || empty(client_id) || empty(client_secret) || empty(scope))
    return SG_ERR_INVAL;
  sg_buf_append_str(out, "grant_type=client_credentials&client_id=");
  pct_encode(out, client_id);
  sg_buf_append_str(out, "&client_secret=");
  pct_encode(out, client_secret);
  sg_buf_append_str(out, "&scope=");
  pct_encode(out, scope);
  return 0;
}

int sg_entra_token_body_assertion(sg_buf *out, const char *client_id, const char *assertion,
                                  size_t assertion_len, const char *scope) {
  if (out == NULL || empty(client_id) || assertion == NULL || assertion_len == 0 || empty(scope))
    return SG_ERR_INVAL;
  sg_buf_append_str(out, "grant_type=client_credentials&client_id=");
  pct_encode(out, client_id);
  sg_buf_append_str(out, "&client_assertion_type=");
  pct_encode(out, SG_ENTRA_ASSERTION_TYPE);
  /* A compact JWT is base64url and dots: nothing to encode. */
  sg_buf_append_str(out, "&client_assertion=");
  sg_buf_append(out, assertion, assertion_len);
  sg_buf_append_str(out, "&scope=");
  pct_encode(out, scope);
  return 0;
}

/* expires_in as a JSON integer or a string of 1..9 digits. */
static bool expires_in(const sg_json *v, int64_t *out) {
  if (v == NULL)
    return false;
  if (v->type == SG_JSON_NUMBER)
    return sg_json_int(v, out);
  if (v->type != SG_JSON_STRING || v->len == 0 || v->len > 9)
    return false;
  int64_t n = 0;
  for (size_t i = 0; i < v->len; i++) {
    if (v->str[i] < '0' || v->str[i] > '9')
      return false;
    n = n * 10 + (v->str[i] - '0');
  }
  *out = n;
  return true;
}

/* A token goes into "Authorization: Bearer <token>": visible ASCII only. */
static bool header_safe(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
      return false;
  return n > 0;
}

int sg_entra_parse_token(const char *body, size_t len, sg_entra_token *out) {
  if (out == NULL || (body == NULL && len > 0))
    return SG_ERR_INVAL;
  memset(out, 0, sizeof *out);
  if (len > SG_ENTRA_MAX_RESPONSE_BYTES)
    return SG_ERR_TOOBIG;
  sg_json_doc *doc;
  if (body == NULL || sg_json_parse(&doc, body, len, TOKEN_JSON_DEPTH, NULL, 0) != 0)
    return SG_ERR_PARSE;
  int rv = SG_ERR_PARSE;
  const sg_json *root = sg_json_root(doc);
  const sg_json *tok = sg_json_get(root, "access_token");
  const sg_json *type = sg_json_get(root, "token_type");
  int64_t exp;
  if (root == NULL || root->type != SG_JSON_OBJECT || tok == NULL || tok->type != SG_JSON_STRING)
    goto done;
  if (type != NULL && (sg_json_str(type) == NULL || strcasecmp(sg_json_str(type), "Bearer") != 0))
    goto done;
  if (!expires_in(sg_json_get(root, "expires_in"), &exp) || exp <= 0)
    goto done;
  if (tok->len > SG_ENTRA_MAX_TOKEN_BYTES) {
    rv = SG_ERR_TOOBIG;
    goto done;
  }
  if (!header_safe(tok->str, tok->len))
    goto done;
  out->access_token = sg_xstrndup(tok->str, tok->len);
  out->access_token_len = tok->len;
  out->expires_in_s = exp > SG_ENTRA_MAX_EXPIRES_S ? SG_ENTRA_MAX_EXPIRES_S : exp;
  rv = 0;
done:
  sg_json_doc_free(doc);
  return rv;
}

void sg_entra_token_free(sg_entra_token *t) {
  if (t == NULL)
    return;
  if (t->access_token != NULL) {
    /* volatile stops the compiler from dropping the wipe before free. */
    volatile char *p = t->access_token;
    for (size_t i = 0; i < t->access_token_len; i++)
      p[i] = 0;
    sg_free(t->access_token);
  }
  memset(t, 0, sizeof *t);
}
