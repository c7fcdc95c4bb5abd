/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smtpd's result watcher: sends the delivery status notifications of
 * smtp/sg_smtp_dsn.h. On its own Redis connection (a blocking read holds
 * it) it reads the default results stream with its own consumer group
 * (SG_SMTPD_DSN_GROUP, created at `$` so results from before the first start
 * are never bounced), XADDs a notification job to the jobs stream for each
 * result that calls for one, then XACKs the result; a result is acked only
 * after its notification is in the stream, so a crash or a Redis error
 * repeats it, and the notification's job id (dsn-<job id>) lets the gateway
 * drop the repeat. After every (re)connect it first goes through the entries
 * it read and did not ack. Every wait is bounded: the blocking read and each
 * command have a deadline. Runs only when smtp.bounce_sender is set.
 */
#ifndef SG_SMTPD_DSN_H
#define SG_SMTPD_DSN_H

#include <uv.h>

#include "core/sg_metrics.h"
#include "smtp/sg_smtp_config.h"

/* The consumer group on the results stream. */
#define SG_SMTPD_DSN_GROUP "sendgate-smtpd"

typedef struct sg_smtpd_dsn sg_smtpd_dsn;

/*
 * Starts the watcher on |loop| for |cfg| (borrowed; keep it alive until
 * closed): results from cfg->base.results_stream, jobs to
 * cfg->base.jobs_stream, consumer cfg->base.consumer (or the machine's host
 * name: a consumer's unacked results are read again by the same name only).
 * Registers sendgate_smtp_dsn_sent_total and sendgate_smtp_dsn_errors_total
 * in |registry| (borrowed). Returns 0 or SG_ERR_CONFIG (bad redis.url) with
 * a reason in |err|, or a code of sg_rd_client_new.
 */
int sg_smtpd_dsn_start(sg_smtpd_dsn **out, uv_loop_t *loop, const sg_smtp_config *cfg,
                       sg_metrics *registry, char *err, size_t errcap);

/*
 * Stops: commands in flight are abandoned (their results stay pending and
 * are done at the next start), the connection and timer close, |w| is
 * freed and |done| (may be NULL) is called with |ud|.
 */
void sg_smtpd_dsn_close(sg_smtpd_dsn *w, void (*done)(void *ud), void *ud);

#endif
