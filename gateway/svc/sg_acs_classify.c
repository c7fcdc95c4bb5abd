/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACS Email answer classification (emails:send and operation polls); see
 * sg_acs.h. Decisions branch on the HTTP status, the operation status and the
 * error code, never on message text. Bodies over SG_ACS_CLASSIFY_MAX_BODY are
 * not parsed and every copied string is bounded and cleaned, so a hostile or
 * huge answer can only ever produce a well-formed outcome.
 */
#include "svc/sg_acs.h"

#include <string.h>
#include <strings.h>

#include "core/sg_err.h"
#include "core/sg_fmt.h"
#include "json/sg_json.h"
#include "svc/sg_retry_after.h"

/* ACS answers are shallow; deeper nesting is hostile. */
#define ACS_JSON_DEPTH 16

/* Codes that mean "throttled" whatever the status. */
static const char *const acs_throttle_codes[] = {"TooManyRequests", "Throttled"};

/* True when |s| (|n| bytes) can be an operation id: it goes into a path. */
static bool op_id_ok(const char *s, size_t n) {
  if (n == 0 || n >= SG_ACS_OPERATION_ID_MAX)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return false;
  }
  return true;
}

static void set_op_id(sg_acs_outcome *out, const char *s, size_t n) {
  if (out->operation_id[0] == '\0' && s != NULL && op_id_ok(s, n)) {
    memcpy(out->operation_id, s, n);
    out->operation_id[n] = '\0';
  }
}

static const sg_http_header *find(const sg_http_header *h, size_t nh, const char *name) {
  return h != NULL ? sg_http_find(h, nh, name) : NULL;
}

static void header_copy(const sg_http_header *h, size_t nh, const char *name, char *dst,
                        size_t cap) {
  const sg_http_header *f = find(h, nh, name);
  if (dst[0] == '\0' && f != NULL && f->value_len > 0)
    sg_fmt_copy_ascii(dst, cap, f->value, f->value_len);
}

/* Operation-Location, verbatim: only when it fits whole and is plain ASCII. */
static void location(const sg_http_header *h, size_t nh, sg_acs_outcome *out) {
  const sg_http_header *f = find(h, nh, "operation-location");
  if (f == NULL || f->value_len == 0 || f->value_len >= sizeof out->operation_location)
    return;
  for (size_t i = 0; i < f->value_len; i++) {
    unsigned char c = (unsigned char)f->value[i];
    if (c <= 0x20 || c >= 0x7f)
      return;
  }
  memcpy(out->operation_location, f->value, f->value_len);
  out->operation_location[f->value_len] = '\0';
}

static void retry_after(const sg_http_header *h, size_t nh, int64_t now, sg_outcome *o) {
  const sg_http_header *f = find(h, nh, "retry-after");
  int64_t ms;
  if (f != NULL &&
      sg_retry_after_parse(f->value, f->value_len, now, SG_CLASSIFY_MAX_RETRY_AFTER_MS, &ms) == 0) {
    o->has_retry_after = true;
    o->retry_after_ms = ms;
  }
}

/* Parses |body| when it plausibly is a JSON object of sane size, else NULL. */
static sg_json_doc *parse_body(const char *body, size_t len) {
  sg_json_doc *doc;
  size_t i = 0;
  if (body == NULL || len == 0 || len > SG_ACS_CLASSIFY_MAX_BODY)
    return NULL;
  while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
    i++;
  if (i == len || body[i] != '{')
    return NULL;
  if (sg_json_parse(&doc, body, len, ACS_JSON_DEPTH, NULL, 0) != 0)
    return NULL;
  return doc;
}

static void copy_json_str(char *dst, size_t cap, const sg_json *v) {
  if (v != NULL && v->type == SG_JSON_STRING && dst[0] == '\0')
    sg_fmt_copy_utf8(dst, cap, v->str, v->len);
}

/*
 * Reads {"id":..,"status":..,"error":{"code":..,"message":..}} (an
 * EmailSendResult) or {"error":{..}} (an ErrorResponse) into |out|.
 */
