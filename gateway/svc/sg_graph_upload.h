/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Graph's large-message route as a sequence of steps (docs/microsoft-apis.md
 * §1.3): a structured job whose sendMail request would exceed
 * SG_GRAPH_MAX_REQUEST_BYTES is created as a draft in the sender's mailbox,
 * its attachments of SG_GRAPH_ATTACH_POST_MAX bytes or more go through upload
 * sessions in ranges of |chunk| bytes, in order, the smaller ones in the
 * draft's JSON while it stays under the request cap and by POST .../attachments
 * otherwise, and the draft is then sent. Pure: the plan, the order of steps,
 * the ranges, the request bodies and paths, the draft record and the parsing
 * of answers; no I/O (svc/sg_prov_graph.c is the glue).
 *
 * Steps, in order:
 *   RECALL    read the job's draft record (Redis): none -> CREATE;
 *             "d <id>" (an earlier run made a draft, never sent) -> DISCARD;
 *             "s <id>" (an earlier run may have sent it) -> SEND, send_maybe
 *   DISCARD   DELETE /messages/{old id} (404 counts as done) -> CREATE
 *   CREATE    POST /messages with the message and its inline attachments
 *   REMEMBER  record "d <id>" -> the first attachment step, or COMMIT
 *   ATTACH i  POST /messages/{id}/attachments (one small attachment)
 *   SESSION i POST /messages/{id}/attachments/createUploadSession -> PUT
 *   PUT i     PUT uploadUrl, Content-Range bytes a-b/size: 200 with
 *             nextExpectedRanges -> PUT from there; 201 -> the next attachment
 *   COMMIT    record "s <id>" (the send may go out from now on) -> SEND
 *   SEND      POST /messages/{id}/send: 202 -> DONE (SENT)
 * A send of a draft cannot deliver twice (a sent draft is gone), so a lost
 * answer to SEND is resent on the same draft; 404 there after a send that
 * may have gone out is the ambiguous case (gateway.ambiguous decides).
 */
#ifndef SG_GRAPH_UPLOAD_H
#define SG_GRAPH_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"
#include "job/sg_job.h"

/* Attachments of this many raw bytes or more need an upload session (Graph:
 * POST .../attachments takes files "under 3 MB"). */
#define SG_GRAPH_ATTACH_POST_MAX 3000000u
/* Graph asks for ranges in multiples of 320 KiB, and at most 4 MB each. */
#define SG_GRAPH_CHUNK_UNIT 327680u
#define SG_GRAPH_CHUNK_MAX (4u * 1024u * 1024u)
/* 12 x 320 KiB = 3.75 MiB: the largest multiple under 4 MiB. */
#define SG_GRAPH_CHUNK_DEFAULT (12u * SG_GRAPH_CHUNK_UNIT)
/* Room kept under SG_GRAPH_MAX_REQUEST_BYTES when filling a draft's JSON. */
#define SG_GRAPH_DRAFT_MARGIN (64u * 1024u)
/* Bounds of what Graph's answers may give us. */
#define SG_GRAPH_ID_MAX 512
#define SG_GRAPH_URL_MAX 4096
/* Times a draft is started over (upload session lost or refused) before FAILED. */
#define SG_GRAPH_MAX_RESTARTS 3

typedef enum {
  SG_GATT_INLINE,  /* in the draft's JSON */
  SG_GATT_POST,    /* POST .../attachments */
  SG_GATT_SESSION, /* upload session */
} sg_gatt_route;

typedef enum {
  SG_GSTEP_RECALL,
  SG_GSTEP_DISCARD,
  SG_GSTEP_CREATE,
  SG_GSTEP_REMEMBER,
  SG_GSTEP_ATTACH,
  SG_GSTEP_SESSION,
  SG_GSTEP_PUT,
  SG_GSTEP_COMMIT,
  SG_GSTEP_SEND,
  SG_GSTEP_DONE,
} sg_gstep;

