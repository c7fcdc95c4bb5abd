/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Graph sendMail request validation (JSON and base64 MIME) and Graph's error
 * body. Pure; see sg_sbx_graph.h for the codes. Like Graph's OData reader,
 * the JSON walk first rejects anything structurally wrong (RequestBodyRead:
 * unknown member, wrong type, bad enum) and only then reports the first
 * semantic problem (recipients, headers, attachments), which is kept aside as
 * "pending" while the walk goes on.
 */
#include "sandbox/sg_sbx_graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/sg_base64.h"
#include "core/sg_err.h"
#include "core/sg_json_write.h"
#include "sandbox/sg_sbx_mime.h"

#define RBR "RequestBodyRead"
#define INVRCPT "ErrorInvalidRecipients"
#define NOT_RESOLVED                                                                               \
  "At least one recipient isn't valid., Recipient '%s' isn't resolved. All recipients must be "    \
  "resolved before a message can be submitted."
#define NO_RCPT                                                                                    \
  "At least one recipient isn't valid., A message can't be sent because it contains no "           \
  "recipients."

typedef struct ctx {
  const sg_sbx_graph_limits *lim;
  sg_sbx_msg *m;
  sg_sbx_verdict *v;  /* structural error: set and abort the walk */
  sg_sbx_verdict sem; /* first semantic error, reported after the walk */
} ctx;

void sg_sbx_graph_limits_default(sg_sbx_graph_limits *l) {
  l->max_body = SG_SBX_GRAPH_MAX_BODY;
  l->max_recipients = SG_SBX_GRAPH_MAX_RECIPIENTS;
  l->max_headers = SG_SBX_GRAPH_MAX_HEADERS;
}

/* Records a semantic error unless an earlier one is pending. */
__attribute__((format(printf, 3, 4))) static void sem(ctx *c, const char *code, const char *fmt,
                                                      ...) {
  if (c->sem.status)
    return;
  va_list ap;
  c->sem.status = 400;
  c->sem.code = code;
  va_start(ap, fmt);
  vsnprintf(c->sem.message, sizeof c->sem.message, fmt, ap);
  va_end(ap);
}

static int unknown_prop(ctx *c, const char *key, const char *type) {
  sg_sbx_verdict_set(c->v, 400, RBR,
                     "The property '%s' does not exist on type 'microsoft.graph.%s'. Make sure to "
                     "only use property names that are defined by the type or mark the type as "
                     "open type.",
                     key, type);
  return -1;
}

static int wrong_type(ctx *c, const char *prop, const char *want) {
  sg_sbx_verdict_set(c->v, 400, RBR,
                     "An unexpected value was found for property '%s'; expected %s.", prop, want);
  return -1;
}

/* Every member of |obj| in |names|, none repeated. */
static int check_names(ctx *c, const sg_json *obj, const char *type, const char *const *names) {
  bool dup;
  const char *bad = sg_sbx_json_bad_key(obj, names, &dup);
  if (bad && dup) {
    sg_sbx_verdict_set(c->v, 400, RBR, "Multiple properties with the name '%s' were found.", bad);
    return -1;
  }
  return bad ? unknown_prop(c, bad, type) : 0;
}

/*
 * Checks |obj| is an object whose members are all in |names| plus an optional
 * "@odata.type" equal to "#microsoft.graph.<type>".
 */
static int check_obj(ctx *c, const sg_json *obj, const char *prop, const char *type,
                     const char *const *names) {
  if (!obj || obj->type != SG_JSON_OBJECT)
    return wrong_type(c, prop, "an object");
  for (const sg_json *mb = obj->child; mb; mb = mb->next) {
    if (strcmp(mb->key, "@odata.type") != 0)
      continue;
    const char *t = sg_json_str(mb);
    if (!t || strncmp(t, "#microsoft.graph.", 17) != 0 || strcmp(t + 17, type) != 0) {
      sg_sbx_verdict_set(c->v, 400, RBR,
                         "A type named '%s' is not compatible with 'microsoft.graph.%s'.",
                         t ? t : "", type);
      return -1;
    }
  }
  return check_names(c, obj, type, names);
}

