/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the sandbox's Entra stand-in: form parsing (sg_sbx_form) and
 * the token endpoint and store (sg_sbx_tokens), with a fake clock.
 */
#include "harness.h"

#include "core/sg_base64.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "sandbox/sg_sbx_form.h"
#include "sandbox/sg_sbx_tokens.h"

#define TENANT "11111111-2222-3333-4444-555555555555"
#define CLIENT "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define SECRET "s3cr3t~value+/="
#define SECRET_ENC "s3cr3t~value%2B%2F%3D"
#define GRAPH_SCOPE "https%3A%2F%2Fgraph.microsoft.com%2F.default"
#define ACS_SCOPE "https://communication.azure.com//.default"
#define NOW 1704067200000LL /* 2024-01-01 00:00:00 UTC */
#define TOKEN_URL "https://login.test/" TENANT "/oauth2/v2.0/token"

/* ---- form ------------------------------------------------------------------------------ */

static void t_form(void) {
  sg_sbx_form f = SG_SBX_FORM_INIT;
  const char s[] = "a=1&b=x+y%21%2b&&c&d=&a=2&%41%62=%c3%a9&e==";
  ASSERT_OK(sg_sbx_form_parse(&f, s, sizeof(s) - 1));
  ASSERT_EQ(7, f.n);
  ASSERT_STR_EQ("1", sg_sbx_form_get(&f, "a"));
  ASSERT_EQ(2, sg_sbx_form_count(&f, "a"));
  ASSERT_STR_EQ("2", f.pairs[4].value);
  ASSERT_STR_EQ("x y!+", sg_sbx_form_get(&f, "b"));
  ASSERT_STR_EQ("", sg_sbx_form_get(&f, "c"));
  ASSERT_STR_EQ("", sg_sbx_form_get(&f, "d"));
  ASSERT_STR_EQ("\xc3\xa9", sg_sbx_form_get(&f, "Ab"));
  ASSERT_STR_EQ("=", sg_sbx_form_get(&f, "e"));
  ASSERT_NULL(sg_sbx_form_get(&f, "zz"));
  ASSERT_EQ(0, sg_sbx_form_count(&f, "zz"));
  sg_sbx_form_free(&f);
  ASSERT_EQ(0, f.n);

  ASSERT_OK(sg_sbx_form_parse(&f, "", 0));
  ASSERT_EQ(0, f.n);

  static const char *bad[] = {"a=%", "a=%4", "a=%zz", "a=%4g", "%=1", "a=%00", "a=b%2"};
  for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++) {
    if (sg_sbx_form_parse(&f, bad[i], strlen(bad[i])) != SG_ERR_PARSE)
      SG_FAIL_("accepted: %s", bad[i]);
    ASSERT_EQ(0, f.n);
  }
  ASSERT_EQ(SG_ERR_PARSE, sg_sbx_form_parse(&f, "a=b\0c", 5));

  /* Bounds: pairs and bytes. */
  sg_buf b = SG_BUF_INIT;
  for (int i = 0; i < SG_SBX_FORM_MAX_PAIRS; i++)
    sg_buf_printf(&b, "k%d=v&", i);
  ASSERT_OK(sg_sbx_form_parse(&f, b.data, b.len));
  ASSERT_EQ(SG_SBX_FORM_MAX_PAIRS, f.n);
  sg_sbx_form_free(&f);
  sg_buf_append_str(&b, "one=more");
  ASSERT_EQ(SG_ERR_TOOBIG, sg_sbx_form_parse(&f, b.data, b.len));
  ASSERT_EQ(0, f.n);
  sg_buf_reset(&b);
  sg_buf_append_str(&b, "a=");
  while (b.len <= SG_SBX_FORM_MAX_BYTES)
    sg_buf_append_char(&b, 'x');
  ASSERT_EQ(SG_ERR_TOOBIG, sg_sbx_form_parse(&f, b.data, b.len));
  ASSERT_OK(sg_sbx_form_parse(&f, b.data, SG_SBX_FORM_MAX_BYTES));
  ASSERT_EQ(SG_SBX_FORM_MAX_BYTES - 2, strlen(sg_sbx_form_get(&f, "a")));
  sg_sbx_form_free(&f);
  sg_buf_free(&b);
}

