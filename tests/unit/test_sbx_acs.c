/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the sandbox's ACS emails:send validator (sandbox/sg_sbx_acs.h). */
#include "harness.h"

#include "core/sg_err.h"
#include "json/sg_json.h"
#include "sandbox/sg_sbx_acs.h"

#define V1 "2023-03-31"
#define V2 "2025-09-01"

static const char *code_of(const char *body, const char *ver, int *status, sg_sbx_verdict *v) {
  sg_sbx_msg m;
  int rv = sg_sbx_acs_validate(body, strlen(body), ver, NULL, &m, v);
  ASSERT_EQ(rv == 0, v->status == 0);
  if (rv != 0) {
    ASSERT_EQ(SG_ERR_INVAL, rv);
    ASSERT_NULL(m.api);
  }
  sg_sbx_msg_free(&m);
  *status = v->status;
  return v->code;
}

#define REJECT(body, ver, st, code)                                                                \
  do {                                                                                             \
    int s_;                                                                                        \
    sg_sbx_verdict v_;                                                                             \
    const char *c_ = code_of(body, ver, &s_, &v_);                                                 \
    if (s_ != (st) || strcmp(c_, code) != 0)                                                       \
      SG_FAIL_("body %s: got %d %s (%s), want %d %s", body, s_, c_, v_.message, st, code);         \
  } while (0)

#define ACCEPT(body, ver)                                                                          \
  do {                                                                                             \
    int s_;                                                                                        \
    sg_sbx_verdict v_;                                                                             \
    code_of(body, ver, &s_, &v_);                                                                  \
    if (s_ != 0)                                                                                   \
      SG_FAIL_("body %s: got %d %s (%s), want accepted", body, s_, v_.code, v_.message);           \
  } while (0)

#define SENDER "\"senderAddress\":\"DoNotReply@0f2c1d.azurecomm.net\""
#define CONTENT "\"content\":{\"subject\":\"s\",\"plainText\":\"t\"}"
#define TO "\"recipients\":{\"to\":[{\"address\":\"a@fabrikam.com\"}]}"
#define BODY(extra) "{" SENDER "," CONTENT "," TO extra "}"

/* What @azure/communication-email (JS) serializes for a full EmailMessage. */
static const char js_body[] =
    "{\"headers\":{\"x-custom\":\"1\",\"Importance\":\"high\"},"
    "\"senderAddress\":\"DoNotReply@0f2c1d.azurecomm.net\","
    "\"content\":{\"subject\":\"Welcome\",\"plainText\":\"Hello\",\"html\":\"<p>Hello</p>\"},"
    "\"recipients\":{\"to\":[{\"address\":\"customer@Fabrikam.com\",\"displayName\":\"Customer\"}],"
    "\"cc\":[],\"bcc\":[{\"address\":\"audit@contoso.com\"}]},"
    "\"attachments\":[{\"name\":\"report.pdf\",\"contentType\":\"application/pdf\","
    "\"contentInBase64\":\"JVBERi0xLjQK\"}],"
    "\"replyTo\":[{\"address\":\"support@contoso.com\",\"displayName\":\"Support\"}],"
    "\"userEngagementTrackingDisabled\":true}";

