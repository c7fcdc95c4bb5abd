/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for svc/sg_classify: the Graph table of microsoft-apis.md §1.7
 * and §2.6, transport failures, the Entra table of §3.5, and hostile bodies
 * (huge, deep, non-JSON, truncated, control characters, long UTF-8) that must
 * never break the classifier or its bounded copies.
 */
#include "harness.h"

#include "core/sg_err.h"
#include "core/sg_json_write.h"
#include "core/sg_mem.h"
#include "core/sg_utf8.h"
#include "svc/sg_classify.h"

#define NOW 1764000000000LL

enum { F_THR = 1, F_AMB = 2, F_QUOTA = 4, F_RA = 8 };

typedef struct row {
  int status;
  const char *code; /* NULL: no body */
  const char *retry_after;
  sg_outcome_kind kind;
  int flags;
  int64_t ra_ms;
} row;

static const row graph_rows[] = {
    {202, NULL, NULL, SG_OUTCOME_SENT, 0, 0},
    {200, NULL, NULL, SG_OUTCOME_SENT, 0, 0},
    {400, "ErrorInvalidRecipients", NULL, SG_OUTCOME_FAILED, 0, 0},
    {403, "ErrorAccessDenied", NULL, SG_OUTCOME_FAILED, 0, 0},
    {403, "ErrorSendAsDenied", NULL, SG_OUTCOME_FAILED, 0, 0},
    {403, "NoPermissionsInAccessToken", NULL, SG_OUTCOME_FAILED, 0, 0},
    {404, "MailboxNotEnabledForRESTAPI", NULL, SG_OUTCOME_FAILED, 0, 0},
    {400, "ErrorQuotaExceeded", NULL, SG_OUTCOME_FAILED, 0, 0},
    {400, "ErrorMessageSizeExceeded", NULL, SG_OUTCOME_FAILED, 0, 0},
    {400, "ErrorMimeContentInvalidBase64String", NULL, SG_OUTCOME_FAILED, 0, 0},
    {400, "InvalidInternetMessageHeader", NULL, SG_OUTCOME_FAILED, 0, 0},
    {400, "InvalidInternetMessageHeaderCollection", NULL, SG_OUTCOME_FAILED, 0, 0},
    {413, "RequestEntityTooLarge", NULL, SG_OUTCOME_FAILED, 0, 0},
    {413, NULL, NULL, SG_OUTCOME_FAILED, 0, 0},
    {400, NULL, NULL, SG_OUTCOME_FAILED, 0, 0},
    {405, NULL, NULL, SG_OUTCOME_FAILED, 0, 0},
    {507, NULL, NULL, SG_OUTCOME_FAILED, 0, 0},
    {501, NULL, NULL, SG_OUTCOME_FAILED, 0, 0},
    {301, NULL, NULL, SG_OUTCOME_FAILED, 0, 0},
    {401, "InvalidAuthenticationToken", NULL, SG_OUTCOME_AUTH_REFRESH, 0, 0},
    {401, NULL, NULL, SG_OUTCOME_AUTH_REFRESH, 0, 0},
    {401, "TooManyRequests", "5", SG_OUTCOME_AUTH_REFRESH, F_RA, 5000},
    {429, "ApplicationThrottled", "2.128", SG_OUTCOME_RETRY, F_THR | F_RA, 2128},
    {429, "TooManyRequests", "10", SG_OUTCOME_RETRY, F_THR | F_RA, 10000},
    {429, "TooManyRequests", NULL, SG_OUTCOME_RETRY, F_THR, 0},
    {429, NULL, "garbage", SG_OUTCOME_RETRY, F_THR, 0},
    {429, NULL, "Sun, 06 Nov 1994 08:49:37 GMT", SG_OUTCOME_RETRY, F_THR | F_RA, 0},
    {503, "ErrorServerBusy", "5", SG_OUTCOME_RETRY, F_THR | F_RA, 5000},
    {503, "serviceNotAvailable", "1", SG_OUTCOME_RETRY, F_THR | F_RA, 1000},
    {503, NULL, "3", SG_OUTCOME_RETRY, F_THR | F_RA, 3000},
    {503, "serviceNotAvailable", NULL, SG_OUTCOME_RETRY, 0, 0},
    {503, NULL, NULL, SG_OUTCOME_RETRY, 0, 0},
    {503, NULL, "-5", SG_OUTCOME_RETRY, 0, 0},
    {504, NULL, NULL, SG_OUTCOME_RETRY, F_AMB, 0},
    {504, "gatewayTimeout", "2", SG_OUTCOME_RETRY, F_AMB | F_RA, 2000},
    {502, NULL, NULL, SG_OUTCOME_RETRY, F_AMB, 0},
    {500, "ErrorInternalServerTransientError", NULL, SG_OUTCOME_RETRY, 0, 0},
    {500, "ErrorMailboxStoreUnavailable", NULL, SG_OUTCOME_RETRY, 0, 0},
    {500, "generalException", NULL, SG_OUTCOME_RETRY, 0, 0},
    {500, NULL, NULL, SG_OUTCOME_RETRY, 0, 0},
    {500, "ErrorItemNotFound", NULL, SG_OUTCOME_FAILED, 0, 0},
    {500, "ErrorSubmissionQuotaExceeded", NULL, SG_OUTCOME_RETRY, F_THR | F_QUOTA, 0},
    {429, "ErrorSubmissionQuotaExceeded", "3600", SG_OUTCOME_RETRY, F_THR | F_QUOTA | F_RA,
     3600000},
    {400, "ErrorServerBusy", NULL, SG_OUTCOME_RETRY, F_THR, 0},
    {509, NULL, NULL, SG_OUTCOME_RETRY, F_THR, 0},
    {408, NULL, NULL, SG_OUTCOME_RETRY, 0, 0},
    {423, NULL, NULL, SG_OUTCOME_RETRY, 0, 0},
    {429, NULL, "999999999", SG_OUTCOME_RETRY, F_THR | F_RA, SG_CLASSIFY_MAX_RETRY_AFTER_MS},
};

