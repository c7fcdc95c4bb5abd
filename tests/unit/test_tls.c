/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for net/sg_tls (engine over memory BIOs) and sandbox/sg_sbx_certgen: a
 * client and a server sg_tls are paired in memory, with CAs generated at test
 * time in a temporary directory. No sockets, no event loop.
 */
#include "harness.h"
#include "tls_test_dir.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "net/sg_tls.h"
#include "sandbox/sg_sbx_certgen.h"

/* A CA dir plus the contexts: client trusts |trust_dir|'s CA, server uses |srv_dir|. */
typedef struct {
  SSL_CTX *cctx, *sctx;
} ctxs;

static void ctxs_make(ctxs *x, const char *trust_dir, const char *cert, const char *key,
                      unsigned client_flags) {
  char *ca = sg_tls_test_path(trust_dir, "ca.pem");
  ASSERT_OK(sg_tls_ctx_client_new2(&x->cctx, ca, client_flags));
  ASSERT_OK(sg_tls_ctx_server_new(&x->sctx, cert, key));
  sg_free(ca);
}

static void ctxs_make_dir(ctxs *x, const char *trust_dir, const char *srv_dir) {
  char *cert = sg_tls_test_path(srv_dir, "server.pem");
  char *key = sg_tls_test_path(srv_dir, "server-key.pem");
  ctxs_make(x, trust_dir, cert, key, 0);
  sg_free(cert);
  sg_free(key);
}

/* A new directory with sg_sbx_certgen's CA and server certificate, and the
 * contexts of ctxs_make_dir on it. */
static char *certs_dir(ctxs *x) {
  char *dir = sg_tls_test_dir_new("sg_tls_test");
  ASSERT_OK(sg_sbx_certgen_write(dir, NULL, 0));
  ctxs_make_dir(x, dir, dir);
  return dir;
}

static void ctxs_free(ctxs *x) {
  SSL_CTX_free(x->cctx);
  SSL_CTX_free(x->sctx);
}

/* ---- an in-memory client/server pair ---- */

typedef struct {
  sg_tls *c, *s;
  sg_buf wire; /* scratch for moving records */
} pair;

static void pair_new(pair *p, const ctxs *x, const char *host) {
  memset(p, 0, sizeof *p);
  ASSERT_OK(sg_tls_new(&p->c, x->cctx, host));
  ASSERT_OK(sg_tls_new(&p->s, x->sctx, NULL));
}

static void pair_free(pair *p) {
  sg_tls_free(p->c);
  sg_tls_free(p->s);
  sg_buf_free(&p->wire);
}

/* Moves all pending records both ways; returns how many bytes moved. */
static size_t pump(pair *p) {
  size_t moved = 0;
  sg_buf_reset(&p->wire);
  moved += sg_tls_take_out(p->c, &p->wire);
  ASSERT_OK(sg_tls_feed(p->s, (const uint8_t *)p->wire.data, p->wire.len));
  sg_buf_reset(&p->wire);
  moved += sg_tls_take_out(p->s, &p->wire);
  ASSERT_OK(sg_tls_feed(p->c, (const uint8_t *)p->wire.data, p->wire.len));
  return moved;
}

/* Runs both handshakes until neither wants more; bounded in rounds. */
static void handshake(pair *p, int *crv, int *srv) {
  *crv = *srv = SG_ERR_AGAIN;
  for (int round = 0; round < 20; round++) {
    if (*crv == SG_ERR_AGAIN)
      *crv = sg_tls_handshake(p->c);
    if (*srv == SG_ERR_AGAIN)
      *srv = sg_tls_handshake(p->s);
    size_t moved = pump(p);
    if (*crv != SG_ERR_AGAIN && *srv != SG_ERR_AGAIN)
      return;
    if (moved == 0 && round > 0 && (*crv != SG_ERR_AGAIN || *srv != SG_ERR_AGAIN))
      return; /* one side failed and the other waits for bytes that never come */
  }
}

static void fill_pattern(uint8_t *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)((i * 31u + seed) ^ (i >> 9));
}

