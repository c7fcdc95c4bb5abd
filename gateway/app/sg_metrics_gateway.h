/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's metric families, defined in one table and registered in one
 * call, so the runtime never spells a metric name: it takes the family from
 * sg_gw_metrics, looks a child up once (sg_metric_child1 ...) and keeps the
 * pointer. Every name, its labels and their values are listed below; label
 * values must come from these small fixed sets (or from the configuration,
 * for account names), never from job contents, to keep cardinality bounded.
 *
 * Label values used throughout:
 *   backend    "graph", "acs"
 *   status     sg_status_name(): "SENT", "FAILED", "INVALID", "EXPIRED"
 *   origin     "graph", "acs", "entra" (the HTTP/2 pool the request went to)
 *   code       HTTP status as digits ("202", "429"), or "error" when no
 *              response came (transport failure, reset, timeout)
 *   lane_kind  "graph" (one lane per account and mailbox), "acs" (per resource),
 *              "smtp" (per account and mailbox)
 *   reason     retries: "throttled" (429 / Retry-After), "server" (5xx),
 *              "transport" (connection or stream failure, refused stream),
 *              "timeout", "token" (no access token yet)
 *   account    configured account name ("default" for the unnamed one)
 *   stream     the jobs stream's key (gateway.jobs_stream, "sendgate:jobs")
 */
#ifndef SG_METRICS_GATEWAY_H
#define SG_METRICS_GATEWAY_H

#include "core/sg_metrics.h"

typedef struct sg_gw_metrics {
  /* sendgate_jobs_fetched_total: entries read from the jobs stream (new or reclaimed). */
  sg_metric_family *jobs_fetched;
  /* sendgate_results_total{backend,status}: terminal results published. */
  sg_metric_family *results;
  /* sendgate_attempts_total{backend}: send requests made to Graph or ACS for jobs. */
  sg_metric_family *attempts;
  /* sendgate_retries_total{reason}: attempts scheduled again after a transient failure. */
  sg_metric_family *retries;
  /* sendgate_throttles_total{lane_kind}: throttling responses (429, or 503 with Retry-After). */
  sg_metric_family *throttles;
  /* sendgate_lane_pauses_total{lane_kind}: lanes paused until a Retry-After time. */
  sg_metric_family *lane_pauses;
  /* sendgate_lanes_waiting{lane_kind} (gauge): lanes holding jobs that cannot start now
   * (at their in-flight cap, out of window budget or paused). */
  sg_metric_family *lanes_waiting;
  /* sendgate_lanes (gauge): lanes held in memory, in use or idle and not yet freed
   * (a lane is freed once its windows and pause could no longer hold a request back). */
  sg_metric_family *lanes;
  /* sendgate_jobs_in_flight (gauge): jobs fetched and not yet completed. */
  sg_metric_family *jobs_in_flight;
  /* sendgate_delayed_jobs (gauge): size of the delayed-retry set (sendgate:delayed). */
  sg_metric_family *delayed_jobs;
  /* sendgate_dead_letters_total: entries written to sendgate:dead. */
  sg_metric_family *dead_letters;
  /* sendgate_http_requests_total{origin,code}: HTTP requests finished, by response code. */
  sg_metric_family *http_requests;
  /* sendgate_http_connections_open{origin} (gauge): HTTP/2 connections open. */
  sg_metric_family *http_connections_open;
  /* sendgate_http_streams_open{origin} (gauge): HTTP/2 streams (requests) open. */
  sg_metric_family *http_streams_open;
  /* sendgate_token_fetches_total{account}: access token requests made to Entra. */
  sg_metric_family *token_fetches;
  /* sendgate_token_fetch_failures_total{account}: those that yielded no token. */
  sg_metric_family *token_fetch_failures;
  /* sendgate_redis_reconnects_total: Redis connections re-established after a loss. */
  sg_metric_family *redis_reconnects;
  /* sendgate_http_request_duration_seconds{origin} (histogram): request sent to
   * response complete (or failure). */
  sg_metric_family *http_request_duration;
  /* sendgate_job_duration_seconds (histogram): job created_unix_ms (fetch time when
   * unset) to its terminal result. */
  sg_metric_family *job_duration;
  /* sendgate_ambiguous_outcomes_total{backend}: send requests whose fate is unknown
   * (timeout or reset after the request went out): the message may have been sent. */
  sg_metric_family *ambiguous_outcomes;
  /* sendgate_consumer_lag{stream} (gauge): entries of the jobs stream the consumer group
   * has not read yet (XINFO GROUPS "lag", sampled once a second; NaN when Redis cannot
   * tell, e.g. after entries were deleted out of order). */
  sg_metric_family *consumer_lag;
  /* sendgate_consumer_pending{stream} (gauge): entries read by the group, not yet acked. */
  sg_metric_family *consumer_pending;
  /* sendgate_redis_up (gauge): 1 while the gateway's Redis connections are up, else 0. */
  sg_metric_family *redis_up;
  /* sendgate_smtp_sessions_open (gauge): SMTP sessions open or opening (SMTP accounts). */
  sg_metric_family *smtp_sessions_open;
  /* sendgate_smtp_sessions_opened_total: SMTP sessions opened (each reused for many messages). */
  sg_metric_family *smtp_sessions_opened;
} sg_gw_metrics;

/*
 * Registers every family above in |m| (borrowed) and fills |out| with them
 * (owned by |m|). Returns 0 or one of: SG_ERR_EXISTS (one of the names is
 * already registered in |m|), SG_ERR_INVAL (a bad table entry: a bug).
 */
int sg_gw_metrics_register(sg_metrics *m, sg_gw_metrics *out);

#endif
