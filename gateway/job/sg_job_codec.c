/* SPDX-License-Identifier: Apache-2.0 */
/* MailJob decoding, validation and encoding; see sg_job_codec.h. */
#include "job/sg_job_codec.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/sg_addr.h"
#include "core/sg_err.h"
#include "core/sg_utf8.h"
#include "job/sg_pb_scan.h"
#include "job/sg_proto.h"

/*
 * protobuf-c allocates every string and sub-message of a decoded job
 * separately; a bump arena turns those dozens of mallocs and frees per job
 * into one or two. Chunks are linked and freed together with the job.
 */
typedef struct arena_chunk {
  struct arena_chunk *next;
  size_t cap, used;
  max_align_t data[];
} arena_chunk;

typedef struct {
  arena_chunk *head;
} arena;

static void *arena_alloc(void *ud, size_t size) {
  arena *a = ud;
  size = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
  arena_chunk *c = a->head;
  if (c == NULL || c->cap - c->used < size) {
    size_t cap = size > 1024 ? size : 1024;
    if (c && c->cap > cap)
      cap = c->cap;
    c = sg_xmalloc(sizeof *c + cap);
    c->cap = cap;
    c->used = 0;
    c->next = a->head;
    a->head = c;
  }
  void *p = (char *)c->data + c->used;
  c->used += size;
  return p;
}

static void arena_free_one(void *ud, void *p) {
  (void)ud, (void)p;
}

/* |n| zeroed elements of |size| from the arena (the views of a decoded job). */
static void *arena_calloc(arena *a, size_t n, size_t size) {
  void *p = arena_alloc(a, n * size);
  memset(p, 0, n * size);
  return p;
}

struct sg_job_msg_cache {
  arena_chunk *top; /* linked by |next| */
  size_t n, bytes;
  size_t max_bytes, max_block;
  uint64_t reused;
};

sg_job_msg_cache *sg_job_msg_cache_new(size_t max_bytes, size_t max_block) {
  sg_job_msg_cache *c = sg_xcalloc(1, sizeof *c);
  c->max_bytes = max_bytes;
  c->max_block = max_block;
  return c;
}

void sg_job_msg_cache_free(sg_job_msg_cache *c) {
  if (c == NULL)
    return;
  while (c->top) {
    arena_chunk *k = c->top;
    c->top = k->next;
    sg_free(k);
  }
  sg_free(c);
}

void sg_job_msg_cache_get_stats(const sg_job_msg_cache *c, sg_job_msg_cache_stats *out) {
  *out = (sg_job_msg_cache_stats){c->n, c->bytes, c->reused};
}

/* A first block of at least |cap| bytes: the cache's top when it is large
 * enough (one that is not is freed: the jobs have grown), else a new one. */
static arena_chunk *cache_take(sg_job_msg_cache *c, size_t cap) {
  arena_chunk *k = c ? c->top : NULL;
  if (k) {
    c->top = k->next;
    c->n--;
    c->bytes -= k->cap;
    if (k->cap >= cap) {
      k->used = 0;
      k->next = NULL;
      c->reused++;
      return k;
    }
    sg_free(k);
  }
  k = sg_xmalloc(sizeof *k + cap);
  k->cap = cap;
  k->used = 0;
  k->next = NULL;
  return k;
}

/* Frees the chunks of |a|; its first one (the last linked) goes back to |c|
 * when there is room. */
static void arena_release(arena *a, sg_job_msg_cache *c) {
  arena_chunk *k = a->head;
  a->head = NULL;
  while (k) {
    arena_chunk *n = k->next;
    if (n == NULL && c && k->cap <= c->max_block && c->bytes + k->cap <= c->max_bytes) {
      k->next = c->top;
      c->top = k;
      c->n++;
      c->bytes += k->cap;
    } else {
      sg_free(k);
    }
    k = n;
  }
}

struct sg_job_msg {
  arena arena;
  sg_job_msg_cache *cache; /* where the first block goes back, or NULL */
  Sendgate__V1__MailJob *pb;
  sg_job job;
  sg_job_addr *addrs; /* to, cc, bcc, reply_to back to back */
  sg_job_attachment *atts;
  sg_job_header *hdrs;
  sg_job_kv *meta;
};

