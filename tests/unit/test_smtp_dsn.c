/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delivery status notifications: which results get one, the exact RFC 3464
 * message (CRLF, parts, boundary), no header injection from the provider's
 * message or the original headers, the job that sends it, and the metadata
 * smtpd writes into its jobs for it.
 */
#include "harness.h"

#include "job/sg_job_codec.h"
#include "smtp/sg_smtp_dsn.h"
#include "smtp/sg_smtp_hdr.h"
#include "smtp/sg_smtp_job.h"

#include <string.h>

#define ID "smtp-0123456789abcdef01234567"
#define HDRS                                                                                       \
  "Received: from dev ([192.0.2.7])\r\n\tby smtp.test (sendgate) with ESMTPSA id " ID ";\r\n"      \
  "\tSun, 06 Dec 2026 10:00:00 +0000\r\n"                                                          \
  "From: Scanner <scanner@contoso.com>\r\n"                                                        \
  "Subject: scan to\r\n email\r\n"                                                                 \
  "Message-ID: <abc@contoso.com>\r\n"

/* A result as the gateway writes it for an smtpd job; tests adjust it. */
typedef struct fixture {
  sg_job_kv meta[8];
  sg_result r;
} fixture;

static void fixture_init(fixture *f) {
  memset(f, 0, sizeof *f);
  f->meta[0] = (sg_job_kv){SG_SMTP_META_CLIENT, "192.0.2.7"};
  f->meta[1] = (sg_job_kv){SG_SMTP_META_FROM, "scanner@contoso.com"};
  f->meta[2] = (sg_job_kv){SG_SMTP_META_RCPTS, "alice@fabrikam.example\nbob@[192.0.2.1]"};
  f->meta[3] = (sg_job_kv){SG_SMTP_META_NRCPTS, "2"};
  f->meta[4] = (sg_job_kv){SG_SMTP_META_HEADERS, HDRS};
  f->r = (sg_result){.job_id = ID,
                     .status = SG_STATUS_FAILED,
                     .backend = SG_BACKEND_GRAPH,
                     .attempts = 1,
                     .http_status = 400,
                     .error_code = "ErrorInvalidRecipients",
                     .error_message = "Recipient 'bob@[192.0.2.1]' isn't resolved.",
                     .metadata = f->meta,
                     .n_metadata = 5,
                     .created_unix_ms = 1796551200000,
                     .completed_unix_ms = 1796551201000};
}

static void fixture_set(fixture *f, const char *key, const char *value) {
  for (size_t i = 0; i < f->r.n_metadata; i++)
    if (strcmp(f->meta[i].key, key) == 0) {
      f->meta[i].value = value;
      return;
    }
  f->meta[f->r.n_metadata++] = (sg_job_kv){key, value};
}

static char text[16384];

static const char *build(const sg_result *r) {
  sg_smtp_dsn_in in = {r, "postmaster@contoso.com", "smtp.test", 1796551202000};
  sg_buf b = SG_BUF_INIT;
  sg_smtp_dsn_build(&b, &in);
  ASSERT_LT(b.len, sizeof text);
  memcpy(text, b.data, b.len);
  text[b.len] = '\0';
  sg_buf_free(&b);
  return text;
}

/* Every line ends in CRLF: no bare CR or LF anywhere. */
static void assert_crlf(const char *m) {
  for (const char *p = m; *p; p++) {
    if (*p == '\r')
      ASSERT_EQ('\n', p[1]);
    if (*p == '\n')
      ASSERT(p > m && p[-1] == '\r');
  }
  size_t n = strlen(m);
  ASSERT(n >= 2 && m[n - 2] == '\r' && m[n - 1] == '\n');
}

/* The length of the header section of the part (or message) starting at |p|. */
static size_t head_len(const char *p) {
  const char *e = strstr(p, "\r\n\r\n");
  ASSERT_NOT_NULL(e);
  return (size_t)(e - p) + 2;
}

/* Every line of the header section at |p| is a field or a folded continuation, at most |max| long.
 */
static size_t assert_fields(const char *p, size_t max) {
  size_t n = head_len(p), fields = 0;
  for (const char *l = p; l < p + n;) {
    const char *e = strstr(l, "\r\n");
    ASSERT_LE((size_t)(e - l), max);
    if (l[0] != ' ' && l[0] != '\t') {
      ASSERT_NOT_NULL(memchr(l, ':', (size_t)(e - l)));
      fields++;
    }
    l = e + 2;
  }
  return fields;
}

