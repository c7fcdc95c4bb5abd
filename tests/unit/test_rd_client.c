/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sg_rd_client against a real, private redis-server (tests/redis_server.h):
 * commands and binary values, error replies, command timeout, reconnect after
 * the server is killed and restarted on the same port, AUTH and SELECT,
 * unreachable servers, and clean closing (uv_loop_close must return 0).
 */
#include "harness.h"
#include "rd_test_loop.h"
#include "redis_server.h"

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "redis/sg_rd_client.h"
#include "redis/sg_rd_script.h"
#include "redis/sg_resp.h"
#include "sandbox/sg_sbx_certgen.h"

#include <uv.h>

typedef struct ctx {
  uv_loop_t loop;
  uv_timer_t tick; /* keeps UV_RUN_ONCE returning so waits stay bounded */
  sg_rd_client *c;
  int ups, downs, last_down;
  int replies, last_status;
  char last_str[256];
  size_t last_len;
  long long last_int;
  int order[16], norder;
  bool closed;
} ctx;

static void ctx_init(ctx *x) {
  memset(x, 0, sizeof *x);
  sg_rd_test_loop_init(&x->loop, &x->tick, 20);
}

static void on_closed(sg_rd_client *c, void *ud) {
  (void)c;
  ((ctx *)ud)->closed = true;
}

static void ctx_finish(ctx *x) {
  if (x->c) {
    sg_rd_client_close(x->c, true, on_closed, x);
    for (int i = 0; i < 500 && !x->closed; i++)
      uv_run(&x->loop, UV_RUN_ONCE);
    ASSERT(x->closed);
  }
  uv_close((uv_handle_t *)&x->tick, NULL);
  for (int i = 0; i < 100 && uv_loop_alive(&x->loop); i++)
    uv_run(&x->loop, UV_RUN_NOWAIT);
  ASSERT_OK(uv_loop_close(&x->loop));
}

static void on_up(sg_rd_client *c, void *ud) {
  (void)c;
  ((ctx *)ud)->ups++;
}

static void on_down(sg_rd_client *c, int reason, void *ud) {
  (void)c;
  ctx *x = ud;
  x->downs++;
  x->last_down = reason;
}

static void on_reply(sg_rd_client *c, int status, const redisReply *r, void *ud) {
  (void)c;
  ctx *x = ud;
  x->replies++;
  x->last_status = status;
  x->last_len = 0;
  x->last_str[0] = '\0';
  if (r && r->type == REDIS_REPLY_INTEGER)
    x->last_int = r->integer;
  if (r && r->str && r->len < sizeof x->last_str) {
    memcpy(x->last_str, r->str, r->len);
    x->last_str[r->len] = '\0';
    x->last_len = r->len;
  }
}

static void start_client(ctx *x, const char *url_s, const sg_rd_client_opts *o) {
  sg_rd_url url;
  ASSERT_OK(sg_rd_url_parse(url_s, &url));
  sg_rd_client_cbs cbs = {on_up, on_down, x};
  ASSERT_OK(sg_rd_client_new(&x->loop, &url, o, &cbs, &x->c));
  sg_rd_client_start(x->c);
}

static int cmd(ctx *x, const char *a0, const char *a1, const char *a2, size_t a2len,
               uint32_t timeout) {
  const char *argv[3] = {a0, a1, a2};
  size_t lens[3] = {strlen(a0), a1 ? strlen(a1) : 0, a2len};
  int argc = a2 ? 3 : a1 ? 2 : 1;
  return sg_rd_client_cmd(x->c, argc, argv, lens, timeout, on_reply, x);
}

/* The client's connect failures and dropped connections so far. */
static uint64_t failures_of(ctx *x) {
  sg_rd_client_stats st;
  sg_rd_client_get_stats(x->c, &st);
  return st.failures;
}

static void url_of(const sg_test_redis *r, const char *auth, int db, char *out, size_t cap) {
  snprintf(out, cap, "redis://%s127.0.0.1:%d/%d", auth ? auth : "", r->port, db);
}

