/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's side of the Redis queue protocol, in one place: key names,
 * the result XADD, the sent ledger, parking in the delayed set and dead
 * letters. The runtime and the reaper ask this module; they write no RESP and
 * name no key. Everything goes through the job stream consumer (sg_rd_stream):
 * results, ledger writes, parks and dead letters are ops of an entry's
 * completion, applied atomically with its ack (see sg_rd_stream.h).
 *
 * Results: XADD <stream> [MAXLEN ~ <results_maxlen>] * result <MailResult>,
 * where <stream> is the job's reply stream or the default results stream
 * (only the default one is capped). If Redis refuses the XADD on a reply
 * stream (e.g. the key holds another type), the completion is sent again
 * with the result on the default stream; the caller's callback fires once.
 *
 * The sent ledger remembers jobs the provider accepted, so a redelivered
 * entry or a duplicate job id is not sent again and its outcome is published
 * again. Layout (HASH per bucket, small enough to stay a listpack):
 *
 *   key   sendgate:ledger:<gen>:<slot>   gen  = floor(unix_s / ledger_ttl_s)
 *                                        slot = bits 64..95 of the id's hash
 *                                               mod ledger_slots
 *   field <h>     h = bits 0..63 of SHA-256(account NUL sender NUL job id),
 *                 sender lower-cased, as a signed decimal (an int64 in Redis)
 *   value <v>     v = completed_unix_ms << 18 | min(attempts, 255) << 10 |
 *                     min(http_status, 1023), decimal (an int64 in Redis)
 *
 * written with HSETNX + EXPIREAT <(gen + 2) * ttl> in the job's completion.
 * A lookup checks gen and gen - 1, so a job is remembered for at least ttl and
 * at most 2 x ttl. The hash covers account and sender: a producer reusing
 * another producer's id with another account or sender neither gets that
 * result nor has its own mail suppressed (a false hit needs a 64-bit match
 * within one bucket: about 2^-57 per lookup). The prefix is new rather than
 * sendgate:sent: because job ids may contain ':', so sendgate:sent:<a>:<b>
 * could be a key of the older layout. All lookups of a loop turn go out
 * as native commands in one pipelined write, 512 jobs per batch (HGET of
 * both generations per job; sg_rd_queue_flush). Keys of the older layout
 * (sendgate:sent:<job id>, a string holding the whole MailResult) are still
 * honoured on lookup unless switched off (no_legacy), so an upgrade does not
 * send again what the old gateway sent.
 *
 * Single-threaded: all calls and callbacks on the loop thread.
 */
#ifndef SG_RD_QUEUE_H
#define SG_RD_QUEUE_H

#include "core/sg_list.h"
#include "core/sg_mem.h"
#include "redis/sg_rd_stream.h"

#include <stdbool.h>
#include <stdint.h>

#define SG_RD_RESULTS_STREAM "sendgate:results"
#define SG_RD_LEDGER_PREFIX "sendgate:ledger:"
#define SG_RD_LEDGER_LEGACY_PREFIX "sendgate:sent:"
/* Buckets per generation unless configured: about 64 jobs per bucket at 8
 * million jobs per ledger_ttl_s (a million a day for the default 7 days). */
#define SG_RD_LEDGER_SLOTS_DEFAULT 131072u
/* 100 years: keeps the buckets' EXPIREAT in range. */
#define SG_RD_LEDGER_TTL_MAX 3155760000LL

/* MailResult.error_code of the EXPIRED result for a dead-lettered entry. */
#define SG_RD_ERR_MAX_DELIVERIES "SENDGATE_MAX_DELIVERIES"
/* The dead letter's reason field for it. */
#define SG_RD_REASON_MAX_DELIVERIES "max_deliveries"

typedef struct sg_rd_queue sg_rd_queue;

typedef struct sg_rd_queue_opts {
  const char *results_stream; /* default SG_RD_RESULTS_STREAM (copied) */
  int64_t results_maxlen;     /* MAXLEN ~ on the default results stream; 0 = none */
  const char *delayed_key;    /* default SG_RD_DELAYED_KEY (copied) */
  int64_t ledger_ttl_s;       /* 0 = no ledger; at most SG_RD_LEDGER_TTL_MAX (larger: that) */
  uint32_t ledger_slots;      /* buckets per generation; default SG_RD_LEDGER_SLOTS_DEFAULT */
  uint32_t cmd_timeout_ms;    /* a lookup's reply; default 5000 */
  bool no_legacy;             /* do not look up the older layout (sendgate:sent:<job id>) */
} sg_rd_queue_opts;

/* |s| is borrowed and must outlive the queue. Returns 0 or SG_ERR_INVAL.
 * sg_rd_queue_free answers lookups still queued (not flushed) with
 * SG_ERR_SHUTDOWN; flushed ones are answered by the stream's command
 * connection as it stops. */