typedef struct sg_graph_seq {
  sg_gstep step;
  size_t att;                     /* ATTACH, SESSION, PUT: the attachment */
  uint64_t off;                   /* PUT: first byte of the next range */
  uint64_t chunk;                 /* bytes per range */
  size_t n;                       /* attachments */
  uint8_t *route;                 /* sg_gatt_route per attachment */
  uint8_t *inl;                   /* 1 per attachment that goes in the draft's JSON */
  char draft_id[SG_GRAPH_ID_MAX]; /* "" until CREATE answered */
  char old_id[SG_GRAPH_ID_MAX];   /* DISCARD: the draft of an earlier run */
  char upload_url[SG_GRAPH_URL_MAX];
  bool send_maybe;   /* a send of draft_id may have gone out */
  uint32_t restarts; /* times the draft was started over */
} sg_graph_seq;

/* What sg_graph_seq_init decided. */
typedef enum {
  SG_GSEQ_OK,
  SG_GSEQ_TOO_LARGE, /* the message without attachments is over the request cap */
} sg_gseq_verdict;

/*
 * Plans |job| (structured, borrowed) with ranges of |chunk| bytes (0: the
 * default; rounded down to a multiple of SG_GRAPH_CHUNK_UNIT within
 * [UNIT, CHUNK_MAX]) and sets the first step, RECALL. |q| is zeroed first;
 * free it with sg_graph_seq_free either way.
 */
sg_gseq_verdict sg_graph_seq_init(sg_graph_seq *q, const sg_job *job, uint64_t chunk);
void sg_graph_seq_free(sg_graph_seq *q);

/* The step after the current one succeeded (every step but RECALL and PUT,
 * whose answers decide: sg_graph_seq_recall, sg_graph_seq_put_done). */
void sg_graph_seq_advance(sg_graph_seq *q);

/* The record that RECALL read: |v| (|len| bytes; NULL/0: none) sets the next step. */
void sg_graph_seq_recall(sg_graph_seq *q, const char *v, size_t len);

/* The record to write at REMEMBER ("d <id>") or COMMIT ("s <id>") into
 * |out| (cap >= SG_GRAPH_ID_MAX + 3); returns its length. */
size_t sg_graph_seq_record(const sg_graph_seq *q, char *out, size_t cap);

/* The current PUT's range [first, last] of attachment q->att of |job|. */
void sg_graph_seq_range(const sg_graph_seq *q, const sg_job *job, uint64_t *first, uint64_t *last);

/* A PUT answered: |status| 201 (complete) or 200 with |next| (nextExpectedRanges).
 * Returns false when the answer makes no sense for the range sent (start over). */
bool sg_graph_seq_put_done(sg_graph_seq *q, const sg_job *job, int status, uint64_t next);

/* Starts the draft over: DISCARD the current draft (CREATE when there is
 * none), forgetting the upload session. Counts a restart. */
void sg_graph_seq_restart(sg_graph_seq *q);

/* Bytes of the current step's request body (for the lane's byte budget). */
uint64_t sg_graph_seq_bytes(const sg_graph_seq *q, const sg_job *job);

/* ---- bodies ---- */

/* The draft: the message resource with its inline attachments. */
void sg_graph_seq_draft_json(const sg_graph_seq *q, const sg_job *job, sg_buf *out);
/* {"AttachmentItem":{...}} for attachment q->att. */
void sg_graph_seq_session_json(const sg_graph_seq *q, const sg_job *job, sg_buf *out);

/* ---- answers (bodies are borrowed, need not be NUL-terminated) ---- */

/* "id" of a created draft into |out|. Returns 0 or -1 (none, too long, not printable). */
int sg_graph_parse_id(const char *body, size_t len, char *out, size_t cap);
/* "uploadUrl" of a created upload session (https only). Returns 0 or -1. */
int sg_graph_parse_upload_url(const char *body, size_t len, char *out, size_t cap);
/* The first of "nextExpectedRanges" ("N" or "N-..."). Returns 0 or -1. */
int sg_graph_parse_next(const char *body, size_t len, uint64_t *next);

/* Splits "https://host[:port]/path?q" into its origin "https://host[:port]"
 * (into |origin|) and path (|*path| points into |url|). Returns 0 or -1. */
int sg_graph_url_split(const char *url, char *origin, size_t ocap, const char **path);

/* The message's size for gateway.max_send_bytes: raw bytes of bodies and attachments. */
uint64_t sg_graph_job_bytes(const sg_job *job);

const char *sg_gstep_name(sg_gstep s);

#endif
