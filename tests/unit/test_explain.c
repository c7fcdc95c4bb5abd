/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the pure half of `sendgate explain` (cli/sg_explain.c):
 * findings made by hand for each place a job can be, the lines and the JSON
 * said about them, the exit codes, and the recognition of a job in
 * serialized MailJob bytes.
 */
#include "harness.h"

#include <string.h>

#include "cli/sg_explain.h"
#include "job/sg_job_codec.h"
#include "json/sg_json.h"

#define NOW 1796616000000LL /* 2026-12-07T04:00:00Z */

static char *text(const sg_explain *e, sg_buf *b) {
  sg_buf_reset(b);
  sg_explain_text(b, e, NOW);
  sg_buf_append_char(b, '\0');
  return b->data;
}

static sg_json_doc *json(const sg_explain *e, sg_buf *b) {
  sg_buf_reset(b);
  sg_explain_json(b, e);
  sg_json_doc *doc = NULL;
  char err[200];
  ASSERT_OK(sg_json_parse(&doc, b->data, b->len, 0, err, sizeof err));
  return doc;
}

static void base(sg_explain *e) {
  memset(e, 0, sizeof *e);
  snprintf(e->job_id, sizeof e->job_id, "order-7");
}

static void t_not_found(void) {
  sg_explain e;
  base(&e);
  sg_buf b;
  sg_buf_init(&b);
  ASSERT(!sg_explain_found(&e));
  ASSERT_EQ(1, sg_explain_exit(&e));
  ASSERT_NOT_NULL(strstr(text(&e, &b), "job order-7: not found"));
  sg_json_doc *doc = json(&e, &b);
  ASSERT(!sg_json_true(sg_json_get(sg_json_root(doc), "found")));
  ASSERT_EQ(SG_JSON_NULL, sg_json_get(sg_json_root(doc), "result")->type);
  sg_json_doc_free(doc);
  /* Redis could not be asked: not "not found" but an error */
  snprintf(e.redis_error, sizeof e.redis_error, "connection refused");
  ASSERT_EQ(2, sg_explain_exit(&e));
  ASSERT_NOT_NULL(strstr(text(&e, &b), "Redis: connection refused"));
  e.scan_cut = true;
  ASSERT_NOT_NULL(strstr(text(&e, &b), "some scans stopped at their bound"));
  sg_buf_free(&b);
}

static void t_not_read(void) {
  sg_explain e;
  base(&e);
  e.in_stream = e.not_read = true;
  e.ahead = 41;
  snprintf(e.entry_id, sizeof e.entry_id, "1796615990000-0");
  snprintf(e.sender, sizeof e.sender, "a@contoso.com");
  sg_buf b;
  sg_buf_init(&b);
  ASSERT_EQ(0, sg_explain_exit(&e));
  const char *t = text(&e, &b);
  ASSERT_NOT_NULL(
      strstr(t, "job order-7 (entry 1796615990000-0) from a@contoso.com, account default:"));
  ASSERT_NOT_NULL(strstr(t, "queued in the stream, not read yet by the group (41 entries ahead"));
  ASSERT_NULL(strstr(t, "sent ledger was not checked")); /* the sender is known */
  sg_json_doc *doc = json(&e, &b);
  const sg_json *s = sg_json_get(sg_json_root(doc), "stream");
  ASSERT(sg_json_true(sg_json_get(s, "not_read")));
  int64_t ahead = 0;
  ASSERT(sg_json_int(sg_json_get(s, "ahead"), &ahead));
  ASSERT_EQ(41, ahead);
  sg_json_doc_free(doc);
  sg_buf_free(&b);
}

static void t_pending_in_gateway(void) {
  sg_explain e;
  base(&e);
  e.in_stream = e.pending = true;
  snprintf(e.consumer, sizeof e.consumer, "gw1");
  e.idle_ms = 1500;
  e.deliveries = 1;
  e.in_gateway = true;
  snprintf(e.gateway, sizeof e.gateway, "gw1");
  snprintf(e.gw_state, sizeof e.gw_state, "queued");
  snprintf(e.gw_why, sizeof e.gw_why, "lane paused until 04:00:42Z");
  snprintf(e.gw_lane, sizeof e.gw_lane, "graph||a@contoso.com");
  e.gw_attempts = 1;
  e.gw_next_try = NOW + 42000;
  sg_buf b;
  sg_buf_init(&b);
  const char *t = text(&e, &b);
  ASSERT_NOT_NULL(
      strstr(t, "held by gateway gw1: queued: lane paused until 04:00:42Z; lane "
                "graph||a@contoso.com; 1 attempt; next try 2026-12-07T04:00:42Z (in 42s)"));
  ASSERT_NOT_NULL(
      strstr(t, "pending: read by consumer gw1, last delivered 1500 ms ago, 1 delivery"));
  ASSERT_NULL(strstr(t, "acknowledged"));
  sg_json_doc *doc = json(&e, &b);
  const sg_json *r = sg_json_root(doc);
  ASSERT_STR_EQ("gw1", sg_json_str(sg_json_get(sg_json_get(r, "pending"), "consumer")));
  ASSERT_STR_EQ("queued", sg_json_str(sg_json_get(sg_json_get(r, "gateway"), "state")));
  sg_json_doc_free(doc);
  /* pending, but the gateway could not be asked */
  e.in_gateway = false;
  snprintf(e.gw_error, sizeof e.gw_error, "connection refused");
  ASSERT_NOT_NULL(strstr(text(&e, &b), "(the gateway could not be asked: connection refused)"));
  sg_buf_free(&b);
}