static void graph_body(sg_buf *b, const char *code, const char *msg) {
  sg_buf_append_str(b, "{\"error\":{\"code\":");
  sg_jw_cstr(b, code);
  sg_buf_append_str(b, ",\"message\":");
  sg_jw_cstr(b, msg);
  sg_buf_append_str(b, ",\"innerError\":{\"date\":\"2023-02-20T05:06:48\",\"request-id\":"
                       "\"body-rid\",\"client-request-id\":\"crid\"}}}");
}

static void check_row(const row *r, const sg_outcome *o) {
  if (o->kind != r->kind)
    fprintf(stderr, "status %d code %s: got %s\n", r->status, r->code ? r->code : "-",
            sg_outcome_kind_name(o->kind));
  ASSERT_EQ(r->kind, o->kind);
  ASSERT_EQ(r->status, o->http_status);
  ASSERT_EQ(!!(r->flags & F_THR), o->throttled);
  ASSERT_EQ(!!(r->flags & F_AMB), o->ambiguous);
  ASSERT_EQ(!!(r->flags & F_QUOTA), o->quota_exceeded);
  ASSERT_EQ(!!(r->flags & F_RA), o->has_retry_after);
  if (r->flags & F_RA)
    ASSERT_EQ(r->ra_ms, o->retry_after_ms);
}

