/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the HTTP server's files: the server, the connection and
 * the request objects, and the functions the listener (sg_httpd.c), the
 * request store (sg_httpd_req.c) and the two protocol engines
 * (sg_httpd_h1.c, sg_httpd_h2.c) call on each other. Not a public header.
 *
 * Ownership: a connection owns its requests (list |reqs|) except those in
 * REQ_HANDLER state, which the handler owns but which stay linked so that the
 * connection can detach them (conn = NULL) when it closes. A connection is
 * freed once its sg_tlsconn and its timer have both closed and no call of ours
 * is on the stack (|busy| == 0).
 */
#ifndef SG_HTTPD_INT_H
#define SG_HTTPD_INT_H

#include <nghttp2/nghttp2.h>

#include "core/sg_list.h"
#include "core/sg_mem.h"
#include "core/sg_turn.h"
#include "httpd/sg_h1_parse.h"
#include "httpd/sg_httpd.h"
#include "net/sg_tlsconn.h"

typedef struct sg_hd_conn sg_hd_conn;
typedef struct sg_hd_req sg_hd_req;

struct sg_httpd {
  uv_loop_t *loop;
  uv_tcp_t listener;
  sg_turn_reg flusher; /* flushes dirty connections once per loop turn */
  SSL_CTX *ssl_ctx;
  sg_httpd_settings set;
  sg_httpd_handler on_request;
  void *ud;
  nghttp2_session_callbacks *h2_cbs;
  nghttp2_option *h2_opt;
  sg_list conns;
  sg_list dirty;
  sg_httpd_stats stats;
  uint64_t next_conn_id;
  uint16_t port;
  bool closing;
  int handles_open; /* the listener while not yet closed */
  sg_httpd_closed_cb done;
};

typedef enum {
  REQ_RECEIVING, /* head or body still arriving; owned by the connection */
  REQ_READY,     /* complete, waiting in |ready| for dispatch */
  REQ_HANDLER,   /* owned by the handler */
  REQ_RESPONDING /* response (or reset) queued; owned by the connection */
} sg_hd_req_state;

/* Offsets of one header's name and value inside sg_hd_req.strs. */
typedef struct sg_hd_hoff {
  uint32_t name, name_len, value, value_len;
} sg_hd_hoff;

#define SG_HD_NOSTR UINT32_MAX

struct sg_hd_req {
  sg_httpd_req pub; /* first member: the handler's pointer converts back */
  sg_list link;     /* in conn->reqs, in arrival order */
  sg_list ready_link;
  sg_hd_conn *conn; /* NULL once detached */
  sg_hd_req_state state;
  sg_buf strs;  /* NUL-terminated strings the pub fields point into */
  sg_buf hoffs; /* sg_hd_hoff array */
  sg_http_header *hdrs;
  size_t hdrs_cap;
  sg_buf body;
  uint32_t off_method, off_path, off_authority, off_scheme, off_host;
  size_t hdr_bytes;      /* HTTP/2 header block size so far */
  uint64_t declared_len; /* content-length, UINT64_MAX when absent */
  bool end_stream;       /* HTTP/2: the peer finished sending */
  bool stream_closed;    /* HTTP/2: the stream is gone (reset by the peer) */
  bool too_big;
  bool rst_sent;      /* HTTP/2: RST_STREAM(NO_ERROR) after a 413 */
  uint64_t discarded; /* HTTP/2: body bytes thrown away after a 413 */
  bool goaway;        /* last response on the connection */
  bool is_head;
  bool keep_alive; /* HTTP/1.1 */
  int minor;       /* HTTP/1.<minor> */
  sg_buf resp;     /* HTTP/1.1: the serialized response; HTTP/2: response body */
  size_t resp_off;
};

typedef enum {
  CONN_HANDSHAKE,
  CONN_DETECT, /* cleartext: waiting to see whether the HTTP/2 preface comes */
  CONN_H1,
  CONN_H2
} sg_hd_proto;

typedef enum {
  H1_HEAD,
  H1_BODY_LENGTH,
  H1_BODY_CHUNKED,
  H1_STOPPED, /* no more requests on this connection; input ignored */
  H1_DISCARD  /* answered 413: input discarded until the linger ends */
} sg_hd_h1_state;

