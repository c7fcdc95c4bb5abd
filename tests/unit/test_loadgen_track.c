/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for sendgate-loadgen's pure parts: the jobs it builds (decoded
 * with the real codec: valid ones pass, invalid-on-purpose ones fail with the
 * expected code, ACS share, unique content), the accounting (matching by id,
 * duplicates, foreign ids, results before the XADD reply, failed XADDs,
 * missing jobs, latency, expectations about INVALID) and the JSON report.
 */
#include "harness.h"

#include "core/sg_err.h"
#include "job/sg_job_codec.h"
#include "json/sg_json.h"
#include "sg_lg_job.h"
#include "sg_lg_opts.h"
#include "sg_lg_report.h"
#include "sg_lg_track.h"

static sg_lg_opts opts_of(const char *const *args, int n) {
  char *argv[32];
  argv[0] = (char *)"sendgate-loadgen";
  for (int i = 0; i < n; i++)
    argv[i + 1] = (char *)args[i];
  sg_lg_opts o;
  char err[256];
  if (sg_lg_opts_parse(&o, n + 1, argv, NULL, err, sizeof err) != 0)
    SG_FAIL_("parse: %s", err);
  snprintf(o.run_id, sizeof o.run_id, "run7");
  return o;
}

static void t_jobs_decode(void) {
  static const char *const a[] = {
      "--count",       "2000", "--invalid",         "10",  "--acs",  "30",  "--recipients", "3",
      "--attachments", "2",    "--attachment-size", "100", "--size", "300", "--senders",    "7"};
  sg_lg_opts o = opts_of(a, 16);
  sg_lg_builder b;
  sg_lg_builder_init(&b, &o);
  sg_buf out = SG_BUF_INIT;
  int n_invalid = 0, n_acs = 0, n_norcpt = 0, n_badaddr = 0;
  for (uint64_t seq = 0; seq < 2000; seq++) {
    sg_buf_reset(&out);
    sg_lg_job_build(&b, seq, 1700000000000 + (int64_t)seq, &out);
    sg_job_msg *m = NULL;
    sg_job_error je;
    int rv = sg_job_decode((const uint8_t *)out.data, out.len, &m, &je);
    ASSERT_NOT_NULL(m);
    const sg_job *j = sg_job_msg_view(m);
    char id[64];
    snprintf(id, sizeof id, "run7-%llu", (unsigned long long)seq);
    ASSERT_STR_EQ(id, j->id);
    ASSERT(strstr(j->subject, id) != NULL);
    ASSERT(strstr(j->text_body, id) != NULL);
    ASSERT_EQ(300, strlen(j->text_body));
    ASSERT_STR_EQ("run7", j->campaign_id);
    ASSERT_EQ(1700000000000 + (int64_t)seq, j->created_unix_ms);
    char sender[64];
    snprintf(sender, sizeof sender, "sender-%llu@example.com", (unsigned long long)(seq % 7));
    ASSERT_STR_EQ(sender, j->sender);
    sg_backend be = sg_lg_job_backend(&b, seq);
    ASSERT_EQ(be, j->backend);
    n_acs += be == SG_BACKEND_ACS;
    sg_lg_kind k = sg_lg_job_kind(&b, seq);
    if (k == SG_LG_VALID) {
      ASSERT_OK(rv);
      ASSERT_EQ(3, j->n_to);
      ASSERT_EQ(2, j->n_attachments);
      ASSERT_EQ(100, j->attachments[1].content_len);
      ASSERT(memcmp(j->attachments[0].content, id, strlen(id)) == 0);
      ASSERT_OK(sg_job_check_backend(j, be, out.len * 2, &je));
    } else {
      n_invalid++;
      ASSERT_EQ(SG_ERR_INVAL, rv);
      if (k == SG_LG_NO_RECIPIENTS) {
        ASSERT_STR_EQ(SG_JOBERR_NO_RECIPIENTS, je.code);
        n_norcpt++;
      } else {
        ASSERT_STR_EQ(SG_JOBERR_BAD_ADDRESS, je.code);
        n_badaddr++;
      }
    }
    sg_job_msg_free(m);
  }
  /* Hashed shares: 10 % and 30 % of 2000, within a loose statistical band. */
  ASSERT_GT(n_invalid, 140);
  ASSERT_LT(n_invalid, 260);
  ASSERT_GT(n_acs, 500);
  ASSERT_LT(n_acs, 700);
  ASSERT_GT(n_norcpt, 40);
  ASSERT_GT(n_badaddr, 40);
  sg_buf_free(&out);
  sg_lg_builder_free(&b);
}