static void t_js_sdk(void) {
  sg_sbx_msg m;
  sg_sbx_verdict v;
  ASSERT_OK(sg_sbx_acs_validate(js_body, sizeof js_body - 1, V1, NULL, &m, &v));
  ASSERT_EQ(0, v.status);
  ASSERT_STR_EQ("acs", m.api);
  ASSERT_STR_EQ("DoNotReply@0f2c1d.azurecomm.net", m.mailbox);
  ASSERT_EQ(1, m.to.n);
  ASSERT_STR_EQ("Customer", m.to.v[0].name);
  ASSERT_EQ(0, m.cc.n);
  ASSERT_EQ(1, m.bcc.n);
  ASSERT_EQ(2, m.recipient_count);
  ASSERT_EQ(1, m.reply_to.n);
  ASSERT_STR_EQ("Welcome", m.subject);
  ASSERT_EQ(SG_SBX_BODY_BOTH, m.body_kind);
  ASSERT_EQ(5 + 12, m.body_len);
  ASSERT_EQ(1, m.n_atts);
  ASSERT_EQ(9, m.atts[0].size); /* "%PDF-1.4\n" */
  ASSERT_NULL(m.atts[0].content_id);
  ASSERT_EQ(2, m.n_hdrs);
  ASSERT(m.tracking_disabled);
  ASSERT(sg_sbx_msg_has_domain(&m, "fabrikam.com"));
  ASSERT(sg_sbx_msg_has_domain(&m, "CONTOSO.COM"));    /* bcc counts */
  ASSERT(!sg_sbx_msg_has_domain(&m, "azurecomm.net")); /* the sender does not */
  ASSERT_EQ(64, strlen(m.key));
  sg_buf out = SG_BUF_INIT;
  sg_sbx_msg_to_json(&m, &out);
  sg_json_doc *d;
  ASSERT_OK(sg_json_parse(&d, out.data, out.len, 0, NULL, 0));
  ASSERT_STR_EQ("acs", sg_json_str(sg_json_get(sg_json_root(d), "api")));
  ASSERT_STR_EQ("text+html", sg_json_str(sg_json_get(sg_json_root(d), "body_kind")));
  ASSERT(sg_json_true(sg_json_get(sg_json_root(d), "tracking_disabled")));
  sg_json_doc_free(d);
  sg_buf_free(&out);
  sg_sbx_msg_free(&m);
  /* Minimal, html only, nulls for optional members. */
  ACCEPT("{" SENDER ",\"content\":{\"subject\":\"s\",\"html\":\"<b>x</b>\",\"plainText\":null},"
         "\"recipients\":{\"to\":[{\"address\":\"a@b.example\",\"displayName\":null}],"
         "\"cc\":null},\"attachments\":null,\"headers\":null}",
         V2);
}

static void t_structure(void) {
  REJECT("", V1, 400, "BadRequest");
  REJECT("{", V1, 400, "BadRequest");
  REJECT("[]", V1, 400, "BadRequest");
  REJECT(BODY(",\"foo\":1"), V1, 400, "BadRequest");
  REJECT(BODY(",\"senderAddress\":\"x@y.com\""), V1, 400, "BadRequest");
  REJECT("{" CONTENT "," TO "}", V1, 400, "BadRequest");
  REJECT("{" SENDER "," TO "}", V1, 400, "BadRequest");
  REJECT("{" SENDER "," CONTENT "}", V1, 400, "BadRequest");
  REJECT("{\"senderAddress\":\"\"," CONTENT "," TO "}", V1, 400, "BadRequest");
  REJECT("{\"senderAddress\":5," CONTENT "," TO "}", V1, 400, "BadRequest");
  REJECT("{" SENDER ",\"content\":{\"plainText\":\"t\"}," TO "}", V1, 400, "BadRequest");
  REJECT("{" SENDER ",\"content\":{\"subject\":\"\",\"plainText\":\"t\"}," TO "}", V1, 400,
         "BadRequest");
  REJECT("{" SENDER ",\"content\":{\"subject\":\"s\"}," TO "}", V1, 400, "BadRequest");
  REJECT("{" SENDER ",\"content\":{\"subject\":\"s\",\"plainText\":\"\",\"html\":null}," TO "}", V1,
         400, "BadRequest");
  REJECT("{" SENDER ",\"content\":{\"subject\":\"s\",\"plainText\":\"t\",\"x\":1}," TO "}", V1, 400,
         "BadRequest");
  REJECT("{" SENDER "," CONTENT ",\"recipients\":{\"to\":[]}}", V1, 400, "BadRequest");
  REJECT("{" SENDER "," CONTENT ",\"recipients\":{\"cc\":[{\"address\":\"a@b.com\"}]}}", V1, 400,
         "BadRequest");
  REJECT("{" SENDER "," CONTENT ",\"recipients\":{\"to\":[{\"address\":\"a@b.com\",\"x\":1}]}}", V1,
         400, "BadRequest");
  REJECT("{" SENDER "," CONTENT ",\"recipients\":{\"to\":[{\"email\":\"a@b.com\"}]}}", V1, 400,
         "BadRequest");
  REJECT("{" SENDER "," CONTENT ",\"recipients\":{\"to\":[{\"address\":\"a@b.com\"}],\"x\":[]}}",
         V1, 400, "BadRequest");
  REJECT(BODY(",\"userEngagementTrackingDisabled\":\"true\""), V1, 400, "BadRequest");
  REJECT(BODY(",\"headers\":{\"x-a\":1}"), V1, 400, "BadRequest");
  REJECT(BODY(",\"headers\":[]"), V1, 400, "BadRequest");
  REJECT(BODY(",\"headers\":{\"x a\":\"v\"}"), V1, 400, "BadRequest");
  REJECT(BODY(",\"headers\":{\"x-a\":\"v\\r\\nBcc: e@vil.com\"}"), V1, 400, "BadRequest");
  REJECT(BODY(",\"headers\":{\"x-a\":\"1\",\"X-A\":\"2\"}"), V1, 400, "BadRequest");
  REJECT(BODY(",\"replyTo\":{}"), V1, 400, "BadRequest");
  /* Structure wins over an address error found earlier. */
  REJECT("{\"senderAddress\":\"bad\"," CONTENT "," TO ",\"attachments\":[{\"zzz\":1}]}", V1, 400,
         "BadRequest");
}

