/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Local CA and server certificate generation (see sg_sbx_certgen.h) with the
 * OpenSSL 3 C API: EC P-256 keys from EVP_EC_gen, X.509 v3 extensions from
 * X509V3_EXT_conf_nid, subjectAltName built as GENERAL_NAMEs (never from a
 * config string, so a name cannot smuggle in extra entries). PEM is rendered
 * into memory first, then written to "<path>.tmp" and renamed into place.
 */
#include "sandbox/sg_sbx_certgen.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"

const char *const sg_sbx_certgen_default_names[] = {"localhost", "127.0.0.1", "::1"};
const size_t sg_sbx_certgen_default_names_len = SG_ARRAY_LEN(sg_sbx_certgen_default_names);

/* Caps that keep a certificate sane; a DNS name is at most 253 characters. */
#define MAX_NAMES 32
#define MAX_NAME_LEN 253
/* ~2 years, plus one hour of back-dating so small clock skew does not matter. */
#define VALID_DAYS 730
#define BACKDATE_SECONDS 3600

typedef struct {
  EVP_PKEY *key;
  X509 *cert;
} keycert;

static void keycert_free(keycert *kc) {
  EVP_PKEY_free(kc->key);
  X509_free(kc->cert);
  kc->key = NULL;
  kc->cert = NULL;
}

static bool is_ip(const char *s) {
  ASN1_OCTET_STRING *ip = a2i_IPADDRESS(s);
  ASN1_OCTET_STRING_free(ip);
  ERR_clear_error();
  return ip != NULL;
}

static bool dns_name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > MAX_NAME_LEN || s[0] == '.' || s[0] == '-' || s[n - 1] == '.')
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || (c == '*' && i == 0 && s[1] == '.');
    if (!ok)
      return false;
  }
  return true;
}

static int check_names(const char *const **names, size_t *n) {
  if (*names == NULL || *n == 0) {
    *names = sg_sbx_certgen_default_names;
    *n = sg_sbx_certgen_default_names_len;
  }
  if (*n > MAX_NAMES)
    return SG_ERR_INVAL;
  for (size_t i = 0; i < *n; i++) {
    const char *s = (*names)[i];
    if (!s || (!is_ip(s) && !dns_name_ok(s)))
      return SG_ERR_INVAL;
  }
  return 0;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
  if (!ext)
    return SG_ERR_CRYPTO;
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? 0 : SG_ERR_CRYPTO;
}

static int add_san(X509 *cert, const char *const *names, size_t n) {
  GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
  int rv = gens ? 0 : SG_ERR_CRYPTO;
  for (size_t i = 0; rv == 0 && i < n; i++) {
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(names[i]);
    if (gn && ip) {
      GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
    } else if (gn) {
      ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
      if (dns && ASN1_STRING_set(dns, names[i], -1) == 1) {
        GENERAL_NAME_set0_value(gn, GEN_DNS, dns);
      } else {
        ASN1_IA5STRING_free(dns);
        GENERAL_NAME_free(gn);
        gn = NULL;
      }
    } else {
      ASN1_OCTET_STRING_free(ip);
    }
    if (!gn || sk_GENERAL_NAME_push(gens, gn) <= 0) {
      GENERAL_NAME_free(gn);
      rv = SG_ERR_CRYPTO;
    }
  }
  if (rv == 0 && X509_add1_ext_i2d(cert, NID_subject_alt_name, gens, 0, 0) != 1)
    rv = SG_ERR_CRYPTO;
  GENERAL_NAMES_free(gens);
  return rv;
}

/* 159 random bits: positive, below 2^159, as RFC 5280 allows (<= 20 octets). */
static int set_random_serial(X509 *cert) {
  unsigned char raw[20];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return SG_ERR_CRYPTO;
  raw[0] &= 0x7f;
  raw[0] |= 0x01; /* never zero, never a shorter-than-expected encoding */
  BIGNUM *bn = BN_bin2bn(raw, sizeof raw, NULL);
  ASN1_INTEGER *serial = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
  int ok = serial && X509_set_serialNumber(cert, serial) == 1;
  ASN1_INTEGER_free(serial);
  BN_free(bn);
  return ok ? 0 : SG_ERR_CRYPTO;
}

