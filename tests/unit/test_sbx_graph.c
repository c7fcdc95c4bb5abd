/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the sandbox's Graph sendMail validator (sandbox/sg_sbx_graph.h),
 * the shared message record (sandbox/sg_sbx_msg.h) and the MIME header scanner.
 */
#include "harness.h"

#include <openssl/evp.h>

#include "core/sg_base64.h"
#include "core/sg_err.h"
#include "json/sg_json.h"
#include "sandbox/sg_sbx_graph.h"
#include "sandbox/sg_sbx_mime.h"

#define JSON "application/json"
#define MB "sender@contoso.com"

static const char *code_of(const char *ct, const char *body, int *status, sg_sbx_verdict *v) {
  sg_sbx_msg m;
  int rv = sg_sbx_graph_validate(ct, body, strlen(body), MB, NULL, &m, v);
  ASSERT_EQ(rv == 0, v->status == 0);
  if (rv != 0) {
    ASSERT_EQ(SG_ERR_INVAL, rv);
    ASSERT_NULL(m.api); /* left empty on rejection */
    ASSERT_EQ(0, m.to.n);
  }
  sg_sbx_msg_free(&m);
  *status = v->status;
  return v->code;
}

/* Asserts that |body| is refused with |status| and |code|. */
#define REJECT(ct, body, st, code)                                                                 \
  do {                                                                                             \
    int s_;                                                                                        \
    sg_sbx_verdict v_;                                                                             \
    const char *c_ = code_of(ct, body, &s_, &v_);                                                  \
    if (s_ != (st) || strcmp(c_, code) != 0)                                                       \
      SG_FAIL_("body %s: got %d %s (%s), want %d %s", body, s_, c_, v_.message, st, code);         \
  } while (0)

#define TO1 "\"toRecipients\":[{\"emailAddress\":{\"address\":\"a@fabrikam.com\"}}]"
#define MSG(extra) "{\"message\":{\"subject\":\"s\"," TO1 extra "}}"

/* The shape the Graph SDKs (Kiota) send: "@odata.type" on attachments. */
static const char sdk_body[] =
    "{\"message\":{\"subject\":\"Meet for lunch?\","
    "\"body\":{\"contentType\":\"html\",\"content\":\"<b>Hi</b>\"},"
    "\"toRecipients\":[{\"emailAddress\":{\"address\":\"frannis@contoso.com\",\"name\":\"Fran\"}},"
    "{\"emailAddress\":{\"address\":\"x@Fabrikam.COM\"}}],"
    "\"ccRecipients\":[{\"emailAddress\":{\"address\":\"danas@fabrikam.com\"}}],"
    "\"bccRecipients\":[],"
    "\"replyTo\":[{\"emailAddress\":{\"address\":\"reply@contoso.com\"}}],"
    "\"from\":{\"emailAddress\":{\"address\":\"sender@contoso.com\"}},"
    "\"importance\":\"High\",\"isReadReceiptRequested\":false,\"categories\":[\"c1\"],"
    "\"internetMessageHeaders\":[{\"name\":\"x-custom-header-group-name\",\"value\":\"Nevada\"},"
    "{\"name\":\"X-Custom-Header-Group-Id\",\"value\":\"NV001\"}],"
    "\"attachments\":[{\"@odata.type\":\"#microsoft.graph.fileAttachment\","
    "\"name\":\"attachment.txt\",\"contentType\":\"text/plain\","
    "\"contentBytes\":\"SGVsbG8gV29ybGQh\",\"isInline\":false}]},"
    "\"saveToSentItems\":false}";

