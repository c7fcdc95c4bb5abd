/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for the admin endpoint (app/sg_admin): listen-address parsing, and the
 * endpoint itself on 127.0.0.1:0 in this process's loop, fetched with curl run
 * through uv_spawn on the same loop: /metrics (content type, live values),
 * /healthz, /readyz 200 and 503 with a one-line reason, 404, 405, HEAD, and
 * the off / bad address / address-in-use start paths.
 */
#include "harness.h"
#include "proc_test_run.h"

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "app/sg_admin.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_metrics.h"

/* Each curl run must finish well within this. */
#define CLIENT_TIMEOUT_MS 30000

static char g_dir[256]; /* temp dir for curl's output files */

typedef struct fx {
  uv_loop_t loop;
  sg_metrics *reg;
  sg_metric *jobs;
  sg_admin *admin;
  uint16_t port;
  bool ready;
  const char *reason;
  int ready_calls;
  bool stopped;
} fx;

static bool ready_cb(void *ud, char *reason, size_t cap) {
  fx *f = ud;
  f->ready_calls++;
  if (!f->ready)
    snprintf(reason, cap, "%s", f->reason);
  return f->ready;
}

static void on_stopped(void *ud) {
  ((fx *)ud)->stopped = true;
}

static void path_in(char *out, size_t cap, const char *name) {
  snprintf(out, cap, "%s/%s", g_dir, name);
}

static void fx_start(fx *f) {
  memset(f, 0, sizeof *f);
  signal(SIGPIPE, SIG_IGN);
  if (g_dir[0] == '\0') {
    snprintf(g_dir, sizeof g_dir, "/tmp/sg_test_admin_XXXXXX");
    ASSERT_NOT_NULL(mkdtemp(g_dir));
  }
  ASSERT_OK(uv_loop_init(&f->loop));
  f->reg = sg_metrics_new();
  sg_metric_family *fam;
  sg_metric_desc d = {"sendgate_test_jobs_total", "Jobs.", SG_METRIC_COUNTER, NULL, 0, NULL, 0, 0};
  ASSERT_OK(sg_metrics_register(f->reg, &d, &fam));
  f->jobs = sg_metric_child0(fam);
  f->ready = true;
  char err[200] = "";
  ASSERT_OK(
      sg_admin_start(&f->admin, &f->loop, "127.0.0.1:0", f->reg, ready_cb, f, err, sizeof err));
  ASSERT_NOT_NULL(f->admin);
  f->port = sg_admin_port(f->admin);
  ASSERT_GT(f->port, 0);
}

static void fx_stop(fx *f) {
  sg_admin_stop(f->admin, on_stopped, f);
  for (int i = 0; i < 1000 && !f->stopped; i++)
    uv_run(&f->loop, UV_RUN_ONCE);
  ASSERT(f->stopped);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  ASSERT_OK(uv_loop_close(&f->loop));
  sg_metrics_free(f->reg);
}

/* ---- running curl ---- */

/* Runs argv with stdout and stderr to files under g_dir; returns the exit code. */
static int run_client(uv_loop_t *loop, const char *const *argv) {
  char outp[300], errp[300];
  path_in(outp, sizeof outp, "stdout.txt");
  path_in(errp, sizeof errp, "stderr.txt");
  return sg_test_run_client(loop, argv, outp, errp, CLIENT_TIMEOUT_MS);
}

static char *slurp(const char *name) {
  char p[300];
  path_in(p, sizeof p, name);
  FILE *fp = fopen(p, "rb");
  ASSERT_NOT_NULL(fp);
  sg_buf b = SG_BUF_INIT;
  char tmp[4096];
  size_t n;
  while ((n = fread(tmp, 1, sizeof tmp, fp)) > 0)
    sg_buf_append(&b, tmp, n);
  fclose(fp);
  sg_buf_append(&b, "", 0);
  return b.data;
}

typedef struct resp {
  int code;
  char *body;
  char *headers;
} resp;

static void resp_free(resp *r) {
  sg_free(r->body);
  sg_free(r->headers);
}