static void t_graph_table(void) {
  for (size_t i = 0; i < SG_ARRAY_LEN(graph_rows); i++) {
    const row *r = &graph_rows[i];
    sg_buf body = SG_BUF_INIT;
    if (r->code)
      graph_body(&body, r->code, "Some message.");
    sg_http_header h[3];
    size_t nh = 0;
    h[nh++] = sg_http_hdr("request-id", "hdr-rid");
    h[nh++] = sg_http_hdr("content-type", "application/json");
    if (r->retry_after)
      h[nh++] = sg_http_hdr("retry-after", r->retry_after);
    sg_outcome o;
    ASSERT_OK(sg_classify_graph(r->status, h, nh, body.data, body.len, NOW, &o));
    check_row(r, &o);
    ASSERT_STR_EQ("hdr-rid", o.request_id);
    if (r->code && (r->status < 200 || r->status > 299)) {
      ASSERT_STR_EQ(r->code, o.code);
      ASSERT_STR_EQ("Some message.", o.message);
    } else {
      ASSERT_STR_EQ("", o.code);
    }
    sg_buf_free(&body);
  }
}

static void t_graph_details(void) {
  sg_outcome o;
  /* request-id from innerError when the header is missing. */
  sg_buf b = SG_BUF_INIT;
  graph_body(&b, "ErrorInvalidRecipients", "At least one recipient isn't valid.");
  ASSERT_OK(sg_classify_graph(400, NULL, 0, b.data, b.len, NOW, &o));
  ASSERT_STR_EQ("body-rid", o.request_id);
  ASSERT_STR_EQ("At least one recipient isn't valid.", o.message);
  /* The doc's throttling sample (§2.1), innererror spelt lower case. */
  static const char sample[] =
      "{\"error\":{\"code\":\"TooManyRequests\",\"innererror\":{\"code\":\"429\",\"date\":"
      "\"2020-08-18T12:51:51\",\"message\":\"Please retry after\",\"request-id\":\"rid-429\","
      "\"status\":\"429\"},\"message\":\"Please retry again later.\"}}";
  sg_http_header ra = sg_http_hdr("Retry-After", "2.128");
  ASSERT_OK(sg_classify_graph(429, &ra, 1, sample, sizeof sample - 1, NOW, &o));
  ASSERT_EQ(SG_OUTCOME_RETRY, o.kind);
  ASSERT(o.throttled);
  ASSERT_EQ(2128, o.retry_after_ms);
  ASSERT_STR_EQ("TooManyRequests", o.code);
  ASSERT_STR_EQ("rid-429", o.request_id);
  /* A 202 body is never parsed; request-id still captured. */
  sg_http_header rid = sg_http_hdr("request-id", "r-202");
  ASSERT_OK(sg_classify_graph(202, &rid, 1, "garbage", 7, NOW, &o));
  ASSERT_EQ(SG_OUTCOME_SENT, o.kind);
  ASSERT_STR_EQ("r-202", o.request_id);
  ASSERT_STR_EQ("", o.code);
  /* Retry-After as an HTTP date relative to now. */
  char date[64];
  snprintf(date, sizeof date, "Sun, 06 Nov 1994 08:49:37 GMT");
  sg_http_header rd = sg_http_hdr("retry-after", date);
  ASSERT_OK(sg_classify_graph(503, &rd, 1, NULL, 0, 784111770000LL, &o));
  ASSERT(o.throttled && o.has_retry_after);
  ASSERT_EQ(7000, o.retry_after_ms);
  /* Header values with control bytes are made printable. */
  sg_http_header bad = {"request-id", 10, "a\r\nb\x80", 5};
  ASSERT_OK(sg_classify_graph(400, &bad, 1, NULL, 0, NOW, &o));
  ASSERT_STR_EQ("a??b?", o.request_id);
  /* Bad arguments. */
  ASSERT_EQ(SG_ERR_INVAL, sg_classify_graph(400, NULL, 0, NULL, 0, NOW, NULL));
  ASSERT_EQ(SG_ERR_INVAL, sg_classify_graph(400, NULL, 2, NULL, 0, NOW, &o));
  ASSERT_EQ(SG_ERR_INVAL, sg_classify_graph(400, NULL, 0, NULL, 5, NOW, &o));
  sg_buf_free(&b);
}

