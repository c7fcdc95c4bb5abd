/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Structured logging: one JSON object per line on stderr, written with a single
 * write(2). Never log secrets or message bodies; mask recipient addresses with
 * sg_log_mask_addr unless the operator asked for them in clear.
 *
 *   {"ts":"2026-11-29T20:14:29.123Z","level":"info","comp":"redis","msg":"connected"}
 */
#ifndef SG_LOG_H
#define SG_LOG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
  SG_LOG_DEBUG = 0,
  SG_LOG_INFO = 1,
  SG_LOG_WARN = 2,
  SG_LOG_ERROR = 3,
  SG_LOG_OFF = 4
} sg_log_level;

void sg_log_set_level(sg_log_level lvl);
sg_log_level sg_log_get_level(void);
/* Parses "debug", "info", "warn"/"warning", "error", "off". Returns 0 or SG_ERR_INVAL. */
int sg_log_parse_level(const char *s, sg_log_level *out);
bool sg_log_enabled(sg_log_level lvl);
/* Sets the "svc" field every line carries (borrowed; keep it alive). */
void sg_log_set_service(const char *name);
/* Whether sg_log_mask_addr shows addresses in clear (default: masked). */
void sg_log_set_show_recipients(bool show);

/* Logs a printf-formatted message for component |comp|. */
void sg_log(sg_log_level lvl, const char *comp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Logs |msg| with extra string fields given as key, value pairs ending in a
 * NULL key: sg_log_kv(SG_LOG_INFO, "job", "sent", "job_id", id, NULL).
 * A NULL value is written as JSON null.
 */
void sg_log_kv(sg_log_level lvl, const char *comp, const char *msg, ...);

/*
 * Writes a masked form of an e-mail address into |out| ("j***@example.com"),
 * or the address itself when showing recipients is on. Always NUL-terminates.
 */
void sg_log_mask_addr(const char *addr, char *out, size_t cap);

/*
 * Copies free text |in| (a provider's error message, say) into |out| (|cap|
 * bytes) with every e-mail address in it masked as sg_log_mask_addr does
 * ("j***@example.com"), unless recipients are shown in clear.
 */
void sg_log_mask_text(const char *in, char *out, size_t cap);

#endif
