/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for the HTTP server (httpd/): the server runs on 127.0.0.1:0 in this
 * process's uv loop, with a CA made at test time (sg_sbx_certgen), and real
 * clients (curl, nghttp) are run with uv_spawn on the same loop. Covers
 * HTTP/2 over TLS, HTTP/1.1 over TLS, h2c prior knowledge, cleartext HTTP/1.1,
 * multi-MB bodies, chunked uploads, delayed responses, reset, GOAWAY, drop,
 * 413 over the body limit and requests that outlive their connection.
 */
#include "harness.h"
#include "proc_test_run.h"

#include <fcntl.h>
#include <signal.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "core/sg_mem.h"
#include "core/sg_rand.h"
#include "httpd/sg_httpd.h"
#include "net/sg_tls.h"
#include "sandbox/sg_sbx_certgen.h"

/* Each client run must finish well within this. */
#define CLIENT_TIMEOUT_MS 30000
#define MAX_BODY (8u * 1024 * 1024)

static char g_dir[256]; /* temp dir: certificates and client output files */

typedef struct fx {
  uv_loop_t loop;
  SSL_CTX *ctx;
  sg_httpd *srv;
  uint16_t port;
  bool closed;
  /* what the handler saw */
  int requests;
  bool last_alive;
  int last_respond_rv;
  int delayed_done;
  char last_peer[64];
} fx;

typedef struct delayed {
  uv_timer_t t;
  sg_httpd_req *req;
  fx *f;
} delayed;

/* ---- handler ---- */

static const char *query_val(const char *path, const char *key) {
  const char *q = strchr(path, '?');
  size_t kl = strlen(key);
  while (q) {
    q++;
    if (strncmp(q, key, kl) == 0 && q[kl] == '=')
      return q + kl + 1;
    q = strchr(q, '&');
  }
  return NULL;
}

static void on_delay_close(uv_handle_t *h) {
  sg_free(h->data);
}

static void on_delay(uv_timer_t *t) {
  delayed *d = t->data;
  d->f->last_alive = sg_httpd_req_alive(d->req);
  sg_http_header h = sg_http_hdr("content-type", "text/plain");
  d->f->last_respond_rv = sg_httpd_respond(d->req, 200, &h, 1, "delayed", 7);
  d->f->delayed_done++;
  t->data = d;
  uv_close((uv_handle_t *)t, on_delay_close);
}

static void handler(sg_httpd_req *req, void *ud) {
  fx *f = ud;
  f->requests++;
  snprintf(f->last_peer, sizeof f->last_peer, "%s", req->peer);
  const char *p = req->path;
  if (strncmp(p, "/echo", 5) == 0) {
    char proto[2] = {(char)('0' + req->protocol), 0};
    const sg_http_header *foo = sg_http_find(req->headers, req->nheaders, "x-foo");
    char foo_v[64] = "";
    if (foo)
      snprintf(foo_v, sizeof foo_v, "%.*s", (int)foo->value_len, foo->value);
    sg_http_header h[] = {
        sg_http_hdr("Content-Type", "application/octet-stream"),
        sg_http_hdr("x-method", req->method),
        sg_http_hdr("x-path", req->path),
        sg_http_hdr("x-proto", proto),
        sg_http_hdr("x-scheme", req->scheme),
        sg_http_hdr("x-authority", req->authority),
        sg_http_hdr("x-foo-echo", foo_v),
    };
    ASSERT_OK(sg_httpd_respond(req, 200, h, SG_ARRAY_LEN(h), req->body, req->body_len));
  } else if (strncmp(p, "/delay", 6) == 0) {
    const char *ms = query_val(p, "ms");
    delayed *d = sg_xcalloc(1, sizeof *d);
    d->req = req;
    d->f = f;
    uv_timer_init(&f->loop, &d->t);
    d->t.data = d;
    uv_timer_start(&d->t, on_delay, ms ? (uint64_t)atoi(ms) : 100, 0);
  } else if (strcmp(p, "/reset") == 0) {
    sg_httpd_reset(req, NGHTTP2_INTERNAL_ERROR);
  } else if (strcmp(p, "/drop") == 0) {
    sg_httpd_drop(req);
  } else if (strcmp(p, "/goaway") == 0) {
    sg_httpd_goaway_after(req);
    ASSERT_OK(sg_httpd_respond(req, 200, NULL, 0, "bye", 3));
  } else {
    static const char msg[] = "{\"error\":\"not found\"}";
    sg_http_header h = sg_http_hdr("content-type", "application/json");
    ASSERT_OK(sg_httpd_respond(req, 404, &h, 1, msg, sizeof msg - 1));
  }
}