/* Optional string member: NULL/null -> *out NULL; non-string -> error. */
static int opt_str(ctx *c, const sg_json *obj, const char *key, const char **out) {
  const sg_json *v = sg_json_get(obj, key);
  *out = NULL;
  if (!v || v->type == SG_JSON_NULL)
    return 0;
  if (v->type != SG_JSON_STRING)
    return wrong_type(c, key, "a string");
  *out = v->str;
  return 0;
}

static int opt_bool(ctx *c, const sg_json *obj, const char *key, bool *out) {
  const sg_json *v = sg_json_get(obj, key);
  if (!v || v->type == SG_JSON_NULL)
    return 0;
  if (v->type != SG_JSON_TRUE && v->type != SG_JSON_FALSE)
    return wrong_type(c, key, "a boolean");
  *out = v->type == SG_JSON_TRUE;
  return 0;
}

static int enum_str(ctx *c, const sg_json *obj, const char *key, const char *const *allowed) {
  const char *s;
  if (opt_str(c, obj, key, &s) || !s)
    return c->v->status ? -1 : 0;
  for (size_t i = 0; allowed[i]; i++)
    if (strcasecmp(s, allowed[i]) == 0)
      return 0;
  sg_sbx_verdict_set(c->v, 400, RBR, "The string '%s' is not a valid enumeration type constant.",
                     s);
  return -1;
}

/* One recipient {"emailAddress":{"address","name"}}; appended to |dst| when valid. */
static int recipient(ctx *c, const sg_json *r, const char *prop, sg_sbx_addr_list *dst,
                     char **single) {
  static const char *const rk[] = {"emailAddress", "@odata.type", NULL};
  static const char *const ek[] = {"address", "name", "@odata.type", NULL};
  if (check_obj(c, r, prop, "recipient", rk))
    return -1;
  const sg_json *ea = sg_json_get(r, "emailAddress");
  const char *addr = NULL, *name = NULL;
  if (ea && ea->type != SG_JSON_NULL) {
    if (check_obj(c, ea, "emailAddress", "emailAddress", ek) || opt_str(c, ea, "address", &addr) ||
        opt_str(c, ea, "name", &name))
      return -1;
  }
  if (!addr) {
    sem(c, INVRCPT, "At least one recipient isn't valid., A recipient in '%s' has no address.",
        prop);
    return 0;
  }
  if (!sg_sbx_addr_valid(addr, strlen(addr)) || strlen(addr) != sg_json_get(ea, "address")->len) {
    sem(c, INVRCPT, NOT_RESOLVED, addr);
    return 0;
  }
  if (dst)
    sg_sbx_addr_list_add(dst, addr, name);
  else if (single && !*single)
    *single = sg_xstrdup(addr);
  return 0;
}

static int recipients(ctx *c, const sg_json *msg, const char *prop, sg_sbx_addr_list *dst) {
  const sg_json *a = sg_json_get(msg, prop);
  if (!a || a->type == SG_JSON_NULL)
    return 0;
  if (a->type != SG_JSON_ARRAY)
    return wrong_type(c, prop, "an array");
  for (const sg_json *r = a->child; r; r = r->next)
    if (recipient(c, r, prop, dst, NULL))
      return -1;
  return 0;
}

static int headers(ctx *c, const sg_json *msg) {
  static const char *const hk[] = {"name", "value", "@odata.type", NULL};
  const sg_json *a = sg_json_get(msg, "internetMessageHeaders");
  if (!a || a->type == SG_JSON_NULL)
    return 0;
  if (a->type != SG_JSON_ARRAY)
    return wrong_type(c, "internetMessageHeaders", "an array");
  if (a->count == 0 || a->count > c->lim->max_headers)
    sem(c, "InvalidInternetMessageHeaderCollection",
        "The number of internet message headers is invalid (should be less or equal to %zu).",
        c->lim->max_headers);
  bool ok = !c->sem.status;
  for (const sg_json *h = a->child; h; h = h->next) {
    const char *name, *value;
    if (check_obj(c, h, "internetMessageHeaders", "internetMessageHeader", hk) ||
        opt_str(c, h, "name", &name) || opt_str(c, h, "value", &value))
      return -1;
    const char *why = NULL;
    if (!name || !value)
      why = "An internet message header needs a name and a value.";
    else if (!sg_sbx_mime_field_name_ok(name, sg_json_get(h, "name")->len))
      why = "The internet message header name contains invalid characters.";
    else if (strncmp(name, "x-", 2) != 0 && strncmp(name, "X-", 2) != 0) {
      sem(c, "InvalidInternetMessageHeader",
          "The internet message header name '%s' should start with 'x-' or 'X-'.", name);
      ok = false;
      continue;
    } else if (strpbrk(value, "\r\n") || strlen(value) != sg_json_get(h, "value")->len)
      why = "The internet message header value contains invalid characters.";
    if (why) {
      sem(c, "InvalidInternetMessageHeader", "%s", why);
      ok = false;
    } else if (ok) {
      sg_sbx_msg_add_hdr(c->m, name, value);
    }
  }
  return 0;
}

