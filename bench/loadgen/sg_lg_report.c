/* SPDX-License-Identifier: Apache-2.0 */
/* sendgate-loadgen's progress line and final report; see sg_lg_report.h. */
#include "sg_lg_report.h"

#include <inttypes.h>

#include "core/sg_json_write.h"

/* Missing job ids listed in the report (the count is always exact). */
#define LIST_MISSING 20

static const double pcts[] = {50, 90, 99, 99.9};
static const char *const pct_keys[] = {"p50", "p90", "p99", "p99_9"};

const char *sg_lg_stop_name(sg_lg_stop s) {
  switch (s) {
  case SG_LG_STOP_DONE:
    return "done";
  case SG_LG_STOP_TIMEOUT:
    return "timeout";
  case SG_LG_STOP_STALLED:
    return "stalled";
  case SG_LG_STOP_INTERRUPTED:
    return "interrupted";
  case SG_LG_STOP_ERROR:
    return "error";
  }
  return "error";
}

static double per_s(uint64_t n, double s) {
  return s > 0 ? (double)n / s : 0.0;
}
static double ms(uint64_t us) {
  return (double)us / 1000.0;
}

void sg_lg_report_progress(const sg_lg_track *t, double elapsed_s, double queued_per_s,
                           double completed_per_s, sg_buf *out) {
  sg_buf_printf(out,
                "[%7.1fs] queued %" PRIu64 "/%" PRIu64 " (%.0f/s)  completed %" PRIu64
                " (%.0f/s)  waiting %" PRIu64,
                elapsed_s, t->queued, t->planned, queued_per_s, t->completed, completed_per_s,
                sg_lg_track_missing(t));
  if (t->queue_failed)
    sg_buf_printf(out, "  queue failures %" PRIu64, t->queue_failed);
  if (t->latency_us.total)
    sg_buf_printf(out, "  p50 %.1f ms  p99 %.1f ms", ms(sg_hist_percentile(&t->latency_us, 50)),
                  ms(sg_hist_percentile(&t->latency_us, 99)));
}

/* "<label> p50 X p90 X p99 X p99_9 X  (<what>)" of |h| (us), whole ms. */
static void text_hist(sg_buf *out, const char *label, const sg_hist *h, const char *what) {
  sg_buf_printf(out, "%s", label);
  for (size_t i = 0; i < SG_ARRAY_LEN(pcts); i++)
    sg_buf_printf(out, " %s %.0f", pct_keys[i], ms(sg_hist_percentile(h, pcts[i])));
  sg_buf_printf(out, "  (%s)\n", what);
}

void sg_lg_report_text(const sg_lg_opts *o, const sg_lg_track *t, const sg_lg_times *tm,
                       sg_lg_stop stop, sg_buf *out) {
  const sg_hist *h = &t->latency_us;
  sg_buf_printf(out, "sendgate-loadgen run %s: %s after %.2f s\n", o->run_id, sg_lg_stop_name(stop),
                tm->elapsed_s);
  sg_buf_printf(out,
                "jobs        planned %" PRIu64 "  queued %" PRIu64 "  queue failures %" PRIu64
                "  completed %" PRIu64 "  missing %" PRIu64 "\n",
                t->planned, t->queued, t->queue_failed, t->completed, sg_lg_track_missing(t));
  sg_buf_printf(out,
                "results     SENT %" PRIu64 "  FAILED %" PRIu64 "  INVALID %" PRIu64
                "  EXPIRED %" PRIu64 "  UNSPECIFIED %" PRIu64 "\n",
                t->by_status[SG_STATUS_SENT], t->by_status[SG_STATUS_FAILED],
                t->by_status[SG_STATUS_INVALID], t->by_status[SG_STATUS_EXPIRED],
                t->by_status[SG_STATUS_UNSPECIFIED]);
  sg_buf_printf(out,
                "backends    graph %" PRIu64 "  acs %" PRIu64 "  smtp %" PRIu64
                "  unspecified %" PRIu64 "  (planned: acs %" PRIu64 ", invalid %" PRIu64 ")\n",
                t->by_backend[SG_BACKEND_GRAPH], t->by_backend[SG_BACKEND_ACS],
                t->by_backend[SG_BACKEND_SMTP], t->by_backend[SG_BACKEND_UNSPECIFIED],
                t->planned_acs, t->planned_invalid);
  sg_buf_printf(out,
                "checks      duplicates %" PRIu64 "  foreign %" PRIu64 "  undecodable %" PRIu64
                "  late %" PRIu64 "  valid-but-INVALID %" PRIu64 "  invalid-not-refused %" PRIu64
                "\n",
                t->duplicates, t->foreign, t->undecodable, t->late, t->unexpected_invalid,
                t->invalid_accepted);
  sg_buf_printf(out,
                "throughput  queued %" PRIu64 " in %.3f s (%.1f/s)  completed %" PRIu64
                " in %.3f s (%.1f/s)\n",
                t->queued, tm->queue_s, per_s(t->queued, tm->queue_s), t->completed, tm->complete_s,
                per_s(t->completed, tm->complete_s));
  sg_buf_printf(out, "latency ms ");
  for (size_t i = 0; i < SG_ARRAY_LEN(pcts); i++)
    sg_buf_printf(out, " %s %.3f", pct_keys[i], ms(sg_hist_percentile(h, pcts[i])));
  sg_buf_printf(out, "  max %.3f  (min %.3f, mean %.3f, n %" PRIu64 ")\n",
                ms(h->total ? h->max : 0), ms(h->total ? h->min : 0), sg_hist_mean(h) / 1000.0,
                h->total);
  if (t->to_entry_us.total)
    text_hist(out, "to entry ms", &t->to_entry_us,
              "creation to the result's entry id, Redis's clock, whole ms");
  if (t->job_to_entry_us.total)
    text_hist(out, "job to entry", &t->job_to_entry_us, "the job's entry id to the result's");
  if (t->warm_seq) {
    const sg_hist *w = &t->warm_latency_us;
    sg_buf_printf(out,
                  "warm-up    first %" PRIu64
                  " jobs (%.1f s), not in the figures above: p50 %.3f  p99 %.3f  max %.3f ms\n",
                  t->warm_seq, o->warmup_s, ms(sg_hist_percentile(w, 50)),
                  ms(sg_hist_percentile(w, 99)), ms(w->total ? w->max : 0));
  }
  if (t->n_codes || t->other_codes) {
    sg_buf_printf(out, "error codes");
    for (size_t i = 0; i < t->n_codes; i++)
      sg_buf_printf(out, " %s %" PRIu64, t->codes[i].code, t->codes[i].n);
    if (t->other_codes)
      sg_buf_printf(out, " other %" PRIu64, t->other_codes);
    sg_buf_append_char(out, '\n');
  }
  uint64_t miss[LIST_MISSING];
  size_t nm = sg_lg_track_missing_list(t, miss, LIST_MISSING);
  if (nm) {
    sg_buf_printf(out, "missing    ");
    for (size_t i = 0; i < nm; i++)
      sg_buf_printf(out, " %s%" PRIu64, t->prefix, miss[i]);
    if (sg_lg_track_missing(t) > nm)
      sg_buf_printf(out, " ...");
    sg_buf_append_char(out, '\n');
  }
}

