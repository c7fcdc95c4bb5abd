/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/2 client connection pool for one origin (scheme, host, port): a bounded
 * set of TLS connections (sg_tlsconn + nghttp2), many streams on each, up to
 * the peer's SETTINGS_MAX_CONCURRENT_STREAMS. Requests that find no free
 * stream open a new connection (up to max_conns) or wait in a bounded queue.
 *
 * Delivery semantics (DESIGN.md §3). Every accepted request gets exactly one
 * callback, unless it is cancelled first. Requests the server provably never
 * processed (REFUSED_STREAM, streams above a GOAWAY's last_stream_id, requests
 * whose HEADERS never left us when a connection died) are resent
 * transparently on another connection and counted in requests_resent. A
 * request whose HEADERS did leave us and that got no complete response ends
 * with body_sent = true: the outcome is ambiguous (the server may have acted).
 *
 * Per-turn work: requests are dispatched and written out by the loop's turn
 * pass (core/sg_turn.h), so a request queued before or during the pass by an
 * earlier rank (SG_TURN_ADMIT: the scheduler) leaves before the loop polls.
 *
 * Threading: everything runs on the loop given to sg_h2_pool_new. Callbacks
 * are never called from inside sg_h2_pool_request/cancel. A callback may call
 * sg_h2_pool_request, sg_h2_pool_cancel (other handles) and sg_h2_pool_close.
 */
#ifndef SG_H2_POOL_H
#define SG_H2_POOL_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/sg_http.h"

typedef struct sg_h2_pool sg_h2_pool;
/* One request in the pool; the handle for sg_h2_pool_cancel. */
typedef struct sg_h2_req sg_h2_req;

typedef struct sg_h2_pool_opts {
  unsigned max_conns;            /* connections per origin (default 4) */
  uint32_t max_streams_per_conn; /* our own cap per connection; 0: peer's limit only */
  uint32_t initial_max_streams;  /* assumed peer limit until its SETTINGS arrive (100) */
  uint64_t connect_timeout_ms;   /* resolve + TCP + TLS handshake (default 10000) */
  uint64_t idle_timeout_ms;      /* close connections idle this long (60000; 0: never) */
  size_t max_queue;              /* requests waiting for a stream (default 10000) */
  size_t max_response_body;      /* bytes kept per response (65536); more is dropped */
  uint64_t default_timeout_ms;   /* for requests with timeout_ms 0 (default 30000) */
  uint64_t backoff_base_ms;      /* reconnect backoff after a failed connect (100) */
  uint64_t backoff_cap_ms;       /* backoff ceiling (10000) */
  unsigned max_resends;          /* transparent resends per request (default 5) */
  uint32_t stream_window;        /* initial receive window per stream (1 MiB) */
  uint32_t conn_window;          /* receive window of the connection (16 MiB) */
  /* A request timing out on a connection sends a PING there; no frame at
   * all from the server within this closes the connection (its other
   * requests fail at once, instead of each waiting for its own timeout).
   * Default 10000. */
  uint64_t ping_timeout_ms;
  /* This many requests timing out in a row on one connection, with no frame
   * from the server in between, close it too. Default 3. */
  unsigned max_timeouts;
  /* Connect through this HTTPS proxy (net/sg_proxy.h; copied); NULL: direct. */
  const struct sg_proxy *proxy;
} sg_h2_pool_opts;

/* Fills |o| with the defaults above. */
void sg_h2_pool_opts_init(sg_h2_pool_opts *o);

typedef struct sg_h2_request {
  const char *method;            /* "GET", "POST", ... (copied) */
  const char *path;              /* ":path", starts with '/' (copied) */
  const char *authority;         /* NULL: "host[:port]" of the pool (copied) */
  const sg_http_header *headers; /* extra request headers (copied; names lower-cased) */
  size_t n_headers;
  /*
   * Request body, BORROWED: it must stay valid and unchanged until the
   * callback has been called or sg_h2_pool_cancel has returned. The pool may
   * send it more than once (transparent resends), so it is never consumed.
   */
  const void *body;
  size_t body_len;
  /* Deadline for queue wait + response, from sg_h2_pool_request (0: default). */
  uint64_t timeout_ms;
} sg_h2_request;

typedef struct sg_h2_response {
  int status;                    /* final :status, 0 when none arrived */
  const sg_http_header *headers; /* response headers (and trailers), no pseudo-headers */
  size_t n_headers;
  const uint8_t *body; /* NUL-terminated for convenience (not counted) */
  size_t body_len;
  bool body_truncated; /* the body exceeded max_response_body */
  unsigned attempts;   /* streams this request was put on */
  const char *detail;  /* error detail (TLS verify reason, reset code...) or "" */
} sg_h2_response;