/* Decoded size of valid, padded, whitespace-free base64. */
static size_t b64_size(const char *s, size_t n) {
  size_t pad = (n >= 1 && s[n - 1] == '=') + (n >= 2 && s[n - 2] == '=');
  return n / 4 * 3 - pad;
}

static int attachment(ctx *c, const sg_json *a) {
  static const char *const ak[] = {
      "@odata.type", "name", "contentType",          "contentBytes",    "isInline", "contentId",
      "size",        "id",   "lastModifiedDateTime", "contentLocation", NULL};
  if (!a || a->type != SG_JSON_OBJECT)
    return wrong_type(c, "attachments", "an object");
  const sg_json *t = sg_json_get(a, "@odata.type");
  const char *ts = sg_json_str(t);
  if (!ts) {
    sg_sbx_verdict_set(c->v, 400, RBR,
                       "An attachment needs \"@odata.type\": \"#microsoft.graph.fileAttachment\"; "
                       "properties such as 'contentBytes' do not exist on type "
                       "'microsoft.graph.attachment'.");
    return -1;
  }
  if (strcmp(ts, "#microsoft.graph.itemAttachment") == 0 ||
      strcmp(ts, "#microsoft.graph.referenceAttachment") == 0) {
    sem(c, "ErrorInvalidRequest", "The sandbox accepts only file attachments, not '%s'.", ts);
    return 0;
  }
  if (strcmp(ts, "#microsoft.graph.fileAttachment") != 0) {
    sg_sbx_verdict_set(c->v, 400, RBR, "A type named '%s' could not be resolved by the model.", ts);
    return -1;
  }
  bool is_inline = false;
  if (check_names(c, a, "fileAttachment", ak))
    return -1;
  const char *name, *ctype, *bytes, *cid, *id, *lm, *loc;
  if (opt_str(c, a, "name", &name) || opt_str(c, a, "contentType", &ctype) ||
      opt_str(c, a, "contentBytes", &bytes) || opt_str(c, a, "contentId", &cid) ||
      opt_str(c, a, "id", &id) || opt_str(c, a, "lastModifiedDateTime", &lm) ||
      opt_str(c, a, "contentLocation", &loc) || opt_bool(c, a, "isInline", &is_inline))
    return -1;
  const sg_json *sz = sg_json_get(a, "size");
  int64_t ignored;
  if (sz && sz->type != SG_JSON_NULL && !sg_json_int(sz, &ignored))
    return wrong_type(c, "size", "an integer");
  size_t blen = bytes ? sg_json_get(a, "contentBytes")->len : 0;
  if (bytes && !sg_base64_valid(bytes, blen, false)) {
    sg_sbx_verdict_set(c->v, 400, RBR,
                       "The value of property 'contentBytes' is not a valid base64 string.");
    return -1;
  }
  if (!name || !*name)
    sem(c, "ErrorInvalidRequest", "The attachment name is required.");
  else if (!bytes)
    sem(c, "ErrorInvalidRequest", "The attachment '%s' has no contentBytes.", name);
  else if (loc)
    sem(c, "ErrorInvalidRequest", "contentLocation must not be set on a file attachment.");
  else {
    sg_sbx_att *at = sg_sbx_msg_add_att(c->m, name, ctype, cid, is_inline, b64_size(bytes, blen));
    /* The digest of the decoded bytes, so tests can compare content exactly. */
    sg_buf raw = SG_BUF_INIT;
    if (sg_base64_decode(&raw, bytes, blen, false) == 0)
      sg_sbx_sha256_hex(raw.data ? raw.data : "", raw.len, at->sha256);
    sg_buf_free(&raw);
  }
  return 0;
}

