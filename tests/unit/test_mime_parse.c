/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for MIME jobs turned into structured content (job/sg_mime_parse.h). */
#include "harness.h"

#include "core/sg_err.h"
#include "job/sg_mime_parse.h"

/* "Grüße" in ISO-8859-1, QP; "Hällo" in UTF-8, base64; a 1x1 PNG; a PDF with
 * an RFC 2231 UTF-8 file name; an attached message. */
static const char full_msg[] =
    "Received: from scanner by gw\r\n"
    "From: Scanner <scanner@contoso.com>\r\n"
    "To: Alice <alice@fabrikam.example>, other@fabrikam.example\r\n"
    "Cc: =?UTF-8?Q?B=C3=B6b?= <bob@fabrikam.example>\r\n"
    "Reply-To: =?ISO-8859-1?Q?J=FCrgen?= <juergen@contoso.com>\r\n"
    "Subject: =?UTF-8?B?UmVwb3J0IMO8YmVy?=\r\n"
    " =?UTF-8?Q?_M=C3=A4rz?=\r\n"
    "X-Ticket: 42\r\n"
    "X-Folded: a\r\n b\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
    "\r\n"
    "--alt\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Gr=FC=DFe\r\n"
    "--alt\r\n"
    "Content-Type: multipart/related; boundary=\"rel\"\r\n"
    "\r\n"
    "--rel\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "PHA+SMOkbGxvPGltZyBzcmM9ImNpZDpsb2dvQHgiPjwvcD4=\r\n"
    "--rel\r\n"
    "Content-Type: image/png\r\n"
    "Content-ID: <logo@x>\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "iVBORw0KGgo=\r\n"
    "--rel--\r\n"
    "--alt--\r\n"
    "--outer\r\n"
    "Content-Type: application/pdf\r\n"
    "Content-Disposition: attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "JVBERi0xLjQK\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "From: x@contoso.com\r\n"
    "Subject: inner\r\n"
    "\r\n"
    "inner body\r\n"
    "--outer--\r\n";

static sg_job_addr env[] = {{"alice@fabrikam.example", ""},
                            {"BOB@fabrikam.example", ""},
                            {"carol@fabrikam.example", "Carol"}};

static sg_job mime_job(const char *m, size_t n_env) {
  sg_job j = {0};
  j.id = "job-7";
  j.account = "acs1";
  j.sender = "scanner@contoso.com";
  j.to = n_env ? env : NULL;
  j.n_to = n_env;
  j.subject = j.text_body = j.html_body = "";
  j.reply_stream = "sendgate:results:x";
  j.campaign_id = "camp";
  j.mime = (const uint8_t *)m;
  j.mime_len = strlen(m);
  j.max_attempts = 3;
  j.deadline_unix_ms = 99;
  j.created_unix_ms = 7;
  return j;
}