int sg_rd_queue_new(sg_rd_stream *s, const sg_rd_queue_opts *o, sg_rd_queue **out);
void sg_rd_queue_free(sg_rd_queue *q);
bool sg_rd_queue_ledger_on(const sg_rd_queue *q);
/* Looks up the older layout from the next flush on, or not (e.g. as told by
 * sg_rd_legacy: whether any key of it exists). */
void sg_rd_queue_set_legacy(sg_rd_queue *q, bool on);
/* Whether the default results stream is known to take results (a stream or
 * no key; true at first). While it is, its completions go as one MULTI of
 * native commands, which does not stop at a failed command; its ack is
 * guarded (sg_rd_stream_set_ack_guard, set by sg_rd_queue_new), so a result
 * refused there leaves the whole MULTI's jobs pending, not acked. While it is
 * not, they go by the script, which answers each job by itself. The gateway
 * sets it from the trimmer's look at the key (sg_rd_trim). */
void sg_rd_queue_set_default_trusted(sg_rd_queue *q, bool on);

/* ---- the sent ledger ---- */

/* Who sent what: the hash of (account, sender, job id). */
typedef struct sg_rd_ledger_id {
  int64_t field;
  uint32_t slot_hash;
} sg_rd_ledger_id;

void sg_rd_ledger_id_make(const char *account, const char *sender, const char *job_id,
                          sg_rd_ledger_id *out);

/* What the ledger keeps of a sent job. */
typedef struct sg_rd_sent {
  uint32_t attempts;   /* kept up to 255 */
  int32_t http_status; /* kept up to 1023 */
  int64_t completed_unix_ms;
  bool legacy; /* found under the older layout (sendgate:sent:<job id>) */
} sg_rd_sent;

/* The stored value and back. Pure. */
int64_t sg_rd_sent_pack(const sg_rd_sent *s);
void sg_rd_sent_unpack(int64_t v, sg_rd_sent *out);

/* The bucket key of |id| at generation |gen| into |out| (>= 64 bytes); returns its length. */
size_t sg_rd_ledger_key(const sg_rd_queue *q, int64_t gen, const sg_rd_ledger_id *id, char *out);
/* floor(|unix_ms| / 1000 / ledger_ttl_s). */
int64_t sg_rd_ledger_gen(const sg_rd_queue *q, int64_t unix_ms);

/*
 * One lookup, owned by the caller (e.g. inside its job) and left in place
 * until |cb|. |cb| gets status 0 with |sent| NULL (not in the ledger) or the
 * record found, or an error status (Redis refused: SG_ERR_REDIS; the
 * connection failed: another code) with |sent| NULL.
 */
typedef struct sg_rd_lookup sg_rd_lookup;
typedef void (*sg_rd_lookup_cb)(sg_rd_lookup *l, int status, const sg_rd_sent *sent);
struct sg_rd_lookup {
  /* private */
  sg_list node;
  sg_rd_ledger_id id;
  const char *job_id; /* borrowed, for the older layout */
  sg_rd_lookup_cb cb;
};

/* Queues a lookup of (|id|, |job_id|) for the next sg_rd_queue_flush. */
void sg_rd_queue_lookup(sg_rd_queue *q, sg_rd_lookup *l, const sg_rd_ledger_id *id,
                        const char *job_id, sg_rd_lookup_cb cb);
/* Takes a lookup off the queue if not sent yet; returns whether it was queued. */
bool sg_rd_queue_lookup_cancel(sg_rd_lookup *l);
/* Sends the queued lookups, up to 512 per pipelined batch (call once per loop
 * turn). Lookups that cannot be sent get their callback with the error. */
void sg_rd_queue_flush(sg_rd_queue *q);
/* The fields in one bucket of the current generation (the first job's of
 * the last lookup call: a sample). Above 128 (Redis's default
 * hash-max-listpack-entries) a bucket costs several times the memory: the
 * queue logs a warning (every 10 minutes at most) that ledger_slots should be
 * raised. */
uint32_t sg_rd_queue_ledger_fill(const sg_rd_queue *q);

/*
 * The ledger write of a completion: HSETNX and EXPIREAT, in |ops| (two) with
 * their arguments in |scratch|; |scratch| must stay in place until the ops
 * are queued. The HSETNX is ops[0]: queued with sg_rd_stream_complete_once it
 * tells a completion sent again that it ran.
 */
typedef struct sg_rd_ledger_write {
  sg_rd_op ops[2];
  size_t nops; /* 2 when the bucket's EXPIREAT goes with it, else 1 */
  /* private */
  const char *argv_[7];
  size_t lens_[7];
  char key_[64], field_[24], value_[24], at_[24];
} sg_rd_ledger_write;

/* The bucket's EXPIREAT goes with the first write this process makes to it in
 * a generation (and again after a reconnect: Redis may have lost the key),
 * not with every write: it is a second write command per message otherwise. */
void sg_rd_ledger_write_init(sg_rd_queue *q, sg_rd_ledger_write *w, const sg_rd_ledger_id *id,
                             const sg_rd_sent *s, int64_t now_ms);