/* ---- fixture ---- */

static void make_certs(void) {
  if (g_dir[0])
    return;
  snprintf(g_dir, sizeof g_dir, "/tmp/sg_test_httpd_XXXXXX");
  ASSERT_NOT_NULL(mkdtemp(g_dir));
  ASSERT_OK(sg_sbx_certgen_write(g_dir, NULL, 0));
}

static void path_in(char *out, size_t cap, const char *name) {
  snprintf(out, cap, "%s/%s", g_dir, name);
}

static void fx_start(fx *f, bool tls) {
  memset(f, 0, sizeof *f);
  signal(SIGPIPE, SIG_IGN); /* as every server binary does: a peer may vanish mid-write */
  make_certs();
  ASSERT_OK(uv_loop_init(&f->loop));
  if (tls) {
    char cert[300], key[300];
    path_in(cert, sizeof cert, "server.pem");
    path_in(key, sizeof key, "server-key.pem");
    ASSERT_OK(sg_tls_ctx_server_new(&f->ctx, cert, key));
  }
  sg_httpd_settings s;
  sg_httpd_settings_default(&s);
  s.max_body = MAX_BODY;
  ASSERT_OK(sg_httpd_new(&f->srv, &f->loop, "127.0.0.1", 0, f->ctx, &s, handler, f));
  f->port = sg_httpd_port(f->srv);
  ASSERT_GT(f->port, 0);
}

static void on_closed(void *ud) {
  ((fx *)ud)->closed = true;
}

static void fx_stop(fx *f) {
  sg_httpd_close(f->srv, on_closed);
  for (int i = 0; i < 1000 && !f->closed; i++)
    uv_run(&f->loop, UV_RUN_ONCE);
  ASSERT(f->closed);
  uv_run(&f->loop, UV_RUN_DEFAULT); /* remaining close callbacks (timers) */
  ASSERT_OK(uv_loop_close(&f->loop));
  if (f->ctx)
    SSL_CTX_free(f->ctx);
}

/* ---- running a client ---- */

/* Runs argv with stdout to |out| (file under g_dir, may be NULL); returns the exit code. */
static int run_client(fx *f, const char *const *argv, const char *out) {
  char outp[300], errp[300];
  path_in(outp, sizeof outp, out ? out : "stdout.txt");
  path_in(errp, sizeof errp, "stderr.txt");
  return sg_test_run_client(&f->loop, argv, outp, errp, CLIENT_TIMEOUT_MS);
}

static char *slurp(const char *name, size_t *len) {
  char p[300];
  path_in(p, sizeof p, name);
  FILE *fp = fopen(p, "rb");
  ASSERT_NOT_NULL(fp);
  sg_buf b = SG_BUF_INIT;
  char tmp[65536];
  size_t n;
  while ((n = fread(tmp, 1, sizeof tmp, fp)) > 0)
    sg_buf_append(&b, tmp, n);
  fclose(fp);
  if (len)
    *len = b.len;
  if (b.data == NULL)
    sg_buf_append(&b, "", 0);
  return b.data;
}

/* Writes |n| bytes of a deterministic pattern to |name| under g_dir. */
static void make_file(const char *name, size_t n) {
  char p[300];
  path_in(p, sizeof p, name);
  FILE *fp = fopen(p, "wb");
  ASSERT_NOT_NULL(fp);
  uint64_t x = 2463534242u;
  for (size_t i = 0; i < n; i++)
    fputc((int)(sg_rand_next(&x) & 0xff), fp);
  fclose(fp);
}

static void assert_same_file(const char *a, const char *b) {
  size_t la, lb;
  char *pa = slurp(a, &la), *pb = slurp(b, &lb);
  ASSERT_EQ(la, lb);
  ASSERT_MEM_EQ(pa, pb, la);
  sg_free(pa);
  sg_free(pb);
}

static bool file_has(const char *name, const char *needle) {
  char *s = slurp(name, NULL);
  bool found = strstr(s, needle) != NULL;
  sg_free(s);
  return found;
}