static void t_jobs_shares(void) {
  static const char *const a[] = {"--invalid", "0", "--acs", "100", "--default-backend"};
  sg_lg_opts o = opts_of(a, 5);
  sg_lg_builder b;
  sg_lg_builder_init(&b, &o);
  for (uint64_t s = 0; s < 1000; s++) {
    ASSERT_EQ(SG_LG_VALID, sg_lg_job_kind(&b, s));
    ASSERT_EQ(SG_BACKEND_ACS, sg_lg_job_backend(&b, s));
  }
  sg_lg_builder_free(&b);
  static const char *const c[] = {"--invalid", "100", "--default-backend"};
  o = opts_of(c, 3);
  sg_lg_builder_init(&b, &o);
  for (uint64_t s = 0; s < 1000; s++) {
    ASSERT_NE(SG_LG_VALID, sg_lg_job_kind(&b, s));
    ASSERT_EQ(SG_BACKEND_UNSPECIFIED, sg_lg_job_backend(&b, s));
  }
  sg_lg_builder_free(&b);
  ASSERT_EQ(0, sg_lg_pct_to_ppm(0));
  ASSERT_EQ(5000, sg_lg_pct_to_ppm(0.5));
  ASSERT_EQ(1000000, sg_lg_pct_to_ppm(100));
}

static sg_result res(const char *id, sg_status st, const char *code) {
  sg_result r;
  memset(&r, 0, sizeof r);
  r.job_id = id;
  r.status = st;
  r.backend = SG_BACKEND_GRAPH;
  r.error_code = code;
  return r;
}

static void t_parse_id(void) {
  sg_lg_track t;
  sg_lg_track_init(&t, "run7", 100);
  uint64_t s = 99;
  ASSERT(sg_lg_track_parse_id(&t, "run7-0", &s));
  ASSERT_EQ(0, s);
  ASSERT(sg_lg_track_parse_id(&t, "run7-99", &s));
  ASSERT_EQ(99, s);
  ASSERT(!sg_lg_track_parse_id(&t, "run7-100", &s)); /* beyond planned */
  ASSERT(!sg_lg_track_parse_id(&t, "run7-01", &s));
  ASSERT(!sg_lg_track_parse_id(&t, "run7-", &s));
  ASSERT(!sg_lg_track_parse_id(&t, "run7-1x", &s));
  ASSERT(!sg_lg_track_parse_id(&t, "run70-1", &s));
  ASSERT(!sg_lg_track_parse_id(&t, "run8-1", &s));
  ASSERT(!sg_lg_track_parse_id(&t, "", &s));
  ASSERT(!sg_lg_track_parse_id(&t, "run7-99999999999999999999999", &s));
  sg_lg_track_free(&t);
}

