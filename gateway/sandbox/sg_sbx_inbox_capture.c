/* SPDX-License-Identifier: Apache-2.0 */
/* The inbox's copy of an accepted message; see sg_sbx_inbox_capture.h. */
#include "sandbox/sg_sbx_inbox_capture.h"

#include <string.h>
#include <strings.h>

#include "core/sg_base64.h"
#include "job/sg_mime_parse.h"
#include "json/sg_json.h"

typedef struct capture {
  sg_sbx_inbox_msg *im;
  size_t left; /* content bytes still allowed */
} capture;

static void set_str(char **dst, const char *s, size_t n) {
  sg_free(*dst);
  *dst = sg_xstrndup(s ? s : "", s ? n : 0);
}

/* Text or HTML: kept whole when it fits, else cut to what is left. */
static void keep_body(capture *c, char **dst, const char *s, size_t n) {
  if (n > c->left) {
    n = c->left;
    c->im->content_cut = true;
  }
  set_str(dst, s, n);
  c->left -= n;
}

static void keep_att(capture *c, const char *name, const char *ctype, const char *cid,
                     bool is_inline, const void *data, size_t size) {
  bool keep = size <= c->left;
  if (keep)
    c->left -= size;
  sg_sbx_inbox_msg_add_att(c->im, name, ctype, cid, is_inline, data, size, keep);
}

static void join_addrs(char **dst, const sg_sbx_addr_list *l) {
  sg_buf b = SG_BUF_INIT;
  for (size_t i = 0; i < l->n; i++) {
    if (i)
      sg_buf_append_str(&b, ", ");
    if (l->v[i].name && l->v[i].name[0])
      sg_buf_printf(&b, "%s <%s>", l->v[i].name, l->v[i].address);
    else
      sg_buf_append_str(&b, l->v[i].address);
  }
  set_str(dst, b.data, b.len);
  sg_buf_free(&b);
}

static void add_hdr(sg_sbx_inbox_msg *im, const char *name, const char *value) {
  if (im->n_hdrs < SG_SBX_INBOX_MAX_HEADERS && value && value[0])
    sg_sbx_inbox_msg_add_hdr(im, name, value, SG_SBX_INBOX_MAX_HEADER_VALUE);
}

/* The fields a provider writes for a JSON request, then the custom ones. */
static void json_headers(sg_sbx_inbox_msg *im, const sg_sbx_msg *m) {
  char *rt = NULL;
  join_addrs(&rt, &m->reply_to);
  add_hdr(im, "From", im->from);
  add_hdr(im, "To", im->to);
  add_hdr(im, "Cc", im->cc);
  add_hdr(im, "Bcc", im->bcc);
  add_hdr(im, "Reply-To", rt);
  add_hdr(im, "Subject", im->subject);
  for (size_t i = 0; i < m->n_hdrs; i++)
    add_hdr(im, m->hdrs[i].name, m->hdrs[i].value);
  sg_free(rt);
}

/* Decodes base64 |v| (a JSON string) and keeps it as an attachment. */
static void json_att(capture *c, const sg_json *a, const char *bytes_key, bool is_inline) {
  const sg_json *v = sg_json_get(a, bytes_key);
  sg_buf raw = SG_BUF_INIT;
  if (v == NULL || v->type != SG_JSON_STRING || sg_base64_decode(&raw, v->str, v->len, true) != 0)
    return; /* reference or item attachments: nothing to download */
  const char *cid = sg_json_str(sg_json_get(a, "contentId"));
  keep_att(c, sg_json_str(sg_json_get(a, "name")), sg_json_str(sg_json_get(a, "contentType")), cid,
           is_inline || (cid && cid[0] && sg_json_get(a, "isInline") == NULL), raw.data, raw.len);
  sg_buf_free(&raw);
}