static void t_full(void) {
  sg_job j = mime_job(full_msg, 3);
  sg_mime_job m;
  sg_job_error err;
  ASSERT_OK(sg_mime_to_job(&m, &j, NULL, &err));
  const sg_job *v = &m.job;
  ASSERT_STR_EQ("job-7", v->id);
  ASSERT_STR_EQ("acs1", v->account);
  ASSERT_STR_EQ("scanner@contoso.com", v->sender);
  ASSERT_STR_EQ("sendgate:results:x", v->reply_stream);
  ASSERT_STR_EQ("camp", v->campaign_id);
  ASSERT_EQ(3, v->max_attempts);
  ASSERT_EQ(99, v->deadline_unix_ms);
  ASSERT_EQ(7, v->created_unix_ms);
  ASSERT_NULL(v->mime);
  ASSERT_EQ(0, v->mime_len);
  ASSERT_STR_EQ("Report über März", v->subject);
  ASSERT_STR_EQ("Grüße", v->text_body); /* the last line end is the boundary's */
  ASSERT_STR_EQ("<p>Hällo<img src=\"cid:logo@x\"></p>", v->html_body);
  /* The envelope, sorted by the fields that name it; "other" is not in it. */
  ASSERT_EQ(1, v->n_to);
  ASSERT_STR_EQ("alice@fabrikam.example", v->to[0].address);
  ASSERT_STR_EQ("Alice", v->to[0].name);
  ASSERT_EQ(1, v->n_cc);
  ASSERT_STR_EQ("BOB@fabrikam.example", v->cc[0].address);
  ASSERT_STR_EQ("Böb", v->cc[0].name);
  ASSERT_EQ(1, v->n_bcc);
  ASSERT_STR_EQ("carol@fabrikam.example", v->bcc[0].address);
  ASSERT_STR_EQ("Carol", v->bcc[0].name);
  ASSERT_EQ(1, v->n_reply_to);
  ASSERT_STR_EQ("juergen@contoso.com", v->reply_to[0].address);
  ASSERT_STR_EQ("Jürgen", v->reply_to[0].name);
  ASSERT_EQ(2, v->n_headers);
  ASSERT_STR_EQ("X-Ticket", v->headers[0].name);
  ASSERT_STR_EQ("42", v->headers[0].value);
  ASSERT_STR_EQ("X-Folded", v->headers[1].name);
  ASSERT(strchr(v->headers[1].value, '\n') == NULL);
  ASSERT_EQ(3, v->n_attachments);
  const sg_job_attachment *img = &v->attachments[0], *pdf = &v->attachments[1],
                          *eml = &v->attachments[2];
  ASSERT_STR_EQ("image/png", img->content_type);
  ASSERT_STR_EQ("logo@x", img->content_id);
  ASSERT(img->is_inline);
  ASSERT_EQ(8, img->content_len);
  ASSERT_MEM_EQ("\x89PNG\r\n\x1a\n", img->content, 8);
  ASSERT_STR_EQ("Rechnung März.pdf", pdf->name);
  ASSERT_STR_EQ("application/pdf", pdf->content_type);
  ASSERT(!pdf->is_inline);
  ASSERT_EQ(9, pdf->content_len);
  ASSERT_MEM_EQ("%PDF-1.4\n", pdf->content, 9);
  ASSERT_STR_EQ("message/rfc822", eml->content_type);
  ASSERT(strstr(eml->name, ".eml") != NULL);
  ASSERT(eml->content_len > 0);
  ASSERT(memmem(eml->content, eml->content_len, "Subject: inner", 14) != NULL);
  ASSERT(memmem(eml->content, eml->content_len, "inner body", 10) != NULL);
  sg_mime_job_free(&m);
  sg_mime_job_free(&m); /* harmless twice */
}

static void t_header_recipients(void) {
  static const char msg[] =
      "To: a@fabrikam.example, Team: b@fabrikam.example, c@fabrikam.example;\r\n"
      "Cc: d@fabrikam.example\r\n"
      "Bcc: e@fabrikam.example\r\n"
      "Subject: plain\r\n"
      "\r\n"
      "just text\r\n";
  sg_job j = mime_job(msg, 0);
  sg_mime_job m;
  sg_job_error err;
  ASSERT_OK(sg_mime_to_job(&m, &j, NULL, &err));
  ASSERT_EQ(3, m.job.n_to);
  ASSERT_STR_EQ("c@fabrikam.example", m.job.to[2].address);
  ASSERT_EQ(1, m.job.n_cc);
  ASSERT_EQ(1, m.job.n_bcc);
  ASSERT_STR_EQ("e@fabrikam.example", m.job.bcc[0].address);
  ASSERT_STR_EQ("just text\r\n", m.job.text_body);
  ASSERT_STR_EQ("", m.job.html_body);
  ASSERT_EQ(0, m.job.n_attachments);
  sg_mime_job_free(&m);

  static const char none[] = "Subject: nobody\r\n\r\ntext\r\n";
  j = mime_job(none, 0);
  ASSERT_EQ(SG_ERR_INVAL, sg_mime_to_job(&m, &j, NULL, &err));
  ASSERT_STR_EQ(SG_JOBERR_NO_RECIPIENTS, err.code);
  sg_mime_job_free(&m);
}

/* Nothing silently dropped: a second text/plain body is an attachment; an
 * image referenced from the HTML of a multipart/mixed is inline. */
static void t_nothing_dropped(void) {
  static const char msg[] = "To: a@fabrikam.example\r\n"
                            "Subject: two texts\r\n"
                            "Content-Type: multipart/mixed; boundary=b\r\n"
                            "\r\n"
                            "--b\r\n"
                            "Content-Type: text/plain\r\n"
                            "\r\n"
                            "first\r\n"
                            "--b\r\n"
                            "Content-Type: text/html\r\n"
                            "\r\n"
                            "<img src='cid:pic1'>\r\n"
                            "--b\r\n"
                            "Content-Type: image/gif\r\n"
                            "Content-ID: <pic1>\r\n"
                            "Content-Disposition: inline\r\n"
                            "\r\n"
                            "GIF89a\r\n"
                            "--b\r\n"
                            "Content-Type: text/plain\r\n"
                            "\r\n"
                            "second\r\n"
                            "--b\r\n"
                            "Content-Type: image/gif\r\n"
                            "Content-ID: <unused>\r\n"
                            "\r\n"
                            "GIF89a\r\n"
                            "--b--\r\n";
  sg_job j = mime_job(msg, 0);
  sg_mime_job m;
  sg_job_error err;
  ASSERT_OK(sg_mime_to_job(&m, &j, NULL, &err));
  ASSERT_STR_EQ("first", m.job.text_body);
  ASSERT_EQ(3, m.job.n_attachments);
  ASSERT(m.job.attachments[0].is_inline);
  ASSERT_STR_EQ("pic1", m.job.attachments[0].content_id);
  ASSERT_STR_EQ("text/plain", m.job.attachments[1].content_type);
  ASSERT_EQ(6, m.job.attachments[1].content_len);
  ASSERT_MEM_EQ("second", m.job.attachments[1].content, 6);
  ASSERT(strstr(m.job.attachments[1].name, ".txt") != NULL);
  ASSERT(!m.job.attachments[2].is_inline); /* a Content-ID nothing references */
  sg_mime_job_free(&m);
}

