/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The table of the gateway's metric families (names documented in the header)
 * and its registration. Nothing else: the runtime increments the children.
 */
#include "app/sg_metrics_gateway.h"

#include <stddef.h>

#include "core/sg_mem.h"

/* Label name lists, NULL-terminated (the count is taken at registration). */
static const char *const L_NONE[] = {NULL};
static const char *const L_BACKEND[] = {"backend", NULL};
static const char *const L_BACKEND_STATUS[] = {"backend", "status", NULL};
static const char *const L_REASON[] = {"reason", NULL};
static const char *const L_LANE[] = {"lane_kind", NULL};
static const char *const L_ORIGIN[] = {"origin", NULL};
static const char *const L_ORIGIN_CODE[] = {"origin", "code", NULL};
static const char *const L_ACCOUNT[] = {"account", NULL};
static const char *const L_STREAM[] = {"stream", NULL};

/* HTTP requests: Graph answers in tens to hundreds of ms; the top end catches
 * slow uploads of large messages and the request timeout. */
static const double B_HTTP[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
/* Jobs end to end: includes queueing behind lane limits, Retry-After pauses
 * and delayed retries, so the buckets reach an hour. */
static const double B_JOB[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600};

typedef struct entry {
  size_t offset; /* of the family pointer in sg_gw_metrics */
  sg_metric_desc d;
} entry;

/* clang-format off */
#define E(field, name, type, help, labels, buckets, nbuckets)                                      \
  {offsetof(sg_gw_metrics, field),                                                                 \
   {name, help, type, labels, 0, buckets, nbuckets, 0}}
#define C(field, name, help, labels) E(field, name, SG_METRIC_COUNTER, help, labels, NULL, 0)
#define G(field, name, help, labels) E(field, name, SG_METRIC_GAUGE, help, labels, NULL, 0)
#define H(field, name, help, labels, b)                                                            \
  E(field, name, SG_METRIC_HISTOGRAM, help, labels, b, SG_ARRAY_LEN(b))
/* clang-format on */

static const entry TABLE[] = {
    C(jobs_fetched, "sendgate_jobs_fetched_total", "Job entries read from the jobs stream.",
      L_NONE),
    C(results, "sendgate_results_total", "Terminal results published, by backend and status.",
      L_BACKEND_STATUS),
    C(attempts, "sendgate_attempts_total", "Send requests made for jobs, by backend.", L_BACKEND),
    C(retries, "sendgate_retries_total", "Attempts scheduled again after a transient failure.",
      L_REASON),
    C(throttles, "sendgate_throttles_total", "Throttling responses received, by lane kind.",
      L_LANE),
    C(lane_pauses, "sendgate_lane_pauses_total", "Lanes paused until a Retry-After time.", L_LANE),
    G(lanes_waiting, "sendgate_lanes_waiting", "Lanes holding jobs that cannot start now.", L_LANE),
    G(lanes, "sendgate_lanes", "Lanes held in memory (in use, or idle and not yet freed).", L_NONE),
    G(jobs_in_flight, "sendgate_jobs_in_flight", "Jobs fetched and not yet completed.", L_NONE),
    G(delayed_jobs, "sendgate_delayed_jobs", "Jobs in the delayed-retry set.", L_NONE),
    C(dead_letters, "sendgate_dead_letters_total", "Entries written to the dead-letter stream.",
      L_NONE),
    C(http_requests, "sendgate_http_requests_total",
      "HTTP requests finished, by origin and response code (error: no response).", L_ORIGIN_CODE),
    G(http_connections_open, "sendgate_http_connections_open", "HTTP/2 connections open.",
      L_ORIGIN),
    G(http_streams_open, "sendgate_http_streams_open", "HTTP/2 streams open.", L_ORIGIN),
    C(token_fetches, "sendgate_token_fetches_total", "Access token requests made to Entra.",
      L_ACCOUNT),
    C(token_fetch_failures, "sendgate_token_fetch_failures_total",
      "Access token requests that yielded no token.", L_ACCOUNT),
    C(redis_reconnects, "sendgate_redis_reconnects_total",
      "Redis connections re-established after a loss.", L_NONE),
    H(http_request_duration, "sendgate_http_request_duration_seconds",
      "HTTP request latency, sent to response complete, by origin.", L_ORIGIN, B_HTTP),
    H(job_duration, "sendgate_job_duration_seconds",
      "Job latency from creation to terminal result.", L_NONE, B_JOB),
    C(ambiguous_outcomes, "sendgate_ambiguous_outcomes_total",
      "Send requests whose outcome is unknown (the message may have been sent).", L_BACKEND),
    G(consumer_lag, "sendgate_consumer_lag",
      "Entries of the stream not yet read by the consumer group (NaN when unknown).", L_STREAM),
    G(consumer_pending, "sendgate_consumer_pending",
      "Entries read by the consumer group and not yet acknowledged.", L_STREAM),
    G(redis_up, "sendgate_redis_up", "1 while the gateway's Redis connections are up, else 0.",
      L_NONE),
    G(smtp_sessions_open, "sendgate_smtp_sessions_open", "SMTP sessions open or opening.", L_NONE),
    C(smtp_sessions_opened, "sendgate_smtp_sessions_opened_total", "SMTP sessions opened.", L_NONE),
};

int sg_gw_metrics_register(sg_metrics *m, sg_gw_metrics *out) {
  for (size_t i = 0; i < SG_ARRAY_LEN(TABLE); i++) {
    sg_metric_family **slot = (sg_metric_family **)((char *)out + TABLE[i].offset);
    sg_metric_desc d = TABLE[i].d;
    while (d.labels[d.nlabels] != NULL)
      d.nlabels++;
    int rv = sg_metrics_register(m, &d, slot);
    if (rv != 0)
      return rv;
  }
  return 0;
}