static void t_skip(void) {
  fixture f;
  fixture_init(&f);
  ASSERT_NULL(sg_smtp_dsn_skip(&f.r, "postmaster@contoso.com"));
  ASSERT_STR_EQ("off", sg_smtp_dsn_skip(&f.r, ""));
  ASSERT_STR_EQ("off", sg_smtp_dsn_skip(&f.r, NULL));
  f.r.status = SG_STATUS_EXPIRED;
  ASSERT_NULL(sg_smtp_dsn_skip(&f.r, "postmaster@contoso.com"));
  f.r.status = SG_STATUS_INVALID;
  ASSERT_NULL(sg_smtp_dsn_skip(&f.r, "postmaster@contoso.com"));
  f.r.status = SG_STATUS_SENT;
  ASSERT_STR_EQ("sent", sg_smtp_dsn_skip(&f.r, "postmaster@contoso.com"));
  f.r.status = SG_STATUS_UNSPECIFIED;
  ASSERT_STR_EQ("status", sg_smtp_dsn_skip(&f.r, "postmaster@contoso.com"));
  f.r.status = SG_STATUS_FAILED;
  f.r.job_id = "job-1"; /* not one of smtpd's */
  ASSERT_STR_EQ("not smtpd's", sg_smtp_dsn_skip(&f.r, "postmaster@contoso.com"));
  f.r.job_id = "dsn-" ID; /* a notification's own result */
  ASSERT_STR_EQ("not smtpd's", sg_smtp_dsn_skip(&f.r, "postmaster@contoso.com"));
  f.r.job_id = ID;
  fixture_set(&f, SG_SMTP_META_FROM, "");
  ASSERT_STR_EQ("no sender", sg_smtp_dsn_skip(&f.r, "postmaster@contoso.com"));
  fixture_set(&f, SG_SMTP_META_FROM, "<>");
  ASSERT_STR_EQ("null sender", sg_smtp_dsn_skip(&f.r, "postmaster@contoso.com"));
  fixture_set(&f, SG_SMTP_META_FROM, "MAILER-DAEMON@contoso.com");
  ASSERT_STR_EQ("null sender", sg_smtp_dsn_skip(&f.r, "postmaster@contoso.com"));
  fixture_set(&f, SG_SMTP_META_FROM, "Postmaster@Contoso.com"); /* never to the notifier */
  ASSERT_STR_EQ("notification", sg_smtp_dsn_skip(&f.r, "postmaster@contoso.com"));
  fixture_set(&f, SG_SMTP_META_FROM, "scanner@contoso.com");
  fixture_set(&f, SG_SMTP_META_AUTO, "1");
  ASSERT_STR_EQ("notification", sg_smtp_dsn_skip(&f.r, "postmaster@contoso.com"));
  fixture_set(&f, SG_SMTP_META_AUTO, "0");
  fixture_set(&f, SG_SMTP_META_DSN, "1");
  ASSERT_STR_EQ("notification", sg_smtp_dsn_skip(&f.r, "postmaster@contoso.com"));
  fixture_set(&f, SG_SMTP_META_DSN, "0");
  ASSERT_NULL(sg_smtp_dsn_skip(&f.r, "postmaster@contoso.com"));
  fixture_set(&f, SG_SMTP_META_RCPTS, "");
  ASSERT_STR_EQ("no recipients", sg_smtp_dsn_skip(&f.r, "postmaster@contoso.com"));
  f.r.n_metadata = 0; /* a job without smtpd's metadata */
  ASSERT_STR_EQ("no sender", sg_smtp_dsn_skip(&f.r, "postmaster@contoso.com"));
}

static void t_status(void) {
  fixture f;
  fixture_init(&f);
  ASSERT_STR_EQ("5.0.0", sg_smtp_dsn_status(&f.r));
  f.r.status = SG_STATUS_EXPIRED;
  ASSERT_STR_EQ("4.4.7", sg_smtp_dsn_status(&f.r));
  f.r.status = SG_STATUS_INVALID;
  f.r.error_code = SG_JOBERR_TOO_LARGE;
  ASSERT_STR_EQ("5.3.4", sg_smtp_dsn_status(&f.r));
  f.r.error_code = SG_JOBERR_SENDER_NOT_ALLOWED;
  ASSERT_STR_EQ("5.7.1", sg_smtp_dsn_status(&f.r));
  f.r.error_code = SG_JOBERR_CRLF;
  ASSERT_STR_EQ("5.0.0", sg_smtp_dsn_status(&f.r));
}

