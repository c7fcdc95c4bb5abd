/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writing a buffer to a uv stream the cheap way: uv_try_write first, and a
 * uv_write only for what the socket did not take. Most writes fit the
 * socket's send buffer; with a write request libuv 1.44 answers through its
 * pending queue and then calls epoll_ctl to drop a POLLOUT it never armed,
 * one more system call per write.
 *
 * The caller keeps two buffers (h2o's double buffer): |out| fills while the
 * uv_write of |inflight| is under way.
 */
#ifndef SG_STREAM_WRITE_H
#define SG_STREAM_WRITE_H

#include <stddef.h>
#include <uv.h>

#include "core/sg_mem.h"

/*
 * Writes |out| (not empty; no uv_write of |s| in flight). Returns 1 when the
 * socket took all of it (|out| is then empty, its memory freed above
 * |retain_cap| bytes); 0 when the rest is in a uv_write through |req| and
 * |cb| (|out| and |inflight| swapped: |inflight| holds the bytes and
 * *|inflight_done| how many of them the socket took already; |out| is empty);
 * or a negative libuv error (the connection is broken; nothing queued).
 */
int sg_stream_write(uv_stream_t *s, uv_write_t *req, uv_write_cb cb, sg_buf *out, sg_buf *inflight,
                    size_t *inflight_done, size_t retain_cap);

#endif