/* argv for curl with the usual options; |extra| NULL-terminated. */
typedef struct argv_b {
  const char *v[40];
  int n;
  char bufs[8][320];
  int nb;
} argv_b;

static void av(argv_b *a, const char *s) {
  ASSERT_LT(a->n, 39);
  a->v[a->n++] = s;
  a->v[a->n] = NULL;
}

/* "<prefix><g_dir>/<name>", kept in |a|. */
static const char *avf(argv_b *a, const char *prefix, const char *name) {
  ASSERT_LT(a->nb, 8);
  char *b = a->bufs[a->nb++];
  snprintf(b, 320, "%s%s/%s", prefix, g_dir, name);
  return b;
}

static void curl_base(argv_b *a, fx *f, const char *proto_flag) {
  memset(a, 0, sizeof *a);
  av(a, "/usr/bin/curl");
  av(a, "-sS");
  av(a, proto_flag);
  if (f->ctx)
    av(a, "--cacert"), av(a, avf(a, "", "ca.pem"));
  av(a, "-D");
  av(a, avf(a, "", "headers.txt"));
  av(a, "-w");
  av(a, "%{http_code} %{http_version}\n");
}

static const char *url(argv_b *a, fx *f, const char *path) {
  ASSERT_LT(a->nb, 8);
  char *b = a->bufs[a->nb++];
  snprintf(b, 320, "%s://127.0.0.1:%u%s", f->ctx ? "https" : "http", f->port, path);
  return b;
}

/* ---- cases ---- */

static void check_echo(fx *f, const char *proto_flag, const char *want) {
  argv_b a;
  curl_base(&a, f, proto_flag);
  av(&a, "-H"), av(&a, "X-Foo: bar baz");
  av(&a, "--data-binary"), av(&a, "hello world");
  av(&a, "-o"), av(&a, avf(&a, "", "body.txt"));
  av(&a, url(&a, f, "/echo?q=1"));
  ASSERT_EQ(0, run_client(f, a.v, "out.txt"));
  ASSERT(file_has("out.txt", want));
  char *body = slurp("body.txt", NULL);
  ASSERT_STR_EQ("hello world", body);
  sg_free(body);
  ASSERT(file_has("headers.txt", "x-method: POST"));
  ASSERT(file_has("headers.txt", "x-path: /echo?q=1"));
  ASSERT(file_has("headers.txt", "x-foo-echo: bar baz"));
  ASSERT(file_has("headers.txt", "content-type: application/octet-stream"));
  ASSERT(file_has("headers.txt", "content-length: 11"));
  ASSERT(file_has("headers.txt", f->ctx ? "x-scheme: https" : "x-scheme: http"));
  char auth[64];
  snprintf(auth, sizeof auth, "x-authority: 127.0.0.1:%u", f->port);
  ASSERT(file_has("headers.txt", auth));
  ASSERT(strncmp(f->last_peer, "127.0.0.1:", 10) == 0);
}

static void t_tls_h2_and_h1(void) {
  fx f;
  fx_start(&f, true);
  check_echo(&f, "--http2", "200 2\n");
  ASSERT(file_has("headers.txt", "x-proto: 2"));
  check_echo(&f, "--http1.1", "200 1.1\n");
  ASSERT(file_has("headers.txt", "x-proto: 1"));
  /* 404 with a JSON body, GET. */
  argv_b a;
  curl_base(&a, &f, "--http2");
  av(&a, url(&a, &f, "/nope"));
  ASSERT_EQ(0, run_client(&f, a.v, "out.txt"));
  ASSERT(file_has("out.txt", "{\"error\":\"not found\"}404 2\n"));
  sg_httpd_stats st;
  sg_httpd_get_stats(f.srv, &st);
  ASSERT_EQ(3, st.requests_total);
  ASSERT_EQ(3, st.conns_total);
  fx_stop(&f);
}