/* File names: RFC 2047 in a name parameter, RFC 2231 continuations with a
 * charset, none at all. */
static void t_names(void) {
  static const char msg[] = "To: a@fabrikam.example\r\n"
                            "Subject: names\r\n"
                            "Content-Type: multipart/mixed; boundary=b\r\n"
                            "\r\n"
                            "--b\r\n"
                            "Content-Type: text/plain; name=\"=?ISO-8859-1?Q?R=E9sum=E9.txt?=\"\r\n"
                            "\r\n"
                            "cv\r\n"
                            "--b\r\n"
                            "Content-Type: application/pdf\r\n"
                            "Content-Disposition: attachment; filename*0*=iso-8859-1''%E9t%E9;\r\n"
                            " filename*1=\".pdf\"\r\n"
                            "\r\n"
                            "%PDF\r\n"
                            "--b\r\n"
                            "Content-Type: image/jpeg\r\n"
                            "\r\n"
                            "jpg\r\n"
                            "--b--\r\n";
  sg_job j = mime_job(msg, 1);
  sg_mime_job m;
  sg_job_error err;
  ASSERT_OK(sg_mime_to_job(&m, &j, NULL, &err));
  ASSERT_STR_EQ("", m.job.text_body); /* a text part with a file name is an attachment */
  ASSERT_EQ(3, m.job.n_attachments);
  ASSERT_STR_EQ("Résumé.txt", m.job.attachments[0].name);
  ASSERT_STR_EQ("été.pdf", m.job.attachments[1].name);
  ASSERT_STR_EQ("attachment-3.jpg", m.job.attachments[2].name); /* numbered from 1 */
  sg_mime_job_free(&m);
}

static const char *code_of(const char *msg, const sg_mime_limits *lim) {
  sg_job j = mime_job(msg, 1);
  sg_mime_job m;
  static sg_job_error err;
  int rv = sg_mime_to_job(&m, &j, lim, &err);
  sg_mime_job_free(&m);
  if (rv == 0)
    return "OK";
  ASSERT_EQ(SG_ERR_INVAL, rv);
  ASSERT(err.message[0] != '\0');
  return err.code;
}

#define HDR "To: a@fabrikam.example\r\nSubject: s\r\n"