#define B "=_sendgate-dsn-" ID "-0"

static void t_exact(void) {
  fixture f;
  fixture_init(&f);
  const char *want =
      "From: Mail Delivery System <postmaster@contoso.com>\r\n"
      "To: <scanner@contoso.com>\r\n"
      "Subject: Undelivered Mail Returned to Sender: scan to email\r\n"
      "Date: Sun, 06 Dec 2026 10:00:02 +0000\r\n"
      "Message-ID: <dsn-" ID "@smtp.test>\r\n"
      "In-Reply-To: <abc@contoso.com>\r\n"
      "References: <abc@contoso.com>\r\n"
      "Auto-Submitted: auto-replied\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/report; report-type=delivery-status;\r\n"
      " boundary=\"" B "\"\r\n"
      "\r\n"
      "This is a MIME-encapsulated message.\r\n"
      "\r\n"
      "--" B "\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Description: Notification\r\n"
      "Content-Transfer-Encoding: 7bit\r\n"
      "\r\n"
      "This is the mail system at host smtp.test.\r\n"
      "\r\n"
      "Your message could not be delivered to the recipients below: the mail\r\n"
      "service refused it.\r\n"
      "\r\n"
      "<alice@fabrikam.example>\r\n"
      "<bob@[192.0.2.1]>\r\n"
      "\r\n"
      "Reason: ErrorInvalidRecipients (HTTP 400): Recipient 'bob@[192.0.2.1]' isn't\r\n"
      "resolved.\r\n"
      "Queue id: " ID "\r\n"
      "Subject: scan to email\r\n"
      "\r\n"
      "The header section of your message is attached.\r\n"
      "\r\n"
      "--" B "\r\n"
      "Content-Type: message/delivery-status\r\n"
      "Content-Description: Delivery report\r\n"
      "\r\n"
      "Reporting-MTA: dns; smtp.test\r\n"
      "X-Sendgate-Queue-ID: " ID "\r\n"
      "Arrival-Date: Sun, 06 Dec 2026 10:00:00 +0000\r\n"
      "\r\n"
      "Final-Recipient: rfc822; alice@fabrikam.example\r\n"
      "Action: failed\r\n"
      "Status: 5.0.0\r\n"
      "Diagnostic-Code: X-Sendgate; ErrorInvalidRecipients (HTTP 400): Recipient\r\n"
      " 'bob@[192.0.2.1]' isn't resolved.\r\n"
      "Last-Attempt-Date: Sun, 06 Dec 2026 10:00:01 +0000\r\n"
      "\r\n"
      "Final-Recipient: rfc822; bob@[192.0.2.1]\r\n"
      "Action: failed\r\n"
      "Status: 5.0.0\r\n"
      "Diagnostic-Code: X-Sendgate; ErrorInvalidRecipients (HTTP 400): Recipient\r\n"
      " 'bob@[192.0.2.1]' isn't resolved.\r\n"
      "Last-Attempt-Date: Sun, 06 Dec 2026 10:00:01 +0000\r\n"
      "\r\n"
      "--" B "\r\n"
      "Content-Type: text/rfc822-headers\r\n"
      "Content-Description: Undelivered message headers\r\n"
      "Content-Transfer-Encoding: 7bit\r\n"
      "\r\n" HDRS "\r\n"
      "--" B "--\r\n";
  ASSERT_STR_EQ(want, build(&f.r));
}

static void t_expired(void) {
  fixture f;
  fixture_init(&f);
  f.r.status = SG_STATUS_EXPIRED;
  f.r.http_status = 0;
  f.r.error_code = "SENDGATE_EXPIRED";
  f.r.error_message = "";
  const char *m = build(&f.r);
  assert_crlf(m);
  ASSERT_NOT_NULL(strstr(m, "\r\nStatus: 4.4.7\r\n"));
  ASSERT_NULL(strstr(m, "Status: 5."));
  ASSERT_NOT_NULL(strstr(m, "\r\nAction: failed\r\n"));
  ASSERT_NOT_NULL(strstr(m, "Diagnostic-Code: X-Sendgate; SENDGATE_EXPIRED\r\n"));
  ASSERT_NOT_NULL(strstr(m, "in the time\r\nallowed"));
}

