/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store behind the sandbox's web inbox (/inbox): the most recent
 * messages the sandbox accepted over Graph, ACS and SMTP, with their
 * content (headers, text, HTML, attachment bytes), and a ring of the
 * throttling and fault answers it gave, so one message can show what its
 * mailbox went through around it. Bounded three ways: a number of
 * messages, a number of bytes for all of them, and a number of bytes per
 * message (content past it is dropped, the sizes stay). The oldest message
 * goes first. Pure: no I/O; the JSON goes into an sg_buf
 * (sg_sbx_inbox_json.c), the content comes from sg_sbx_inbox_capture.c and
 * the HTTP side is sg_sbx_route_inbox.c.
 */
#ifndef SG_SBX_INBOX_H
#define SG_SBX_INBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_list.h"
#include "core/sg_mem.h"
#include "sandbox/sg_sbx_msg.h"

/* A message's throttling and fault history: its mailbox's events from this
 * long before it was accepted to this long after, at most this many. */
#define SG_SBX_INBOX_HISTORY_BEFORE_MS 60000
#define SG_SBX_INBOX_HISTORY_AFTER_MS 10000
#define SG_SBX_INBOX_HISTORY_MAX 50

/* At most this many messages in one list answer (the page asks for fewer). */
#define SG_SBX_INBOX_LIST_MAX 500

typedef struct sg_sbx_inbox_att {
  char *name; /* as sent ("" when none) */
  char *content_type;
  char *content_id; /* "" when none */
  bool is_inline;
  size_t size;   /* decoded bytes as sent */
  uint8_t *data; /* the bytes, or NULL when they were over the message's bound */
} sg_sbx_inbox_att;

typedef struct sg_sbx_inbox_msg {
  sg_list link; /* in the store, oldest first */
  uint64_t id;  /* 1, 2, ... in order of acceptance; never reused until a reset */
  int64_t ts_ms;
  const char *api;     /* static: "graph", "acs", "smtp", "smtp-hve" */
  char *mailbox;       /* the sending mailbox (Graph URL, ACS senderAddress, SMTP user) */
  char *from;          /* From as written, or the mailbox */
  char *to, *cc, *bcc; /* ", "-separated addresses, "" when none */
  char *subject;
  char *request_id; /* the answer's request id (SMTP: queue id) */
  char *key;        /* the message key (sg_sbx_msg.h), to join /sandbox/messages */
  sg_sbx_hdr *hdrs; /* header fields as they would appear, in order */
  size_t n_hdrs;
  char *text, *html; /* "" when none */
  bool content_cut;  /* some content was over the bound and is not kept */
  sg_sbx_inbox_att *atts;
  size_t n_atts;
  size_t size;  /* bytes of the request or message as received */
  size_t bytes; /* bytes it holds, counted against the store's bound */
} sg_sbx_inbox_msg;

/* A throttling or fault answer. */
typedef struct sg_sbx_inbox_event {
  int64_t ts_ms;
  char api[12];      /* "graph", "acs", "smtp" */
  char mailbox[128]; /* lower case; "" = not one mailbox (ACS's resource-wide limits) */
  int status;        /* HTTP status or SMTP reply code; 0 when the connection was cut */
  char code[64];     /* the provider's error code or the fault ("reset", "drop") */
  uint64_t retry_ms; /* Retry-After given, 0 when none */
} sg_sbx_inbox_event;

typedef struct sg_sbx_inbox_limits {
  size_t max_messages;      /* 0: keep none */
  size_t max_bytes;         /* all messages together */
  size_t max_message_bytes; /* content of one message */
  size_t max_events;
} sg_sbx_inbox_limits;

typedef struct sg_sbx_inbox sg_sbx_inbox;

sg_sbx_inbox *sg_sbx_inbox_new(void);
void sg_sbx_inbox_del(sg_sbx_inbox *ib);
/* Drops every message and event (ids restart at 1). */
void sg_sbx_inbox_clear(sg_sbx_inbox *ib);

/* A new empty message (every string ""); the store takes it with _add. */
sg_sbx_inbox_msg *sg_sbx_inbox_msg_new(void);
void sg_sbx_inbox_msg_del(sg_sbx_inbox_msg *m);
/* Appends an attachment (strings copied; NULL for ""). |data| of |size|
 * bytes is copied when |keep|, else only the size is recorded. */
