/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for svc/sg_acs_hmac: the known-answer vectors of
 * microsoft-apis.md §5.1 (POST and GET), a non-default port, connection
 * strings, and every verifier outcome.
 */
#include "harness.h"

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "svc/sg_acs_hmac.h"

#define KEY_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define HOST "contoso.communication.azure.com"
#define DATE "Mon, 01 Jan 2024 00:00:00 GMT"
#define DATE_MS (1704067200LL * 1000)
#define SEND_PATH "/emails:send?api-version=2023-03-31"
#define GET_PATH "/emails/operations/8540c0de-899f-5cce-acb5-3ec493af3800?api-version=2023-03-31"
#define BODY                                                                                       \
  "{\"senderAddress\":\"donotreply@contoso.com\",\"content\":{\"subject\":\"hi\","                 \
  "\"plainText\":\"x\"},\"recipients\":{\"to\":[{\"address\":\"a@b.example\"}]}}"
#define BODY_HASH "DlHkdf2q6jMUbo9kxrkNduMyKL0WcrFbosuwm39lujI="
#define EMPTY_HASH "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
#define POST_SIG "rdsoIbNLlPLfdWUiaBlNdgcGsXZ4gwPWHNv+SOZocWM="
#define GET_SIG "1k4Yjo5h4eB5mcSm4l3N+3AK4DcBOU/Zu5jczxWAC8k="
/* Same POST, host "127.0.0.1:8443" (computed with Python's hmac module). */
#define PORT_SIG "rzDBDmRGdnsHKgPNCjdTzdZ08pmZc0ZwPhk/wjA+otc="
#define AUTH_PREFIX "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="

static sg_acs_conn conn(const char *s) {
  sg_acs_conn c;
  ASSERT_OK(sg_acs_conn_parse(s, &c));
  return c;
}

static void t_conn_parse(void) {
  sg_acs_conn c = conn("endpoint=https://" HOST "/;accesskey=" KEY_B64);
  ASSERT_STR_EQ("https", c.scheme);
  ASSERT_STR_EQ(HOST, c.host);
  ASSERT_EQ(443, c.port);
  ASSERT_STR_EQ(HOST, c.authority);
  ASSERT_STR_EQ("", c.base_path);
  ASSERT_STR_EQ("https://" HOST, c.endpoint);
  ASSERT_EQ(32, c.key_len);
  for (size_t i = 0; i < 32; i++)
    ASSERT_EQ(i, c.key[i]);
  sg_acs_conn_free(&c);
  ASSERT_NULL(c.key);

  /* Any order, case-insensitive keys, no trailing slash, spaces, empty parts, unknown keys. */
  c = conn(" AccessKey=" KEY_B64 " ; ENDPOINT=HTTPS://Contoso.Example:8443 ;foo=bar;;");
  ASSERT_STR_EQ("https", c.scheme);
  ASSERT_STR_EQ("contoso.example", c.host);
  ASSERT_EQ(8443, c.port);
  ASSERT_STR_EQ("contoso.example:8443", c.authority);
  ASSERT_STR_EQ("https://contoso.example:8443", c.endpoint);
  sg_acs_conn_free(&c);

  /* Default port written out is dropped from the authority; a base path is kept. */
  c = conn("endpoint=https://127.0.0.1:443/acs/v1//;accesskey=" KEY_B64);
  ASSERT_STR_EQ("127.0.0.1", c.authority);
  ASSERT_STR_EQ("/acs/v1", c.base_path);
  ASSERT_STR_EQ("https://127.0.0.1/acs/v1", c.endpoint);
  sg_acs_conn_free(&c);

  c = conn("endpoint=http://[::1]:8080/;accesskey=" KEY_B64);
  ASSERT_STR_EQ("http", c.scheme);
  ASSERT_STR_EQ("[::1]", c.host);
  ASSERT_STR_EQ("[::1]:8080", c.authority);
  ASSERT_EQ(8080, c.port);
  sg_acs_conn_free(&c);
  c = conn("endpoint=http://h:80;accesskey=" KEY_B64);
  ASSERT_STR_EQ("h", c.authority);
  sg_acs_conn_free(&c);
}