/* ---- tokens ---------------------------------------------------------------------------- */

static sg_sbx_tokens *store(uint32_t lifetime_s, size_t max) {
  sg_sbx_tokens_config cfg = {NULL, lifetime_s, max, 0};
  sg_sbx_tokens *t = sg_sbx_tokens_new(&cfg);
  ASSERT_OK(sg_sbx_tokens_add_app(t, TENANT, CLIENT, SECRET));
  ASSERT_OK(sg_sbx_tokens_add_app(t, "contoso.onmicrosoft.com", "cert-app", NULL));
  ASSERT_EQ(SG_ERR_EXISTS, sg_sbx_tokens_add_app(t, TENANT, CLIENT, "x"));
  ASSERT_EQ(SG_ERR_INVAL, sg_sbx_tokens_add_app(t, "", CLIENT, "x"));
  return t;
}

/* Issues against |body|; the response is left in |out| (caller frees). */
static void issue(sg_sbx_tokens *t, const char *tenant, const char *body, const char *auth,
                  int64_t now, sg_sbx_token_resp *out) {
  sg_sbx_form f = SG_SBX_FORM_INIT;
  ASSERT_OK(sg_sbx_form_parse(&f, body, strlen(body)));
  sg_sbx_token_req req = {tenant, &f, auth, "corr-1234", TOKEN_URL};
  sg_sbx_tokens_issue(t, &req, now, out);
  sg_sbx_form_free(&f);
}

