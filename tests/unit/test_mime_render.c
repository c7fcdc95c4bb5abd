/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for job/sg_mime_render: rendered messages are parsed back with
 * Python's email package (tests/unit/mime_check.py, an independent parser)
 * and compared part by part; line limits and determinism are checked here.
 */
#include "harness.h"

#include <openssl/sha.h>
#include <unistd.h>

#include "core/sg_err.h"
#include "job/sg_mime_render.h"

static char *render(const sg_job *j) {
  sg_buf out = SG_BUF_INIT;
  char err[200];
  sg_mime_render_opts o = {1796083200000LL, NULL};
  int rv = sg_mime_render(j, &o, &out, err, sizeof err);
  if (rv)
    fprintf(stderr, "render: %s\n", err);
  ASSERT_OK(rv);
  /* Every line ends in CRLF and is at most 78 octets. */
  size_t col = 0;
  for (size_t i = 0; i < out.len; i++) {
    if (out.data[i] == '\n') {
      ASSERT(i > 0 && out.data[i - 1] == '\r');
      col = 0;
      continue;
    }
    if (out.data[i] != '\r' && ++col > 78) {
      fprintf(stderr, "long line at %zu:\n%.*s\n", i, (int)(i + 20 < out.len ? 200 : 0),
              out.data + (i > 120 ? i - 120 : 0));
      ASSERT_LE(col, 78);
    }
    ASSERT((unsigned char)out.data[i] < 0x80); /* 7-bit: no SMTPUTF8 or 8BITMIME needed */
  }
  ASSERT(out.len >= 2 && out.data[out.len - 1] == '\n');
  return sg_buf_steal(&out, NULL);
}

/* Runs mime_check.py on |msg| and returns its output. */
static char *python_view(const char *msg) {
  char path[] = "/tmp/sg_mime_render.XXXXXX";
  int fd = mkstemp(path);
  ASSERT(fd >= 0);
  ASSERT_EQ((ssize_t)strlen(msg), write(fd, msg, strlen(msg)));
  close(fd);
  /* mime_check.py sits next to this file (CMake compiles it by absolute path). */
  const char *slash = strrchr(__FILE__, '/');
  int dirlen = slash ? (int)(slash - __FILE__) : 1;
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %.*s/mime_check.py %s", dirlen,
           slash ? __FILE__ : ".", path);
  FILE *p = popen(cmd, "r");
  ASSERT_NOT_NULL(p);
  sg_buf b = SG_BUF_INIT;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0)
    sg_buf_append(&b, buf, n);
  ASSERT_OK(pclose(p));
  unlink(path);
  sg_buf_append(&b, "", 0);
  return sg_buf_steal(&b, NULL);
}