/* A private redis-server and a client UP on it (bounded wait), with backoff |base_ms|..|max_ms|. */
static void start_up(sg_test_redis *r, ctx *x, uint32_t base_ms, uint32_t max_ms) {
  ASSERT_OK(sg_test_redis_start(r, NULL));
  ctx_init(x);
  char url[128];
  url_of(r, NULL, 0, url, sizeof url);
  start_client(x, url, &(sg_rd_client_opts){.backoff_base_ms = base_ms, .backoff_max_ms = max_ms});
  sg_rd_test_run_until(&x->loop, &x->ups, 1, 5000);
}

static void t_commands(void) {
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, NULL));
  ctx x;
  ctx_init(&x);
  char url[128];
  url_of(&r, NULL, 0, url, sizeof url);
  start_client(&x, url, NULL);
  ASSERT(!sg_rd_client_is_up(x.c));
  ASSERT_EQ(SG_ERR_CLOSED, cmd(&x, "PING", NULL, NULL, 0, 1000));
  sg_rd_test_run_until(&x.loop, &x.ups, 1, 5000);
  ASSERT(sg_rd_client_is_up(x.c));

  const char bin[] = "a\0b\r\nc";
  ASSERT_OK(cmd(&x, "SET", "k", bin, sizeof bin - 1, 1000));
  ASSERT_OK(cmd(&x, "GET", "k", NULL, 0, 1000));
  ASSERT_EQ(2, sg_rd_client_pending(x.c));
  ASSERT_EQ(0, x.replies); /* never from inside sg_rd_client_cmd */
  sg_rd_test_run_until(&x.loop, &x.replies, 2, 5000);
  ASSERT_EQ(0, x.last_status);
  ASSERT_EQ(sizeof bin - 1, x.last_len);
  ASSERT_MEM_EQ(bin, x.last_str, sizeof bin - 1);

  ASSERT_OK(cmd(&x, "INCR", "n", NULL, 0, 1000));
  sg_rd_test_run_until(&x.loop, &x.replies, 3, 5000);
  ASSERT_EQ(1, x.last_int);

  ASSERT_OK(cmd(&x, "NOSUCHCOMMAND", NULL, NULL, 0, 1000));
  sg_rd_test_run_until(&x.loop, &x.replies, 4, 5000);
  ASSERT_EQ(SG_ERR_REDIS, x.last_status);
  ASSERT(strstr(x.last_str, "unknown command") != NULL);
  ASSERT(sg_rd_client_is_up(x.c)); /* an error reply is not a connection failure */

  ASSERT_EQ(SG_ERR_INVAL, sg_rd_client_cmd(x.c, 0, NULL, NULL, 1000, NULL, NULL));
  /* Close with drain: the command in flight still gets its reply. */
  ASSERT_OK(cmd(&x, "PING", NULL, NULL, 0, 1000));
  sg_rd_client_close(x.c, true, on_closed, &x);
  ASSERT_EQ(SG_ERR_SHUTDOWN, cmd(&x, "PING", NULL, NULL, 0, 1000));
  for (int i = 0; i < 500 && !x.closed; i++)
    uv_run(&x.loop, UV_RUN_ONCE);
  ASSERT(x.closed);
  ASSERT_EQ(5, x.replies);
  ASSERT_EQ(0, x.last_status);
  ASSERT_STR_EQ("PONG", x.last_str);
  x.c = NULL;
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

/*
 * A script run outlives its script's owner: a stage that closes (the shared
 * budget at stop) frees the sg_rd_script while its EVALSHA is out. On a fresh
 * Redis the answer is NOSCRIPT and the run sends the text with EVAL: it must
 * not read the freed handle for that (it did, and the gateway crashed at stop).
 */