static void t_sdk_json(void) {
  sg_sbx_msg m;
  sg_sbx_verdict v;
  ASSERT_OK(sg_sbx_graph_validate("application/json; charset=utf-8", sdk_body, sizeof sdk_body - 1,
                                  MB, NULL, &m, &v));
  ASSERT_EQ(0, v.status);
  ASSERT_STR_EQ("graph", m.api);
  ASSERT_STR_EQ(MB, m.mailbox);
  ASSERT_STR_EQ("sender@contoso.com", m.from);
  ASSERT_EQ(2, m.to.n);
  ASSERT_STR_EQ("Fran", m.to.v[0].name);
  ASSERT_STR_EQ("Fabrikam.COM", m.to.v[1].domain);
  ASSERT_EQ(1, m.cc.n);
  ASSERT_EQ(0, m.bcc.n);
  ASSERT_EQ(1, m.reply_to.n);
  ASSERT_EQ(3, m.recipient_count);
  ASSERT_STR_EQ("Meet for lunch?", m.subject);
  ASSERT_EQ(SG_SBX_BODY_HTML, m.body_kind);
  ASSERT_EQ(9, m.body_len);
  ASSERT_EQ(1, m.n_atts);
  ASSERT_STR_EQ("attachment.txt", m.atts[0].name);
  ASSERT_EQ(12, m.atts[0].size); /* "Hello World!" */
  ASSERT_EQ(2, m.n_hdrs);
  ASSERT_STR_EQ("X-Custom-Header-Group-Id", m.hdrs[1].name);
  ASSERT(!m.save_to_sent_items);
  ASSERT(!m.mime);
  ASSERT_EQ(64, strlen(m.key));
  ASSERT(sg_sbx_msg_has_domain(&m, "fabrikam.com"));
  ASSERT(!sg_sbx_msg_has_domain(&m, "example.org"));
  sg_sbx_msg_free(&m);
}

/* The doc example: "Text" content type, saveToSentItems as the string "false". */
static void t_doc_example(void) {
  static const char body[] =
      "{\"message\":{\"subject\":\"Meet\",\"body\":{\"contentType\":\"Text\",\"content\":\"x\"},"
      "\"toRecipients\":[{\"emailAddress\":{\"address\":\"a@b.example\"}}]},"
      "\"saveToSentItems\":\"false\"}";
  sg_sbx_msg m;
  sg_sbx_verdict v;
  ASSERT_OK(sg_sbx_graph_validate("Application/JSON;charset=\"UTF-8\"", body, sizeof body - 1, MB,
                                  NULL, &m, &v));
  ASSERT_EQ(SG_SBX_BODY_TEXT, m.body_kind);
  ASSERT(!m.save_to_sent_items);
  sg_sbx_msg_free(&m);
  /* Minimal: no body, no saveToSentItems. */
  ASSERT_OK(sg_sbx_graph_validate(JSON, MSG(""), strlen(MSG("")), MB, NULL, &m, &v));
  ASSERT(m.save_to_sent_items);
  ASSERT_EQ(SG_SBX_BODY_NONE, m.body_kind);
  sg_sbx_msg_free(&m);
}