static void t_hostile_bodies(void) {
  sg_outcome o;
  sg_buf b = SG_BUF_INIT;
  /* A huge body is not parsed at all. */
  sg_buf_append_str(&b, "{\"error\":{\"code\":\"ErrorServerBusy\",\"message\":\"");
  for (size_t i = 0; i < SG_CLASSIFY_MAX_BODY; i++)
    sg_buf_append_char(&b, 'x');
  sg_buf_append_str(&b, "\"}}");
  ASSERT_OK(sg_classify_graph(400, NULL, 0, b.data, b.len, NOW, &o));
  ASSERT_EQ(SG_OUTCOME_FAILED, o.kind);
  ASSERT_STR_EQ("", o.code);
  /* Deep nesting. */
  sg_buf_reset(&b);
  for (int i = 0; i < 100000; i++)
    sg_buf_append_char(&b, '[');
  ASSERT_OK(sg_classify_graph(500, NULL, 0, b.data, b.len, NOW, &o));
  ASSERT_EQ(SG_OUTCOME_RETRY, o.kind);
  sg_buf_reset(&b);
  sg_buf_append_str(&b, "{\"error\":");
  for (int i = 0; i < 40; i++)
    sg_buf_append_str(&b, "{\"a\":");
  ASSERT_OK(sg_classify_graph(400, NULL, 0, b.data, b.len, NOW, &o));
  ASSERT_EQ(SG_OUTCOME_FAILED, o.kind);
  /* Long code and long multi-byte message are cut, at a character boundary. */
  sg_buf_reset(&b);
  sg_buf_append_str(&b, "{\"error\":{\"code\":\"");
  for (int i = 0; i < 5000; i++)
    sg_buf_append_char(&b, 'C');
  sg_buf_append_str(&b, "\",\"message\":\"a");
  for (int i = 0; i < 5000; i++)
    sg_buf_append_str(&b, "\xe2\x82\xac"); /* 3-byte euro sign */
  sg_buf_append_str(&b, "\"}}");
  ASSERT_OK(sg_classify_graph(400, NULL, 0, b.data, b.len, NOW, &o));
  ASSERT_EQ(SG_OUTCOME_CODE_MAX - 1, strlen(o.code));
  ASSERT_EQ(1 + 170 * 3, strlen(o.message)); /* 511 bytes available: 'a' + 170 euros */
  ASSERT(sg_utf8_valid(o.message, strlen(o.message)));
  /* Control characters (NUL included) become spaces. */
  static const char ctl[] =
      "{\"error\":{\"code\":\"X\\u0000Y\",\"message\":\"l1\\nl2\\r\\u001b[31m\"}}";
  ASSERT_OK(sg_classify_graph(400, NULL, 0, ctl, sizeof ctl - 1, NOW, &o));
  ASSERT_STR_EQ("X Y", o.code);
  ASSERT_STR_EQ("l1 l2  [31m", o.message);
  /* Shapes that are JSON but not Graph's. */
  static const char *const odd[] = {
      "{\"error\":\"ErrorServerBusy\"}",
      "{\"error\":{\"code\":42,\"message\":[1]}}",
      "{\"error\":null}",
      "[\"error\"]",
      "\"ErrorServerBusy\"",
      "{}",
      "{\"error\":{}}",
      "<html><body>502 Bad Gateway</body></html>",
      "{\"error\":{\"code\":\"Err",
      "{",
      "  \r\n",
      "{\"error\":{\"code\":\"\\ud800\"}}",
  };
  for (size_t i = 0; i < SG_ARRAY_LEN(odd); i++) {
    ASSERT_OK(sg_classify_graph(400, NULL, 0, odd[i], strlen(odd[i]), NOW, &o));
    ASSERT_EQ(SG_OUTCOME_FAILED, o.kind);
    ASSERT_STR_EQ("", o.code);
  }
  /* Random bytes: never crash, always terminated, valid UTF-8 text fields. */
  uint64_t s = 88172645463325252ULL;
  for (int iter = 0; iter < 3000; iter++) {
    sg_buf_reset(&b);
    graph_body(&b, "ErrorInvalidRecipients", "message \xc3\xa9");
    size_t n = b.len;
    for (int k = 0; k < 4; k++) { /* flip a few bytes */
      s ^= s << 13;
      s ^= s >> 7;
      s ^= s << 17;
      b.data[s % n] = (char)(s >> 24);
    }
    int st = 400 + (int)(s % 200);
    ASSERT_OK(sg_classify_graph(st, NULL, 0, b.data, (size_t)(s >> 40) % (n + 1), NOW, &o));
    ASSERT(sg_utf8_valid(o.code, strlen(o.code)));
    ASSERT(sg_utf8_valid(o.message, strlen(o.message)));
    ASSERT_LT(strlen(o.request_id), SG_OUTCOME_REQUEST_ID_MAX);
  }
  sg_buf_free(&b);
}