static int fail(sg_job_error *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(sg_job_error *err, const char *code, const char *fmt, ...) {
  err->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return SG_ERR_INVAL;
}

static bool has_crlf(const char *s) {
  return strpbrk(s, "\r\n") != NULL;
}
/* Other control characters (a tab is fine in text). */
static bool has_ctl(const char *s) {
  return sg_has_ctl(s, strlen(s), true);
}

/* CR/LF first (its own code, header injection), then any other control character. */
static int check_text(const char *s, const char *what, size_t i, sg_job_error *err) {
  if (has_crlf(s))
    return fail(err, SG_JOBERR_CRLF, "%s[%zu] contains CR or LF", what, i);
  if (has_ctl(s))
    return fail(err, SG_JOBERR_CONTROL_CHAR, "%s[%zu] contains a control character", what, i);
  return 0;
}
static bool utf8(const char *s) {
  return sg_utf8_valid(s, strlen(s));
}

/* Fills |n| views from |base| + |*off| on and advances |*off|; NULL for none
 * (|base| is NULL when the job has no addresses: no pointer arithmetic then). */
static const sg_job_addr *fill_addrs(sg_job_addr *base, size_t *off, Sendgate__V1__Address **src,
                                     size_t n) {
  if (n == 0)
    return NULL;
  sg_job_addr *dst = base + *off;
  for (size_t i = 0; i < n; i++) {
    dst[i].address = src[i]->address;
    dst[i].name = src[i]->name;
  }
  *off += n;
  return dst;
}

static void build_view(sg_job_msg *m) {
  Sendgate__V1__MailJob *pb = m->pb;
  sg_job *j = &m->job;
  size_t na = pb->n_to + pb->n_cc + pb->n_bcc + pb->n_reply_to;
  m->addrs = na ? arena_calloc(&m->arena, na, sizeof *m->addrs) : NULL;
  size_t off = 0;
  j->to = fill_addrs(m->addrs, &off, pb->to, pb->n_to);
  j->n_to = pb->n_to;
  j->cc = fill_addrs(m->addrs, &off, pb->cc, pb->n_cc);
  j->n_cc = pb->n_cc;
  j->bcc = fill_addrs(m->addrs, &off, pb->bcc, pb->n_bcc);
  j->n_bcc = pb->n_bcc;
  j->reply_to = fill_addrs(m->addrs, &off, pb->reply_to, pb->n_reply_to);
  j->n_reply_to = pb->n_reply_to;

  j->id = pb->id;
  j->backend = (sg_backend)pb->backend;
  j->account = pb->account;
  j->sender = pb->sender;
  j->subject = pb->subject;
  j->text_body = pb->text_body;
  j->html_body = pb->html_body;
  j->text_body_len = strlen(j->text_body);
  j->html_body_len = strlen(j->html_body);
  if (pb->n_attachments) {
    m->atts = arena_calloc(&m->arena, pb->n_attachments, sizeof *m->atts);
    for (size_t i = 0; i < pb->n_attachments; i++) {
      Sendgate__V1__Attachment *a = pb->attachments[i];
      m->atts[i] = (sg_job_attachment){a->name,        a->content_type, a->content.data,
                                       a->content.len, a->content_id,   a->inline_ != 0};
    }
  }
  j->attachments = m->atts;
  j->n_attachments = pb->n_attachments;
  if (pb->n_headers) {
    m->hdrs = arena_calloc(&m->arena, pb->n_headers, sizeof *m->hdrs);
    for (size_t i = 0; i < pb->n_headers; i++)
      m->hdrs[i] = (sg_job_header){pb->headers[i]->name, pb->headers[i]->value};
  }
  j->headers = m->hdrs;
  j->n_headers = pb->n_headers;
  j->mime = pb->mime.data;
  j->mime_len = pb->mime.len;
  j->save_to_sent_items = pb->save_to_sent_items != 0;
  j->reply_stream = pb->reply_stream;
  j->campaign_id = pb->campaign_id;
  if (pb->n_metadata) {
    m->meta = arena_calloc(&m->arena, pb->n_metadata, sizeof *m->meta);
    for (size_t i = 0; i < pb->n_metadata; i++)
      m->meta[i] = (sg_job_kv){pb->metadata[i]->key, pb->metadata[i]->value};
  }
  j->metadata = m->meta;
  j->n_metadata = pb->n_metadata;
  j->max_attempts = pb->max_attempts;
  j->deadline_unix_ms = pb->deadline_unix_ms;
  j->created_unix_ms = pb->created_unix_ms;
  j->priority = (sg_priority)pb->priority;
}

static int check_addrs(const sg_job_addr *a, size_t n, const char *field, sg_job_error *err) {
  for (size_t i = 0; i < n; i++) {
    if (!utf8(a[i].address) || !utf8(a[i].name))
      return fail(err, SG_JOBERR_BAD_UTF8, "%s[%zu] is not valid UTF-8", field, i);
    if (has_crlf(a[i].name))
      return fail(err, SG_JOBERR_CRLF, "%s[%zu].name contains CR or LF", field, i);
    if (has_ctl(a[i].name))
      return fail(err, SG_JOBERR_CONTROL_CHAR, "%s[%zu].name contains a control character", field,
                  i);
    if (!sg_addr_valid(a[i].address, strlen(a[i].address)))
      return fail(err, SG_JOBERR_BAD_ADDRESS, "%s[%zu] is not a valid address", field, i);
  }
  return 0;
}

bool sg_job_header_name_ok(const char *s) {
  if (!(s[0] == 'X' || s[0] == 'x') || s[1] != '-' || s[2] == '\0' || strlen(s) > 128)
    return false;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p <= 0x20 || *p >= 0x7f || *p == ':')
      return false;
  return true;
}