static int attachments(ctx *c, const sg_json *msg) {
  const sg_json *a = sg_json_get(msg, "attachments");
  if (!a || a->type == SG_JSON_NULL)
    return 0;
  if (a->type != SG_JSON_ARRAY)
    return wrong_type(c, "attachments", "an array");
  for (const sg_json *x = a->child; x; x = x->next)
    if (attachment(c, x))
      return -1;
  return 0;
}

static int body(ctx *c, const sg_json *msg) {
  static const char *const bk[] = {"contentType", "content", "@odata.type", NULL};
  static const char *const kinds[] = {"text", "html", NULL};
  const sg_json *b = sg_json_get(msg, "body");
  const char *ct, *content;
  if (!b || b->type == SG_JSON_NULL)
    return 0;
  if (check_obj(c, b, "body", "itemBody", bk) || enum_str(c, b, "contentType", kinds) ||
      opt_str(c, b, "contentType", &ct) || opt_str(c, b, "content", &content))
    return -1;
  c->m->body_kind = (ct && strcasecmp(ct, "html") == 0) ? SG_SBX_BODY_HTML : SG_SBX_BODY_TEXT;
  c->m->body_len = content ? sg_json_get(b, "content")->len : 0;
  return 0;
}

static int misc(ctx *c, const sg_json *msg) {
  static const char *const imp[] = {"low", "normal", "high", NULL};
  static const char *const inf[] = {"focused", "other", NULL};
  static const char *const fk[] = {"flagStatus",        "startDateTime", "dueDateTime",
                                   "completedDateTime", "@odata.type",   NULL};
  static const char *const fs[] = {"notFlagged", "complete", "flagged", NULL};
  bool b;
  const char *subject;
  if (opt_str(c, msg, "subject", &subject) || enum_str(c, msg, "importance", imp) ||
      enum_str(c, msg, "inferenceClassification", inf) ||
      opt_bool(c, msg, "isDeliveryReceiptRequested", &b) ||
      opt_bool(c, msg, "isReadReceiptRequested", &b) || opt_bool(c, msg, "isRead", &b))
    return -1;
  if (subject)
    c->m->subject = sg_xstrdup(subject);
  const sg_json *cat = sg_json_get(msg, "categories");
  if (cat && cat->type != SG_JSON_NULL) {
    if (cat->type != SG_JSON_ARRAY)
      return wrong_type(c, "categories", "an array of strings");
    for (const sg_json *x = cat->child; x; x = x->next)
      if (x->type != SG_JSON_STRING)
        return wrong_type(c, "categories", "an array of strings");
  }
  const sg_json *flag = sg_json_get(msg, "flag");
  if (flag && flag->type != SG_JSON_NULL &&
      (check_obj(c, flag, "flag", "followupFlag", fk) || enum_str(c, flag, "flagStatus", fs)))
    return -1;
  static const char *const single[] = {"from", "sender"};
  for (size_t i = 0; i < 2; i++) {
    const sg_json *r = sg_json_get(msg, single[i]);
    if (r && r->type != SG_JSON_NULL &&
        recipient(c, r, single[i], NULL, i == 0 ? &c->m->from : NULL))
      return -1;
  }
  return 0;
}

static int message(ctx *c, const sg_json *msg) {
  static const char *const mk[] = {"subject",
                                   "body",
                                   "toRecipients",
                                   "ccRecipients",
                                   "bccRecipients",
                                   "replyTo",
                                   "from",
                                   "sender",
                                   "importance",
                                   "internetMessageHeaders",
                                   "attachments",
                                   "isDeliveryReceiptRequested",
                                   "isReadReceiptRequested",
                                   "categories",
                                   "flag",
                                   "isRead",
                                   "inferenceClassification",
                                   "@odata.type",
                                   NULL};
  if (check_obj(c, msg, "message", "message", mk) || body(c, msg) || misc(c, msg) ||
      recipients(c, msg, "toRecipients", &c->m->to) ||
      recipients(c, msg, "ccRecipients", &c->m->cc) ||
      recipients(c, msg, "bccRecipients", &c->m->bcc) ||
      recipients(c, msg, "replyTo", &c->m->reply_to) || headers(c, msg) || attachments(c, msg))
    return -1;
  return 0;
}

