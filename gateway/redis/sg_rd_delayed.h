/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The delayed set: jobs that must wait long (a quota exhausted for hours, a
 * mailbox over its daily cap) leave the job stream instead of staying pending
 * in memory, and come back when they are due.
 *
 * Layout: ZSET `sendgate:delayed`, score = due time in Unix ms, member =
 *   "<entry id>|<attempts>|<job bytes>"
 * where <entry id> is the job stream entry that was parked ("<ms>-<seq>",
 * which makes the member unique: a job parked again after coming back has a
 * new entry id) and <attempts> the runtime's attempt count so far (decimal).
 * The job bytes follow the second '|' unchanged (binary-safe).
 *
 * Parking (runtime): the ZADD goes into the entry's completion transaction,
 * MULTI ZADD <key> <due> <member>; XACK; XDEL; EXEC (sg_rd_park_init +
 * sg_rd_stream_complete, or sg_rd_delayed_park). ZADD of the same member is
 * idempotent, so a completion re-sent after a reconnect does not duplicate.
 *
 * Moving back (sg_rd_delayed): a timer runs a Lua script (EVALSHA, falling
 * back to EVAL when Redis answers NOSCRIPT, e.g. after SCRIPT FLUSH or a
 * restart) that takes at most |batch| members with score <= now, and for each
 * one XADDs <jobs> * job <bytes> delayed_from <entry id> attempts <n> and
 * ZREMs it, atomically: a member comes back exactly once. A member not in the
 * format above is moved as raw job bytes (field job only). The script returns
 * the number moved, the earliest remaining score and the ZCARD. While a full
 * batch was moved it runs again at once; otherwise at the next due time or
 * after tick_ms, whichever is first. "now" is this process's wall clock.
 *
 * Single-threaded: all calls and callbacks on the loop thread.
 */
#ifndef SG_RD_DELAYED_H
#define SG_RD_DELAYED_H

#include "core/sg_mem.h"
#include "redis/sg_rd_client.h"
#include "redis/sg_rd_stream.h"

#include <stdint.h>
#include <uv.h>

#define SG_RD_DELAYED_KEY "sendgate:delayed"

/* ---- members (pure) ---- */

/* Appends the member "<entry id>|<attempts>|<job>" to |out|. */
void sg_rd_delayed_member(sg_buf *out, const char *entry_id, uint32_t attempts, const void *job,
                          size_t job_len);

/* A parsed member; the pointers borrow from the parsed bytes. */
typedef struct sg_rd_delayed_member_view {
  const char *entry_id; /* not NUL-terminated */
  size_t entry_id_len;
  uint32_t attempts;
  const char *job;
  size_t job_len;
} sg_rd_delayed_member_view;

/* Parses |len| bytes at |m|. Returns 0 or SG_ERR_PARSE (not in the format). */
int sg_rd_delayed_member_parse(const char *m, size_t len, sg_rd_delayed_member_view *out);

/* ---- parking (for the runtime's completion transaction) ---- */

/*
 * The ZADD op of one park. Fill with sg_rd_park_init, pass |op| to
 * sg_rd_stream_complete (which copies it), then sg_rd_park_free. The struct
 * points into itself: do not copy or move it between init and free.
 */
typedef struct sg_rd_park {
  sg_rd_op op;
  /* private */
  const char *argv_[4];
  size_t lens_[4];
  char due_[24];
  sg_buf member_;
} sg_rd_park;

/*
 * Builds ZADD <key> <due_unix_ms> <member>. |key| NULL means
 * SG_RD_DELAYED_KEY; all pointers are borrowed until sg_rd_park_free except
 * |entry_id| and |job|, which are copied.
 */
void sg_rd_park_init(sg_rd_park *p, const char *key, int64_t due_unix_ms, const char *entry_id,
                     uint32_t attempts, const void *job, size_t job_len);
void sg_rd_park_free(sg_rd_park *p);

/*
 * Convenience: queues the completion of |entry_id| on |s| with the park op
 * (ZADD; XACK; XDEL in one MULTI). Arguments as for sg_rd_park_init, |done|
 * and |ud| as for sg_rd_stream_complete.
 *
 * Returns 0 or one of: SG_ERR_INVAL, SG_ERR_SHUTDOWN (see sg_rd_stream_complete).
 */
int sg_rd_delayed_park(sg_rd_stream *s, const char *key, const char *entry_id, int64_t due_unix_ms,
                       uint32_t attempts, const void *job, size_t job_len,
                       sg_rd_stream_done_cb done, void *ud);

/* ---- the mover ---- */

typedef struct sg_rd_delayed sg_rd_delayed;

typedef struct sg_rd_delayed_opts {
  sg_rd_client *client;    /* required, borrowed: e.g. sg_rd_stream_cmd_client */
  const char *key;         /* default SG_RD_DELAYED_KEY (copied) */
  const char *stream;      /* default "sendgate:jobs" (copied) */
  uint32_t tick_ms;        /* longest gap between runs; default 1000 */
  uint32_t batch;          /* members per script run; default 100 */
  uint32_t cmd_timeout_ms; /* default 5000 */
  /* Wall clock in Unix ms; NULL = sg_wall_ms (tests pass a fake one). */
  int64_t (*now_ms)(void *ud);
  void *now_ud;
} sg_rd_delayed_opts;

typedef struct sg_rd_delayed_stats {
  uint64_t runs;         /* scripts answered */
  uint64_t moved;        /* members moved back to the job stream */
  uint64_t script_loads; /* NOSCRIPT answered: the script was sent with EVAL */
  uint64_t errors;       /* failed runs */
  uint64_t size;         /* ZCARD at the last run (for metrics) */
  int64_t next_due_ms;   /* earliest remaining due time at the last run; 0 = none */
} sg_rd_delayed_stats;

typedef void (*sg_rd_delayed_closed_cb)(void *ud);

/*
 * Creates the mover on |loop| and runs its first pass on the next loop turn.
 * |opts| is copied. Returns 0 or SG_ERR_INVAL (no client).
 */
int sg_rd_delayed_new(uv_loop_t *loop, const sg_rd_delayed_opts *opts, sg_rd_delayed **out);

/* Tells the mover a member due at |due_unix_ms| was parked, so it runs by then
 * even if that is before the next tick. */
void sg_rd_delayed_notify(sg_rd_delayed *d, int64_t due_unix_ms);

/* ZCARD of the delayed set at the last run. */
uint64_t sg_rd_delayed_size(const sg_rd_delayed *d);

void sg_rd_delayed_get_stats(const sg_rd_delayed *d, sg_rd_delayed_stats *out);

/*
 * Stops the mover. A script in flight is waited for (it completes atomically
 * in Redis either way). |done| (may be NULL) fires once nothing is left; |d|
 * is freed right after. Close it before closing its client.
 */
void sg_rd_delayed_close(sg_rd_delayed *d, sg_rd_delayed_closed_cb done, void *ud);

#endif
