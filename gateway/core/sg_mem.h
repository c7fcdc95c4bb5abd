/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Memory. OOM policy: sg_xmalloc and friends log the size and abort(), as
 * servers such as h2o and redis do, so no call site carries a NOMEM branch.
 * NOMEM returned by libraries (nghttp2, hiredis) is still handled, as fatal to
 * the connection concerned.
 *
 * sg_buf is a growable byte buffer. It does not bound itself: every owner that
 * fills one from the network checks its own cap (sg_buf_len) before appending.
 */
#ifndef SG_MEM_H
#define SG_MEM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

void *sg_xmalloc(size_t n);
void *sg_xcalloc(size_t count, size_t size);
void *sg_xrealloc(void *p, size_t n);
char *sg_xstrdup(const char *s);
/* Copies |n| bytes of |s| and terminates the copy with NUL. */
char *sg_xstrndup(const char *s, size_t n);
/* Frees |p| with free(), keeping errno (libuv uv__free). */
void sg_free(void *p);

/* Expands to the struct that embeds |ptr| as its member |member|. */
#define sg_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#define SG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

typedef struct sg_buf {
  char *data; /* NUL-terminated whenever cap > 0 (not counted in len) */
  size_t len;
  size_t cap;
} sg_buf;

#define SG_BUF_INIT                                                                                \
  { NULL, 0, 0 }

void sg_buf_init(sg_buf *b);
/* Releases the memory; |b| is empty and reusable afterwards. */
void sg_buf_free(sg_buf *b);
/* Empties |b| but keeps its memory for reuse. */
void sg_buf_reset(sg_buf *b);
/* Grows |b| for |extra| more bytes (plus the NUL); the slow path of sg_buf_reserve. */
void sg_buf__grow(sg_buf *b, size_t extra);
/* Makes room for |extra| more bytes (plus the NUL). Inline: the room is there
 * on almost every call of the per-message paths. */
static inline void sg_buf_reserve(sg_buf *b, size_t extra) {
  if (b->len + extra + 1 > b->cap)
    sg_buf__grow(b, extra);
}
static inline void sg_buf_append(sg_buf *b, const void *p, size_t n) {
  sg_buf_reserve(b, n);
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}
void sg_buf_append_str(sg_buf *b, const char *s);
static inline void sg_buf_append_char(sg_buf *b, char c) {
  sg_buf_reserve(b, 1);
  b->data[b->len++] = c;
  b->data[b->len] = '\0';
}
/* printf-style append. */
void sg_buf_printf(sg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sg_buf_vprintf(sg_buf *b, const char *fmt, va_list ap);
/* Drops the first |n| bytes (n <= len), moving the rest to the front. */
void sg_buf_consume(sg_buf *b, size_t n);
/* Returns the memory to the caller (who frees it) and empties |b|. */
char *sg_buf_steal(sg_buf *b, size_t *len);

#endif