/* CR, LF and other controls from the provider or the message never start a
 * field; long values are folded, and each header line stays short. */
static void t_no_injection(void) {
  fixture f;
  fixture_init(&f);
  f.r.error_message = "bad\r\nBcc: evil@example.com\r\n\r\n--" B "\r\nX\x01Y\x7f "
                      "and a very long explanation that goes on and on well past the "
                      "seventy-eight columns a header line should keep to, and further";
  fixture_set(&f, SG_SMTP_META_HEADERS,
              "Subject: hi\r\nBcc: sneaky@example.com\r\nMessage-ID: <x@y>\r\nBcc: a@b\r\n");
  fixture_set(&f, SG_SMTP_META_FROM, "scanner@contoso.com>\r\nBcc: evil@example.com");
  const char *m = build(&f.r);
  assert_crlf(m);
  /* The top-level header: the fields we write, nothing more. */
  ASSERT_EQ(10, assert_fields(m, 78));
  size_t hl = head_len(m);
  ASSERT_NULL(memmem(m, hl, "\r\nBcc", 5));
  ASSERT_NULL(strstr(m, "\r\nBcc: evil"));
  ASSERT_NOT_NULL(strstr(m, "To: <scanner@contoso.com> Bcc: evil@example.com>\r\n"));
  ASSERT_NULL(strchr(m, '\x01'));
  ASSERT_NULL(strchr(m, '\x7f'));
  /* The provider's text contains the first boundary: another one is used. */
  ASSERT_NOT_NULL(strstr(m, "boundary=\"=_sendgate-dsn-" ID "-1\""));
  ASSERT_NULL(strstr(m, "\r\n--" B "\r\n"));
  /* The delivery-status part: every line a field or a continuation. */
  const char *ds = strstr(m, "Content-Type: message/delivery-status\r\n");
  ASSERT_NOT_NULL(ds);
  ds += head_len(ds) + 2;
  for (int group = 0; group < 3; group++) {
    assert_fields(ds, 78);
    ds += head_len(ds) + 2;
  }
  ASSERT_EQ(0, strncmp(ds, "--=_sendgate-dsn-", 17));
  /* The original's Bcc lines stay inside text/rfc822-headers, as they were. */
  const char *orig = strstr(m, "Content-Type: text/rfc822-headers");
  ASSERT_NOT_NULL(orig);
  ASSERT_NOT_NULL(strstr(orig, "\r\n\r\nSubject: hi\r\nBcc: sneaky@example.com\r\n"));
}

/* Text that is not ASCII stays in the human-readable part (8bit) and is
 * replaced in header fields; a subject with it is left out of Subject:. */
static void t_non_ascii(void) {
  fixture f;
  fixture_init(&f);
  f.r.error_message = "Empfänger ungültig";
  fixture_set(&f, SG_SMTP_META_HEADERS, "Subject: Grüße\r\nMessage-ID: not an id\r\n");
  const char *m = build(&f.r);
  assert_crlf(m);
  ASSERT_NOT_NULL(strstr(m, "\r\nSubject: Undelivered Mail Returned to Sender\r\n"));
  ASSERT_NULL(strstr(m, "In-Reply-To"));
  ASSERT_NOT_NULL(strstr(m, "Content-Transfer-Encoding: 8bit\r\n\r\nThis is the mail"));
  ASSERT_NOT_NULL(strstr(m, "(HTTP 400): Empfänger ungültig\r\n"));
  ASSERT_NOT_NULL(strstr(m, "(HTTP 400): Empf??nger\r\n ung??ltig\r\n")); /* folded */
  ASSERT_NOT_NULL(strstr(m, "Subject: Grüße\r\n"));
}

static void t_more_recipients(void) {
  fixture f;
  fixture_init(&f);
  fixture_set(&f, SG_SMTP_META_NRCPTS, "150");
  const char *m = build(&f.r);
  ASSERT_NOT_NULL(strstr(m, "<bob@[192.0.2.1]>\r\n(and 148 more recipients)\r\n"));
}