static void t_conn_bad(void) {
  static const char *bad[] = {
      "",
      "endpoint=https://" HOST "/",                                   /* no key */
      "accesskey=" KEY_B64,                                           /* no endpoint */
      "endpoint=https://" HOST "/;accesskey=",                        /* empty key */
      "endpoint=https://" HOST "/;accesskey=not*base64",              /* bad base64 */
      "endpoint=https://" HOST "/;accesskey=AAEC",                    /* fine, see below */
      "endpoint=ftp://" HOST "/;accesskey=" KEY_B64,                  /* scheme */
      "endpoint=https:///;accesskey=" KEY_B64,                        /* empty host */
      "endpoint=https://h:0/;accesskey=" KEY_B64,                     /* port 0 */
      "endpoint=https://h:65536/;accesskey=" KEY_B64,                 /* port too big */
      "endpoint=https://h:/;accesskey=" KEY_B64,                      /* empty port */
      "endpoint=https://h:8a/;accesskey=" KEY_B64,                    /* port not a number */
      "endpoint=https://u@h/;accesskey=" KEY_B64,                     /* userinfo */
      "endpoint=https://h/?x=1;accesskey=" KEY_B64,                   /* query */
      "endpoint=https://h h/;accesskey=" KEY_B64,                     /* space in host */
      "endpoint=https://[zz]/;accesskey=" KEY_B64,                    /* bad IPv6 */
      "endpoint=https://h/;accesskey=" KEY_B64 ";endpoint=https://x", /* repeated */
      "endpoint=https://h/;garbage;accesskey=" KEY_B64,               /* part without = */
  };
  for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++) {
    sg_acs_conn c;
    int rv = sg_acs_conn_parse(bad[i], &c);
    if (i == 5) { /* "AAEC" is valid base64 (3 bytes): accepted */
      ASSERT_OK(rv);
      ASSERT_EQ(3, c.key_len);
      sg_acs_conn_free(&c);
      continue;
    }
    if (rv != SG_ERR_PARSE)
      SG_FAIL_("accepted: %s", bad[i]);
  }
  sg_acs_conn c;
  ASSERT_EQ(SG_ERR_PARSE, sg_acs_conn_parse(NULL, &c));
}

static void t_content_hash(void) {
  char h[SG_ACS_B64_SHA256_LEN + 1];
  ASSERT_OK(sg_acs_content_hash(BODY, strlen(BODY), h));
  ASSERT_EQ(133, strlen(BODY));
  ASSERT_STR_EQ(BODY_HASH, h);
  ASSERT_OK(sg_acs_content_hash(NULL, 0, h));
  ASSERT_STR_EQ(EMPTY_HASH, h);
}

static void t_string_to_sign(void) {
  sg_buf b = SG_BUF_INIT;
  sg_acs_string_to_sign(&b, "post", SEND_PATH, DATE, HOST, BODY_HASH);
  ASSERT_STR_EQ("POST\n" SEND_PATH "\n" DATE ";" HOST ";" BODY_HASH, b.data);
  sg_buf_free(&b);
}

static void t_vector_post(void) {
  sg_acs_conn c = conn("endpoint=https://" HOST "/;accesskey=" KEY_B64);
  sg_acs_signed s;
  ASSERT_OK(
      sg_acs_sign(c.key, c.key_len, "POST", SEND_PATH, c.authority, DATE, BODY, strlen(BODY), &s));
  ASSERT_STR_EQ(BODY_HASH, s.content_hash);
  ASSERT_STR_EQ(POST_SIG, s.signature);
  ASSERT_STR_EQ(AUTH_PREFIX POST_SIG, s.authorization);
  sg_acs_conn_free(&c);
}

