/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACS emails:send request validation and the ACS error body; see
 * sg_sbx_acs.h. Pure. Address errors (InvalidEmailAddress) are kept aside
 * while the walk goes on, so a structural problem anywhere in the body
 * (BadRequest) wins over a bad address, as a deserializer-then-validator
 * service behaves.
 */
#include "sandbox/sg_sbx_acs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/sg_base64.h"
#include "core/sg_err.h"
#include "core/sg_json_write.h"
#include "sandbox/sg_sbx_mime.h"
#include "svc/sg_acs.h"

#define BAD "BadRequest"

typedef struct ctx {
  const sg_sbx_acs_limits *lim;
  sg_sbx_msg *m;
  sg_sbx_verdict *v;  /* structural error: set and abort the walk */
  sg_sbx_verdict sem; /* first address error, reported after the walk */
  bool content_id_ok; /* api-version dated 2024-07-01 or later */
  bool suppress;      /* drop invalid attachments */
  bool dup_cid_ok;    /* x-ms-acsemail-ignore-duplicate-content-id: true */
} ctx;

/* Known api-versions; the 2021-10-01-preview used another schema. */
static const char *const versions[] = {"2023-01-15-preview",
                                       "2023-03-31",
                                       "2024-07-01-preview",
                                       "2025-01-01-preview",
                                       "2025-01-15-preview",
                                       "2025-09-01",
                                       NULL};

void sg_sbx_acs_limits_default(sg_sbx_acs_limits *l) {
  l->max_body = SG_SBX_ACS_MAX_BODY;
  l->max_recipients = SG_SBX_ACS_MAX_RECIPIENTS;
  l->suppress_invalid_attachment = false;
}

bool sg_sbx_acs_type_allowed(const char *ct) {
  return sg_acs_type_allowed(ct); /* one list for the gateway's check and the sandbox */
}

__attribute__((format(printf, 2, 3))) static int bad(ctx *c, const char *fmt, ...) {
  va_list ap;
  c->v->status = 400;
  c->v->code = BAD;
  va_start(ap, fmt);
  vsnprintf(c->v->message, sizeof c->v->message, fmt, ap);
  va_end(ap);
  return -1;
}

static int check_obj(ctx *c, const sg_json *o, const char *path, const char *const *names) {
  if (!o || o->type != SG_JSON_OBJECT)
    return bad(c, "'%s' must be a JSON object.", path);
  bool dup;
  const char *k = sg_sbx_json_bad_key(o, names, &dup);
  if (k)
    return bad(c,
               dup ? "The member '%s' appears more than once in '%s'."
                   : "Could not find member '%s' on object of type '%s'.",
               k, path);
  return 0;
}

/* Optional string (absent or null -> NULL). |need| makes absent/null/"" an error. */
static int get_str(ctx *c, const sg_json *o, const char *key, const char *path, bool need,
                   const char **out) {
  const sg_json *v = sg_json_get(o, key);
  *out = NULL;
  if (v && v->type != SG_JSON_NULL) {
    if (v->type != SG_JSON_STRING)
      return bad(c, "'%s.%s' must be a string.", path, key);
    if (strlen(v->str) != v->len)
      return bad(c, "'%s.%s' contains a NUL character.", path, key);
    *out = v->str;
  }
  if (need && (!*out || !**out))
    return bad(c, "The %s field is required ('%s').", key, path);
  return 0;
}

static void bad_addr(ctx *c, const char *addr) {
  if (c->sem.status)
    return;
  c->sem.status = 400;
  c->sem.code = "InvalidEmailAddress";
  snprintf(c->sem.message, sizeof c->sem.message, "The email address '%s' is not valid.", addr);
}

/* [{address, displayName?}] into |dst|; |path| names it in messages. */
static int addr_list(ctx *c, const sg_json *o, const char *key, const char *path,
                     sg_sbx_addr_list *dst) {
  static const char *const ak[] = {"address", "displayName", NULL};
  const sg_json *a = sg_json_get(o, key);
  if (!a || a->type == SG_JSON_NULL)
    return 0;
  if (a->type != SG_JSON_ARRAY)
    return bad(c, "'%s' must be an array.", path);
  for (const sg_json *e = a->child; e; e = e->next) {
    const char *addr, *name;
    if (check_obj(c, e, path, ak) || get_str(c, e, "address", path, true, &addr) ||
        get_str(c, e, "displayName", path, false, &name))
      return -1;
    if (sg_sbx_addr_valid(addr, strlen(addr)))
      sg_sbx_addr_list_add(dst, addr, name);
    else
      bad_addr(c, addr);
  }
  return 0;
}

