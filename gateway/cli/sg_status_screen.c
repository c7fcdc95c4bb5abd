/* SPDX-License-Identifier: Apache-2.0 */
/* The `sendgate status` screen; see sg_status_screen.h. */
#include "cli/sg_status_screen.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/sg_clock.h"

void sg_status_fmt_dur(char out[32], int64_t ms) {
  if (ms < 0)
    ms = 0;
  int64_t s = ms / 1000;
  if (ms < 1000)
    snprintf(out, 32, "%" PRId64 "ms", ms);
  else if (s < 60)
    snprintf(out, 32, "%" PRId64 "s", s);
  else if (s < 3600)
    snprintf(out, 32, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
  else if (s < 86400)
    snprintf(out, 32, "%" PRId64 "h%02" PRId64 "m", s / 3600, s / 60 % 60);
  else
    snprintf(out, 32, "%" PRId64 "d%02" PRId64 "h", s / 86400, s / 3600 % 24);
}

static int64_t num(const sg_json *obj, const char *k, int64_t dflt) {
  int64_t v;
  return sg_json_int(sg_json_get(obj, k), &v) ? v : dflt;
}

static const char *str(const sg_json *obj, const char *k) {
  const char *s = sg_json_str(sg_json_get(obj, k));
  return s ? s : "-";
}

/* "12" or "-" for a missing or null number. */
static const char *numstr(char buf[24], const sg_json *obj, const char *k) {
  int64_t v;
  if (!sg_json_int(sg_json_get(obj, k), &v))
    return "-";
  snprintf(buf, 24, "%" PRId64, v);
  return buf;
}

/* "HH:MM:SSZ (in 42s)" for a time member "<k>_ms", or "" when it is null. */
static void when(char out[64], const sg_json *obj, const char *k, int64_t now) {
  char name[64];
  snprintf(name, sizeof name, "%s_ms", k);
  int64_t t = num(obj, name, 0);
  out[0] = '\0';
  if (t == 0)
    return;
  char rfc[32], d[32];
  sg_time_rfc3339(t, rfc);
  sg_status_fmt_dur(d, t > now ? t - now : now - t);
  snprintf(out, 64, "%.8sZ (%s%s%s)", rfc + 11, t > now ? "in " : "", d, t > now ? "" : " ago");
}

static void header(sg_buf *out, const sg_json *doc, int64_t now) {
  const sg_json *p = sg_json_get(doc, "process"), *r = sg_json_get(doc, "redis");
  char d[32], b1[24], b2[24];
  sg_status_fmt_dur(d, num(p, "uptime_s", 0) * 1000);
  sg_buf_printf(out, "sendgate %s  consumer %s  pid %" PRId64 "  up %s%s\n", str(p, "version"),
                str(p, "consumer"), num(p, "pid", 0), d,
                sg_json_true(sg_json_get(p, "stopping")) ? "  STOPPING" : "");
  char sampled[64];
  when(sampled, r, "sampled", now);
  sg_buf_printf(out, "redis %s (reconnects %" PRId64 ")  %s group %s: lag %s, pending %s, ",
                sg_json_true(sg_json_get(r, "connected")) ? "connected" : "DOWN",
                num(r, "reconnects", 0), str(r, "stream"), str(r, "group"), numstr(b1, r, "lag"),
                numstr(b2, r, "pending"));
  sg_buf_printf(out, "delayed %s\n", numstr(b1, r, "delayed"));
  const sg_json *t = sg_json_get(doc, "totals");
  sg_buf_printf(out,
                "totals: fetched %" PRId64 ", sent %" PRId64 ", failed %" PRId64
                ", invalid %" PRId64 ", expired %" PRId64 ", retries %" PRId64
                ", dead letters %" PRId64 "\n",
                num(t, "fetched", 0), num(t, "sent", 0), num(t, "failed", 0), num(t, "invalid", 0),
                num(t, "expired", 0), num(t, "retries", 0), num(t, "dead_letters", 0));
}

static void jobs(sg_buf *out, const sg_json *doc) {
  static const char *const states[] = {"checking",  "queued",     "token_wait",
                                       "in_flight", "retry_wait", "completing"};
  const sg_json *j = sg_json_get(doc, "jobs");
  sg_buf_printf(out, "jobs held %" PRId64 ":", num(j, "total", 0));
  for (size_t i = 0; i < sizeof states / sizeof *states; i++) {
    const sg_json *s = sg_json_get(j, states[i]);
    int64_t n = num(s, "count", 0), age = num(s, "oldest_age_ms", -1);
    sg_buf_printf(out, "%s %s %" PRId64, i ? "," : "", states[i], n);
    if (n > 0 && age >= 0) {
      char d[32];
      sg_status_fmt_dur(d, age);
      sg_buf_printf(out, " (oldest %s)", d);
    }
  }
  sg_buf_append_char(out, '\n');
}

static void lane(sg_buf *out, const sg_json *l, int64_t now) {
  char cap[24], inflight[48];
  int64_t c = num(l, "cap", 0);
  if (c > 0)
    snprintf(cap, sizeof cap, "%" PRId64, c);
  else
    snprintf(cap, sizeof cap, "-");
  snprintf(inflight, sizeof inflight, "%" PRId64 "/%s", num(l, "in_flight", 0), cap);
  const char *mb = str(l, "mailbox");
  sg_buf_printf(out, "  %-13s %-9s %7" PRId64 "  %s %s%s%s\n", str(l, "state"), inflight,
                num(l, "queued", 0), str(l, "backend"), str(l, "account"), mb[0] ? " " : "",
                strcmp(mb, "-") == 0 ? "" : mb);
  char t[64];
  when(t, l, "paused_until", now);
  if (t[0])
    sg_buf_printf(out, "      paused until %s: %s\n", t, str(l, "pause_reason"));
  else if (strcmp(str(l, "state"), "out_of_budget") == 0 && (when(t, l, "wake", now), t[0]))
    sg_buf_printf(out, "      out of budget until %s\n", t);
  const sg_json *ws = sg_json_get(l, "windows");
  if (ws == NULL || ws->count == 0)
    return;
  sg_buf_append_str(out, "      windows:");
  for (const sg_json *w = ws->child; w; w = w->next) {
    char d[32];
    sg_status_fmt_dur(d, num(w, "window_ms", 0));
    sg_buf_printf(out, " %s %" PRId64 "/%" PRId64 " per %s", str(w, "name"), num(w, "used", 0),
                  num(w, "limit", 0), d);
    when(t, w, "frees", now);
    if (t[0])
      sg_buf_printf(out, " (full, frees %s)", t);
    sg_buf_append_char(out, w->next ? ';' : '\n');
  }
}

static void lanes(sg_buf *out, const sg_json *doc, int64_t now) {
  const sg_json *ls = sg_json_get(doc, "lanes"), *list = sg_json_get(ls, "list");
  sg_buf_printf(out, "\nLANES %" PRId64 " (%" PRId64 " waiting)", num(ls, "total", 0),
                num(ls, "waiting", 0));
  int64_t listed = list ? (int64_t)list->count : 0;
  if (listed == 0) {
    sg_buf_append_str(out, "\n");
    return;
  }
  sg_buf_append_str(out, "\n  STATE         INFLIGHT   QUEUED  LANE\n");
  int shown = 0;
  for (const sg_json *l = list->child; l && shown < SG_STATUS_SCREEN_LANES; l = l->next, shown++)
    lane(out, l, now);
  int64_t rest = num(ls, "total", 0) - shown;
  if (rest > 0)
    sg_buf_printf(out, "  ... and %" PRId64 " more lanes (idle or less busy)\n", rest);
}

static void tokens(sg_buf *out, const sg_json *doc, int64_t now) {
  const sg_json *ts = sg_json_get(doc, "tokens");
  if (ts == NULL || ts->count == 0)
    return;
  sg_buf_append_str(out, "\nTOKENS\n");
  for (const sg_json *t = ts->child; t; t = t->next) {
    char until[64];
    when(until, t, "valid_until", now);
    sg_buf_printf(out, "  %-16s %-6s %-10s", str(t, "account"), str(t, "backend"), str(t, "state"));
    if (until[0])
      sg_buf_printf(out, " valid until %s", until);
    if (sg_json_true(sg_json_get(t, "failing")))
      sg_buf_append_str(out, " FAILING");
    const char *e = sg_json_str(sg_json_get(t, "last_error"));
    if (e)
      sg_buf_printf(out, " last error: %s", e);
    sg_buf_append_char(out, '\n');
  }
}

static void pools(sg_buf *out, const sg_json *doc) {
  const sg_json *ps = sg_json_get(doc, "connections");
  if (ps == NULL || ps->count == 0)
    return;
  sg_buf_append_str(out, "\nCONNECTIONS\n");
  for (const sg_json *p = ps->child; p; p = p->next)
    sg_buf_printf(out,
                  "  %-40s %-6s %" PRId64 " open, %" PRId64 " connecting, %" PRId64
                  " streams, %" PRId64 " queued\n",
                  str(p, "origin"), str(p, "kind"), num(p, "open", 0), num(p, "connecting", 0),
                  num(p, "streams", 0), num(p, "queued", 0));
}

int sg_status_screen(sg_buf *out, const sg_json *doc) {
  const char *kind = sg_json_str(sg_json_get(doc, "kind"));
  if (kind == NULL || strcmp(kind, "sendgate.status") != 0)
    return -1;
  int64_t now = num(sg_json_get(doc, "process"), "now_ms", 0);
  header(out, doc, now);
  jobs(out, doc);
  lanes(out, doc, now);
  tokens(out, doc, now);
  pools(out, doc);
  return 0;
}
