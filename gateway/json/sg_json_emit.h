/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A JSON emitter that either writes into a buffer or only counts the bytes it
 * would write, so a request builder and its exact size estimate are one walk
 * of the same code (the Graph and ACS builders use it).
 */
#ifndef SG_JSON_EMIT_H
#define SG_JSON_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "core/sg_base64.h"
#include "core/sg_json_write.h"
#include "core/sg_mem.h"

/* Writes into |b|, or only counts into |n| when |b| is NULL. */
typedef struct sg_jemit {
  sg_buf *b;
  size_t n;
} sg_jemit;

/* Appends |s| as it is (JSON punctuation and keys the caller knows are safe). */
static inline void sg_jemit_raw(sg_jemit *e, const char *s) {
  size_t n = strlen(s);
  if (e->b)
    sg_buf_append(e->b, s, n);
  else
    e->n += n;
}

/* Appends the |n| bytes at |s| as a quoted, escaped JSON string. */
static inline void sg_jemit_strn(sg_jemit *e, const char *s, size_t n) {
  if (e->b)
    sg_jw_str(e->b, s, n);
  else
    e->n += 2 + sg_jw_escaped_len(s, n);
}

/* Appends |s| (NULL as "") as a quoted, escaped JSON string. */
static inline void sg_jemit_str(sg_jemit *e, const char *s) {
  if (s == NULL)
    s = "";
  sg_jemit_strn(e, s, strlen(s));
}

/* Appends the base64 of |n| bytes at |p| (no quotes). */
static inline void sg_jemit_b64(sg_jemit *e, const void *p, size_t n) {
  if (e->b)
    sg_base64_encode(e->b, p, n);
  else
    e->n += sg_base64_len(n);
}

#endif
