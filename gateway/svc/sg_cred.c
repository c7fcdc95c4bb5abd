/* SPDX-License-Identifier: Apache-2.0 */
#include "svc/sg_cred.h"

#include "core/sg_err.h"
#include "svc/sg_entra.h"
#include "svc/sg_jwt.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sg_cred {
  sg_cred_kind kind;
  const sg_account *acct;
  EVP_PKEY *key;
  sg_jwt_alg alg;
  char thumb[SG_JWT_THUMB_MAX];
  /* managed identity */
  bool app_service; /* IDENTITY_ENDPOINT style, else IMDS */
  char mi_host[256];
  uint16_t mi_port;
  char mi_path[512];
};

const char *sg_cred_kind_name(sg_cred_kind k) {
  return k == SG_CRED_CERTIFICATE        ? "certificate"
         : k == SG_CRED_ASSERTION_FILE   ? "assertion_file"
         : k == SG_CRED_MANAGED_IDENTITY ? "managed_identity"
                                         : "secret";
}

sg_cred_kind sg_cred_kind_of(const sg_cred *c) {
  return c->kind;
}

static int pem_password(char *buf, int size, int rwflag, void *ud) {
  (void)rwflag;
  const char *pw = ud;
  size_t n = pw ? strlen(pw) : 0;
  if (n == 0 || n > (size_t)size)
    return 0;
  memcpy(buf, pw, n);
  return (int)n;
}

/* The key and the first certificate of the PEM file |path|. */
static int load_certificate(sg_cred *c, const char *path, const char *password, char *err,
                            size_t errcap) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    snprintf(err, errcap, "client_certificate_file %s: %s", path, strerror(errno));
    return SG_ERR_CONFIG;
  }
  c->key = PEM_read_PrivateKey(f, NULL, pem_password, (void *)password);
  rewind(f);
  X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  ERR_clear_error();
  int rv = SG_ERR_CONFIG;
  if (c->key == NULL)
    snprintf(err, errcap,
             "client_certificate_file %s: no private key could be read (PEM; an encrypted key "
             "needs client_certificate_password)",
             path);
  else if (cert == NULL)
    snprintf(err, errcap, "client_certificate_file %s: no certificate in it", path);
  else if (EVP_PKEY_get_base_id(c->key) != EVP_PKEY_RSA)
    snprintf(err, errcap, "client_certificate_file %s: Entra takes RSA certificates only", path);
  else if (X509_check_private_key(cert, c->key) != 1)
    snprintf(err, errcap, "client_certificate_file %s: the key does not match the certificate",
             path);
  else if (sg_jwt_thumbprint(cert, c->alg == SG_JWT_PS256, c->thumb) != 0)
    snprintf(err, errcap, "client_certificate_file %s: no thumbprint", path);
  else
    rv = 0;
  ERR_clear_error();
  X509_free(cert);
  return rv;
}

/* "http://host[:port][/path]" into the managed identity fields. */
static int parse_endpoint(sg_cred *c, const char *url, char *err, size_t errcap) {
  const char *p = url;
  if (strncmp(p, "http://", 7) != 0) {
    snprintf(err, errcap, "managed identity endpoint %s: expected http://host[:port]/...", url);
    return SG_ERR_CONFIG;
  }
  p += 7;
  size_t hl = strcspn(p, ":/");
  if (hl == 0 || hl >= sizeof c->mi_host) {
    snprintf(err, errcap, "managed identity endpoint %s: no host", url);
    return SG_ERR_CONFIG;
  }
  memcpy(c->mi_host, p, hl);
  c->mi_host[hl] = '\0';
  p += hl;
  c->mi_port = 80;
  if (*p == ':') {
    char *end;
    long port = strtol(p + 1, &end, 10);
    if (end == p + 1 || port < 1 || port > 65535 || (*end && *end != '/')) {
      snprintf(err, errcap, "managed identity endpoint %s: bad port", url);
      return SG_ERR_CONFIG;
    }
    c->mi_port = (uint16_t)port;
    p = end;
  }
  snprintf(c->mi_path, sizeof c->mi_path, "%s", *p ? p : "/");
  return 0;
}

int sg_cred_new(sg_cred **out, const sg_account *acct, char *err, size_t errcap) {
  *out = NULL;
  sg_cred *c = sg_xcalloc(1, sizeof *c);
  c->acct = acct;
  const char *cert = acct->client_certificate_file ? acct->client_certificate_file : "";
  const char *af = acct->client_assertion_file ? acct->client_assertion_file : "";
  const char *mi = acct->managed_identity ? acct->managed_identity : "";
  if (mi[0]) {
    c->kind = SG_CRED_MANAGED_IDENTITY;
    c->app_service = acct->identity_header && acct->identity_header[0];
    const char *ep = acct->identity_endpoint && acct->identity_endpoint[0]
                         ? acct->identity_endpoint
                         : "http://169.254.169.254";
    int rv = parse_endpoint(c, ep, err, errcap);
    if (rv == 0 && !c->app_service && strcmp(c->mi_path, "/") == 0)
      snprintf(c->mi_path, sizeof c->mi_path, "/metadata/identity/oauth2/token");
    if (rv) {
      sg_free(c);
      return rv;
    }
  } else if (cert[0]) {
    c->kind = SG_CRED_CERTIFICATE;
    const char *alg = acct->client_assertion_alg && acct->client_assertion_alg[0]
                          ? acct->client_assertion_alg
                          : "ps256";
    if (sg_jwt_alg_parse(alg, &c->alg) != 0) {
      snprintf(err, errcap, "client_assertion_alg must be ps256 or rs256");
      sg_free(c);
      return SG_ERR_CONFIG;
    }
    int rv = load_certificate(c, cert, acct->client_certificate_password, err, errcap);
    if (rv) {
      sg_cred_free(c);
      return rv;
    }
  } else if (af[0]) {
    c->kind = SG_CRED_ASSERTION_FILE;
  } else {
    c->kind = SG_CRED_SECRET;
  }
  *out = c;
  return 0;
}