/* The job: dsn-<id>, from the bounce sender to the envelope sender only, a
 * valid MIME job marked as a notification (so it never gets one itself). */
static void t_job(void) {
  fixture f;
  fixture_init(&f);
  sg_smtp_dsn_in in = {&f.r, "postmaster@contoso.com", "smtp.test", 1796551202000};
  sg_buf b = SG_BUF_INIT;
  sg_smtp_dsn_job(&b, &in);
  sg_job_msg *jm = NULL;
  sg_job_error err;
  ASSERT_OK(sg_job_decode((const uint8_t *)b.data, b.len, &jm, &err));
  const sg_job *j = sg_job_msg_view(jm);
  ASSERT_STR_EQ("dsn-" ID, j->id);
  ASSERT_STR_EQ("postmaster@contoso.com", j->sender);
  ASSERT_EQ(1, j->n_to);
  ASSERT_STR_EQ("scanner@contoso.com", j->to[0].address);
  ASSERT_EQ(0, j->n_cc + j->n_bcc);
  ASSERT_STR_EQ("", j->account);
  build(&f.r);
  ASSERT_EQ(strlen(text), j->mime_len);
  ASSERT_MEM_EQ(text, j->mime, j->mime_len);
  /* Its own failure: no notification. */
  sg_result r = {.job_id = j->id,
                 .status = SG_STATUS_FAILED,
                 .metadata = j->metadata,
                 .n_metadata = j->n_metadata};
  ASSERT_STR_EQ("1", sg_smtp_dsn_meta(&r, SG_SMTP_META_DSN));
  ASSERT_STR_EQ(ID, sg_smtp_dsn_meta(&r, SG_SMTP_META_DSN_OF));
  ASSERT_NOT_NULL(sg_smtp_dsn_skip(&r, "postmaster@contoso.com"));
  r.job_id = ID; /* even under an smtpd id */
  ASSERT_STR_EQ("notification", sg_smtp_dsn_skip(&r, "postmaster@contoso.com"));
  sg_job_msg_free(jm);
  sg_buf_free(&b);
}

/* ---- the metadata sg_smtp_job writes ---- */

static const sg_job *smtp_job(sg_job_msg **jm, const char *data, char *const *rcpts, size_t n) {
  sg_smtp_message m = {.from = "scanner@contoso.com",
                       .rcpts = rcpts,
                       .nrcpts = n,
                       .data = (const uint8_t *)data,
                       .len = strlen(data),
                       .helo = "dev",
                       .user = "scanner",
                       .account = "",
                       .tls = true};
  sg_buf b = SG_BUF_INIT;
  sg_smtp_job_build(&b, &m, ID, "192.0.2.7", "smtp.test", 1796551200000);
  sg_job_error err;
  ASSERT_OK(sg_job_decode((const uint8_t *)b.data, b.len, jm, &err));
  sg_buf_free(&b);
  return sg_job_msg_view(*jm);
}

static const char *meta(const sg_job *j, const char *key) {
  sg_result r = {.metadata = j->metadata, .n_metadata = j->n_metadata};
  return sg_smtp_dsn_meta(&r, key);
}