static int validate(const sg_job *j, sg_job_error *err) {
  size_t idlen = strlen(j->id);
  if (idlen == 0 || idlen > SG_JOB_ID_MAX)
    return fail(err, SG_JOBERR_BAD_ID, "id must be 1 to %d characters (got %zu)", SG_JOB_ID_MAX,
                idlen);
  for (const unsigned char *p = (const unsigned char *)j->id; *p; p++)
    if (*p < 0x20 || *p > 0x7e)
      return fail(err, SG_JOBERR_BAD_ID, "id must be printable ASCII");
  if (j->backend != SG_BACKEND_UNSPECIFIED && j->backend != SG_BACKEND_GRAPH &&
      j->backend != SG_BACKEND_ACS && j->backend != SG_BACKEND_SMTP)
    return fail(err, SG_JOBERR_BAD_BACKEND, "backend %d is not known", (int)j->backend);
  if ((unsigned)j->priority > SG_PRIORITY_BULK)
    return fail(err, SG_JOBERR_BAD_PRIORITY, "priority %d is not known", (int)j->priority);
  const char *strs[] = {j->account, j->sender, j->subject, j->reply_stream, j->campaign_id};
  for (size_t i = 0; i < SG_ARRAY_LEN(strs); i++)
    if (!utf8(strs[i]))
      return fail(err, SG_JOBERR_BAD_UTF8, "a text field is not valid UTF-8");
  if (!sg_utf8_valid(j->text_body, sg_job_text_len(j)) ||
      !sg_utf8_valid(j->html_body, sg_job_html_len(j)))
    return fail(err, SG_JOBERR_BAD_UTF8, "a text field is not valid UTF-8");
  for (size_t i = 0; i < j->n_metadata; i++)
    if (!utf8(j->metadata[i].key) || !utf8(j->metadata[i].value))
      return fail(err, SG_JOBERR_BAD_UTF8, "metadata is not valid UTF-8");
  if (j->sender[0] == '\0')
    return fail(err, SG_JOBERR_NO_SENDER, "sender is empty");
  for (const unsigned char *p = (const unsigned char *)j->sender; *p; p++)
    if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '?' || *p == '#')
      return fail(err, SG_JOBERR_BAD_ADDRESS,
                  "sender contains a character not allowed in a mailbox");
  if (sg_has_ctl(j->sender, strlen(j->sender), false))
    return fail(err, SG_JOBERR_BAD_ADDRESS, "sender contains a control character");
  if (has_crlf(j->subject))
    return fail(err, SG_JOBERR_CRLF, "subject contains CR or LF");
  if (has_ctl(j->subject))
    return fail(err, SG_JOBERR_CONTROL_CHAR, "subject contains a control character");

  bool content = j->subject[0] || j->text_body[0] || j->html_body[0] || j->n_reply_to ||
                 j->n_attachments || j->n_headers;
  int rv;
  if (j->mime_len) {
    /* Recipients beside mime are its envelope (SMTP's RCPT TO): the message
     * goes to exactly them (sg_mime_envelope.h); without any, to the
     * recipients of its header fields. */
    if (content)
      return fail(err, SG_JOBERR_MIME_AND_CONTENT,
                  "mime is set, so subject, bodies, reply_to, attachments and headers must be "
                  "empty (recipients are the envelope)");
    if ((rv = check_addrs(j->to, j->n_to, "to", err)) ||
        (rv = check_addrs(j->cc, j->n_cc, "cc", err)) ||
        (rv = check_addrs(j->bcc, j->n_bcc, "bcc", err)))
      return rv;
    return 0;
  }
  if (j->n_to + j->n_cc + j->n_bcc == 0)
    return fail(err, SG_JOBERR_NO_RECIPIENTS, "no recipient in to, cc or bcc");
  if ((rv = check_addrs(j->to, j->n_to, "to", err)) ||
      (rv = check_addrs(j->cc, j->n_cc, "cc", err)) ||
      (rv = check_addrs(j->bcc, j->n_bcc, "bcc", err)) ||
      (rv = check_addrs(j->reply_to, j->n_reply_to, "reply_to", err)))
    return rv;
  if (j->n_headers > SG_JOB_MAX_HEADERS)
    return fail(err, SG_JOBERR_TOO_MANY_HEADERS, "%zu custom headers; at most %d", j->n_headers,
                SG_JOB_MAX_HEADERS);
  for (size_t i = 0; i < j->n_headers; i++) {
    if (!utf8(j->headers[i].name) || !utf8(j->headers[i].value))
      return fail(err, SG_JOBERR_BAD_UTF8, "headers[%zu] is not valid UTF-8", i);
    if (has_crlf(j->headers[i].name))
      return fail(err, SG_JOBERR_CRLF, "headers[%zu] contains CR or LF", i);
    if ((rv = check_text(j->headers[i].value, "headers", i, err)) != 0)
      return rv;
    if (!sg_job_header_name_ok(j->headers[i].name))
      return fail(err, SG_JOBERR_BAD_HEADER,
                  "headers[%zu]: the name must start with X- and be a token", i);
  }
  for (size_t i = 0; i < j->n_attachments; i++) {
    const sg_job_attachment *a = &j->attachments[i];
    if (!utf8(a->name) || !utf8(a->content_type) || !utf8(a->content_id))
      return fail(err, SG_JOBERR_BAD_UTF8, "attachments[%zu] is not valid UTF-8", i);
    if (a->name[0] == '\0')
      return fail(err, SG_JOBERR_BAD_ATTACHMENT, "attachments[%zu] has no name", i);
    if ((rv = check_text(a->name, "attachments", i, err)) != 0 ||
        (rv = check_text(a->content_type, "attachments", i, err)) != 0 ||
        (rv = check_text(a->content_id, "attachments", i, err)) != 0)
      return rv;
  }
  return 0;
}

