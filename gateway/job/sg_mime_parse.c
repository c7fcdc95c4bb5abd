/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A MIME job turned into structured content: GMime set up once, the message
 * parsed from the job's bytes, its header fields (subject, Reply-To, X-
 * fields, recipients); sg_mime_parts.c does the parts. See sg_mime_parse.h.
 */
#include "job/sg_mime_int.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/sg_addr.h"
#include "core/sg_err.h"
#include "core/sg_utf8.h"
#include "job/sg_mail_hdr.h"

void sg_mime_limits_default(sg_mime_limits *l) {
  l->max_depth = SG_MIME_MAX_DEPTH;
  l->max_parts = SG_MIME_MAX_PARTS;
  l->max_headers = SG_MIME_MAX_HEADERS;
  l->max_header_bytes = SG_MIME_MAX_HEADER_BYTES;
  l->max_x_headers = SG_MIME_MAX_X_HEADERS;
}

/* GMime keeps global tables (charsets, iconv cache, GObject types): set up
 * once per process and kept until it exits. */
static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;
static void gmime_init(void) {
  g_mime_init();
}

int sg_mime__fail(sg_mime_ctx *c, const char *code, const char *fmt, ...) {
  if (c->err->code == NULL) { /* the first reason is the one reported */
    c->err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err->message, sizeof c->err->message, fmt, ap);
    va_end(ap);
  }
  return SG_ERR_INVAL;
}

void *sg_mime__own(sg_mime_ctx *c, void *p) {
  if (p == NULL)
    return NULL;
  sg_mime_job *m = c->out;
  if (m->n_own == m->cap_own) {
    m->cap_own = m->cap_own ? m->cap_own * 2 : 16;
    m->own = sg_xrealloc(m->own, m->cap_own * sizeof *m->own);
  }
  m->own[m->n_own++] = p;
  return p;
}

/* The parser's own findings: those that mean other software would read the
 * message differently (GMIME_CRIT_*) refuse it; mere warnings do not. */
static void on_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer ud) {
  (void)item;
  sg_mime_ctx *c = ud;
  switch (code) {
  case GMIME_CRIT_NESTING_OVERFLOW:
    sg_mime__fail(c, SG_JOBERR_MIME_TOO_DEEP, "parts are nested too deep for the parser");
    break;
  case GMIME_CRIT_INVALID_HEADER_NAME:
  case GMIME_CRIT_CONFLICTING_HEADER:
  case GMIME_CRIT_CONFLICTING_PARAMETER:
  case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
  case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
    sg_mime__fail(c, SG_JOBERR_MIME_MALFORMED,
                  "the message is malformed (parser finding %d at byte %lld)", (int)code,
                  (long long)offset);
    break;
  default:
    break;
  }
}

/* Drops CR and LF (what is left of folding) from |s| in place. */
static void unfold(char *s) {
  char *w = s;
  for (char *r = s; *r; r++)
    if (*r != '\r' && *r != '\n')
      *w++ = *r;
  *w = '\0';
}

/* A decoded, unfolded, owned copy of |s| ("" for NULL), checked as text. */
static const char *header_text(sg_mime_ctx *c, const char *s, const char *what) {
  char *t = sg_mime__own(c, g_strdup(s ? s : ""));
  unfold(t);
  return sg_mime__check_text(c, t, what) == 0 ? t : NULL;
}

/* --- addresses --- */

typedef struct addr_vec {
  sg_job_addr *v;
  size_t n, cap;
} addr_vec;

static void addr_push(addr_vec *a, const char *address, const char *name) {
  if (a->n == a->cap) {
    a->cap = a->cap ? a->cap * 2 : 8;
    a->v = sg_xrealloc(a->v, a->cap * sizeof *a->v);
  }
  a->v[a->n++] = (sg_job_addr){address, name};
}

typedef struct raw_count {
  size_t n;
  bool bad;
} raw_count;

static void on_raw_addr(const char *addr, void *ud) {
  raw_count *rc = ud;
  rc->n++;
  rc->bad = rc->bad || addr[0] == '\0';
}