/* Writes |n| bytes from |from| and reads them all at |to|, checking content. */
static void transfer(pair *p, sg_tls *from, sg_tls *to, size_t n, unsigned seed) {
  uint8_t *src = sg_xmalloc(n);
  uint8_t *dst = sg_xmalloc(n);
  fill_pattern(src, n, seed);
  ASSERT_OK(sg_tls_write(from, src, n));
  ASSERT_GT(sg_tls_out_pending(from), n); /* records add framing */
  pump(p);
  size_t got = 0;
  uint8_t chunk[16384];
  for (int i = 0; i < 100000 && got < n; i++) {
    size_t r = 0;
    int rv = sg_tls_read(to, chunk, sizeof chunk, &r);
    if (rv == SG_ERR_AGAIN) {
      ASSERT_GT(pump(p), 0);
      continue;
    }
    ASSERT_OK(rv);
    ASSERT_LE(got + r, n);
    memcpy(dst + got, chunk, r);
    got += r;
  }
  ASSERT_EQ(n, got);
  ASSERT_MEM_EQ(src, dst, n);
  size_t r = 0;
  ASSERT_EQ(SG_ERR_AGAIN, sg_tls_read(to, chunk, sizeof chunk, &r));
  sg_free(src);
  sg_free(dst);
}

/* A new pair for |host| on |x|, and its handshake (see handshake). */
static void pair_handshake(pair *p, const ctxs *x, const char *host, int *crv, int *srv) {
  pair_new(p, x, host);
  handshake(p, crv, srv);
}

/* ---- cases ---- */

static void t_roundtrip(void) {
  ctxs x;
  char *dir = certs_dir(&x);
  pair p;
  pair_new(&p, &x, "localhost");
  ASSERT(!sg_tls_handshake_done(p.c));
  size_t r = 0;
  uint8_t tmp[16];
  ASSERT_EQ(SG_ERR_INVAL, sg_tls_read(p.c, tmp, sizeof tmp, &r));
  ASSERT_EQ(SG_ERR_INVAL, sg_tls_write(p.c, tmp, sizeof tmp));
  int crv, srv;
  handshake(&p, &crv, &srv);
  ASSERT_OK(crv);
  ASSERT_OK(srv);
  ASSERT(sg_tls_handshake_done(p.c) && sg_tls_handshake_done(p.s));
  ASSERT_STR_EQ("h2", sg_tls_alpn(p.c));
  ASSERT_STR_EQ("h2", sg_tls_alpn(p.s));
  ASSERT_OK(sg_tls_handshake(p.c)); /* stays done */

  transfer(&p, p.c, p.s, 100, 1);
  transfer(&p, p.s, p.c, 100, 2);
  transfer(&p, p.c, p.s, 300 * 1024 + 7, 3); /* > 64 KB, many records */
  transfer(&p, p.s, p.c, 200 * 1024 + 1, 4);

  /* close_notify: the peer reads EOF; writing afterwards is refused. */
  ASSERT_OK(sg_tls_shutdown(p.c));
  ASSERT_GT(sg_tls_out_pending(p.c), 0);
  pump(&p);
  ASSERT_EQ(SG_ERR_EOF, sg_tls_read(p.s, tmp, sizeof tmp, &r));
  ASSERT_EQ(SG_ERR_CLOSED, sg_tls_write(p.c, tmp, 1));
  ASSERT_EQ(SG_ERR_CLOSED, sg_tls_write(p.s, tmp, 1));
  pair_free(&p);
  ctxs_free(&x);
  sg_tls_test_dir_rm(dir);
}

