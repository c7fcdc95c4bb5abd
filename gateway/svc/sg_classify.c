/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Graph, transport and Entra response classification; see sg_classify.h.
 * The code tables below are the whole policy: a new transient code is one
 * line here plus a test row.
 */
#include "svc/sg_classify.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/sg_err.h"
#include "core/sg_fmt.h"
#include "json/sg_json.h"
#include "svc/sg_retry_after.h"

/* Error bodies are shallow; deeper nesting is hostile, not Graph. */
#define ERROR_JSON_DEPTH 16

/* Codes that mean "throttled, come back later" whatever the status (§1.7, §2.1). */
static const char *const graph_throttle_codes[] = {
    "ApplicationThrottled", "TooManyRequests",  "ErrorServerBusy",
    "activityLimitReached", "throttledRequest",
};

/* Codes of transient server-side failures: retry with backoff (§1.7, §2.6). */
static const char *const graph_transient_codes[] = {
    "ErrorInternalServerTransientError",
    "ErrorMailboxStoreUnavailable",
    "ErrorInternalServerError",
    "ErrorTimeoutExpired",
    "ErrorConnectionFailed",
    "ErrorMailboxMoveInProgress",
    "serviceNotAvailable",
    "generalException",
    "UnknownError",
};

/* AADSTS numbers that are transient (§3.5). 90055 is tenant throttling. */
static const int64_t entra_transient[] = {90006, 90024, 50033, 90033, 90090, 90055};
#define AADSTS_TENANT_THROTTLED 90055

static bool in_list(const char *code, const char *const *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(code, list[i]) == 0)
      return true;
  return false;
}

/* sg_fmt_copy_utf8() at the end of the string already in |dst|. */
static void append_text(char *dst, size_t cap, const char *src, size_t n) {
  size_t used = strlen(dst);
  if (used + 1 < cap)
    sg_fmt_copy_utf8(dst + used, cap - used, src, n);
}

static void copy_json_str(char *dst, size_t cap, const sg_json *v) {
  if (v != NULL && v->type == SG_JSON_STRING && dst[0] == '\0')
    sg_fmt_copy_utf8(dst, cap, v->str, v->len);
}

static void init_outcome(sg_outcome *out, int status) {
  memset(out, 0, sizeof *out);
  out->http_status = status;
}

/* Parses |body| when it plausibly is a JSON object of sane size, else NULL. */
static sg_json_doc *parse_body(const char *body, size_t len) {
  sg_json_doc *doc;
  size_t i = 0;
  if (body == NULL || len == 0 || len > SG_CLASSIFY_MAX_BODY)
    return NULL;
  while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
    i++;
  if (i == len || body[i] != '{')
    return NULL;
  if (sg_json_parse(&doc, body, len, ERROR_JSON_DEPTH, NULL, 0) != 0)
    return NULL;
  return doc;
}

static void header_copy(const sg_http_header *h, size_t nh, const char *name, char *dst,
                        size_t cap) {
  const sg_http_header *f;
  if (dst[0] != '\0' || h == NULL || (f = sg_http_find(h, nh, name)) == NULL || f->value_len == 0)
    return;
  sg_fmt_copy_ascii(dst, cap, f->value, f->value_len);
}

static void retry_after(const sg_http_header *h, size_t nh, int64_t now, sg_outcome *out) {
  const sg_http_header *f = h ? sg_http_find(h, nh, "retry-after") : NULL;
  int64_t ms;
  if (f != NULL &&
      sg_retry_after_parse(f->value, f->value_len, now, SG_CLASSIFY_MAX_RETRY_AFTER_MS, &ms) == 0) {
    out->has_retry_after = true;
    out->retry_after_ms = ms;
  }
}

static bool bad_args(const sg_http_header *h, size_t nh, const char *body, size_t len,
                     const sg_outcome *out) {
  return out == NULL || (h == NULL && nh > 0) || (body == NULL && len > 0);
}

/* {"error":{"code":..,"message":..,"innerError":{"request-id":..}}} */
static void graph_error_fields(const char *body, size_t len, sg_outcome *out) {
  sg_json_doc *doc = parse_body(body, len);
  if (doc == NULL)
    return;
  const sg_json *err = sg_json_get(sg_json_root(doc), "error");
  copy_json_str(out->code, sizeof out->code, sg_json_get(err, "code"));
  copy_json_str(out->message, sizeof out->message, sg_json_get(err, "message"));
  const sg_json *inner = sg_json_get_ci(err, "innerError");
  copy_json_str(out->request_id, sizeof out->request_id, sg_json_get(inner, "request-id"));
  sg_json_doc_free(doc);
}

static sg_outcome_kind graph_kind(int status, sg_outcome *out) {
  const char *code = out->code;
  if (status >= 200 && status <= 299)
    return SG_OUTCOME_SENT;
  if (status == 401)
    return SG_OUTCOME_AUTH_REFRESH;
  if (strcasecmp(code, "ErrorSubmissionQuotaExceeded") == 0) {
    out->throttled = true;
    out->quota_exceeded = true;
    return SG_OUTCOME_RETRY;
  }
  if (status == 429 || status == 509 ||
      in_list(code, graph_throttle_codes, SG_ARRAY_LEN(graph_throttle_codes))) {
    out->throttled = true;
    return SG_OUTCOME_RETRY;
  }
  switch (status) {
  case 503:
    out->throttled = out->has_retry_after;
    return SG_OUTCOME_RETRY;
  case 502:
  case 504:
    out->ambiguous = true;
    return SG_OUTCOME_RETRY;
  case 500:
    if (code[0] == '\0' ||
        in_list(code, graph_transient_codes, SG_ARRAY_LEN(graph_transient_codes)))
      return SG_OUTCOME_RETRY;
    return SG_OUTCOME_FAILED;
  case 408:
  case 423:
    return SG_OUTCOME_RETRY;
  default:
    break;
  }
  if (in_list(code, graph_transient_codes, SG_ARRAY_LEN(graph_transient_codes)))
    return SG_OUTCOME_RETRY;
  return SG_OUTCOME_FAILED;
}