static void t_structure(void) {
  REJECT(JSON, "", 400, "BadRequest");
  REJECT(JSON, "{\"message\":", 400, "BadRequest");
  REJECT(JSON, "[1]", 400, "BadRequest");
  REJECT(JSON, "{\"saveToSentItems\":true}", 400, "ErrorInvalidRequest");
  REJECT(JSON, "{\"message\":null}", 400, "ErrorInvalidRequest");
  REJECT(JSON, "{\"message\":\"x\"}", 400, "RequestBodyRead");
  REJECT(JSON, "{\"message\":{}, \"foo\":1}", 400, "RequestBodyRead");
  REJECT(JSON, "{\"message\":{},\"message\":{}}", 400, "RequestBodyRead");
  REJECT(JSON, "{\"message\":{},\"saveToSentItems\":\"no\"}", 400, "RequestBodyRead");
  REJECT(JSON, "{\"message\":{},\"saveToSentItems\":0}", 400, "RequestBodyRead");
  /* Unknown properties anywhere. */
  REJECT(JSON, MSG(",\"bogus\":1"), 400, "RequestBodyRead");
  REJECT(JSON, MSG(",\"@odata.context\":\"x\""), 400, "RequestBodyRead");
  REJECT(JSON, MSG(",\"@odata.type\":\"#microsoft.graph.event\""), 400, "RequestBodyRead");
  REJECT(JSON, MSG(",\"body\":{\"contentType\":\"text\",\"content\":\"x\",\"x\":1}"), 400,
         "RequestBodyRead");
  REJECT(JSON,
         "{\"message\":{\"toRecipients\":[{\"emailAddress\":{\"address\":\"a@b.cd\"},\"x\":1}]}}",
         400, "RequestBodyRead");
  REJECT(JSON,
         "{\"message\":{\"toRecipients\":[{\"emailAddress\":{\"address\":\"a@b.cd\",\"x\":1}}]}}",
         400, "RequestBodyRead");
  REJECT(JSON, MSG(",\"subject\":\"dup\""), 400, "RequestBodyRead");
  /* Wrong types and enums. */
  REJECT(JSON, "{\"message\":{\"subject\":1," TO1 "}}", 400, "RequestBodyRead");
  REJECT(JSON, MSG(",\"body\":{\"contentType\":\"markdown\",\"content\":\"x\"}"), 400,
         "RequestBodyRead");
  REJECT(JSON, MSG(",\"importance\":\"urgent\""), 400, "RequestBodyRead");
  REJECT(JSON, MSG(",\"isReadReceiptRequested\":\"yes\""), 400, "RequestBodyRead");
  REJECT(JSON, MSG(",\"categories\":[1]"), 400, "RequestBodyRead");
  REJECT(JSON, MSG(",\"ccRecipients\":{}"), 400, "RequestBodyRead");
  REJECT(JSON, MSG(",\"from\":[]"), 400, "RequestBodyRead");
  /* Accepted extras of the message resource. */
  int st;
  sg_sbx_verdict v;
  code_of(
      JSON,
      MSG(",\"@odata.type\":\"#microsoft.graph.message\",\"flag\":{\"flagStatus\":\"flagged\"},"
          "\"body\":{\"content\":null},\"sender\":{\"emailAddress\":{\"address\":\"s@c.com\"}}"),
      &st, &v);
  ASSERT_EQ(0, st);
  /* A structural error wins over a semantic one found earlier in the walk. */
  REJECT(JSON, "{\"message\":{\"toRecipients\":[],\"zzz\":1}}", 400, "RequestBodyRead");
  REJECT(JSON,
         "{\"message\":{\"toRecipients\":[{\"emailAddress\":{\"address\":\"bad\"}}],"
         "\"attachments\":[{\"@odata.type\":\"#microsoft.graph.fileAttachment\","
         "\"name\":\"a\",\"contentBytes\":\"QQ==\",\"zzz\":1}]}}",
         400, "RequestBodyRead");
}

static void t_content_type_and_size(void) {
  REJECT(NULL, MSG(""), 415, "UnsupportedMediaType");
  REJECT("text/html", MSG(""), 415, "UnsupportedMediaType");
  REJECT("application/jsonx", MSG(""), 415, "UnsupportedMediaType");
  REJECT("application/json; charset=iso-8859-1", MSG(""), 415, "UnsupportedMediaType");
  /* 4 MiB cap, checked before anything else (even the content type). */
  size_t cap = SG_SBX_GRAPH_MAX_BODY;
  char *big = sg_xmalloc(cap + 2);
  const char *msg = MSG("");
  size_t n = strlen(msg);
  memcpy(big, msg, n);
  memset(big + n, ' ', cap + 1 - n); /* trailing whitespace is valid JSON */
  big[cap + 1] = '\0';
  sg_sbx_msg m;
  sg_sbx_verdict v;
  ASSERT_EQ(SG_ERR_INVAL, sg_sbx_graph_validate("text/html", big, cap + 1, MB, NULL, &m, &v));
  ASSERT_EQ(413, v.status);
  ASSERT_STR_EQ("RequestEntityTooLarge", v.code);
  ASSERT_OK(sg_sbx_graph_validate(JSON, big, cap, MB, NULL, &m, &v));
  sg_sbx_msg_free(&m);
  sg_free(big);
  /* Limits are configurable. */
  sg_sbx_graph_limits l;
  sg_sbx_graph_limits_default(&l);
  l.max_body = 10;
  ASSERT_EQ(SG_ERR_INVAL, sg_sbx_graph_validate(JSON, msg, n, MB, &l, &m, &v));
  ASSERT_EQ(413, v.status);
}