/* Recipient count rules shared by JSON and MIME. */
static void count_recipients(ctx *c) {
  sg_sbx_msg *m = c->m;
  m->recipient_count = m->to.n + m->cc.n + m->bcc.n;
  if (c->sem.status)
    return;
  if (m->recipient_count == 0)
    sem(c, INVRCPT, NO_RCPT);
  else if (m->recipient_count > c->lim->max_recipients)
    sem(c, INVRCPT,
        "At least one recipient isn't valid., The message has %zu recipients; at most %zu are "
        "allowed.",
        m->recipient_count, c->lim->max_recipients);
}

static int validate_json(ctx *c, const char *body, size_t len) {
  if (len == 0) {
    sg_sbx_verdict_set(c->v, 400, "BadRequest", "Empty Payload. JSON content expected.");
    return -1;
  }
  sg_json_doc *doc;
  if (sg_json_parse(&doc, body, len, 0, NULL, 0) != 0) {
    sg_sbx_verdict_set(c->v, 400, "BadRequest",
                       "Unable to read JSON request payload. Please ensure Content-Type header "
                       "is set and payload is of valid JSON format.");
    return -1;
  }
  int rv = -1;
  const sg_json *root = sg_json_root(doc);
  static const char *const top[] = {"message", "saveToSentItems", NULL};
  bool dup;
  const char *bad = root->type == SG_JSON_OBJECT ? sg_sbx_json_bad_key(root, top, &dup) : NULL;
  const sg_json *msg = sg_json_get(root, "message");
  const sg_json *save = sg_json_get(root, "saveToSentItems");
  const char *ss = sg_json_str(save);
  if (root->type != SG_JSON_OBJECT) {
    sg_sbx_verdict_set(c->v, 400, "BadRequest", "The request payload must be a JSON object.");
  } else if (bad) {
    sg_sbx_verdict_set(c->v, 400, RBR,
                       dup ? "The parameter '%s' is specified more than once."
                           : "The parameter '%s' in the request payload is not a valid parameter "
                             "for the operation 'sendMail'.",
                       bad);
  } else if (save && save->type != SG_JSON_TRUE && save->type != SG_JSON_FALSE &&
             !(ss && (strcasecmp(ss, "true") == 0 || strcasecmp(ss, "false") == 0))) {
    wrong_type(c, "saveToSentItems", "a boolean");
  } else if (!msg || msg->type == SG_JSON_NULL) {
    sg_sbx_verdict_set(c->v, 400, "ErrorInvalidRequest",
                       "The parameter 'message' is required for the operation 'sendMail'.");
  } else if (message(c, msg) == 0) {
    if (save)
      c->m->save_to_sent_items = save->type == SG_JSON_TRUE || (ss && strcasecmp(ss, "true") == 0);
    count_recipients(c);
    rv = 0;
  }
  sg_json_doc_free(doc);
  return rv;
}

/* ---- MIME (text/plain, base64 of an RFC 5322 message) ---- */

static int validate_mime(ctx *c, const char *body, size_t len) {
  sg_buf raw = SG_BUF_INIT;
  char bad[256];
  int rv = -1;
  if (sg_base64_decode(&raw, body, len, true) != 0) {
    sg_sbx_verdict_set(c->v, 400, "ErrorMimeContentInvalidBase64String",
                       "Invalid base64 string for MIME content.");
    c->v->no_inner = true;
  } else if (raw.len == 0) {
    sg_sbx_verdict_set(c->v, 400, "ErrorMimeContentInvalid", "The MIME content is empty.");
  } else if (sg_sbx_mime_scan(raw.data, raw.len, c->m, bad, sizeof bad) != 0) {
    sg_sbx_verdict_set(c->v, 400, "ErrorMimeContentInvalid",
                       "The MIME content is invalid: it has no valid header section.");
  } else {
    if (bad[0])
      sem(c, INVRCPT, NOT_RESOLVED, bad);
    c->m->mime = true;
    c->m->body_kind = SG_SBX_BODY_MIME;
    c->m->body_len = raw.len;
    count_recipients(c);
    rv = 0;
  }
  sg_buf_free(&raw);
  return rv;
}

