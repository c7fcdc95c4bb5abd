/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's drafts and attachment upload sessions (Graph's large-message
 * route, docs/microsoft-apis.md §1.3): a draft created in a mailbox keeps its
 * message JSON and the attachments added to it; an upload session takes the
 * bytes of one attachment in PUT ranges that must come in order, contiguous,
 * without overlap and no larger than a chunk maximum, and becomes an
 * attachment of its draft with the last byte. Content is not kept: each
 * attachment keeps its size and SHA-256, enough for tests to compare bytes.
 *
 * Pure: no I/O, no clock (times come in as arguments), no HTTP. The routes
 * (sg_sbx_route_draft.c) do auth, limits and the wire format. Bounded: at
 * most |max| drafts and |max| sessions; the oldest are dropped beyond that.
 */
#ifndef SG_SBX_DRAFTS_H
#define SG_SBX_DRAFTS_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_list.h"
#include "core/sg_mem.h"

#define SG_SBX_DRAFT_ID_MAX 64
#define SG_SBX_UPLOAD_TOKEN_MAX 48

/* One attachment of a draft. */
typedef struct sg_sbx_datt {
  char *name;
  char *content_type; /* NULL when absent */
  char *content_id;   /* NULL when absent */
  bool is_inline;
  uint64_t size;
  char sha256[65];
} sg_sbx_datt;

typedef struct sg_sbx_draft {
  sg_list link;
  char id[SG_SBX_DRAFT_ID_MAX];
  char *app;     /* its creator's limiter key, "graph|<client id>|<mailbox>" */
  char *mailbox; /* lower case */
  sg_buf json;   /* the message resource as posted */
  sg_sbx_datt *atts;
  size_t n_atts;
} sg_sbx_draft;

typedef struct sg_sbx_upload {
  sg_list link;
  char token[SG_SBX_UPLOAD_TOKEN_MAX];
  char draft_id[SG_SBX_DRAFT_ID_MAX];
  char *app, *mailbox;
  sg_sbx_datt att;     /* what it becomes; att.size is the announced total */
  uint64_t next;       /* the next byte expected */
  uint64_t expires_ms; /* wall clock; each range moves it on */
  EVP_MD_CTX *sha;
} sg_sbx_upload;

typedef struct sg_sbx_drafts {
  sg_list drafts, uploads;
  size_t n_drafts, n_uploads, max;
  uint64_t seq;
} sg_sbx_drafts;

void sg_sbx_drafts_init(sg_sbx_drafts *d, size_t max);
void sg_sbx_drafts_free(sg_sbx_drafts *d);

/* Creates a draft of |mailbox| (case folded) for |app| holding |json|
 * (|len| bytes, copied); |nonce| makes its id unguessable. */
sg_sbx_draft *sg_sbx_drafts_create(sg_sbx_drafts *d, const char *app, const char *mailbox,
                                   const char *json, size_t len, uint64_t nonce);
/* The draft |id| of |mailbox| (any case), or NULL (never created, sent, deleted). */
sg_sbx_draft *sg_sbx_drafts_find(sg_sbx_drafts *d, const char *mailbox, const char *id);
/* Removes |dr| (sent or deleted) and the upload sessions on it. */
void sg_sbx_drafts_remove(sg_sbx_drafts *d, sg_sbx_draft *dr);
/* Adds an attachment (strings copied; NULL allowed except |name|). */
void sg_sbx_draft_add_att(sg_sbx_draft *dr, const char *name, const char *content_type,
                          const char *content_id, bool is_inline, uint64_t size,
                          const char sha256[65]);

/* Opens an upload session of |size| bytes for an attachment of |dr|; it
 * expires at |expires_ms| unless a range moves it on. */
sg_sbx_upload *sg_sbx_upload_create(sg_sbx_drafts *d, const sg_sbx_draft *dr, const char *name,
                                    const char *content_type, const char *content_id,
                                    bool is_inline, uint64_t size, uint64_t expires_ms,
                                    uint64_t nonce);
/* The live session |token| at |now_ms|, or NULL; an expired one is removed. */
sg_sbx_upload *sg_sbx_upload_find(sg_sbx_drafts *d, const char *token, uint64_t now_ms);
/* Cancels (removes) |u|. */
void sg_sbx_upload_remove(sg_sbx_drafts *d, sg_sbx_upload *u);

typedef enum {
  SG_SBX_RANGE_OK,
  SG_SBX_RANGE_BAD_HEADER,   /* not "bytes a-b/total", or b < a */
  SG_SBX_RANGE_BAD_TOTAL,    /* total differs from the session's size */
  SG_SBX_RANGE_OUT_OF_ORDER, /* a is not the next byte expected (gap or overlap) */
  SG_SBX_RANGE_TOO_LARGE,    /* more than the chunk maximum */
  SG_SBX_RANGE_LENGTH,       /* the body's length is not b - a + 1, or b past the end */
} sg_sbx_range_verdict;

/* Parses "bytes a-b/total" (|hdr| NUL-terminated). Returns 0 or -1. */
int sg_sbx_range_parse(const char *hdr, uint64_t *a, uint64_t *b, uint64_t *total);

/* Checks the range header |hdr| with a body of |len| bytes against |u|. */
sg_sbx_range_verdict sg_sbx_upload_check(const sg_sbx_upload *u, const char *hdr, size_t len,
                                         uint64_t max_chunk);

/* Takes a checked range's |len| bytes; returns true when the attachment is
 * complete (it is then added to its draft, found in |d|, and |u| is removed:
 * the caller must not use it again). |expires_ms|: the session's new expiry. */
bool sg_sbx_upload_put(sg_sbx_drafts *d, sg_sbx_upload *u, const void *data, size_t len,
                       uint64_t expires_ms);

#endif