struct sg_hd_conn {
  sg_httpd *srv;
  sg_tlsconn *tc; /* NULL after on_close */
  uv_timer_t timer;
  sg_hd_proto proto;
  uint64_t id;
  char peer[64];
  bool tls;
  sg_list link;       /* srv->conns */
  sg_list dirty_link; /* srv->dirty */
  sg_list reqs;
  sg_list ready;
  unsigned nreqs;
  unsigned in_handler;
  int busy;
  bool closing;
  bool tc_closed;
  bool timer_closed;
  bool read_paused;
  uint64_t last_activity; /* uv_now of the last request handed out, or answer written */
  uint64_t opened;        /* uv_now at accept (for max_conn_lifetime_ms) */
  uint64_t linger_until;  /* 0, or when a lingering close ends */
  /* HTTP/1.1 */
  sg_buf in;
  sg_h1_scan scan;
  sg_hd_h1_state h1;
  sg_hd_req *cur;
  uint64_t body_left;
  uint64_t discarded;
  sg_h1_chunked ck;
  uint64_t head_started; /* uv_now when the current head began, 0 when none */
  int32_t h1_seq;
  /* HTTP/2 */
  nghttp2_session *h2;
};

/* sg_httpd_req.c */
sg_hd_req *sg_httpd__req_new(sg_hd_conn *c);
/* Unlinks |r| from its connection (fixing the counters) and frees it. */
void sg_httpd__req_free(sg_hd_req *r);
/* Appends |n| bytes plus a NUL to r->strs and returns the offset. */
uint32_t sg_httpd__req_str(sg_hd_req *r, const char *s, size_t n);
/* Stores one header; returns the offset of its value in r->strs. */
uint32_t sg_httpd__req_add_header(sg_hd_req *r, const char *name, size_t nlen, const char *value,
                                  size_t vlen);
/* Clears nghttp2's pointer to |r| (HTTP/2 stream user data), if any. */
void sg_httpd__req_unhook(sg_hd_req *r);
/* Points the pub fields into the stored strings; called just before dispatch. */
void sg_httpd__req_finalize(sg_hd_req *r);
/* Marks |r| complete and queues it for dispatch. */
void sg_httpd__req_ready(sg_hd_req *r);
/* The server's small JSON body for 413. */
extern const char sg_hd_json_413[];

/* sg_httpd.c */
void sg_httpd__conn_close(sg_hd_conn *c, int err);
void sg_httpd__conn_dirty(sg_hd_conn *c);
/* Arms the connection timer so that it fires no later than |deadline| (uv_now ms). */
void sg_httpd__conn_arm(sg_hd_conn *c, uint64_t deadline);
void sg_httpd__conn_pause(sg_hd_conn *c, bool pause);
/* Hands every complete request to the handler (never from inside nghttp2). */
void sg_httpd__conn_dispatch(sg_hd_conn *c);
/* Starts a lingering close: stop at |LINGER| ms from now at the latest. */
void sg_httpd__conn_linger(sg_hd_conn *c);

/* sg_httpd_h1.c */
void sg_httpd__h1_start(sg_hd_conn *c, const uint8_t *p, size_t n);
void sg_httpd__h1_on_read(sg_hd_conn *c, const uint8_t *p, size_t n);
void sg_httpd__h1_flush(sg_hd_conn *c);
int sg_httpd__h1_respond(sg_hd_req *r, int status, const sg_http_header *h, size_t nh,
                         const void *body, size_t len);

/* sg_httpd_h2.c */
int sg_httpd__h2_callbacks(sg_httpd *srv);
int sg_httpd__h2_start(sg_hd_conn *c, const uint8_t *p, size_t n);
void sg_httpd__h2_on_read(sg_hd_conn *c, const uint8_t *p, size_t n);
void sg_httpd__h2_flush(sg_hd_conn *c);
int sg_httpd__h2_respond(sg_hd_req *r, int status, const sg_http_header *h, size_t nh,
                         const void *body, size_t len);
void sg_httpd__h2_reset(sg_hd_req *r, uint32_t code);
/* Sends GOAWAY(NO_ERROR) and lets the session close once its streams are done. */
void sg_httpd__h2_shutdown(sg_hd_conn *c);

/* Whether a response header is one the server writes itself. */
bool sg_httpd__hop_header(const sg_http_header *h);
/* Whether |h| is safe to send (no CR, LF or NUL; a token name). */
bool sg_httpd__header_ok(const sg_http_header *h);

#endif
