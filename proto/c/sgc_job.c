/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The job builder: an sgc_job owns a protobuf-c MailJob whose strings and
 * arrays it allocated itself (copies of the caller's), and serializes it.
 * The checks here are only those the gateway would refuse for sure; the
 * gateway validates everything again and answers INVALID with a code.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sendgate/v1/mail.pb-c.h"
#include "sgc_int.h"

struct sgc_job {
  Sendgate__V1__MailJob m;
};

sgc_job *sgc_job_new(void) {
  sgc_job *j = calloc(1, sizeof *j);
  if (j)
    sendgate__v1__mail_job__init(&j->m);
  return j;
}

/* Strings the job did not allocate are protobuf-c's shared empty string. */
static void free_str(char *s) {
  if (s != protobuf_c_empty_string)
    free(s);
}

static int set_str(char **slot, const char *v) {
  if (v == NULL)
    return SGC_ERR_ARG;
  char *copy = strdup(v);
  if (copy == NULL)
    return SGC_ERR_NOMEM;
  free_str(*slot);
  *slot = copy;
  return 0;
}

/* Appends |item| to the pointer array |*arr| of |*n| entries. */
static int push(void ***arr, size_t *n, void *item) {
  void **grown = realloc(*arr, (*n + 1) * sizeof *grown);
  if (grown == NULL)
    return SGC_ERR_NOMEM;
  grown[(*n)++] = item;
  *arr = grown;
  return 0;
}
#define PUSH(arr, n, item) push((void ***)&(arr), &(n), (item))

static void free_addrs(Sendgate__V1__Address **a, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free_str(a[i]->address);
    free_str(a[i]->name);
    free(a[i]);
  }
  free(a);
}

void sgc_job_free(sgc_job *j) {
  if (j == NULL)
    return;
  Sendgate__V1__MailJob *m = &j->m;
  char *strs[] = {m->id,        m->account,   m->sender,       m->subject,
                  m->text_body, m->html_body, m->reply_stream, m->campaign_id};
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
    free_str(strs[i]);
  free_addrs(m->to, m->n_to);
  free_addrs(m->cc, m->n_cc);
  free_addrs(m->bcc, m->n_bcc);
  free_addrs(m->reply_to, m->n_reply_to);
  for (size_t i = 0; i < m->n_attachments; i++) {
    Sendgate__V1__Attachment *a = m->attachments[i];
    free_str(a->name);
    free_str(a->content_type);
    free_str(a->content_id);
    free(a->content.data);
    free(a);
  }
  free(m->attachments);
  for (size_t i = 0; i < m->n_headers; i++) {
    free_str(m->headers[i]->name);
    free_str(m->headers[i]->value);
    free(m->headers[i]);
  }
  free(m->headers);
  for (size_t i = 0; i < m->n_metadata; i++) {
    free_str(m->metadata[i]->key);
    free_str(m->metadata[i]->value);
    free(m->metadata[i]);
  }
  free(m->metadata);
  free(m->mime.data);
  free(j);
}

int sgc_id_ok(const char *id) {
  size_t n = strlen(id);
  if (n < 1 || n > SGC_ID_MAX)
    return 0;
  for (const unsigned char *p = (const unsigned char *)id; *p; p++)
    if (*p < 0x20 || *p > 0x7e)
      return 0;
  return 1;
}

int sgc_job_set_id(sgc_job *j, const char *id) {
  if (id == NULL || !sgc_id_ok(id))
    return SGC_ERR_ARG;
  return set_str(&j->m.id, id);
}
int sgc_job_set_sender(sgc_job *j, const char *v) {
  return set_str(&j->m.sender, v);
}
int sgc_job_set_subject(sgc_job *j, const char *v) {
  return set_str(&j->m.subject, v);
}
int sgc_job_set_text(sgc_job *j, const char *v) {
  return set_str(&j->m.text_body, v);
}
int sgc_job_set_html(sgc_job *j, const char *v) {
  return set_str(&j->m.html_body, v);
}
int sgc_job_set_account(sgc_job *j, const char *v) {
  return set_str(&j->m.account, v);
}
int sgc_job_set_reply_stream(sgc_job *j, const char *v) {
  return set_str(&j->m.reply_stream, v);
}
int sgc_job_set_campaign_id(sgc_job *j, const char *v) {
  return set_str(&j->m.campaign_id, v);
}
void sgc_job_set_backend(sgc_job *j, sgc_backend b) {
  j->m.backend = (Sendgate__V1__Backend)b;
}
void sgc_job_set_priority(sgc_job *j, sgc_priority p) {
  j->m.priority = (Sendgate__V1__Priority)p;
}
void sgc_job_set_max_attempts(sgc_job *j, uint32_t n) {
  j->m.max_attempts = n;
}
void sgc_job_set_deadline_unix_ms(sgc_job *j, int64_t ms) {
  j->m.deadline_unix_ms = ms;
}
void sgc_job_set_save_to_sent_items(sgc_job *j, int save) {
  j->m.save_to_sent_items = save != 0;
}
const char *sgc_job_id(const sgc_job *j) {
  return j->m.id;
}

/* A malloc'd copy of |len| bytes (a non-NULL pointer even for 0 bytes). */
static uint8_t *dup_bytes(const void *data, size_t len) {
  uint8_t *p = malloc(len ? len : 1);
  if (p && len)
    memcpy(p, data, len);
  return p;
}

int sgc_job_set_mime(sgc_job *j, const void *data, size_t len) {
  if (data == NULL && len)
    return SGC_ERR_ARG;
  uint8_t *p = dup_bytes(data, len);
  if (p == NULL)
    return SGC_ERR_NOMEM;
  free(j->m.mime.data);
  j->m.mime.data = p;
  j->m.mime.len = len;
  return 0;
}