static void t_alpn_http11(void) {
  char *dir = sg_tls_test_dir_new("sg_tls_test");
  ASSERT_OK(sg_sbx_certgen_write(dir, NULL, 0));
  char *ca = sg_tls_test_path(dir, "ca.pem");
  char *cert = sg_tls_test_path(dir, "server.pem");
  char *key = sg_tls_test_path(dir, "server-key.pem");

  /* Offering "h2,http/1.1": the server still prefers h2. */
  ctxs x;
  ctxs_make(&x, dir, cert, key, SG_TLS_ALPN_ALLOW_HTTP11);
  pair p;
  int crv, srv;
  pair_handshake(&p, &x, "localhost", &crv, &srv);
  ASSERT_OK(crv);
  ASSERT_OK(srv);
  ASSERT_STR_EQ("h2", sg_tls_alpn(p.c));
  pair_free(&p);
  ctxs_free(&x);

  /* A client offering only http/1.1 gets it (raw OpenSSL client, our server). */
  ASSERT_OK(sg_tls_ctx_server_new(&x.sctx, cert, key));
  SSL_CTX *raw = SSL_CTX_new(TLS_client_method());
  ASSERT_NOT_NULL(raw);
  ASSERT_EQ(1, SSL_CTX_load_verify_locations(raw, ca, NULL));
  SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, NULL);
  ASSERT_OK(SSL_CTX_set_alpn_protos(raw, (const unsigned char *)"\x08http/1.1", 9));
  SSL *cl = SSL_new(raw);
  BIO *c_in = BIO_new(BIO_s_mem()), *c_out = BIO_new(BIO_s_mem());
  SSL_set_bio(cl, c_in, c_out);
  SSL_set_connect_state(cl);
  sg_tls *s;
  ASSERT_OK(sg_tls_new(&s, x.sctx, NULL));
  sg_buf wire = SG_BUF_INIT;
  int cdone = 0;
  srv = SG_ERR_AGAIN;
  for (int i = 0; i < 20 && (!cdone || srv == SG_ERR_AGAIN); i++) {
    cdone = SSL_do_handshake(cl) == 1;
    char tmp[16384];
    int n;
    while ((n = BIO_read(c_out, tmp, sizeof tmp)) > 0)
      ASSERT_OK(sg_tls_feed(s, (const uint8_t *)tmp, (size_t)n));
    srv = sg_tls_handshake(s);
    sg_buf_reset(&wire);
    sg_tls_take_out(s, &wire);
    if (wire.len > 0)
      ASSERT_EQ((int)wire.len, BIO_write(c_in, wire.data, (int)wire.len));
  }
  ASSERT(cdone);
  ASSERT_OK(srv);
  ASSERT_STR_EQ("http/1.1", sg_tls_alpn(s));
  sg_buf_free(&wire);
  sg_tls_free(s);
  SSL_free(cl);
  SSL_CTX_free(raw);
  SSL_CTX_free(x.sctx);
  sg_free(ca);
  sg_free(cert);
  sg_free(key);
  sg_tls_test_dir_rm(dir);
}

/* A server that picks http/1.1 although the client offered h2. */
static int pick_http11(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg) {
  *out = (const unsigned char *)"http/1.1";
  *outlen = 8;
  return SSL_TLSEXT_ERR_OK;
}

static int pick_none(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                     const unsigned char *in, unsigned int inlen, void *arg) {
  return SSL_TLSEXT_ERR_NOACK;
}

static void t_alpn_required(void) {
  char *dir = sg_tls_test_dir_new("sg_tls_test");
  ASSERT_OK(sg_sbx_certgen_write(dir, NULL, 0));
  char *cert = sg_tls_test_path(dir, "server.pem");
  char *key = sg_tls_test_path(dir, "server-key.pem");
  ctxs x;
  ctxs_make(&x, dir, cert, key, SG_TLS_ALPN_ALLOW_HTTP11);
  SSL_CTX_set_alpn_select_cb(x.sctx, pick_http11, NULL);
  pair p;
  int crv, srv;
  pair_handshake(&p, &x, "localhost", &crv, &srv);
  ASSERT_OK(crv); /* http/1.1 allowed by this client */
  ASSERT_STR_EQ("http/1.1", sg_tls_alpn(p.c));
  pair_free(&p);
  SSL_CTX_free(x.cctx);

  /* The default client requires h2: a server that selects no ALPN fails it. */
  SSL_CTX_set_alpn_select_cb(x.sctx, pick_none, NULL);
  char *ca = sg_tls_test_path(dir, "ca.pem");
  ASSERT_OK(sg_tls_ctx_client_new(&x.cctx, ca));
  pair_handshake(&p, &x, "localhost", &crv, &srv);
  ASSERT_EQ(SG_ERR_ALPN, crv);
  ASSERT(strstr(sg_tls_error_detail(p.c), "not \"h2\"") != NULL);
  pair_free(&p);
  ctxs_free(&x);
  sg_free(ca);
  sg_free(cert);
  sg_free(key);
  sg_tls_test_dir_rm(dir);
}

