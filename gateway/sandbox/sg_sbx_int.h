/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the sandbox's files: the server object, and the
 * helpers every route uses (delayed replies, ids, fault application). Each
 * route lives in its own file: sg_sbx_route_entra.c, sg_sbx__route_graph.c,
 * sg_sbx_route_acs.c, sg_sbx__route_ctl.c.
 */
#ifndef SG_SBX_INT_H
#define SG_SBX_INT_H

#include <openssl/ssl.h>
#include <stdio.h>
#include <uv.h>

#include "core/sg_http.h"
#include "core/sg_list.h"
#include "core/sg_mem.h"
#include "httpd/sg_httpd.h"
#include "sandbox/sg_sbx_app.h"
#include "sandbox/sg_sbx_drafts.h"
#include "sandbox/sg_sbx_faults.h"
#include "sandbox/sg_sbx_inbox.h"
#include "sandbox/sg_sbx_limits.h"
#include "sandbox/sg_sbx_msg.h"
#include "sandbox/sg_sbx_ops.h"
#include "sandbox/sg_sbx_settings.h"
#include "sandbox/sg_sbx_smtp_srv.h"
#include "sandbox/sg_sbx_stats.h"
#include "sandbox/sg_sbx_tokens.h"

struct sg_sbx {
  uv_loop_t *loop;
  sg_sbx_cfg cfg;
  SSL_CTX *ssl;
  sg_httpd *httpd;
  uint16_t port;
  sg_httpd *imds; /* the managed identity stand-in (plain HTTP), or NULL */
  uint16_t imds_port;
  void (*imds_then)(sg_sbx *s); /* after it closed */
  char ca_path[1024];
  unsigned char acs_key[64];
  size_t acs_key_len;
  char *acs_key_b64;
  /* provider state */
  sg_sbx_tokens *tokens;
  sg_sbx_ops *ops;
  sg_sbx_inflight *graph_inflight;
  sg_sbx_rate *graph_req, *graph_msg, *graph_rcpt;
  sg_sbx_rate *graph_slow; /* graph.slow_mailboxes: their requests per window */
  sg_sbx_rate *acs_min, *acs_hour, *acs_status_min, *acs_status_hour;
  sg_sbx_backoff *backoff;
  sg_sbx_rate
      *graph_upload; /* bytes uploaded per (app, mailbox) per window (Outlook's 150 MB / 5 min) */
  sg_sbx_drafts drafts; /* drafts and upload sessions */
  /* the SMTP stand-ins (NULL when off) and their per-mailbox minute window */
  sg_sbx_smtp_srv *smtp_exchange, *smtp_hve;
  sg_sbx_rate *smtp_msg;
  uint64_t smtp_seq; /* accepted SMTP messages, for smtp.save_dir file names */
  int smtp_stopping; /* listeners still closing at stop */
  sg_sbx_stats stats;
  sg_sbx_inbox *inbox;    /* the web inbox's messages and events */
  uint64_t rng;           /* fault decisions: seeded (repeatable) */
  uint64_t id_rng;        /* request and operation ids: random per run */
  uint64_t send_requests; /* for faults.goaway_every */
  /* recording */
  FILE *record;
  uv_timer_t flush_timer;
  /* replies waiting for their time (latency, late 202s) */
  sg_list delayed;
  int closing;
  void (*on_closed)(void *);
  void *closed_ud;
};

/* A reply to send later (added latency, late 202). */
typedef struct sg_sbx_reply {
  int status;
  sg_http_header hdrs[12];
  size_t nhdrs;
  sg_buf strings; /* header names/values and body, copied */
  size_t body_off, body_len;
  char inflight_key[300]; /* released when the reply goes out; "" for none */
  char backoff_key[300];  /* a Retry-After window starts when the reply goes out */
  uint64_t backoff_ms;
  bool goaway;
} sg_sbx_reply;

void sg_sbx__reply_init(sg_sbx_reply *r, int status);
/* Adds a header (copied). */
void sg_sbx__reply_header(sg_sbx_reply *r, const char *name, const char *value);
/* Sets the body (copied). */
void sg_sbx__reply_body(sg_sbx_reply *r, const void *body, size_t len);

/*
 * Sends |r| for |req| after |delay_ms| (0: now), then releases the in-flight
 * slot it names. Takes ownership of |r|'s contents.
 */
void sg_sbx__send(sg_sbx *s, sg_httpd_req *req, sg_sbx_reply *r, uint64_t delay_ms);

/* Responds at once with a JSON body. */
void sg_sbx__send_json(sg_sbx *s, sg_httpd_req *req, int status, const sg_buf *json);

/* A random GUID "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx". */
void sg_sbx__guid(sg_sbx *s, char out[37]);