/* ---- the draft record of a large Graph message ---- */

/*
 * A job that goes to Graph as a draft (svc/sg_graph_upload.h) keeps one
 * string per job, written before the draft is sent, so a job handed out again
 * after a crash finds its draft and does not send a second message:
 *
 *   key   sendgate:draft:<field as 16 hex digits><slot_hash as 8 hex digits>
 *         of the job's ledger id (account, sender, job id)
 *   value what the provider wrote ("d <draft id>", "s <draft id>"), opaque here
 *
 * written with SET ... EX <ttl>; read with GET. Nothing else touches it.
 */
#define SG_RD_DRAFT_PREFIX "sendgate:draft:"
#define SG_RD_DRAFT_KEY_MAX 48

/* |status| 0 with |value| (|len| bytes, borrowed for the call) or NULL when
 * there is none (or after a SET); else the error (SG_ERR_REDIS: refused;
 * another code: the connection failed or timed out). */
typedef void (*sg_rd_draft_cb)(void *ud, int status, const char *value, size_t len);

/* The key of |id| into |out| (SG_RD_DRAFT_KEY_MAX bytes); returns its length. */
size_t sg_rd_draft_key(const sg_rd_ledger_id *id, char *out);

/* GET the record of |id|. |cb| fires once, never from inside this call.
 * Returns 0 or the error of sg_rd_client_cmd (then |cb| does not fire). */
int sg_rd_queue_draft_get(sg_rd_queue *q, const sg_rd_ledger_id *id, sg_rd_draft_cb cb, void *ud);

/* SET the record of |id| to |value| (|len| bytes, copied) for |ttl_s|
 * seconds. Returns as sg_rd_queue_draft_get. */
int sg_rd_queue_draft_set(sg_rd_queue *q, const sg_rd_ledger_id *id, const char *value, size_t len,
                          int64_t ttl_s, sg_rd_draft_cb cb, void *ud);

/* ---- completions ---- */

/*
 * A completion in flight, owned by the caller (e.g. inside its job) and left
 * in place until |done|; the result bytes given with it too (they are
 * published again on the default stream if the reply stream refuses them).
 */
typedef struct sg_rd_completion {
  /* private */
  sg_rd_queue *q;
  const char *entry_id;
  const char *result;
  size_t result_len;
  bool on_default;
  sg_rd_stream_done_cb done;
  void *ud;
} sg_rd_completion;

/*
 * Publishes |result| (an encoded MailResult) on |reply_stream| (NULL or "":
 * the default results stream) and acks |entry_id|, atomically. With |sent|
 * (a job the provider accepted, and the ledger on) the ledger write of |id|
 * goes first, as the completion's "once" guard. |done| fires once (see
 * sg_rd_stream_done_cb), never from inside this call. Returns 0 or the
 * error of sg_rd_stream_complete (then |done| does not fire).
 */
int sg_rd_queue_finish(sg_rd_queue *q, sg_rd_completion *c, const char *entry_id,
                       const char *reply_stream, const char *result, size_t result_len,
                       const sg_rd_ledger_id *id, const sg_rd_sent *sent, sg_rd_stream_done_cb done,
                       void *ud);

/* Moves |entry_id| to the delayed set until |due_unix_ms| (ZADD + ack), with
 * the job's bytes and its attempts so far. Returns as sg_rd_stream_complete. */
int sg_rd_queue_park(sg_rd_queue *q, const char *entry_id, int64_t due_unix_ms, uint32_t attempts,
                     const void *job, size_t job_len, sg_rd_stream_done_cb done, void *ud);

/* An entry that is not a job: dead letter with |reason|, |result| (INVALID)
 * on the default results stream, ack. Returns as sg_rd_stream_dead_letter. */
int sg_rd_queue_reject(sg_rd_queue *q, const sg_rd_entry *e, const char *reason, const char *result,
                       size_t result_len, sg_rd_stream_done_cb done, void *ud);

/*
 * For the reaper: an entry handed out |deliveries| times (more than
 * |max_deliveries|): dead letter (its fields plus deliveries <n>, reason
 * max_deliveries), the EXPIRED result on the job's reply stream or the
 * default one, ack. Returns as sg_rd_stream_dead_letter.
 */
int sg_rd_queue_dead_expired(sg_rd_queue *q, const sg_rd_entry *e, uint32_t deliveries,
                             uint32_t max_deliveries, sg_rd_stream_done_cb done, void *ud);

/*
 * The EXPIRED result of such an entry: decodes its "job" field among |fields|
 * if it can. Appends the MailResult to |out| and writes the job's reply
 * stream into |*reply| (sg_free; NULL when it has none or does not decode).
 * |now_ms| is the completion time. Pure.
 */
void sg_rd_queue_expired_result(const sg_rd_field *fields, size_t nfields, const char *entry_id,
                                uint32_t deliveries, uint32_t max_deliveries, int64_t now_ms,
                                sg_buf *out, char **reply);

#endif
