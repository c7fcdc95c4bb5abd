/* SPDX-License-Identifier: Apache-2.0 */
/* Delivery status notifications (RFC 3464); see sg_smtp_dsn.h. */
#include "smtp/sg_smtp_dsn.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "job/sg_job_codec.h"
#include "smtp/sg_smtp_hdr.h"
#include "smtp/sg_smtp_job.h"

/* Header lines are folded before this column (RFC 5322 2.1.1 recommends 78). */
#define FOLD_COL 76
/* A word longer than this is cut (RFC 5322 2.1.1: lines of at most 998). */
#define WORD_MAX 900
/* The longest subject, Message-ID or diagnostic copied from a message or result. */
#define TEXT_MAX 900

const char *sg_smtp_dsn_meta(const sg_result *r, const char *key) {
  for (size_t i = 0; i < r->n_metadata; i++)
    if (r->metadata[i].key && strcmp(r->metadata[i].key, key) == 0)
      return r->metadata[i].value ? r->metadata[i].value : "";
  return NULL;
}

static bool is_one(const char *v) {
  return v != NULL && strcmp(v, "1") == 0;
}

/* A null reverse-path (RFC 5321 4.5.5) or a mailer daemon's address. */
static bool null_sender(const char *from) {
  return strcmp(from, "<>") == 0 || strncasecmp(from, "mailer-daemon@", 14) == 0 ||
         strcasecmp(from, "mailer-daemon") == 0;
}

const char *sg_smtp_dsn_skip(const sg_result *r, const char *bounce_sender) {
  if (bounce_sender == NULL || bounce_sender[0] == '\0')
    return "off";
  if (r->job_id == NULL || strncmp(r->job_id, "smtp-", 5) != 0)
    return "not smtpd's";
  if (r->status == SG_STATUS_SENT)
    return "sent";
  if (r->status != SG_STATUS_FAILED && r->status != SG_STATUS_EXPIRED &&
      r->status != SG_STATUS_INVALID)
    return "status";
  if (is_one(sg_smtp_dsn_meta(r, SG_SMTP_META_DSN)) ||
      is_one(sg_smtp_dsn_meta(r, SG_SMTP_META_AUTO)))
    return "notification";
  const char *from = sg_smtp_dsn_meta(r, SG_SMTP_META_FROM);
  if (from == NULL || from[0] == '\0')
    return "no sender";
  if (null_sender(from))
    return "null sender";
  if (strcasecmp(from, bounce_sender) == 0)
    return "notification"; /* never a notification to the notifier */
  const char *rcpts = sg_smtp_dsn_meta(r, SG_SMTP_META_RCPTS);
  if (rcpts == NULL || rcpts[0] == '\0')
    return "no recipients";
  return NULL;
}

const char *sg_smtp_dsn_status(const sg_result *r) {
  if (r->status == SG_STATUS_EXPIRED)
    return "4.4.7"; /* delivery time expired */
  if (r->status == SG_STATUS_INVALID && r->error_code) {
    static const struct {
      const char *code, *status;
    } map[] = {
        {SG_JOBERR_TOO_LARGE, "5.3.4"},           /* message too big for system */
        {SG_JOBERR_SENDER_NOT_ALLOWED, "5.7.1"},  /* delivery not authorized */
        {SG_JOBERR_BAD_ADDRESS, "5.1.3"},         /* bad destination address syntax */
        {SG_JOBERR_TOO_MANY_RECIPIENTS, "5.5.3"}, /* too many recipients */
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
      if (strcmp(r->error_code, map[i].code) == 0)
        return map[i].status;
  }
  return "5.0.0";
}

/* ---- text that goes into the notification ---- */

/* Appends at most |max| bytes of |s| with control characters (CR, LF and HT
 * included) turned into spaces and, when |ascii|, non-ASCII bytes into '?';
 * cut at a UTF-8 character boundary. */
static void clean(sg_buf *out, const char *s, size_t max, bool ascii) {
  size_t n = s ? strlen(s) : 0;
  if (n > max) {
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
      n--;
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7f)
      c = ' ';
    else if (ascii && c >= 0x80)
      c = '?';
    sg_buf_append_char(out, (char)c);
  }
}

static bool has_8bit(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] >= 0x80)
      return true;
  return false;
}

/*
 * Appends |v| (no CR or LF) in words: a line that would pass FOLD_COL goes
 * on after |cont| (a line end, then a blank for a folded header field), and
 * a word longer than WORD_MAX is cut. |col| is where the first word starts.
 */
