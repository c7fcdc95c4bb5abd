/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sendgate explain JOB_ID` (or `--entry ID`): where one job is. It looks, in
 * this order, in the jobs stream (not read yet by the group, or pending:
 * read by which consumer, how long ago, how often), in the delayed set
 * (parked until when), in the memory of a gateway (GET /status/job/ID of the
 * configured one, or --url), in the sent ledger (keyed by account, sender
 * and id: known once the job was found, or from --account/--sender), in the
 * job's reply stream and the default results stream (newest first), and in
 * the dead letters. Every scan reads at most --scan entries per place, so
 * the command stays cheap on a large backlog and says when a scan was cut.
 * The answers are put together by sg_explain.c. Blocking Redis connection
 * and the settings of the gateway's configuration, like `sendgate dlq`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sg_cmds.h"
#include "cli/sg_explain.h"
#include "cli/sg_status_client.h"
#include "core/sg_clock.h"
#include "core/sg_fmt.h"
#include "core/sg_settings.h"
#include "job/sg_job_codec.h"
#include "job/sg_result.h"
#include "json/sg_json.h"
#include "redis/sg_rd_delayed.h"
#include "redis/sg_rd_ids.h"
#include "redis/sg_rd_queue.h"
#include "redis/sg_rd_sync.h"
#include "redis/sg_rd_url.h"

#define PAGE 200
#define SCAN_DEFAULT 10000
#define SCAN_MAX 10000000

static const char usage[] =
    "usage: sendgate explain JOB_ID [options]\n"
    "       sendgate explain --entry STREAM_ENTRY_ID [options]\n"
    "Says where one job is: queued in the stream and not read yet, pending (read by which\n"
    "consumer, how long ago), parked in the delayed set until when, in flight in a gateway\n"
    "(why it waits), sent (the sent ledger), done (its result), or dead-lettered.\n"
    "  --entry ID         look the job up by its stream entry id (like 1700000000000-0)\n"
    "  --config FILE      read the Redis settings and the admin address from the config\n"
    "  --redis-url URL    Redis (default SENDGATE_REDIS_URL or redis://127.0.0.1:6379/0)\n"
    "  --url URL          the gateway to ask, http://HOST:PORT\n"
    "                     (default: SENDGATE_HTTP_LISTEN, 127.0.0.1:9464; 'none' = do not ask)\n"
    "  --account NAME     the job's account, for the sent ledger (default: from the job)\n"
    "  --sender ADDR      the job's sender, for the sent ledger (default: from the job)\n"
    "  --scan N           entries read at most per place (default 10000)\n"
    "  --json             one JSON object instead of text\n"
    "Exit: 0 found, 1 not found, 2 usage or Redis could not be asked.\n";

typedef struct ex {
  sg_rd_sync *c;
  const sg_config *cfg;
  sg_explain e;
  unsigned long scan;
  const char *entry; /* --entry, or NULL */
  char reply[128];   /* the job's reply stream */
} ex;

/* Returns true to stop the scan. */
typedef bool (*visit_fn)(ex *x, const char *id, const redisReply *fields, const char *key);

static int fail(const char *msg, const char *arg) {
  fprintf(stderr, "sendgate explain: %s%s\n", msg, arg ? arg : "");
  return 2;
}

static redisReply *cmd(ex *x, int argc, const char **argv, const size_t *lens) {
  if (x->c == NULL)
    return NULL;
  char err[300];
  redisReply *r = sg_rd_sync_cmd(x->c, argc, argv, lens, err, sizeof err);
  if (r == NULL && x->e.redis_error[0] == '\0')
    sg_fmt_copy(x->e.redis_error, sizeof x->e.redis_error, err);
  return r;
}

static const redisReply *field(const redisReply *fv, const char *name) {
  for (size_t i = 0; fv && fv->type == REDIS_REPLY_ARRAY && i + 1 < fv->elements; i += 2)
    if (fv->element[i]->type == REDIS_REPLY_STRING && strcmp(fv->element[i]->str, name) == 0 &&
        fv->element[i + 1]->type == REDIS_REPLY_STRING)
      return fv->element[i + 1];
  return NULL;
}

/* Pages through stream |key| (oldest first, or newest first with |rev|),
 * at most x->scan entries. Returns true when |fn| stopped it. */
static bool scan_stream(ex *x, const char *key, bool rev, visit_fn fn) {
  char from[SG_RD_ID_MAX + 1];
  snprintf(from, sizeof from, "%s", rev ? "+" : "-");
  unsigned long seen = 0;
  while (seen < x->scan) {
    const char *argv[] = {rev ? "XREVRANGE" : "XRANGE", key, from, rev ? "-" : "+", "COUNT", "200"};
    redisReply *r = cmd(x, 6, argv, NULL);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
      freeReplyObject(r);
      return false;
    }
    size_t n = r->elements;
    for (size_t i = 0; i < n; i++) {
      const redisReply *en = r->element[i];
      if (en->type != REDIS_REPLY_ARRAY || en->elements != 2 ||
          en->element[0]->type != REDIS_REPLY_STRING || en->element[0]->len >= SG_RD_ID_MAX)
        continue;
      snprintf(from, sizeof from, "(%s", en->element[0]->str);
      if (fn(x, en->element[0]->str, en->element[1], key)) {
        freeReplyObject(r);
        return true;
      }
    }
    freeReplyObject(r);
    seen += n;
    if (n < PAGE)
      return false;
  }
  x->e.scan_cut = true;
  return false;
}

/* ---- the jobs stream ---- */

static bool visit_job(ex *x, const char *id, const redisReply *fv, const char *key) {
  (void)key;
  const redisReply *job = field(fv, "job");
  if (job == NULL)
    return false;
  if (!sg_explain_job_is(job->str, job->len, x->e.job_id, &x->e, x->reply, sizeof x->reply))
    return false;
  sg_fmt_copy(x->e.entry_id, sizeof x->e.entry_id, id);
  return true;
}

static void take_job(ex *x, const char *job, size_t len);

/* --entry: reads that entry and takes the job id from it. */
static void entry_lookup(ex *x) {
  const char *argv[] = {"XRANGE", x->cfg->jobs_stream, x->entry, x->entry};
  redisReply *r = cmd(x, 4, argv, NULL);
  if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
    x->e.in_stream = true;
    const redisReply *job = field(r->element[0]->element[1], "job");
    if (job)
      take_job(x, job->str, job->len);
  }
  freeReplyObject(r);
}

static int id_cmp(const char *a, const char *b) {
  sg_rd_id x = {0, 0}, y = {0, 0};
  sg_rd_id_parse(a, strlen(a), &x);
  sg_rd_id_parse(b, strlen(b), &y);
  if (x.ms != y.ms)
    return x.ms < y.ms ? -1 : 1;
  return x.seq < y.seq ? -1 : x.seq > y.seq;
}

/* Pending (XPENDING) or not read yet (after the group's last-delivered id). */
static void stream_state(ex *x) {
  const char *e = x->e.entry_id;
  const char *argv[] = {"XPENDING", x->cfg->jobs_stream, x->cfg->group, e, e, "1"};
  redisReply *r = cmd(x, 6, argv, NULL);
  if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
      r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 4) {
    const redisReply *p = r->element[0];
    x->e.pending = true;
    sg_fmt_copy(x->e.consumer, sizeof x->e.consumer, p->element[1]->str ? p->element[1]->str : "");
    x->e.idle_ms = p->element[2]->integer;
    x->e.deliveries = p->element[3]->integer;
  }
  freeReplyObject(r);
  if (x->e.pending)
    return;
  const char *gi[] = {"XINFO", "GROUPS", x->cfg->jobs_stream};
  r = cmd(x, 3, gi, NULL);
  const char *last = NULL;
  for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
    const redisReply *g = r->element[i], *name = field(g, "name");
    if (name && strcmp(name->str, x->cfg->group) == 0)
      last = field(g, "last-delivered-id") ? field(g, "last-delivered-id")->str : NULL;
  }
  if (last == NULL || id_cmp(e, last) > 0) {
    x->e.not_read = true;
    char from[SG_RD_ID_MAX + 2], to[64], count[24];
    snprintf(from, sizeof from, "(%s", last ? last : "0-0");
    snprintf(to, sizeof to, "(%s", e);
    snprintf(count, sizeof count, "%lu", x->scan);
    const char *ar[] = {"XRANGE", x->cfg->jobs_stream, from, to, "COUNT", count};
    redisReply *a = id_cmp(e, last ? last : "0-0") > 0 ? cmd(x, 6, ar, NULL) : NULL;
    if (a && a->type == REDIS_REPLY_ARRAY) {
      x->e.ahead = a->elements;
      if (a->elements >= x->scan)
        x->e.scan_cut = true;
    }
    freeReplyObject(a);
  }
  freeReplyObject(r);
}

/* ---- the delayed set ---- */

/* --entry: takes the job id (and account, sender) from job bytes. */
static void take_job(ex *x, const char *job, size_t len) {
  sg_job_msg *m = NULL;
  sg_job_error jerr;
  sg_job_decode((const uint8_t *)job, len, &m, &jerr);
  if (m && sg_job_msg_view(m)->id) {
    sg_fmt_copy(x->e.job_id, sizeof x->e.job_id, sg_job_msg_view(m)->id);
    sg_explain_job_is(job, len, x->e.job_id, &x->e, x->reply, sizeof x->reply);
  }
  sg_job_msg_free(m);
}

static bool delayed_member(ex *x, const redisReply *m, const redisReply *score) {
  sg_rd_delayed_member_view v;
  if (m->type != REDIS_REPLY_STRING || sg_rd_delayed_member_parse(m->str, m->len, &v) != 0)
    return false;
  bool is;
  if (x->entry) {
    is = v.entry_id_len == strlen(x->entry) && memcmp(v.entry_id, x->entry, v.entry_id_len) == 0;
    if (is && x->e.job_id[0] == '\0')
      take_job(x, v.job, v.job_len);
  } else {
    is = sg_explain_job_is(v.job, v.job_len, x->e.job_id, &x->e, x->reply, sizeof x->reply);
  }
  if (!is)
    return false;
  x->e.delayed = true;
  x->e.delayed_attempts = v.attempts;
  x->e.delayed_until = score && score->str ? strtoll(score->str, NULL, 10) : 0;
  if (x->e.entry_id[0] == '\0' && v.entry_id_len < sizeof x->e.entry_id) {
    memcpy(x->e.entry_id, v.entry_id, v.entry_id_len);
    x->e.entry_id[v.entry_id_len] = '\0';
  }
  return true;
}

static void scan_delayed(ex *x) {
  for (unsigned long start = 0; start < x->scan; start += PAGE) {
    char a[24], b[24];
    snprintf(a, sizeof a, "%lu", start);
    snprintf(b, sizeof b, "%lu", start + PAGE - 1);
    const char *argv[] = {"ZRANGE", SG_RD_DELAYED_KEY, a, b, "WITHSCORES"};
    redisReply *r = cmd(x, 5, argv, NULL);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
      freeReplyObject(r);
      return;
    }
    bool found = false;
    for (size_t i = 0; i + 1 < r->elements && !found; i += 2)
      found = delayed_member(x, r->element[i], r->element[i + 1]);
    size_t n = r->elements / 2;
    freeReplyObject(r);
    if (found || n < PAGE)
      return;
  }
  x->e.scan_cut = true;
}

/* ---- the gateway ---- */

static void ask_gateway(ex *x, const char *url) {
  if (x->e.job_id[0] == '\0' || strcmp(url, "none") == 0)
    return;
  char host[256];
  uint16_t port;
  if (sg_status_parse_url(url, host, sizeof host, &port) != 0) {
    snprintf(x->e.gw_error, sizeof x->e.gw_error, "not an http://HOST:PORT address");
    return;
  }
  char target[512] = "/status/job/";
  size_t n = strlen(target);
  static const char hex[] = "0123456789ABCDEF";
  for (const char *p = x->e.job_id; *p && n + 4 < sizeof target; p++) {
    unsigned char ch = (unsigned char)*p;
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
        strchr("-._~", ch)) {
      target[n++] = (char)ch;
    } else {
      target[n++] = '%';
      target[n++] = hex[ch >> 4];
      target[n++] = hex[ch & 15];
    }
  }
  target[n] = '\0';
  sg_buf body;
  sg_buf_init(&body);
  int st = sg_status_get(host, port, target, &body, x->e.gw_error, sizeof x->e.gw_error);
  sg_json_doc *doc = NULL;
  if (st == 200 && sg_json_parse(&doc, body.data, body.len, 0, NULL, 0) == 0) {
    const sg_json *root = sg_json_root(doc), *j = sg_json_get(root, "job");
    if (sg_json_true(sg_json_get(root, "found")) && j) {
      x->e.in_gateway = true;
      const char *s;
      if ((s = sg_json_str(sg_json_get(root, "gateway"))))
        sg_fmt_copy(x->e.gateway, sizeof x->e.gateway, s);
      if ((s = sg_json_str(sg_json_get(j, "state"))))
        sg_fmt_copy(x->e.gw_state, sizeof x->e.gw_state, s);
      if ((s = sg_json_str(sg_json_get(j, "why"))))
        sg_fmt_copy(x->e.gw_why, sizeof x->e.gw_why, s);
      if ((s = sg_json_str(sg_json_get(j, "lane"))))
        sg_fmt_copy(x->e.gw_lane, sizeof x->e.gw_lane, s);
      sg_json_int(sg_json_get(j, "attempts"), &x->e.gw_attempts);
      sg_json_int(sg_json_get(j, "next_try_ms"), &x->e.gw_next_try);
    }
  } else if (st >= 0) {
    snprintf(x->e.gw_error, sizeof x->e.gw_error, "http://%s:%u answered %d", host, (unsigned)port,
             st);
  }
  sg_json_doc_free(doc);
  sg_buf_free(&body);
}

/* ---- the sent ledger ---- */

static void ledger(ex *x) {
  if (x->e.job_id[0] == '\0' || x->cfg->ledger_ttl_s <= 0)
    return;
  sg_rd_ledger_id id;
  sg_rd_ledger_id_make(x->e.account, x->e.sender, x->e.job_id, &id);
  int64_t gen = sg_wall_ms() / 1000 / x->cfg->ledger_ttl_s;
  uint64_t slots = x->cfg->ledger_slots > 0 ? (uint64_t)x->cfg->ledger_slots : 1;
  char fieldv[24];
  sg_fmt_i64(fieldv, id.field);
  for (int64_t g = gen; g >= gen - 1 && !x->e.ledger_sent; g--) {
    char key[96];
    snprintf(key, sizeof key, "%s%lld:%llu", SG_RD_LEDGER_PREFIX, (long long)g,
             (unsigned long long)(id.slot_hash % slots));
    const char *argv[] = {"HGET", key, fieldv};
    redisReply *r = cmd(x, 3, argv, NULL);
    if (r && r->type == REDIS_REPLY_STRING) {
      sg_rd_sent s;
      sg_rd_sent_unpack(strtoll(r->str, NULL, 10), &s);
      x->e.ledger_sent = true;
      x->e.ledger_attempts = s.attempts;
      x->e.ledger_http = s.http_status;
      x->e.ledger_completed = s.completed_unix_ms;
    }
    freeReplyObject(r);
  }
}

/* ---- results and dead letters ---- */

static bool visit_result(ex *x, const char *id, const redisReply *fv, const char *key) {
  (void)id;
  const redisReply *res = field(fv, "result");
  if (res == NULL ||
      (x->e.job_id[0] && memmem(res->str, res->len, x->e.job_id, strlen(x->e.job_id)) == NULL))
    return false;
  sg_result_msg *m = NULL;
  if (sg_result_decode((const uint8_t *)res->str, res->len, &m) != 0 || m == NULL)
    return false;
  const sg_result *r = sg_result_msg_view(m);
  bool is = x->e.job_id[0] ? r->job_id && strcmp(r->job_id, x->e.job_id) == 0
                           : r->stream_entry_id && strcmp(r->stream_entry_id, x->entry) == 0;
  if (is) {
    x->e.has_result = true;
    sg_fmt_copy(x->e.result_stream, sizeof x->e.result_stream, key);
    sg_fmt_copy(x->e.result_status, sizeof x->e.result_status, sg_status_name(r->status));
    x->e.result_http = r->http_status;
    x->e.result_attempts = r->attempts;
    sg_fmt_copy(x->e.result_code, sizeof x->e.result_code, r->error_code ? r->error_code : "");
    sg_fmt_copy(x->e.result_message, sizeof x->e.result_message,
                r->error_message ? r->error_message : "");
    x->e.result_completed = r->completed_unix_ms;
    if (x->e.entry_id[0] == '\0' && r->stream_entry_id)
      sg_fmt_copy(x->e.entry_id, sizeof x->e.entry_id, r->stream_entry_id);
  }
  sg_result_msg_free(m);
  return is;
}

static bool visit_dead(ex *x, const char *id, const redisReply *fv, const char *key) {
  (void)key;
  const redisReply *job = field(fv, "job"), *reason = field(fv, "reason");
  if (job == NULL || x->e.job_id[0] == '\0' ||
      !sg_explain_job_is(job->str, job->len, x->e.job_id, &x->e, NULL, 0))
    return false;
  x->e.dead = true;
  sg_fmt_copy(x->e.dead_id, sizeof x->e.dead_id, id);
  sg_fmt_copy(x->e.dead_reason, sizeof x->e.dead_reason, reason ? reason->str : "");
  return true;
}

static void look(ex *x, const char *url) {
  if (x->entry)
    entry_lookup(x);
  else if (x->c)
    x->e.in_stream = scan_stream(x, x->cfg->jobs_stream, false, visit_job);
  if (x->e.in_stream) {
    if (x->entry)
      sg_fmt_copy(x->e.entry_id, sizeof x->e.entry_id, x->entry);
    stream_state(x);
  }
  if (!x->e.in_stream && x->c)
    scan_delayed(x);
  ask_gateway(x, url);
  ledger(x);
  if (x->c && x->reply[0] && strcmp(x->reply, x->cfg->results_stream) != 0)
    scan_stream(x, x->reply, true, visit_result);
  if (x->c && !x->e.has_result)
    scan_stream(x, x->cfg->results_stream, true, visit_result);
  if (x->c && !x->e.has_result && !x->e.in_stream && !x->e.delayed)
    scan_stream(x, x->cfg->dead_stream, true, visit_dead);
}

/* Parses the options into |x| and the address strings; -1 to go on, else the exit code. */
static int parse(int argc, char **argv, ex *x, const char **config, const char **redis_url,
                 const char **url, int *json) {
  enum { O_ENTRY = 256, O_CONFIG, O_REDIS, O_URL, O_ACCOUNT, O_SENDER, O_SCAN, O_JSON, O_HELP };
  static const struct option opts[] = {{"entry", 1, 0, O_ENTRY},     {"config", 1, 0, O_CONFIG},
                                       {"redis-url", 1, 0, O_REDIS}, {"url", 1, 0, O_URL},
                                       {"account", 1, 0, O_ACCOUNT}, {"sender", 1, 0, O_SENDER},
                                       {"scan", 1, 0, O_SCAN},       {"json", 0, 0, O_JSON},
                                       {"help", 0, 0, O_HELP},       {0, 0, 0, 0}};
  int o;
  optind = 1;
  opterr = 0;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    char *end;
    sg_rd_id rid;
    switch (o) {
    case O_ENTRY:
      if (strlen(optarg) >= SG_RD_ID_MAX || !strchr(optarg, '-') ||
          sg_rd_id_parse(optarg, strlen(optarg), &rid) != 0)
        return fail("--entry wants a stream entry id like 1700000000000-0, not ", optarg);
      x->entry = optarg;
      break;
    case O_CONFIG:
      *config = optarg;
      break;
    case O_REDIS:
      if (sg_rd_url_has_password(optarg))
        return fail(SG_RD_URL_PASSWORD_REFUSED, NULL);
      *redis_url = optarg;
      break;
    case O_URL:
      *url = optarg;
      break;
    case O_ACCOUNT:
      sg_fmt_copy(x->e.account, sizeof x->e.account, optarg);
      break;
    case O_SENDER:
      sg_fmt_copy(x->e.sender, sizeof x->e.sender, optarg);
      break;
    case O_SCAN:
      x->scan = strtoul(optarg, &end, 10);
      if (optarg[0] < '1' || optarg[0] > '9' || *end != '\0' || x->scan > SCAN_MAX)
        return fail("--scan wants a number from 1 to 10000000, not ", optarg);
      break;
    case O_JSON:
      *json = 1;
      break;
    case O_HELP:
      fputs(usage, stdout);
      return 0;
    default:
      return fail("unknown or incomplete option (see sendgate explain --help)", NULL);
    }
  }
  if (x->entry == NULL && optind + 1 != argc)
    return fail(optind < argc ? "one JOB_ID, not several" : "which job? (sendgate explain JOB_ID)",
                NULL);
  if (x->entry && optind != argc)
    return fail("give either JOB_ID or --entry", NULL);
  if (x->entry == NULL) {
    const char *id = argv[optind];
    if (strlen(id) == 0 || strlen(id) >= sizeof x->e.job_id)
      return fail("a job id is 1 to 128 characters", NULL);
    sg_fmt_copy(x->e.job_id, sizeof x->e.job_id, id);
  }
  return -1;
}

int sg_cmd_explain(int argc, char **argv, char **envp) {
  ex x;
  memset(&x, 0, sizeof x);
  x.scan = SCAN_DEFAULT;
  const char *config = NULL, *redis_url = NULL, *url = NULL;
  int json = 0;
  int rc = parse(argc, argv, &x, &config, &redis_url, &url, &json);
  if (rc >= 0)
    return rc;
  sg_config cfg;
  char err[300];
  if (sg_status_load_settings(&cfg, config, envp, err, sizeof err) != 0) {
    sg_settings_free(&sg_config_settings, &cfg);
    return fail(err, NULL);
  }
  x.cfg = &cfg;
  uint64_t timeout = cfg.redis_timeout_ms > 0 ? (uint64_t)cfg.redis_timeout_ms : 5000;
  x.c = sg_rd_sync_connect(redis_url ? redis_url : cfg.redis_url, cfg.tls_ca_file, timeout, err,
                           sizeof err);
  if (x.c == NULL)
    sg_fmt_copy(x.e.redis_error, sizeof x.e.redis_error, err);
  look(&x, url ? url : (cfg.http_listen && cfg.http_listen[0] ? cfg.http_listen : "none"));
  sg_buf out;
  sg_buf_init(&out);
  if (json)
    sg_explain_json(&out, &x.e);
  else
    sg_explain_text(&out, &x.e, sg_wall_ms());
  fwrite(out.data, 1, out.len, stdout);
  sg_buf_free(&out);
  if (x.e.redis_error[0])
    fprintf(stderr, "sendgate explain: Redis: %s\n", x.e.redis_error);
  rc = sg_explain_exit(&x.e);
  sg_rd_sync_free(x.c);
  sg_settings_free(&sg_config_settings, &cfg);
  return rc;
}