static void t_accounting(void) {
  sg_lg_track t;
  sg_lg_track_init(&t, "run7", 10);
  /* Jobs 0..7 built; 0..6 queued, 7's XADD failed. 3 is invalid on purpose. */
  for (uint64_t s = 0; s < 8; s++)
    sg_lg_track_built(&t, s, 1000 * (s + 1), s == 3 ? SG_LG_BAD_ADDRESS : SG_LG_VALID,
                      s == 5 ? SG_BACKEND_ACS : SG_BACKEND_GRAPH);
  sg_lg_track_built(&t, 2, 999999, SG_LG_VALID, SG_BACKEND_GRAPH); /* twice: ignored */
  ASSERT_EQ(8, t.built);
  ASSERT_EQ(1, t.planned_invalid);
  ASSERT_EQ(1, t.planned_acs);
  for (uint64_t s = 0; s < 6; s++)
    sg_lg_track_queued(&t, s, true);
  sg_lg_track_queued(&t, 7, false);
  sg_lg_track_queued(&t, 9, true); /* never built: ignored */
  ASSERT_EQ(6, t.queued);
  ASSERT_EQ(1, t.queue_failed);
  ASSERT_EQ(6, sg_lg_track_missing(&t));

  sg_result r = res("run7-0", SG_STATUS_SENT, "");
  ASSERT_EQ(SG_LG_MATCHED, sg_lg_track_result(&t, &r, 6000)); /* 5 ms after creation */
  ASSERT_EQ(SG_LG_DUPLICATE, sg_lg_track_result(&t, &r, 7000));
  r = res("run7-1", SG_STATUS_INVALID, "SENDGATE_NO_SENDER"); /* valid job refused */
  ASSERT_EQ(SG_LG_MATCHED, sg_lg_track_result(&t, &r, 12000));
  r = res("run7-3", SG_STATUS_SENT, ""); /* invalid job accepted */
  ASSERT_EQ(SG_LG_MATCHED, sg_lg_track_result(&t, &r, 14000));
  r = res("run7-4", SG_STATUS_FAILED, "ErrorInvalidRecipients");
  ASSERT_EQ(SG_LG_MATCHED, sg_lg_track_result(&t, &r, 15000));
  r = res("other-4", SG_STATUS_SENT, "");
  ASSERT_EQ(SG_LG_FOREIGN, sg_lg_track_result(&t, &r, 15000));
  r = res("run7-8", SG_STATUS_SENT, ""); /* in range but never built */
  ASSERT_EQ(SG_LG_FOREIGN, sg_lg_track_result(&t, &r, 15000));
  r = res("", SG_STATUS_INVALID, "SENDGATE_UNDECODABLE");
  ASSERT_EQ(SG_LG_FOREIGN, sg_lg_track_result(&t, &r, 15000));
  r = res("run7-7", SG_STATUS_SENT, ""); /* its XADD failed, yet it arrived */
  ASSERT_EQ(SG_LG_UNQUEUED, sg_lg_track_result(&t, &r, 15000));
  /* Job 6: the result overtakes the XADD reply. */
  sg_lg_track_built(&t, 6, 20000, SG_LG_VALID, SG_BACKEND_GRAPH); /* already built: ignored */
  r = res("run7-6", SG_STATUS_EXPIRED, "");
  ASSERT_EQ(SG_LG_MATCHED, sg_lg_track_result(&t, &r, 17000));
  ASSERT_EQ(4, t.completed);
  sg_lg_track_queued(&t, 6, true);
  ASSERT_EQ(7, t.queued);
  ASSERT_EQ(5, t.completed);
  sg_lg_track_undecodable(&t);

  ASSERT_EQ(2, sg_lg_track_missing(&t)); /* 2 and 5 */
  uint64_t miss[4];
  ASSERT_EQ(2, sg_lg_track_missing_list(&t, miss, 4));
  ASSERT_EQ(2, miss[0]);
  ASSERT_EQ(5, miss[1]);
  ASSERT_EQ(1, sg_lg_track_missing_list(&t, miss, 1));
  ASSERT_EQ(1, t.duplicates);
  ASSERT_EQ(3, t.foreign);
  ASSERT_EQ(1, t.late);
  ASSERT_EQ(1, t.undecodable);
  ASSERT_EQ(1, t.unexpected_invalid);
  ASSERT_EQ(1, t.invalid_accepted);
  ASSERT_EQ(3, t.by_status[SG_STATUS_SENT]); /* 0, 3, 7 */
  ASSERT_EQ(1, t.by_status[SG_STATUS_INVALID]);
  ASSERT_EQ(1, t.by_status[SG_STATUS_FAILED]);
  ASSERT_EQ(1, t.by_status[SG_STATUS_EXPIRED]);
  ASSERT_EQ(2, t.n_codes);
  ASSERT_STR_EQ("SENDGATE_NO_SENDER", t.codes[0].code);
  ASSERT_STR_EQ("ErrorInvalidRecipients", t.codes[1].code);
  /* Latency: first results of queued-or-pending jobs only (0, 1, 3, 4, 6). */
  ASSERT_EQ(5, t.latency_us.total);
  ASSERT_EQ(5000, t.latency_us.min);
  ASSERT_EQ(10000, t.latency_us.max); /* job 1: created 2000, seen 12000 */
  ASSERT_EQ(6000, t.first_result_us);
  ASSERT_EQ(17000, t.last_result_us);
  sg_lg_track_free(&t);
}

/* A track of run |id| whose |n| jobs were built at 1000 us and queued, the
 * first |warm| of them the warm-up. */