static void t_recipients(void) {
  int st;
  sg_sbx_verdict v;
  REJECT(JSON, "{\"message\":{\"subject\":\"s\"}}", 400, "ErrorInvalidRecipients");
  ASSERT_STR_EQ(
      "ErrorInvalidRecipients",
      code_of(JSON, "{\"message\":{\"toRecipients\":[],\"ccRecipients\":null}}", &st, &v));
  ASSERT_NOT_NULL(strstr(v.message, "contains no recipients"));
  static const char *const bad[] = {
      "plain",           "a@b",         "a@localhost",   "a b@c.com",
      "a@b c.com",       "@c.com",      "a@@c.com",      "a@c..com",
      ".a@c.com",        "a..b@c.com",  "a@-c.com",      "a@c.123",
      "\\\"q\\\"@c.com", "a@[1.2.3.4]", "a@c.com\\r\\n", "j\\u00e9@c.com",
      "a@c.com\\u0000x"};
  for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++) {
    char body[256];
    snprintf(body, sizeof body,
             "{\"message\":{\"ccRecipients\":[{\"emailAddress\":{\"address\":\"%s\"}}]}}", bad[i]);
    REJECT(JSON, body, 400, "ErrorInvalidRecipients");
  }
  REJECT(JSON, "{\"message\":{\"toRecipients\":[{}]}}", 400, "ErrorInvalidRecipients");
  REJECT(JSON, "{\"message\":{\"toRecipients\":[{\"emailAddress\":{\"name\":\"n\"}}]}}", 400,
         "ErrorInvalidRecipients");
  REJECT(JSON, MSG(",\"replyTo\":[{\"emailAddress\":{\"address\":\"x\"}}]"), 400,
         "ErrorInvalidRecipients");
  /* 500 across to/cc/bcc passes, 501 does not. */
  for (int total = 500; total <= 501; total++) {
    sg_buf b = SG_BUF_INIT;
    sg_buf_append_str(&b, "{\"message\":{");
    const char *lists[] = {"toRecipients", "ccRecipients", "bccRecipients"};
    for (int l = 0; l < 3; l++) {
      sg_buf_printf(&b, "%s\"%s\":[", l ? "," : "", lists[l]);
      int from = l * 200, to = l == 2 ? total : (l + 1) * 200;
      for (int i = from; i < to; i++)
        sg_buf_printf(&b, "%s{\"emailAddress\":{\"address\":\"u%d@d%d.example\"}}",
                      i > from ? "," : "", i, i % 7);
      sg_buf_append_char(&b, ']');
    }
    sg_buf_append_str(&b, "}}");
    code_of(JSON, b.data, &st, &v);
    ASSERT_EQ(total == 500 ? 0 : 400, st);
    if (total == 501)
      ASSERT_STR_EQ("ErrorInvalidRecipients", v.code);
    sg_buf_free(&b);
  }
}