/* GMime leaves out what it cannot parse in an address list: the fields named
 * |field|, read again by the project's own parser, must hold as many
 * addresses as GMime found (|n|), all well-formed. */
static int check_raw_count(sg_mime_ctx *c, GMimeMessage *msg, const char *field, size_t n) {
  GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
  int nh = hl ? g_mime_header_list_get_count(hl) : 0;
  raw_count rc = {0, false};
  for (int i = 0; i < nh; i++) {
    GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
    const char *raw = g_mime_header_get_raw_value(h);
    if (g_ascii_strcasecmp(g_mime_header_get_name(h), field) == 0 && raw != NULL)
      sg_mail_addr_list(raw, strlen(raw), on_raw_addr, &rc);
  }
  if (rc.bad || rc.n != n)
    return sg_mime__fail(c, SG_JOBERR_BAD_ADDRESS, "%s holds an address that cannot be read",
                         field);
  return 0;
}

/* Every mailbox of |l| (groups flattened) into |out|, checked. */
static int collect_addrs(sg_mime_ctx *c, InternetAddressList *l, const char *field, addr_vec *out,
                         int level) {
  int n = l ? internet_address_list_length(l) : 0;
  for (int i = 0; i < n; i++) {
    InternetAddress *ia = internet_address_list_get_address(l, i);
    if (INTERNET_ADDRESS_IS_GROUP(ia)) {
      int rv =
          level > 0
              ? 0
              : collect_addrs(c, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
                              field, out, level + 1);
      if (rv != 0)
        return rv;
      continue;
    }
    const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
    if (addr == NULL || !sg_addr_valid(addr, strlen(addr)))
      return sg_mime__fail(c, SG_JOBERR_BAD_ADDRESS, "%s holds an address that is not valid",
                           field);
    const char *name = header_text(c, internet_address_get_name(ia), "a display name");
    if (name == NULL)
      return SG_ERR_INVAL;
    addr_push(out, sg_mime__own(c, g_strdup(addr)), name);
  }
  return 0;
}

/* collect_addrs for the field |field| of |msg|, every address of it accounted for. */
static int field_addrs(sg_mime_ctx *c, GMimeMessage *msg, GMimeAddressType type, const char *field,
                       addr_vec *out) {
  size_t before = out->n;
  int rv = collect_addrs(c, g_mime_message_get_addresses(msg, type), field, out, 0);
  return rv != 0 ? rv : check_raw_count(c, msg, field, out->n - before);
}

static const sg_job_addr *find_addr(const addr_vec *a, const char *address) {
  for (size_t i = 0; i < a->n; i++)
    if (strcasecmp(a->v[i].address, address) == 0)
      return &a->v[i];
  return NULL;
}

typedef struct rcpts {
  addr_vec to, cc, bcc, reply_to;
} rcpts;

/* to/cc/bcc: the envelope sorted by the fields that name it, or the fields. */
static int recipients(sg_mime_ctx *c, GMimeMessage *msg, const sg_job *job, rcpts *r) {
  addr_vec hto = {0}, hcc = {0};
  int rv = collect_addrs(c, g_mime_message_get_to(msg), "To", &hto, 0);
  if (rv == 0)
    rv = collect_addrs(c, g_mime_message_get_cc(msg), "Cc", &hcc, 0);
  size_t nenv = job->n_to + job->n_cc + job->n_bcc;
  if (rv == 0 && nenv == 0) {
    /* The fields are the recipients: every address in them must be read. */
    r->to = hto;
    r->cc = hcc;
    rv = check_raw_count(c, msg, "To", hto.n);
    if (rv == 0)
      rv = check_raw_count(c, msg, "Cc", hcc.n);
    if (rv != 0)
      return rv;
    rv = field_addrs(c, msg, GMIME_ADDRESS_TYPE_BCC, "Bcc", &r->bcc);
    if (rv == 0 && r->to.n + r->cc.n + r->bcc.n == 0)
      rv = sg_mime__fail(c, SG_JOBERR_NO_RECIPIENTS,
                         "no envelope recipients and none in the To, Cc or Bcc fields");
    return rv;
  }
  const sg_job_addr *lists[] = {job->to, job->cc, job->bcc};
  size_t counts[] = {job->n_to, job->n_cc, job->n_bcc};
  for (size_t l = 0; rv == 0 && l < 3; l++)
    for (size_t i = 0; i < counts[l]; i++) {
      const sg_job_addr *e = &lists[l][i], *h;
      if ((h = find_addr(&hto, e->address)) != NULL)
        addr_push(&r->to, e->address, e->name[0] ? e->name : h->name);
      else if ((h = find_addr(&hcc, e->address)) != NULL)
        addr_push(&r->cc, e->address, e->name[0] ? e->name : h->name);
      else
        addr_push(&r->bcc, e->address, e->name);
    }
  sg_free(hto.v);
  sg_free(hcc.v);
  return rv;
}