static void t_issue_graph(void) {
  sg_sbx_tokens *t = store(3599, 0);
  sg_sbx_token_resp r;
  issue(t, TENANT,
        "grant_type=client_credentials&client_id=" CLIENT "&client_secret=" SECRET_ENC
        "&scope=" GRAPH_SCOPE,
        NULL, NOW, &r);
  ASSERT_EQ(200, r.status);
  ASSERT_NULL(r.error);
  ASSERT_EQ(0, r.aadsts);
  ASSERT_EQ(SG_SBX_AUD_GRAPH, r.audience);
  ASSERT_EQ(3599, r.expires_in);
  /* Entra's size and a JWT's shape: a fixed header, the claims, a signature of 342. */
  ASSERT_EQ(SG_SBX_TOKEN_DEFAULT, r.token_len);
  ASSERT_EQ(r.token_len, strlen(r.token));
  ASSERT_MEM_EQ("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.", r.token, 37);
  const char *dot = strchr(r.token + 37, '.');
  ASSERT_NOT_NULL(dot);
  ASSERT_EQ(342, strlen(dot + 1));
  for (const char *p = r.token + 37; *p; p++)
    ASSERT(p == dot ||
           strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
  sg_buf want = SG_BUF_INIT;
  sg_buf_printf(&want,
                "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,"
                "\"access_token\":\"%s\"}",
                r.token);
  ASSERT_STR_EQ(want.data, r.body.data);
  sg_buf_free(&want);

  sg_sbx_token_info info;
  ASSERT_EQ(SG_SBX_TOKEN_OK,
            sg_sbx_tokens_validate(t, r.token, r.token_len, SG_SBX_AUD_GRAPH, NOW + 1000, &info));
  ASSERT_STR_EQ(CLIENT, info.client_id);
  ASSERT_STR_EQ(TENANT, info.tenant);
  ASSERT_EQ(SG_SBX_AUD_GRAPH, info.audience);
  ASSERT_EQ(NOW + 3599000, info.expires_ms);
  ASSERT_NULL(sg_sbx_token_status_message(SG_SBX_TOKEN_OK));
  /* Wrong audience, last valid millisecond, expiry. */
  ASSERT_EQ(SG_SBX_TOKEN_WRONG_AUDIENCE,
            sg_sbx_tokens_validate(t, r.token, r.token_len, SG_SBX_AUD_ACS, NOW, NULL));
  ASSERT_STR_EQ("Access token validation failure. Invalid audience.",
                sg_sbx_token_status_message(SG_SBX_TOKEN_WRONG_AUDIENCE));
  ASSERT_EQ(SG_SBX_TOKEN_OK,
            sg_sbx_tokens_validate(t, r.token, r.token_len, SG_SBX_AUD_GRAPH, NOW + 3598999, NULL));
  ASSERT_EQ(SG_SBX_TOKEN_EXPIRED,
            sg_sbx_tokens_validate(t, r.token, r.token_len, SG_SBX_AUD_GRAPH, NOW + 3599000, NULL));
  ASSERT_STR_EQ("Access token has expired or is not yet valid.",
                sg_sbx_token_status_message(SG_SBX_TOKEN_EXPIRED));
  /* Unknown: altered, truncated, empty. */
  char *other = sg_xstrdup(r.token);
  other[r.token_len - 1] = other[r.token_len - 1] == 'A' ? 'B' : 'A'; /* in the signature */
  ASSERT_EQ(SG_SBX_TOKEN_UNKNOWN,
            sg_sbx_tokens_validate(t, other, r.token_len, SG_SBX_AUD_GRAPH, NOW, NULL));
  sg_free(other);
  ASSERT_EQ(SG_SBX_TOKEN_UNKNOWN,
            sg_sbx_tokens_validate(t, r.token, r.token_len - 1, SG_SBX_AUD_GRAPH, NOW, NULL));
  ASSERT_EQ(SG_SBX_TOKEN_UNKNOWN, sg_sbx_tokens_validate(t, "", 0, SG_SBX_AUD_GRAPH, NOW, NULL));
  ASSERT_STR_EQ("Access token validation failure.",
                sg_sbx_token_status_message(SG_SBX_TOKEN_UNKNOWN));

  /* A second token differs from the first; the tenant matches case-insensitively. */
  sg_sbx_token_resp r2;
  issue(t, "11111111-2222-3333-4444-555555555555",
        "scope=" GRAPH_SCOPE "&client_secret=" SECRET_ENC "&client_id=" CLIENT
        "&grant_type=client_credentials",
        NULL, NOW, &r2);
  ASSERT_EQ(200, r2.status);
  ASSERT(strcmp(r.token, r2.token) != 0);
  ASSERT_EQ(2, sg_sbx_tokens_count(t));
  sg_sbx_token_resp_free(&r2);
  sg_sbx_token_resp_free(&r);
  sg_sbx_tokens_free(t);
}

/* Exchange Online's resource: the SMTP stand-in's XOAUTH2 tokens. */
static void t_issue_outlook(void) {
  sg_sbx_tokens *t = store(60, 0);
  char body[512];
  snprintf(body, sizeof body,
           "grant_type=client_credentials&client_id=%s&client_secret=%s&scope=%s", CLIENT,
           SECRET_ENC, "https%3A%2F%2Foutlook.office365.com%2F.default");
  sg_sbx_token_resp r;
  issue(t, TENANT, body, NULL, NOW, &r);
  ASSERT_EQ(200, r.status);
  ASSERT_EQ(SG_SBX_AUD_OUTLOOK, r.audience);
  ASSERT_EQ(SG_SBX_TOKEN_OK,
            sg_sbx_tokens_validate(t, r.token, r.token_len, SG_SBX_AUD_OUTLOOK, NOW, NULL));
  ASSERT_EQ(SG_SBX_TOKEN_WRONG_AUDIENCE,
            sg_sbx_tokens_validate(t, r.token, r.token_len, SG_SBX_AUD_GRAPH, NOW, NULL));
  ASSERT_EQ(SG_SBX_TOKEN_EXPIRED,
            sg_sbx_tokens_validate(t, r.token, r.token_len, SG_SBX_AUD_OUTLOOK, NOW + 61000, NULL));
  sg_sbx_token_resp_free(&r);
  sg_sbx_tokens_free(t);
}

static void t_issue_acs_and_basic(void) {
  sg_sbx_tokens *t = store(60, 0);
  static const char *scopes[] = {"https%3A%2F%2Fcommunication.azure.com%2F%2F.default",
                                 "https://communication.azure.com/.default"};
  for (size_t i = 0; i < 2; i++) {
    char body[512];
    snprintf(body, sizeof body,
             "grant_type=client_credentials&client_id=%s&client_secret=%s&scope=%s", CLIENT,
             SECRET_ENC, scopes[i]);
    sg_sbx_token_resp r;
    issue(t, TENANT, body, NULL, NOW, &r);
    ASSERT_EQ(200, r.status);
    ASSERT_EQ(SG_SBX_AUD_ACS, r.audience);
    ASSERT_EQ(SG_SBX_TOKEN_OK,
              sg_sbx_tokens_validate(t, r.token, r.token_len, SG_SBX_AUD_ACS, NOW, NULL));
    sg_sbx_token_resp_free(&r);
  }

  /* HTTP Basic: base64(urlencode(id) ":" urlencode(secret)); no secret in the body. */
  sg_buf b = SG_BUF_INIT;
  sg_buf_append_str(&b, "Basic ");
  const char cred[] = CLIENT ":" SECRET_ENC;
  sg_base64_encode(&b, cred, sizeof(cred) - 1);
  sg_sbx_token_resp r;
  issue(t, TENANT, "grant_type=client_credentials&scope=" ACS_SCOPE, b.data, NOW, &r);
  ASSERT_EQ(200, r.status);
  sg_sbx_token_resp_free(&r);
  /* Same with the client id also in the body. */
  issue(t, TENANT, "grant_type=client_credentials&client_id=" CLIENT "&scope=" ACS_SCOPE, b.data,
        NOW, &r);
  ASSERT_EQ(200, r.status);
  sg_sbx_token_resp_free(&r);
  /* Body names another client than Basic: unauthorized_client. */
  issue(t, TENANT, "grant_type=client_credentials&client_id=other&scope=" ACS_SCOPE, b.data, NOW,
        &r);
  ASSERT_EQ(400, r.status);
  ASSERT_EQ(700016, r.aadsts);
  sg_sbx_token_resp_free(&r);
  /* Wrong secret through Basic. */
  sg_buf_reset(&b);
  sg_buf_append_str(&b, "Basic ");
  const char wrong[] = CLIENT ":" SECRET;
  sg_base64_encode(&b, wrong, sizeof(wrong) - 1); /* not url-encoded: '+' decodes to ' ' */
  issue(t, TENANT, "grant_type=client_credentials&scope=" ACS_SCOPE, b.data, NOW, &r);
  ASSERT_EQ(401, r.status);
  ASSERT_EQ(7000215, r.aadsts);
  sg_sbx_token_resp_free(&r);
  sg_buf_free(&b);
  sg_sbx_tokens_free(t);
}

/* Checks an error answer: status, error, AADSTS and the Entra JSON shape. */
static void expect_error(sg_sbx_tokens *t, const char *tenant, const char *body, int status,
                         const char *error, int code) {
  sg_sbx_token_resp r;
  issue(t, tenant, body, NULL, NOW, &r);
  if (r.status != status || r.aadsts != code || r.error == NULL || strcmp(r.error, error) != 0)
    SG_FAIL_("%s: got %d %s %d, want %d %s %d", body, r.status, r.error ? r.error : "-", r.aadsts,
             status, error, code);
  char want[256];
  snprintf(want, sizeof want, "{\"error\":\"%s\",\"error_description\":\"AADSTS%d: ", error, code);
  ASSERT(strncmp(r.body.data, want, strlen(want)) == 0);
  ASSERT(strstr(r.body.data, "\\r\\nTrace ID: ") != NULL);
  ASSERT(strstr(r.body.data, "\\r\\nCorrelation ID: corr-1234\\r\\nTimestamp: "
                             "2024-01-01 00:00:00Z\",") != NULL);
  snprintf(want, sizeof want,
           "\"error_codes\":[%d],\"timestamp\":\"2024-01-01 00:00:00Z\","
           "\"trace_id\":\"",
           code);
  ASSERT(strstr(r.body.data, want) != NULL);
  snprintf(want, sizeof want,
           "\"correlation_id\":\"corr-1234\",\"error_uri\":\"https://"
           "login.microsoftonline.com/error?code=%d\"}",
           code);
  ASSERT(strstr(r.body.data, want) != NULL);
  ASSERT_NULL(r.token); /* no token on an error */
  ASSERT_EQ(0, r.token_len);
  sg_sbx_token_resp_free(&r);
}

static void t_errors(void) {
  sg_sbx_tokens *t = store(0, 0);
#define GOOD_ID "&client_id=" CLIENT
#define GOOD_SECRET "&client_secret=" SECRET_ENC
#define GC "grant_type=client_credentials"
  expect_error(t, "nope.example", GC GOOD_ID GOOD_SECRET "&scope=" GRAPH_SCOPE, 400,
               "invalid_request", 90002);
  expect_error(t, "common", GC GOOD_ID GOOD_SECRET "&scope=" GRAPH_SCOPE, 400, "invalid_request",
               9001023);
  expect_error(t, TENANT, "client_id=" CLIENT GOOD_SECRET "&scope=" GRAPH_SCOPE, 400,
               "invalid_request", 900144);
  expect_error(t, TENANT, "grant_type=password" GOOD_ID GOOD_SECRET "&scope=" GRAPH_SCOPE, 400,
               "unsupported_grant_type", 70003);
  expect_error(t, TENANT, GC GOOD_SECRET "&scope=" GRAPH_SCOPE, 400, "invalid_request", 900144);
  expect_error(t, TENANT, GC "&client_id=unknown" GOOD_SECRET "&scope=" GRAPH_SCOPE, 400,
               "unauthorized_client", 700016);
  /* An app of another tenant is unknown here. */
  expect_error(t, TENANT, GC "&client_id=cert-app" GOOD_SECRET "&scope=" GRAPH_SCOPE, 400,
               "unauthorized_client", 700016);
  expect_error(t, TENANT, GC GOOD_ID "&scope=" GRAPH_SCOPE, 400, "invalid_request", 7000218);
  expect_error(t, TENANT, GC GOOD_ID "&client_secret=wrong&scope=" GRAPH_SCOPE, 401,
               "invalid_client", 7000215);
  expect_error(t, TENANT, GC GOOD_ID "&client_secret=&scope=" GRAPH_SCOPE, 401, "invalid_client",
               7000215);
  /* The secret's ID-like prefix is not the secret. */
  expect_error(t, TENANT, GC GOOD_ID "&client_secret=s3cr3t&scope=" GRAPH_SCOPE, 401,
               "invalid_client", 7000215);
  expect_error(t, TENANT, GC GOOD_ID GOOD_SECRET, 400, "invalid_scope", 70011);
  expect_error(t, TENANT, GC GOOD_ID GOOD_SECRET "&scope=https://graph.microsoft.com/Mail.Send",
               400, "invalid_scope", 70011);
  expect_error(t, TENANT,
               GC GOOD_ID GOOD_SECRET "&scope=" GRAPH_SCOPE "+https://communication.azure.com/"
                                      "/.default",
               400, "invalid_scope", 70011);
  expect_error(t, TENANT, GC GOOD_ID GOOD_SECRET "&scope=https://graph.microsoft.us/.default", 400,
               "invalid_scope", 70011);
  /* A secret app refuses an assertion; a certificate app refuses a secret and junk. */
  expect_error(t, TENANT,
               GC GOOD_ID "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-"
                          "type%3Ajwt-bearer&client_assertion=aaa.bbb.ccc&scope=" GRAPH_SCOPE,
               401, "invalid_client", 700027);
  expect_error(t, "contoso.onmicrosoft.com",
               GC "&client_id=cert-app&client_secret=x&scope=" GRAPH_SCOPE, 401, "invalid_client",
               7000215);
  expect_error(t, "contoso.onmicrosoft.com",
               GC "&client_id=cert-app&client_assertion=aaa.bbb.ccc&scope=" GRAPH_SCOPE, 400,
               "invalid_request", 900144);
  expect_error(t, "contoso.onmicrosoft.com",
               GC
               "&client_id=cert-app&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3A"
               "client-assertion-type%3Ajwt-bearer&client_assertion=not-a-jwt&scope=" GRAPH_SCOPE,
               401, "invalid_client", 700027);
  /* The certificate app with a JWT-shaped assertion (signature not checked). */
  sg_sbx_token_resp r;
  issue(t, "CONTOSO.onmicrosoft.com",
        GC "&client_id=cert-app&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3A"
           "client-assertion-type%3Ajwt-bearer&client_assertion=eyJh.eyJi.c2ln&scope=" GRAPH_SCOPE,
        NULL, NOW, &r);
  ASSERT_EQ(200, r.status);
  sg_sbx_token_resp_free(&r);
  /* No form at all and no correlation id: still a well-formed error with a random id. */
  sg_sbx_token_req req = {TENANT, NULL, NULL, NULL, NULL};
  sg_sbx_tokens_issue(t, &req, NOW, &r);
  ASSERT_EQ(400, r.status);
  ASSERT_EQ(900144, r.aadsts);
  ASSERT(strstr(r.body.data, "\"correlation_id\":\"") != NULL);
  sg_sbx_token_resp_free(&r);
  /* Text from the request is escaped in the JSON. */
  issue(t, "bad\"tenant", GC, NULL, NOW, &r);
  ASSERT(strstr(r.body.data, "Tenant 'bad\\\"tenant' not found.") != NULL);
  sg_sbx_token_resp_free(&r);
  sg_sbx_tokens_free(t);
}

static void t_lifetime_random(void) {
  sg_sbx_tokens *t = store(0, 0);
  uint32_t lo = UINT32_MAX, hi = 0;
  for (int i = 0; i < 200; i++) {
    sg_sbx_token_resp r;
    issue(t, TENANT, GC GOOD_ID GOOD_SECRET "&scope=" GRAPH_SCOPE, NULL, NOW, &r);
    ASSERT_EQ(200, r.status);
    lo = r.expires_in < lo ? r.expires_in : lo;
    hi = r.expires_in > hi ? r.expires_in : hi;
    sg_sbx_token_resp_free(&r);
  }
  ASSERT_GE(lo, 3600);
  ASSERT_LE(hi, 5400);
  ASSERT_LT(lo, hi); /* 200 draws from 1801 values: equal only with probability ~1e-600 */
  sg_sbx_tokens_set_lifetime(t, 5);
  sg_sbx_token_resp r;
  issue(t, TENANT, GC GOOD_ID GOOD_SECRET "&scope=" GRAPH_SCOPE, NULL, NOW, &r);
  ASSERT_EQ(5, r.expires_in);
  sg_sbx_token_resp_free(&r);
  sg_sbx_tokens_free(t);
}

static void t_bounded(void) {
  sg_sbx_tokens *t = store(10, 3);
  char toks[5][SG_SBX_TOKEN_MAX + 1];
  for (int i = 0; i < 5; i++) {
    sg_sbx_token_resp r;
    issue(t, TENANT, GC GOOD_ID GOOD_SECRET "&scope=" GRAPH_SCOPE, NULL, NOW + i, &r);
    ASSERT_EQ(200, r.status);
    memcpy(toks[i], r.token, r.token_len + 1);
    sg_sbx_token_resp_free(&r);
    ASSERT_LE(sg_sbx_tokens_count(t), 3);
  }
  /* Full of live tokens: the oldest were dropped. */
  ASSERT_EQ(SG_SBX_TOKEN_UNKNOWN,
            sg_sbx_tokens_validate(t, toks[0], strlen(toks[0]), SG_SBX_AUD_GRAPH, NOW + 5, NULL));
  ASSERT_EQ(SG_SBX_TOKEN_UNKNOWN,
            sg_sbx_tokens_validate(t, toks[1], strlen(toks[1]), SG_SBX_AUD_GRAPH, NOW + 5, NULL));
  for (int i = 2; i < 5; i++)
    ASSERT_EQ(SG_SBX_TOKEN_OK,
              sg_sbx_tokens_validate(t, toks[i], strlen(toks[i]), SG_SBX_AUD_GRAPH, NOW + 5, NULL));
  /* Once expired they answer EXPIRED until the next issue purges them. */
  int64_t later = NOW + 20000;
  ASSERT_EQ(SG_SBX_TOKEN_EXPIRED,
            sg_sbx_tokens_validate(t, toks[4], strlen(toks[4]), SG_SBX_AUD_GRAPH, later, NULL));
  sg_sbx_token_resp r;
  issue(t, TENANT, GC GOOD_ID GOOD_SECRET "&scope=" GRAPH_SCOPE, NULL, later, &r);
  ASSERT_EQ(200, r.status);
  sg_sbx_token_resp_free(&r);
  ASSERT_EQ(1, sg_sbx_tokens_count(t));
  ASSERT_EQ(SG_SBX_TOKEN_UNKNOWN,
            sg_sbx_tokens_validate(t, toks[4], strlen(toks[4]), SG_SBX_AUD_GRAPH, later, NULL));
  sg_sbx_tokens_free(t);
}

/* The length setting: clamped; opaque below a JWT's shape, three segments from 423 on;
 * every length validates, and only the token issued. */
static void t_length(void) {
  sg_sbx_tokens *t = store(60, 0);
  static const struct {
    size_t set, want;
    int dots;
  } cases[] = {{0, SG_SBX_TOKEN_DEFAULT, 2},
               {1, 43, 0},
               {43, 43, 0},
               {422, 422, 0},
               {423, 423, 2},
               {2000, 2000, 2},
               {100000, 4096, 2}};
  for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
    sg_sbx_tokens_set_length(t, cases[i].set);
    sg_sbx_token_resp r;
    issue(t, TENANT, GC GOOD_ID GOOD_SECRET "&scope=" GRAPH_SCOPE, NULL, NOW, &r);
    ASSERT_EQ(200, r.status);
    ASSERT_EQ(cases[i].want, r.token_len);
    ASSERT_EQ(r.token_len, strlen(r.token));
    int dots = 0;
    for (const char *p = r.token; *p; p++)
      dots += *p == '.';
    ASSERT_EQ(cases[i].dots, dots);
    ASSERT_EQ(SG_SBX_TOKEN_OK,
              sg_sbx_tokens_validate(t, r.token, r.token_len, SG_SBX_AUD_GRAPH, NOW, NULL));
    /* The same with one more character, or the issued one's prefix: unknown. */
    char *longer = sg_xmalloc(r.token_len + 2);
    memcpy(longer, r.token, r.token_len);
    memcpy(longer + r.token_len, "A", 2);
    ASSERT_EQ(SG_SBX_TOKEN_UNKNOWN,
              sg_sbx_tokens_validate(t, longer, r.token_len + 1, SG_SBX_AUD_GRAPH, NOW, NULL));
    ASSERT_EQ(SG_SBX_TOKEN_UNKNOWN,
              sg_sbx_tokens_validate(t, r.token, r.token_len / 2, SG_SBX_AUD_GRAPH, NOW, NULL));
    sg_free(longer);
    sg_sbx_token_resp_free(&r);
    ASSERT_NULL(r.token);
  }
  /* Longer than any token: refused before it is hashed. */
  char big[SG_SBX_TOKEN_MAX + 2];
  memset(big, 'A', sizeof big);
  ASSERT_EQ(SG_SBX_TOKEN_UNKNOWN,
            sg_sbx_tokens_validate(t, big, sizeof big, SG_SBX_AUD_GRAPH, NOW, NULL));
  sg_sbx_tokens_free(t);
}

