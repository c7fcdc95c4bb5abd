/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS engine over memory BIOs (see sg_tls.h). Each SSL reads from a BIO_s_mem
 * we fill with sg_tls_feed and writes into a BIO_s_mem we empty with
 * sg_tls_take_out. Contexts carry their role and ALPN policy in ex_data so a
 * session can never be made from a context that skips verification.
 * This file does no I/O and knows nothing of libuv.
 */
#include "net/sg_tls.h"

#include <arpa/inet.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"

/* Bits stored in a context's ex_data slot. */
enum {
  CTX_CLIENT = 1u << 0,
  CTX_SERVER = 1u << 1,
  CTX_REQUIRE_H2 = 1u << 2,
};

struct sg_tls {
  SSL *ssl;
  BIO *rbio; /* network -> SSL; owned by ssl */
  BIO *wbio; /* SSL -> network; owned by ssl */
  bool server;
  bool require_h2;
  bool done;
  bool closed; /* close_notify sent or received */
  char alpn[32];
  char detail[256];
};

static int ctx_idx = -1;
static pthread_once_t ctx_idx_once = PTHREAD_ONCE_INIT;

static void ctx_idx_init(void) {
  ctx_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static int ctx_index(void) {
  pthread_once(&ctx_idx_once, ctx_idx_init);
  return ctx_idx;
}

/* Copies the OpenSSL error queue's first entry (or |fallback|) into |dst|. */
static void take_ssl_error(char *dst, size_t cap, const char *fallback) {
  unsigned long e = ERR_peek_error();
  if (e != 0) {
    ERR_error_string_n(e, dst, cap);
  } else {
    snprintf(dst, cap, "%s", fallback);
  }
  ERR_clear_error();
}

static int ctx_common(SSL_CTX **out, unsigned bits) {
  *out = NULL;
  if (ctx_index() < 0)
    return SG_ERR_TLS;
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  if (!ctx)
    return SG_ERR_TLS;
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_ex_data(ctx, ctx_idx, (void *)(uintptr_t)bits) != 1) {
    SSL_CTX_free(ctx);
    return SG_ERR_TLS;
  }
  /* Renegotiation would need reads inside SSL_write; HTTP/2 forbids it anyway. */
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  /* Idle connections keep no 34 KB read/write buffers around. */
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  *out = ctx;
  return 0;
}

int sg_tls_ctx_client_new2(SSL_CTX **out, const char *extra_ca_file, unsigned flags) {
  bool allow11 = (flags & SG_TLS_ALPN_ALLOW_HTTP11) != 0;
  int rv = ctx_common(out, CTX_CLIENT | (allow11 ? 0u : CTX_REQUIRE_H2));
  if (rv != 0)
    return rv;
  SSL_CTX *ctx = *out;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    /* A system without a default store is not fatal when an extra CA is given. */
    ERR_clear_error();
  }
  if (extra_ca_file && extra_ca_file[0] &&
      SSL_CTX_load_verify_locations(ctx, extra_ca_file, NULL) != 1) {
    ERR_clear_error();
    SSL_CTX_free(ctx);
    *out = NULL;
    return SG_ERR_CONFIG;
  }
  static const unsigned char h2[] = "\x02h2";
  static const unsigned char h2_11[] = "\x02h2\x08http/1.1";
  /* Note: SSL_CTX_set_alpn_protos returns 0 on success. */
  int alpn_rv = allow11 ? SSL_CTX_set_alpn_protos(ctx, h2_11, sizeof h2_11 - 1)
                        : SSL_CTX_set_alpn_protos(ctx, h2, sizeof h2 - 1);
  if (alpn_rv != 0) {
    SSL_CTX_free(ctx);
    *out = NULL;
    return SG_ERR_TLS;
  }
  return 0;
}

int sg_tls_ctx_client_new(SSL_CTX **out, const char *extra_ca_file) {
  return sg_tls_ctx_client_new2(out, extra_ca_file, 0);
}

