/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for h2/: the pure request/response object and backoff, then the pool
 * against real servers: nghttpd (TLS, cert made by sg_sbx_certgen at test time,
 * a docroot served for GET and POST) for concurrency limits, TLS verify
 * failure, deadlines, server death and restart. GOAWAY, REFUSED_STREAM and
 * in-flight deadlines are in test_h2_faults.c.
 */
#include "harness.h"
#include "h2_test_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "core/sg_turn.h"
#include "h2/sg_h2_pool.h"
#include "h2/sg_h2_req.h"
#include "net/sg_tls.h"
#include "sandbox/sg_sbx_certgen.h"

/* ---------------------------------------------------------------- pure */

static void t_req_build(void) {
  sg_h2_req r;
  memset(&r, 0, sizeof r);
  sg_h2_req_init(&r);
  sg_http_header hs[] = {sg_http_hdr("Content-Type", "application/json"),
                         sg_http_hdr("Connection", "keep-alive"), sg_http_hdr("Host", "x"),
                         sg_http_hdr("Authorization", "Bearer t"),
                         sg_http_hdr("client-request-id", "0b1c")};
  sg_h2_request in = {.method = "POST",
                      .path = "/v1.0/users/a/sendMail",
                      .headers = hs,
                      .n_headers = 5,
                      .body = "{}",
                      .body_len = 2};
  ASSERT_OK(sg_h2_req_build(&r, &in, "https", "graph.example:443"));
  const nghttp2_nv *nv = sg_h2_req_nv(&r);
  ASSERT_EQ(8, r.n_nv); /* 4 pseudo + content-type, authorization, client-request-id, length */
  ASSERT_STR_EQ(":method", (const char *)nv[0].name);
  ASSERT_STR_EQ("POST", (const char *)nv[0].value);
  ASSERT_STR_EQ("https", (const char *)nv[1].value);
  ASSERT_STR_EQ("graph.example:443", (const char *)nv[2].value);
  ASSERT_STR_EQ("/v1.0/users/a/sendMail", (const char *)nv[3].value);
  ASSERT_STR_EQ("content-type", (const char *)nv[4].name);
  ASSERT_STR_EQ("authorization", (const char *)nv[5].name);
  ASSERT(nv[5].flags & NGHTTP2_NV_FLAG_NO_INDEX); /* a credential */
  ASSERT_STR_EQ("client-request-id", (const char *)nv[6].name);
  ASSERT(nv[6].flags & NGHTTP2_NV_FLAG_NO_INDEX);    /* new on every request */
  ASSERT(!(nv[4].flags & NGHTTP2_NV_FLAG_NO_INDEX)); /* content-type repeats: indexed */
  ASSERT_STR_EQ("content-length", (const char *)nv[7].name);
  ASSERT_STR_EQ("2", (const char *)nv[7].value);
  /* Only A-Z are lower-cased (their neighbours and bytes over 0x7f are not). */
  sg_http_header odd = sg_http_hdr("X-@AZ[`az{\xc1\xda", "v");
  in.headers = &odd;
  in.n_headers = 1;
  ASSERT_OK(sg_h2_req_build(&r, &in, "https", "graph.example:443"));
  ASSERT_STR_EQ("x-@az[`az{\xc1\xda", (const char *)sg_h2_req_nv(&r)[4].name);
  in.headers = hs;
  in.n_headers = 5;
  in.authority = "other:1";
  in.method = "GET";
  in.body = NULL;
  in.body_len = 0;
  in.n_headers = 1;
  ASSERT_OK(sg_h2_req_build(&r, &in, "http", "d"));
  ASSERT_EQ(5, r.n_nv);
  ASSERT_STR_EQ("other:1", (const char *)sg_h2_req_nv(&r)[2].value);
  /* Rejected: lower-case method, relative path, CR/LF in values, pseudo names. */
  in.method = "get";
  ASSERT_EQ(SG_ERR_INVAL, sg_h2_req_build(&r, &in, "http", "d"));
  in.method = "GET";
  in.path = "x";
  ASSERT_EQ(SG_ERR_INVAL, sg_h2_req_build(&r, &in, "http", "d"));
  in.path = "/";
  sg_http_header bad = sg_http_hdr("x-a", "a\r\nb: c");
  in.headers = &bad;
  ASSERT_EQ(SG_ERR_INVAL, sg_h2_req_build(&r, &in, "http", "d"));
  bad = sg_http_hdr(":path", "/");
  ASSERT_EQ(SG_ERR_INVAL, sg_h2_req_build(&r, &in, "http", "d"));
  /* CR, LF or NUL at any place of a short or long value or name (the vector
   * blocks, their tails, the memchr scans). */
  static char buf[300];
  for (size_t n = 1; n < sizeof buf; n += (n < 40 ? 1 : 37)) {
    for (size_t at = 0; at < n; at += (n < 40 ? 1 : 7)) {
      memset(buf, 'v', n);
      bad = (sg_http_header){"x-a", 3, buf, n};
      ASSERT_OK(sg_h2_req_build(&r, &in, "http", "d"));
      for (int k = 0; k < 3; k++) {
        buf[at] = "\r\n"[k];
        ASSERT_EQ(SG_ERR_INVAL, sg_h2_req_build(&r, &in, "http", "d"));
        bad = (sg_http_header){buf, n, "v", 1};
        ASSERT_EQ(SG_ERR_INVAL, sg_h2_req_build(&r, &in, "http", "d"));
        bad = (sg_http_header){"x-a", 3, buf, n};
      }
    }
  }
  sg_h2_req_release(&r);
}

