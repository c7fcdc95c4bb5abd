/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the web inbox's copy of accepted messages: Graph JSON and
 * MIME, ACS JSON, SMTP messages, bad MIME, and the per-message bound. */
#include "harness.h"

#include "core/sg_base64.h"
#include "sandbox/sg_sbx_inbox_capture.h"

static void record(sg_sbx_msg *m, const char *api, const char *mailbox, const char *to,
                   const char *body) {
  sg_sbx_msg_init(m);
  m->api = api;
  m->mailbox = sg_xstrdup(mailbox);
  sg_sbx_addr_list_add(&m->to, to, NULL);
  sg_sbx_msg_set_key(m, body, strlen(body));
}

static const sg_sbx_hdr *hdr(const sg_sbx_inbox_msg *im, const char *name) {
  for (size_t i = 0; i < im->n_hdrs; i++)
    if (strcmp(im->hdrs[i].name, name) == 0)
      return &im->hdrs[i];
  return NULL;
}

static const char GRAPH[] =
    "{\"message\":{\"subject\":\"Hi\",\"body\":{\"contentType\":\"HTML\",\"content\":\"<p>x</p>\"},"
    "\"toRecipients\":[{\"emailAddress\":{\"address\":\"r@example.com\"}}],"
    "\"attachments\":[{\"@odata.type\":\"#microsoft.graph.fileAttachment\",\"name\":\"a.txt\","
    "\"contentType\":\"text/plain\",\"contentBytes\":\"aGVsbG8=\"},"
    "{\"@odata.type\":\"#microsoft.graph.fileAttachment\",\"name\":\"logo.png\","
    "\"contentId\":\"logo\",\"isInline\":true,\"contentBytes\":\"AAEC\"}]}}";

static void t_graph_json(void) {
  sg_sbx_msg m;
  record(&m, "graph", "s@contoso.com", "r@example.com", GRAPH);
  m.subject = sg_xstrdup("Hi");
  sg_sbx_msg_add_hdr(&m, "X-Order", "42");
  sg_sbx_inbox_msg *im = sg_sbx_inbox_capture(&m, "rid-1", GRAPH, strlen(GRAPH), 1 << 20);
  ASSERT_STR_EQ(im->api, "graph");
  ASSERT_STR_EQ(im->mailbox, "s@contoso.com");
  ASSERT_STR_EQ(im->from, "s@contoso.com");
  ASSERT_STR_EQ(im->to, "r@example.com");
  ASSERT_STR_EQ(im->subject, "Hi");
  ASSERT_STR_EQ(im->request_id, "rid-1");
  ASSERT_STR_EQ(im->key, m.key);
  ASSERT_STR_EQ(im->html, "<p>x</p>");
  ASSERT_STR_EQ(im->text, "");
  ASSERT_EQ(2, im->n_atts);
  ASSERT_STR_EQ(im->atts[0].name, "a.txt");
  ASSERT_EQ(5, im->atts[0].size);
  ASSERT_MEM_EQ(im->atts[0].data, "hello", 5);
  ASSERT(im->atts[1].is_inline);
  ASSERT_STR_EQ(im->atts[1].content_id, "logo");
  ASSERT_STR_EQ(hdr(im, "To")->value, "r@example.com");
  ASSERT_STR_EQ(hdr(im, "Subject")->value, "Hi");
  ASSERT_STR_EQ(hdr(im, "X-Order")->value, "42");
  ASSERT_NULL(hdr(im, "Cc")); /* empty fields are left out */
  ASSERT(!im->content_cut);
  ASSERT_EQ(strlen(GRAPH), im->size);
  sg_sbx_inbox_msg_del(im);
  /* A bound of 9 bytes: the 8-byte HTML fits, then neither attachment. */
  im = sg_sbx_inbox_capture(&m, NULL, GRAPH, strlen(GRAPH), 9);
  ASSERT_STR_EQ(im->html, "<p>x</p>");
  ASSERT_NULL(im->atts[0].data);
  ASSERT_NULL(im->atts[1].data);
  ASSERT_EQ(5, im->atts[0].size);
  ASSERT(im->content_cut);
  sg_sbx_inbox_msg_del(im);
  /* 4 bytes: the HTML is cut. */
  im = sg_sbx_inbox_capture(&m, NULL, GRAPH, strlen(GRAPH), 4);
  ASSERT_STR_EQ(im->html, "<p>x");
  sg_sbx_inbox_msg_del(im);
  sg_sbx_msg_free(&m);
}