static void t_api_version(void) {
  REJECT(BODY(""), NULL, 400, "MissingApiVersionParameter");
  REJECT(BODY(""), "", 400, "MissingApiVersionParameter");
  REJECT(BODY(""), "2021-10-01-preview", 400, "UnsupportedApiVersion");
  REJECT(BODY(""), "2099-01-01", 400, "UnsupportedApiVersion");
  static const char *const ok[] = {"2023-01-15-preview", "2023-03-31",         "2024-07-01-preview",
                                   "2025-01-01-preview", "2025-01-15-preview", "2025-09-01"};
  for (size_t i = 0; i < SG_ARRAY_LEN(ok); i++)
    ACCEPT(BODY(""), ok[i]);
}

static void t_addresses(void) {
  REJECT("{\"senderAddress\":\"not-an-address\"," CONTENT "," TO "}", V1, 400,
         "InvalidEmailAddress");
  REJECT("{" SENDER "," CONTENT ",\"recipients\":{\"to\":[{\"address\":\"a@b\"}]}}", V1, 400,
         "InvalidEmailAddress");
  REJECT("{" SENDER "," CONTENT ",\"recipients\":{\"to\":[{\"address\":\"a@b.com\"}],"
         "\"cc\":[{\"address\":\"a b@c.com\"}]}}",
         V1, 400, "InvalidEmailAddress");
  REJECT("{" SENDER "," CONTENT ",\"recipients\":{\"to\":[{\"address\":\"a@b.com\"}],"
         "\"bcc\":[{\"address\":\"x@localhost\"}]}}",
         V1, 400, "InvalidEmailAddress");
  REJECT(BODY(",\"replyTo\":[{\"address\":\"nope\"}]"), V1, 400, "InvalidEmailAddress");
  int st;
  sg_sbx_verdict v;
  code_of("{" SENDER "," CONTENT ",\"recipients\":{\"to\":[{\"address\":\"x@y\"}]}}", V1, &st, &v);
  ASSERT_STR_EQ("The email address 'x@y' is not valid.", v.message);
}

static void build_recipients(sg_buf *b, int total) {
  sg_buf_append_str(b, "{" SENDER "," CONTENT ",\"recipients\":{");
  const char *lists[] = {"to", "cc", "bcc"};
  for (int l = 0; l < 3; l++) {
    sg_buf_printf(b, "%s\"%s\":[", l ? "," : "", lists[l]);
    int from = l * 20, to = l == 2 ? total : (l + 1) * 20;
    for (int i = from; i < to; i++)
      sg_buf_printf(b, "%s{\"address\":\"u%d@d.example\"}", i > from ? "," : "", i);
    sg_buf_append_char(b, ']');
  }
  sg_buf_append_str(b, "}}");
}

static void t_recipient_cap(void) {
  sg_buf b = SG_BUF_INIT;
  build_recipients(&b, 50);
  ACCEPT(b.data, V1);
  sg_buf_reset(&b);
  build_recipients(&b, 51);
  REJECT(b.data, V1, 400, "BadRequest");
  sg_sbx_acs_limits l;
  sg_sbx_acs_limits_default(&l);
  l.max_recipients = 60; /* raised by support request */
  sg_sbx_msg m;
  sg_sbx_verdict v;
  ASSERT_OK(sg_sbx_acs_validate(b.data, b.len, V1, &l, &m, &v));
  ASSERT_EQ(51, m.recipient_count);
  sg_sbx_msg_free(&m);
  sg_buf_free(&b);
}

#define ATT(fields) BODY(",\"attachments\":[{" fields "}]")
#define PDF "\"name\":\"a.pdf\",\"contentType\":\"application/pdf\",\"contentInBase64\":\"QQ==\""