static void t_wrong_host(void) {
  ctxs x;
  char *dir = certs_dir(&x);
  pair p;
  int crv, srv;
  pair_handshake(&p, &x, "graph.microsoft.com", &crv, &srv);
  ASSERT_EQ(SG_ERR_TLS_VERIFY, crv);
  ASSERT(strstr(sg_tls_error_detail(p.c), "hostname mismatch") != NULL);
  ASSERT_EQ(SG_ERR_TLS, srv); /* the client's alert ends the server's handshake */
  ASSERT(!sg_tls_handshake_done(p.s));
  pair_free(&p);

  /* A leaf made for another name by the same (trusted) CA. */
  char *ca = sg_tls_test_path(dir, "ca.pem"), *cakey = sg_tls_test_path(dir, "ca-key.pem");
  char *cert = sg_tls_test_path(dir, "other.pem"), *key = sg_tls_test_path(dir, "other-key.pem");
  const char *names[] = {"other.test"};
  ASSERT_OK(sg_sbx_certgen_leaf(ca, cakey, names, 1, cert, key));
  ctxs y;
  ctxs_make(&y, dir, cert, key, 0);
  pair_handshake(&p, &y, "localhost", &crv, &srv);
  ASSERT_EQ(SG_ERR_TLS_VERIFY, crv);
  pair_free(&p);
  pair_handshake(&p, &y, "other.test", &crv, &srv);
  ASSERT_OK(crv);
  ASSERT_OK(srv);
  pair_free(&p);
  ctxs_free(&y);
  ctxs_free(&x);
  sg_free(ca);
  sg_free(cakey);
  sg_free(cert);
  sg_free(key);
  sg_tls_test_dir_rm(dir);
}

static void t_untrusted_ca(void) {
  char *trusted = sg_tls_test_dir_new("sg_tls_test");
  char *other = sg_tls_test_dir_new("sg_tls_test");
  ASSERT_OK(sg_sbx_certgen_write(trusted, NULL, 0));
  ASSERT_OK(sg_sbx_certgen_write(other, NULL, 0));
  ctxs x;
  ctxs_make_dir(&x, trusted, other);
  pair p;
  int crv, srv;
  pair_handshake(&p, &x, "localhost", &crv, &srv);
  ASSERT_EQ(SG_ERR_TLS_VERIFY, crv);
  ASSERT(strstr(sg_tls_error_detail(p.c), "certificate verify failed") != NULL);
  pair_free(&p);
  ctxs_free(&x);
  sg_tls_test_dir_rm(trusted);
  sg_tls_test_dir_rm(other);
}

static void t_ip_literal(void) {
  ctxs x;
  char *dir = certs_dir(&x);
  const char *good[] = {"127.0.0.1", "::1"};
  for (size_t i = 0; i < SG_ARRAY_LEN(good); i++) {
    pair p;
    int crv, srv;
    pair_handshake(&p, &x, good[i], &crv, &srv);
    ASSERT_OK(crv);
    ASSERT_OK(srv);
    transfer(&p, p.c, p.s, 10, 5);
    pair_free(&p);
  }
  pair p;
  int crv, srv;
  pair_handshake(&p, &x, "127.0.0.2", &crv, &srv);
  ASSERT_EQ(SG_ERR_TLS_VERIFY, crv);
  ASSERT(strstr(sg_tls_error_detail(p.c), "IP address mismatch") != NULL);
  pair_free(&p);
  ctxs_free(&x);
  sg_tls_test_dir_rm(dir);
}

