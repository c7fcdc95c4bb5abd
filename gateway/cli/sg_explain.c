/* SPDX-License-Identifier: Apache-2.0 */
/* What `sendgate explain` says about its findings; see sg_explain.h. */
#include "cli/sg_explain.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/sg_status_screen.h"
#include "core/sg_clock.h"
#include "core/sg_fmt.h"
#include "core/sg_json_write.h"
#include "job/sg_job_codec.h"

bool sg_explain_found(const sg_explain *e) {
  return e->in_stream || e->pending || e->delayed || e->in_gateway || e->ledger_sent ||
         e->has_result || e->dead;
}

int sg_explain_exit(const sg_explain *e) {
  if (sg_explain_found(e))
    return 0;
  return e->redis_error[0] ? 2 : 1;
}

/* "2026-12-07T04:10:12Z (in 42s)" */
static void when(char out[80], int64_t t, int64_t now) {
  char rfc[32], d[32];
  sg_time_rfc3339(t, rfc);
  sg_status_fmt_dur(d, t > now ? t - now : now - t);
  snprintf(out, 80, "%.19sZ (%s%s%s)", rfc, t > now ? "in " : "", d, t > now ? "" : " ago");
}

static void line_gateway(sg_buf *out, const sg_explain *e, int64_t now) {
  sg_buf_printf(out, "held by gateway %s: %s: %s", e->gateway, e->gw_state, e->gw_why);
  if (e->gw_lane[0])
    sg_buf_printf(out, "; lane %s", e->gw_lane);
  sg_buf_printf(out, "; %" PRId64 " attempt%s", e->gw_attempts, e->gw_attempts == 1 ? "" : "s");
  if (e->gw_next_try) {
    char t[80];
    when(t, e->gw_next_try, now);
    sg_buf_printf(out, "; next try %s", t);
  }
  sg_buf_append_char(out, '\n');
}

static void line_result(sg_buf *out, const sg_explain *e, int64_t now) {
  char t[80];
  when(t, e->result_completed, now);
  sg_buf_printf(out, "done: %s (HTTP %d) after %u attempt%s, %s, result on %s", e->result_status,
                (int)e->result_http, e->result_attempts, e->result_attempts == 1 ? "" : "s", t,
                e->result_stream);
  if (e->result_code[0])
    sg_buf_printf(out, ": %s %s", e->result_code, e->result_message);
  sg_buf_append_char(out, '\n');
}

void sg_explain_text(sg_buf *out, const sg_explain *e, int64_t now) {
  char t[80];
  const char *id = e->job_id[0] ? e->job_id : e->entry_id;
  if (!sg_explain_found(e)) {
    sg_buf_printf(out,
                  "job %s: not found (stream, pending, delayed set, gateway, ledger, results, "
                  "dead letters)%s\n",
                  id, e->scan_cut ? "; some scans stopped at their bound" : "");
    if (e->redis_error[0])
      sg_buf_printf(out, "  Redis: %s\n", e->redis_error);
    if (e->gw_error[0])
      sg_buf_printf(out, "  gateway: %s\n", e->gw_error);
    return;
  }
  sg_buf_printf(out, "job %s", id);
  if (e->entry_id[0] && e->job_id[0])
    sg_buf_printf(out, " (entry %s)", e->entry_id);
  if (e->sender[0])
    sg_buf_printf(out, " from %s, account %s", e->sender, e->account[0] ? e->account : "default");
  sg_buf_append_str(out, ":\n");
  if (e->has_result) {
    sg_buf_append_str(out, "  ");
    line_result(out, e, now);
  }
  if (e->ledger_sent) {
    when(t, e->ledger_completed, now);
    sg_buf_printf(out,
                  "  sent: the sent ledger records it accepted (HTTP %d) after %u attempt%s, %s\n",
                  (int)e->ledger_http, e->ledger_attempts, e->ledger_attempts == 1 ? "" : "s", t);
  }
  if (e->dead)
    sg_buf_printf(out, "  dead-lettered as %s: %s\n", e->dead_id, e->dead_reason);
  if (!e->ledger_sent && e->sender[0] == '\0')
    sg_buf_append_str(out, "  (the sent ledger was not checked: it is keyed by sender; "
                           "give --sender and --account)\n");
  if (e->in_gateway) {
    sg_buf_append_str(out, "  ");
    line_gateway(out, e, now);
  }
  if (e->pending)
    sg_buf_printf(out,
                  "  pending: read by consumer %s, last delivered %" PRId64 " ms ago, %" PRId64
                  " deliver%s\n",
                  e->consumer, e->idle_ms, e->deliveries, e->deliveries == 1 ? "y" : "ies");
  if (e->delayed) {
    when(t, e->delayed_until, now);
    sg_buf_printf(out,
                  "  parked in the delayed set until %s after %u attempt%s "
                  "(a long wait: a provider Retry-After or a spent budget)\n",
                  t, e->delayed_attempts, e->delayed_attempts == 1 ? "" : "s");
  }
  if (e->in_stream && e->not_read)
    sg_buf_printf(out,
                  "  queued in the stream, not read yet by the group (%" PRIu64
                  "%s entries ahead of it)\n",
                  e->ahead, e->scan_cut ? "+" : "");
  else if (e->in_stream && !e->pending && !e->has_result)
    sg_buf_append_str(out, "  in the stream, acknowledged (its result is being written or "
                           "the entry not yet trimmed)\n");
  if (e->gw_error[0] && e->pending && !e->in_gateway)
    sg_buf_printf(out, "  (the gateway could not be asked: %s)\n", e->gw_error);
}