static void queued_track(sg_lg_track *t, const char *id, uint64_t n, uint64_t warm) {
  sg_lg_track_init(t, id, n);
  t->warm_seq = warm;
  for (uint64_t s = 0; s < n; s++) {
    sg_lg_track_built(t, s, 1000, SG_LG_VALID, SG_BACKEND_GRAPH);
    sg_lg_track_queued(t, s, true);
  }
}

/* With a warm-up, the first jobs' latencies go to their own histogram. */
static void t_warmup(void) {
  sg_lg_track t;
  queued_track(&t, "w", 4, 2);
  const char *ids[] = {"w-0", "w-1", "w-2", "w-3"};
  const uint64_t seen[] = {101000, 51000, 3000, 5000};
  for (int i = 0; i < 4; i++) {
    sg_result r = res(ids[i], SG_STATUS_SENT, "");
    ASSERT_EQ(SG_LG_MATCHED, sg_lg_track_result(&t, &r, seen[i]));
  }
  ASSERT_EQ(4, t.completed); /* all counted */
  ASSERT_EQ(2, t.warm_latency_us.total);
  ASSERT_EQ(100000, t.warm_latency_us.max);
  ASSERT_EQ(2, t.latency_us.total);
  ASSERT_EQ(2000, t.latency_us.min);
  ASSERT_EQ(4000, t.latency_us.max);
  sg_lg_track_free(&t);
}

/* The time to the result's entry, in whole ms: from the job's created_unix_ms
 * and from the job's own entry id to the result's entry id; not for warm-up
 * jobs, nor without either time. */
static void t_to_entry(void) {
  sg_lg_track t;
  queued_track(&t, "e", 5, 1);
  const char *ids[] = {"e-0", "e-1", "e-2", "e-3", "e-4"};
  const int64_t created[] = {1000, 1000, 1000, 0, 1000};
  const int64_t entry[] = {1500, 1007, 1030, 1050, 0};
  const char *job_entry[] = {"1001-0", "1002-3", "x", "1004-0", "1005-0"};
  for (int i = 0; i < 5; i++) {
    sg_result r = res(ids[i], SG_STATUS_SENT, "");
    r.created_unix_ms = created[i];
    r.stream_entry_id = job_entry[i];
    ASSERT_EQ(SG_LG_MATCHED, sg_lg_track_result_at(&t, &r, 9000, entry[i]));
  }
  ASSERT_EQ(4, t.latency_us.total);  /* every job after the warm-up */
  ASSERT_EQ(2, t.to_entry_us.total); /* e-1 and e-2: e-3 has no creation time, e-4 no entry */
  ASSERT_EQ(7000, t.to_entry_us.min);
  ASSERT_EQ(30000, t.to_entry_us.max);
  /* From the job's entry: e-1 (1002 to 1007) and e-3 (1004 to 1050); e-2's id is not one. */
  ASSERT_EQ(2, t.job_to_entry_us.total);
  ASSERT_EQ(5000, t.job_to_entry_us.min);
  ASSERT_EQ(46000, t.job_to_entry_us.max);
  sg_lg_track_free(&t);
}

static void t_many_codes(void) {
  sg_lg_track t;
  sg_lg_track_init(&t, "r", SG_LG_MAX_CODES + 10);
  for (uint64_t s = 0; s < SG_LG_MAX_CODES + 10; s++) {
    sg_lg_track_built(&t, s, 1, SG_LG_VALID, SG_BACKEND_GRAPH);
    sg_lg_track_queued(&t, s, true);
    char id[32], code[32];
    snprintf(id, sizeof id, "r-%llu", (unsigned long long)s);
    snprintf(code, sizeof code, "Code%llu", (unsigned long long)s);
    sg_result r = res(id, SG_STATUS_FAILED, code);
    ASSERT_EQ(SG_LG_MATCHED, sg_lg_track_result(&t, &r, 2));
  }
  ASSERT_EQ(SG_LG_MAX_CODES, t.n_codes);
  ASSERT_EQ(10, t.other_codes);
  ASSERT_EQ(0, sg_lg_track_missing(&t));
  sg_lg_track_free(&t);
}

static int64_t jint(const sg_json *root, const char *obj, const char *key) {
  int64_t v = -1;
  ASSERT(sg_json_int(sg_json_get(sg_json_get(root, obj), key), &v));
  return v;
}

