/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One request of the HTTP/2 pool, internal to h2/: the copied request
 * (nghttp2 name/value array), the borrowed body, and the response being
 * collected (status, capped headers, capped body). Pure: no loop, no I/O, so
 * header copying, caps and 1xx handling are unit-tested directly.
 *
 * Request objects are recycled by the pool (their buffers keep their memory),
 * so steady-state traffic allocates nothing per request on our side.
 */
#ifndef SG_H2_REQ_H
#define SG_H2_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_list.h"
#include "core/sg_mem.h"
#include "h2/nghttp2_compat.h"
#include "h2/sg_h2_pool.h"

/* Response header caps: total name+value bytes and count. */
#define SG_H2_MAX_RESP_HEADER_BYTES (64u * 1024u)
#define SG_H2_MAX_RESP_HEADERS 256u

typedef enum sg_h2_req_state {
  SG_H2_REQ_IDLE = 0, /* free list or being built */
  SG_H2_REQ_QUEUED,   /* in pool->queue */
  SG_H2_REQ_ACTIVE,   /* on a stream of conn */
  SG_H2_REQ_ORPHAN,   /* cancelled or timed out while on a stream: waits for close */
} sg_h2_req_state;

struct sg_h2_conn;

struct sg_h2_req {
  sg_list node;  /* pool->queue, conn->reqs or pool->free_reqs */
  sg_list dnode; /* pool->deadlines (sorted by deadline_ms) */
  struct sg_h2_conn *conn;
  int32_t stream_id;
  sg_h2_req_state state;
  sg_h2_cb cb;
  void *ud;
  uint64_t deadline_ms;
  /* request */
  const uint8_t *body; /* borrowed */
  size_t body_len;
  size_t body_off;
  sg_buf strs;  /* copied names and values */
  sg_buf nvmem; /* nghttp2_nv array pointing into strs */
  size_t n_nv;
  bool headers_sent; /* our HEADERS left for the transport on this attempt */
  unsigned attempts;
  unsigned resends;
  /* response */
  int status;
  bool resp_complete;
  bool truncated;
  int fail_err; /* reason we reset the stream ourselves (SG_ERR_TOOBIG) */
  sg_buf hstrs; /* "name\0value\0" pairs */
  sg_buf hidx;  /* uint32_t[4] per header: name off/len, value off/len */
  size_t n_hdrs;
  sg_buf harr; /* sg_http_header[] built at delivery */
  sg_buf rbody;
};

/* Initializes a zeroed request object's lists and buffers. */
void sg_h2_req_init(sg_h2_req *r);

/* Releases every buffer of |r| (not |r| itself). */
void sg_h2_req_release(sg_h2_req *r);

/*
 * Copies |in| into |r| as an nghttp2 header list: :method, :scheme,
 * :authority (|in->authority| or |default_authority|), :path, then the extra
 * headers with names lower-cased. Connection-specific headers (connection,
 * keep-alive, proxy-connection, transfer-encoding, upgrade, host) are dropped;
 * content-length is added for a body when absent. The body is borrowed.
 * Returns 0 or one of: SG_ERR_INVAL (missing method, path not starting with
 * '/', empty header name, CR/LF/NUL in a name or value, upper case in method).
 */
int sg_h2_req_build(sg_h2_req *r, const sg_h2_request *in, const char *scheme,
                    const char *default_authority);

/* The nghttp2 header array built by sg_h2_req_build. */
static inline const nghttp2_nv *sg_h2_req_nv(const sg_h2_req *r) {
  return (const nghttp2_nv *)(const void *)r->nvmem.data;
}

/* Forgets any response collected so far (before a resend, or after a 1xx). */
void sg_h2_req_reset_response(sg_h2_req *r);

/*
 * Records one received response header. ":status" sets the status (a final
 * status after a 1xx drops the 1xx headers); other pseudo-headers are ignored.
 * Returns 0 or one of: SG_ERR_TOOBIG (over the caps above), SG_ERR_PARSE (bad
 * :status).
 */
int sg_h2_req_on_header(sg_h2_req *r, const uint8_t *name, size_t nlen, const uint8_t *value,
                        size_t vlen);

/* Appends response body bytes, keeping at most |cap|; sets truncated beyond. */
void sg_h2_req_on_data(sg_h2_req *r, const uint8_t *p, size_t n, size_t cap);

/*
 * Fills |out| from what was collected (pointers into |r|, valid until |r| is
 * changed). |detail| is borrowed (NULL: "").
 */
void sg_h2_req_response(sg_h2_req *r, sg_h2_response *out, const char *detail);

#endif