/* Server preference: "h2", then "http/1.1"; no overlap means no ALPN at all. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg) {
  static const unsigned char prefs[] = "\x02h2\x08http/1.1";
  unsigned char *sel = NULL;
  if (SSL_select_next_proto(&sel, outlen, prefs, sizeof prefs - 1, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = sel;
  return SSL_TLSEXT_ERR_OK;
}

int sg_tls_ctx_server_new(SSL_CTX **out, const char *cert_chain_file, const char *key_file) {
  if (!cert_chain_file || !key_file)
    return SG_ERR_INVAL;
  int rv = ctx_common(out, CTX_SERVER);
  if (rv != 0)
    return rv;
  SSL_CTX *ctx = *out;
  /* A server context asks clients for no certificate (OpenSSL's default mode
   * for a new context); peer verification is the clients' side. */
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_chain_file) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    SSL_CTX_free(ctx);
    *out = NULL;
    return SG_ERR_CONFIG;
  }
  SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
  return 0;
}

static bool is_ip_literal(const char *host) {
  unsigned char tmp[16];
  return inet_pton(AF_INET, host, tmp) == 1 || inet_pton(AF_INET6, host, tmp) == 1;
}

static int setup_client(sg_tls *t, const char *host) {
  if (is_ip_literal(host)) {
    /* No SNI for IP literals (RFC 6066 section 3); match the IP SAN instead. */
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host) != 1)
      return SG_ERR_TLS;
  } else {
    if (SSL_set_tlsext_host_name(t->ssl, host) != 1)
      return SG_ERR_TLS;
    SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set1_host(t->ssl, host) != 1)
      return SG_ERR_TLS;
  }
  SSL_set_connect_state(t->ssl);
  return 0;
}

int sg_tls_new(sg_tls **out, SSL_CTX *ctx, const char *host) {
  *out = NULL;
  if (!ctx || ctx_index() < 0)
    return SG_ERR_INVAL;
  unsigned bits = (unsigned)(uintptr_t)SSL_CTX_get_ex_data(ctx, ctx_idx);
  bool server = host == NULL;
  if (server ? !(bits & CTX_SERVER) : (!(bits & CTX_CLIENT) || host[0] == '\0'))
    return SG_ERR_INVAL;

  sg_tls *t = sg_xcalloc(1, sizeof *t);
  t->server = server;
  t->require_h2 = (bits & CTX_REQUIRE_H2) != 0;
  t->ssl = SSL_new(ctx);
  t->rbio = BIO_new(BIO_s_mem());
  t->wbio = BIO_new(BIO_s_mem());
  if (!t->ssl || !t->rbio || !t->wbio) {
    BIO_free(t->rbio);
    BIO_free(t->wbio);
    SSL_free(t->ssl);
    sg_free(t);
    ERR_clear_error();
    return SG_ERR_TLS;
  }
  /* An empty input BIO means "retry later", never end of file. */
  BIO_set_mem_eof_return(t->rbio, -1);
  SSL_set_bio(t->ssl, t->rbio, t->wbio);
  int rv = 0;
  if (server)
    SSL_set_accept_state(t->ssl);
  else
    rv = setup_client(t, host);
  if (rv != 0) {
    ERR_clear_error();
    sg_tls_free(t);
    return rv;
  }
  *out = t;
  return 0;
}

void sg_tls_free(sg_tls *t) {
  if (!t)
    return;
  SSL_free(t->ssl); /* frees both BIOs */
  sg_free(t);
}

