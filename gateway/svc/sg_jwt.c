/* SPDX-License-Identifier: Apache-2.0 */
#include "svc/sg_jwt.h"

#include "core/sg_base64.h"
#include "core/sg_err.h"
#include "core/sg_json_write.h"

#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int sg_jwt_alg_parse(const char *s, sg_jwt_alg *out) {
  if (s && strcasecmp(s, "ps256") == 0)
    *out = SG_JWT_PS256;
  else if (s && strcasecmp(s, "rs256") == 0)
    *out = SG_JWT_RS256;
  else
    return SG_ERR_INVAL;
  return 0;
}

const char *sg_jwt_alg_name(sg_jwt_alg alg) {
  return alg == SG_JWT_RS256 ? "RS256" : "PS256";
}

const char *sg_jwt_thumb_member(sg_jwt_alg alg) {
  return alg == SG_JWT_RS256 ? "x5t" : "x5t#S256";
}

int sg_jwt_thumbprint(const X509 *cert, bool sha256, char out[SG_JWT_THUMB_MAX]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  out[0] = '\0';
  if (cert == NULL || !X509_digest(cert, sha256 ? EVP_sha256() : EVP_sha1(), md, &mdlen))
    return SG_ERR_INVAL;
  sg_buf b = {0};
  sg_base64url_encode(&b, md, mdlen);
  snprintf(out, SG_JWT_THUMB_MAX, "%.*s", (int)b.len, b.data);
  sg_buf_free(&b);
  return 0;
}

/* Configures |pctx| for |alg|'s padding. */
static bool set_padding(EVP_PKEY_CTX *pctx, sg_jwt_alg alg) {
  if (alg == SG_JWT_RS256)
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0;
}

static void claim_str(sg_buf *b, const char *key, const char *v, bool first) {
  if (!first)
    sg_buf_append(b, ",", 1);
  sg_jw_key(b, key);
  sg_jw_cstr(b, v);
}

static void claim_int(sg_buf *b, const char *key, int64_t v) {
  sg_buf_append(b, ",", 1);
  sg_jw_key(b, key);
  sg_jw_int(b, v);
}

int sg_jwt_sign(sg_buf *out, sg_jwt_alg alg, const char *thumb, const sg_jwt_claims *c,
                EVP_PKEY *key) {
  if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || thumb == NULL || !thumb[0] ||
      c == NULL || !c->aud || !c->aud[0] || !c->iss || !c->iss[0] || !c->sub || !c->sub[0] ||
      !c->jti || !c->jti[0] || c->exp <= c->nbf)
    return SG_ERR_INVAL;
  sg_buf h = {0}, cl = {0};
  sg_buf_append(&h, "{", 1);
  claim_str(&h, "alg", sg_jwt_alg_name(alg), true);
  claim_str(&h, "typ", "JWT", false);
  claim_str(&h, sg_jwt_thumb_member(alg), thumb, false);
  sg_buf_append(&h, "}", 1);
  sg_buf_append(&cl, "{", 1);
  claim_str(&cl, "aud", c->aud, true);
  claim_str(&cl, "iss", c->iss, false);
  claim_str(&cl, "sub", c->sub, false);
  claim_str(&cl, "jti", c->jti, false);
  claim_int(&cl, "nbf", c->nbf);
  claim_int(&cl, "iat", c->iat);
  claim_int(&cl, "exp", c->exp);
  sg_buf_append(&cl, "}", 1);
  size_t start = out->len;
  sg_base64url_encode(out, h.data, h.len);
  sg_buf_append(out, ".", 1);
  sg_base64url_encode(out, cl.data, cl.len);
  sg_buf_free(&h);
  sg_buf_free(&cl);

  int rv = SG_ERR_CRYPTO;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = NULL;
  unsigned char *sig = NULL;
  size_t siglen = 0;
  if (md && EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) > 0 && set_padding(pctx, alg) &&
      EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)out->data + start,
                     out->len - start) > 0 &&
      (sig = OPENSSL_malloc(siglen)) != NULL &&
      EVP_DigestSign(md, sig, &siglen, (const unsigned char *)out->data + start, out->len - start) >
          0) {
    sg_buf_append(out, ".", 1);
    sg_base64url_encode(out, sig, siglen);
    rv = 0;
  }
  OPENSSL_free(sig);
  EVP_MD_CTX_free(md);
  if (rv)
    out->len = start;
  return rv;
}

static bool b64url_char(char ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
         ch == '-' || ch == '_';
}

static size_t part(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && b64url_char(s[i]))
    i++;
  return i;
}

int sg_jwt_split(const char *jwt, size_t len, sg_jwt_parts *out) {
  memset(out, 0, sizeof *out);
  if (jwt == NULL || len == 0 || len > SG_JWT_MAX_BYTES)
    return SG_ERR_PARSE;
  size_t a = part(jwt, len);
  if (a == 0 || a >= len || jwt[a] != '.')
    return SG_ERR_PARSE;
  const char *p2 = jwt + a + 1;
  size_t rest = len - a - 1, b = part(p2, rest);
  if (b == 0 || b >= rest || p2[b] != '.')
    return SG_ERR_PARSE;
  const char *p3 = p2 + b + 1;
  size_t c = part(p3, rest - b - 1);
  if (c == 0 || c != rest - b - 1)
    return SG_ERR_PARSE;
  *out = (sg_jwt_parts){jwt, p2, p3, a, b, c, a + 1 + b};
  return 0;
}

int sg_jwt_b64url_decode(sg_buf *out, const char *s, size_t n) {
  if (n % 4 == 1 || part(s, n) != n)
    return SG_ERR_PARSE;
  sg_buf t = {0};
  sg_buf_reserve(&t, n + 3);
  for (size_t i = 0; i < n; i++) {
    char ch = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    sg_buf_append(&t, &ch, 1);
  }
  while (t.len % 4)
    sg_buf_append(&t, "=", 1);
  int rv = sg_base64_decode(out, t.data, t.len, false) == 0 ? 0 : SG_ERR_PARSE;
  sg_buf_free(&t);
  return rv;
}

bool sg_jwt_verify(const sg_jwt_parts *p, sg_jwt_alg alg, EVP_PKEY *pub) {
  if (pub == NULL || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA)
    return false;
  sg_buf sig = {0};
  if (sg_jwt_b64url_decode(&sig, p->sig_b64, p->sig_len) != 0) {
    sg_buf_free(&sig);
    return false;
  }
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = NULL;
  bool ok = md && EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pub) > 0 &&
            set_padding(pctx, alg) &&
            EVP_DigestVerify(md, (const unsigned char *)sig.data, sig.len,
                             (const unsigned char *)p->header_b64, p->signed_len) == 1;
  EVP_MD_CTX_free(md);
  sg_buf_free(&sig);
  return ok;
}

void sg_jwt_guid(char out[37]) {
  unsigned char r[16];
  if (RAND_bytes(r, sizeof r) != 1)
    memset(r, 0, sizeof r); /* cannot happen with a working OpenSSL; still a valid GUID */
  r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
  r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
           r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
           r[15]);
}