int sg_job_decode(const uint8_t *data, size_t len, sg_job_msg **out, sg_job_error *err) {
  return sg_job_decode_cached(NULL, data, len, out, err);
}

int sg_job_decode_cached(sg_job_msg_cache *c, const uint8_t *data, size_t len, sg_job_msg **out,
                         sg_job_error *err) {
  *out = NULL;
  /* One allocation for most jobs: the first chunk holds this sg_job_msg, the
   * decoded form (about the packed size plus the structs) and the views;
   * rounded up to whole KiB (the cache's size classes). */
  size_t cap = sizeof(sg_job_msg) + len + len / 2 + 1024;
  cap = (cap + 1023) & ~(size_t)1023;
  arena first = {cache_take(c, cap)};
  sg_job_msg *m = arena_alloc(&first, sizeof *m);
  memset(m, 0, sizeof *m);
  m->arena = first;
  m->cache = c;
  ProtobufCAllocator alloc = {arena_alloc, arena_free_one, &m->arena};
  Sendgate__V1__MailJob *pb = sendgate__v1__mail_job__unpack(&alloc, len, data);
  if (pb == NULL) {
    arena a = m->arena; /* |m| is in the arena */
    arena_release(&a, c);
    err->code = SG_JOBERR_UNDECODABLE;
    snprintf(err->message, sizeof err->message,
             "the job field is not a sendgate.v1.MailJob (%zu bytes)", len);
    return SG_ERR_PARSE;
  }
  m->pb = pb;
  build_view(m);
  *out = m;
  if (sg_pb_has_nul_string(&sendgate__v1__mail_job__descriptor, data, len))
    return fail(err, SG_JOBERR_NUL,
                "a text field contains a NUL byte; it cannot be sent as written");
  return validate(&m->job, err);
}