static void t_headers(void) {
#define HDR(n, v) "{\"name\":\"" n "\",\"value\":\"" v "\"}"
  REJECT(JSON, MSG(",\"internetMessageHeaders\":[]"), 400,
         "InvalidInternetMessageHeaderCollection");
  REJECT(JSON,
         MSG(",\"internetMessageHeaders\":[" HDR("x-1", "v") "," HDR("x-2", "v") "," HDR(
             "x-3", "v") "," HDR("x-4", "v") "," HDR("x-5", "v") "," HDR("x-6", "v") "]"),
         400, "InvalidInternetMessageHeaderCollection");
  int st;
  sg_sbx_verdict v;
  code_of(JSON, MSG(",\"internetMessageHeaders\":[" HDR("Foo", "v") "]"), &st, &v);
  ASSERT_EQ(400, st);
  ASSERT_STR_EQ("InvalidInternetMessageHeader", v.code);
  ASSERT_STR_EQ("The internet message header name 'Foo' should start with 'x-' or 'X-'.",
                v.message);
  REJECT(JSON, MSG(",\"internetMessageHeaders\":[" HDR("x-a", "v\\r\\nBcc: e@vil.com") "]"), 400,
         "InvalidInternetMessageHeader");
  REJECT(JSON, MSG(",\"internetMessageHeaders\":[" HDR("x-a\\nb", "v") "]"), 400,
         "InvalidInternetMessageHeader");
  REJECT(JSON, MSG(",\"internetMessageHeaders\":[" HDR("x-a b", "v") "]"), 400,
         "InvalidInternetMessageHeader");
  REJECT(JSON, MSG(",\"internetMessageHeaders\":[{\"name\":\"x-a\"}]"), 400,
         "InvalidInternetMessageHeader");
  REJECT(JSON, MSG(",\"internetMessageHeaders\":[{\"name\":\"x-a\",\"value\":\"v\",\"q\":1}]"), 400,
         "RequestBodyRead");
  code_of(JSON,
          MSG(",\"internetMessageHeaders\":[" HDR("x-1", "v") "," HDR("X-2", "") "," HDR(
              "x-3", "v") "," HDR("x-4", "v") "," HDR("x-5", "v") "]"),
          &st, &v);
  ASSERT_EQ(0, st);
#undef HDR
}

static void t_attachments(void) {
#define ATT(fields) MSG(",\"attachments\":[{" fields "}]")
#define FA "\"@odata.type\":\"#microsoft.graph.fileAttachment\","
  REJECT(JSON, ATT("\"name\":\"a\",\"contentBytes\":\"QQ==\""), 400, "RequestBodyRead");
  REJECT(JSON, ATT("\"@odata.type\":\"#microsoft.graph.nope\",\"name\":\"a\""), 400,
         "RequestBodyRead");
  REJECT(JSON, ATT("\"@odata.type\":\"#microsoft.graph.itemAttachment\",\"name\":\"a\""), 400,
         "ErrorInvalidRequest");
  REJECT(JSON, ATT(FA "\"contentBytes\":\"QQ==\""), 400, "ErrorInvalidRequest");
  REJECT(JSON, ATT(FA "\"name\":\"a\""), 400, "ErrorInvalidRequest");
  REJECT(JSON, ATT(FA "\"name\":\"a\",\"contentBytes\":\"QQ=\""), 400, "RequestBodyRead");
  REJECT(JSON, ATT(FA "\"name\":\"a\",\"contentBytes\":\"QQ==\\n\""), 400, "RequestBodyRead");
  REJECT(JSON, ATT(FA "\"name\":\"a\",\"contentBytes\":\"Q!==\""), 400, "RequestBodyRead");
  REJECT(JSON, ATT(FA "\"name\":\"a\",\"contentBytes\":\"QQ==\",\"isInline\":\"true\""), 400,
         "RequestBodyRead");
  REJECT(JSON, ATT(FA "\"name\":\"a\",\"contentBytes\":\"QQ==\",\"contentId\":5"), 400,
         "RequestBodyRead");
  REJECT(JSON, ATT(FA "\"name\":\"a\",\"contentBytes\":\"QQ==\",\"zzz\":5"), 400,
         "RequestBodyRead");
  REJECT(JSON, ATT(FA "\"name\":\"a\",\"contentBytes\":\"QQ==\",\"contentLocation\":\"u\""), 400,
         "ErrorInvalidRequest");
  sg_sbx_msg m;
  sg_sbx_verdict v;
  const char *ok = ATT(FA "\"name\":\"logo.png\",\"contentType\":\"image/png\",\"contentBytes\":"
                          "\"QUJDRA==\",\"isInline\":true,\"contentId\":\"logo\",\"size\":4");
  ASSERT_OK(sg_sbx_graph_validate(JSON, ok, strlen(ok), MB, NULL, &m, &v));
  ASSERT_EQ(1, m.n_atts);
  ASSERT_EQ(4, m.atts[0].size);
  ASSERT(m.atts[0].is_inline);
  ASSERT_STR_EQ("logo", m.atts[0].content_id);
  ASSERT_STR_EQ("image/png", m.atts[0].content_type);
  sg_sbx_msg_free(&m);
#undef FA
#undef ATT
}