/* curl -X |method| http://127.0.0.1:port|path|; |method| "HEAD" uses -I. */
static resp fetch(fx *f, const char *method, const char *path) {
  char url[200], body[300], hdrs[300];
  snprintf(url, sizeof url, "http://127.0.0.1:%u%s", f->port, path);
  path_in(body, sizeof body, "body.txt");
  path_in(hdrs, sizeof hdrs, "headers.txt");
  unlink(body);
  const char *argv[20];
  int n = 0;
  argv[n++] = "/usr/bin/curl";
  argv[n++] = "-sS";
  argv[n++] = "--max-time";
  argv[n++] = "20";
  argv[n++] = "-o";
  argv[n++] = body;
  argv[n++] = "-D";
  argv[n++] = hdrs;
  argv[n++] = "-w";
  argv[n++] = "%{http_code}";
  if (strcmp(method, "HEAD") == 0) {
    argv[n++] = "-I";
  } else if (strcmp(method, "GET") != 0) {
    argv[n++] = "-X";
    argv[n++] = method;
  }
  argv[n++] = url;
  argv[n] = NULL;
  int rv = run_client(&f->loop, argv);
  if (rv != 0) {
    char *e = slurp("stderr.txt");
    SG_FAIL_("curl %s %s exited %d: %s", method, path, rv, e);
  }
  resp r;
  char *code = slurp("stdout.txt");
  r.code = atoi(code);
  sg_free(code);
  struct stat st;
  r.body = stat(body, &st) == 0 ? slurp("body.txt") : sg_xstrdup("");
  r.headers = slurp("headers.txt");
  return r;
}

/* ---- cases ---- */

static void t_parse_listen(void) {
  char host[64];
  uint16_t port = 1;
  ASSERT_OK(sg_admin_parse_listen("127.0.0.1:9464", host, sizeof host, &port));
  ASSERT_STR_EQ("127.0.0.1", host);
  ASSERT_EQ(9464, port);
  ASSERT_OK(sg_admin_parse_listen("[::1]:0", host, sizeof host, &port));
  ASSERT_STR_EQ("::1", host);
  ASSERT_EQ(0, port);
  ASSERT_OK(sg_admin_parse_listen("localhost:65535", host, sizeof host, &port));
  ASSERT_STR_EQ("127.0.0.1", host);
  ASSERT_EQ(65535, port);
  ASSERT_OK(sg_admin_parse_listen(":9100", host, sizeof host, &port));
  ASSERT_STR_EQ("0.0.0.0", host);
  ASSERT_EQ(9100, port);
  static const char *const bad[] = {
      "",         "127.0.0.1",    "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:99999999",
      "::1:80",   "[::1]80",      "[::1",       "host.example:80", "127.0.0.1:8o",
      "1.2.3:80", "127.0.0.1:-1", "[]:80",      "127.0.0.1: 80",   NULL,
  };
  for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++)
    if (sg_admin_parse_listen(bad[i], host, sizeof host, &port) != SG_ERR_INVAL)
      SG_FAIL_("accepted \"%s\"", bad[i] ? bad[i] : "NULL");
  char small[4];
  ASSERT_EQ(SG_ERR_INVAL, sg_admin_parse_listen("127.0.0.1:80", small, sizeof small, &port));
}

static void t_endpoints(void) {
  fx f;
  fx_start(&f);
  sg_metric_add(f.jobs, 5);

  resp r = fetch(&f, "GET", "/metrics");
  ASSERT_EQ(200, r.code);
  ASSERT_NOT_NULL(strstr(r.headers, "content-type: text/plain; version=0.0.4"));
  ASSERT_STR_EQ("# HELP sendgate_test_jobs_total Jobs.\n"
                "# TYPE sendgate_test_jobs_total counter\n"
                "sendgate_test_jobs_total 5\n",
                r.body);
  resp_free(&r);

  sg_metric_inc(f.jobs); /* each scrape writes the values of that moment */
  r = fetch(&f, "GET", "/metrics?x=1");
  ASSERT_EQ(200, r.code);
  ASSERT_NOT_NULL(strstr(r.body, "\nsendgate_test_jobs_total 6\n"));
  char clen[64];
  snprintf(clen, sizeof clen, "content-length: %zu\r\n", strlen(r.body));
  resp_free(&r);

  /* HEAD: the GET's headers, no body (curl -I writes only the head to -o). */
  r = fetch(&f, "HEAD", "/metrics");
  ASSERT_EQ(200, r.code);
  ASSERT_NOT_NULL(strstr(r.headers, clen));
  ASSERT_NULL(strstr(r.body, "# HELP"));
  resp_free(&r);

  r = fetch(&f, "GET", "/healthz");
  ASSERT_EQ(200, r.code);
  ASSERT_STR_EQ("ok\n", r.body);
  resp_free(&r);

  r = fetch(&f, "GET", "/readyz");
  ASSERT_EQ(200, r.code);
  ASSERT_STR_EQ("ready\n", r.body);
  ASSERT_EQ(1, f.ready_calls);
  resp_free(&r);

  f.ready = false;
  f.reason = "redis unreachable: connection refused\nsecond line";
  r = fetch(&f, "GET", "/readyz");
  ASSERT_EQ(503, r.code);
  ASSERT_STR_EQ("redis unreachable: connection refused second line\n", r.body);
  resp_free(&r);

  f.reason = ""; /* no reason given: a generic one */
  r = fetch(&f, "GET", "/readyz");
  ASSERT_EQ(503, r.code);
  ASSERT_STR_EQ("not ready\n", r.body);
  resp_free(&r);

  f.ready = true;
  r = fetch(&f, "GET", "/readyz");
  ASSERT_EQ(200, r.code);
  ASSERT_EQ(4, f.ready_calls);
  resp_free(&r);

  r = fetch(&f, "GET", "/nope");
  ASSERT_EQ(404, r.code);
  resp_free(&r);
  r = fetch(&f, "GET", "/metricsX");
  ASSERT_EQ(404, r.code);
  resp_free(&r);

  r = fetch(&f, "POST", "/metrics");
  ASSERT_EQ(405, r.code);
  ASSERT_NOT_NULL(strstr(r.headers, "allow: GET, HEAD"));
  resp_free(&r);
  r = fetch(&f, "DELETE", "/healthz");
  ASSERT_EQ(405, r.code);
  resp_free(&r);

  fx_stop(&f);
}