static int content(ctx *c, const sg_json *root) {
  static const char *const ck[] = {"subject", "plainText", "html", NULL};
  const sg_json *o = sg_json_get(root, "content");
  const char *subject, *text, *html;
  if (!o || o->type == SG_JSON_NULL)
    return bad(c, "The content field is required.");
  if (check_obj(c, o, "content", ck) || get_str(c, o, "subject", "content", true, &subject) ||
      get_str(c, o, "plainText", "content", false, &text) ||
      get_str(c, o, "html", "content", false, &html))
    return -1;
  bool t = text && *text, h = html && *html;
  if (!t && !h)
    return bad(c, "At least one of content.plainText and content.html is required.");
  c->m->subject = sg_xstrdup(subject);
  c->m->body_kind = t && h ? SG_SBX_BODY_BOTH : t ? SG_SBX_BODY_TEXT : SG_SBX_BODY_HTML;
  c->m->body_len = (t ? strlen(text) : 0) + (h ? strlen(html) : 0);
  return 0;
}

static int recipients(ctx *c, const sg_json *root) {
  static const char *const rk[] = {"to", "cc", "bcc", NULL};
  const sg_json *o = sg_json_get(root, "recipients");
  if (!o || o->type == SG_JSON_NULL)
    return bad(c, "The recipients field is required.");
  if (check_obj(c, o, "recipients", rk) || addr_list(c, o, "to", "recipients.to", &c->m->to) ||
      addr_list(c, o, "cc", "recipients.cc", &c->m->cc) ||
      addr_list(c, o, "bcc", "recipients.bcc", &c->m->bcc))
    return -1;
  const sg_json *to = sg_json_get(o, "to");
  size_t total = 0;
  for (size_t i = 0; i < 3; i++) {
    const sg_json *a = sg_json_get(o, rk[i]);
    total += a && a->type == SG_JSON_ARRAY ? a->count : 0;
  }
  c->m->recipient_count = c->m->to.n + c->m->cc.n + c->m->bcc.n;
  if (!to || to->type != SG_JSON_ARRAY || to->count == 0)
    return bad(c, "The recipients.to field is required and must not be empty.");
  if (total > c->lim->max_recipients)
    return bad(c, "Total number of recipients (%zu) exceeds the limit of %zu.", total,
               c->lim->max_recipients);
  return 0;
}