void sg_sbx_inbox_msg_add_att(sg_sbx_inbox_msg *m, const char *name, const char *content_type,
                              const char *content_id, bool is_inline, const void *data, size_t size,
                              bool keep);
/* Appends a header field (both copied, |value| cut at |max| bytes). */
void sg_sbx_inbox_msg_add_hdr(sg_sbx_inbox_msg *m, const char *name, const char *value, size_t max);

/*
 * Takes ownership of |m|, gives it the next id and |ts_ms|, and drops the
 * oldest messages until |lim| holds. Returns the id (0 when max_messages
 * is 0: |m| is freed and nothing is kept).
 */
uint64_t sg_sbx_inbox_add(sg_sbx_inbox *ib, sg_sbx_inbox_msg *m, int64_t ts_ms,
                          const sg_sbx_inbox_limits *lim);
/* Records |ev| (copied); the oldest events go past |max_events|. */
void sg_sbx_inbox_event_add(sg_sbx_inbox *ib, const sg_sbx_inbox_event *ev, size_t max_events);

/* The message with |id|, or NULL when it is gone or never was. Valid until
 * the next _add, _clear or _del. */
const sg_sbx_inbox_msg *sg_sbx_inbox_get(const sg_sbx_inbox *ib, uint64_t id);
/* Messages and bytes held, the highest id given. */
size_t sg_sbx_inbox_count(const sg_sbx_inbox *ib);
size_t sg_sbx_inbox_bytes(const sg_sbx_inbox *ib);
uint64_t sg_sbx_inbox_last_id(const sg_sbx_inbox *ib);
size_t sg_sbx_inbox_event_count(const sg_sbx_inbox *ib);

/* What a list shows: every string "" (or NULL) matches all; case does not matter. */
typedef struct sg_sbx_inbox_filter {
  const char *q;       /* in the subject */
  const char *mailbox; /* in the mailbox or From */
  const char *rcpt;    /* in To, Cc or Bcc */
  uint64_t since;      /* only ids above this */
  size_t limit;        /* at most this many (0 or above SG_SBX_INBOX_LIST_MAX: the max) */
} sg_sbx_inbox_filter;

bool sg_sbx_inbox_match(const sg_sbx_inbox_msg *m, const sg_sbx_inbox_filter *f);

/*
 * Calls |fn| for each message matching |f|, newest first, at most f->limit
 * times. Returns how many matched in all (past the limit too).
 */
size_t sg_sbx_inbox_each(const sg_sbx_inbox *ib, const sg_sbx_inbox_filter *f,
                         void (*fn)(const sg_sbx_inbox_msg *m, void *ud), void *ud);

/*
 * Calls |fn| for the events of |m|'s history (same service, same mailbox or
 * not one mailbox, within the SG_SBX_INBOX_HISTORY_* window), oldest first,
 * at most SG_SBX_INBOX_HISTORY_MAX (the latest ones).
 */
void sg_sbx_inbox_history(const sg_sbx_inbox *ib, const sg_sbx_inbox_msg *m,
                          void (*fn)(const sg_sbx_inbox_event *ev, void *ud), void *ud);

/* ---- sg_sbx_inbox_json.c ---- */

/* {"latest":N,"count":N,"total":N,"messages":[{summary}...]} newest first. */
void sg_sbx_inbox_list_json(const sg_sbx_inbox *ib, const sg_sbx_inbox_filter *f, sg_buf *out);
/* One message in full: summary, headers, text, whether it has HTML,
 * attachments (with their download paths), history. */
void sg_sbx_inbox_msg_json(const sg_sbx_inbox *ib, const sg_sbx_inbox_msg *m, sg_buf *out);

/*
 * A file name safe to offer in Content-Disposition: from |name| keeps
 * ASCII letters, digits, '.', '-', '_' and ' ' (others become '_'), no
 * leading dots or spaces, at most |cap| - 1 bytes (the extension kept when
 * it must be cut); "attachment-N" (N = |index| + 1) when nothing is left.
 */
void sg_sbx_inbox_file_name(char *out, size_t cap, const char *name, size_t index);

#endif