static void t_report(void) {
  static const char *const a[] = {"--count", "4"};
  sg_lg_opts o = opts_of(a, 2);
  sg_lg_track t;
  sg_lg_track_init(&t, o.run_id, 4);
  for (uint64_t s = 0; s < 4; s++) {
    sg_lg_track_built(&t, s, 1000, SG_LG_VALID, SG_BACKEND_GRAPH);
    sg_lg_track_queued(&t, s, true);
  }
  for (uint64_t s = 0; s < 3; s++) {
    char id[16];
    snprintf(id, sizeof id, "run7-%llu", (unsigned long long)s);
    sg_result r = res(id, s == 2 ? SG_STATUS_FAILED : SG_STATUS_SENT, s == 2 ? "Err\"x" : "");
    r.created_unix_ms = 5000;
    sg_lg_track_result_at(&t, &r, 1000 + 2000 * (s + 1), 5000 + 10 * (int64_t)(s + 1));
  }
  sg_lg_times tm = {
      .elapsed_s = 2.5, .queue_s = 0.5, .complete_s = 2.0, .drain_s = 1.5, .drain_completed = 3};
  sg_buf b = SG_BUF_INIT;
  sg_lg_report_json(&o, &t, &tm, SG_LG_STOP_TIMEOUT, &b);
  sg_json_doc *d;
  char err[128];
  if (sg_json_parse(&d, b.data, b.len, 0, err, sizeof err) != 0)
    SG_FAIL_("report is not JSON (%s): %s", err, b.data);
  const sg_json *root = sg_json_root(d);
  ASSERT_STR_EQ("run7", sg_json_str(sg_json_get(root, "run_id")));
  ASSERT_STR_EQ("timeout", sg_json_str(sg_json_get(root, "stop")));
  ASSERT_EQ(4, jint(root, "jobs", "queued"));
  ASSERT_EQ(3, jint(root, "jobs", "completed"));
  ASSERT_EQ(1, jint(root, "jobs", "missing"));
  ASSERT_EQ(2, jint(root, "by_status", "SENT"));
  ASSERT_EQ(1, jint(root, "by_status", "FAILED"));
  ASSERT_EQ(1, jint(root, "error_codes", "Err\"x"));
  ASSERT_EQ(3, jint(root, "latency_ms", "count"));
  ASSERT_EQ(3, jint(root, "throughput", "drain_completed"));
  ASSERT(strstr(b.data, "\"drain_per_s\":2.000") != NULL); /* 3 results in 1.5 s */
  const sg_json *lat = sg_json_get(root, "latency_ms");
  ASSERT(sg_json_get(lat, "p50")->num > 3.9 && sg_json_get(lat, "p50")->num < 4.1);
  ASSERT(sg_json_get(lat, "max")->num == 6.0);
  ASSERT(sg_json_get(lat, "p99_9")->num == 6.0);
  ASSERT_EQ(3, jint(root, "to_entry_ms", "count"));
  ASSERT(sg_json_get(sg_json_get(root, "to_entry_ms"), "max")->num == 30.0);
  const sg_json *th = sg_json_get(root, "throughput");
  ASSERT(sg_json_get(th, "queued_per_s")->num == 8.0);
  ASSERT(sg_json_get(th, "completed_per_s")->num == 1.5);
  const sg_json *miss = sg_json_get(root, "missing_ids");
  ASSERT_EQ(1, miss->count);
  ASSERT_STR_EQ("run7-3", sg_json_str(miss->child));
  sg_json_doc_free(d);

  sg_buf_reset(&b);
  sg_lg_report_text(&o, &t, &tm, SG_LG_STOP_TIMEOUT, &b);
  ASSERT(strstr(b.data, "missing 1") != NULL);
  ASSERT(strstr(b.data, "run7-3") != NULL);
  ASSERT(strstr(b.data, "SENT 2") != NULL);
  ASSERT(strstr(b.data, "to entry ms") != NULL);
  sg_buf_reset(&b);
  sg_lg_report_progress(&t, 2.0, 10, 5, &b);
  ASSERT(strstr(b.data, "queued 4/4") != NULL);
  ASSERT(strchr(b.data, '\n') == NULL);
  sg_buf_free(&b);
  sg_lg_track_free(&t);
}

SG_TESTS({"warmup", t_warmup}, {"jobs_decode", t_jobs_decode}, {"jobs_shares", t_jobs_shares},
         {"parse_id", t_parse_id}, {"accounting", t_accounting}, {"to_entry", t_to_entry},
         {"many_codes", t_many_codes}, {"report", t_report})