static const uint8_t PNG[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I'};

static sg_job base_job(void) {
  sg_job j;
  memset(&j, 0, sizeof j);
  j.id = "job-1";
  j.account = "";
  j.sender = "mbx@contoso.com";
  j.subject = "";
  j.text_body = "";
  j.html_body = "";
  j.reply_stream = "";
  j.campaign_id = "";
  return j;
}

static void t_text_only(void) {
  sg_job j = base_job();
  sg_job_addr to[] = {{"bob@fabrikam.com", ""}};
  j.to = to;
  j.n_to = 1;
  j.subject = "Hello";
  j.text_body = "line one\n.dot line\nFrom here\ntrailing space \n";
  char *m = render(&j);
  ASSERT(strstr(m, "\r\nBcc") == NULL);
  char *v = python_view(m);
  ASSERT_STR_EQ("H From: mbx@contoso.com\n"
                "H To: bob@fabrikam.com\n"
                "H Subject: Hello\n"
                "H MIME-Version: 1.0\n"
                "D yes\n"
                "P text/plain text='line one\\n.dot line\\nFrom here\\ntrailing space \\n\\n'\n"
                "defects 0\n",
                v);
  sg_free(v);
  sg_free(m);
}

static void t_full(void) {
  sg_job j = base_job();
  sg_job_addr to[] = {{"bob@fabrikam.com", "Bob \"the builder\" Smith"},
                      {"zoe@fabrikam.com", "Zoë Ångström"}};
  sg_job_addr cc[] = {{"carol@fabrikam.com", ""}};
  sg_job_addr bcc[] = {{"secret@fabrikam.com", "Hidden"}};
  sg_job_addr rt[] = {{"replies@contoso.com", "Replies"}};
  j.to = to;
  j.n_to = 2;
  j.cc = cc;
  j.n_cc = 1;
  j.bcc = bcc;
  j.n_bcc = 1;
  j.reply_to = rt;
  j.n_reply_to = 1;
  j.subject = "Réunion: café à 10h — ordre du jour très long pour dépasser la limite de "
              "soixante-dix-huit octets";
  j.text_body = "Bonjour à tous,\nvoici l'ordre du jour.";
  j.html_body = "<p>Bonjour <b>à tous</b></p><img src=\"cid:logo@x\">";
  sg_job_header h[] = {{"X-Campaign", "spring-2027"},
                       {"X-Long", "a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e "
                                  "f g h i j k l m n o p q r s t u v w x y z"}};
  j.headers = h;
  j.n_headers = 2;
  sg_job_attachment att[] = {
      {"logo.png", "image/png", PNG, sizeof PNG, "logo@x", true},
      {"rapport détaillé du premier trimestre de l'année deux mille vingt-sept.pdf",
       "application/pdf", (const uint8_t *)"%PDF-1.4 x", 10, "", false},
      {"data.bin", "", (const uint8_t *)"\x00\x01\x02", 3, "", false},
  };
  j.attachments = att;
  j.n_attachments = 3;
  char *m = render(&j);
  ASSERT(strstr(m, "secret@fabrikam.com") == NULL);
  ASSERT(strstr(m, "Hidden") == NULL);
  char *v = python_view(m);
  ASSERT_STR_EQ(
      "H From: mbx@contoso.com\n"
      "H To: \"Bob \\\"the builder\\\" Smith\" <bob@fabrikam.com>, Zoë Ångström "
      "<zoe@fabrikam.com>\n"
      "H Cc: carol@fabrikam.com\n"
      "H Reply-To: Replies <replies@contoso.com>\n"
      "H Subject: Réunion: café à 10h — ordre du jour très long pour dépasser la limite de "
      "soixante-dix-huit octets\n"
      "H MIME-Version: 1.0\n"
      "H X-Campaign: spring-2027\n"
      "H X-Long: a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h i j k l m n "
      "o p q r s t u v w x y z\n"
      "D yes\n"
      "P multipart/mixed\n"
      "  P multipart/alternative\n"
      "    P text/plain text=\"Bonjour à tous,\\nvoici l'ordre du jour.\"\n"
      "    P multipart/related\n"
      "      P text/html text='<p>Bonjour <b>à tous</b></p><img src=\"cid:logo@x\">'\n"
      "      P image/png disp=inline file=logo.png cid=<logo@x> sha=499e4cdee022b331\n"
      "  P application/pdf disp=attachment file=rapport détaillé du premier trimestre de "
      "l'année deux mille vingt-sept.pdf sha=fc022288f3e49d09\n"
      "  P application/octet-stream disp=attachment file=data.bin sha=ae4b3280e56e2faf\n"
      "defects 0\n",
      v);
  /* Deterministic: the same job renders the same bytes. */
  char *m2 = render(&j);
  ASSERT_STR_EQ(m, m2);
  sg_free(m2);
  sg_free(v);
  sg_free(m);
}

static void t_html_only_inline(void) {
  sg_job j = base_job();
  sg_job_addr to[] = {{"bob@fabrikam.com", ""}};
  j.to = to;
  j.n_to = 1;
  j.subject = "=?not an encoded word?=";
  j.html_body = "<img src=\"cid:a\">";
  sg_job_attachment att[] = {{"a.png", "image/png", PNG, sizeof PNG, "a", true}};
  j.attachments = att;
  j.n_attachments = 1;
  char *m = render(&j);
  char *v = python_view(m);
  ASSERT(strstr(v, "H Subject: =?not an encoded word?=\n") != NULL);
  ASSERT(strstr(v, "P multipart/related\n  P text/html") != NULL);
  ASSERT(strstr(v, "  P image/png disp=inline file=a.png cid=<a>") != NULL);
  ASSERT(strstr(v, "defects 0") != NULL);
  sg_free(v);
  sg_free(m);
}

static void t_refusals(void) {
  sg_buf out = SG_BUF_INIT;
  char err[200];
  sg_mime_render_opts o = {0, "example.com"};
  sg_job j = base_job();
  j.subject = "a\r\nBcc: x@y.z";
  ASSERT_EQ(SG_ERR_INVAL, sg_mime_render(&j, &o, &out, err, sizeof err));
  j = base_job();
  sg_job_header h[] = {{"Subject", "x"}};
  j.headers = h;
  j.n_headers = 1;
  ASSERT_EQ(SG_ERR_INVAL, sg_mime_render(&j, &o, &out, err, sizeof err));
  j = base_job();
  sg_job_addr to[] = {{"a@b.c>, <evil@x.y", ""}};
  j.to = to;
  j.n_to = 1;
  ASSERT_EQ(SG_ERR_INVAL, sg_mime_render(&j, &o, &out, err, sizeof err));
  j = base_job();
  sg_job_attachment att[] = {{"x", "text/plain\r\nX-Evil: 1", PNG, 1, "", false}};
  j.attachments = att;
  j.n_attachments = 1;
  ASSERT_EQ(SG_ERR_INVAL, sg_mime_render(&j, &o, &out, err, sizeof err));
  j = base_job();
  j.mime = (const uint8_t *)"x";
  j.mime_len = 1;
  ASSERT_EQ(SG_ERR_INVAL, sg_mime_render(&j, &o, &out, err, sizeof err));
  ASSERT_EQ(0, out.len);
  /* Message-ID domain from the options. */
  j = base_job();
  ASSERT_OK(sg_mime_render(&j, &o, &out, err, sizeof err));
  ASSERT(strstr(out.data, "@example.com>\r\n") != NULL);
  sg_buf_free(&out);
}

SG_TESTS({"text_only", t_text_only}, {"full", t_full}, {"html_only_inline", t_html_only_inline},
         {"refusals", t_refusals})