static void t_graph_root(void) {
  sg_sbx_tokens_config cfg = {"https://graph.microsoft.us/", 100, 0, 0};
  sg_sbx_tokens *t = sg_sbx_tokens_new(&cfg);
  ASSERT_OK(sg_sbx_tokens_add_app(t, TENANT, CLIENT, SECRET));
  sg_sbx_token_resp r;
  issue(t, TENANT, GC GOOD_ID GOOD_SECRET "&scope=https://graph.microsoft.us/.default", NULL, NOW,
        &r);
  ASSERT_EQ(200, r.status);
  ASSERT_EQ(SG_SBX_AUD_GRAPH, r.audience);
  sg_sbx_token_resp_free(&r);
  issue(t, TENANT, GC GOOD_ID GOOD_SECRET "&scope=" GRAPH_SCOPE, NULL, NOW, &r);
  ASSERT_EQ(400, r.status);
  ASSERT_EQ(70011, r.aadsts);
  sg_sbx_token_resp_free(&r);
  sg_sbx_tokens_free(t);
}

SG_TESTS({"form", t_form}, {"issue_graph", t_issue_graph},
         {"issue_acs_and_basic", t_issue_acs_and_basic}, {"issue_outlook", t_issue_outlook},
         {"errors", t_errors}, {"lifetime_random", t_lifetime_random}, {"bounded", t_bounded},
         {"graph_root", t_graph_root}, {"length", t_length})