static void t_delayed(void) {
  sg_explain e;
  base(&e);
  e.delayed = true;
  e.delayed_until = NOW + 3 * 3600000;
  e.delayed_attempts = 2;
  sg_buf b;
  sg_buf_init(&b);
  ASSERT_NOT_NULL(strstr(text(&e, &b), "parked in the delayed set until 2026-12-07T07:00:00Z "
                                       "(in 3h00m) after 2 attempts"));
  ASSERT_NOT_NULL(strstr(text(&e, &b), "sent ledger was not checked")); /* no sender known */
  sg_json_doc *doc = json(&e, &b);
  int64_t until = 0;
  ASSERT(sg_json_int(sg_json_get(sg_json_get(sg_json_root(doc), "delayed"), "until_ms"), &until));
  ASSERT_EQ(NOW + 3 * 3600000, until);
  sg_json_doc_free(doc);
  sg_buf_free(&b);
}

static void t_done(void) {
  sg_explain e;
  base(&e);
  e.has_result = true;
  snprintf(e.result_stream, sizeof e.result_stream, "sendgate:results");
  snprintf(e.result_status, sizeof e.result_status, "FAILED");
  e.result_http = 400;
  e.result_attempts = 1;
  snprintf(e.result_code, sizeof e.result_code, "ErrorInvalidRecipients");
  snprintf(e.result_message, sizeof e.result_message, "bad \"rcpt\"");
  e.result_completed = NOW - 90000;
  e.ledger_sent = true;
  e.ledger_http = 202;
  e.ledger_attempts = 1;
  e.ledger_completed = NOW - 90000;
  e.dead = true;
  snprintf(e.dead_id, sizeof e.dead_id, "1-0");
  snprintf(e.dead_reason, sizeof e.dead_reason, "max_deliveries");
  sg_buf b;
  sg_buf_init(&b);
  const char *t = text(&e, &b);
  ASSERT_NOT_NULL(strstr(t,
                         "done: FAILED (HTTP 400) after 1 attempt, 2026-12-07T03:58:30Z (1m30s "
                         "ago), result on sendgate:results: ErrorInvalidRecipients bad \"rcpt\""));
  ASSERT_NOT_NULL(strstr(t, "sent: the sent ledger records it accepted (HTTP 202)"));
  ASSERT_NOT_NULL(strstr(t, "dead-lettered as 1-0: max_deliveries"));
  ASSERT_NULL(strstr(t, "sent ledger was not checked")); /* it was found there */
  /* the result comes first: the most telling line */
  ASSERT(strstr(t, "done:") < strstr(t, "dead-lettered"));
  sg_json_doc *doc = json(&e, &b);
  const sg_json *r = sg_json_get(sg_json_root(doc), "result");
  ASSERT_STR_EQ("FAILED", sg_json_str(sg_json_get(r, "status")));
  ASSERT_STR_EQ("bad \"rcpt\"", sg_json_str(sg_json_get(r, "error_message")));
  sg_json_doc_free(doc);
  sg_buf_free(&b);
}

static void t_job_is(void) {
  sg_job_addr to[] = {{"r@example.com", ""}};
  sg_job j = {0};
  j.id = "order-7";
  j.account = "billing";
  j.sender = "a@contoso.com";
  j.to = to;
  j.n_to = 1;
  j.subject = "about order-77";
  j.text_body = "x";
  j.reply_stream = "app:results";
  sg_buf b;
  sg_buf_init(&b);
  sg_job_encode(&j, &b);
  sg_explain e;
  memset(&e, 0, sizeof e);
  char reply[64] = "";
  ASSERT(sg_explain_job_is(b.data, b.len, "order-7", &e, reply, sizeof reply));
  ASSERT_STR_EQ("billing", e.account);
  ASSERT_STR_EQ("a@contoso.com", e.sender);
  ASSERT_STR_EQ("app:results", reply);
  /* the bytes hold "order-77" (in the subject) but the job is another */
  memset(&e, 0, sizeof e);
  ASSERT(!sg_explain_job_is(b.data, b.len, "order-77", &e, NULL, 0));
  ASSERT_STR_EQ("", e.sender);
  ASSERT(!sg_explain_job_is(b.data, b.len, "order-8", &e, NULL, 0));
  ASSERT(!sg_explain_job_is("order-7 but not protobuf", 24, "order-7", &e, NULL, 0));
  ASSERT(!sg_explain_job_is(b.data, b.len, "", &e, NULL, 0));
  sg_buf_free(&b);
}

SG_TESTS({"not_found", t_not_found}, {"not_read", t_not_read},
         {"pending_in_gateway", t_pending_in_gateway}, {"delayed", t_delayed}, {"done", t_done},
         {"job_is", t_job_is})
