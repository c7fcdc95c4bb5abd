/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An in-memory stand-in for net/sg_tlsconn.c, for fuzz targets that drive the
 * real HTTP/2 client connection (h2/sg_h2_conn.c under h2/sg_h2_pool.c) or
 * the real HTTP server (httpd/) without sockets or TLS. fuzz_memconn.c
 * defines every function of net/sg_tlsconn.h; linked ahead of sendgate_core,
 * those definitions are the ones used. The code under test calls them as
 * always; the target plays the network with the sg_fz_conn_* calls below.
 *
 * What the real transport promises and this one keeps: on_ready once, before
 * any on_read; nothing after close; on_close exactly once and never from
 * inside sg_tlsconn_close (it is delivered by sg_fz_conn_pump, like the loop
 * turn that delivers it for real); input that arrives while reading is paused
 * waits for resume. Written bytes are kept (sg_fz_conn_output) and count as
 * pending until sg_fz_conn_drain.
 */
#ifndef SG_FUZZ_MEMCONN_H
#define SG_FUZZ_MEMCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"
#include "net/sg_tlsconn.h"

/* ALPN the next accepted connection reports ("h2", "http/1.1" or ""). */
void sg_fz_conn_set_alpn(const char *alpn);

/* Connections not yet closed-and-freed, oldest first; NULL when none. */
sg_tlsconn *sg_fz_conn_first(void);
sg_tlsconn *sg_fz_conn_newest(void);
size_t sg_fz_conn_count(void);

/* The handshake completes: on_ready (once; not after close). */
void sg_fz_conn_ready(sg_tlsconn *c);
/* Bytes from the peer: on_read now, or once reading resumes. */
void sg_fz_conn_feed(sg_tlsconn *c, const uint8_t *p, size_t n);
/* Everything written so far has left: on_drain. */
void sg_fz_conn_drain(sg_tlsconn *c);
/* The peer closes (EOF): on_close(0) follows from sg_fz_conn_pump. */
void sg_fz_conn_peer_close(sg_tlsconn *c);
/* Everything the code under test wrote on |c|. */
const sg_buf *sg_fz_conn_output(const sg_tlsconn *c);
bool sg_fz_conn_is_closing(const sg_tlsconn *c);
/* What the most recently freed connection had written (kept until the next
 * one is freed), to check output that ended with a close. */
const sg_buf *sg_fz_conn_last_output(void);

/*
 * Delivers what is due: held input after a resume, on_close of connections
 * being closed (which are then freed). Returns whether it delivered anything.
 */
bool sg_fz_conn_pump(void);

#endif