static void t_vector_get(void) {
  sg_acs_conn c = conn("endpoint=https://" HOST "/;accesskey=" KEY_B64);
  sg_acs_signed s;
  ASSERT_OK(sg_acs_sign(c.key, c.key_len, "GET", GET_PATH, c.authority, DATE, NULL, 0, &s));
  ASSERT_STR_EQ(EMPTY_HASH, s.content_hash);
  ASSERT_STR_EQ(GET_SIG, s.signature);
  ASSERT_STR_EQ(AUTH_PREFIX GET_SIG, s.authorization);
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_sign(c.key, 0, "GET", GET_PATH, HOST, DATE, NULL, 0, &s));
  sg_acs_conn_free(&c);
}

static void t_vector_port(void) {
  sg_acs_conn c = conn("endpoint=https://127.0.0.1:8443/;accesskey=" KEY_B64);
  ASSERT_STR_EQ("127.0.0.1:8443", c.authority);
  sg_acs_signed s;
  ASSERT_OK(
      sg_acs_sign(c.key, c.key_len, "POST", SEND_PATH, c.authority, DATE, BODY, strlen(BODY), &s));
  ASSERT_STR_EQ(PORT_SIG, s.signature);
  ASSERT(strcmp(POST_SIG, s.signature) != 0);
  sg_acs_conn_free(&c);
}

static sg_acs_str S(const char *s) {
  sg_acs_str r = {s, s ? strlen(s) : 0};
  return r;
}

static sg_acs_verify_req post_req(const char *auth) {
  sg_acs_verify_req r;
  r.method = S("POST");
  r.path_and_query = S(SEND_PATH);
  r.host = S(HOST);
  r.authorization = S(auth);
  r.date = S(DATE);
  r.content_hash = S(BODY_HASH);
  r.body = BODY;
  r.body_len = strlen(BODY);
  return r;
}