/* --- X- header fields --- */

static int x_headers(sg_mime_ctx *c, GMimeMessage *msg) {
  GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
  int n = hl ? g_mime_header_list_get_count(hl) : 0;
  size_t k = 0;
  for (int i = 0; i < n; i++) {
    GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
    if (sg_job_header_name_ok(g_mime_header_get_name(h)))
      k++;
  }
  if (k > c->lim->max_x_headers)
    return sg_mime__fail(c, SG_JOBERR_TOO_MANY_HEADERS, "%zu X- header fields; at most %zu", k,
                         c->lim->max_x_headers);
  sg_job_header *v = k ? sg_xcalloc(k, sizeof *v) : NULL;
  c->out->hdrs = v;
  k = 0;
  for (int i = 0; i < n; i++) {
    GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
    const char *name = g_mime_header_get_name(h);
    if (!sg_job_header_name_ok(name))
      continue;
    const char *value = header_text(c, g_mime_header_get_value(h), "an X- header field");
    if (value == NULL)
      return SG_ERR_INVAL;
    v[k++] = (sg_job_header){sg_mime__own(c, g_strdup(name)), value};
  }
  c->out->job.headers = v;
  c->out->job.n_headers = k;
  return 0;
}

/* --- the whole --- */

/* The addresses of |r| back to back in one array the job owns. */
static void place_addrs(sg_mime_job *m, rcpts *r) {
  size_t n = r->to.n + r->cc.n + r->bcc.n + r->reply_to.n, off = 0;
  m->addrs = n ? sg_xcalloc(n, sizeof *m->addrs) : NULL;
  addr_vec *src[] = {&r->to, &r->cc, &r->bcc, &r->reply_to};
  const sg_job_addr **dst[] = {&m->job.to, &m->job.cc, &m->job.bcc, &m->job.reply_to};
  size_t *cnt[] = {&m->job.n_to, &m->job.n_cc, &m->job.n_bcc, &m->job.n_reply_to};
  for (size_t i = 0; i < 4; i++) {
    *dst[i] = src[i]->n ? m->addrs + off : NULL;
    *cnt[i] = src[i]->n;
    if (src[i]->n)
      memcpy(m->addrs + off, src[i]->v, src[i]->n * sizeof *m->addrs);
    off += src[i]->n;
    sg_free(src[i]->v);
    src[i]->v = NULL;
  }
}