static int set_subject(X509 *cert, const char *cn) {
  X509_NAME *name = X509_get_subject_name(cert);
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"sendgate", -1,
                                 -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) !=
          1)
    return SG_ERR_CRYPTO;
  return 0;
}

/*
 * Makes a key and a certificate for it. |issuer| NULL makes a self-signed CA;
 * otherwise a server leaf for |names| signed by |issuer|.
 */
static int make_cert(keycert *out, const keycert *issuer, const char *const *names, size_t n) {
  int rv = SG_ERR_CRYPTO;
  out->key = EVP_EC_gen("P-256");
  out->cert = X509_new();
  if (!out->key || !out->cert)
    goto done;
  X509 *cert = out->cert;
  if (X509_set_version(cert, X509_VERSION_3) != 1 || set_random_serial(cert) != 0 ||
      !X509_gmtime_adj(X509_getm_notBefore(cert), -BACKDATE_SECONDS) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert), VALID_DAYS, 0, NULL) ||
      X509_set_pubkey(cert, out->key) != 1)
    goto done;

  char cn[96];
  if (issuer) {
    snprintf(cn, sizeof cn, "%.80s", names[0]);
  } else {
    /* A per-CA suffix tells apart the CAs of different sandboxes and test runs. */
    unsigned char r[4];
    if (RAND_bytes(r, sizeof r) != 1)
      goto done;
    snprintf(cn, sizeof cn, "sendgate local CA %02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
  }
  if (set_subject(cert, cn) != 0)
    goto done;
  X509 *issuer_cert = issuer ? issuer->cert : cert;
  EVP_PKEY *issuer_key = issuer ? issuer->key : out->key;
  if (X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert)) != 1)
    goto done;

  if (issuer) {
    if (add_ext(cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
        add_ext(cert, issuer_cert, NID_key_usage, "critical,digitalSignature") != 0 ||
        add_ext(cert, issuer_cert, NID_ext_key_usage, "serverAuth") != 0 ||
        add_ext(cert, issuer_cert, NID_subject_key_identifier, "hash") != 0 ||
        add_ext(cert, issuer_cert, NID_authority_key_identifier, "keyid:always") != 0 ||
        add_san(cert, names, n) != 0)
      goto done;
  } else {
    if (add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") != 0 ||
        add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
        add_ext(cert, cert, NID_subject_key_identifier, "hash") != 0)
      goto done;
  }
  if (X509_sign(cert, issuer_key, EVP_sha256()) <= 0)
    goto done;
  rv = 0;
done:
  if (rv != 0)
    keycert_free(out);
  ERR_clear_error();
  return rv;
}

/* Writes |n| bytes to |path| via "<path>.tmp" + rename, with permissions |mode|. */
static int write_file(const char *path, mode_t mode, const char *data, size_t n) {
  sg_buf tmp = SG_BUF_INIT;
  sg_buf_printf(&tmp, "%s.tmp", path);
  int rv = SG_ERR_IO;
  int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd >= 0) {
    bool ok = fchmod(fd, mode) == 0;
    while (ok && n > 0) {
      ssize_t w = write(fd, data, n);
      if (w < 0 && errno == EINTR)
        continue;
      ok = w > 0;
      if (ok) {
        data += w;
        n -= (size_t)w;
      }
    }
    ok = close(fd) == 0 && ok;
    if (ok && rename(tmp.data, path) == 0)
      rv = 0;
    else
      unlink(tmp.data);
  }
  sg_buf_free(&tmp);
  return rv;
}