int sg_tls_feed(sg_tls *t, const uint8_t *p, size_t n) {
  while (n > 0) {
    int chunk = n > INT_MAX ? INT_MAX : (int)n;
    int w = BIO_write(t->rbio, p, chunk);
    if (w <= 0)
      return SG_ERR_TLS;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Classifies a failed handshake after SSL_get_error said SSL_ERROR_SSL/SYSCALL. */
static int handshake_failure(sg_tls *t) {
  long vr = t->server ? X509_V_OK : SSL_get_verify_result(t->ssl);
  if (vr != X509_V_OK) {
    snprintf(t->detail, sizeof t->detail, "certificate verify failed: %s",
             X509_verify_cert_error_string(vr));
    ERR_clear_error();
    return SG_ERR_TLS_VERIFY;
  }
  take_ssl_error(t->detail, sizeof t->detail, "TLS handshake failed");
  return SG_ERR_TLS;
}

int sg_tls_handshake(sg_tls *t) {
  if (t->done)
    return 0;
  ERR_clear_error();
  int r = SSL_do_handshake(t->ssl);
  if (r != 1) {
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
      return SG_ERR_AGAIN;
    return handshake_failure(t);
  }
  const unsigned char *proto = NULL;
  unsigned int len = 0;
  SSL_get0_alpn_selected(t->ssl, &proto, &len);
  if (proto && len > 0 && len < sizeof t->alpn) {
    memcpy(t->alpn, proto, len);
    t->alpn[len] = '\0';
  }
  if (!t->server && t->require_h2 && strcmp(t->alpn, "h2") != 0) {
    snprintf(t->detail, sizeof t->detail, "server selected ALPN \"%s\", not \"h2\"", t->alpn);
    return SG_ERR_ALPN;
  }
  t->done = true;
  t->detail[0] = '\0';
  return 0;
}

bool sg_tls_handshake_done(const sg_tls *t) {
  return t->done;
}

int sg_tls_read(sg_tls *t, uint8_t *buf, size_t cap, size_t *nread) {
  *nread = 0;
  if (!t->done)
    return SG_ERR_INVAL;
  ERR_clear_error();
  size_t n = 0;
  if (SSL_read_ex(t->ssl, buf, cap, &n) == 1) {
    *nread = n;
    return 0;
  }
  switch (SSL_get_error(t->ssl, 0)) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE:
    return SG_ERR_AGAIN;
  case SSL_ERROR_ZERO_RETURN:
    t->closed = true;
    return SG_ERR_EOF;
  default:
    take_ssl_error(t->detail, sizeof t->detail, "TLS read failed");
    return SG_ERR_TLS;
  }
}

int sg_tls_write(sg_tls *t, const uint8_t *p, size_t n) {
  if (!t->done)
    return SG_ERR_INVAL;
  if (t->closed || (SSL_get_shutdown(t->ssl) & SSL_SENT_SHUTDOWN))
    return SG_ERR_CLOSED;
  if (n == 0)
    return 0;
  ERR_clear_error();
  size_t w = 0;
  if (SSL_write_ex(t->ssl, p, n, &w) != 1 || w != n) {
    take_ssl_error(t->detail, sizeof t->detail, "TLS write failed");
    return SG_ERR_TLS;
  }
  return 0;
}

int sg_tls_shutdown(sg_tls *t) {
  if (!t->done || (SSL_get_shutdown(t->ssl) & SSL_SENT_SHUTDOWN))
    return 0;
  ERR_clear_error();
  /* 0: our close_notify is queued, the peer's not yet seen; 1: both. */
  if (SSL_shutdown(t->ssl) < 0) {
    take_ssl_error(t->detail, sizeof t->detail, "TLS shutdown failed");
    return SG_ERR_TLS;
  }
  return 0;
}

size_t sg_tls_out_pending(const sg_tls *t) {
  return BIO_ctrl_pending(t->wbio);
}

size_t sg_tls_take_out(sg_tls *t, sg_buf *dst) {
  size_t total = 0;
  size_t n;
  while ((n = BIO_ctrl_pending(t->wbio)) > 0) {
    if (n > INT_MAX)
      n = INT_MAX;
    sg_buf_reserve(dst, n);
    int r = BIO_read(t->wbio, dst->data + dst->len, (int)n);
    if (r <= 0)
      break;
    dst->len += (size_t)r;
    dst->data[dst->len] = '\0';
    total += (size_t)r;
  }
  return total;
}

const char *sg_tls_alpn(const sg_tls *t) {
  return t->alpn;
}

const char *sg_tls_error_detail(const sg_tls *t) {
  return t->detail;
}