static int cmp_ci(const void *a, const void *b) {
  return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

static int headers(ctx *c, const sg_json *root) {
  const sg_json *o = sg_json_get(root, "headers");
  if (!o || o->type == SG_JSON_NULL)
    return 0;
  if (o->type != SG_JSON_OBJECT)
    return bad(c, "'headers' must be an object of strings.");
  for (const sg_json *h = o->child; h; h = h->next) {
    if (h->type != SG_JSON_STRING || strlen(h->str) != h->len)
      return bad(c, "The value of header '%s' must be a string.", h->key);
    if (strlen(h->key) != h->key_len || !sg_sbx_mime_field_name_ok(h->key, h->key_len))
      return bad(c, "The header name '%s' is not valid.", h->key);
    if (strpbrk(h->str, "\r\n"))
      return bad(c, "The value of header '%s' contains CR or LF.", h->key);
    if (strcasecmp(h->key, "x-ms-acsemail-suppress-invalid-attachment") == 0)
      c->suppress = c->suppress || strcasecmp(h->str, "true") == 0;
    if (strcasecmp(h->key, "x-ms-acsemail-ignore-duplicate-content-id") == 0)
      c->dup_cid_ok = strcasecmp(h->str, "true") == 0;
    sg_sbx_msg_add_hdr(c->m, h->key, h->str);
  }
  /* Names differing only in case are one header: sort a copy to find repeats
   * in O(n log n) (a 10 MB body can hold hundreds of thousands of members). */
  size_t n = c->m->n_hdrs;
  const char **names = sg_xmalloc((n ? n : 1) * sizeof *names);
  for (size_t i = 0; i < n; i++)
    names[i] = c->m->hdrs[i].name;
  qsort(names, n, sizeof *names, cmp_ci);
  const char *dup = NULL;
  for (size_t i = 1; i < n && !dup; i++)
    if (strcasecmp(names[i - 1], names[i]) == 0)
      dup = names[i];
  int rv = dup ? bad(c, "The header '%s' appears more than once.", dup) : 0;
  sg_free(names);
  return rv;
}

/* Decoded size of valid, padded, whitespace-free base64. */
static size_t b64_size(const char *s, size_t n) {
  size_t pad = (n >= 1 && s[n - 1] == '=') + (n >= 2 && s[n - 2] == '=');
  return n / 4 * 3 - pad;
}

static int attachments(ctx *c, const sg_json *root) {
  static const char *const old_keys[] = {"name", "contentType", "contentInBase64", NULL};
  static const char *const new_keys[] = {"name", "contentType", "contentInBase64", "contentId",
                                         NULL};
  const sg_json *a = sg_json_get(root, "attachments");
  if (!a || a->type == SG_JSON_NULL)
    return 0;
  if (a->type != SG_JSON_ARRAY)
    return bad(c, "'attachments' must be an array.");
  for (const sg_json *e = a->child; e; e = e->next) {
    const char *name, *type, *b64, *cid;
    if (check_obj(c, e, "attachments", c->content_id_ok ? new_keys : old_keys) ||
        get_str(c, e, "name", "attachments", true, &name) ||
        get_str(c, e, "contentType", "attachments", true, &type) ||
        get_str(c, e, "contentInBase64", "attachments", true, &b64) ||
        get_str(c, e, "contentId", "attachments", false, &cid))
      return -1;
    size_t blen = strlen(b64);
    const char *why = !sg_sbx_acs_type_allowed(type) ? "has a content type that is not allowed"
                      : !sg_base64_valid(b64, blen, false) ? "is not valid base64"
                                                           : NULL;
    if (why && c->suppress)
      continue; /* dropped, as the suppress header asks */
    if (why)
      return bad(c, "The attachment '%s' %s.", name, why);
    for (size_t i = 0; cid && !c->dup_cid_ok && i < c->m->n_atts; i++)
      if (c->m->atts[i].content_id && strcmp(c->m->atts[i].content_id, cid) == 0)
        return bad(c, "The contentId '%s' is used by more than one attachment.", cid);
    sg_sbx_msg_add_att(c->m, name, type, cid, cid != NULL, b64_size(b64, blen));
  }
  return 0;
}

static int walk(ctx *c, const sg_json *root) {
  static const char *const top[] = {"headers",
                                    "senderAddress",
                                    "content",
                                    "recipients",
                                    "attachments",
                                    "replyTo",
                                    "userEngagementTrackingDisabled",
                                    NULL};
  const char *sender;
  if (check_obj(c, root, "EmailMessage", top) ||
      get_str(c, root, "senderAddress", "EmailMessage", true, &sender))
    return -1;
  sg_free(c->m->mailbox);
  c->m->mailbox = sg_xstrdup(sender);
  if (!sg_sbx_addr_valid(sender, strlen(sender)))
    bad_addr(c, sender);
  const sg_json *ut = sg_json_get(root, "userEngagementTrackingDisabled");
  if (ut && ut->type != SG_JSON_NULL && ut->type != SG_JSON_TRUE && ut->type != SG_JSON_FALSE)
    return bad(c, "'userEngagementTrackingDisabled' must be a boolean.");
  c->m->tracking_disabled = sg_json_true(ut);
  /* Headers first: the reserved ones change how attachments are judged. */
  return headers(c, root) || content(c, root) || recipients(c, root) ||
                 addr_list(c, root, "replyTo", "replyTo", &c->m->reply_to) || attachments(c, root)
             ? -1
             : 0;
}

static int check_version(ctx *c, const char *v) {
  if (!v || !*v) {
    sg_sbx_verdict_set(c->v, 400, "MissingApiVersionParameter",
                       "The api-version query parameter (?api-version=) is required for all "
                       "requests.");
    return -1;
  }
  for (size_t i = 0; versions[i]; i++)
    if (strcmp(v, versions[i]) == 0) {
      c->content_id_ok = strncmp(v, "2024-07-01", 10) >= 0;
      return 0;
    }
  sg_sbx_verdict_set(c->v, 400, "UnsupportedApiVersion",
                     "The HTTP resource does not support api version '%.64s'.", v);
  return -1;
}

int sg_sbx_acs_validate(const char *body, size_t len, const char *api_version,
                        const sg_sbx_acs_limits *limits, sg_sbx_msg *msg, sg_sbx_verdict *verdict) {
  sg_sbx_acs_limits def;
  if (!limits) {
    sg_sbx_acs_limits_default(&def);
    limits = &def;
  }
  ctx c = {limits, msg, verdict, {0, "", "", false}, false, limits->suppress_invalid_attachment,
           false};
  sg_sbx_msg_init(msg);
  sg_sbx_verdict_ok(verdict);
  msg->api = "acs";
  int rv = -1;
  sg_json_doc *doc = NULL;
  if (len > limits->max_body) {
    sg_sbx_verdict_set(verdict, 413, "RequestBodyTooLarge",
                       "The request body is %zu bytes; the limit is %zu bytes including "
                       "attachments.",
                       len, limits->max_body);
  } else if (check_version(&c, api_version) == 0) {
    if (len == 0 || sg_json_parse(&doc, body, len, 0, NULL, 0) != 0)
      bad(&c, "The request body is not valid JSON.");
    else
      rv = walk(&c, sg_json_root(doc));
  }
  sg_json_doc_free(doc);
  if (rv == 0 && c.sem.status) {
    *verdict = c.sem;
    rv = -1;
  }
  if (rv != 0) {
    sg_sbx_msg_free(msg);
    return SG_ERR_INVAL;
  }
  sg_sbx_msg_set_key(msg, body, len);
  return 0;
}

void sg_sbx_acs_error_json(sg_buf *out, const char *code, const char *message) {
  sg_buf_append_str(out, "{\"error\":{\"code\":");
  sg_jw_cstr(out, code);
  sg_buf_append_str(out, ",\"message\":");
  sg_jw_cstr(out, message);
  sg_buf_append_str(out, "}}");
}

void sg_sbx_acs_verdict_json(sg_buf *out, const sg_sbx_verdict *v) {
  sg_sbx_acs_error_json(out, v->code, v->message);
}