static void t_job_metadata(void) {
  static char a[] = "alice@fabrikam.example", b[] = "bob@fabrikam.example";
  char *rcpts[] = {a, b};
  sg_job_msg *jm;
  const sg_job *j = smtp_job(&jm,
                             "From: scanner@contoso.com\r\nSubject: s\r\n\x01\xff: x\r\n"
                             "\r\nbody\r\nNot: a header\r\n",
                             rcpts, 2);
  ASSERT_STR_EQ("scanner@contoso.com", meta(j, SG_SMTP_META_FROM));
  ASSERT_STR_EQ("alice@fabrikam.example\nbob@fabrikam.example", meta(j, SG_SMTP_META_RCPTS));
  ASSERT_STR_EQ("2", meta(j, SG_SMTP_META_NRCPTS));
  ASSERT_STR_EQ("192.0.2.7", meta(j, SG_SMTP_META_CLIENT));
  ASSERT_STR_EQ("scanner", meta(j, SG_SMTP_META_USER));
  ASSERT_NULL(meta(j, SG_SMTP_META_AUTO));
  const char *h = meta(j, SG_SMTP_META_HEADERS);
  ASSERT_EQ(0, strncmp(h, "Received: from dev ([192.0.2.7])\r\n", 34));
  const char *tail = "From: scanner@contoso.com\r\nSubject: s\r\n??: x\r\n";
  ASSERT_STR_EQ(tail, h + strlen(h) - strlen(tail));
  sg_job_msg_free(jm);

  /* A notification itself is marked. */
  j = smtp_job(&jm, "Auto-Submitted: Auto-Replied (vacation)\r\nSubject: s\r\n\r\nx", rcpts, 1);
  ASSERT_STR_EQ("1", meta(j, SG_SMTP_META_AUTO));
  sg_job_msg_free(jm);
  j = smtp_job(&jm,
               "Content-Type: multipart/report;\r\n report-type=\"delivery-status\"; "
               "boundary=x\r\n\r\nx",
               rcpts, 1);
  ASSERT_STR_EQ("1", meta(j, SG_SMTP_META_AUTO));
  sg_job_msg_free(jm);
  j = smtp_job(&jm, "Auto-Submitted: auto-generated\r\nSubject: alert\r\n\r\nx", rcpts, 1);
  ASSERT_NULL(meta(j, SG_SMTP_META_AUTO)); /* an alert still gets its bounce */
  sg_job_msg_free(jm);
}

/* The caps: recipients and header fields that do not fit are left out whole. */
static void t_job_metadata_caps(void) {
  static char addrs[100][64];
  char *rcpts[100];
  for (int i = 0; i < 100; i++) {
    snprintf(addrs[i], sizeof addrs[i], "recipient-number-%03d@fabrikam.example", i);
    rcpts[i] = addrs[i];
  }
  sg_buf msg = SG_BUF_INIT;
  for (int i = 0; i < 100; i++)
    sg_buf_printf(&msg, "X-Filler-%03d: %s\r\n", i, "a value that takes up some room");
  sg_buf_append_str(&msg, "\r\nbody\r\n");
  sg_job_msg *jm;
  const sg_job *j = smtp_job(&jm, msg.data, rcpts, 100);
  ASSERT_STR_EQ("100", meta(j, SG_SMTP_META_NRCPTS));
  const char *r = meta(j, SG_SMTP_META_RCPTS);
  ASSERT_LE(strlen(r), SG_SMTP_META_RCPTS_MAX);
  ASSERT_GT(strlen(r), SG_SMTP_META_RCPTS_MAX - 64);
  ASSERT_EQ('e', r[strlen(r) - 1]); /* a whole address last */
  const char *h = meta(j, SG_SMTP_META_HEADERS);
  ASSERT_LE(strlen(h), SG_SMTP_META_HEADERS_MAX);
  ASSERT_GT(strlen(h), SG_SMTP_META_HEADERS_MAX - 64);
  ASSERT_EQ(0, strcmp(h + strlen(h) - 33, "a value that takes up some room\r\n"));
  sg_job_msg_free(jm);
  sg_buf_free(&msg);
}

static void t_hdr_value(void) {
  const char *h = "Subject:  a\r\n\tfolded\r\n  value \r\nX-Ctl: a\x01z\r\nsubject: second\r\n";
  char v[64];
  ASSERT_EQ(15, sg_smtp_hdr_value(h, strlen(h), "SUBJECT", v, sizeof v));
  ASSERT_STR_EQ("a folded  value", v);
  ASSERT_EQ(3, sg_smtp_hdr_value(h, strlen(h), "X-Ctl", v, sizeof v));
  ASSERT_STR_EQ("a z", v);
  ASSERT_EQ(0, sg_smtp_hdr_value(h, strlen(h), "Message-ID", v, sizeof v));
  ASSERT_STR_EQ("", v);
  ASSERT_EQ(4, sg_smtp_hdr_value(h, strlen(h), "Subject", v, 5));
  ASSERT_STR_EQ("a fo", v);
}

SG_TESTS({"skip", t_skip}, {"status", t_status}, {"exact", t_exact}, {"expired", t_expired},
         {"no_injection", t_no_injection}, {"non_ascii", t_non_ascii},
         {"more_recipients", t_more_recipients}, {"job", t_job}, {"job_metadata", t_job_metadata},
         {"job_metadata_caps", t_job_metadata_caps}, {"hdr_value", t_hdr_value})