static void t_verify(void) {
  sg_acs_conn c = conn("endpoint=https://" HOST "/;accesskey=" KEY_B64);
  const unsigned char *k = c.key;
  size_t kl = c.key_len;
  const int64_t skew = SG_ACS_DEFAULT_SKEW_MS;

  sg_acs_verify_req r = post_req(AUTH_PREFIX POST_SIG);
  ASSERT_EQ(SG_ACS_VERIFY_OK, sg_acs_verify(k, kl, &r, DATE_MS, skew));
  ASSERT_NULL(sg_acs_verify_message(SG_ACS_VERIFY_OK));
  /* Scheme and parameter names are case-insensitive; parameters in any order. */
  r = post_req("hmac-sha256 Signature=" POST_SIG
               "&signedheaders=X-MS-DATE;HOST;X-MS-CONTENT-SHA256");
  ASSERT_EQ(SG_ACS_VERIFY_OK, sg_acs_verify(k, kl, &r, DATE_MS, skew));

  /* Body changed under the same header: content hash mismatch, with ACS's message. */
  r = post_req(AUTH_PREFIX POST_SIG);
  r.body = "{}";
  r.body_len = 2;
  ASSERT_EQ(SG_ACS_VERIFY_CONTENT_HASH, sg_acs_verify(k, kl, &r, DATE_MS, skew));
  ASSERT_STR_EQ("Request 'x-ms-content-sha256' differs from generated content hash.",
                sg_acs_verify_message(SG_ACS_VERIFY_CONTENT_HASH));

  /* Anything signed differently: signature mismatch. */
  const char *other_sig = AUTH_PREFIX GET_SIG;
  r = post_req(other_sig);
  ASSERT_EQ(SG_ACS_VERIFY_SIGNATURE, sg_acs_verify(k, kl, &r, DATE_MS, skew));
  ASSERT_STR_EQ("Denied by the resource provider.", sg_acs_verify_message(SG_ACS_VERIFY_SIGNATURE));
  r = post_req(AUTH_PREFIX POST_SIG);
  r.host = S("127.0.0.1:8443");
  ASSERT_EQ(SG_ACS_VERIFY_SIGNATURE, sg_acs_verify(k, kl, &r, DATE_MS, skew));
  r = post_req(AUTH_PREFIX POST_SIG);
  r.path_and_query = S("/emails:send?api-version=2025-09-01");
  ASSERT_EQ(SG_ACS_VERIFY_SIGNATURE, sg_acs_verify(k, kl, &r, DATE_MS, skew));
  r = post_req(AUTH_PREFIX POST_SIG);
  r.date = S("Mon, 01 Jan 2024 00:00:01 GMT");
  ASSERT_EQ(SG_ACS_VERIFY_SIGNATURE, sg_acs_verify(k, kl, &r, DATE_MS, skew));
  r = post_req(AUTH_PREFIX "rdsoIbNLlPLfdWUiaBlNdgcGsXZ4gwPWHNv+SOZocWM"); /* one char short */
  ASSERT_EQ(SG_ACS_VERIFY_SIGNATURE, sg_acs_verify(k, kl, &r, DATE_MS, skew));
  unsigned char other_key[32] = {1};
  r = post_req(AUTH_PREFIX POST_SIG);
  ASSERT_EQ(SG_ACS_VERIFY_SIGNATURE, sg_acs_verify(other_key, 32, &r, DATE_MS, skew));

  /* Clock skew: only checked for a good signature; limit inclusive; < 0 disables. */
  r = post_req(AUTH_PREFIX POST_SIG);
  ASSERT_EQ(SG_ACS_VERIFY_OK, sg_acs_verify(k, kl, &r, DATE_MS + skew, skew));
  ASSERT_EQ(SG_ACS_VERIFY_OK, sg_acs_verify(k, kl, &r, DATE_MS - skew, skew));
  ASSERT_EQ(SG_ACS_VERIFY_DATE_SKEW, sg_acs_verify(k, kl, &r, DATE_MS + skew + 1, skew));
  ASSERT_EQ(SG_ACS_VERIFY_DATE_SKEW, sg_acs_verify(k, kl, &r, DATE_MS - skew - 1, skew));
  ASSERT_EQ(SG_ACS_VERIFY_OK, sg_acs_verify(k, kl, &r, DATE_MS + 86400000LL * 365, -1));
  ASSERT_STR_EQ("Denied by the resource provider.", sg_acs_verify_message(SG_ACS_VERIFY_DATE_SKEW));

  /* Malformed. */
  static const char *bad_auth[] = {
      NULL,
      "",
      "Bearer abc",
      "HMAC-SHA256",
      "HMAC-SHA256 Signature=" POST_SIG,
      "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256",
      "HMAC-SHA256 SignedHeaders=host;x-ms-date;x-ms-content-sha256&Signature=" POST_SIG,
      "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=",
      "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=" POST_SIG
      "&Signature=" POST_SIG,
      "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=a b",
      "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Extra=1&Signature=" POST_SIG,
      "HMAC-SHA1 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=" POST_SIG,
  };
  for (size_t i = 0; i < SG_ARRAY_LEN(bad_auth); i++) {
    r = post_req(bad_auth[i]);
    if (sg_acs_verify(k, kl, &r, DATE_MS, skew) != SG_ACS_VERIFY_MALFORMED)
      SG_FAIL_("not malformed: %s", bad_auth[i] ? bad_auth[i] : "(null)");
  }
  r = post_req(AUTH_PREFIX POST_SIG);
  r.date = S(NULL);
  ASSERT_EQ(SG_ACS_VERIFY_MALFORMED, sg_acs_verify(k, kl, &r, DATE_MS, skew));
  r = post_req(AUTH_PREFIX POST_SIG);
  r.date = S("2024-01-01T00:00:00Z");
  ASSERT_EQ(SG_ACS_VERIFY_MALFORMED, sg_acs_verify(k, kl, &r, DATE_MS, skew));
  r = post_req(AUTH_PREFIX POST_SIG);
  r.content_hash = S(NULL);
  ASSERT_EQ(SG_ACS_VERIFY_MALFORMED, sg_acs_verify(k, kl, &r, DATE_MS, skew));
  ASSERT_STR_EQ("malformed", sg_acs_verify_name(SG_ACS_VERIFY_MALFORMED));
  sg_acs_conn_free(&c);
}