static void t_cleartext(void) {
  fx f;
  fx_start(&f, false);
  check_echo(&f, "--http2-prior-knowledge", "200 2\n");
  ASSERT(file_has("headers.txt", "x-proto: 2"));
  check_echo(&f, "--http1.1", "200 1.1\n");
  ASSERT(file_has("headers.txt", "x-proto: 1"));
  /* Keep-alive: two URLs on one curl run share a connection. */
  argv_b a;
  curl_base(&a, &f, "--http1.1");
  av(&a, url(&a, &f, "/echo"));
  av(&a, url(&a, &f, "/echo"));
  sg_httpd_stats before, after;
  sg_httpd_get_stats(f.srv, &before);
  ASSERT_EQ(0, run_client(&f, a.v, "out.txt"));
  sg_httpd_get_stats(f.srv, &after);
  ASSERT_EQ(2, after.requests_total - before.requests_total);
  ASSERT_EQ(1, after.conns_total - before.conns_total);
  fx_stop(&f);
}

static void big_roundtrip(fx *f, const char *proto_flag, bool chunked) {
  argv_b a;
  curl_base(&a, f, proto_flag);
  if (chunked)
    av(&a, "-H"), av(&a, "Transfer-Encoding: chunked");
  av(&a, "--data-binary"), av(&a, avf(&a, "@", "big.bin"));
  av(&a, "-o"), av(&a, avf(&a, "", "big.out"));
  av(&a, url(&a, f, "/echo"));
  ASSERT_EQ(0, run_client(f, a.v, "out.txt"));
  ASSERT(file_has("out.txt", "200 "));
  assert_same_file("big.bin", "big.out");
}

static void t_big_bodies(void) {
  fx f;
  fx_start(&f, true);
  make_file("big.bin", 5u * 1024 * 1024 + 12345);
  big_roundtrip(&f, "--http2", false);
  big_roundtrip(&f, "--http1.1", false);
  big_roundtrip(&f, "--http1.1", true);
  fx_stop(&f);
}

static void too_big(fx *f, const char *proto_flag) {
  argv_b a;
  curl_base(&a, f, proto_flag);
  av(&a, "--data-binary"), av(&a, avf(&a, "@", "huge.bin"));
  av(&a, url(&a, f, "/echo"));
  int before = f->requests;
  int rv = run_client(f, a.v, "out.txt");
  /* curl may see the reset of the upload after the response; the status counts. */
  if (rv != 0 && rv != 55 && rv != 92)
    SG_FAIL_("curl exit %d", rv);
  ASSERT(file_has("out.txt", "RequestEntityTooLarge"));
  ASSERT(file_has("out.txt", "413 "));
  ASSERT_EQ(before, f->requests); /* the handler never saw it */
}

static void t_413(void) {
  fx f;
  fx_start(&f, true);
  make_file("huge.bin", MAX_BODY + 4096);
  too_big(&f, "--http2");
  too_big(&f, "--http1.1");
  /* nghttp with an upload far longer than the limit: the 413 arrives, and after
   * the client has pushed one more stream window (16 MB) the server stops the
   * upload with RST_STREAM. The client can have at most one more window in
   * flight by then, so with 40 MB over the limit the RST always comes first. */
  make_file("giant.bin", MAX_BODY + 40u * 1024 * 1024);
  char u[200], data[300];
  snprintf(u, sizeof u, "https://127.0.0.1:%u/echo", f.port);
  snprintf(data, sizeof data, "%s/giant.bin", g_dir);
  const char *argv[] = {"/usr/bin/nghttp", "-v", "-d", data, u, NULL};
  run_client(&f, argv, "nghttp.txt");
  ASSERT(file_has("nghttp.txt", ":status: 413"));
  ASSERT(file_has("nghttp.txt", "recv RST_STREAM frame"));
  sg_httpd_stats st;
  sg_httpd_get_stats(f.srv, &st);
  ASSERT_EQ(3, st.too_big);
  fx_stop(&f);
}