static void t_attachments(void) {
  ACCEPT(ATT(PDF), V1);
  ACCEPT(ATT("\"name\":\"a.csv\",\"contentType\":\"Text/CSV; charset=utf-8\","
             "\"contentInBase64\":\"YSxi\""),
         V1);
  /* Required strings must not be empty (ASP.NET [Required] semantics). */
  REJECT(ATT("\"name\":\"a\",\"contentType\":\"text/csv\",\"contentInBase64\":\"\""), V1, 400,
         "BadRequest");
  REJECT(ATT("\"name\":\"a.exe\",\"contentType\":\"application/x-msdownload\","
             "\"contentInBase64\":\"QQ==\""),
         V1, 400, "BadRequest");
  REJECT(ATT("\"name\":\"a\",\"contentType\":\"application/pdf\",\"contentInBase64\":\"QQ=\""), V1,
         400, "BadRequest");
  REJECT(ATT("\"name\":\"a\",\"contentType\":\"application/pdf\",\"contentInBase64\":\"QQ==\\n\""),
         V1, 400, "BadRequest");
  REJECT(ATT("\"contentType\":\"application/pdf\",\"contentInBase64\":\"QQ==\""), V1, 400,
         "BadRequest");
  REJECT(ATT("\"name\":\"a\",\"contentInBase64\":\"QQ==\""), V1, 400, "BadRequest");
  REJECT(ATT("\"name\":\"a\",\"contentType\":\"application/pdf\""), V1, 400, "BadRequest");
  REJECT(ATT(PDF ",\"isInline\":true"), V2, 400, "BadRequest");
  REJECT(BODY(",\"attachments\":{}"), V1, 400, "BadRequest");
  /* contentId exists only from the 2024-07-01 versions on. */
  REJECT(ATT(PDF ",\"contentId\":\"logo\""), V1, 400, "BadRequest");
  REJECT(ATT(PDF ",\"contentId\":\"logo\""), "2023-01-15-preview", 400, "BadRequest");
  ACCEPT(ATT(PDF ",\"contentId\":\"logo\""), "2024-07-01-preview");
  sg_sbx_msg m;
  sg_sbx_verdict v;
  const char *inl = ATT(PDF ",\"contentId\":\"logo\"");
  ASSERT_OK(sg_sbx_acs_validate(inl, strlen(inl), V2, NULL, &m, &v));
  ASSERT_STR_EQ("logo", m.atts[0].content_id);
  ASSERT(m.atts[0].is_inline);
  ASSERT_EQ(1, m.atts[0].size);
  sg_sbx_msg_free(&m);
  /* Duplicate contentIds: refused unless the reserved header allows them. */
  const char *dup =
      BODY(",\"attachments\":[{" PDF ",\"contentId\":\"c\"},{" PDF ",\"contentId\":\"c\"}]");
  REJECT(dup, V2, 400, "BadRequest");
  ACCEPT(BODY(",\"headers\":{\"x-ms-acsemail-ignore-duplicate-content-id\":\"true\"},"
              "\"attachments\":[{" PDF ",\"contentId\":\"c\"},{" PDF ",\"contentId\":\"c\"}]"),
         V2);
}

static void t_suppress(void) {
  const char *bad = BODY(",\"attachments\":[{\"name\":\"x.exe\",\"contentType\":"
                         "\"application/x-msdownload\",\"contentInBase64\":\"QQ==\"},{" PDF "}]");
  sg_sbx_acs_limits l;
  sg_sbx_acs_limits_default(&l);
  l.suppress_invalid_attachment = true;
  sg_sbx_msg m;
  sg_sbx_verdict v;
  ASSERT_OK(sg_sbx_acs_validate(bad, strlen(bad), V1, &l, &m, &v));
  ASSERT_EQ(1, m.n_atts); /* the .exe was dropped */
  ASSERT_STR_EQ("a.pdf", m.atts[0].name);
  sg_sbx_msg_free(&m);
  /* The same through the reserved custom header in the body. */
  const char *hdr = BODY(",\"headers\":{\"x-ms-acsemail-suppress-invalid-attachment\":\"TRUE\"},"
                         "\"attachments\":[{\"name\":\"x\",\"contentType\":\"application/pdf\","
                         "\"contentInBase64\":\"!!\"}]");
  ASSERT_OK(sg_sbx_acs_validate(hdr, strlen(hdr), V1, NULL, &m, &v));
  ASSERT_EQ(0, m.n_atts);
  sg_sbx_msg_free(&m);
}