static void kv_u(sg_buf *b, const char *k, uint64_t v, bool comma) {
  sg_jw_key(b, k);
  sg_buf_printf(b, "%" PRIu64 "%s", v, comma ? "," : "");
}

static void kv_d(sg_buf *b, const char *k, double v, bool comma) {
  sg_jw_key(b, k);
  sg_buf_printf(b, "%.3f%s", v, comma ? "," : "");
}

static void kv_s(sg_buf *b, const char *k, const char *v, bool comma) {
  sg_jw_key(b, k);
  if (v)
    sg_jw_cstr(b, v);
  else
    sg_buf_append_str(b, "null");
  if (comma)
    sg_buf_append_char(b, ',');
}

static void json_config(const sg_lg_opts *o, sg_buf *b) {
  sg_buf_append_str(b, "\"config\":{");
  kv_u(b, "count", o->count, true);
  kv_d(b, "rate", o->rate, true);
  kv_u(b, "producers", o->producers, true);
  kv_u(b, "pipeline", o->pipeline, true);
  kv_u(b, "senders", o->senders, true);
  kv_u(b, "recipients", o->recipients, true);
  kv_d(b, "acs_pct", o->acs_pct, true);
  kv_d(b, "invalid_pct", o->invalid_pct, true);
  kv_u(b, "size", o->size, true);
  kv_u(b, "attachments", o->attachments, true);
  kv_u(b, "attachment_size", o->attachment_size, true);
  kv_s(b, "jobs_stream", o->jobs_stream, true);
  kv_s(b, "results_stream", o->results_stream, true);
  kv_s(b, "reply_stream", o->reply_stream, true);
  kv_d(b, "timeout_s", o->timeout_s, false);
  sg_buf_append_str(b, "},");
}

static void json_jobs(const sg_lg_track *t, sg_buf *b) {
  sg_buf_append_str(b, "\"jobs\":{");
  kv_u(b, "planned", t->planned, true);
  kv_u(b, "built", t->built, true);
  kv_u(b, "queued", t->queued, true);
  kv_u(b, "queue_failed", t->queue_failed, true);
  kv_u(b, "completed", t->completed, true);
  kv_u(b, "missing", sg_lg_track_missing(t), true);
  kv_u(b, "late", t->late, true);
  kv_u(b, "duplicates", t->duplicates, true);
  kv_u(b, "foreign", t->foreign, true);
  kv_u(b, "undecodable", t->undecodable, true);
  kv_u(b, "planned_invalid", t->planned_invalid, true);
  kv_u(b, "planned_acs", t->planned_acs, true);
  kv_u(b, "unexpected_invalid", t->unexpected_invalid, true);
  kv_u(b, "invalid_accepted", t->invalid_accepted, false);
  sg_buf_append_str(b, "},\"missing_ids\":[");
  uint64_t miss[LIST_MISSING];
  size_t nm = sg_lg_track_missing_list(t, miss, LIST_MISSING);
  for (size_t i = 0; i < nm; i++)
    sg_buf_printf(b, "%s\"%s%" PRIu64 "\"", i ? "," : "", t->prefix, miss[i]);
  sg_buf_append_str(b, "],");
}