static void put_words(sg_buf *out, size_t col, const char *v, const char *cont) {
  bool first = true;
  size_t contcol = strlen(cont) - 2;
  while (*v) {
    v += strspn(v, " ");
    if (*v == '\0')
      break;
    size_t w = strcspn(v, " "), k = w > WORD_MAX ? WORD_MAX : w;
    while (k < w && k > 0 && ((unsigned char)v[k] & 0xC0) == 0x80)
      k--;
    if (!first && col + 1 + k > FOLD_COL) {
      sg_buf_append_str(out, cont);
      col = contcol;
    } else if (!first) {
      sg_buf_append_char(out, ' ');
      col++;
    }
    sg_buf_append(out, v, k);
    col += k;
    first = false;
    v += w;
  }
  sg_buf_append(out, "\r\n", 2);
}

/* A header field "Name: value", |value| cleaned (ASCII only) and folded. */
static void put_field(sg_buf *out, const char *name, const char *value) {
  sg_buf v = SG_BUF_INIT;
  clean(&v, value, TEXT_MAX, true);
  sg_buf_printf(out, "%s: ", name);
  put_words(out, strlen(name) + 2, v.data ? v.data : "", "\r\n ");
  sg_buf_free(&v);
}

/* A paragraph of the human-readable part, cleaned (UTF-8 kept) and wrapped. */
static void put_text(sg_buf *out, const char *text) {
  sg_buf v = SG_BUF_INIT;
  clean(&v, text, 2 * TEXT_MAX, false);
  put_words(out, 0, v.data ? v.data : "", "\r\n");
  sg_buf_free(&v);
}

