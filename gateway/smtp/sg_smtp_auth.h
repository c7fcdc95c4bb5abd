/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SMTP AUTH checks off the event loop, for `sendgate smtpd`.
 *
 * A check hashes the password with the user's salt on libuv's thread pool
 * (uv_queue_work), never on the loop; a successful check is cached for a
 * short time (keyed by user and a keyed hash of the password, never the
 * password itself) so that a device that reconnects for every message stays
 * cheap. Failed checks slow the source down and then lock it out for a while
 * (per client IP, and per user name), brute force being one reason Basic
 * authentication goes away. The users file is re-read when it changes.
 */
#ifndef SG_SMTP_AUTH_H
#define SG_SMTP_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "smtp/sg_smtp_users.h"

typedef struct sg_smtp_auth sg_smtp_auth;
typedef struct sg_smtp_auth_req sg_smtp_auth_req;

typedef struct sg_smtp_auth_opts {
  const char *users_file;     /* required (copied) */
  uint32_t cache_ms;          /* successful checks remembered; default 60000 */
  uint32_t fail_delay_ms;     /* answer to a failed check delayed by this; default 1000 */
  uint32_t lockout_failures;  /* failures per source within lockout_window_ms; default 10 */
  uint32_t lockout_window_ms; /* default 600000 */
  uint32_t lockout_ms;        /* then refused without a check for this long; default 900000 */
  uint32_t max_pending;       /* checks queued or hashing at once, more are TEMPFAIL; default 64 */
  uint32_t max_tracked;       /* sources (and user names) tracked for lockout; default 10000 */
  uint32_t reload_check_ms;   /* users file stat()ed at most this often; default 1000 */
} sg_smtp_auth_opts;

/* Outcome of a check. */
typedef enum {
  SG_SMTP_AUTH_OK = 0,
  SG_SMTP_AUTH_BAD,      /* unknown user or wrong password (535 5.7.8) */
  SG_SMTP_AUTH_LOCKED,   /* source or user locked out (454 4.7.0 / 535) */
  SG_SMTP_AUTH_TEMPFAIL, /* users file unreadable, out of workers (454 4.7.0) */
} sg_smtp_auth_result;

/* |user| is valid until the callback returns (copy what you keep); NULL unless OK. */
typedef void (*sg_smtp_auth_cb)(sg_smtp_auth_result res, const sg_smtp_user *user, void *ud);

/* Returns 0, SG_ERR_INVAL or SG_ERR_IO/SG_ERR_PARSE (users file). */
int sg_smtp_auth_new(uv_loop_t *loop, const sg_smtp_auth_opts *o, sg_smtp_auth **out);

/*
 * Checks |name| / |password| (|plen| bytes) for a client at |peer_ip|
 * (text). The callback fires exactly once, never from inside this call,
 * unless the request is cancelled first. |password| is copied and wiped after
 * use. Returns 0 (and *req for cancelling, may be NULL) or SG_ERR_SHUTDOWN.
 */
int sg_smtp_auth_check(sg_smtp_auth *a, const char *peer_ip, const char *name, const char *password,
                       size_t plen, sg_smtp_auth_cb cb, void *ud, sg_smtp_auth_req **req);

/* The callback of |req| will not fire (the session went away). |req| is
 * invalid once its callback has returned or after this call; a call from
 * inside the callback itself does nothing. */
void sg_smtp_auth_cancel(sg_smtp_auth_req *req);

/* Counters for /metrics. */
typedef struct sg_smtp_auth_stats {
  uint64_t ok, bad, locked, tempfail, cache_hits; /* ok counts the cache hits too */
  uint64_t hashed;  /* checks that ran the password hash on a worker */
  uint64_t reloads; /* times the users file was re-read successfully */
} sg_smtp_auth_stats;
void sg_smtp_auth_get_stats(const sg_smtp_auth *a, sg_smtp_auth_stats *out);

/*
 * Re-reads the users file now if it changed (mtime, size, inode), as checks
 * do by themselves at most once per reload_check_ms (for SIGHUP). On a bad
 * file the users already loaded stay in force. Returns 0 (also when
 * unchanged), or SG_ERR_IO / SG_ERR_PARSE.
 */
int sg_smtp_auth_reload(sg_smtp_auth *a);

/* Cancels pending checks and frees |a| once the workers are done. */
void sg_smtp_auth_close(sg_smtp_auth *a);

#endif