static void t_acs_json(void) {
  static const char ACS[] =
      "{\"senderAddress\":\"DoNotReply@contoso.com\",\"content\":{\"subject\":\"S\","
      "\"plainText\":\"plain\",\"html\":\"<b>h</b>\"},\"recipients\":{\"to\":[{\"address\":"
      "\"r@example.com\"}]},\"attachments\":[{\"name\":\"i.png\",\"contentType\":\"image/png\","
      "\"contentInBase64\":\"AAEC\",\"contentId\":\"img1\"}]}";
  sg_sbx_msg m;
  record(&m, "acs", "DoNotReply@contoso.com", "r@example.com", ACS);
  m.subject = sg_xstrdup("S");
  sg_sbx_inbox_msg *im = sg_sbx_inbox_capture(&m, "op", ACS, strlen(ACS), 1 << 20);
  ASSERT_STR_EQ(im->api, "acs");
  ASSERT_STR_EQ(im->text, "plain");
  ASSERT_STR_EQ(im->html, "<b>h</b>");
  ASSERT_EQ(1, im->n_atts);
  ASSERT(im->atts[0].is_inline); /* a contentId makes it inline in ACS */
  ASSERT_MEM_EQ(im->atts[0].data, "\x00\x01\x02", 3);
  sg_sbx_inbox_msg_del(im);
  sg_sbx_msg_free(&m);
}

static const char MIME[] = "From: \"Ops\" <ops@contoso.com>\r\n"
                           "To: r@example.com\r\n"
                           "Subject: =?UTF-8?B?w4ljaG8=?=\r\n"
                           "X-Long: one\r\n two\r\n"
                           "MIME-Version: 1.0\r\n"
                           "Content-Type: multipart/mixed; boundary=b1\r\n"
                           "\r\n"
                           "--b1\r\n"
                           "Content-Type: text/plain; charset=utf-8\r\n"
                           "\r\n"
                           "Body text\r\n"
                           "--b1\r\n"
                           "Content-Type: application/pdf; name=x.pdf\r\n"
                           "Content-Disposition: attachment; filename=x.pdf\r\n"
                           "Content-Transfer-Encoding: base64\r\n"
                           "\r\n"
                           "JVBERg==\r\n"
                           "--b1--\r\n";

static void t_smtp(void) {
  sg_sbx_msg m;
  record(&m, "smtp-hve", "hve@contoso.com", "r@example.com", MIME);
  m.from = sg_xstrdup("ops@contoso.com");
  sg_sbx_inbox_msg *im = sg_sbx_inbox_capture(&m, "q1", MIME, strlen(MIME), 1 << 20);
  ASSERT_STR_EQ(im->api, "smtp-hve");
  ASSERT_STR_EQ(im->subject, "\xc3\x89"
                             "cho"); /* decoded */
  ASSERT_STR_EQ(im->from, "\"Ops\" <ops@contoso.com>");
  ASSERT_STR_EQ(hdr(im, "X-Long")->value, "one two");
  ASSERT_STR_EQ(hdr(im, "Subject")->value, "=?UTF-8?B?w4ljaG8=?="); /* as written */
  ASSERT_NOT_NULL(strstr(im->text, "Body text"));
  ASSERT_EQ(1, im->n_atts);
  ASSERT_STR_EQ(im->atts[0].name, "x.pdf");
  ASSERT_MEM_EQ(im->atts[0].data, "%PDF", 4);
  sg_sbx_inbox_msg_del(im);
  sg_sbx_msg_free(&m);
}

static void t_graph_mime(void) {
  sg_buf b64 = SG_BUF_INIT;
  sg_base64_encode(&b64, MIME, strlen(MIME));
  sg_sbx_msg m;
  record(&m, "graph", "s@contoso.com", "r@example.com", b64.data);
  m.mime = true;
  sg_sbx_inbox_msg *im = sg_sbx_inbox_capture(&m, NULL, b64.data, b64.len, 1 << 20);
  ASSERT_STR_EQ(im->subject, "\xc3\x89"
                             "cho");
  ASSERT_EQ(1, im->n_atts);
  ASSERT_NOT_NULL(hdr(im, "MIME-Version"));
  sg_sbx_inbox_msg_del(im);
  sg_sbx_msg_free(&m);
  sg_buf_free(&b64);
}

static void t_bad_mime_shown_raw(void) {
  static const char BAD[] = "Subject: broken\r\nContent-Type: multipart/mixed\r\n\r\nno boundary";
  sg_sbx_msg m;
  record(&m, "smtp", "u@contoso.com", "r@example.com", BAD);
  sg_sbx_inbox_msg *im = sg_sbx_inbox_capture(&m, NULL, BAD, strlen(BAD), 1 << 20);
  ASSERT_STR_EQ(im->subject, "broken");
  ASSERT_NOT_NULL(strstr(im->text, "no boundary"));
  sg_sbx_inbox_msg_del(im);
  sg_sbx_msg_free(&m);
  /* Not JSON at all: the record's fields, no content. */
  record(&m, "graph", "u@contoso.com", "r@example.com", "x");
  im = sg_sbx_inbox_capture(&m, NULL, "{not json", 9, 1 << 20);
  ASSERT_STR_EQ(im->to, "r@example.com");
  ASSERT_STR_EQ(im->text, "");
  ASSERT_EQ(0, im->n_atts);
  sg_sbx_inbox_msg_del(im);
  sg_sbx_msg_free(&m);
}

SG_TESTS({"graph_json", t_graph_json}, {"acs_json", t_acs_json}, {"smtp", t_smtp},
         {"graph_mime", t_graph_mime}, {"bad_mime_shown_raw", t_bad_mime_shown_raw})