/* PEM-encodes the certificates (leaf first) or the key, then writes the file. */
static int write_pem(const char *path, X509 *c1, X509 *c2, EVP_PKEY *key) {
  BIO *mem = BIO_new(BIO_s_mem());
  if (!mem)
    return SG_ERR_CRYPTO;
  int ok = 1;
  if (c1)
    ok = ok && PEM_write_bio_X509(mem, c1) == 1;
  if (c2)
    ok = ok && PEM_write_bio_X509(mem, c2) == 1;
  if (key)
    ok = ok && PEM_write_bio_PrivateKey(mem, key, NULL, NULL, 0, NULL, NULL) == 1;
  int rv = SG_ERR_CRYPTO;
  if (ok) {
    char *data = NULL;
    long len = BIO_get_mem_data(mem, &data);
    rv = len > 0 ? write_file(path, key ? 0600 : 0644, data, (size_t)len) : SG_ERR_CRYPTO;
  }
  BIO_free(mem);
  ERR_clear_error();
  return rv;
}

static char *join(const char *dir, const char *file) {
  sg_buf b = SG_BUF_INIT;
  sg_buf_printf(&b, "%s/%s", dir, file);
  return sg_buf_steal(&b, NULL);
}

int sg_sbx_certgen_write(const char *dir, const char *const *names, size_t n_names) {
  if (!dir || !dir[0])
    return SG_ERR_INVAL;
  int rv = check_names(&names, &n_names);
  if (rv != 0)
    return rv;
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return SG_ERR_IO;
  keycert ca = {0}, leaf = {0};
  rv = make_cert(&ca, NULL, NULL, 0);
  if (rv == 0)
    rv = make_cert(&leaf, &ca, names, n_names);
  const char *files[] = {"ca.pem", "ca-key.pem", "server.pem", "server-key.pem"};
  for (size_t i = 0; rv == 0 && i < SG_ARRAY_LEN(files); i++) {
    char *path = join(dir, files[i]);
    switch (i) {
    case 0:
      rv = write_pem(path, ca.cert, NULL, NULL);
      break;
    case 1:
      rv = write_pem(path, NULL, NULL, ca.key);
      break;
    case 2:
      rv = write_pem(path, leaf.cert, ca.cert, NULL);
      break;
    default:
      rv = write_pem(path, NULL, NULL, leaf.key);
      break;
    }
    sg_free(path);
  }
  keycert_free(&ca);
  keycert_free(&leaf);
  return rv;
}

int sg_sbx_certgen_ensure(const char *dir, const char *const *names, size_t n_names,
                          bool *created) {
  if (created)
    *created = false;
  if (!dir || !dir[0])
    return SG_ERR_INVAL;
  const char *files[] = {"ca.pem", "ca-key.pem", "server.pem", "server-key.pem"};
  bool all = true;
  for (size_t i = 0; all && i < SG_ARRAY_LEN(files); i++) {
    char *path = join(dir, files[i]);
    all = access(path, F_OK) == 0;
    sg_free(path);
  }
  if (all)
    return 0;
  int rv = sg_sbx_certgen_write(dir, names, n_names);
  if (rv == 0 && created)
    *created = true;
  return rv;
}

static int load_ca(keycert *ca, const char *cert_file, const char *key_file) {
  BIO *b = BIO_new_file(cert_file, "r");
  ca->cert = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
  BIO_free(b);
  b = BIO_new_file(key_file, "r");
  ca->key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
  BIO_free(b);
  int rv = 0;
  if (!ca->cert || !ca->key || X509_check_private_key(ca->cert, ca->key) != 1) {
    keycert_free(ca);
    rv = SG_ERR_CONFIG;
  }
  ERR_clear_error();
  return rv;
}

int sg_sbx_certgen_leaf(const char *ca_cert_file, const char *ca_key_file, const char *const *names,
                        size_t n_names, const char *cert_out, const char *key_out) {
  if (!ca_cert_file || !ca_key_file || !cert_out || !key_out)
    return SG_ERR_INVAL;
  int rv = check_names(&names, &n_names);
  if (rv != 0)
    return rv;
  keycert ca = {0}, leaf = {0};
  rv = load_ca(&ca, ca_cert_file, ca_key_file);
  if (rv == 0)
    rv = make_cert(&leaf, &ca, names, n_names);
  if (rv == 0)
    rv = write_pem(cert_out, leaf.cert, ca.cert, NULL);
  if (rv == 0)
    rv = write_pem(key_out, NULL, NULL, leaf.key);
  keycert_free(&ca);
  keycert_free(&leaf);
  return rv;
}