static char *b64(const char *s) {
  sg_buf b = SG_BUF_INIT;
  sg_base64_encode_wrapped(&b, s, strlen(s), 76);
  return sg_buf_steal(&b, NULL);
}

static void t_mime(void) {
  const char *mime = "From: Sender <sender@contoso.com>\r\n"
                     "To: \"Doe, Jane\" <jane@fabrikam.com>, bob@contoso.com (Bob),\r\n"
                     " Team: c1@team.example, c2@team.example;\r\n"
                     "Cc: undisclosed-recipients:;\r\n"
                     "Bcc: <hidden@contoso.com>\r\n"
                     "Subject: Hello\r\n\tthere\r\n"
                     "X-Campaign: spring\r\n"
                     "MIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "\r\n"
                     "Body line with To: nobody@else.com\r\n";
  char *enc = b64(mime);
  ASSERT_NOT_NULL(strstr(enc, "\r\n")); /* really wrapped */
  sg_sbx_msg m;
  sg_sbx_verdict v;
  ASSERT_OK(sg_sbx_graph_validate("text/plain", enc, strlen(enc), MB, NULL, &m, &v));
  ASSERT(m.mime);
  ASSERT_EQ(SG_SBX_BODY_MIME, m.body_kind);
  ASSERT_EQ(strlen(mime), m.body_len);
  ASSERT_EQ(4, m.to.n);
  ASSERT_STR_EQ("jane@fabrikam.com", m.to.v[0].address);
  ASSERT_STR_EQ("bob@contoso.com", m.to.v[1].address);
  ASSERT_STR_EQ("c2@team.example", m.to.v[3].address);
  ASSERT_EQ(0, m.cc.n);
  ASSERT_EQ(1, m.bcc.n);
  ASSERT_EQ(5, m.recipient_count);
  ASSERT_STR_EQ("Hello\tthere", m.subject); /* unfolded: CRLF removed */
  ASSERT_STR_EQ("sender@contoso.com", m.from);
  ASSERT_EQ(1, m.n_hdrs);
  ASSERT_STR_EQ("X-Campaign", m.hdrs[0].name);
  ASSERT_STR_EQ("spring", m.hdrs[0].value);
  sg_sbx_msg_free(&m);
  sg_free(enc);
  /* Bare LF line ends, no body at all. */
  enc = b64("To: a@b.example\nSubject: x\n");
  ASSERT_OK(sg_sbx_graph_validate("text/plain; charset=utf-8", enc, strlen(enc), MB, NULL, &m, &v));
  ASSERT_EQ(1, m.recipient_count);
  sg_sbx_msg_free(&m);
  sg_free(enc);
}

static void t_mime_rejects(void) {
  int st;
  sg_sbx_verdict v;
  ASSERT_STR_EQ("ErrorMimeContentInvalidBase64String",
                code_of("text/plain", "VG86IGFAYi5jb20=*", &st, &v));
  ASSERT_EQ(400, st);
  ASSERT(v.no_inner);
  ASSERT_STR_EQ("Invalid base64 string for MIME content.", v.message);
  sg_buf out = SG_BUF_INIT;
  sg_sbx_graph_inner in = {"2023-02-20T05:06:48", "rid", "crid"};
  sg_sbx_graph_verdict_json(&out, &v, &in);
  ASSERT_STR_EQ("{\"error\":{\"code\":\"ErrorMimeContentInvalidBase64String\",\"message\":"
                "\"Invalid base64 string for MIME content.\"}}",
                out.data);
  sg_buf_free(&out);
  REJECT("text/plain", "VG86IGFAYi5jb20", 400, "ErrorMimeContentInvalidBase64String");
  REJECT("text/plain", "", 400, "ErrorMimeContentInvalid");
  REJECT("text/plain", "\r\n", 400, "ErrorMimeContentInvalid");
  char *enc = b64("just some text without headers\r\n");
  REJECT("text/plain", enc, 400, "ErrorMimeContentInvalid");
  sg_free(enc);
  enc = b64(" folded first line\r\nTo: a@b.com\r\n\r\n");
  REJECT("text/plain", enc, 400, "ErrorMimeContentInvalid");
  sg_free(enc);
  enc = b64("Subject: no recipients\r\nFrom: a@b.com\r\n\r\nbody\r\n");
  REJECT("text/plain", enc, 400, "ErrorInvalidRecipients");
  sg_free(enc);
  enc = b64("To: not-an-address\r\n\r\nbody\r\n");
  REJECT("text/plain", enc, 400, "ErrorInvalidRecipients");
  sg_free(enc);
  enc = b64("To: <a@b.com\r\n\r\n");
  REJECT("text/plain", enc, 400, "ErrorInvalidRecipients");
  sg_free(enc);
}