void sg_cred_free(sg_cred *c) {
  if (c == NULL)
    return;
  EVP_PKEY_free(c->key);
  sg_free(c);
}

/* The assertion file's contents, surrounding white space removed. */
static int read_assertion(const char *path, sg_buf *out, char *err, size_t errcap) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    snprintf(err, errcap, "client_assertion_file %s: %s", path, strerror(errno));
    return SG_ERR_IO;
  }
  sg_buf_reserve(out, 4096);
  size_t n;
  int rv = 0;
  while ((n = fread(out->data + out->len, 1, out->cap - out->len, f)) > 0) {
    out->len += n;
    if (out->len > SG_CRED_ASSERTION_FILE_MAX) {
      snprintf(err, errcap, "client_assertion_file %s: over %u bytes", path,
               SG_CRED_ASSERTION_FILE_MAX);
      rv = SG_ERR_TOOBIG;
      break;
    }
    sg_buf_reserve(out, 4096);
  }
  if (rv == 0 && ferror(f)) {
    snprintf(err, errcap, "client_assertion_file %s: read error", path);
    rv = SG_ERR_IO;
  }
  fclose(f);
  size_t a = 0, b = out->len;
  while (a < b && (out->data[a] == ' ' || out->data[a] == '\n' || out->data[a] == '\r' ||
                   out->data[a] == '\t'))
    a++;
  while (b > a && (out->data[b - 1] == ' ' || out->data[b - 1] == '\n' ||
                   out->data[b - 1] == '\r' || out->data[b - 1] == '\t'))
    b--;
  memmove(out->data, out->data + a, b - a);
  out->len = b - a;
  sg_jwt_parts p;
  if (rv == 0 && sg_jwt_split(out->data, out->len, &p) != 0) {
    snprintf(err, errcap, "client_assertion_file %s: not a compact JWT", path);
    rv = SG_ERR_PARSE;
  }
  return rv;
}

static void pct(sg_buf *out, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
        ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      sg_buf_append_char(out, (char)ch);
    } else {
      sg_buf_append_char(out, '%');
      sg_buf_append_char(out, hex[ch >> 4]);
      sg_buf_append_char(out, hex[ch & 15]);
    }
  }
}

int sg_cred_mi_request(const sg_cred *c, const char *scope, sg_cred_mi_req *out) {
  memset(out, 0, sizeof *out);
  if (c->kind != SG_CRED_MANAGED_IDENTITY || scope == NULL || !scope[0])
    return SG_ERR_INVAL;
  /* The resource: the scope without its "/.default". */
  size_t n = strlen(scope);
  if (n > 9 && strcmp(scope + n - 9, "/.default") == 0)
    n -= 9;
  char resource[600];
  snprintf(resource, sizeof resource, "%.*s", (int)n, scope);
  snprintf(out->host, sizeof out->host, "%s", c->mi_host);
  out->port = c->mi_port;
  sg_buf_append_str(&out->target, c->mi_path);
  sg_buf_append_str(&out->target, strchr(c->mi_path, '?') ? "&" : "?");
  sg_buf_append_str(&out->target,
                    c->app_service ? "api-version=2019-08-01" : "api-version=2018-02-01");
  sg_buf_append_str(&out->target, "&resource=");
  pct(&out->target, resource);
  const char *mi = c->acct->managed_identity;
  if (strcasecmp(mi, "system") != 0) {
    sg_buf_append_str(&out->target, "&client_id=");
    pct(&out->target, mi);
  }
  out->header = c->app_service ? sg_http_hdr("X-IDENTITY-HEADER", c->acct->identity_header)
                               : sg_http_hdr("Metadata", "true");
  return 0;
}

int sg_cred_token_body(const sg_cred *c, sg_buf *out, const char *token_url, const char *scope,
                       int64_t now_s, char *err, size_t errcap) {
  const sg_account *a = c->acct;
  if (c->kind == SG_CRED_MANAGED_IDENTITY) {
    snprintf(err, errcap, "a managed identity makes no Entra token request");
    return SG_ERR_INVAL;
  }
  if (c->kind == SG_CRED_SECRET) {
    if (sg_entra_token_body(out, a->client_id, a->client_secret, scope) != 0) {
      snprintf(err, errcap, "client id, secret or scope is empty");
      return SG_ERR_INVAL;
    }
    return 0;
  }
  sg_buf jwt = SG_BUF_INIT;
  int rv;
  if (c->kind == SG_CRED_ASSERTION_FILE) {
    rv = read_assertion(a->client_assertion_file, &jwt, err, errcap);
  } else {
    char jti[37];
    sg_jwt_guid(jti);
    sg_jwt_claims cl = {token_url,
                        a->client_id,
                        a->client_id,
                        jti,
                        now_s,
                        now_s,
                        now_s + SG_CRED_ASSERTION_LIFETIME_S};
    rv = sg_jwt_sign(&jwt, c->alg, c->thumb, &cl, c->key);
    if (rv)
      snprintf(err, errcap, "the client assertion could not be signed");
  }
  if (rv == 0 && sg_entra_token_body_assertion(out, a->client_id, jwt.data, jwt.len, scope) != 0) {
    snprintf(err, errcap, "client id or scope is empty");
    rv = SG_ERR_INVAL;
  }
  if (jwt.data)
    OPENSSL_cleanse(jwt.data, jwt.cap);
  sg_buf_free(&jwt);
  return rv;
}