static void body_fields(const char *body, size_t len, sg_acs_outcome *out) {
  sg_json_doc *doc = parse_body(body, len);
  if (doc == NULL)
    return;
  const sg_json *root = sg_json_root(doc);
  const sg_json *id = sg_json_get(root, "id");
  if (id != NULL && id->type == SG_JSON_STRING)
    set_op_id(out, id->str, id->len);
  const sg_json *st = sg_json_get(root, "status");
  if (st != NULL && st->type == SG_JSON_STRING && st->len < sizeof out->status)
    sg_fmt_copy_utf8(out->status, sizeof out->status, st->str, st->len);
  const sg_json *err = sg_json_get(root, "error");
  copy_json_str(out->base.code, sizeof out->base.code, sg_json_get(err, "code"));
  copy_json_str(out->base.message, sizeof out->base.message, sg_json_get(err, "message"));
  sg_json_doc_free(doc);
}

static void init_outcome(sg_acs_outcome *out, int status, const sg_http_header *h, size_t nh) {
  memset(out, 0, sizeof *out);
  out->base.http_status = status;
  header_copy(h, nh, "x-ms-request-id", out->base.request_id, sizeof out->base.request_id);
  header_copy(h, nh, "request-id", out->base.request_id, sizeof out->base.request_id);
}

/* Error answers: the x-ms-error-code header is the code; the body fills the rest. */
static void error_fields(const sg_http_header *h, size_t nh, const char *body, size_t len,
                         int64_t now, sg_acs_outcome *out) {
  header_copy(h, nh, "x-ms-error-code", out->base.code, sizeof out->base.code);
  body_fields(body, len, out);
  retry_after(h, nh, now, &out->base);
}

static bool throttle_code(const char *code) {
  for (size_t i = 0; i < SG_ARRAY_LEN(acs_throttle_codes); i++)
    if (strcasecmp(code, acs_throttle_codes[i]) == 0)
      return true;
  return false;
}

/* The kind of a non-2xx answer (409 on a send aside), the same for sends and polls. */
static sg_acs_kind error_kind(int status, sg_acs_outcome *out) {
  if (status == 401)
    return SG_ACS_AUTH_REFRESH;
  if (status == 429 || throttle_code(out->base.code)) {
    out->base.throttled = true;
    return SG_ACS_RETRY;
  }
  if (status == 503) {
    out->base.throttled = out->base.has_retry_after;
    return SG_ACS_RETRY;
  }
  if (status >= 500 || status == 408)
    return SG_ACS_RETRY;
  return SG_ACS_FAILED;
}

/* Sets |kind| and folds it onto base.kind (see sg_acs_outcome). */
static void set_kind(sg_acs_outcome *out, sg_acs_kind k) {
  out->kind = k;
  switch (k) {
  case SG_ACS_ACCEPTED:
    out->base.kind = SG_OUTCOME_ACCEPTED;
    break;
  case SG_ACS_SENT:
    out->base.kind = SG_OUTCOME_SENT;
    break;
  case SG_ACS_POLL_AGAIN:
    out->base.kind = SG_OUTCOME_PENDING;
    break;
  case SG_ACS_RETRY:
    out->base.kind = SG_OUTCOME_RETRY;
    break;
  case SG_ACS_FAILED:
    out->base.kind = SG_OUTCOME_FAILED;
    break;
  case SG_ACS_AUTH_REFRESH:
    out->base.kind = SG_OUTCOME_AUTH_REFRESH;
    break;
  }
}

static bool bad_args(const sg_http_header *h, size_t nh, const char *body, size_t len,
                     const sg_acs_outcome *out) {
  return out == NULL || (h == NULL && nh > 0) || (body == NULL && len > 0);
}

static bool final_failure(const char *status) {
  return strcmp(status, "Failed") == 0 || strcmp(status, "Canceled") == 0;
}