int sgc_job_add_recipient(sgc_job *j, sgc_rcpt_kind kind, const char *address, const char *name) {
  if (address == NULL)
    return SGC_ERR_ARG;
  Sendgate__V1__Address *a = malloc(sizeof *a);
  if (a == NULL)
    return SGC_ERR_NOMEM;
  sendgate__v1__address__init(a);
  int rv = set_str(&a->address, address);
  if (rv == 0 && name)
    rv = set_str(&a->name, name);
  if (rv == 0) {
    switch (kind) {
    case SGC_TO:
      rv = PUSH(j->m.to, j->m.n_to, a);
      break;
    case SGC_CC:
      rv = PUSH(j->m.cc, j->m.n_cc, a);
      break;
    case SGC_BCC:
      rv = PUSH(j->m.bcc, j->m.n_bcc, a);
      break;
    case SGC_REPLY_TO:
      rv = PUSH(j->m.reply_to, j->m.n_reply_to, a);
      break;
    default:
      rv = SGC_ERR_ARG;
    }
    if (rv == 0)
      return 0;
  }
  free_str(a->address);
  free_str(a->name);
  free(a);
  return rv;
}

int sgc_job_add_header(sgc_job *j, const char *name, const char *value) {
  if (name == NULL || value == NULL)
    return SGC_ERR_ARG;
  Sendgate__V1__Header *h = malloc(sizeof *h);
  if (h == NULL)
    return SGC_ERR_NOMEM;
  sendgate__v1__header__init(h);
  int rv = set_str(&h->name, name);
  if (rv == 0)
    rv = set_str(&h->value, value);
  if (rv == 0)
    rv = PUSH(j->m.headers, j->m.n_headers, h);
  if (rv != 0) {
    free_str(h->name);
    free_str(h->value);
    free(h);
  }
  return rv;
}

int sgc_job_add_metadata(sgc_job *j, const char *key, const char *value) {
  if (key == NULL || value == NULL)
    return SGC_ERR_ARG;
  Sendgate__V1__MailJob__MetadataEntry *e = malloc(sizeof *e);
  if (e == NULL)
    return SGC_ERR_NOMEM;
  sendgate__v1__mail_job__metadata_entry__init(e);
  int rv = set_str(&e->key, key);
  if (rv == 0)
    rv = set_str(&e->value, value);
  if (rv == 0)
    rv = PUSH(j->m.metadata, j->m.n_metadata, e);
  if (rv != 0) {
    free_str(e->key);
    free_str(e->value);
    free(e);
  }
  return rv;
}

int sgc_job_add_attachment(sgc_job *j, const char *name, const char *content_type, const void *data,
                           size_t len, const char *content_id, int is_inline) {
  if (name == NULL || (data == NULL && len))
    return SGC_ERR_ARG;
  Sendgate__V1__Attachment *a = malloc(sizeof *a);
  if (a == NULL)
    return SGC_ERR_NOMEM;
  sendgate__v1__attachment__init(a);
  a->inline_ = is_inline != 0;
  a->content.data = dup_bytes(data, len);
  a->content.len = len;
  int rv = a->content.data ? set_str(&a->name, name) : SGC_ERR_NOMEM;
  if (rv == 0)
    rv = set_str(&a->content_type, content_type ? content_type : "application/octet-stream");
  if (rv == 0 && content_id)
    rv = set_str(&a->content_id, content_id);
  if (rv == 0)
    rv = PUSH(j->m.attachments, j->m.n_attachments, a);
  if (rv != 0) {
    free_str(a->name);
    free_str(a->content_type);
    free_str(a->content_id);
    free(a->content.data);
    free(a);
  }
  return rv;
}

/* The first reason the gateway would refuse |m| for sure, or NULL. */
static const char *check(const Sendgate__V1__MailJob *m) {
  if (!sgc_id_ok(m->id))
    return "the id must be 1 to 128 printable ASCII characters";
  if (m->sender[0] == '\0')
    return "a sender is required";
  int content = m->subject[0] || m->text_body[0] || m->html_body[0] || m->n_attachments ||
                m->n_headers || m->n_reply_to;
  if (m->mime.len) {
    if (content)
      return "a MIME job carries no subject, bodies, reply_to, attachments or headers";
    return NULL;
  }
  if (m->text_body[0] == '\0' && m->html_body[0] == '\0')
    return "a text or HTML body (or MIME) is required";
  if (m->n_to + m->n_cc + m->n_bcc == 0)
    return "at least one recipient is required";
  return NULL;
}

int sgc_job_encode(sgc_job *j, uint8_t **out, size_t *len, const char **why) {
  const char *unused;
  if (why == NULL)
    why = &unused;
  *why = NULL;
  if (j->m.id[0] == '\0') {
    char id[40];
    sgc_random_id(id);
    if (set_str(&j->m.id, id) != 0)
      return SGC_ERR_NOMEM;
  }
  if ((*why = check(&j->m)) != NULL)
    return SGC_ERR_ARG;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  j->m.created_unix_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  size_t n = sendgate__v1__mail_job__get_packed_size(&j->m);
  uint8_t *buf = malloc(n ? n : 1);
  if (buf == NULL)
    return SGC_ERR_NOMEM;
  *len = sendgate__v1__mail_job__pack(&j->m, buf);
  *out = buf;
  return 0;
}

const char *sgc_job_reply_stream_(const sgc_job *j) {
  return j->m.reply_stream;
}