static void graph_json(capture *c, const sg_json *root) {
  const sg_json *msg = sg_json_get(root, "message");
  if (msg == NULL) /* a draft: the message resource itself */
    msg = root;
  const sg_json *body = sg_json_get(msg, "body");
  const sg_json *content = sg_json_get(body, "content");
  const char *ct = sg_json_str(sg_json_get(body, "contentType"));
  if (content && content->type == SG_JSON_STRING) {
    bool html = ct && strcasecmp(ct, "html") == 0;
    keep_body(c, html ? &c->im->html : &c->im->text, content->str, content->len);
  }
  const sg_json *atts = sg_json_get(msg, "attachments");
  for (const sg_json *a = atts && atts->type == SG_JSON_ARRAY ? atts->child : NULL; a; a = a->next)
    json_att(c, a, "contentBytes", sg_json_true(sg_json_get(a, "isInline")));
}

/* Attachments the record has beyond those read from the JSON (a draft's,
 * added by their own requests): their names and sizes only. */
static void other_atts(capture *c, const sg_sbx_msg *m) {
  for (size_t i = c->im->n_atts; i < m->n_atts; i++)
    sg_sbx_inbox_msg_add_att(c->im, m->atts[i].name, m->atts[i].content_type, m->atts[i].content_id,
                             m->atts[i].is_inline, NULL, m->atts[i].size, false);
}

static void acs_json(capture *c, const sg_json *root) {
  const sg_json *content = sg_json_get(root, "content");
  const sg_json *text = sg_json_get(content, "plainText"), *html = sg_json_get(content, "html");
  if (text && text->type == SG_JSON_STRING)
    keep_body(c, &c->im->text, text->str, text->len);
  if (html && html->type == SG_JSON_STRING)
    keep_body(c, &c->im->html, html->str, html->len);
  const sg_json *atts = sg_json_get(root, "attachments");
  for (const sg_json *a = atts && atts->type == SG_JSON_ARRAY ? atts->child : NULL; a; a = a->next)
    json_att(c, a, "contentInBase64", false);
}

/* The header section of an RFC 5322 message: fields unfolded, in order. */
static void mime_headers(sg_sbx_inbox_msg *im, const char *p, size_t n) {
  const char *end = p + n;
  sg_buf v = SG_BUF_INIT;
  char name[80] = "";
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *le = eol ? eol : end;
    size_t ll = (size_t)(le - p);
    if (ll && p[ll - 1] == '\r')
      ll--;
    if (ll == 0)
      break; /* the end of the header section */
    if (p[0] == ' ' || p[0] == '\t') {
      if (name[0] && v.len < SG_SBX_INBOX_MAX_HEADER_VALUE)
        sg_buf_append(&v, p, ll);
    } else {
      if (name[0])
        add_hdr(im, name, v.data ? v.data : "");
      const char *colon = memchr(p, ':', ll);
      size_t nl = colon ? (size_t)(colon - p) : 0;
      name[0] = '\0';
      sg_buf_reset(&v);
      if (colon && nl > 0 && nl < sizeof name) {
        memcpy(name, p, nl);
        name[nl] = '\0';
        const char *val = colon + 1;
        while (val < p + ll && (*val == ' ' || *val == '\t'))
          val++;
        sg_buf_append(&v, val, (size_t)(p + ll - val));
      }
    }
    p = eol ? eol + 1 : end;
  }
  if (name[0])
    add_hdr(im, name, v.data ? v.data : "");
  sg_buf_free(&v);
}

static const char *find_hdr(const sg_sbx_inbox_msg *im, const char *name) {
  for (size_t i = 0; i < im->n_hdrs; i++)
    if (strcasecmp(im->hdrs[i].name, name) == 0)
      return im->hdrs[i].value;
  return NULL;
}