/* A Failed/Canceled operation without an error object still gets a code. */
static void default_failure_code(sg_acs_outcome *out) {
  if (out->base.code[0] != '\0')
    return;
  bool canceled = strcmp(out->status, "Canceled") == 0;
  sg_fmt_copy_utf8(out->base.code, sizeof out->base.code, canceled ? "Canceled" : "EmailSendFailed",
                   canceled ? 8 : 15);
}

int sg_classify_acs_send(int status, const sg_http_header *h, size_t nh, const char *body,
                         size_t len, int64_t now_unix_ms, sg_acs_outcome *out) {
  if (bad_args(h, nh, body, len, out))
    return SG_ERR_INVAL;
  init_outcome(out, status, h, nh);
  location(h, nh, out);
  if (status >= 200 && status <= 299) {
    body_fields(body, len, out);
    const sg_http_header *op = find(h, nh, "operation-id");
    if (op != NULL)
      set_op_id(out, op->value, op->value_len);
    retry_after(h, nh, now_unix_ms, &out->base);
    if (final_failure(out->status)) {
      default_failure_code(out);
      set_kind(out, SG_ACS_FAILED);
    } else {
      out->base.code[0] = out->base.message[0] = '\0';
      set_kind(out, SG_ACS_ACCEPTED);
    }
    return 0;
  }
  error_fields(h, nh, body, len, now_unix_ms, out);
  if (status == 409) {
    /* The service already has an operation with our Operation-Id (a retry,
     * or a redelivered job): it is accepted; poll it. */
    const sg_http_header *op = find(h, nh, "operation-id");
    if (op != NULL)
      set_op_id(out, op->value, op->value_len);
    set_kind(out, SG_ACS_ACCEPTED);
    return 0;
  }
  set_kind(out, error_kind(status, out));
  return 0;
}

int sg_classify_acs_poll(int status, const sg_http_header *h, size_t nh, const char *body,
                         size_t len, int64_t now_unix_ms, sg_acs_outcome *out) {
  if (bad_args(h, nh, body, len, out))
    return SG_ERR_INVAL;
  init_outcome(out, status, h, nh);
  if (status < 200 || status > 299) {
    error_fields(h, nh, body, len, now_unix_ms, out);
    set_kind(out, error_kind(status, out));
    return 0;
  }
  body_fields(body, len, out);
  if (strcmp(out->status, "Succeeded") == 0) {
    /* An error object next to Succeeded means nothing: drop it. */
    out->base.code[0] = out->base.message[0] = '\0';
    set_kind(out, SG_ACS_SENT);
  } else if (final_failure(out->status)) {
    default_failure_code(out);
    set_kind(out, SG_ACS_FAILED);
  } else if (strcmp(out->status, "NotStarted") == 0 || strcmp(out->status, "Running") == 0) {
    retry_after(h, nh, now_unix_ms, &out->base);
    if (!out->base.has_retry_after) {
      out->base.has_retry_after = true;
      out->base.retry_after_ms = SG_ACS_DEFAULT_POLL_MS;
    }
    set_kind(out, SG_ACS_POLL_AGAIN);
  } else {
    /* No body, not JSON, or a status this code does not know: poll again
     * with backoff rather than guess. */
    if (out->base.code[0] == '\0')
      sg_fmt_copy_utf8(out->base.code, sizeof out->base.code, "UnknownOperationStatus", 22);
    set_kind(out, SG_ACS_RETRY);
  }
  return 0;
}

const char *sg_acs_kind_name(sg_acs_kind k) {
  switch (k) {
  case SG_ACS_ACCEPTED:
    return "ACCEPTED";
  case SG_ACS_SENT:
    return "SENT";
  case SG_ACS_POLL_AGAIN:
    return "POLL_AGAIN";
  case SG_ACS_FAILED:
    return "FAILED";
  case SG_ACS_RETRY:
    return "RETRY";
  case SG_ACS_AUTH_REFRESH:
    return "AUTH_REFRESH";
  }
  return "UNKNOWN";
}
