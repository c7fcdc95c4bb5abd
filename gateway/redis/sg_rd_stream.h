/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The job stream consumer: reads `sendgate:jobs` as consumer |consumer| of
 * group `sendgate` and completes entries with "result + ack" transactions.
 *
 * Two connections (sg_rd_client): the read connection runs only XGROUP CREATE
 * (once per connect, so the group exists before that connection's first read)
 * and XREADGROUP; the command connection runs the completions and whatever
 * the owner sends through sg_rd_stream_cmd_client.
 *
 * Reading. On every (re)connect: XGROUP CREATE <key> <group> 0 MKSTREAM
 * (BUSYGROUP ignored), then this consumer's own pending entries (from id 0,
 * paged by the last id), then new ones. Two kinds of read:
 *  - sized: one Lua script that decides entry sizes inside Redis before
 *    anything crosses the wire (see read_script in sg_rd_stream.c): an entry
 *    over max_entry_bytes is handed out without its fields (oversize, with
 *    its size) so that no payload can exceed what the gateway accepts, and a
 *    read takes only as many entries as the byte budget has room for. A
 *    script cannot block, so an empty read is followed by another after a
 *    pause that doubles from 1 ms up to poll_ms while the stream stays empty.
 *  - native: XREADGROUP COUNT ... BLOCK for new entries (about 7 us less Redis
 *    CPU per entry). With neither max_entry_bytes nor byte_budget, always
 *    (no size protection). Otherwise only while the read connection's reply
 *    cap (which bounds the strings of one reply) holds the read at the
 *    estimated entry size plus one entry of max_entry_bytes, and the byte
 *    credit holds the whole cap: a read over the cap drops the connection and
 *    its entries come again through the pending scan, sized. The pending scan
 *    is always sized.
 * Entries already handed out and not yet completed are
 * not handed out again (the pending list after a reconnect holds them too).
 * Pending entries whose payload was deleted (nil) are acknowledged and
 * dropped. Backpressure is structural: it reads only while the owner's credit
 * is > 0 and (with a byte budget) one more entry of max_entry_bytes fits in
 * the byte credit, asks for at most min(COUNT, credit) entries, and each
 * entry handed out consumes one credit and its size in byte credit.
 *
 * Completing. sg_rd_stream_complete queues <ops...> + XACK (+ XDEL unless
 * trim_acked) of the entry; everything queued during one loop turn is written
 * in one pipelined flush (the loop's turn pass, just before it polls) as one
 * MULTI of native commands (completions marked trusted) or calls of one Lua
 * script that applies up to 256 completions atomically (one XACK, and one
 * XDEL, for all their ids). The done callback fires after the script ran. If the
 * command connection drops first, the completion stays queued and is sent
 * again after the reconnect: XACK, XDEL, SET NX and HSETNX are idempotent; a
 * result XADD would be written twice when the lost reply belonged to a call
 * that did run, unless the completion was queued with
 * sg_rd_stream_complete_once, whose first op (a SET NX or HSETNX) then tells
 * that it ran. A result is therefore
 * never missing for an acked entry, and an entry is never acked without the
 * ops queued with it.
 *
 * Redis needs EVAL (scripting) for the command connection's user.
 */
#ifndef SG_RD_STREAM_H
#define SG_RD_STREAM_H

#include "redis/sg_rd_client.h"
#include "redis/sg_rd_ids.h"
#include "redis/sg_rd_url.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct sg_rd_stream sg_rd_stream;

/* One field/value pair of an entry (binary-safe; borrowed). */
typedef struct sg_rd_field {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
} sg_rd_field;

/* An entry handed to on_entry. Everything is BORROWED for the callback only. */
typedef struct sg_rd_entry {
  const char *id; /* NUL-terminated "<ms>-<seq>" */
  sg_rd_id id_num;
  const sg_rd_field *fields;
  size_t nfields;
  bool redelivered;    /* came from this consumer's pending list (or was claimed) */
  uint32_t deliveries; /* delivery count when known (entries claimed by the reaper), else 0 */
  uint64_t size;       /* bytes of its field names and values (taken from the byte credit) */
  bool oversize;       /* over max_entry_bytes: no fields (nfields 0), nothing taken */
} sg_rd_entry;

/* One command of a completion transaction (all borrowed; copied by the callee). */
typedef struct sg_rd_op {
  int argc;
  const char *const *argv;
  const size_t *lens;
} sg_rd_op;

/*
 * Completion outcome: 0 after the ops ran and the entry was acked;
 * SG_ERR_REDIS when one of its ops failed (logged; the ops before it ran, the
 * ones after it did not, and the entry was NOT acked: it is still pending and
 * still yours) or when Redis refused the script call as a whole (nothing
 * ran); SG_ERR_SHUTDOWN when the stream stopped before it could be confirmed
 * (the entry stays pending for a later run).
 */
typedef void (*sg_rd_stream_done_cb)(sg_rd_stream *s, int status, void *ud);
typedef void (*sg_rd_stream_stopped_cb)(sg_rd_stream *s, void *ud);

typedef struct sg_rd_stream_cbs {
  /* A new (or re-delivered) entry; the owner decides what to do with it and
   * eventually calls sg_rd_stream_complete (or _dead_letter) with its id. */
  void (*on_entry)(sg_rd_stream *s, const sg_rd_entry *e, void *ud);
  void *ud;
} sg_rd_stream_cbs;

typedef struct sg_rd_stream_opts {
  const char *stream;       /* default "sendgate:jobs" (copied) */
  const char *group;        /* default "sendgate" (copied) */
  const char *consumer;     /* required, stable across restarts (copied) */
  const char *dead_stream;  /* default "sendgate:dead" (copied) */
  uint32_t count;           /* max entries per read; default 64 */
  uint32_t poll_ms;         /* longest pause between reads of an idle stream; default 20 */
  uint64_t max_entry_bytes; /* larger entries come without fields (oversize); 0: no cap */
  uint64_t byte_budget;     /* bytes of entries handed out and not given back; 0: no budget */
  uint32_t fetch_wait_ms;   /* pause after a read that returned fewer entries than asked
                               (a burst still arriving); default 0 = read again at once */
  uint32_t cmd_timeout_ms;  /* per command; default 5000 */
  uint32_t stop_timeout_ms; /* max wait for queued completions at stop; default 5000 */
  /* Completions only XACK their entries; a trimmer (sg_rd_trim) removes them
   * later in bulk instead of an XDEL per completion (less Redis work). The
   * owner switches it with sg_rd_stream_set_trim_acked as the trimmer keeps
   * up or not. */
  bool trim_acked;
  sg_rd_client_opts client; /* connect timeout, backoff, reply cap (name ignored) */
} sg_rd_stream_opts;

typedef struct sg_rd_stream_stats {
  uint64_t reads;             /* reads answered */
  uint64_t native_reads;      /* of them, native XREADGROUP (the others: the sizing script) */
  uint64_t oversize_reads;    /* native reads that dropped the connection over the reply cap */
  uint64_t fetched;           /* entries handed to on_entry */
  uint64_t native_fetched;    /* of them, from native reads */
  uint64_t completed;         /* completions confirmed by Redis */
  uint64_t completion_errors; /* completions Redis refused or partly failed */
  uint64_t reconnects;        /* connections re-established after a loss */
  uint64_t deleted_acked;     /* pending entries with nil payload, acked */
  uint64_t rescans;           /* own pending entries read again after entries were given back */
  uint64_t flushes;           /* pipelined flushes that sent completions */
  size_t pending_completions; /* queued or sent, not yet confirmed */
  uint64_t oversize;          /* entries handed out without fields (over max_entry_bytes) */
  size_t held;                /* handed out, not yet completed */
  uint32_t credit;
  int64_t byte_credit;
} sg_rd_stream_stats;

/*
 * Creates and starts a consumer on |loop| for |url| (copied). |opts| and
 * |cbs| are copied; opts->consumer and cbs->on_entry are required. Initial
 * credit is 0: nothing is read until sg_rd_stream_set_credit/add_credit.
 *
 * Returns 0 or one of: SG_ERR_INVAL, or a libuv code.
 */
int sg_rd_stream_new(uv_loop_t *loop, const sg_rd_url *url, const sg_rd_stream_opts *opts,
                     const sg_rd_stream_cbs *cbs, sg_rd_stream **out);

/* Sets the number of further entries the owner accepts (lowering it takes
 * effect from the next read). */
void sg_rd_stream_set_credit(sg_rd_stream *s, uint32_t credit);
/* Whether completions leave their acked entries to a trimmer (true) or XDEL
 * them (false); from the next completion batch on. */
void sg_rd_stream_set_trim_acked(sg_rd_stream *s, bool on);
/* The key the fast path's completions write their results to (copied;
 * NULL: none, the default). While it holds another type than a stream, a
 * result XADD there fails in the MULTI, which goes on: with a guard the
 * MULTI's ack is a small script that acks nothing then, so those entries
 * stay pending (SG_ERR_REDIS) instead of acked without their results. */
void sg_rd_stream_set_ack_guard(sg_rd_stream *s, const char *key);
/* Adds |n| to the credit (e.g. 1 per finished job). */
void sg_rd_stream_add_credit(sg_rd_stream *s, uint32_t n);
/* While |hold| is true no new read is sent, whatever the credit (a read
 * already out still delivers); reading resumes when it is set false. For an
 * owner that has enough work in hand for now. */
void sg_rd_stream_hold_reads(sg_rd_stream *s, bool hold);
/* Gives back |n| bytes of byte credit (the size of a finished entry). */
void sg_rd_stream_add_byte_credit(sg_rd_stream *s, uint64_t n);

/*
 * Queues a completion for |entry_id| (NUL-terminated, borrowed): the |nops|
 * |ops| (copied), then XACK <stream> <group> <id> and (unless trim_acked)
 * XDEL <stream> <id>, applied atomically.
 * With |entry_id| NULL the transaction has no ack (publishing only). |done|
 * (may be NULL) fires once, see sg_rd_stream_done_cb; never from inside this
 * call.
 *
 * Returns 0 or one of: SG_ERR_INVAL (bad id, no ops and no id),
 * SG_ERR_SHUTDOWN (stopped).
 */
int sg_rd_stream_complete(sg_rd_stream *s, const char *entry_id, const sg_rd_op *ops, size_t nops,
                          sg_rd_stream_done_cb done, void *ud);

/*
 * sg_rd_stream_complete for ops whose first one records the completion (the
 * sent ledger) and answers nil or 0 when the record was there already (SET
 * ... NX, HSETNX): when the completion has to be sent again after a lost
 * reply and that op finds its record, the other ops are skipped (they ran
 * the first time) and only the ack is applied. Returns
 * as sg_rd_stream_complete; SG_ERR_INVAL also when |nops| is 0.
 */
int sg_rd_stream_complete_once(sg_rd_stream *s, const char *entry_id, const sg_rd_op *ops,
                               size_t nops, sg_rd_stream_done_cb done, void *ud);

/*
 * sg_rd_stream_complete with |flags|: SG_RD_COMPLETE_ONCE as
 * sg_rd_stream_complete_once; SG_RD_COMPLETE_TRUSTED when no op can fail on
 * its key (the gateway's own streams and sets, never a producer's reply
 * stream): its first send then goes in a MULTI of native commands with the
 * other such completions of the turn instead of the Lua script (a fraction of
 * Redis's work). Same outcomes; a failed op there (which trusted keys rule
 * out) is reported as SG_ERR_REDIS after the entry was acked.
 */
#define SG_RD_COMPLETE_ONCE 1u
#define SG_RD_COMPLETE_TRUSTED 2u
int sg_rd_stream_complete_ex(sg_rd_stream *s, const char *entry_id, const sg_rd_op *ops,
                             size_t nops, unsigned flags, sg_rd_stream_done_cb done, void *ud);

/* sg_rd_stream_complete without an ack: runs |ops| atomically. */
int sg_rd_stream_publish(sg_rd_stream *s, const sg_rd_op *ops, size_t nops,
                         sg_rd_stream_done_cb done, void *ud);

/*
 * For an entry that cannot be processed: XADD <dead stream> * <the entry's
 * fields> reason <reason>, then |extra| ops (e.g. the INVALID result XADD),
 * then the ack, in one transaction. An entry with more than
 * SG_RD_DEAD_MAX_FIELDS fields keeps its first ones there, plus
 * fields_dropped <n>. |e| is borrowed (copied before return).
 * Returns as sg_rd_stream_complete.
 */
#define SG_RD_DEAD_MAX_FIELDS 256

int sg_rd_stream_dead_letter(sg_rd_stream *s, const sg_rd_entry *e, const char *reason,
                             const sg_rd_op *extra, size_t nextra, sg_rd_stream_done_cb done,
                             void *ud);

/*
 * Entries claimed into this consumer by another path (the reaper's XAUTOCLAIM).
 *
 * sg_rd_stream_take_credit takes up to |max| of the credit for such entries and
 * returns the amount taken (give back what is not used with add_credit).
 * sg_rd_stream_hold marks |id| (NUL-terminated) as handed out, so a re-read of
 * the own pending list after a reconnect does not hand it out again; a
 * successful completion or dead letter of |id| clears the mark, as does
 * sg_rd_stream_unhold, which gives the entry back: it stays pending, and the
 * own pending list is read again (at least a second later, once the command
 * connection is up) so that it comes back without waiting for a reconnect. It returns 0,
 * SG_ERR_EXISTS when |id| is already held (the owner is working on it: leave it alone) or
 * SG_ERR_INVAL. sg_rd_stream_deliver_held hands a held entry to on_entry without consuming credit
 * (it was taken before) but takes its size from the byte credit; it does nothing while stopping.
 * sg_rd_stream_byte_room tells how many entries of the largest size the byte credit has room for
 * (UINT32_MAX without a budget), for such a path to size its batch.
 */
uint32_t sg_rd_stream_take_credit(sg_rd_stream *s, uint32_t max);
int sg_rd_stream_hold(sg_rd_stream *s, const char *id);
void sg_rd_stream_unhold(sg_rd_stream *s, const char *id);
void sg_rd_stream_deliver_held(sg_rd_stream *s, const sg_rd_entry *e);
uint32_t sg_rd_stream_byte_room(const sg_rd_stream *s);
/* The entry size cap of the stream (0: none), for such a path's own reads. */
uint64_t sg_rd_stream_max_entry_bytes(const sg_rd_stream *s);

/* The command connection, for the owner's own commands (not the read one). */
sg_rd_client *sg_rd_stream_cmd_client(sg_rd_stream *s);

/* True while both connections are UP. */
bool sg_rd_stream_is_up(const sg_rd_stream *s);

void sg_rd_stream_get_stats(const sg_rd_stream *s, sg_rd_stream_stats *out);

/*
 * Stops reading at once (an in-flight read is abandoned; what it would have
 * returned stays pending for this consumer), waits up to stop_timeout_ms for
 * queued completions to be confirmed, fails the rest with SG_ERR_SHUTDOWN,
 * closes both connections and calls |done| (may be NULL); |s| is freed right
 * after it returns.
 */
void sg_rd_stream_stop(sg_rd_stream *s, sg_rd_stream_stopped_cb done, void *ud);

#endif