static void t_transport(void) {
  sg_outcome o;
  sg_classify_transport(-104 /* ECONNRESET */, true, &o);
  ASSERT_EQ(SG_OUTCOME_RETRY, o.kind);
  ASSERT(o.ambiguous);
  ASSERT(!o.throttled);
  ASSERT_EQ(0, o.http_status);
  ASSERT_EQ(-104, o.transport_err);
  ASSERT_STR_EQ("ECONNRESET", o.code);
  ASSERT(o.message[0] != '\0');
  sg_classify_transport(SG_ERR_TIMEOUT, true, &o);
  ASSERT(o.ambiguous);
  ASSERT_STR_EQ("SG_ERR_TIMEOUT", o.code);
  ASSERT_STR_EQ("timed out", o.message);
  sg_classify_transport(SG_ERR_TIMEOUT, false, &o);
  ASSERT(!o.ambiguous);
  sg_classify_transport(SG_ERR_GOAWAY, true, &o);
  ASSERT(o.ambiguous);
  sg_classify_transport(SG_ERR_RESET, true, &o);
  ASSERT(o.ambiguous);
  /* Refused streams were never processed: safe to resend. */
  sg_classify_transport(SG_ERR_REFUSED, true, &o);
  ASSERT_EQ(SG_OUTCOME_RETRY, o.kind);
  ASSERT(!o.ambiguous);
  sg_classify_transport(-111 /* ECONNREFUSED */, false, &o);
  ASSERT(!o.ambiguous);
  sg_classify_transport(SG_ERR_TLS_VERIFY, false, &o);
  ASSERT_EQ(SG_OUTCOME_RETRY, o.kind);
  sg_classify_transport(SG_ERR_TIMEOUT, true, NULL); /* no crash */
}

typedef struct erow {
  int status;
  const char *error; /* NULL: no body */
  long long aadsts;  /* 0: no error_codes */
  const char *retry_after;
  sg_outcome_kind kind;
  bool throttled;
  const char *want_code;
} erow;