static void t_req_response(void) {
  sg_h2_req r;
  memset(&r, 0, sizeof r);
  sg_h2_req_init(&r);
#define H(r, n, v)                                                                                 \
  sg_h2_req_on_header(r, (const uint8_t *)n, strlen(n), (const uint8_t *)v, strlen(v))
  ASSERT_OK(H(&r, ":status", "100"));
  ASSERT_OK(H(&r, "x-interim", "1"));
  ASSERT_OK(H(&r, ":status", "202"));
  ASSERT_OK(H(&r, "request-id", "abc"));
  ASSERT_EQ(SG_ERR_PARSE, H(&r, ":status", "2x2"));
  sg_h2_req_on_data(&r, (const uint8_t *)"0123456789", 10, 8);
  sg_h2_req_on_data(&r, (const uint8_t *)"z", 1, 8);
  sg_h2_response out;
  r.attempts = 2;
  sg_h2_req_response(&r, &out, NULL);
  ASSERT_EQ(202, out.status);
  ASSERT_EQ(1, out.n_headers); /* the 1xx header is gone */
  ASSERT_MEM_EQ("request-id", out.headers[0].name, 10);
  ASSERT_MEM_EQ("abc", out.headers[0].value, 3);
  ASSERT_EQ(8, out.body_len);
  ASSERT(out.body_truncated);
  ASSERT_EQ(2, out.attempts);
  ASSERT_STR_EQ("", out.detail);
  /* Header caps. */
  sg_h2_req_reset_response(&r);
  int rv = 0;
  for (unsigned i = 0; i <= SG_H2_MAX_RESP_HEADERS && rv == 0; i++)
    rv = H(&r, "x", "y");
  ASSERT_EQ(SG_ERR_TOOBIG, rv);
  sg_h2_req_reset_response(&r);
  static char big[SG_H2_MAX_RESP_HEADER_BYTES];
  memset(big, 'v', sizeof big - 1);
  ASSERT_EQ(SG_ERR_TOOBIG, H(&r, "x", big));
#undef H
  sg_h2_req_release(&r);
}

/* ------------------------------------------------------- test plumbing */

static char g_dir[64];
static char g_www[256], g_ca[256], g_other_ca[256], g_cert[256], g_key[256];
static pid_t g_pids[8];

