/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A size-class cache in front of malloc for one HTTP/2 pool's nghttp2
 * sessions (nghttp2_mem). nghttp2 allocates and frees several small objects
 * per request (the stream, the outbound item, the header array, a buffer per
 * response header); with hundreds of streams opened and closed in a burst
 * they overflow glibc's per-size cache and go through its bins, which merge
 * and split chunks. Here a freed block goes on its class's list and the next
 * allocation of that class takes it back. Classes are powers of two from 32
 * to 4096 bytes; each list keeps at most SG_H2_MEM_CLASS_BYTES of blocks, the
 * rest go back to free(); larger blocks are plain malloc. Single-threaded,
 * like the loop that owns the pool.
 */
#ifndef SG_H2_MEM_H
#define SG_H2_MEM_H

#include <nghttp2/nghttp2.h>
#include <stddef.h>
#include <stdint.h>

#define SG_H2_MEM_CLASSES 8                /* 32, 64, ... 4096 bytes */
#define SG_H2_MEM_CLASS_BYTES (256 * 1024) /* cached per class, at most */

typedef struct sg_h2_mem {
  nghttp2_mem mem; /* pass &m->mem to nghttp2_session_*_new3 */
  void *free_list[SG_H2_MEM_CLASSES];
  uint32_t n_free[SG_H2_MEM_CLASSES];
  uint64_t hits, misses; /* allocations served from a list, or by malloc */
} sg_h2_mem;

void sg_h2_mem_init(sg_h2_mem *m);
/* Frees the cached blocks. Blocks still out belong to live sessions: delete
 * those first. */
void sg_h2_mem_free(sg_h2_mem *m);
/* Blocks cached in all classes. */
size_t sg_h2_mem_cached(const sg_h2_mem *m);

#endif
