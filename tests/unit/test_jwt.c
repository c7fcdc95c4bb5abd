/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Client assertions end to end in memory: svc/sg_jwt signs them (PS256 with
 * x5t#S256, RS256 with x5t), svc/sg_cred loads certificates and builds token
 * bodies, and the sandbox's verifier (sandbox/sg_sbx_assert) accepts exactly
 * the good ones: wrong key, tampered claims, audience, issuer, time range and
 * a replayed jti are refused with Entra's numbers.
 */
#include "harness.h"

#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <unistd.h>

#include "core/sg_base64.h"
#include "core/sg_err.h"
#include "sandbox/sg_sbx_assert.h"
#include "svc/sg_cred.h"
#include "svc/sg_jwt.h"

#define AUD "https://login.test/tenant-1/oauth2/v2.0/token"
#define CLIENT "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define NOW_S 1704067200LL

/* A self-signed RSA certificate and its key. */
static void make_cert(EVP_PKEY **key, X509 **cert) {
  *key = EVP_RSA_gen(2048);
  ASSERT_NOT_NULL(*key);
  *cert = X509_new();
  ASSERT_NOT_NULL(*cert);
  X509_set_version(*cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(*cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(*cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(*cert), 3600);
  X509_set_pubkey(*cert, *key);
  X509_NAME *n = X509_get_subject_name(*cert);
  X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"sendgate-app", -1, -1,
                             0);
  X509_set_issuer_name(*cert, n);
  ASSERT(X509_sign(*cert, *key, EVP_sha256()) > 0);
}

static void sign(sg_buf *out, sg_jwt_alg alg, X509 *cert, EVP_PKEY *key, const char *aud,
                 const char *iss, const char *jti, int64_t nbf, int64_t exp) {
  char thumb[SG_JWT_THUMB_MAX];
  ASSERT_OK(sg_jwt_thumbprint(cert, alg == SG_JWT_PS256, thumb));
  sg_jwt_claims c = {aud, iss, iss, jti, nbf, nbf, exp};
  ASSERT_OK(sg_jwt_sign(out, alg, thumb, &c, key));
}

static int check(sg_sbx_jtis *seen, const sg_buf *jwt, X509 *cert, int64_t now_s) {
  sg_sbx_assert_verdict v;
  return sg_sbx_assert_check(seen, jwt->data, cert, AUD, CLIENT, now_s * 1000, &v);
}

/* The documentation's example: SHA-1 thumbprint hex 84E05C1D... in x5t. */
static void t_thumbprint_vector(void) {
  static const unsigned char sha1[] = {0x84, 0xE0, 0x5C, 0x1D, 0x98, 0xBC, 0xE3, 0xA5, 0x42, 0x1D,
                                       0x22, 0x5B, 0x14, 0x0B, 0x36, 0xE8, 0x6A, 0x3D, 0x55, 0x34};
  sg_buf b = SG_BUF_INIT;
  sg_base64url_encode(&b, sha1, sizeof sha1);
  ASSERT_STR_EQ("hOBcHZi846VCHSJbFAs26Go9VTQ", b.data);
  sg_buf_free(&b);
  /* And ours is the digest of the DER, in the same encoding. */
  EVP_PKEY *key;
  X509 *cert;
  make_cert(&key, &cert);
  unsigned char md[32];
  unsigned mdlen = 0;
  ASSERT(X509_digest(cert, EVP_sha256(), md, &mdlen));
  sg_buf_init(&b);
  sg_base64url_encode(&b, md, mdlen);
  char t[SG_JWT_THUMB_MAX];
  ASSERT_OK(sg_jwt_thumbprint(cert, true, t));
  ASSERT_STR_EQ(b.data, t);
  ASSERT_EQ(43u, strlen(t));
  ASSERT_OK(sg_jwt_thumbprint(cert, false, t));
  ASSERT_EQ(27u, strlen(t));
  sg_buf_free(&b);
  X509_free(cert);
  EVP_PKEY_free(key);
}

/* The header and claims are what Entra documents. */
static void t_shape(void) {
  EVP_PKEY *key;
  X509 *cert;
  make_cert(&key, &cert);
  sg_buf jwt = SG_BUF_INIT, h = SG_BUF_INIT, c = SG_BUF_INIT;
  sign(&jwt, SG_JWT_PS256, cert, key, AUD, CLIENT, "jti-1", NOW_S, NOW_S + 600);
  sg_jwt_parts p;
  ASSERT_OK(sg_jwt_split(jwt.data, jwt.len, &p));
  ASSERT_OK(sg_jwt_b64url_decode(&h, p.header_b64, p.header_len));
  ASSERT_OK(sg_jwt_b64url_decode(&c, p.claims_b64, p.claims_len));
  char t[SG_JWT_THUMB_MAX], want[200];
  ASSERT_OK(sg_jwt_thumbprint(cert, true, t));
  snprintf(want, sizeof want, "{\"alg\":\"PS256\",\"typ\":\"JWT\",\"x5t#S256\":\"%s\"}", t);
  ASSERT_STR_EQ(want, h.data);
  ASSERT_STR_EQ("{\"aud\":\"" AUD "\",\"iss\":\"" CLIENT "\",\"sub\":\"" CLIENT
                "\",\"jti\":\"jti-1\",\"nbf\":1704067200,\"iat\":1704067200,\"exp\":1704067800}",
                c.data);
  ASSERT_EQ(256u, (p.sig_len * 3) / 4); /* a 2048-bit signature */
  ASSERT(memchr(jwt.data, '=', jwt.len) == NULL);
  sg_buf_free(&jwt);
  sg_buf_free(&h);
  sg_buf_free(&c);
  X509_free(cert);
  EVP_PKEY_free(key);
}

static void t_verify(void) {
  EVP_PKEY *key, *other_key;
  X509 *cert, *other;
  make_cert(&key, &cert);
  make_cert(&other_key, &other);
  sg_sbx_jtis *seen = sg_sbx_jtis_new(0);
  sg_buf j = SG_BUF_INIT;

  sign(&j, SG_JWT_PS256, cert, key, AUD, CLIENT, "a", NOW_S, NOW_S + 600);
  ASSERT_EQ(0, check(seen, &j, cert, NOW_S));
  ASSERT_EQ(700027, check(seen, &j, cert, NOW_S + 1)); /* replayed */
  ASSERT_EQ(1u, sg_sbx_jtis_count(seen));

  sg_buf_reset(&j);
  sign(&j, SG_JWT_RS256, cert, key, AUD, CLIENT, "b", NOW_S, NOW_S + 600);
  ASSERT_EQ(0, check(seen, &j, cert, NOW_S)); /* the older form */

  sg_buf_reset(&j);
  sign(&j, SG_JWT_PS256, other, other_key, AUD, CLIENT, "c", NOW_S, NOW_S + 600);
  ASSERT_EQ(700027, check(seen, &j, cert, NOW_S)); /* certificate not registered */

  sg_buf_reset(&j);
  sign(&j, SG_JWT_PS256, cert, key, "https://login.test/other/oauth2/v2.0/token", CLIENT, "d",
       NOW_S, NOW_S + 600);
  ASSERT_EQ(50012, check(seen, &j, cert, NOW_S));

  sg_buf_reset(&j);
  sign(&j, SG_JWT_PS256, cert, key, AUD, "someone-else", "e", NOW_S, NOW_S + 600);
  ASSERT_EQ(50048, check(seen, &j, cert, NOW_S));

  sg_buf_reset(&j);
  sign(&j, SG_JWT_PS256, cert, key, AUD, CLIENT, "f", NOW_S - 700, NOW_S - 100);
  ASSERT_EQ(700024, check(seen, &j, cert, NOW_S)); /* expired */
  sg_buf_reset(&j);
  sign(&j, SG_JWT_PS256, cert, key, AUD, CLIENT, "g", NOW_S + 3600, NOW_S + 4200);
  ASSERT_EQ(700024, check(seen, &j, cert, NOW_S)); /* not yet valid */

  /* A claim changed after signing: the signature no longer holds. */
  sg_buf_reset(&j);
  sign(&j, SG_JWT_PS256, cert, key, AUD, CLIENT, "h", NOW_S, NOW_S + 600);
  sg_jwt_parts p;
  ASSERT_OK(sg_jwt_split(j.data, j.len, &p));
  char *mid = (char *)p.claims_b64 + p.claims_len / 2;
  *mid = *mid == 'A' ? 'B' : 'A';
  ASSERT(check(seen, &j, cert, NOW_S) != 0);

  sg_buf_reset(&j);
  sg_buf_append_str(&j, "not.a.jwt!");
  ASSERT_EQ(50027, check(seen, &j, cert, NOW_S));
  sg_buf_reset(&j);
  sg_buf_append_str(&j, "eyJh.eyJi.c2ln");
  ASSERT_EQ(50027, check(seen, &j, cert, NOW_S));

  sg_buf_free(&j);
  sg_sbx_jtis_free(seen);
  X509_free(cert);
  X509_free(other);
  EVP_PKEY_free(key);
  EVP_PKEY_free(other_key);
}

/* Expired ids are forgotten; the store never grows past its bound. */
static void t_jti_bound(void) {
  EVP_PKEY *key;
  X509 *cert;
  make_cert(&key, &cert);
  sg_sbx_jtis *seen = sg_sbx_jtis_new(3);
  sg_buf j = SG_BUF_INIT;
  for (int i = 0; i < 5; i++) {
    char id[8];
    snprintf(id, sizeof id, "j%d", i);
    sg_buf_reset(&j);
    sign(&j, SG_JWT_PS256, cert, key, AUD, CLIENT, id, NOW_S, NOW_S + 60);
    ASSERT_EQ(0, check(seen, &j, cert, NOW_S));
    ASSERT(sg_sbx_jtis_count(seen) <= 3);
  }
  sg_buf_reset(&j);
  sign(&j, SG_JWT_PS256, cert, key, AUD, CLIENT, "late", NOW_S + 100, NOW_S + 160);
  ASSERT_EQ(0, check(seen, &j, cert, NOW_S + 100));
  ASSERT_EQ(1u, sg_sbx_jtis_count(seen)); /* the others expired at NOW_S + 60 */
  sg_buf_free(&j);
  sg_sbx_jtis_free(seen);
  X509_free(cert);
  EVP_PKEY_free(key);
}

/* Writes |key| (encrypted with |pw| when given) and |cert| into one PEM file. */
static void write_pem(const char *path, EVP_PKEY *key, X509 *cert, const char *pw) {
  FILE *f = fopen(path, "wb");
  ASSERT_NOT_NULL(f);
  ASSERT(PEM_write_X509(f, cert));
  if (pw)
    ASSERT(PEM_write_PKCS8PrivateKey(f, key, EVP_aes_256_cbc(), pw, (int)strlen(pw), NULL, NULL));
  else
    ASSERT(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL));
  fclose(f);
}

/* An account borrowing string literals (sg_account's strings are not const). */
static sg_account account(const char *cert_file, const char *pw, const char *assertion_file) {
  sg_account a;
  memset(&a, 0, sizeof a);
  a.name = (char *)"";
  a.client_id = (char *)CLIENT;
  a.client_secret = (char *)"";
  a.client_certificate_file = (char *)cert_file;
  a.client_certificate_password = (char *)pw;
  a.client_assertion_alg = (char *)"ps256";
  a.client_assertion_file = (char *)assertion_file;
  return a;
}

/* sg_cred: a certificate file (key before or after the chain, encrypted or
 * not) gives token bodies with assertions the verifier accepts; a wrong
 * password, a key of another certificate and a missing file stop at load. */
static void t_cred(void) {
  EVP_PKEY *key, *other_key;
  X509 *cert, *other;
  make_cert(&key, &cert);
  make_cert(&other_key, &other);
  char dir[] = "/tmp/sg-test-cred-XXXXXX";
  ASSERT_NOT_NULL(mkdtemp(dir));
  char plain[64], enc[64], mixed[64], af[64];
  snprintf(plain, sizeof plain, "%s/app.pem", dir);
  snprintf(enc, sizeof enc, "%s/app-enc.pem", dir);
  snprintf(mixed, sizeof mixed, "%s/mixed.pem", dir);
  snprintf(af, sizeof af, "%s/token", dir);
  write_pem(plain, key, cert, NULL);
  write_pem(enc, key, cert, "pa55");
  write_pem(mixed, other_key, cert, NULL);

  char err[300];
  sg_cred *c;
  sg_account a = account(plain, "", "");
  ASSERT_OK(sg_cred_new(&c, &a, err, sizeof err));
  ASSERT_EQ(SG_CRED_CERTIFICATE, sg_cred_kind_of(c));
  sg_buf body = SG_BUF_INIT;
  ASSERT_OK(sg_cred_token_body(c, &body, AUD, "https://graph.microsoft.com/.default", NOW_S, err,
                               sizeof err));
  const char *ca = strstr(body.data, "&client_assertion=");
  ASSERT_NOT_NULL(ca);
  ASSERT_NOT_NULL(strstr(body.data, "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-"
                                    "assertion-type%3Ajwt-bearer"));
  ASSERT(strstr(body.data, "client_secret") == NULL);
  const char *end = strchr(ca + 1, '&');
  ASSERT_NOT_NULL(end);
  sg_buf jwt = SG_BUF_INIT;
  sg_buf_append(&jwt, ca + 18, (size_t)(end - ca - 18));
  sg_sbx_jtis *seen = sg_sbx_jtis_new(0);
  ASSERT_EQ(0, check(seen, &jwt, cert, NOW_S));
  sg_cred_free(c);

  a = account(enc, "pa55", "");
  ASSERT_OK(sg_cred_new(&c, &a, err, sizeof err));
  sg_cred_free(c);
  a = account(enc, "wrong", "");
  ASSERT_EQ(SG_ERR_CONFIG, sg_cred_new(&c, &a, err, sizeof err));
  ASSERT_NOT_NULL(strstr(err, "no private key"));
  a = account(mixed, "", "");
  ASSERT_EQ(SG_ERR_CONFIG, sg_cred_new(&c, &a, err, sizeof err));
  ASSERT_NOT_NULL(strstr(err, "does not match"));
  a = account("/nonexistent/app.pem", "", "");
  ASSERT_EQ(SG_ERR_CONFIG, sg_cred_new(&c, &a, err, sizeof err));

  /* An assertion file is read for every body: a new token is used at once. */
  a = account("", "", af);
  ASSERT_OK(sg_cred_new(&c, &a, err, sizeof err));
  ASSERT_EQ(SG_CRED_ASSERTION_FILE, sg_cred_kind_of(c));
  sg_buf_reset(&body);
  ASSERT_EQ(SG_ERR_IO, sg_cred_token_body(c, &body, AUD, "s", NOW_S, err, sizeof err));
  FILE *f = fopen(af, "w");
  fputs("  eyJhIjoxfQ.eyJiIjoyfQ.c2ln\n", f);
  fclose(f);
  sg_buf_reset(&body);
  ASSERT_OK(sg_cred_token_body(c, &body, AUD, "s", NOW_S, err, sizeof err));
  ASSERT_NOT_NULL(strstr(body.data, "&client_assertion=eyJhIjoxfQ.eyJiIjoyfQ.c2ln&scope=s"));
  f = fopen(af, "w");
  fputs("eyJhIjozfQ.eyJiIjo0fQ.c2ln", f);
  fclose(f);
  sg_buf_reset(&body);
  ASSERT_OK(sg_cred_token_body(c, &body, AUD, "s", NOW_S, err, sizeof err));
  ASSERT_NOT_NULL(strstr(body.data, "&client_assertion=eyJhIjozfQ.eyJiIjo0fQ.c2ln&scope=s"));
  f = fopen(af, "w");
  fputs("not a token", f);
  fclose(f);
  sg_buf_reset(&body);
  ASSERT_EQ(SG_ERR_PARSE, sg_cred_token_body(c, &body, AUD, "s", NOW_S, err, sizeof err));
  sg_cred_free(c);

  /* A secret: the form body as before. */
  a = account("", "", "");
  a.client_secret = (char *)"s3cr3t";
  ASSERT_OK(sg_cred_new(&c, &a, err, sizeof err));
  sg_buf_reset(&body);
  ASSERT_OK(sg_cred_token_body(c, &body, AUD, "s", NOW_S, err, sizeof err));
  ASSERT_STR_EQ("grant_type=client_credentials&client_id=" CLIENT "&client_secret=s3cr3t&scope=s",
                body.data);
  sg_cred_free(c);

  sg_buf_free(&body);
  sg_buf_free(&jwt);
  sg_sbx_jtis_free(seen);
  unlink(plain);
  unlink(enc);
  unlink(mixed);
  unlink(af);
  rmdir(dir);
  X509_free(cert);
  X509_free(other);
  EVP_PKEY_free(key);
  EVP_PKEY_free(other_key);
}

/* A managed identity asks IMDS (Metadata: true) or App Service's endpoint
 * (X-IDENTITY-HEADER) for the scope's resource; user-assigned by client_id. */
static void t_managed_identity(void) {
  sg_account a = account("", "", "");
  a.managed_identity = (char *)"system";
  a.identity_endpoint = (char *)"";
  a.identity_header = (char *)"";
  char err[300];
  sg_cred *c;
  ASSERT_OK(sg_cred_new(&c, &a, err, sizeof err));
  ASSERT_EQ(SG_CRED_MANAGED_IDENTITY, sg_cred_kind_of(c));
  sg_cred_mi_req r;
  ASSERT_OK(sg_cred_mi_request(c, "https://graph.microsoft.com/.default", &r));
  ASSERT_STR_EQ("169.254.169.254", r.host);
  ASSERT_EQ(80, r.port);
  ASSERT_STR_EQ("/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2F"
                "graph.microsoft.com",
                r.target.data);
  ASSERT_MEM_EQ("Metadata", r.header.name, 8);
  sg_buf_free(&r.target);
  sg_buf body = SG_BUF_INIT;
  ASSERT(sg_cred_token_body(c, &body, AUD, "s", NOW_S, err, sizeof err) != 0);
  sg_buf_free(&body);
  sg_cred_free(c);

  a.managed_identity = (char *)"1234-abcd";
  a.identity_endpoint = (char *)"http://127.0.0.1:41741/msi/token";
  a.identity_header = (char *)"hdr-secret";
  ASSERT_OK(sg_cred_new(&c, &a, err, sizeof err));
  ASSERT_OK(sg_cred_mi_request(c, "https://communication.azure.com//.default", &r));
  ASSERT_STR_EQ("127.0.0.1", r.host);
  ASSERT_EQ(41741, r.port);
  ASSERT_STR_EQ("/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fcommunication.azure.com"
                "%2F&client_id=1234-abcd",
                r.target.data);
  ASSERT_MEM_EQ("X-IDENTITY-HEADER", r.header.name, 17);
  ASSERT_MEM_EQ("hdr-secret", r.header.value, 10);
  sg_buf_free(&r.target);
  sg_cred_free(c);

  a.identity_endpoint = (char *)"https://169.254.169.254";
  ASSERT_EQ(SG_ERR_CONFIG, sg_cred_new(&c, &a, err, sizeof err));
  a.identity_endpoint = (char *)"http://host:99999/x";
  ASSERT_EQ(SG_ERR_CONFIG, sg_cred_new(&c, &a, err, sizeof err));
}

SG_TESTS({"thumbprint_vector", t_thumbprint_vector}, {"shape", t_shape}, {"verify", t_verify},
         {"jti_bound", t_jti_bound}, {"cred", t_cred}, {"managed_identity", t_managed_identity})
