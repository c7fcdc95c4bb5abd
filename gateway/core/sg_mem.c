/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation that aborts on OOM, and the growable sg_buf. */
#include "core/sg_mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n) {
  fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"out of memory allocating %zu bytes\"}\n", n);
  abort();
}

void *sg_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (p == NULL)
    oom(n);
  return p;
}

void *sg_xcalloc(size_t count, size_t size) {
  void *p = calloc(count ? count : 1, size ? size : 1);
  if (p == NULL)
    oom(count * size);
  return p;
}

void *sg_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (q == NULL)
    oom(n);
  return q;
}

char *sg_xstrdup(const char *s) {
  return sg_xstrndup(s, strlen(s));
}

char *sg_xstrndup(const char *s, size_t n) {
  char *p = sg_xmalloc(n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

void sg_free(void *p) {
  int saved = errno;
  free(p);
  errno = saved;
}

void sg_buf_init(sg_buf *b) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void sg_buf_free(sg_buf *b) {
  sg_free(b->data);
  sg_buf_init(b);
}

void sg_buf_reset(sg_buf *b) {
  /* An empty buffer already ends in NUL: its (often cold) data is not touched. */
  if (b->len == 0)
    return;
  b->len = 0;
  b->data[0] = '\0';
}

void sg_buf__grow(sg_buf *b, size_t extra) {
  size_t need = b->len + extra + 1;
  if (need <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap *= 2;
  if (b->len == 0) { /* nothing to keep: a new block, not a realloc that copies */
    sg_free(b->data);
    b->data = sg_xmalloc(cap);
    b->data[0] = '\0';
  } else {
    b->data = sg_xrealloc(b->data, cap);
  }
  b->cap = cap;
}

void sg_buf_append_str(sg_buf *b, const char *s) {
  sg_buf_append(b, s, strlen(s));
}

void sg_buf_vprintf(sg_buf *b, const char *fmt, va_list ap) {
  va_list cp;
  va_copy(cp, ap);
  sg_buf_reserve(b, 64);
  int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, cp);
  va_end(cp);
  if (n < 0)
    return;
  if ((size_t)n >= b->cap - b->len) {
    sg_buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
  }
  b->len += (size_t)n;
}

void sg_buf_printf(sg_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sg_buf_vprintf(b, fmt, ap);
  va_end(ap);
}

void sg_buf_consume(sg_buf *b, size_t n) {
  if (n >= b->len) {
    sg_buf_reset(b);
    return;
  }
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
  b->data[b->len] = '\0';
}

char *sg_buf_steal(sg_buf *b, size_t *len) {
  char *p = b->data;
  if (len)
    *len = b->len;
  sg_buf_init(b);
  return p;
}
