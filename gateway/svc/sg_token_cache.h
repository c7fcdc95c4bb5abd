/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OAuth access-token cache for Entra client credentials (DESIGN.md §5,
 * microsoft-apis.md §3.4). One entry per (login root, tenant, client id,
 * scope). Pure: the cache never does I/O and never reads a clock. It tells
 * its caller when to fetch (the |fetch| out-flag) and is told the result
 * (sg_token_fetch_done); the glue does the HTTP call with its own timer.
 *
 * Entry states:
 *   EMPTY     no token. The next get starts a fetch (unless backing off).
 *   FETCHING  one fetch in flight; it serves every waiter. A token that is
 *             still usable (refresh-ahead) keeps being served meanwhile.
 *   VALID     a token; served until its refresh point, then served while a
 *             refresh-ahead fetch runs, and dropped once near expiry.
 * Times: the refresh point is min(80 % of the lifetime, 5 min before expiry),
 * but not before half the lifetime,
 * after receipt; a token is usable until min(30 s, lifetime / 10) before
 * expiry, so it does not die in flight. After a failed fetch the entry backs
 * off: for the Retry-After of a 429, else full-jitter exponential (1 s .. 60 s).
 * During the back-off, gets without a usable token fail at once with the
 * stored outcome instead of hammering the endpoint.
 *
 * Waiters are caller-owned structs (embed one per job); a queued waiter's
 * callback runs exactly once, unless it is cancelled first. Callbacks may call
 * any function here except sg_token_cache_free; the SG_ERR_SHUTDOWN callbacks
 * run from sg_token_cache_free may only cancel waiters.
 */
#ifndef SG_TOKEN_CACHE_H
#define SG_TOKEN_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_list.h"
#include "svc/sg_classify.h"
#include "svc/sg_entra.h"

typedef struct sg_token_cache sg_token_cache;
typedef struct sg_token_entry sg_token_entry;
typedef struct sg_token_waiter sg_token_waiter;

/* Strings are borrowed by the calls that take a key; the cache copies them. */
typedef struct sg_token_key {
  const char *login_root; /* "https://login.microsoftonline.com" */
  const char *tenant;
  const char *client_id;
  const char *scope; /* "https://graph.microsoft.com/.default" */
} sg_token_key;

typedef enum { SG_TOKEN_EMPTY, SG_TOKEN_FETCHING, SG_TOKEN_VALID } sg_token_state;

/*
 * Completion of a wait. |status| is 0 with |token| (|token_len| bytes,
 * NUL-terminated, valid only during the call: copy it or use it now), or
 * SG_ERR_AUTH with |err| describing the failed fetch (kind FAILED or RETRY;
 * has_retry_after/retry_after_ms say when the endpoint may be asked again),
 * or SG_ERR_SHUTDOWN (cache deleted; |err| NULL).
 */
typedef void (*sg_token_waiter_cb)(sg_token_waiter *w, int status, const char *token,
                                   size_t token_len, const sg_outcome *err);

struct sg_token_waiter {
  sg_token_waiter_cb cb;
  void *data; /* the caller's */
  sg_list _node;
  sg_token_entry *_entry; /* set while queued */
};

/* Prepares |w| (caller-owned) with callback |cb| and user pointer |data|. */
void sg_token_waiter_init(sg_token_waiter *w, sg_token_waiter_cb cb, void *data);

/* True while |w| is queued on an entry. */
bool sg_token_waiter_queued(const sg_token_waiter *w);

/* Dequeues |w| without calling it; a no-op when it is not queued. */
void sg_token_waiter_cancel(sg_token_waiter *w);

/*
 * Creates an empty cache in |*out|; |seed| seeds the back-off jitter.
 * Returns 0 or one of: SG_ERR_INVAL.
 */
int sg_token_cache_new(sg_token_cache **out, uint64_t seed);

/*
 * Frees |c|, every entry and token in it. Waiters still queued are called
 * with SG_ERR_SHUTDOWN first. Fetches still in flight must not report to it
 * afterwards.
 */
void sg_token_cache_free(sg_token_cache *c);

/*
 * Finds or creates the entry for |key| (strings copied; NULL means "").
 * Entries live as long as the cache. Returns NULL only for NULL arguments.
 */
sg_token_entry *sg_token_cache_entry(sg_token_cache *c, const sg_token_key *key);

/* The entry's key (strings owned by the entry). */
const sg_token_key *sg_token_entry_key(const sg_token_entry *e);
sg_token_state sg_token_entry_state(const sg_token_entry *e);
/* Until when (the caller's clock, as passed to sg_token_get) the cached token
 * may be used; 0 when none is cached. For status reports. */
uint64_t sg_token_entry_usable_until(const sg_token_entry *e);
/* The outcome of the last failed fetch, or NULL when the last fetch worked
 * (or none was made). Borrowed until the next call on |e|. */
const sg_outcome *sg_token_entry_last_error(const sg_token_entry *e);

/*
 * Asks entry |e| for a token at monotonic time |now_ms|.
 *  0            a usable token is in |*token|/|*token_len| (owned by the entry,
 *               valid until the next call on |e|). |*fetch| may be true: the
 *               refresh point has passed and the caller must start a fetch.
 *  SG_ERR_AGAIN no usable token yet; |w| (may be NULL for a mere prefetch) is
 *               queued. When |*fetch| is true the caller must start the fetch;
 *               otherwise one is already running.
 *  SG_ERR_AUTH  the last fetch failed and the entry is backing off; |*err|
 *               (when not NULL) is that outcome, retry_after_ms set to the
 *               remaining back-off. |w| is not queued.
 * Every fetch the caller starts must end in exactly one sg_token_fetch_done().
 * Returns as above, or SG_ERR_INVAL (NULL |e|/|token|/|token_len|/|fetch|) or
 * SG_ERR_EXISTS (|w| already queued).
 */
int sg_token_get(sg_token_entry *e, uint64_t now_ms, sg_token_waiter *w, const char **token,
                 size_t *token_len, bool *fetch, sg_outcome *err);

/*
 * Reports the end of the fetch of |e| at |now_ms|. |o| is the classified
 * response (sg_classify_entra, or sg_classify_transport when no answer came).
 * On SG_OUTCOME_OK the token in |tok| moves into the cache (|tok| is left
 * empty); otherwise |tok| may be NULL. Then every queued waiter is called.
 * Returns 0 or one of: SG_ERR_INVAL (NULL arguments, no fetch in flight, or
 * OK without a token).
 */
int sg_token_fetch_done(sg_token_entry *e, uint64_t now_ms, const sg_outcome *o,
                        sg_entra_token *tok);

/*
 * Drops the token of |e| after a Graph 401, when it is still |token| (|len|
 * bytes; NULL drops whatever is cached), so a stale request's 401 cannot
 * throw away a newer token. A fetch in flight continues.
 */
void sg_token_invalidate(sg_token_entry *e, const char *token, size_t len);

#endif