/*
 * Result callback. |err| is 0 when a complete response arrived (any status),
 * else one of: SG_ERR_TIMEOUT (deadline passed, in the queue or in flight),
 * SG_ERR_RESET (stream reset by the peer), SG_ERR_CLOSED (connection lost),
 * SG_ERR_TLS_VERIFY / SG_ERR_ALPN / SG_ERR_TLS (connecting failed that way;
 * resp->detail says why), SG_ERR_REFUSED (refused more than max_resends
 * times), SG_ERR_TOOBIG (response headers over 64 KiB), SG_ERR_H2 (protocol
 * error), SG_ERR_SHUTDOWN (pool closing).
 * |resp| is never NULL and, like everything it points to, is borrowed for the
 * duration of the call. |body_sent| is true when the request (its HEADERS,
 * and possibly body) left us on the attempt that ended it, so the server may
 * have acted on it even though err != 0.
 */
typedef void (*sg_h2_cb)(void *ud, int err, const sg_h2_response *resp, bool body_sent);

/*
 * Creates a pool for https://|host|:|port| (http:// with prior knowledge when
 * |ssl_ctx| is NULL; tests only). |ssl_ctx| (from sg_tls_ctx_client_new) and
 * |loop| are borrowed and must outlive the pool; |host| is copied. |opts| may
 * be NULL for defaults; zero fields take their default.
 * Returns 0 or one of: SG_ERR_INVAL.
 */
int sg_h2_pool_new(sg_h2_pool **out, uv_loop_t *loop, SSL_CTX *ssl_ctx, const char *host,
                   uint16_t port, const sg_h2_pool_opts *opts);

/*
 * Queues request |req| (copied, except its body: see sg_h2_request). |cb| is
 * called once with the outcome. |handle| (may be NULL) receives a handle that
 * stays valid until the callback starts or sg_h2_pool_cancel returns.
 * Returns 0 or one of (the callback is then never called): SG_ERR_INVAL (bad
 * method, path or header), SG_ERR_BUSY (queue full), SG_ERR_SHUTDOWN (closing).
 */
int sg_h2_pool_request(sg_h2_pool *pool, const sg_h2_request *req, sg_h2_cb cb, void *ud,
                       sg_h2_req **handle);

/*
 * Cancels |h|: its callback will not be called and its body is no longer
 * used when this returns. A request already on a stream is reset (CANCEL).
 * |h| must be a live handle (not after its callback has started).
 */
void sg_h2_pool_cancel(sg_h2_pool *pool, sg_h2_req *h);

/*
 * Closes the pool: queued and in-flight requests fail with SG_ERR_SHUTDOWN
 * (in flight: with body_sent as it stands), connections close, and |done_cb|
 * (may be NULL) is called once every handle is closed; the pool is freed after
 * it returns. Idempotent; later sg_h2_pool_request calls get SG_ERR_SHUTDOWN.
 */
void sg_h2_pool_close(sg_h2_pool *pool, void (*done_cb)(void *ud), void *ud);

typedef struct sg_h2_pool_stats {
  unsigned conns_open;       /* connected (READY or DRAINING) */
  unsigned conns_connecting; /* resolving, connecting or in the TLS handshake */
  size_t streams_in_flight;  /* requests on a stream */
  size_t queued;             /* requests waiting for a stream */
  uint64_t requests_resent;  /* transparent resends (refused / never sent) */
  uint64_t connects;         /* connections that reached READY */
  uint64_t connect_failures; /* connections that failed before READY */
  uint64_t completed;        /* callbacks with err == 0 */
  uint64_t failed;           /* callbacks with err != 0 */
  unsigned max_streams_seen; /* most streams ever in flight on one connection */
} sg_h2_pool_stats;

/* Copies the counters into |out|. */
void sg_h2_pool_get_stats(const sg_h2_pool *pool, sg_h2_pool_stats *out);

/* Shorthands for the three numbers dashboards want. */
unsigned sg_h2_pool_conns_open(const sg_h2_pool *pool);
size_t sg_h2_pool_streams_in_flight(const sg_h2_pool *pool);
uint64_t sg_h2_pool_requests_resent(const sg_h2_pool *pool);

/* Detail of the last failed connect ("certificate verify failed: ..."), or "". */
const char *sg_h2_pool_last_error_detail(const sg_h2_pool *pool);

#endif
