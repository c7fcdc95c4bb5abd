/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS engine over two in-memory BIOs of our own (see sg_tls.h). The SSL reads
 * the bytes sg_tls_feed queued in |in| and writes its records straight into
 * |out|, which sg_tls_take_out hands over by swapping buffers when it can. A
 * BIO_s_mem pair did the same with one more copy each way and zero-filled
 * every buffer it grew (together about 6 % of the gateway's instructions per
 * message). Contexts carry their role and ALPN policy in ex_data so a session
 * can never be made from a context that skips verification.
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
  BIO *rbio; /* network -> SSL: reads |in|; owned by ssl */
  BIO *wbio; /* SSL -> network: appends to |out|; owned by ssl */
  sg_buf in; /* fed, not yet read by the SSL from in_off on */
  size_t in_off;
  sg_buf out; /* records not yet taken */
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
  bool none = (flags & SG_TLS_ALPN_NONE) != 0;
  int rv = ctx_common(out, CTX_CLIENT | (allow11 || none ? 0u : CTX_REQUIRE_H2));
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
  if (none)
    return 0;
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

/* ---- the BIOs ---- */

static int bio_in_read(BIO *b, char *dst, size_t len, size_t *got) {
  sg_tls *t = BIO_get_data(b);
  size_t avail = t->in.len - t->in_off;
  BIO_clear_retry_flags(b);
  *got = 0;
  if (avail == 0) { /* "retry later", never end of file */
    BIO_set_retry_read(b);
    return 0;
  }
  size_t n = len < avail ? len : avail;
  memcpy(dst, t->in.data + t->in_off, n);
  t->in_off += n;
  if (t->in_off == t->in.len) {
    sg_buf_reset(&t->in);
    t->in_off = 0;
  }
  *got = n;
  return 1;
}

static int bio_out_write(BIO *b, const char *src, size_t len, size_t *put) {
  sg_tls *t = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  sg_buf_append(&t->out, src, len);
  *put = len;
  return 1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
  (void)ptr;
  sg_tls *t = BIO_get_data(b);
  switch (cmd) {
  case BIO_CTRL_FLUSH:
    return 1;
  case BIO_CTRL_PENDING: /* bytes waiting to be read from this BIO */
    return t && b == t->rbio ? (long)(t->in.len - t->in_off) : 0;
  case BIO_CTRL_WPENDING:
    return t && b == t->wbio ? (long)t->out.len : 0;
  case BIO_CTRL_GET_CLOSE:
    return BIO_get_shutdown(b);
  case BIO_CTRL_SET_CLOSE:
    BIO_set_shutdown(b, (int)num);
    return 1;
  default: /* KTLS, datagram and the rest: not supported */
    return 0;
  }
}

static int bio_create(BIO *b) {
  BIO_set_init(b, 1);
  return 1;
}

static BIO_METHOD *bio_in_method, *bio_out_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static void bio_methods_init(void) {
  int type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK;
  bio_in_method = BIO_meth_new(type, "sendgate tls in");
  bio_out_method = BIO_meth_new(type, "sendgate tls out");
  if (bio_in_method) {
    BIO_meth_set_read_ex(bio_in_method, bio_in_read);
    BIO_meth_set_ctrl(bio_in_method, bio_ctrl);
    BIO_meth_set_create(bio_in_method, bio_create);
  }
  if (bio_out_method) {
    BIO_meth_set_write_ex(bio_out_method, bio_out_write);
    BIO_meth_set_ctrl(bio_out_method, bio_ctrl);
    BIO_meth_set_create(bio_out_method, bio_create);
  }
}

static BIO *bio_new(sg_tls *t, bool in) {
  pthread_once(&bio_once, bio_methods_init);
  BIO_METHOD *m = in ? bio_in_method : bio_out_method;
  BIO *b = m ? BIO_new(m) : NULL;
  if (b)
    BIO_set_data(b, t);
  return b;
}

/* ---- sessions ---- */

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
  t->rbio = bio_new(t, true);
  t->wbio = bio_new(t, false);
  if (!t->ssl || !t->rbio || !t->wbio) {
    BIO_free(t->rbio);
    BIO_free(t->wbio);
    SSL_free(t->ssl);
    sg_free(t);
    ERR_clear_error();
    return SG_ERR_TLS;
  }
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
  sg_buf_free(&t->in);
  sg_buf_free(&t->out);
  sg_free(t);
}

int sg_tls_feed(sg_tls *t, const uint8_t *p, size_t n) {
  if (n > 0)
    sg_buf_append(&t->in, p, n);
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
  /* Room for the records up front (at most 16 KB of plaintext each, under 64
   * bytes of header, padding and tag): one allocation, not a chain of copies. */
  sg_buf_reserve(&t->out, n + (n / 16384 + 1) * 64);
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
  return t->out.len;
}

size_t sg_tls_take_out(sg_tls *t, sg_buf *dst) {
  size_t n = t->out.len;
  if (n == 0)
    return 0;
  if (dst->len == 0) { /* hand the records over without copying them */
    sg_buf tmp = *dst;
    *dst = t->out;
    t->out = tmp;
    sg_buf_reset(&t->out);
  } else {
    sg_buf_append(dst, t->out.data, n);
    sg_buf_reset(&t->out);
  }
  return n;
}

const char *sg_tls_alpn(const sg_tls *t) {
  return t->alpn;
}

const char *sg_tls_error_detail(const sg_tls *t) {
  return t->detail;
}