static void hex_sha256(const char *api, const char *mb, const char *body, char out[65]) {
  unsigned char md[32];
  unsigned int n;
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  ASSERT(EVP_DigestInit_ex(c, EVP_sha256(), NULL));
  EVP_DigestUpdate(c, api, strlen(api) + 1);
  EVP_DigestUpdate(c, mb, strlen(mb) + 1);
  EVP_DigestUpdate(c, body, strlen(body));
  EVP_DigestFinal_ex(c, md, &n);
  EVP_MD_CTX_free(c);
  for (int i = 0; i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void t_key(void) {
  const char *a = MSG(""), *b = MSG(",\"importance\":\"low\"");
  sg_sbx_msg m1, m2, m3, m4;
  sg_sbx_verdict v;
  ASSERT_OK(sg_sbx_graph_validate(JSON, a, strlen(a), MB, NULL, &m1, &v));
  ASSERT_OK(sg_sbx_graph_validate(JSON, a, strlen(a), MB, NULL, &m2, &v));
  ASSERT_OK(sg_sbx_graph_validate(JSON, b, strlen(b), MB, NULL, &m3, &v));
  ASSERT_OK(sg_sbx_graph_validate(JSON, a, strlen(a), "other@contoso.com", NULL, &m4, &v));
  ASSERT_STR_EQ(m1.key, m2.key);
  ASSERT_MEM_EQ(m1.key_bin, m2.key_bin, 32);
  ASSERT(strcmp(m1.key, m3.key) != 0);
  ASSERT(strcmp(m1.key, m4.key) != 0);
  char want[65];
  hex_sha256("graph", MB, a, want);
  ASSERT_STR_EQ(want, m1.key);
  sg_sbx_msg_free(&m1);
  sg_sbx_msg_free(&m2);
  sg_sbx_msg_free(&m3);
  sg_sbx_msg_free(&m4);
}

static void t_record_json(void) {
  sg_sbx_msg m;
  sg_sbx_verdict v;
  ASSERT_OK(sg_sbx_graph_validate(JSON, sdk_body, sizeof sdk_body - 1, MB, NULL, &m, &v));
  sg_buf out = SG_BUF_INIT;
  sg_sbx_msg_to_json(&m, &out);
  ASSERT(out.data[out.len - 1] == '}'); /* one object, no newline */
  ASSERT_NULL(strchr(out.data, '\n'));
  ASSERT_NULL(strstr(out.data, "Hi</b>")); /* never the body */
  sg_json_doc *d;
  ASSERT_OK(sg_json_parse(&d, out.data, out.len, 0, NULL, 0));
  const sg_json *r = sg_json_root(d);
  ASSERT_STR_EQ("graph", sg_json_str(sg_json_get(r, "api")));
  ASSERT_STR_EQ(m.key, sg_json_str(sg_json_get(r, "key")));
  ASSERT_STR_EQ(MB, sg_json_str(sg_json_get(r, "mailbox")));
  int64_t n;
  ASSERT(sg_json_int(sg_json_get(r, "recipients"), &n) && n == 3);
  const sg_json *dom = sg_json_get(r, "domains");
  ASSERT_EQ(2, dom->count); /* contoso.com, fabrikam.com (case folded, deduplicated) */
  ASSERT_STR_EQ("contoso.com", sg_json_str(dom->child));
  ASSERT_STR_EQ("fabrikam.com", sg_json_str(dom->child->next));
  ASSERT_EQ(2, sg_json_get(r, "to")->count);
  ASSERT_STR_EQ("html", sg_json_str(sg_json_get(r, "body_kind")));
  const sg_json *att = sg_json_get(r, "attachments")->child;
  ASSERT(sg_json_int(sg_json_get(att, "size"), &n) && n == 12);
  ASSERT_EQ(SG_JSON_FALSE, sg_json_get(r, "save_to_sent_items")->type);
  ASSERT_EQ(2, sg_json_get(r, "headers")->count);
  sg_json_doc_free(d);
  sg_buf_free(&out);
  sg_sbx_msg_free(&m);
}

static void t_error_json(void) {
  sg_buf out = SG_BUF_INIT;
  char date[20];
  sg_sbx_graph_date(1676869608, date);
  ASSERT_STR_EQ("2023-02-20T05:06:48", date);
  sg_sbx_graph_inner in = {date, "11111111-2222-3333-4444-555555555555",
                           "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"};
  sg_sbx_graph_error_json(&out, "ErrorInvalidRecipients", "say \"hi\"", &in);
  ASSERT_STR_EQ("{\"error\":{\"code\":\"ErrorInvalidRecipients\",\"message\":\"say \\\"hi\\\"\","
                "\"innerError\":{\"date\":\"2023-02-20T05:06:48\",\"request-id\":"
                "\"11111111-2222-3333-4444-555555555555\",\"client-request-id\":"
                "\"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\"}}}",
                out.data);
  sg_buf_reset(&out);
  sg_sbx_graph_error_json(&out, "ErrorAccessDenied", "Access is denied.", NULL);
  ASSERT_STR_EQ("{\"error\":{\"code\":\"ErrorAccessDenied\",\"message\":\"Access is denied.\"}}",
                out.data);
  sg_buf_free(&out);
}

static void t_addr(void) {
  static const char *const good[] = {"a@b.co", "first.last+tag@sub.example.com",
                                     "o'brien@x-y.example", "_!#$%&*/=?^`{|}~@d.example",
                                     "DoNotReply@0f2c.azurecomm.net"};
  static const char *const bad[] = {"",         "a@b",      "a@localhost", "a@.b.com", "a@b.com.",
                                    "a@b-.com", "a.@b.com", "a@b_c.com",   "a@1.2.3.4"};
  for (size_t i = 0; i < SG_ARRAY_LEN(good); i++)
    if (!sg_sbx_addr_valid(good[i], strlen(good[i])))
      SG_FAIL_("should be valid: %s", good[i]);
  for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++)
    if (sg_sbx_addr_valid(bad[i], strlen(bad[i])))
      SG_FAIL_("should be invalid: %s", bad[i]);
  char local[80], dom[300];
  memset(local, 'l', 65);
  snprintf(local + 65, sizeof local - 65, "@d.com");
  ASSERT(!sg_sbx_addr_valid(local, strlen(local))); /* 65-byte local part */
  memset(dom, 'd', sizeof dom);
  memcpy(dom, "a@", 2);
  memcpy(dom + 250, ".com", 5);
  ASSERT(!sg_sbx_addr_valid(dom, strlen(dom))); /* label > 63 and total > 254 */
}

SG_TESTS({"sdk_json", t_sdk_json}, {"doc_example", t_doc_example}, {"structure", t_structure},
         {"content_type_and_size", t_content_type_and_size}, {"recipients", t_recipients},
         {"headers", t_headers}, {"attachments", t_attachments}, {"mime", t_mime},
         {"mime_rejects", t_mime_rejects}, {"key", t_key}, {"record_json", t_record_json},
         {"error_json", t_error_json}, {"addr", t_addr})