const sg_job *sg_job_msg_view(const sg_job_msg *m) {
  return &m->job;
}

void sg_job_msg_free(sg_job_msg *m) {
  if (m == NULL)
    return;
  arena a = m->arena; /* |m| and everything it points to are in the arena */
  arena_release(&a, m->cache);
}

int sg_job_check_backend(const sg_job *j, sg_backend backend, size_t request_size,
                         sg_job_error *err) {
  size_t rcpts = j->n_to + j->n_cc + j->n_bcc;
  if (backend == SG_BACKEND_GRAPH) {
    if (rcpts > SG_GRAPH_MAX_RECIPIENTS)
      return fail(err, SG_JOBERR_TOO_MANY_RECIPIENTS, "%zu recipients; Graph takes at most %d",
                  rcpts, SG_GRAPH_MAX_RECIPIENTS);
    if (request_size > SG_GRAPH_MAX_REQUEST)
      return fail(err, SG_JOBERR_TOO_LARGE, "the Graph request would be %zu bytes; the cap is %u",
                  request_size, SG_GRAPH_MAX_REQUEST);
    return 0;
  }
  if (j->mime_len)
    return fail(err, SG_JOBERR_MIME_UNSUPPORTED,
                "ACS takes structured content only: convert the MIME first");
  if (!sg_addr_valid(j->sender, strlen(j->sender)))
    return fail(err, SG_JOBERR_BAD_ADDRESS, "sender must be an address for ACS");
  if (j->subject[0] == '\0')
    return fail(err, SG_JOBERR_NO_SUBJECT, "ACS requires a subject");
  if (j->text_body[0] == '\0' && j->html_body[0] == '\0')
    return fail(err, SG_JOBERR_NO_CONTENT, "ACS requires a text or HTML body");
  if (rcpts > SG_ACS_MAX_RECIPIENTS)
    return fail(err, SG_JOBERR_TOO_MANY_RECIPIENTS, "%zu recipients; ACS takes at most %d", rcpts,
                SG_ACS_MAX_RECIPIENTS);
  if (request_size > SG_ACS_MAX_REQUEST)
    return fail(err, SG_JOBERR_TOO_LARGE, "the ACS request would be %zu bytes; the cap is %u",
                request_size, SG_ACS_MAX_REQUEST);
  return 0;
}

/* Encoding: point protobuf-c structs at the view's strings (no copies). */
/* Uses base[*off ..] and advances |*off| (|base| is NULL when there are no
 * addresses at all, so nothing is added to it then). */
static Sendgate__V1__Address **enc_addrs(const sg_job_addr *a, size_t n,
                                         Sendgate__V1__Address *base, size_t *off) {
  if (n == 0)
    return NULL;
  Sendgate__V1__Address *store = base + *off;
  *off += n;
  Sendgate__V1__Address **v = sg_xcalloc(n, sizeof *v);
  for (size_t i = 0; i < n; i++) {
    sendgate__v1__address__init(&store[i]);
    store[i].address = (char *)a[i].address;
    store[i].name = (char *)(a[i].name ? a[i].name : "");
    v[i] = &store[i];
  }
  return v;
}

#define S(x) ((char *)((x) ? (x) : ""))