static void t_type_table(void) {
  static const char *const ok[] = {
      "application/pdf",
      "APPLICATION/PDF",
      "image/png; name=x.png",
      "image/jpeg",
      "image/gif",
      "image/bmp",
      "application/zip",
      "text/csv",
      "text/plain",
      "text/calendar",
      "application/json",
      "application/xml",
      "text/html",
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
      "application/vnd.openxmlformats-officedocument.presentationml.presentation"};
  for (size_t i = 0; i < SG_ARRAY_LEN(ok); i++)
    if (!sg_sbx_acs_type_allowed(ok[i]))
      SG_FAIL_("should be allowed: %s", ok[i]);
  static const char *const no[] = {NULL,
                                   "",
                                   "application/x-msdownload",
                                   "application/pdfx",
                                   "application/octet-stream",
                                   "image",
                                   "text/javascript"};
  for (size_t i = 0; i < SG_ARRAY_LEN(no); i++)
    if (sg_sbx_acs_type_allowed(no[i]))
      SG_FAIL_("should be refused: %s", no[i]);
}

static void t_size_cap(void) {
  size_t cap = SG_SBX_ACS_MAX_BODY;
  const char *b = BODY("");
  size_t n = strlen(b);
  char *big = sg_xmalloc(cap + 2);
  memcpy(big, b, n);
  memset(big + n, ' ', cap + 1 - n);
  big[cap + 1] = '\0';
  sg_sbx_msg m;
  sg_sbx_verdict v;
  ASSERT_EQ(SG_ERR_INVAL, sg_sbx_acs_validate(big, cap + 1, NULL, NULL, &m, &v));
  ASSERT_EQ(413, v.status); /* checked before anything else, even api-version */
  ASSERT_STR_EQ("RequestBodyTooLarge", v.code);
  ASSERT_OK(sg_sbx_acs_validate(big, cap, V1, NULL, &m, &v));
  sg_sbx_msg_free(&m);
  sg_free(big);
}

static void t_key_and_error_json(void) {
  const char *a = BODY(""), *b = BODY(",\"replyTo\":[]");
  sg_sbx_msg m1, m2, m3;
  sg_sbx_verdict v;
  ASSERT_OK(sg_sbx_acs_validate(a, strlen(a), V1, NULL, &m1, &v));
  ASSERT_OK(sg_sbx_acs_validate(a, strlen(a), V2, NULL, &m2, &v));
  ASSERT_OK(sg_sbx_acs_validate(b, strlen(b), V1, NULL, &m3, &v));
  ASSERT_STR_EQ(m1.key, m2.key);
  ASSERT(strcmp(m1.key, m3.key) != 0);
  sg_sbx_msg_free(&m1);
  sg_sbx_msg_free(&m2);
  sg_sbx_msg_free(&m3);
  int st;
  code_of("{\"senderAddress\":\"x\"," CONTENT "," TO "}", V1, &st, &v);
  sg_buf out = SG_BUF_INIT;
  sg_sbx_acs_verdict_json(&out, &v);
  ASSERT_STR_EQ("{\"error\":{\"code\":\"InvalidEmailAddress\",\"message\":"
                "\"The email address 'x' is not valid.\"}}",
                out.data);
  sg_buf_reset(&out);
  sg_sbx_acs_error_json(&out, "Denied", "Denied by the resource provider.");
  ASSERT_STR_EQ(
      "{\"error\":{\"code\":\"Denied\",\"message\":\"Denied by the resource provider.\"}}",
      out.data);
  sg_buf_free(&out);
}

/* Bodies near the cap with very many members stay fast (no quadratic work). */
static void t_many_members(void) {
  sg_buf b = SG_BUF_INIT;
  sg_buf_append_str(&b, "{" SENDER "," CONTENT "," TO ",\"headers\":{");
  for (int i = 0; i < 200000; i++)
    sg_buf_printf(&b, "\"x-h%d\":\"v\",", i);
  sg_buf_append_str(&b, "\"X-H7\":\"dup\"}}");
  REJECT(b.data, V1, 400, "BadRequest");
  sg_buf_reset(&b);
  sg_buf_append_str(&b, "{" SENDER "," CONTENT ",\"recipients\":{\"to\":[");
  for (int i = 0; i < 200000; i++)
    sg_buf_printf(&b, "%s{\"address\":\"u%d@d.example\"}", i ? "," : "", i);
  sg_buf_append_str(&b, "]}}");
  REJECT(b.data, V1, 400, "BadRequest");
  sg_buf_free(&b);
}

SG_TESTS({"js_sdk", t_js_sdk}, {"structure", t_structure}, {"api_version", t_api_version},
         {"addresses", t_addresses}, {"recipient_cap", t_recipient_cap},
         {"attachments", t_attachments}, {"suppress", t_suppress}, {"type_table", t_type_table},
         {"size_cap", t_size_cap}, {"key_and_error_json", t_key_and_error_json},
         {"many_members", t_many_members})