/* |p|, |n|: the RFC 5322 message. */
static void mime_message(capture *c, const sg_sbx_msg *m, const char *p, size_t n) {
  sg_sbx_inbox_msg *im = c->im;
  mime_headers(im, p, n);
  sg_job job = {0};
  job.id = "inbox";
  job.sender = im->mailbox;
  job.subject = job.text_body = job.html_body = job.account = job.reply_stream = "";
  job.campaign_id = "";
  job.mime = (const uint8_t *)p;
  job.mime_len = n;
  sg_job_addr *env = sg_xcalloc(m->to.n + 1, sizeof *env);
  for (size_t i = 0; i < m->to.n; i++)
    env[i] = (sg_job_addr){m->to.v[i].address, ""};
  if (strncmp(m->api, "smtp", 4) == 0) { /* the envelope */
    job.to = env;
    job.n_to = m->to.n;
  }
  sg_mime_job mj;
  sg_job_error err;
  if (sg_mime_to_job(&mj, &job, NULL, &err) == 0) {
    if (mj.job.subject[0])
      set_str(&im->subject, mj.job.subject, strlen(mj.job.subject));
    keep_body(c, &im->text, mj.job.text_body, strlen(mj.job.text_body));
    keep_body(c, &im->html, mj.job.html_body, strlen(mj.job.html_body));
    for (size_t i = 0; i < mj.job.n_attachments; i++) {
      const sg_job_attachment *a = &mj.job.attachments[i];
      keep_att(c, a->name, a->content_type, a->content_id, a->is_inline, a->content,
               a->content_len);
    }
  } else { /* shown as it came */
    const char *subj = find_hdr(im, "Subject");
    if (subj && im->subject[0] == '\0')
      set_str(&im->subject, subj, strlen(subj));
    keep_body(c, &im->text, p, n);
  }
  sg_mime_job_free(&mj);
  sg_free(env);
  const char *from = find_hdr(im, "From");
  if (from)
    set_str(&im->from, from, strlen(from));
}

sg_sbx_inbox_msg *sg_sbx_inbox_capture(const sg_sbx_msg *m, const char *request_id,
                                       const void *body, size_t len, size_t max_bytes) {
  sg_sbx_inbox_msg *im = sg_sbx_inbox_msg_new();
  capture c = {im, max_bytes};
  const char *api = m->api ? m->api : "graph";
  im->api = strcmp(api, "acs") == 0        ? "acs"
            : strcmp(api, "smtp") == 0     ? "smtp"
            : strcmp(api, "smtp-hve") == 0 ? "smtp-hve"
                                           : "graph";
  im->size = len;
  set_str(&im->mailbox, m->mailbox, m->mailbox ? strlen(m->mailbox) : 0);
  const char *from = m->from && m->from[0] ? m->from : m->mailbox;
  set_str(&im->from, from, from ? strlen(from) : 0);
  join_addrs(&im->to, &m->to);
  join_addrs(&im->cc, &m->cc);
  join_addrs(&im->bcc, &m->bcc);
  set_str(&im->subject, m->subject, m->subject ? strlen(m->subject) : 0);
  set_str(&im->request_id, request_id, request_id ? strlen(request_id) : 0);
  set_str(&im->key, m->key, strlen(m->key));
  if (strncmp(im->api, "smtp", 4) == 0) {
    mime_message(&c, m, body, len);
  } else if (m->mime) {
    sg_buf raw = SG_BUF_INIT;
    if (sg_base64_decode(&raw, body, len, true) == 0 && raw.len)
      mime_message(&c, m, raw.data, raw.len);
    sg_buf_free(&raw);
  } else {
    sg_json_doc *d = NULL;
    if (sg_json_parse(&d, body, len, 0, NULL, 0) == 0) {
      json_headers(im, m);
      if (strcmp(im->api, "acs") == 0)
        acs_json(&c, sg_json_root(d));
      else
        graph_json(&c, sg_json_root(d));
    }
    if (strcmp(im->api, "graph") == 0)
      other_atts(&c, m);
    sg_json_doc_free(d);
  }
  return im;
}