/* An RFC 5322 date-time in UTC ("+0000", not the obsolete "GMT"). */
static void imf_date(int64_t unix_ms, char out[40]) {
  time_t t = (time_t)(unix_ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 40, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* "ErrorInvalidRecipients (HTTP 400): message", or the status name. */
static void diagnostic(sg_buf *out, const sg_result *r) {
  const char *code = r->error_code && r->error_code[0] ? r->error_code : NULL;
  const char *msg = r->error_message && r->error_message[0] ? r->error_message : NULL;
  sg_buf_append_str(out, code ? code : sg_status_name(r->status));
  if (r->http_status > 0)
    sg_buf_printf(out, " (HTTP %d)", (int)r->http_status);
  if (msg) {
    sg_buf_append_str(out, ": ");
    sg_buf_append_str(out, msg);
  }
}

/* Calls |fn| for each recipient line of |rcpts| (LF-separated); returns the count. */
static size_t each_rcpt(const char *rcpts, void (*fn)(sg_buf *, const char *, const void *),
                        sg_buf *out, const void *ud) {
  size_t n = 0;
  char addr[SG_SMTP_META_RCPTS_MAX + 1];
  while (*rcpts) {
    size_t len = strcspn(rcpts, "\n");
    if (len > 0 && len < sizeof addr) {
      memcpy(addr, rcpts, len);
      addr[len] = '\0';
      fn(out, addr, ud);
      n++;
    }
    rcpts += len;
    rcpts += *rcpts == '\n';
  }
  return n;
}

static void human_rcpt(sg_buf *out, const char *addr, const void *ud) {
  (void)ud;
  sg_buf line = SG_BUF_INIT;
  sg_buf_append_char(&line, '<');
  sg_buf_append_str(&line, addr);
  sg_buf_append_char(&line, '>');
  put_text(out, line.data);
  sg_buf_free(&line);
}

/* The first part: what happened, for people. */
static void human_part(sg_buf *out, const sg_smtp_dsn_in *in, const char *subject) {
  const sg_result *r = in->result;
  sg_buf t = SG_BUF_INIT;
  sg_buf_printf(&t, "This is the mail system at host %s.", in->reporting_mta);
  put_text(out, t.data);
  sg_buf_append_str(out, "\r\n");
  if (r->status == SG_STATUS_EXPIRED)
    put_text(out, "Your message could not be delivered to the recipients below in the time "
                  "allowed; it has been given up.");
  else if (r->status == SG_STATUS_INVALID)
    put_text(out, "Your message could not be delivered to the recipients below: the gateway "
                  "refused it before sending.");
  else
    put_text(out, "Your message could not be delivered to the recipients below: the mail "
                  "service refused it.");
  sg_buf_append_str(out, "\r\n");
  const char *rcpts = sg_smtp_dsn_meta(r, SG_SMTP_META_RCPTS);
  size_t listed = each_rcpt(rcpts ? rcpts : "", human_rcpt, out, NULL);
  const char *total = sg_smtp_dsn_meta(r, SG_SMTP_META_NRCPTS);
  unsigned long long all = total ? strtoull(total, NULL, 10) : 0;
  if (all > listed) {
    sg_buf_reset(&t);
    sg_buf_printf(&t, "(and %llu more recipients)", all - listed);
    put_text(out, t.data);
  }
  sg_buf_append_str(out, "\r\n");
  sg_buf_reset(&t);
  sg_buf_append_str(&t, "Reason: ");
  diagnostic(&t, r);
  put_text(out, t.data);
  sg_buf_reset(&t);
  sg_buf_printf(&t, "Queue id: %s", r->job_id);
  put_text(out, t.data);
  if (subject[0]) {
    sg_buf_reset(&t);
    sg_buf_printf(&t, "Subject: %s", subject);
    put_text(out, t.data);
  }
  sg_buf_append_str(out, "\r\n");
  put_text(out, "The header section of your message is attached.");
  sg_buf_free(&t);
}

typedef struct status_ctx {
  const sg_result *r;
  const char *status;
} status_ctx;

static void status_rcpt(sg_buf *out, const char *addr, const void *ud) {
  const status_ctx *c = ud;
  sg_buf v = SG_BUF_INIT;
  sg_buf_append_str(out, "\r\n");
  sg_buf_printf(&v, "rfc822; %s", addr);
  put_field(out, "Final-Recipient", v.data);
  put_field(out, "Action", "failed");
  put_field(out, "Status", c->status);
  sg_buf_reset(&v);
  sg_buf_append_str(&v, "X-Sendgate; ");
  diagnostic(&v, c->r);
  put_field(out, "Diagnostic-Code", v.data);
  if (c->r->completed_unix_ms > 0) {
    char date[40];
    imf_date(c->r->completed_unix_ms, date);
    put_field(out, "Last-Attempt-Date", date);
  }
  sg_buf_free(&v);
}

/* The second part: message/delivery-status (RFC 3464 2.2, 2.3). */
static void status_part(sg_buf *out, const sg_smtp_dsn_in *in) {
  const sg_result *r = in->result;
  sg_buf v = SG_BUF_INIT;
  sg_buf_printf(&v, "dns; %s", in->reporting_mta);
  put_field(out, "Reporting-MTA", v.data);
  put_field(out, "X-Sendgate-Queue-ID", r->job_id);
  if (r->created_unix_ms > 0) {
    char date[40];
    imf_date(r->created_unix_ms, date);
    put_field(out, "Arrival-Date", date);
  }
  status_ctx c = {r, sg_smtp_dsn_status(r)};
  const char *rcpts = sg_smtp_dsn_meta(r, SG_SMTP_META_RCPTS);
  each_rcpt(rcpts ? rcpts : "", status_rcpt, out, &c);
  sg_buf_free(&v);
}

/* The third part: the original header section with CRLF line ends. */
static void headers_part(sg_buf *out, const char *hdrs) {
  for (const char *p = hdrs; *p; p++) {
    if (*p == '\r')
      continue;
    if (*p == '\n')
      sg_buf_append(out, "\r\n", 2);
    else
      sg_buf_append_char(out, *p);
  }
  if (out->len >= 2 && memcmp(out->data + out->len - 2, "\r\n", 2) != 0)
    sg_buf_append(out, "\r\n", 2);
}

/* A msg-id as RFC 5322 3.6.4 writes it: "<...>", visible ASCII, no other angle bracket. */
static bool msgid_ok(const char *id) {
  size_t n = strlen(id);
  if (n < 3 || id[0] != '<' || id[n - 1] != '>')
    return false;
  for (size_t i = 1; i + 1 < n; i++)
    if ((unsigned char)id[i] <= 0x20 || (unsigned char)id[i] >= 0x7f || id[i] == '<' ||
        id[i] == '>')
      return false;
  return true;
}

static bool contains(const sg_buf *b, const char *s) {
  return b->len > 0 && memmem(b->data, b->len, s, strlen(s)) != NULL;
}

static const char *cte(const sg_buf *b) {
  return b->len && has_8bit(b->data, b->len) ? "8bit" : "7bit";
}

void sg_smtp_dsn_build(sg_buf *out, const sg_smtp_dsn_in *in) {
  const sg_result *r = in->result;
  const char *hdrs = sg_smtp_dsn_meta(r, SG_SMTP_META_HEADERS);
  hdrs = hdrs ? hdrs : "";
  char subject[TEXT_MAX + 1], msgid[TEXT_MAX + 1];
  sg_smtp_hdr_value(hdrs, strlen(hdrs), "Subject", subject, sizeof subject);
  sg_smtp_hdr_value(hdrs, strlen(hdrs), "Message-ID", msgid, sizeof msgid);

  sg_buf human = SG_BUF_INIT, status = SG_BUF_INIT, orig = SG_BUF_INIT;
  human_part(&human, in, subject);
  status_part(&status, in);
  headers_part(&orig, hdrs);

  /* A boundary that none of the parts holds (they carry text from the
   * message and the provider). */
  char boundary[200];
  for (unsigned i = 0;; i++) {
    snprintf(boundary, sizeof boundary, "=_sendgate-dsn-%.128s-%u", r->job_id, i);
    if (!contains(&human, boundary) && !contains(&status, boundary) && !contains(&orig, boundary))
      break;
  }

  char date[40];
  imf_date(in->now_ms, date);
  sg_buf v = SG_BUF_INIT;
  sg_buf_printf(&v, "Mail Delivery System <%s>", in->bounce_sender);
  put_field(out, "From", v.data);
  sg_buf_reset(&v);
  sg_buf_printf(&v, "<%s>", sg_smtp_dsn_meta(r, SG_SMTP_META_FROM));
  put_field(out, "To", v.data);
  sg_buf_reset(&v);
  sg_buf_append_str(&v, "Undelivered Mail Returned to Sender");
  if (subject[0] && !has_8bit(subject, strlen(subject)))
    sg_buf_printf(&v, ": %s", subject);
  put_field(out, "Subject", v.data);
  put_field(out, "Date", date);
  sg_buf_reset(&v);
  sg_buf_printf(&v, "<%s%s@%s>", SG_SMTP_DSN_ID_PREFIX, r->job_id, in->reporting_mta);
  put_field(out, "Message-ID", v.data);
  if (msgid_ok(msgid)) {
    put_field(out, "In-Reply-To", msgid);
    put_field(out, "References", msgid);
  }
  put_field(out, "Auto-Submitted", "auto-replied");
  put_field(out, "MIME-Version", "1.0");
  sg_buf_printf(out,
                "Content-Type: multipart/report; report-type=delivery-status;\r\n"
                " boundary=\"%s\"\r\n\r\n",
                boundary);
  sg_buf_append_str(out, "This is a MIME-encapsulated message.\r\n\r\n");

  sg_buf_printf(out, "--%s\r\n", boundary);
  sg_buf_printf(out,
                "Content-Type: text/plain; charset=utf-8\r\nContent-Description: Notification\r\n"
                "Content-Transfer-Encoding: %s\r\n\r\n",
                cte(&human));
  sg_buf_append(out, human.data, human.len);
  sg_buf_printf(out, "\r\n--%s\r\n", boundary);
  sg_buf_append_str(out, "Content-Type: message/delivery-status\r\n"
                         "Content-Description: Delivery report\r\n\r\n");
  sg_buf_append(out, status.data, status.len);
  sg_buf_printf(out, "\r\n--%s\r\n", boundary);
  sg_buf_printf(out,
                "Content-Type: text/rfc822-headers\r\nContent-Description: Undelivered message "
                "headers\r\nContent-Transfer-Encoding: %s\r\n\r\n",
                cte(&orig));
  sg_buf_append(out, orig.data ? orig.data : "", orig.len);
  sg_buf_printf(out, "\r\n--%s--\r\n", boundary);
  sg_buf_free(&v);
  sg_buf_free(&human);
  sg_buf_free(&status);
  sg_buf_free(&orig);
}

void sg_smtp_dsn_job(sg_buf *out, const sg_smtp_dsn_in *in) {
  const sg_result *r = in->result;
  char id[SG_JOB_ID_MAX + 1];
  snprintf(id, sizeof id, "%s%s", SG_SMTP_DSN_ID_PREFIX, r->job_id);
  sg_buf mime = SG_BUF_INIT;
  sg_smtp_dsn_build(&mime, in);
  sg_job_addr to = {sg_smtp_dsn_meta(r, SG_SMTP_META_FROM), ""};
  sg_job_kv meta[] = {{SG_SMTP_META_DSN, "1"}, {SG_SMTP_META_DSN_OF, r->job_id}};
  sg_job j = {.id = id,
              .backend = SG_BACKEND_UNSPECIFIED,
              .account = "",
              .sender = in->bounce_sender,
              .to = &to,
              .n_to = 1,
              .subject = "",
              .text_body = "",
              .html_body = "",
              .mime = (const uint8_t *)mime.data,
              .mime_len = mime.len,
              .reply_stream = "",
              .campaign_id = "",
              .metadata = meta,
              .n_metadata = sizeof meta / sizeof meta[0],
              .created_unix_ms = in->now_ms};
  sg_job_encode(&j, out);
  sg_buf_free(&mime);
}