static void t_verify_headers(void) {
  sg_acs_conn c = conn("endpoint=https://" HOST "/;accesskey=" KEY_B64);
  sg_http_header h[] = {
      sg_http_hdr("content-type", "application/json"),
      sg_http_hdr("x-ms-date", DATE),
      sg_http_hdr("x-ms-content-sha256", EMPTY_HASH),
      sg_http_hdr("authorization", AUTH_PREFIX GET_SIG),
  };
  ASSERT_EQ(SG_ACS_VERIFY_OK,
            sg_acs_verify_headers(c.key, c.key_len, "GET", GET_PATH, HOST, h, SG_ARRAY_LEN(h), NULL,
                                  0, DATE_MS, SG_ACS_DEFAULT_SKEW_MS));
  /* The "Date" header stands in for a missing x-ms-date. */
  h[1] = sg_http_hdr("date", DATE);
  ASSERT_EQ(SG_ACS_VERIFY_OK,
            sg_acs_verify_headers(c.key, c.key_len, "GET", GET_PATH, HOST, h, SG_ARRAY_LEN(h), NULL,
                                  0, DATE_MS, SG_ACS_DEFAULT_SKEW_MS));
  ASSERT_EQ(SG_ACS_VERIFY_MALFORMED,
            sg_acs_verify_headers(c.key, c.key_len, "GET", GET_PATH, HOST, h, 1, NULL, 0, DATE_MS,
                                  SG_ACS_DEFAULT_SKEW_MS));

  /* Sign then verify round trip with the gateway's output. */
  sg_acs_signed s;
  ASSERT_OK(sg_acs_sign(c.key, c.key_len, "POST", SEND_PATH, HOST, DATE, BODY, strlen(BODY), &s));
  sg_http_header p[] = {
      sg_http_hdr("x-ms-date", DATE),
      sg_http_hdr("x-ms-content-sha256", s.content_hash),
      sg_http_hdr("authorization", s.authorization),
  };
  ASSERT_EQ(SG_ACS_VERIFY_OK,
            sg_acs_verify_headers(c.key, c.key_len, "POST", SEND_PATH, HOST, p, 3, BODY,
                                  strlen(BODY), DATE_MS + 1000, SG_ACS_DEFAULT_SKEW_MS));
  sg_acs_conn_free(&c);
}

static void t_parse_date(void) {
  int64_t t;
  ASSERT_OK(sg_acs_parse_date(DATE, strlen(DATE), &t));
  ASSERT_EQ(1704067200, t);
  const char *d = "Sun, 06 Nov 1994 08:49:37 GMT";
  ASSERT_OK(sg_acs_parse_date(d, strlen(d), &t));
  ASSERT_EQ(784111777, t);
  d = "Thu, 29 Feb 2024 23:59:59 GMT";
  ASSERT_OK(sg_acs_parse_date(d, strlen(d), &t));
  ASSERT_EQ(1709251199, t);
  static const char *bad[] = {
      "Mon, 01 Jan 2024 00:00:00 UTC",  "Mon, 1 Jan 2024 00:00:00 GMT",
      "Xyz, 01 Jan 2024 00:00:00 GMT",  "Mon, 01 Foo 2024 00:00:00 GMT",
      "Mon, 32 Jan 2024 00:00:00 GMT",  "Mon, 29 Feb 2023 00:00:00 GMT",
      "Mon, 01 Jan 2024 24:00:00 GMT",  "Mon, 01 Jan 2024 00:60:00 GMT",
      "Mon, 01 Jan 2024 00:00:00 GMT ", "Monday, 01-Jan-24 00:00:00 GMT",
      "Mon, 00 Jan 2024 00:00:00 GMT",  "Mon, 01 Jan 2O24 00:00:00 GMT",
  };
  for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++)
    if (sg_acs_parse_date(bad[i], strlen(bad[i]), &t) != SG_ERR_PARSE)
      SG_FAIL_("accepted date: %s", bad[i]);
}

SG_TESTS({"conn_parse", t_conn_parse}, {"conn_bad", t_conn_bad}, {"content_hash", t_content_hash},
         {"string_to_sign", t_string_to_sign}, {"vector_post", t_vector_post},
         {"vector_get", t_vector_get}, {"vector_port", t_vector_port}, {"verify", t_verify},
         {"verify_headers", t_verify_headers}, {"parse_date", t_parse_date})