static int convert(sg_mime_ctx *c, GMimeMessage *msg, const sg_job *job) {
  sg_mime_job *m = c->out;
  int rv = sg_mime__check_headers(c, GMIME_OBJECT(msg));
  if (rv != 0)
    return rv;
  const char *subject = header_text(c, g_mime_message_get_subject(msg), "the subject");
  if (subject == NULL)
    return SG_ERR_INVAL;
  m->job.subject = subject;
  rcpts r;
  memset(&r, 0, sizeof r);
  rv = recipients(c, msg, job, &r);
  if (rv == 0)
    rv = field_addrs(c, msg, GMIME_ADDRESS_TYPE_REPLY_TO, "Reply-To", &r.reply_to);
  place_addrs(m, &r);
  if (rv != 0 || (rv = x_headers(c, msg)) != 0)
    return rv;
  GMimeObject *body = g_mime_message_get_mime_part(msg);
  if (body != NULL && (rv = sg_mime__walk(c, body, 0, "mixed")) != 0)
    return rv;
  sg_mime__mark_inline(c);
  m->job.text_body = c->text ? c->text : "";
  m->job.html_body = c->html ? c->html : "";
  m->job.attachments = m->atts;
  m->job.n_attachments = c->n_atts;
  return 0;
}

int sg_mime_to_job(sg_mime_job *out, const sg_job *job, const sg_mime_limits *lim,
                   sg_job_error *err) {
  memset(out, 0, sizeof *out);
  err->code = NULL;
  err->message[0] = '\0';
  sg_mime_limits defaults;
  if (lim == NULL) {
    sg_mime_limits_default(&defaults);
    lim = &defaults;
  }
  sg_mime_ctx c = {.out = out, .lim = lim, .err = err};
  /* The non-content fields, borrowed from the MIME job. */
  out->job = *job;
  out->job.to = out->job.cc = out->job.bcc = out->job.reply_to = NULL;
  out->job.n_to = out->job.n_cc = out->job.n_bcc = out->job.n_reply_to = 0;
  out->job.attachments = NULL;
  out->job.n_attachments = 0;
  out->job.headers = NULL;
  out->job.n_headers = 0;
  out->job.subject = out->job.text_body = out->job.html_body = "";
  out->job.text_body_len = out->job.html_body_len = 0;
  out->job.mime = NULL;
  out->job.mime_len = 0;
  if (job->mime == NULL || job->mime_len == 0 || job->mime_len > G_MAXUINT) {
    sg_mime__fail(&c, SG_JOBERR_MIME_MALFORMED, "the job has no MIME message it can read");
    sg_mime_job_free(out);
    return SG_ERR_INVAL;
  }
  pthread_once(&gmime_once, gmime_init);

  /* The job's bytes, read in place: the array is only borrowed (not owned
   * by the stream, and given back without freeing its data). */
  GByteArray *arr = g_byte_array_new_take((guint8 *)(uintptr_t)job->mime, job->mime_len);
  GMimeStream *stream = g_mime_stream_mem_new_with_byte_array(arr);
  g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
  GMimeParserOptions *opts = g_mime_parser_options_new();
  g_mime_parser_options_set_warning_callback(opts, on_warning, &c);
  GMimeParser *parser = g_mime_parser_new_with_stream(stream);
  g_mime_parser_set_persist_stream(parser, TRUE);
  GMimeMessage *msg = g_mime_parser_construct_message(parser, opts);
  int rv;
  if (msg == NULL)
    rv = sg_mime__fail(&c, SG_JOBERR_MIME_MALFORMED, "the MIME message cannot be parsed");
  else if (err->code != NULL)
    rv = SG_ERR_INVAL; /* a finding of the parser */
  else
    rv = convert(&c, msg, job);
  if (rv == 0 && err->code != NULL)
    rv = SG_ERR_INVAL; /* found while parts were read */
  if (msg != NULL)
    g_object_unref(msg);
  g_object_unref(parser);
  g_object_unref(stream);
  g_mime_parser_options_free(opts);
  (void)g_byte_array_free(arr, FALSE); /* the struct only: the bytes are the job's */
  sg_free(c.related);
  if (rv != 0) {
    sg_mime_job_free(out);
    return SG_ERR_INVAL;
  }
  return 0;
}

void sg_mime_job_free(sg_mime_job *m) {
  if (m == NULL)
    return;
  for (size_t i = 0; i < m->n_own; i++)
    g_free(m->own[i]);
  sg_free(m->own);
  sg_free(m->addrs);
  sg_free(m->atts);
  sg_free(m->hdrs);
  memset(m, 0, sizeof *m);
}
