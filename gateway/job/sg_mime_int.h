/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the files of the MIME conversion share (sg_mime_parse.c: the message
 * and its header fields; sg_mime_parts.c: the tree of parts). Not for other
 * modules: they use sg_mime_parse.h.
 */
#ifndef SG_MIME_INT_H
#define SG_MIME_INT_H

#include <gmime/gmime.h>
#include <stdbool.h>

#include "job/sg_mime_parse.h"

typedef struct sg_mime_ctx {
  sg_mime_job *out;
  const sg_mime_limits *lim;
  sg_job_error *err;
  size_t parts; /* parts seen so far, for max_parts */
  char *text;   /* the bodies once found (owned through out->own) */
  size_t text_len;
  char *html;
  size_t html_len;
  size_t n_atts, cap_atts;
  bool *related; /* per attachment: it sat in a multipart/related */
} sg_mime_ctx;

/* Fills |c->err|; returns SG_ERR_INVAL. */
int sg_mime__fail(sg_mime_ctx *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Hands |p| (a GLib allocation, may be NULL) to |c->out|, which frees it; returns |p|. */
void *sg_mime__own(sg_mime_ctx *c, void *p);

/* A subject, file name, display name or header value: valid UTF-8 without
 * control characters (a tab aside). Returns 0 or SG_ERR_INVAL (BAD_UTF8,
 * CONTROL_CHAR, naming |what|). */
int sg_mime__check_text(sg_mime_ctx *c, const char *s, const char *what);

/* Checks the header fields of |obj| against the limits. Returns 0 or SG_ERR_INVAL. */
int sg_mime__check_headers(sg_mime_ctx *c, GMimeObject *obj);

/*
 * Walks the part |obj| at nesting |depth| (the message's body is 0):
 * bodies into c->text / c->html, everything else into attachments.
 * |parent| is the subtype of the enclosing multipart ("mixed" at the top).
 * Returns 0 or SG_ERR_INVAL.
 */
int sg_mime__walk(sg_mime_ctx *c, GMimeObject *obj, size_t depth, const char *parent);

/* Sets each attachment's inline flag once the HTML body is known. */
void sg_mime__mark_inline(sg_mime_ctx *c);

#endif