static void cleanup(void) {
  for (size_t i = 0; i < SG_ARRAY_LEN(g_pids); i++)
    if (g_pids[i] > 0) {
      kill(g_pids[i], SIGKILL);
      waitpid(g_pids[i], NULL, 0);
      g_pids[i] = 0;
    }
  if (g_dir[0]) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
      fprintf(stderr, "could not remove %s\n", g_dir);
    g_dir[0] = '\0';
  }
}

/* A failed assertion abort()s, which skips atexit: clean up there too. */
static void on_abort(int sig) {
  cleanup();
  signal(sig, SIG_DFL);
  raise(sig);
}

static void write_file(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  ASSERT_NOT_NULL(f);
  ASSERT_EQ(n, fwrite(p, 1, n, f));
  fclose(f);
}

static void setup(void) {
  /* Writing to a peer that died raises SIGPIPE; libuv leaves that to the
   * application (the gateway's main ignores it too). */
  signal(SIGPIPE, SIG_IGN);
  if (g_dir[0])
    return;
  snprintf(g_dir, sizeof g_dir, "/tmp/sg_h2_test.XXXXXX");
  ASSERT_NOT_NULL(mkdtemp(g_dir));
  atexit(cleanup);
  signal(SIGABRT, on_abort);
  char pki[96], other[96];
  snprintf(pki, sizeof pki, "%s/pki", g_dir);
  snprintf(other, sizeof other, "%s/other", g_dir);
  ASSERT_OK(sg_sbx_certgen_write(pki, NULL, 0));
  ASSERT_OK(sg_sbx_certgen_write(other, NULL, 0));
  snprintf(g_ca, sizeof g_ca, "%s/ca.pem", pki);
  snprintf(g_cert, sizeof g_cert, "%s/server.pem", pki);
  snprintf(g_key, sizeof g_key, "%s/server-key.pem", pki);
  snprintf(g_other_ca, sizeof g_other_ca, "%s/ca.pem", other);
  snprintf(g_www, sizeof g_www, "%s/www", g_dir);
  ASSERT_OK(mkdir(g_www, 0700));
  char path[320];
  snprintf(path, sizeof path, "%s/hello.txt", g_www);
  write_file(path, "hello h2\n", 9);
  static char big[200000];
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (char)('a' + i % 26);
  snprintf(path, sizeof path, "%s/big.bin", g_www);
  write_file(path, big, sizeof big);
}

static uint16_t free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ASSERT_OK(bind(fd, (struct sockaddr *)&a, sizeof a));
  socklen_t len = sizeof a;
  ASSERT_OK(getsockname(fd, (struct sockaddr *)&a, &len));
  close(fd);
  return ntohs(a.sin_port);
}