static void json_results(const sg_lg_track *t, sg_buf *b) {
  sg_buf_append_str(b, "\"by_status\":{");
  for (int s = SG_STATUS_SENT; s <= SG_STATUS_EXPIRED; s++)
    kv_u(b, sg_status_name((sg_status)s), t->by_status[s], true);
  kv_u(b, "UNSPECIFIED", t->by_status[SG_STATUS_UNSPECIFIED], false);
  sg_buf_append_str(b, "},\"by_backend\":{");
  kv_u(b, "graph", t->by_backend[SG_BACKEND_GRAPH], true);
  kv_u(b, "acs", t->by_backend[SG_BACKEND_ACS], true);
  kv_u(b, "smtp", t->by_backend[SG_BACKEND_SMTP], true);
  kv_u(b, "unspecified", t->by_backend[SG_BACKEND_UNSPECIFIED], false);
  sg_buf_append_str(b, "},\"error_codes\":{");
  for (size_t i = 0; i < t->n_codes; i++) {
    if (i)
      sg_buf_append_char(b, ',');
    sg_jw_cstr(b, t->codes[i].code);
    sg_buf_printf(b, ":%" PRIu64, t->codes[i].n);
  }
  if (t->other_codes)
    sg_buf_printf(b, "%s\"other\":%" PRIu64, t->n_codes ? "," : "", t->other_codes);
  sg_buf_append_str(b, "},");
}

/* ,"<name>":{count, p50 ... p99_9, max} of |h| (us) in ms. */
static void json_hist(sg_buf *b, const char *name, const sg_hist *h) {
  sg_buf_printf(b, ",\"%s\":{", name);
  kv_u(b, "count", h->total, true);
  for (size_t i = 0; i < SG_ARRAY_LEN(pcts); i++)
    kv_d(b, pct_keys[i], ms(sg_hist_percentile(h, pcts[i])), true);
  kv_d(b, "max", ms(h->total ? h->max : 0), false);
  sg_buf_append_char(b, '}');
}

void sg_lg_report_json(const sg_lg_opts *o, const sg_lg_track *t, const sg_lg_times *tm,
                       sg_lg_stop stop, sg_buf *b) {
  const sg_hist *h = &t->latency_us;
  sg_buf_append_char(b, '{');
  kv_s(b, "run_id", o->run_id, true);
  kv_s(b, "stop", sg_lg_stop_name(stop), true);
  json_config(o, b);
  json_jobs(t, b);
  json_results(t, b);
  sg_buf_append_str(b, "\"throughput\":{");
  kv_d(b, "elapsed_s", tm->elapsed_s, true);
  kv_d(b, "queue_s", tm->queue_s, true);
  kv_d(b, "complete_s", tm->complete_s, true);
  kv_d(b, "queued_per_s", per_s(t->queued, tm->queue_s), true);
  kv_d(b, "completed_per_s", per_s(t->completed, tm->complete_s), true);
  kv_d(b, "drain_s", tm->drain_s, true);
  kv_u(b, "drain_completed", tm->drain_completed, true);
  kv_d(b, "drain_per_s", per_s(tm->drain_completed, tm->drain_s), false);
  sg_buf_append_str(b, "},\"latency_ms\":{");
  kv_u(b, "count", h->total, true);
  kv_d(b, "min", ms(h->total ? h->min : 0), true);
  kv_d(b, "mean", sg_hist_mean(h) / 1000.0, true);
  for (size_t i = 0; i < SG_ARRAY_LEN(pcts); i++)
    kv_d(b, pct_keys[i], ms(sg_hist_percentile(h, pcts[i])), true);
  kv_d(b, "max", ms(h->total ? h->max : 0), false);
  sg_buf_append_char(b, '}');
  if (t->to_entry_us.total)
    json_hist(b, "to_entry_ms", &t->to_entry_us);
  if (t->job_to_entry_us.total)
    json_hist(b, "job_to_entry_ms", &t->job_to_entry_us);
  if (t->warm_seq) {
    const sg_hist *w = &t->warm_latency_us;
    sg_buf_append_str(b, ",\"warmup\":{");
    kv_d(b, "seconds", o->warmup_s, true);
    kv_u(b, "jobs", t->warm_seq, true);
    sg_buf_append_str(b, "\"latency_ms\":{");
    kv_u(b, "count", w->total, true);
    for (size_t i = 0; i < SG_ARRAY_LEN(pcts); i++)
      kv_d(b, pct_keys[i], ms(sg_hist_percentile(w, pcts[i])), true);
    kv_d(b, "max", ms(w->total ? w->max : 0), false);
    sg_buf_append_str(b, "}}");
  }
  sg_buf_append_str(b, "}\n");
}