/* The value of header |name| as a NUL-terminated copy in |out|, or NULL. */
const char *sg_sbx__header(const sg_httpd_req *req, const char *name, char *out, size_t cap);

/* "host:port" ("[v6]:port") into |host| and |port|; 0 or SG_ERR_CONFIG. */
int sg_sbx__split_listen(const char *listen, char *host, size_t hcap, uint16_t *port);

/* The managed identity stand-in (sg_sbx_imds.c): starts its listener when
 * imds.listen is set; stops it, then calls |then|. */
int sg_sbx__imds_start(sg_sbx *s, char *err, size_t errcap);
void sg_sbx__imds_stop(sg_sbx *s, void (*then)(sg_sbx *s));

/* The value of query parameter |name| in |path| (undecoded), or NULL. */
const char *sg_sbx__query(const char *path, const char *name, char *out, size_t cap);

/* Appends one accepted message to the record file. */
void sg_sbx__record(sg_sbx *s, const sg_sbx_msg *m, const char *request_id, const char *op_id);

/* Monotonic and wall clock in ms. */
uint64_t sg_sbx__now(const sg_sbx *s);

/* (Re)creates the limiters from the settings (state is dropped). */
void sg_sbx__limits_rebuild(sg_sbx *s);

/* Graph's ids of one request: request-id, client-request-id, the date of innerError. */
typedef struct graph_ids {
  char request_id[37];
  char client_request_id[128];
  char date[20];
} graph_ids;
void sg_sbx__graph_ids_init(sg_sbx *s, sg_httpd_req *req, graph_ids *ids);
/* Graph's common response headers: date, request-id, client-request-id,
 * x-ms-ags-diagnostic, strict-transport-security. */
void sg_sbx__graph_headers(sg_sbx_reply *r, const graph_ids *ids);
/* Sends a Graph error; |retry_after_ms| > 0 adds Retry-After and records the
 * window under |bkey|; |inflight_key| is released when it goes out. */
void sg_sbx__graph_error(sg_sbx *s, sg_httpd_req *req, const graph_ids *ids, int status,
                         const char *code, const char *message, bool inner, uint64_t retry_after_ms,
                         const char *bkey, const char *inflight_key, uint64_t delay);
/* Checks the bearer token (answers 401 itself and returns false when bad). */
bool sg_sbx__graph_auth(sg_sbx *s, sg_httpd_req *req, const graph_ids *ids,
                        sg_sbx_token_info *info);
/* Injected faults (faults.*): true when one answered (or dropped) the request. */
bool sg_sbx__graph_fault(sg_sbx *s, sg_httpd_req *req, const graph_ids *ids, const char *key);
/* The limiter key "graph|<app>|<mailbox lower case>" and the folded mailbox. */
void sg_sbx__graph_key(const char *client_id, const char *mailbox, char *key, size_t cap, char *mb,
                       size_t mbcap);

/* Routes. */
void sg_sbx__route_token(sg_sbx *s, sg_httpd_req *req, const char *tenant);
void sg_sbx__route_graph(sg_sbx *s, sg_httpd_req *req, const char *mailbox);
/* /v1.0/users/{mailbox}/messages[/{id}[/attachments[/createUploadSession]|/send]]: |rest|
 * is what follows "messages" in the path (sg_sbx_route_draft.c). */
void sg_sbx__route_draft(sg_sbx *s, sg_httpd_req *req, const char *mailbox, const char *rest);
/* PUT / DELETE on an upload session's URL, /up/{token} (no bearer: pre-authenticated). */
void sg_sbx__route_upload(sg_sbx *s, sg_httpd_req *req, const char *token);
void sg_sbx__route_acs_send(sg_sbx *s, sg_httpd_req *req);
void sg_sbx__route_acs_get(sg_sbx *s, sg_httpd_req *req, const char *op_id);
void sg_sbx__route_ctl(sg_sbx *s, sg_httpd_req *req);
/* /inbox and below: the web inbox (sg_sbx_route_inbox.c). */
void sg_sbx__route_inbox(sg_sbx *s, sg_httpd_req *req);

/* The web inbox keeps an accepted message (|m| and the |len| bytes of the
 * request or SMTP message at |body| are borrowed). */
void sg_sbx__inbox_add(sg_sbx *s, const sg_sbx_msg *m, const char *request_id, const void *body,
                       size_t len);
/* The web inbox records a throttling or fault answer to |api|'s |mailbox|
 * ("" or NULL: not one mailbox); |status| 0 for a cut connection. */
void sg_sbx__inbox_event(sg_sbx *s, const char *api, const char *mailbox, int status,
                         const char *code, uint64_t retry_ms);
/* The same for an HTTP request: the service and mailbox come from its path. */
void sg_sbx__inbox_event_req(sg_sbx *s, const sg_httpd_req *req, int status, const char *code,
                             uint64_t retry_ms);

#endif