/* ---- entry point ---- */

/*
 * Splits a Content-Type into its media type (compared case-insensitively) and
 * checks any charset parameter is utf-8. Returns 1 for JSON, 2 for text/plain,
 * 0 otherwise.
 */
static int media_kind(const char *ct) {
  if (!ct)
    return 0;
  while (*ct == ' ' || *ct == '\t')
    ct++;
  size_t n = strcspn(ct, "; \t");
  int kind = 0;
  if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
    kind = 1;
  else if (n == 10 && strncasecmp(ct, "text/plain", 10) == 0)
    kind = 2;
  for (const char *p = strchr(ct, ';'); kind && p; p = strchr(p + 1, ';')) {
    const char *q = p + 1;
    while (*q == ' ' || *q == '\t')
      q++;
    if (strncasecmp(q, "charset=", 8) != 0)
      continue;
    q += 8;
    bool quoted = *q == '"';
    q += quoted;
    if (strncasecmp(q, "utf-8", 5) != 0 || !strchr(quoted ? "\"" : "; \t", q[5]))
      kind = 0;
  }
  return kind;
}

int sg_sbx_graph_validate(const char *content_type, const char *body, size_t len,
                          const char *mailbox, const sg_sbx_graph_limits *limits, sg_sbx_msg *msg,
                          sg_sbx_verdict *verdict) {
  sg_sbx_graph_limits def;
  if (!limits) {
    sg_sbx_graph_limits_default(&def);
    limits = &def;
  }
  ctx c = {limits, msg, verdict, {0, "", "", false}};
  sg_sbx_msg_init(msg);
  sg_sbx_verdict_ok(verdict);
  msg->api = "graph";
  msg->mailbox = sg_xstrdup(mailbox ? mailbox : "");
  int kind = media_kind(content_type);
  int rv = -1;
  if (len > limits->max_body)
    sg_sbx_verdict_set(verdict, 413, "RequestEntityTooLarge",
                       "The request body is %zu bytes; the maximum request length supported is "
                       "%zu bytes.",
                       len, limits->max_body);
  else if (kind == 0)
    sg_sbx_verdict_set(verdict, 415, "UnsupportedMediaType",
                       "The Content-Type must be application/json (charset utf-8) or text/plain "
                       "(base64 MIME).");
  else
    rv = kind == 1 ? validate_json(&c, body, len) : validate_mime(&c, body, len);
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

/* ---- error bodies ---- */

void sg_sbx_graph_error_json(sg_buf *out, const char *code, const char *message,
                             const sg_sbx_graph_inner *inner) {
  sg_buf_append_str(out, "{\"error\":{\"code\":");
  sg_jw_cstr(out, code);
  sg_buf_append_str(out, ",\"message\":");
  sg_jw_cstr(out, message);
  if (inner) {
    sg_buf_append_str(out, ",\"innerError\":{\"date\":");
    sg_jw_cstr(out, inner->date);
    sg_buf_append_str(out, ",\"request-id\":");
    sg_jw_cstr(out, inner->request_id);
    sg_buf_append_str(out, ",\"client-request-id\":");
    sg_jw_cstr(out, inner->client_request_id);
    sg_buf_append_char(out, '}');
  }
  sg_buf_append_str(out, "}}");
}

void sg_sbx_graph_verdict_json(sg_buf *out, const sg_sbx_verdict *v,
                               const sg_sbx_graph_inner *inner) {
  sg_sbx_graph_error_json(out, v->code, v->message, v->no_inner ? NULL : inner);
}

void sg_sbx_graph_date(time_t t, char out[20]) {
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 20, "%Y-%m-%dT%H:%M:%S", &tm);
}