static void t_script_owner_gone(void) {
  sg_test_redis r;
  ctx x;
  start_up(&r, &x, 20, 200);
  sg_rd_script *s = sg_xmalloc(sizeof *s);
  sg_rd_script_init(s, "return ARGV[1]");
  const char *args[] = {"still here"};
  size_t lens[] = {10};
  ASSERT_OK(sg_rd_script_run(s, x.c, 0, 1, args, lens, 2000, on_reply, &x));
  memset(s, 0xab, sizeof *s); /* what a reused block would hold */
  sg_free(s);
  sg_rd_test_run_until(&x.loop, &x.replies, 1, 5000);
  ASSERT_EQ(0, x.last_status);
  ASSERT_STR_EQ("still here", x.last_str);
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

static void t_timeout(void) {
  sg_test_redis r;
  ctx x;
  start_up(&r, &x, 10, 50);
  uint64_t t0 = uv_now(&x.loop);
  ASSERT_OK(cmd(&x, "DEBUG", "SLEEP", "1", 1, 200));
  ASSERT_OK(cmd(&x, "PING", NULL, NULL, 0, 5000)); /* behind it: fails with it */
  sg_rd_test_run_until(&x.loop, &x.replies, 2, 5000);
  uint64_t took = uv_now(&x.loop) - t0;
  ASSERT_EQ(SG_ERR_TIMEOUT, x.last_status);
  ASSERT_GE(took, 190);
  ASSERT_LT(took, 900); /* did not wait for the server */
  ASSERT_EQ(1, x.downs);
  ASSERT_EQ(SG_ERR_TIMEOUT, x.last_down);
  sg_rd_client_stats st;
  sg_rd_client_get_stats(x.c, &st);
  ASSERT_EQ(1, st.timeouts);
  /* It reconnects by itself once the server answers again. */
  sg_rd_test_run_until(&x.loop, &x.ups, 2, 5000);
  ASSERT_OK(cmd(&x, "PING", NULL, NULL, 0, 3000));
  sg_rd_test_run_until(&x.loop, &x.replies, 3, 5000);
  ASSERT_STR_EQ("PONG", x.last_str);
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

static void on_order(sg_rd_client *c, int status, const redisReply *r, void *ud) {
  (void)c;
  (void)r;
  ctx *x = ud;
  if (x->norder < 16)
    x->order[x->norder++] = status;
  x->replies++;
}

/* Counts replies; each must be the integer one more than the last. */
static void on_count(sg_rd_client *c, int status, const redisReply *r, void *ud) {
  (void)c;
  ctx *x = ud;
  x->replies++;
  if (status != 0 || r == NULL || r->type != REDIS_REPLY_INTEGER || r->integer != x->replies)
    x->norder++;
  x->last_int = r ? r->integer : -1;
}

static void t_reconnect(void) {
  sg_test_redis r;
  ctx x;
  start_up(&r, &x, 20, 200);
  /* Commands pending when the server dies all fail, in order, with a connection error. */
  const char *argv[] = {"BLPOP", "nothing", "5"};
  size_t lens[] = {5, 7, 1};
  for (int i = 0; i < 3; i++)
    ASSERT_OK(sg_rd_client_cmd(x.c, 3, argv, lens, 10000, on_order, &x));
  for (int i = 0; i < 5; i++) /* let them be written */
    uv_run(&x.loop, UV_RUN_NOWAIT);
  sg_test_redis_kill(&r);
  sg_rd_test_run_until(&x.loop, &x.downs, 1, 5000);
  ASSERT_EQ(3, x.norder);
  for (int i = 0; i < 3; i++)
    ASSERT_EQ(SG_ERR_CLOSED, x.order[i]);
  ASSERT_EQ(SG_ERR_CLOSED, x.last_down);
  ASSERT(!sg_rd_client_is_up(x.c));
  ASSERT_EQ(SG_ERR_CLOSED, cmd(&x, "PING", NULL, NULL, 0, 1000));
  /* A few failed attempts while it is down, then back on the same port. */
  sg_rd_test_run_for(&x.loop, 300);
  ASSERT_GE(failures_of(&x), 2);
  ASSERT_OK(sg_test_redis_restart(&r));
  sg_rd_test_run_until(&x.loop, &x.ups, 2, 5000);
  int before = x.replies;
  ASSERT_OK(cmd(&x, "PING", NULL, NULL, 0, 1000));
  sg_rd_test_run_until(&x.loop, &x.replies, before + 1, 5000);
  ASSERT_STR_EQ("PONG", x.last_str);
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

/* A pipeline: n commands in one write, one callback per reply in order (an
 * error reply in the middle changes nothing for the others), and when the
 * connection dies the calls still due all come, with its status. */
static void t_pipeline(void) {
  sg_test_redis r;
  ctx x;
  start_up(&r, &x, 20, 200);
  static const char p3[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n7\r\n"
                           "*1\r\n$4\r\nNOPE\r\n"
                           "*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n";
  ASSERT_EQ(SG_ERR_INVAL,
            sg_rd_client_pipeline_resp(x.c, p3, sizeof p3 - 1, 0, 1000, on_order, &x));
  ASSERT_OK(sg_rd_client_pipeline_resp(x.c, p3, sizeof p3 - 1, 3, 1000, on_order, &x));
  ASSERT_OK(cmd(&x, "GET", "k", NULL, 0, 1000)); /* behind the pipeline */
  ASSERT_EQ(2, sg_rd_client_pending(x.c));
  sg_rd_test_run_until(&x.loop, &x.replies, 4, 5000);
  ASSERT_EQ(3, x.norder); /* on_reply counted the GET, not in order[] */
  ASSERT_EQ(0, x.order[0]);
  ASSERT_EQ(SG_ERR_REDIS, x.order[1]);
  ASSERT_EQ(0, x.order[2]);
  ASSERT_STR_EQ("8", x.last_str);
  ASSERT(sg_rd_client_is_up(x.c));
  ASSERT_EQ(0, sg_rd_client_pending(x.c));
  /* 3,000 replies arrive in a few reads of tens of KB: every one, in order. */
  sg_buf many = SG_BUF_INIT;
  for (int i = 0; i < 3000; i++) {
    sg_resp_array(&many, 2);
    sg_resp_bulk(&many, "INCR", 4);
    sg_resp_bulk(&many, "n", 1);
  }
  x.replies = x.norder = 0;
  ASSERT_OK(sg_rd_client_pipeline_resp(x.c, many.data, many.len, 3000, 5000, on_count, &x));
  sg_buf_free(&many);
  sg_rd_test_run_until(&x.loop, &x.replies, 3000, 5000);
  ASSERT_EQ(3000, x.last_int); /* the last reply was the 3,000th INCR's */
  ASSERT_EQ(0, x.norder);      /* none out of order */
  /* Two replies of three are held back by a blocking command; the server dies. */
  static const char pb[] = "*1\r\n$4\r\nPING\r\n"
                           "*3\r\n$5\r\nBLPOP\r\n$7\r\nnothing\r\n$1\r\n5\r\n"
                           "*1\r\n$4\r\nPING\r\n";
  x.norder = 0;
  ASSERT_OK(sg_rd_client_pipeline_resp(x.c, pb, sizeof pb - 1, 3, 10000, on_order, &x));
  sg_rd_test_run_until(&x.loop, &x.norder, 1, 5000);
  ASSERT_EQ(0, x.order[0]);
  sg_test_redis_kill(&r);
  sg_rd_test_run_until(&x.loop, &x.downs, 1, 5000);
  ASSERT_EQ(3, x.norder);
  ASSERT_EQ(SG_ERR_CLOSED, x.order[1]);
  ASSERT_EQ(SG_ERR_CLOSED, x.order[2]);
  ASSERT_EQ(0, sg_rd_client_pending(x.c));
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

/* A transaction: one callback, with EXEC's array (the +QUEUED replies are
 * not passed on); EXECABORT when a command is refused while queued (nothing
 * ran); the connection's status, once, when it goes before EXEC answers. */
static void on_exec(sg_rd_client *c, int status, const redisReply *r, void *ud) {
  (void)c;
  ctx *x = ud;
  x->replies++;
  x->last_status = status;
  x->last_int = -1;
  x->last_str[0] = '\0';
  if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
      r->element[1]->type == REDIS_REPLY_INTEGER)
    x->last_int = r->element[1]->integer;
  if (r && r->type == REDIS_REPLY_ERROR)
    snprintf(x->last_str, sizeof x->last_str, "%.*s", (int)r->len, r->str);
}

static void t_multi(void) {
  sg_test_redis r;
  ctx x;
  start_up(&r, &x, 20, 200);
  static const char two[] = SG_RESP_MULTI "*3\r\n$3\r\nSET\r\n$1\r\nm\r\n$1\r\n4\r\n"
                                          "*2\r\n$4\r\nINCR\r\n$1\r\nm\r\n" SG_RESP_EXEC;
  ASSERT_EQ(SG_ERR_INVAL, sg_rd_client_multi(x.c, two, sizeof two - 1, 0, 1000, on_exec, &x));
  ASSERT_EQ(SG_ERR_INVAL, /* not framed by MULTI ... EXEC */
            sg_rd_client_multi(x.c, two + sizeof SG_RESP_MULTI - 1,
                               sizeof two - sizeof SG_RESP_MULTI, 2, 1000, on_exec, &x));
  ASSERT_OK(sg_rd_client_multi(x.c, two, sizeof two - 1, 2, 1000, on_exec, &x));
  ASSERT_EQ(1, sg_rd_client_pending(x.c)); /* one record for MULTI, 2 commands, EXEC */
  ASSERT_OK(cmd(&x, "GET", "m", NULL, 0, 1000));
  sg_rd_test_run_until(&x.loop, &x.replies, 2, 5000);
  ASSERT_STR_EQ("5", x.last_str); /* the GET, after EXEC's one callback */
  ASSERT_EQ(2, x.replies);
  /* Refused while queued: EXEC answers EXECABORT and the SET did not run. */
  static const char bad[] = SG_RESP_MULTI "*3\r\n$3\r\nSET\r\n$1\r\nm\r\n$1\r\n9\r\n"
                                          "*1\r\n$4\r\nNOPE\r\n" SG_RESP_EXEC;
  ASSERT_OK(sg_rd_client_multi(x.c, bad, sizeof bad - 1, 2, 1000, on_exec, &x));
  sg_rd_test_run_until(&x.loop, &x.replies, 3, 5000);
  ASSERT_EQ(SG_ERR_REDIS, x.last_status);
  ASSERT(strncmp(x.last_str, "EXECABORT", 9) == 0);
  ASSERT_OK(cmd(&x, "GET", "m", NULL, 0, 1000));
  sg_rd_test_run_until(&x.loop, &x.replies, 4, 5000);
  ASSERT_STR_EQ("5", x.last_str);
  /* The server dies while a command ahead blocks: one callback, its status. */
  static const char one[] = SG_RESP_MULTI "*2\r\n$4\r\nINCR\r\n$1\r\nm\r\n" SG_RESP_EXEC;
  const char *argv[] = {"BLPOP", "nothing", "5"};
  size_t lens[] = {5, 7, 1};
  ASSERT_OK(sg_rd_client_cmd(x.c, 3, argv, lens, 10000, on_order, &x));
  ASSERT_OK(sg_rd_client_multi(x.c, one, sizeof one - 1, 1, 10000, on_exec, &x));
  for (int i = 0; i < 5; i++) /* let them be written */
    uv_run(&x.loop, UV_RUN_NOWAIT);
  sg_test_redis_kill(&r);
  sg_rd_test_run_until(&x.loop, &x.downs, 1, 5000);
  ASSERT_EQ(6, x.replies); /* the BLPOP's and the transaction's, once */
  ASSERT_EQ(SG_ERR_CLOSED, x.last_status);
  ASSERT_EQ(0, sg_rd_client_pending(x.c));
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

static void t_auth_select(void) {
  sg_test_redis_opts so = {.password = "p@ss word"};
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, &so));
  {
    ctx x;
    ctx_init(&x);
    char url[160];
    url_of(&r, ":p%40ss%20word@", 2, url, sizeof url);
    start_client(&x, url, NULL);
    sg_rd_test_run_until(&x.loop, &x.ups, 1, 5000);
    ASSERT_OK(cmd(&x, "SET", "dbkey", "two", 3, 1000));
    sg_rd_test_run_until(&x.loop, &x.replies, 1, 5000);
    ASSERT_EQ(0, x.last_status);
    ctx_finish(&x);
    redisContext *c = sg_test_redis_connect(&r);
    ASSERT_NOT_NULL(c);
    redisReply *y = redisCommand(c, "EXISTS dbkey");
    ASSERT_EQ(0, y->integer); /* not in db 0 */
    freeReplyObject(y);
    freeReplyObject(redisCommand(c, "SELECT 2"));
    y = redisCommand(c, "GET dbkey");
    ASSERT_STR_EQ("two", y->str);
    freeReplyObject(y);
    redisFree(c);
  }
  {
    /* Wrong password: never UP, keeps retrying, closes cleanly. */
    ctx x;
    ctx_init(&x);
    char url[160];
    url_of(&r, ":wrong@", 0, url, sizeof url);
    sg_rd_client_opts o = {.backoff_base_ms = 10, .backoff_max_ms = 40};
    start_client(&x, url, &o);
    sg_rd_test_run_for(&x.loop, 300);
    ASSERT_EQ(0, x.ups);
    ASSERT_GE(failures_of(&x), 2);
    ctx_finish(&x);
  }
  sg_test_redis_stop(&r);
}

static void t_unix(void) {
  /* unix:// URLs: the same client over a unix socket, SELECT included. */
  sg_test_redis_opts so = {.unixsocket = true};
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, &so));
  ctx x;
  ctx_init(&x);
  char url[400];
  snprintf(url, sizeof url, "unix://%s?db=3", r.sock);
  start_client(&x, url, NULL);
  sg_rd_test_run_until(&x.loop, &x.ups, 1, 5000);
  ASSERT_OK(cmd(&x, "SET", "sockkey", "three", 5, 1000));
  ASSERT_OK(cmd(&x, "GET", "sockkey", NULL, 0, 1000));
  sg_rd_test_run_until(&x.loop, &x.replies, 2, 5000);
  ASSERT_STR_EQ("three", x.last_str);
  ASSERT_EQ(0, sg_test_redis_int(&r, "EXISTS %s", "sockkey")); /* not in db 0 */
  ctx_finish(&x);
  /* A socket path where nothing listens: a connect failure, retried. */
  ctx y;
  ctx_init(&y);
  snprintf(url, sizeof url, "unix://%s/none.sock", r.dir);
  sg_rd_client_opts o = {.backoff_base_ms = 5, .backoff_max_ms = 20};
  start_client(&y, url, &o);
  sg_rd_test_run_for(&y.loop, 200);
  ASSERT_GE(failures_of(&y), 2);
  ASSERT_EQ(0, y.ups);
  ASSERT(sg_rd_client_last_error(y.c)[0] != '\0');
  ctx_finish(&y);
  sg_test_redis_stop(&r);
}

/* Removes the files certgen wrote into |dir|, then |dir|. */
static void rm_certs(const char *dir) {
  const char *files[] = {"ca.pem", "ca-key.pem", "server.pem", "server-key.pem"};
  char p[400];
  for (size_t i = 0; i < SG_ARRAY_LEN(files); i++) {
    snprintf(p, sizeof p, "%s/%s", dir, files[i]);
    unlink(p);
  }
  rmdir(dir);
}

static void t_tls(void) {
  /* rediss://: TLS with the test's CA, name and IP checked, values larger
   * than a TLS record, the unparsed-bytes cap, and a CA we do not trust. */
  char dir[] = "/tmp/sg-rdtls-XXXXXX";
  ASSERT_NOT_NULL(mkdtemp(dir));
  ASSERT_OK(sg_sbx_certgen_write(dir, NULL, 0)); /* localhost, 127.0.0.1, ::1 */
  char ca[400];
  snprintf(ca, sizeof ca, "%s/ca.pem", dir);
  sg_test_redis_opts so = {.tls_dir = dir};
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, &so));
  static char big[300000];
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (char)('a' + i % 26);
  const char *hosts[] = {"localhost", "127.0.0.1"};
  for (size_t h = 0; h < SG_ARRAY_LEN(hosts); h++) {
    ctx x;
    ctx_init(&x);
    char url[160];
    snprintf(url, sizeof url, "rediss://%s:%d/1", hosts[h], r.tls_port);
    sg_rd_client_opts o = {.tls_ca_file = ca};
    start_client(&x, url, &o);
    sg_rd_test_run_until(&x.loop, &x.ups, 1, 5000);
    ASSERT_OK(cmd(&x, "SET", "big", big, sizeof big, 2000));
    ASSERT_OK(cmd(&x, "STRLEN", "big", NULL, 0, 2000));
    sg_rd_test_run_until(&x.loop, &x.replies, 2, 5000);
    ASSERT_EQ((long long)sizeof big, x.last_int);
    ctx_finish(&x);
  }
  ASSERT_EQ(0, sg_test_redis_int(&r, "EXISTS %s", "big")); /* SELECT 1 happened */
  {
    /* A reply over max_reply_bytes drops the connection with SG_ERR_TOOBIG. */
    ctx x;
    ctx_init(&x);
    char url[160];
    snprintf(url, sizeof url, "rediss://localhost:%d/1", r.tls_port);
    sg_rd_client_opts o = {.tls_ca_file = ca, .max_reply_bytes = 100000};
    start_client(&x, url, &o);
    sg_rd_test_run_until(&x.loop, &x.ups, 1, 5000);
    ASSERT_OK(cmd(&x, "GET", "big", NULL, 0, 2000));
    sg_rd_test_run_until(&x.loop, &x.replies, 1, 5000);
    ASSERT_EQ(SG_ERR_TOOBIG, x.last_status);
    sg_rd_test_run_until(&x.loop, &x.downs, 1, 5000);
    ctx_finish(&x);
  }
  {
    /* Not signed by a CA we trust: never UP, the verify error kept. */
    ctx x;
    ctx_init(&x);
    char url[160];
    snprintf(url, sizeof url, "rediss://localhost:%d/0", r.tls_port);
    sg_rd_client_opts o = {.backoff_base_ms = 10, .backoff_max_ms = 40};
    start_client(&x, url, &o);
    sg_rd_test_run_for(&x.loop, 300);
    ASSERT_EQ(0, x.ups);
    ASSERT(strstr(sg_rd_client_last_error(x.c), "verify") != NULL);
    ctx_finish(&x);
  }
  {
    /* An unreadable CA file is refused when the client is made. */
    sg_rd_url url;
    ASSERT_OK(sg_rd_url_parse("rediss://localhost:1", &url));
    sg_rd_client_opts o = {.tls_ca_file = "/nonexistent/ca.pem"};
    uv_loop_t loop;
    ASSERT_OK(uv_loop_init(&loop));
    sg_rd_client *c = NULL;
    ASSERT_EQ(SG_ERR_CONFIG, sg_rd_client_new(&loop, &url, &o, NULL, &c));
    ASSERT_OK(uv_loop_close(&loop));
  }
  sg_test_redis_stop(&r);
  rm_certs(dir);
}

