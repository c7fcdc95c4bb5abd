/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small HTTP server on a libuv loop: HTTP/2 (nghttp2, over TLS with ALPN
 * "h2" or cleartext with prior knowledge) and HTTP/1.1 (keep-alive,
 * Content-Length and chunked request bodies, limited pipelining), over
 * sg_tlsconn. Used by the sandbox and for /metrics.
 *
 * Requests are delivered whole (headers and body buffered, bounded by the
 * settings) to one handler. The handler owns the request until it calls
 * exactly one of sg_httpd_respond, sg_httpd_reset or sg_httpd_drop, which it
 * may do later (from a timer, say). If the connection died meanwhile those
 * calls only free the request. Responses are complete buffers; there is no
 * streaming of request or response bodies.
 *
 * The process must ignore SIGPIPE (signal(SIGPIPE, SIG_IGN) in main): libuv
 * writes to sockets with write(2), and a peer that vanishes mid-response would
 * otherwise kill the process.
 */
#ifndef SG_HTTPD_H
#define SG_HTTPD_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/sg_http.h"

typedef struct sg_httpd sg_httpd;

typedef struct sg_httpd_settings {
  size_t max_body;                 /* request body cap; over it: 413 (default 32 MB) */
  size_t max_header_block;         /* request head / header block cap (default 64 KB) */
  uint32_t max_concurrent_streams; /* HTTP/2 SETTINGS value (default 256) */
  uint32_t h1_max_pipeline;        /* HTTP/1.1 requests in flight per connection (default 16) */
  uint64_t idle_timeout_ms;        /* no request in progress and no traffic (default 60 s) */
  uint64_t header_timeout_ms;      /* HTTP/1.1: first byte to end of head (default 10 s) */
  uint64_t handshake_timeout_ms;   /* TLS handshake (default 10 s) */
  size_t out_high_water;           /* stop producing output above this (default 256 KB) */
  unsigned max_conns;              /* connections at once; more are closed at accept (0: none) */
  uint64_t max_conn_lifetime_ms;   /* a connection is closed this long after it opened (0: never) */
} sg_httpd_settings;

/* Fills |s| with the defaults above. */
void sg_httpd_settings_default(sg_httpd_settings *s);

/*
 * The request as the handler sees it. All fields are read-only and valid
 * until the request is given back with respond/reset/drop. Strings are
 * NUL-terminated.
 */
typedef struct sg_httpd_req {
  const char *method;
  const char *path;              /* with the query string */
  const char *authority;         /* :authority or Host, "" when absent */
  const char *scheme;            /* "https" or "http" */
  const sg_http_header *headers; /* lower-case names, pseudo-headers excluded */
  size_t nheaders;
  const uint8_t *body;
  size_t body_len;
  int protocol;      /* 1 (HTTP/1.x) or 2 */
  uint64_t conn_id;  /* connection number, for logs */
  int32_t stream_id; /* HTTP/2 stream id; HTTP/1.1: request number on the connection */
  const char *peer;  /* "ip:port" */
} sg_httpd_req;

/* Called once per complete request; |req| is owned by the handler from here. */
typedef void (*sg_httpd_handler)(sg_httpd_req *req, void *ud);

/* Called when sg_httpd_close has finished; the server is freed right after. */
typedef void (*sg_httpd_closed_cb)(void *ud);

typedef struct sg_httpd_stats {
  uint64_t conns_open;
  uint64_t conns_total;
  uint64_t requests_total; /* requests handed to the handler */
  uint64_t too_big;        /* requests answered 413 by the server */
  uint64_t bad_requests;   /* malformed HTTP/1.1 requests answered 400/431 */
  uint64_t conns_refused;  /* closed at accept: max_conns were open */
  uint64_t conns_expired;  /* closed at max_conn_lifetime_ms */
} sg_httpd_stats;

/*
 * Starts listening on |host|:|port| (an IP literal; port 0 picks a free one).
 * |ssl_ctx| from sg_tls_ctx_server_new with ALPN h2 + http/1.1 (borrowed; keep
 * it alive until the close callback), or NULL for cleartext. |settings| is
 * copied; NULL means the defaults. |on_request| gets |ud|.
 * Returns 0 or one of: SG_ERR_INVAL (bad address), a libuv code (bind/listen);
 * after a libuv error the handles already made close asynchronously, so run
 * the loop before uv_loop_close.
 */
int sg_httpd_new(sg_httpd **out, uv_loop_t *loop, const char *host, uint16_t port, SSL_CTX *ssl_ctx,
                 const sg_httpd_settings *settings, sg_httpd_handler on_request, void *ud);

/* The port actually bound (useful with port 0). */
uint16_t sg_httpd_port(const sg_httpd *srv);

/* Copies the counters into |out|. */
void sg_httpd_get_stats(const sg_httpd *srv, sg_httpd_stats *out);

/*
 * Stops listening and closes every connection abruptly; requests the handler
 * still holds become detached (their respond/reset/drop just free them).
 * |done| (may be NULL) is called with the server's |ud| once every handle is
 * closed; the server is freed after it returns. Call once.
 */
void sg_httpd_close(sg_httpd *srv, sg_httpd_closed_cb done);

/*
 * Sends the response: |status| (200..599), |nheaders| headers (copied; names
 * are sent lower-case; content-length, connection, transfer-encoding,
 * keep-alive, upgrade are dropped: the server writes content-length = |len|
 * itself, except for 204/304), and |body| of |len| bytes (copied; may be NULL
 * if len is 0; not sent for HEAD, 204, 304). Gives |req| back. Returns 0, or one of: SG_ERR_CLOSED
 * (the connection or stream is gone; nothing sent), SG_ERR_INVAL (bad status; the stream is reset
 * instead).
 */
int sg_httpd_respond(sg_httpd_req *req, int status, const sg_http_header *headers, size_t nheaders,
                     const void *body, size_t len);

/*
 * Abandons the request: RST_STREAM with |h2_error_code| (an NGHTTP2_* error
 * code) on HTTP/2; on HTTP/1.1 the connection is closed. Gives |req| back.
 */
void sg_httpd_reset(sg_httpd_req *req, uint32_t h2_error_code);

/* Closes the whole connection abruptly, without a response. Gives |req| back. */
void sg_httpd_drop(sg_httpd_req *req);

/*
 * Marks |req| so that its response is the last on the connection: HTTP/2 sends
 * GOAWAY (NO_ERROR, last stream id = highest processed) along with it and closes
 * once the open streams are done; HTTP/1.1 answers with Connection: close.
 * Call before sg_httpd_respond. The handler still owns |req|.
 */
void sg_httpd_goaway_after(sg_httpd_req *req);

/* True while the connection (and, for HTTP/2, the stream) is still open. */
bool sg_httpd_req_alive(const sg_httpd_req *req);

#endif
