/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for MIME jobs through the ACS provider's prepare (svc/sg_prov_acs.c). */
#include "harness.h"

#include "core/sg_err.h"
#include "json/sg_json.h"
#include "svc/sg_provider.h"

static sg_job_addr env[] = {{"a@fabrikam.example", ""}};

/* Prepares |mime| for the default ACS account with |api_version|; returns
 * prepare's result, the body in |body| and the code in |code|. */
static int prepare(const char *mime, const char *api_version, sg_buf *body, const char **code) {
  char ver[64];
  snprintf(ver, sizeof ver, "SENDGATE_ACS_API_VERSION=%s", api_version);
  char cs[] = "SENDGATE_ACS_CONNECTION_STRING=endpoint=https://acs.example/;accesskey=AAECAw==";
  char be[] = "SENDGATE_DEFAULT_BACKEND=acs";
  char *envp[] = {cs, be, ver, NULL};
  sg_config cfg;
  char err[256];
  ASSERT_OK(sg_config_load(&cfg, NULL, envp, err, sizeof err));
  const sg_account *acct = sg_config_account(&cfg, SG_BACKEND_ACS, "");
  ASSERT_NOT_NULL(acct);
  void *st = NULL;
  sg_prov_info info;
  ASSERT_OK(sg_provider_acs.acct_init(&st, &info, acct, &cfg, err, sizeof err));
  sg_job j = {.id = "m-1",
              .account = "",
              .sender = "DoNotReply@contoso.com",
              .to = env,
              .n_to = 1,
              .subject = "",
              .text_body = "",
              .html_body = "",
              .mime = (const uint8_t *)mime,
              .mime_len = strlen(mime),
              .reply_stream = "",
              .campaign_id = ""};
  sg_prov_job pj;
  memset(&pj, 0, sizeof pj);
  pj.job = &j;
  sg_job_error je = {0};
  int rv = sg_provider_acs.prepare(st, &pj, &je);
  *code = rv ? je.code : NULL;
  if (rv == 0) {
    ASSERT(pj.keep_body);
    sg_buf_append(body, pj.body.data, pj.body.len);
  }
  sg_buf_free(&pj.body);
  sg_buf_free(&pj.path);
  sg_provider_acs.acct_free(st);
  sg_config_free(&cfg);
  return rv;
}

static const char related[] = "From: x@contoso.com\r\n"
                              "To: a@fabrikam.example\r\n"
                              "Subject: logo\r\n"
                              "X-Ticket: 7\r\n"
                              "X-MS-Acsemail-Suppress-Invalid-Attachment: true\r\n"
                              "Content-Type: multipart/related; boundary=r\r\n"
                              "\r\n"
                              "--r\r\n"
                              "Content-Type: text/html; charset=utf-8\r\n"
                              "\r\n"
                              "<img src=\"cid:l@x\">\r\n"
                              "--r\r\n"
                              "Content-Type: image/png\r\n"
                              "Content-ID: <l@x>\r\n"
                              "Content-Transfer-Encoding: base64\r\n"
                              "\r\n"
                              "iVBORw0KGgo=\r\n"
                              "--r--\r\n";

static void t_inline_and_headers(void) {
  sg_buf body = SG_BUF_INIT;
  const char *code;
  ASSERT_OK(prepare(related, "2025-09-01", &body, &code));
  sg_json_doc *doc = NULL;
  char jerr[128];
  ASSERT_OK(sg_json_parse(&doc, body.data, body.len, 32, jerr, sizeof jerr));
  const sg_json *root = sg_json_root(doc);
  const sg_json *att = sg_json_get(root, "attachments")->child;
  ASSERT_STR_EQ("l@x", sg_json_get(att, "contentId")->str);
  ASSERT_STR_EQ("iVBORw0KGgo=", sg_json_get(att, "contentInBase64")->str);
  ASSERT_STR_EQ("image/png", sg_json_get(att, "contentType")->str);
  const sg_json *hdrs = sg_json_get(root, "headers");
  ASSERT_STR_EQ("7", sg_json_get(hdrs, "X-Ticket")->str);
  ASSERT_NULL(sg_json_get(hdrs, "X-MS-Acsemail-Suppress-Invalid-Attachment"));
  ASSERT_STR_EQ("logo", sg_json_get(sg_json_get(root, "content"), "subject")->str);
  sg_json_doc_free(doc);
  sg_buf_free(&body);

  /* An api-version without contentId cannot carry the inline image. */
  ASSERT_EQ(SG_ERR_INVAL, prepare(related, "2023-03-31", &body, &code));
  ASSERT_STR_EQ(SG_JOBERR_INLINE_UNSUPPORTED, code);
}

static void t_refusals(void) {
  sg_buf body = SG_BUF_INIT;
  const char *code;
  ASSERT_EQ(SG_ERR_INVAL,
            prepare("To: a@fabrikam.example\r\nSubject: s\r\nContent-Type: multipart/mixed; "
                    "boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\n"
                    "Content-Type: application/x-msdownload\r\nContent-Disposition: attachment; "
                    "filename=a.exe\r\n\r\nMZ\r\n--b--\r\n",
                    "2025-09-01", &body, &code));
  ASSERT_STR_EQ(SG_JOBERR_ATTACHMENT_TYPE, code);
  ASSERT_EQ(SG_ERR_INVAL,
            prepare("To: a@fabrikam.example\r\n\r\nno subject\r\n", "2025-09-01", &body, &code));
  ASSERT_STR_EQ(SG_JOBERR_NO_SUBJECT, code);
  ASSERT_EQ(SG_ERR_INVAL, prepare("To: a@fabrikam.example\r\nSubject: s\r\nContent-Type: "
                                  "multipart/signed; boundary=s\r\n\r\n--s\r\n\r\nx\r\n--s--\r\n",
                                  "2025-09-01", &body, &code));
  ASSERT_STR_EQ(SG_JOBERR_MIME_SIGNED, code);
  ASSERT_EQ(0, body.len);
  /* A plain one goes, with the envelope as its recipient. */
  ASSERT_OK(
      prepare("To: a@fabrikam.example\r\nSubject: s\r\n\r\nhello\r\n", "2025-09-01", &body, &code));
  ASSERT(strstr(body.data, "\"to\":[{\"address\":\"a@fabrikam.example\"}]") != NULL);
  ASSERT(strstr(body.data, "\"plainText\":\"hello\\r\\n\"") != NULL);
  sg_buf_free(&body);
}

SG_TESTS({"inline_and_headers", t_inline_and_headers}, {"refusals", t_refusals})