static bool port_open(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {
      .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

static void msleep(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

typedef struct server {
  pid_t pid;
  uint16_t port;
  char log[320];
} server;

/* Starts nghttpd on 127.0.0.1:|port| and waits (bounded) until it listens. */
static void server_start(server *s, uint16_t port, int max_streams) {
  s->port = port;
  snprintf(s->log, sizeof s->log, "%s/nghttpd-%u.log", g_dir, (unsigned)port);
  char ports[8], ms[16];
  snprintf(ports, sizeof ports, "%u", (unsigned)port);
  snprintf(ms, sizeof ms, "%d", max_streams);
  pid_t pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed (aborted) test */
    int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    execlp("nghttpd", "nghttpd", "-v", "-a", "127.0.0.1", "-d", g_www, "-m", ms, ports, g_key,
           g_cert, (char *)NULL);
    _exit(127);
  }
  s->pid = pid;
  for (size_t i = 0; i < SG_ARRAY_LEN(g_pids); i++)
    if (g_pids[i] <= 0) {
      g_pids[i] = pid;
      break;
    }
  for (int i = 0; i < 500 && !port_open(port); i++) {
    ASSERT_EQ(0, waitpid(pid, NULL, WNOHANG)); /* still running */
    msleep(10);
  }
  ASSERT(port_open(port));
}

static void server_kill(server *s) {
  kill(s->pid, SIGKILL);
  waitpid(s->pid, NULL, 0);
  for (size_t i = 0; i < SG_ARRAY_LEN(g_pids); i++)
    if (g_pids[i] == s->pid)
      g_pids[i] = 0;
  s->pid = 0;
}

/* Counts request HEADERS frames nghttpd logged (-v). */
static int server_requests(const server *s) {
  FILE *f = fopen(s->log, "r");
  if (!f)
    return 0;
  char line[512];
  int n = 0;
  while (fgets(line, sizeof line, f))
    if (strstr(line, "recv HEADERS frame"))
      n++;
  fclose(f);
  return n;
}

static void close_all(uv_loop_t *loop, sg_h2_pool *p, SSL_CTX *ctx) {
  int closed = 0;
  sg_h2_pool_close(p, on_pool_closed, &closed);
  run_until(loop, &closed, 1, 5000);
  uv_run(loop, UV_RUN_DEFAULT);
  ASSERT_OK(uv_loop_close(loop));
  if (ctx)
    SSL_CTX_free(ctx);
}

static SSL_CTX *client_ctx(const char *ca) {
  SSL_CTX *ctx = NULL;
  ASSERT_OK(sg_tls_ctx_client_new(&ctx, ca));
  return ctx;
}

static sg_h2_request get(const char *path, uint64_t timeout_ms) {
  sg_h2_request r = {.method = "GET", .path = path, .timeout_ms = timeout_ms};
  return r;
}

/* ------------------------------------------------------ nghttpd tests */

#define N_MANY 400

static void t_many_concurrent(void) {
  setup();
  server s;
  server_start(&s, free_port(), 8);
  uv_loop_t loop;
  uv_loop_init(&loop);
  SSL_CTX *ctx = client_ctx(g_ca);
  sg_h2_pool_opts o;
  sg_h2_pool_opts_init(&o);
  o.max_conns = 3;
  o.initial_max_streams = 8;
  sg_h2_pool *p;
  ASSERT_OK(sg_h2_pool_new(&p, &loop, ctx, "127.0.0.1", s.port, &o));
  static result res[N_MANY];
  memset(res, 0, sizeof res);
  static char body[3000];
  memset(body, 'b', sizeof body);
  g_done = 0;
  for (int i = 0; i < N_MANY; i++) {
    sg_h2_request rq = get("/hello.txt", 20000);
    if (i % 2) {
      rq.method = "POST";
      rq.body = body;
      rq.body_len = sizeof body;
    }
    ASSERT_OK(sg_h2_pool_request(p, &rq, on_result, &res[i], NULL));
  }
  run_until(&loop, &g_done, N_MANY, 20000);
  for (int i = 0; i < N_MANY; i++) {
    ASSERT_EQ(1, res[i].done);
    if (res[i].err)
      fprintf(stderr, "request %d: %s (%s) status %d attempts %u\n", i, sg_err_name(res[i].err),
              res[i].detail, res[i].status, res[i].attempts);
    ASSERT_EQ(0, res[i].err);
    ASSERT_EQ(200, res[i].status);
    ASSERT_STR_EQ("hello h2\n", res[i].body);
    ASSERT_EQ(1, res[i].attempts);
  }
  sg_h2_pool_stats st;
  sg_h2_pool_get_stats(p, &st);
  ASSERT_EQ(N_MANY, st.completed);
  ASSERT_EQ(0, st.failed);
  ASSERT_LE(st.connects, 3);
  ASSERT_GE(st.connects, 1);
  ASSERT_LE(st.max_streams_seen, 8); /* nghttpd -m 8 */
  ASSERT_LE(sg_h2_pool_conns_open(p), 3);
  ASSERT_EQ(0, sg_h2_pool_streams_in_flight(p));
  ASSERT_EQ(N_MANY, server_requests(&s));
  /* Big response: kept up to the cap and flagged. */
  result big = {0};
  sg_h2_request rq = get("/big.bin", 5000);
  ASSERT_OK(sg_h2_pool_request(p, &rq, on_result, &big, NULL));
  run_until(&loop, &big.done, 1, 5000);
  ASSERT_EQ(0, big.err);
  ASSERT_EQ(200, big.status);
  ASSERT(big.truncated);
  ASSERT_EQ(64 * 1024, big.body_len);
  ASSERT_STR_EQ("abcdefghijklmnopqrstuvwxyzabcde", big.body);
  /* 404 is a response like any other. */
  result nf = {0};
  rq = get("/missing", 5000);
  ASSERT_OK(sg_h2_pool_request(p, &rq, on_result, &nf, NULL));
  run_until(&loop, &nf.done, 1, 5000);
  ASSERT_EQ(0, nf.err);
  ASSERT_EQ(404, nf.status);
  close_all(&loop, p, ctx);
  server_kill(&s);
}

/* A request queued by the admission stage of the loop's turn (as the
 * gateway's pump queues it) is dispatched onto a stream and written by the
 * later ranks of the same pass: a registrant that runs after SG_TURN_TLS in
 * that pass finds it on a stream, not still queued for a later loop turn. */
typedef struct run_now {
  sg_h2_pool *p;
  result res;
  sg_turn_reg admit, after; /* SG_TURN_ADMIT, SG_TURN_HTTPD (after TLS) */
  size_t queued_before, queued_after, streams_after;
  uint64_t pass_admit, pass_after;
  int ran;
} run_now;

static void on_after(sg_turn_reg *reg, void *ud) {
  run_now *r = ud;
  sg_h2_pool_stats st;
  sg_h2_pool_get_stats(r->p, &st);
  r->queued_after = st.queued;
  r->streams_after = st.streams_in_flight;
  sg_turn_stats ts;
  sg_turn_get_stats(reg, &ts);
  r->pass_after = ts.passes;
}

static void on_admit(sg_turn_reg *reg, void *ud) {
  run_now *r = ud;
  sg_h2_request rq = get("/hello.txt", 5000);
  ASSERT_OK(sg_h2_pool_request(r->p, &rq, on_result, &r->res, NULL));
  sg_h2_pool_stats st;
  sg_h2_pool_get_stats(r->p, &st);
  r->queued_before = st.queued;
  sg_turn_stats ts;
  sg_turn_get_stats(reg, &ts);
  r->pass_admit = ts.passes;
  sg_turn_want(&r->after);
  r->ran++;
}

static void t_run_now(void) {
  setup();
  server s;
  server_start(&s, free_port(), 100);
  uv_loop_t loop;
  uv_loop_init(&loop);
  SSL_CTX *ctx = client_ctx(g_ca);
  sg_h2_pool *p;
  ASSERT_OK(sg_h2_pool_new(&p, &loop, ctx, "127.0.0.1", s.port, NULL));
  result warm = {0};
  sg_h2_request rq = get("/hello.txt", 5000);
  ASSERT_OK(sg_h2_pool_request(p, &rq, on_result, &warm, NULL)); /* a connection is up */
  run_until(&loop, &warm.done, 1, 5000);
  ASSERT_EQ(200, warm.status);
  run_now r = {.p = p};
  ASSERT_OK(sg_turn_reg_init(&r.admit, &loop, SG_TURN_ADMIT, on_admit, &r));
  ASSERT_OK(sg_turn_reg_init(&r.after, &loop, SG_TURN_HTTPD, on_after, &r));
  sg_turn_want(&r.admit);
  run_until(&loop, &r.res.done, 1, 5000);
  ASSERT_EQ(1, r.ran);
  ASSERT_EQ(1, r.queued_before);         /* sg_h2_pool_request only queues */
  ASSERT_EQ(r.pass_admit, r.pass_after); /* the same pass, so the same loop turn */
  ASSERT_EQ(0, r.queued_after);          /* the pool dispatched it in that pass */
  ASSERT_EQ(1, r.streams_after);
  ASSERT_EQ(0, r.res.err);
  ASSERT_EQ(200, r.res.status);
  sg_turn_reg_remove(&r.admit);
  sg_turn_reg_remove(&r.after);
  close_all(&loop, p, ctx);
  server_kill(&s);
}

static void t_tls_verify(void) {
  setup();
  server s;
  server_start(&s, free_port(), 100);
  uv_loop_t loop;
  uv_loop_init(&loop);
  SSL_CTX *ctx = client_ctx(g_other_ca); /* trusts a different CA */
  sg_h2_pool *p;
  ASSERT_OK(sg_h2_pool_new(&p, &loop, ctx, "127.0.0.1", s.port, NULL));
  result res[5];
  memset(res, 0, sizeof res);
  g_done = 0;
  for (int i = 0; i < 5; i++) {
    sg_h2_request rq = {.method = "POST", .path = "/hello.txt", .body = "secret", .body_len = 6};
    ASSERT_OK(sg_h2_pool_request(p, &rq, on_result, &res[i], NULL));
  }
  run_until(&loop, &g_done, 5, 5000);
  for (int i = 0; i < 5; i++) {
    ASSERT_EQ(SG_ERR_TLS_VERIFY, res[i].err);
    ASSERT(!res[i].sent);
    ASSERT_EQ(0, res[i].status);
    ASSERT(strlen(res[i].detail) > 0);
  }
  ASSERT(strlen(sg_h2_pool_last_error_detail(p)) > 0);
  sg_h2_pool_stats st;
  sg_h2_pool_get_stats(p, &st);
  ASSERT_EQ(0, st.connects);
  ASSERT_GE(st.connect_failures, 1);
  close_all(&loop, p, ctx);
  ASSERT_EQ(0, server_requests(&s)); /* nothing reached the server */
  server_kill(&s);
}

static void t_queue_timeout(void) {
  /* A listener that never accepts: TCP connects (backlog) but TLS never
   * completes, so requests wait in the queue until their deadline. */
  setup();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ASSERT_OK(bind(fd, (struct sockaddr *)&a, sizeof a));
  ASSERT_OK(listen(fd, 16));
  socklen_t len = sizeof a;
  ASSERT_OK(getsockname(fd, (struct sockaddr *)&a, &len));
  uv_loop_t loop;
  uv_loop_init(&loop);
  SSL_CTX *ctx = client_ctx(g_ca);
  sg_h2_pool_opts o;
  sg_h2_pool_opts_init(&o);
  o.connect_timeout_ms = 10000;
  o.max_queue = 3;
  sg_h2_pool *p;
  ASSERT_OK(sg_h2_pool_new(&p, &loop, ctx, "127.0.0.1", ntohs(a.sin_port), &o));
  result res[3];
  memset(res, 0, sizeof res);
  g_done = 0;
  uint64_t t0 = uv_hrtime();
  for (int i = 0; i < 3; i++) {
    sg_h2_request rq = get("/x", 150 + 50 * (uint64_t)i);
    ASSERT_OK(sg_h2_pool_request(p, &rq, on_result, &res[i], NULL));
  }
  sg_h2_request rq = get("/x", 100);
  ASSERT_EQ(SG_ERR_BUSY, sg_h2_pool_request(p, &rq, on_result, &res[0], NULL));
  run_until(&loop, &g_done, 3, 5000);
  uint64_t ms = (uv_hrtime() - t0) / 1000000;
  ASSERT_GE(ms, 240);
  ASSERT_LT(ms, 3000);
  for (int i = 0; i < 3; i++) {
    ASSERT_EQ(SG_ERR_TIMEOUT, res[i].err);
    ASSERT(!res[i].sent);
    ASSERT_EQ(0, res[i].attempts);
  }
  /* Closing fails queued requests with SG_ERR_SHUTDOWN and aborts the connect. */
  result q = {0};
  rq = get("/x", 10000);
  ASSERT_OK(sg_h2_pool_request(p, &rq, on_result, &q, NULL));
  result c = {0};
  sg_h2_req *h;
  ASSERT_OK(sg_h2_pool_request(p, &rq, on_result, &c, &h));
  sg_h2_pool_cancel(p, h);
  int closed = 0;
  sg_h2_pool_close(p, on_pool_closed, &closed);
  ASSERT_EQ(1, q.done);
  ASSERT_EQ(SG_ERR_SHUTDOWN, q.err);
  ASSERT_EQ(SG_ERR_SHUTDOWN, sg_h2_pool_request(p, &rq, on_result, &q, NULL));
  run_until(&loop, &closed, 1, 5000);
  ASSERT_EQ(0, c.done); /* cancelled: never called */
  uv_run(&loop, UV_RUN_DEFAULT);
  ASSERT_OK(uv_loop_close(&loop));
  SSL_CTX_free(ctx);
  close(fd);
}

static void t_kill_restart(void) {
  setup();
  server s;
  uint16_t port = free_port();
  server_start(&s, port, 2);
  uv_loop_t loop;
  uv_loop_init(&loop);
  SSL_CTX *ctx = client_ctx(g_ca);
  sg_h2_pool_opts o;
  sg_h2_pool_opts_init(&o);
  o.max_conns = 1;
  o.backoff_base_ms = 20;
  o.backoff_cap_ms = 100;
  sg_h2_pool *p;
  ASSERT_OK(sg_h2_pool_new(&p, &loop, ctx, "127.0.0.1", port, &o));
  result warm = {0};
  sg_h2_request rq = get("/hello.txt", 5000);
  ASSERT_OK(sg_h2_pool_request(p, &rq, on_result, &warm, NULL));
  run_until(&loop, &warm.done, 1, 5000);
  ASSERT_EQ(200, warm.status); /* connected; the peer's limit of 2 is known */

  kill(s.pid, SIGSTOP); /* the kernel still takes our bytes; nothing answers */
  result res[5];
  memset(res, 0, sizeof res);
  g_done = 0;
  for (int i = 0; i < 5; i++) {
    sg_h2_request r2 = {.method = "POST",
                        .path = "/hello.txt",
                        .body = "payload",
                        .body_len = 7,
                        .timeout_ms = 20000};
    ASSERT_OK(sg_h2_pool_request(p, &r2, on_result, &res[i], NULL));
  }
  for (int i = 0; i < 200 && sg_h2_pool_streams_in_flight(p) < 2; i++)
    uv_run(&loop, UV_RUN_NOWAIT);
  sg_h2_pool_stats st;
  sg_h2_pool_get_stats(p, &st);
  ASSERT_EQ(2, st.streams_in_flight);
  ASSERT_EQ(3, st.queued);
  server_kill(&s); /* connection reset with two requests in flight */
  run_until(&loop, &g_done, 2, 5000);
  int lost = 0;
  for (int i = 0; i < 5; i++)
    if (res[i].done) {
      lost++;
      ASSERT_EQ(SG_ERR_CLOSED, res[i].err);
      ASSERT(res[i].sent); /* ambiguous: the request had left us */
    }
  ASSERT_EQ(2, lost);
  /* Reconnects fail (refused) with backoff until the server is back. */
  for (int i = 0; i < 100; i++)
    uv_run(&loop, UV_RUN_NOWAIT);
  ASSERT_EQ(2, g_done); /* the three queued ones wait */
  server_start(&s, port, 2);
  run_until(&loop, &g_done, 5, 10000);
  int ok = 0;
  for (int i = 0; i < 5; i++)
    if (res[i].err == 0) {
      ok++;
      ASSERT_EQ(200, res[i].status);
    }
  ASSERT_EQ(3, ok);
  sg_h2_pool_get_stats(p, &st);
  ASSERT_EQ(2, st.connects);
  close_all(&loop, p, ctx);
  server_kill(&s);
}

SG_TESTS({"req_build", t_req_build}, {"req_response", t_req_response}, {"run_now", t_run_now},
         {"many_concurrent", t_many_concurrent}, {"tls_verify", t_tls_verify},
         {"queue_timeout", t_queue_timeout}, {"kill_restart", t_kill_restart})