static const erow entra_rows[] = {
    {401, "invalid_client", 7000215, NULL, SG_OUTCOME_FAILED, false, "AADSTS7000215"},
    {400, "invalid_client", 7000222, NULL, SG_OUTCOME_FAILED, false, "AADSTS7000222"},
    {400, "unauthorized_client", 700016, NULL, SG_OUTCOME_FAILED, false, "AADSTS700016"},
    {400, "invalid_request", 90002, NULL, SG_OUTCOME_FAILED, false, "AADSTS90002"},
    {401, "invalid_client", 700027, NULL, SG_OUTCOME_FAILED, false, "AADSTS700027"},
    {400, "invalid_request", 7000218, NULL, SG_OUTCOME_FAILED, false, "AADSTS7000218"},
    {400, "invalid_scope", 70011, NULL, SG_OUTCOME_FAILED, false, "AADSTS70011"},
    {400, "invalid_resource", 500011, NULL, SG_OUTCOME_FAILED, false, "AADSTS500011"},
    {400, "unauthorized_client", 7000112, NULL, SG_OUTCOME_FAILED, false, "AADSTS7000112"},
    {400, "invalid_grant", 53003, NULL, SG_OUTCOME_FAILED, false, "AADSTS53003"},
    {400, "invalid_request", 9001023, NULL, SG_OUTCOME_FAILED, false, "AADSTS9001023"},
    {400, "temporarily_unavailable", 90006, NULL, SG_OUTCOME_RETRY, false, "AADSTS90006"},
    {400, "invalid_request", 90024, NULL, SG_OUTCOME_RETRY, false, "AADSTS90024"},
    {400, "invalid_request", 50033, NULL, SG_OUTCOME_RETRY, false, "AADSTS50033"},
    {400, "invalid_request", 90033, NULL, SG_OUTCOME_RETRY, false, "AADSTS90033"},
    {400, "invalid_request", 90090, NULL, SG_OUTCOME_RETRY, false, "AADSTS90090"},
    {400, "invalid_request", 90055, NULL, SG_OUTCOME_RETRY, true, "AADSTS90055"},
    {400, "temporarily_unavailable", 0, NULL, SG_OUTCOME_RETRY, false, "temporarily_unavailable"},
    {400, "invalid_request", 0, NULL, SG_OUTCOME_FAILED, false, "invalid_request"},
    {429, NULL, 0, "60", SG_OUTCOME_RETRY, true, ""},
    {429, NULL, 0, NULL, SG_OUTCOME_RETRY, true, ""},
    {500, NULL, 0, NULL, SG_OUTCOME_RETRY, false, ""},
    {503, NULL, 0, "30", SG_OUTCOME_RETRY, true, ""},
    {504, "server_error", 0, NULL, SG_OUTCOME_RETRY, false, "server_error"},
    {408, NULL, 0, NULL, SG_OUTCOME_RETRY, false, ""},
    {400, NULL, 0, NULL, SG_OUTCOME_FAILED, false, ""},
    {404, NULL, 0, NULL, SG_OUTCOME_FAILED, false, ""},
};

static void entra_body(sg_buf *b, const erow *r) {
  sg_buf_append_str(b, "{\"error\":");
  sg_jw_cstr(b, r->error);
  sg_buf_printf(b,
                ",\"error_description\":\"%s%lld: Something went wrong.\\r\\nTrace ID: t\\r\\n"
                "Correlation ID: c\\r\\nTimestamp: 2024-01-01 00:00:00Z\"",
                r->aadsts ? "AADSTS" : "X", r->aadsts);
  if (r->aadsts)
    sg_buf_printf(b, ",\"error_codes\":[%lld]", r->aadsts);
  sg_buf_append_str(b, ",\"timestamp\":\"2024-01-01 00:00:00Z\",\"trace_id\":\"trace-1\","
                       "\"correlation_id\":\"corr-1\",\"error_uri\":\"https://login/error\"}");
}

static void t_entra_table(void) {
  for (size_t i = 0; i < SG_ARRAY_LEN(entra_rows); i++) {
    const erow *r = &entra_rows[i];
    sg_buf b = SG_BUF_INIT;
    if (r->error)
      entra_body(&b, r);
    sg_http_header h[2];
    size_t nh = 0;
    if (r->retry_after)
      h[nh++] = sg_http_hdr("Retry-After", r->retry_after);
    sg_outcome o;
    sg_entra_token tok;
    ASSERT_OK(sg_classify_entra(r->status, h, nh, b.data, b.len, NOW, &o, &tok));
    if (o.kind != r->kind)
      fprintf(stderr, "row %zu: %d %s -> %s\n", i, r->status, r->want_code,
              sg_outcome_kind_name(o.kind));
    ASSERT_EQ(r->kind, o.kind);
    ASSERT_EQ(r->throttled, o.throttled);
    ASSERT_STR_EQ(r->want_code, o.code);
    ASSERT_NULL(tok.access_token);
    if (r->retry_after) {
      ASSERT(o.has_retry_after);
      ASSERT_EQ(atoll(r->retry_after) * 1000, o.retry_after_ms);
    }
    if (r->error) {
      char want[64];
      snprintf(want, sizeof want, "%s: %s%lld: Something", r->error, r->aadsts ? "AADSTS" : "X",
               r->aadsts);
      ASSERT(strncmp(o.message, want, strlen(want)) == 0);
      ASSERT(strchr(o.message, '\r') == NULL);
      ASSERT_STR_EQ("trace-1", o.request_id);
    }
    sg_buf_free(&b);
  }
}