/* "key":"v", or null for "" */
static void jstr(sg_buf *b, const char *k, const char *v) {
  sg_jw_mstr(b, k, v && v[0] ? v : NULL);
}

/* "key":null and false when |present| is false; else "key":{ and true. */
static bool sub(sg_buf *b, const char *key, bool present) {
  if (!present) {
    sg_jw_mnull(b, key);
    return false;
  }
  sg_jw_member(b, key);
  sg_buf_append_char(b, '{');
  return true;
}

static void json_places(sg_buf *out, const sg_explain *e) {
  if (sub(out, "pending", e->pending)) {
    sg_jw_mstr(out, "consumer", e->consumer);
    sg_jw_mint(out, "idle_ms", e->idle_ms);
    sg_jw_mint(out, "deliveries", e->deliveries);
    sg_buf_append_char(out, '}');
  }
  if (sub(out, "delayed", e->delayed)) {
    sg_jw_mint(out, "attempts", e->delayed_attempts);
    sg_jw_mtime(out, "until", e->delayed_until);
    sg_buf_append_char(out, '}');
  }
  if (sub(out, "gateway", e->in_gateway)) {
    sg_jw_mstr(out, "consumer", e->gateway);
    jstr(out, "state", e->gw_state);
    jstr(out, "why", e->gw_why);
    jstr(out, "lane", e->gw_lane);
    sg_jw_mint(out, "attempts", e->gw_attempts);
    sg_jw_mtime(out, "next_try", e->gw_next_try);
    sg_buf_append_char(out, '}');
  }
  if (sub(out, "ledger", e->ledger_sent)) {
    sg_jw_mint(out, "attempts", e->ledger_attempts);
    sg_jw_mint(out, "http_status", e->ledger_http);
    sg_jw_mtime(out, "completed", e->ledger_completed);
    sg_buf_append_char(out, '}');
  }
  if (sub(out, "result", e->has_result)) {
    sg_jw_mstr(out, "status", e->result_status);
    jstr(out, "stream", e->result_stream);
    sg_jw_mint(out, "http_status", e->result_http);
    sg_jw_mint(out, "attempts", e->result_attempts);
    jstr(out, "error_code", e->result_code);
    jstr(out, "error_message", e->result_message);
    sg_jw_mtime(out, "completed", e->result_completed);
    sg_buf_append_char(out, '}');
  }
  if (sub(out, "dead_letter", e->dead)) {
    sg_jw_mstr(out, "id", e->dead_id);
    jstr(out, "reason", e->dead_reason);
    sg_buf_append_char(out, '}');
  }
}

void sg_explain_json(sg_buf *out, const sg_explain *e) {
  sg_buf_append_char(out, '{');
  sg_jw_mbool(out, "found", sg_explain_found(e));
  jstr(out, "job_id", e->job_id);
  jstr(out, "entry_id", e->entry_id);
  jstr(out, "account", e->account);
  jstr(out, "sender", e->sender);
  sub(out, "stream", true);
  sg_jw_mbool(out, "present", e->in_stream);
  sg_jw_mbool(out, "not_read", e->not_read);
  sg_jw_mint(out, "ahead", (int64_t)e->ahead);
  sg_buf_append_char(out, '}');
  json_places(out, e);
  sg_jw_mbool(out, "scan_cut", e->scan_cut);
  jstr(out, "redis_error", e->redis_error);
  jstr(out, "gateway_error", e->gw_error);
  sg_buf_append_str(out, "}\n");
}

bool sg_explain_job_is(const void *job, size_t len, const char *id, sg_explain *e, char *reply,
                       size_t cap) {
  size_t idl = strlen(id);
  if (idl == 0 || memmem(job, len, id, idl) == NULL)
    return false;
  sg_job_msg *m = NULL;
  sg_job_error jerr;
  sg_job_decode(job, len, &m, &jerr);
  const sg_job *j = m ? sg_job_msg_view(m) : NULL;
  bool is = j && j->id && strcmp(j->id, id) == 0;
  if (is) {
    sg_fmt_copy(e->account, sizeof e->account, j->account ? j->account : "");
    sg_fmt_copy(e->sender, sizeof e->sender, j->sender ? j->sender : "");
    if (reply)
      sg_fmt_copy(reply, cap, j->reply_stream ? j->reply_stream : "");
  }
  sg_job_msg_free(m);
  return is;
}