static void t_ctx_roles(void) {
  ctxs x;
  char *dir = certs_dir(&x);
  sg_tls *t = NULL;
  ASSERT_EQ(SG_ERR_INVAL, sg_tls_new(&t, x.cctx, NULL)); /* a client needs a name */
  ASSERT_EQ(SG_ERR_INVAL, sg_tls_new(&t, x.cctx, ""));
  ASSERT_EQ(SG_ERR_INVAL, sg_tls_new(&t, x.sctx, "localhost"));
  SSL_CTX *foreign = SSL_CTX_new(TLS_client_method());
  ASSERT_EQ(SG_ERR_INVAL, sg_tls_new(&t, foreign, "localhost"));
  ASSERT_NULL(t);
  SSL_CTX_free(foreign);
  SSL_CTX *bad = NULL;
  ASSERT_EQ(SG_ERR_CONFIG, sg_tls_ctx_client_new(&bad, "/nonexistent/ca.pem"));
  ASSERT_NULL(bad);
  char *ca = sg_tls_test_path(dir, "ca.pem"), *key = sg_tls_test_path(dir, "server-key.pem");
  ASSERT_EQ(SG_ERR_CONFIG, sg_tls_ctx_server_new(&bad, ca, key)); /* key does not match */
  ASSERT_NULL(bad);
  sg_free(ca);
  sg_free(key);
  ctxs_free(&x);
  sg_tls_test_dir_rm(dir);
}

static void t_certgen_files(void) {
  char *dir = sg_tls_test_dir_new("sg_tls_test");
  const char *bad1[] = {"a b"}, *bad2[] = {""}, *bad3[] = {"x,IP:1.2.3.4"};
  ASSERT_EQ(SG_ERR_INVAL, sg_sbx_certgen_write(dir, bad1, 1));
  ASSERT_EQ(SG_ERR_INVAL, sg_sbx_certgen_write(dir, bad2, 1));
  ASSERT_EQ(SG_ERR_INVAL, sg_sbx_certgen_write(dir, bad3, 1));
  bool created = false;
  ASSERT_OK(sg_sbx_certgen_ensure(dir, NULL, 0, &created));
  ASSERT(created);
  struct stat st;
  const char *keys[] = {"ca-key.pem", "server-key.pem"};
  for (size_t i = 0; i < 2; i++) {
    char *p = sg_tls_test_path(dir, keys[i]);
    ASSERT_OK(stat(p, &st));
    ASSERT_EQ(0600, st.st_mode & 0777);
    sg_free(p);
  }
  char *srv = sg_tls_test_path(dir, "server.pem");
  ASSERT_OK(stat(srv, &st));
  time_t mtime = st.st_mtime;
  ino_t ino = st.st_ino;
  ASSERT_OK(sg_sbx_certgen_ensure(dir, NULL, 0, &created));
  ASSERT(!created);
  ASSERT_OK(stat(srv, &st));
  ASSERT_EQ(ino, st.st_ino); /* untouched */
  ASSERT_EQ(mtime, st.st_mtime);

  /* server.pem holds the leaf then the CA, and the leaf carries what we asked. */
  FILE *f = fopen(srv, "r");
  ASSERT_NOT_NULL(f);
  X509 *leaf = PEM_read_X509(f, NULL, NULL, NULL);
  X509 *ca = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  ASSERT_NOT_NULL(leaf);
  ASSERT_NOT_NULL(ca);
  ASSERT_EQ(1, X509_check_host(leaf, "localhost", 0, 0, NULL));
  ASSERT_EQ(1, X509_check_ip_asc(leaf, "::1", 0));
  ASSERT_EQ(0, X509_check_ca(leaf));
  ASSERT_GT(X509_check_ca(ca), 0);
  ASSERT(X509_get_extended_key_usage(leaf) & XKU_SSL_SERVER);
  ASSERT_EQ(X509_V_OK, X509_check_issued(ca, leaf));
  ASSERT_EQ(1, X509_verify(leaf, X509_get0_pubkey(ca)));
  X509_free(leaf);
  X509_free(ca);
  sg_free(srv);
  sg_tls_test_dir_rm(dir);
}

SG_TESTS({"roundtrip", t_roundtrip}, {"alpn_http11", t_alpn_http11},
         {"alpn_required", t_alpn_required}, {"wrong_host", t_wrong_host},
         {"untrusted_ca", t_untrusted_ca}, {"ip_literal", t_ip_literal}, {"ctx_roles", t_ctx_roles},
         {"certgen_files", t_certgen_files})