static void t_entra_success(void) {
  static const char ok[] = "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,"
                           "\"access_token\":\"eyJ0eXAi.payload.sig\"}";
  sg_http_header h = sg_http_hdr("x-ms-request-id", "ms-rid");
  sg_outcome o;
  sg_entra_token tok;
  ASSERT_OK(sg_classify_entra(200, &h, 1, ok, sizeof ok - 1, NOW, &o, &tok));
  ASSERT_EQ(SG_OUTCOME_OK, o.kind);
  ASSERT_STR_EQ("ms-rid", o.request_id);
  ASSERT_STR_EQ("eyJ0eXAi.payload.sig", tok.access_token);
  ASSERT_EQ(20, tok.access_token_len);
  ASSERT_EQ(3599, tok.expires_in_s);
  sg_entra_token_free(&tok);
  ASSERT_NULL(tok.access_token);
  /* Without a token out-parameter nothing leaks. */
  ASSERT_OK(sg_classify_entra(200, NULL, 0, ok, sizeof ok - 1, NOW, &o, NULL));
  ASSERT_EQ(SG_OUTCOME_OK, o.kind);
  /* 200 with an unusable body: retry later. */
  static const char *const bad[] = {
      "",
      "not json",
      "{}",
      "{\"access_token\":\"x\"}",
      "{\"access_token\":\"x\",\"expires_in\":0}",
      "{\"access_token\":\"x\",\"expires_in\":-5}",
      "{\"access_token\":\"\",\"expires_in\":3599}",
      "{\"access_token\":\"a b\",\"expires_in\":3599}",
      "{\"access_token\":\"a\\r\\nX-Evil: 1\",\"expires_in\":3599}",
      "{\"access_token\":5,\"expires_in\":3599}",
      "{\"access_token\":\"x\",\"expires_in\":3599,\"token_type\":\"mac\"}",
      "{\"access_token\":\"x\",\"expires_in\":\"12a\"}",
      "{\"access_token\":\"x\",\"expires_in\":1.5}",
  };
  for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++) {
    ASSERT_OK(sg_classify_entra(200, NULL, 0, bad[i], strlen(bad[i]), NOW, &o, &tok));
    if (o.kind != SG_OUTCOME_RETRY)
      fprintf(stderr, "accepted: %s\n", bad[i]);
    ASSERT_EQ(SG_OUTCOME_RETRY, o.kind);
    ASSERT_STR_EQ("InvalidTokenResponse", o.code);
    ASSERT_NULL(tok.access_token);
  }
}