static void t_refused(void) {
  ASSERT_STR_EQ(SG_JOBERR_MIME_ENCRYPTED,
                code_of(HDR
                        "Content-Type: multipart/encrypted; protocol=\"application/"
                        "pgp-encrypted\"; boundary=e\r\n\r\n--e\r\nContent-Type: "
                        "application/pgp-encrypted\r\n\r\nVersion: 1\r\n--e\r\nContent-Type: "
                        "application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n--e--\r\n",
                        NULL));
  ASSERT_STR_EQ(SG_JOBERR_MIME_ENCRYPTED,
                code_of(HDR "Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n"
                            "Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIAC\r\n",
                        NULL));
  ASSERT_STR_EQ(SG_JOBERR_MIME_SIGNED,
                code_of(HDR "Content-Type: multipart/signed; protocol=\"application/"
                            "pkcs7-signature\"; micalg=sha-256; boundary=s\r\n\r\n--s\r\n"
                            "Content-Type: text/plain\r\n\r\nsigned\r\n--s\r\nContent-Type: "
                            "application/pkcs7-signature\r\n\r\nAAAA\r\n--s--\r\n",
                        NULL));
  ASSERT_STR_EQ(
      SG_JOBERR_MIME_CHARSET,
      code_of(HDR "Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nabc\r\n", NULL));
  ASSERT_STR_EQ(
      SG_JOBERR_MIME_CHARSET,
      code_of(HDR "Content-Type: text/plain; charset=utf-8\r\n\r\nbad \xff\xfe\r\n", NULL));
  ASSERT_STR_EQ(SG_JOBERR_MIME_CHARSET, code_of(HDR "\r\nlatin \xe9 without charset\r\n", NULL));
  ASSERT_STR_EQ(SG_JOBERR_MIME_ENCODING,
                code_of(HDR "Content-Transfer-Encoding: x-rot13\r\n\r\nnop\r\n", NULL));
  ASSERT_STR_EQ(SG_JOBERR_NUL,
                code_of(HDR "Content-Transfer-Encoding: base64\r\n\r\nYQBi\r\n", NULL));
  ASSERT_STR_EQ(SG_JOBERR_CONTROL_CHAR,
                code_of("To: a@fabrikam.example\r\nSubject: =?utf-8?q?a=07b?=\r\n\r\nx\r\n", NULL));
  ASSERT_STR_EQ(SG_JOBERR_BAD_ADDRESS,
                code_of(HDR "Reply-To: not an address <@@>\r\n\r\nx\r\n", NULL));
  ASSERT_STR_EQ(SG_JOBERR_MIME_MALFORMED,
                code_of(HDR "Content-Type: multipart/mixed\r\n\r\nno boundary\r\n", NULL));
  ASSERT_STR_EQ(SG_JOBERR_MIME_MALFORMED, code_of("", NULL));
  /* Fine as it is: a plain message with no content type. */
  ASSERT_STR_EQ("OK", code_of(HDR "\r\nhello\r\n", NULL));
}

static void t_limits(void) {
  static const char nested[] = HDR "Content-Type: multipart/mixed; boundary=a\r\n\r\n"
                                   "--a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
                                   "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n"
                                   "--c\r\nContent-Type: text/plain\r\n\r\ndeep\r\n"
                                   "--c--\r\n--b--\r\n--a--\r\n";
  sg_mime_limits l;
  sg_mime_limits_default(&l);
  ASSERT_STR_EQ("OK", code_of(nested, &l));
  l.max_depth = 2;
  ASSERT_STR_EQ(SG_JOBERR_MIME_TOO_DEEP, code_of(nested, &l));
  sg_mime_limits_default(&l);
  l.max_parts = 3;
  ASSERT_STR_EQ(SG_JOBERR_MIME_TOO_MANY_PARTS, code_of(nested, &l));
  /* An attached message's parts count too. */
  static const char inner[] = HDR "Content-Type: multipart/mixed; boundary=a\r\n\r\n"
                                  "--a\r\nContent-Type: message/rfc822\r\n\r\n"
                                  "Subject: in\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n"
                                  "--z\r\nContent-Type: text/plain\r\n\r\n1\r\n"
                                  "--z\r\nContent-Type: text/plain\r\n\r\n2\r\n--z--\r\n"
                                  "--a--\r\n";
  l.max_parts = 4;
  ASSERT_STR_EQ(SG_JOBERR_MIME_TOO_MANY_PARTS, code_of(inner, &l));
  l.max_parts = 5;
  ASSERT_STR_EQ("OK", code_of(inner, &l));
  sg_mime_limits_default(&l);
  l.max_header_bytes = 40;
  ASSERT_STR_EQ(SG_JOBERR_MIME_HEADER_LIMIT,
                code_of(HDR "X-Long: 0123456789012345678901234567890123456789xx\r\n\r\nx\r\n", &l));
  sg_mime_limits_default(&l);
  l.max_headers = 3;
  ASSERT_STR_EQ(SG_JOBERR_MIME_HEADER_LIMIT, code_of(HDR "X-A: 1\r\nX-B: 2\r\n\r\nx\r\n", &l));
  sg_mime_limits_default(&l);
  l.max_x_headers = 1;
  ASSERT_STR_EQ(SG_JOBERR_TOO_MANY_HEADERS, code_of(HDR "X-A: 1\r\nX-B: 2\r\n\r\nx\r\n", &l));
  /* A nesting far past the limit is refused, not recursed into. */
  sg_buf b = SG_BUF_INIT;
  sg_buf_append_str(&b, HDR);
  for (int i = 0; i < 5000; i++)
    sg_buf_printf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
  sg_buf_append_str(&b, "Content-Type: text/plain\r\n\r\nbottom\r\n");
  ASSERT_STR_EQ(SG_JOBERR_MIME_TOO_DEEP, code_of(b.data, NULL));
  sg_buf_free(&b);
}

SG_TESTS({"full", t_full}, {"header_recipients", t_header_recipients},
         {"nothing_dropped", t_nothing_dropped}, {"names", t_names}, {"refused", t_refused},
         {"limits", t_limits})