void sg_job_encode(const sg_job *j, sg_buf *out) {
  Sendgate__V1__MailJob pb = SENDGATE__V1__MAIL_JOB__INIT;
  size_t na = j->n_to + j->n_cc + j->n_bcc + j->n_reply_to;
  Sendgate__V1__Address *as = na ? sg_xcalloc(na, sizeof *as) : NULL;
  pb.id = S(j->id);
  pb.backend = (Sendgate__V1__Backend)j->backend;
  pb.account = S(j->account);
  pb.sender = S(j->sender);
  size_t off = 0;
  pb.to = enc_addrs(j->to, pb.n_to = j->n_to, as, &off);
  pb.cc = enc_addrs(j->cc, pb.n_cc = j->n_cc, as, &off);
  pb.bcc = enc_addrs(j->bcc, pb.n_bcc = j->n_bcc, as, &off);
  pb.reply_to = enc_addrs(j->reply_to, pb.n_reply_to = j->n_reply_to, as, &off);
  pb.subject = S(j->subject);
  pb.text_body = S(j->text_body);
  pb.html_body = S(j->html_body);
  Sendgate__V1__Attachment *at = j->n_attachments ? sg_xcalloc(j->n_attachments, sizeof *at) : NULL;
  Sendgate__V1__Attachment **atp =
      j->n_attachments ? sg_xcalloc(j->n_attachments, sizeof *atp) : NULL;
  for (size_t i = 0; i < j->n_attachments; i++) {
    sendgate__v1__attachment__init(&at[i]);
    at[i].name = S(j->attachments[i].name);
    at[i].content_type = S(j->attachments[i].content_type);
    at[i].content.data = (uint8_t *)j->attachments[i].content;
    at[i].content.len = j->attachments[i].content_len;
    at[i].content_id = S(j->attachments[i].content_id);
    at[i].inline_ = j->attachments[i].is_inline;
    atp[i] = &at[i];
  }
  pb.attachments = atp;
  pb.n_attachments = j->n_attachments;
  Sendgate__V1__Header *hs = j->n_headers ? sg_xcalloc(j->n_headers, sizeof *hs) : NULL;
  Sendgate__V1__Header **hp = j->n_headers ? sg_xcalloc(j->n_headers, sizeof *hp) : NULL;
  for (size_t i = 0; i < j->n_headers; i++) {
    sendgate__v1__header__init(&hs[i]);
    hs[i].name = S(j->headers[i].name);
    hs[i].value = S(j->headers[i].value);
    hp[i] = &hs[i];
  }
  pb.headers = hp;
  pb.n_headers = j->n_headers;
  pb.mime.data = (uint8_t *)j->mime;
  pb.mime.len = j->mime_len;
  pb.save_to_sent_items = j->save_to_sent_items;
  pb.reply_stream = S(j->reply_stream);
  pb.campaign_id = S(j->campaign_id);
  Sendgate__V1__MailJob__MetadataEntry *ms =
      j->n_metadata ? sg_xcalloc(j->n_metadata, sizeof *ms) : NULL;
  Sendgate__V1__MailJob__MetadataEntry **mp =
      j->n_metadata ? sg_xcalloc(j->n_metadata, sizeof *mp) : NULL;
  for (size_t i = 0; i < j->n_metadata; i++) {
    sendgate__v1__mail_job__metadata_entry__init(&ms[i]);
    ms[i].key = S(j->metadata[i].key);
    ms[i].value = S(j->metadata[i].value);
    mp[i] = &ms[i];
  }
  pb.metadata = mp;
  pb.n_metadata = j->n_metadata;
  pb.max_attempts = j->max_attempts;
  pb.deadline_unix_ms = j->deadline_unix_ms;
  pb.created_unix_ms = j->created_unix_ms;
  pb.priority = (Sendgate__V1__Priority)j->priority;

  size_t n = sendgate__v1__mail_job__get_packed_size(&pb);
  sg_buf_reserve(out, n);
  sendgate__v1__mail_job__pack(&pb, (uint8_t *)out->data + out->len);
  out->len += n;
  out->data[out->len] = '\0';

  sg_free(pb.to);
  sg_free(pb.cc);
  sg_free(pb.bcc);
  sg_free(pb.reply_to);
  sg_free(as);
  sg_free(at);
  sg_free(atp);
  sg_free(hs);
  sg_free(hp);
  sg_free(ms);
  sg_free(mp);
}