static void t_entra_parse(void) {
  sg_entra_token t;
  static const char s[] = "{\"expires_in\":\"4500\",\"access_token\":\"abc\"}";
  ASSERT_OK(sg_entra_parse_token(s, sizeof s - 1, &t));
  ASSERT_EQ(4500, t.expires_in_s);
  ASSERT_STR_EQ("abc", t.access_token);
  sg_entra_token_free(&t);
  /* Huge lifetimes are clamped. */
  static const char l[] =
      "{\"token_type\":\"bearer\",\"expires_in\":99999999,\"access_token\":\"a\"}";
  ASSERT_OK(sg_entra_parse_token(l, sizeof l - 1, &t));
  ASSERT_EQ(SG_ENTRA_MAX_EXPIRES_S, t.expires_in_s);
  sg_entra_token_free(&t);
  /* Caps. */
  sg_buf b = SG_BUF_INIT;
  sg_buf_append_str(&b, "{\"expires_in\":1,\"access_token\":\"");
  for (size_t i = 0; i < SG_ENTRA_MAX_TOKEN_BYTES + 1; i++)
    sg_buf_append_char(&b, 'a');
  sg_buf_append_str(&b, "\"}");
  ASSERT_EQ(SG_ERR_TOOBIG, sg_entra_parse_token(b.data, b.len, &t));
  ASSERT_EQ(SG_ERR_TOOBIG, sg_entra_parse_token(b.data, SG_ENTRA_MAX_RESPONSE_BYTES + 1, &t));
  ASSERT_EQ(SG_ERR_INVAL, sg_entra_parse_token(NULL, 3, &t));
  ASSERT_EQ(SG_ERR_PARSE, sg_entra_parse_token(NULL, 0, &t));
  sg_entra_token_free(NULL);
  sg_buf_free(&b);
}

static void t_entra_request(void) {
  sg_buf b = SG_BUF_INIT;
  ASSERT_OK(sg_entra_token_path(&b, "contoso.onmicrosoft.com"));
  ASSERT_STR_EQ("/contoso.onmicrosoft.com/oauth2/v2.0/token", b.data);
  sg_buf_reset(&b);
  ASSERT_OK(sg_entra_token_path(&b, "a/b c"));
  ASSERT_STR_EQ("/a%2Fb%20c/oauth2/v2.0/token", b.data);
  ASSERT_EQ(SG_ERR_INVAL, sg_entra_token_path(&b, "common"));
  ASSERT_EQ(SG_ERR_INVAL, sg_entra_token_path(&b, "Consumers"));
  ASSERT_EQ(SG_ERR_INVAL, sg_entra_token_path(&b, "organizations"));
  ASSERT_EQ(SG_ERR_INVAL, sg_entra_token_path(&b, ""));
  ASSERT_EQ(SG_ERR_INVAL, sg_entra_token_path(&b, ".."));
  sg_buf_reset(&b);
  ASSERT_OK(sg_entra_token_body(&b, "11111111-2222-3333-4444-555555555555",
                                "s3cr~et+/=&?% \xc3\xa9", "https://graph.microsoft.com/.default"));
  ASSERT_STR_EQ("grant_type=client_credentials&client_id=11111111-2222-3333-4444-555555555555"
                "&client_secret=s3cr~et%2B%2F%3D%26%3F%25%20%C3%A9"
                "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
                b.data);
  ASSERT_EQ(SG_ERR_INVAL, sg_entra_token_body(&b, "", "s", "x"));
  ASSERT_EQ(SG_ERR_INVAL, sg_entra_token_body(&b, "c", NULL, "x"));
  ASSERT_EQ(SG_ERR_INVAL, sg_entra_token_body(&b, "c", "s", ""));
  sg_buf_free(&b);
}

static void t_kind_names(void) {
  ASSERT_STR_EQ("SENT", sg_outcome_kind_name(SG_OUTCOME_SENT));
  ASSERT_STR_EQ("FAILED", sg_outcome_kind_name(SG_OUTCOME_FAILED));
  ASSERT_STR_EQ("RETRY", sg_outcome_kind_name(SG_OUTCOME_RETRY));
  ASSERT_STR_EQ("AUTH_REFRESH", sg_outcome_kind_name(SG_OUTCOME_AUTH_REFRESH));
}

SG_TESTS({"graph_table", t_graph_table}, {"graph_details", t_graph_details},
         {"hostile_bodies", t_hostile_bodies}, {"transport", t_transport},
         {"entra_table", t_entra_table}, {"entra_success", t_entra_success},
         {"entra_parse", t_entra_parse}, {"entra_request", t_entra_request},
         {"kind_names", t_kind_names})