static void t_delay_reset_drop(void) {
  fx f;
  fx_start(&f, true);
  /* Delayed response from a timer. */
  argv_b a;
  curl_base(&a, &f, "--http2");
  av(&a, url(&a, &f, "/delay?ms=300"));
  uint64_t t0 = uv_hrtime();
  ASSERT_EQ(0, run_client(&f, a.v, "out.txt"));
  ASSERT_GE((uv_hrtime() - t0) / 1000000, 290);
  ASSERT(file_has("out.txt", "delayed200 2\n"));
  ASSERT(f.last_alive);
  ASSERT_EQ(0, f.last_respond_rv);
  /* The client gives up before the response: the request outlives the stream. */
  curl_base(&a, &f, "--http2");
  av(&a, "--max-time"), av(&a, "0.3");
  av(&a, url(&a, &f, "/delay?ms=800"));
  ASSERT_EQ(28, run_client(&f, a.v, "out.txt"));
  int done = f.delayed_done;
  for (int i = 0; i < 100000 && f.delayed_done == done; i++)
    uv_run(&f.loop, UV_RUN_ONCE);
  ASSERT(!f.last_alive);
  ASSERT_NE(0, f.last_respond_rv);
  /* Reset: curl reports an HTTP/2 stream error. */
  curl_base(&a, &f, "--http2");
  av(&a, url(&a, &f, "/reset"));
  ASSERT_EQ(92, run_client(&f, a.v, "out.txt"));
  /* HTTP/1.1 reset and drop close the connection without a response. */
  curl_base(&a, &f, "--http1.1");
  av(&a, url(&a, &f, "/reset"));
  ASSERT_EQ(52, run_client(&f, a.v, "out.txt"));
  curl_base(&a, &f, "--http1.1");
  av(&a, url(&a, &f, "/drop"));
  ASSERT_EQ(52, run_client(&f, a.v, "out.txt"));
  curl_base(&a, &f, "--http2");
  av(&a, url(&a, &f, "/drop"));
  ASSERT_NE(0, run_client(&f, a.v, "out.txt"));
  ASSERT(!file_has("out.txt", "200"));
  fx_stop(&f);
}

static void t_goaway(void) {
  fx f;
  fx_start(&f, true);
  char u[200];
  snprintf(u, sizeof u, "https://127.0.0.1:%u/goaway", f.port);
  const char *argv[] = {"/usr/bin/nghttp", "-v", u, NULL};
  ASSERT_EQ(0, run_client(&f, argv, "nghttp.txt"));
  ASSERT(file_has("nghttp.txt", ":status: 200"));
  ASSERT(file_has("nghttp.txt", "recv GOAWAY frame"));
  ASSERT(file_has("nghttp.txt", "error_code=NO_ERROR(0x00)"));
  ASSERT(file_has("nghttp.txt", "last_stream_id=13") ||
         file_has("nghttp.txt", "last_stream_id=1,"));
  /* nghttp with an uploaded body, checks the echoed length. */
  make_file("small.bin", 100000);
  char data[300];
  snprintf(data, sizeof data, "%s/small.bin", g_dir);
  snprintf(u, sizeof u, "https://127.0.0.1:%u/echo", f.port);
  const char *argv2[] = {"/usr/bin/nghttp", "-v", "-d", data, u, NULL};
  ASSERT_EQ(0, run_client(&f, argv2, "nghttp.txt"));
  ASSERT(file_has("nghttp.txt", "content-length: 100000"));
  ASSERT(file_has("nghttp.txt", "x-proto: 2"));
  /* HTTP/1.1 goaway is Connection: close. */
  argv_b a;
  curl_base(&a, &f, "--http1.1");
  av(&a, url(&a, &f, "/goaway"));
  ASSERT_EQ(0, run_client(&f, a.v, "out.txt"));
  ASSERT(file_has("headers.txt", "connection: close"));
  ASSERT(file_has("out.txt", "bye200 1.1"));
  fx_stop(&f);
}

static void cleanup(void) {
  if (!g_dir[0])
    return;
  static const char *files[] = {"ca.pem",     "ca-key.pem", "server.pem", "server-key.pem",
                                "stdout.txt", "stderr.txt", "out.txt",    "headers.txt",
                                "body.txt",   "big.bin",    "big.out",    "huge.bin",
                                "giant.bin",  "small.bin",  "nghttp.txt"};
  for (size_t i = 0; i < SG_ARRAY_LEN(files); i++) {
    char p[300];
    path_in(p, sizeof p, files[i]);
    unlink(p);
  }
  rmdir(g_dir);
}

static void t_cleanup(void) {
  cleanup();
}

SG_TESTS({"tls_h2_and_h1", t_tls_h2_and_h1}, {"cleartext", t_cleartext},
         {"big_bodies", t_big_bodies}, {"413", t_413}, {"delay_reset_drop", t_delay_reset_drop},
         {"goaway", t_goaway}, {"cleanup", t_cleanup})