int sg_classify_graph(int status, const sg_http_header *h, size_t nh, const char *body, size_t len,
                      int64_t now_unix_ms, sg_outcome *out) {
  if (bad_args(h, nh, body, len, out))
    return SG_ERR_INVAL;
  init_outcome(out, status);
  header_copy(h, nh, "request-id", out->request_id, sizeof out->request_id);
  if (status < 200 || status > 299) {
    graph_error_fields(body, len, out);
    retry_after(h, nh, now_unix_ms, out);
  }
  out->kind = graph_kind(status, out);
  return 0;
}

void sg_classify_transport(int err, bool body_was_sent, sg_outcome *out) {
  if (out == NULL)
    return;
  init_outcome(out, 0);
  out->kind = SG_OUTCOME_RETRY;
  out->transport_err = err;
  out->ambiguous = body_was_sent && err != SG_ERR_REFUSED;
  sg_fmt_copy_utf8(out->code, sizeof out->code, sg_err_name(err), strlen(sg_err_name(err)));
  sg_fmt_copy_utf8(out->message, sizeof out->message, sg_strerror(err), strlen(sg_strerror(err)));
}

/* {"error":"invalid_client","error_description":"AADSTS...","error_codes":[7000215],..} */
static void entra_error_fields(const char *body, size_t len, sg_outcome *out, int64_t *aadsts,
                               bool *temp_unavailable) {
  sg_json_doc *doc = parse_body(body, len);
  if (doc == NULL)
    return;
  const sg_json *root = sg_json_root(doc);
  const sg_json *err = sg_json_get(root, "error");
  const sg_json *desc = sg_json_get(root, "error_description");
  const sg_json *codes = sg_json_get(root, "error_codes");
  int64_t n;
  if (codes != NULL && codes->type == SG_JSON_ARRAY && sg_json_int(codes->child, &n) && n > 0 &&
      n < 1000000000) {
    *aadsts = n;
    snprintf(out->code, sizeof out->code, "AADSTS%lld", (long long)n);
  } else {
    copy_json_str(out->code, sizeof out->code, err);
  }
  if (sg_json_str(err) != NULL && strcmp(sg_json_str(err), "temporarily_unavailable") == 0)
    *temp_unavailable = true;
  /* "<error>: <error_description>", cut at character boundaries. */
  if (sg_json_str(err) != NULL)
    append_text(out->message, sizeof out->message, err->str, err->len);
  if (sg_json_str(err) != NULL && sg_json_str(desc) != NULL)
    append_text(out->message, sizeof out->message, ": ", 2);
  if (sg_json_str(desc) != NULL)
    append_text(out->message, sizeof out->message, desc->str, desc->len);
  copy_json_str(out->request_id, sizeof out->request_id, sg_json_get(root, "trace_id"));
  sg_json_doc_free(doc);
}

int sg_classify_entra(int status, const sg_http_header *h, size_t nh, const char *body, size_t len,
                      int64_t now_unix_ms, sg_outcome *out, sg_entra_token *tok) {
  if (bad_args(h, nh, body, len, out))
    return SG_ERR_INVAL;
  init_outcome(out, status);
  if (tok != NULL)
    memset(tok, 0, sizeof *tok);
  header_copy(h, nh, "x-ms-request-id", out->request_id, sizeof out->request_id);
  header_copy(h, nh, "request-id", out->request_id, sizeof out->request_id);
  if (status >= 200 && status <= 299) {
    sg_entra_token t;
    int rv = sg_entra_parse_token(body, len, &t);
    if (rv != 0) {
      out->kind = SG_OUTCOME_RETRY;
      snprintf(out->code, sizeof out->code, "InvalidTokenResponse");
      snprintf(out->message, sizeof out->message, "token response unusable: %s", sg_strerror(rv));
      return 0;
    }
    out->kind = SG_OUTCOME_OK;
    if (tok != NULL)
      *tok = t;
    else
      sg_entra_token_free(&t);
    return 0;
  }
  int64_t aadsts = 0;
  bool temp = false;
  entra_error_fields(body, len, out, &aadsts, &temp);
  retry_after(h, nh, now_unix_ms, out);
  bool transient = temp;
  for (size_t i = 0; i < SG_ARRAY_LEN(entra_transient); i++)
    if (aadsts == entra_transient[i])
      transient = true;
  if (status == 429 || aadsts == AADSTS_TENANT_THROTTLED) {
    out->throttled = true;
    out->kind = SG_OUTCOME_RETRY;
  } else if (status >= 500 || status == 408 || transient) {
    out->throttled = status == 503 && out->has_retry_after;
    out->kind = SG_OUTCOME_RETRY;
  } else {
    out->kind = SG_OUTCOME_FAILED;
  }
  return 0;
}

const char *sg_outcome_kind_name(sg_outcome_kind k) {
  switch (k) {
  case SG_OUTCOME_SENT:
    return "SENT";
  case SG_OUTCOME_FAILED:
    return "FAILED";
  case SG_OUTCOME_RETRY:
    return "RETRY";
  case SG_OUTCOME_AUTH_REFRESH:
    return "AUTH_REFRESH";
  case SG_OUTCOME_ACCEPTED:
    return "ACCEPTED";
  case SG_OUTCOME_PENDING:
    return "PENDING";
  case SG_OUTCOME_STEP:
    return "STEP";
  }
  return "UNKNOWN";
}