static void t_sentinel_unknown(void) {
  /* A "sentinel" that cannot name the primary (a plain server refuses the
   * SENTINEL command): never UP, the reason kept, sentinels tried in turn. */
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, NULL));
  ctx x;
  ctx_init(&x);
  char url[160];
  snprintf(url, sizeof url, "redis-sentinel://127.0.0.1:%d,127.0.0.1:%d/mymaster/0", r.port,
           r.port);
  sg_rd_client_opts o = {.backoff_base_ms = 10, .backoff_max_ms = 40};
  start_client(&x, url, &o);
  sg_rd_test_run_for(&x.loop, 300);
  ASSERT_EQ(0, x.ups);
  ASSERT_GE(failures_of(&x), 2);
  ASSERT(strstr(sg_rd_client_last_error(x.c), "sentinel does not know") != NULL);
  ctx_finish(&x);
  sg_test_redis_stop(&r);
}

static void t_unreachable(void) {
  /* Nothing listens: connect fails quickly and repeatedly; close mid-backoff. */
  ctx x;
  ctx_init(&x);
  char url[64];
  int port = sg_test_free_port(); /* reserved: nothing else listens there meanwhile */
  snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
  sg_rd_client_opts o = {.backoff_base_ms = 5, .backoff_max_ms = 20};
  start_client(&x, url, &o);
  sg_rd_test_run_for(&x.loop, 200);
  ASSERT_EQ(0, x.ups);
  ASSERT_EQ(0, x.downs); /* never UP, so never "down" */
  ASSERT_GE(failures_of(&x), 3);
  ctx_finish(&x);
  /* A host name goes through uv_getaddrinfo; closing while resolving is clean too. */
  ctx y;
  ctx_init(&y);
  snprintf(url, sizeof url, "redis://localhost:%d", port);
  start_client(&y, url, NULL);
  ctx_finish(&y);
  sg_test_port_release(port);
}

SG_TESTS({"commands", t_commands}, {"script_owner_gone", t_script_owner_gone},
         {"timeout", t_timeout}, {"reconnect", t_reconnect}, {"pipeline", t_pipeline},
         {"multi", t_multi}, {"auth_select", t_auth_select}, {"unix", t_unix}, {"tls", t_tls},
         {"sentinel_unknown", t_sentinel_unknown}, {"unreachable", t_unreachable})