/* No readiness callback: always ready. */
static void t_no_ready_cb(void) {
  fx f;
  memset(&f, 0, sizeof f);
  fx_start(&f);
  sg_admin_stop(f.admin, on_stopped, &f);
  for (int i = 0; i < 1000 && !f.stopped; i++)
    uv_run(&f.loop, UV_RUN_ONCE);
  ASSERT(f.stopped);
  f.stopped = false;
  char err[200];
  ASSERT_OK(sg_admin_start(&f.admin, &f.loop, "127.0.0.1:0", f.reg, NULL, NULL, err, sizeof err));
  f.port = sg_admin_port(f.admin);
  resp r = fetch(&f, "GET", "/readyz");
  ASSERT_EQ(200, r.code);
  resp_free(&r);
  fx_stop(&f);
}

static void t_start_paths(void) {
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  sg_metrics *reg = sg_metrics_new();
  char err[200] = "";
  sg_admin *a = (sg_admin *)&loop; /* must be overwritten */

  /* Off. */
  ASSERT_OK(sg_admin_start(&a, &loop, "", reg, NULL, NULL, err, sizeof err));
  ASSERT_NULL(a);
  ASSERT_EQ(0, sg_admin_port(a));
  fx dummy;
  dummy.stopped = false;
  sg_admin_stop(NULL, on_stopped, &dummy);
  ASSERT(dummy.stopped); /* at once */
  ASSERT_OK(sg_admin_start(&a, &loop, NULL, reg, NULL, NULL, err, sizeof err));
  ASSERT_NULL(a);

  /* Bad address. */
  ASSERT_EQ(SG_ERR_CONFIG,
            sg_admin_start(&a, &loop, "nowhere:80", reg, NULL, NULL, err, sizeof err));
  ASSERT_NULL(a);
  ASSERT_NOT_NULL(strstr(err, "nowhere:80"));
  ASSERT_NULL(strchr(err, '\n'));

  /* Address in use. */
  sg_admin *first;
  ASSERT_OK(sg_admin_start(&first, &loop, "127.0.0.1:0", reg, NULL, NULL, err, sizeof err));
  char listen[64];
  snprintf(listen, sizeof listen, "127.0.0.1:%u", sg_admin_port(first));
  int rv = sg_admin_start(&a, &loop, listen, reg, NULL, NULL, err, sizeof err);
  ASSERT_EQ(UV_EADDRINUSE, rv);
  ASSERT_NULL(a);
  ASSERT_NOT_NULL(strstr(err, listen));
  fx ud;
  ud.stopped = false;
  sg_admin_stop(first, on_stopped, &ud);
  for (int i = 0; i < 1000 && !ud.stopped; i++)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT(ud.stopped);
  uv_run(&loop, UV_RUN_DEFAULT); /* the failed server's handles */
  ASSERT_OK(uv_loop_close(&loop));
  sg_metrics_free(reg);
}

SG_TESTS({"parse_listen", t_parse_listen}, {"endpoints", t_endpoints},
         {"no_ready_cb", t_no_ready_cb}, {"start_paths", t_start_paths})
