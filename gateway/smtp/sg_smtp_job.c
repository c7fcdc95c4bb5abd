/* SPDX-License-Identifier: Apache-2.0 */
/* SMTP message -> MailJob; see sg_smtp_job.h. */
#include "smtp/sg_smtp_job.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/sg_fmt.h"
#include "core/sg_rand.h"
#include "core/sg_utf8.h"
#include "job/sg_job_codec.h"
#include "job/sg_mail_hdr.h"
#include "smtp/sg_smtp_hdr.h"

void sg_smtp_job_new_id(char out[SG_SMTP_JOB_ID_LEN + 1]) {
  uint8_t r[12];
  if (RAND_bytes(r, sizeof r) != 1) {
    /* No entropy from OpenSSL: time and a counter still give a unique id here. */
    static uint64_t ctr;
    uint64_t a = sg_rand_mix((uint64_t)time(NULL) ^ (++ctr << 32));
    uint64_t b = sg_rand_mix(a + ctr);
    memcpy(r, &a, 8);
    memcpy(r + 8, &b, 4);
  }
  memcpy(out, "smtp-", 5);
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < sizeof r; i++) {
    out[5 + 2 * i] = hex[r[i] >> 4];
    out[6 + 2 * i] = hex[r[i] & 15];
  }
  out[SG_SMTP_JOB_ID_LEN] = '\0';
}

/* Printable ASCII only: the EHLO name is the client's to choose. */
static void append_clean(sg_buf *out, const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    sg_buf_append_char(out, c > 0x20 && c < 0x7f && c != '(' && c != ')' ? (char)c : '?');
  }
}

void sg_smtp_job_received(sg_buf *out, const sg_smtp_message *m, const char *client_ip,
                          const char *host, const char *id, int64_t unix_s) {
  const char *proto = m->tls ? (m->user ? "ESMTPSA" : "ESMTPS") : (m->user ? "ESMTPA" : "ESMTP");
  if (m->smtputf8)
    proto = m->tls ? (m->user ? "UTF8SMTPSA" : "UTF8SMTPS") : (m->user ? "UTF8SMTPA" : "UTF8SMTP");
  time_t t = (time_t)unix_s;
  struct tm tm;
  gmtime_r(&t, &tm);
  char date[64];
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  sg_buf_append_str(out, "Received: from ");
  append_clean(out, m->helo[0] ? m->helo : "unknown");
  sg_buf_printf(out, " ([%s])\r\n\tby %s (sendgate) with %s id %s;\r\n\t%s\r\n", client_ip, host,
                proto, id, date);
}

/* Appends |n| bytes of |s| as valid UTF-8: a byte that starts no valid
 * sequence, and a control character other than HT, CR and LF, become '?'. */
static void append_utf8(sg_buf *out, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    size_t k = sg_utf8_seq(p + i, n - i);
    bool ctl =
        k == 1 && (p[i] < 0x20 || p[i] == 0x7f) && p[i] != '\t' && p[i] != '\r' && p[i] != '\n';
    if (k == 0 || ctl) {
      sg_buf_append_char(out, '?');
      i++;
    } else {
      sg_buf_append(out, p + i, k);
      i += k;
    }
  }
}

/* The header section of |mime| (without the empty line that ends it), whole
 * fields only, up to SG_SMTP_META_HEADERS_MAX bytes. */
static void meta_headers(sg_buf *out, const char *mime, size_t len) {
  size_t hlen = sg_mail_hdr_len(mime, len), pos = 0;
  while (pos < hlen) {
    size_t nlen, end = sg_mail_hdr_next(mime, hlen, pos, &nlen);
    bool empty = mime[pos] == '\n' || (mime[pos] == '\r' && end - pos == 2);
    if (empty || end - pos > SG_SMTP_META_HEADERS_MAX - out->len)
      break; /* the empty line, or a field that does not fit */
    append_utf8(out, mime + pos, end - pos);
    pos = end;
  }
  sg_buf_append(out, "", 0); /* data is never NULL */
}

/* The recipients that fit, one per line. */
static void meta_rcpts(sg_buf *out, const sg_smtp_message *m) {
  for (size_t i = 0; i < m->nrcpts; i++) {
    size_t n = strlen(m->rcpts[i]);
    if (out->len + n + 1 > SG_SMTP_META_RCPTS_MAX)
      break;
    if (out->len)
      sg_buf_append_char(out, '\n');
    append_utf8(out, m->rcpts[i], n);
  }
  sg_buf_append(out, "", 0);
}

/* The message is a notification itself: an automatic reply (RFC 3834) or
 * a delivery status report (RFC 3464). */
static bool is_notification(const char *hdr, size_t hlen) {
  char v[256];
  sg_smtp_hdr_value(hdr, hlen, "Auto-Submitted", v, sizeof v);
  if (strncasecmp(v, "auto-replied", 12) == 0)
    return true;
  sg_smtp_hdr_value(hdr, hlen, "Content-Type", v, sizeof v);
  return strncasecmp(v, "multipart/report", 16) == 0 && strcasestr(v, "delivery-status") != NULL;
}

void sg_smtp_job_build(sg_buf *out, const sg_smtp_message *m, const char *id, const char *client_ip,
                       const char *host, int64_t now_ms) {
  sg_buf mime;
  sg_buf_init(&mime);
  sg_smtp_job_received(&mime, m, client_ip, host, id, now_ms / 1000);
  sg_buf_append(&mime, m->data, m->len);

  sg_job_addr *to = sg_xcalloc(m->nrcpts ? m->nrcpts : 1, sizeof *to);
  for (size_t i = 0; i < m->nrcpts; i++)
    to[i] = (sg_job_addr){m->rcpts[i], ""};
  sg_buf hdrs, rcpts;
  sg_buf_init(&hdrs);
  sg_buf_init(&rcpts);
  meta_headers(&hdrs, mime.data, mime.len);
  meta_rcpts(&rcpts, m);
  char nrcpts[24];
  snprintf(nrcpts, sizeof nrcpts, "%zu", m->nrcpts);
  sg_job_kv meta[7];
  size_t nmeta = 0;
  meta[nmeta++] = (sg_job_kv){SG_SMTP_META_CLIENT, client_ip};
  if (m->user)
    meta[nmeta++] = (sg_job_kv){SG_SMTP_META_USER, m->user};
  meta[nmeta++] = (sg_job_kv){SG_SMTP_META_FROM, m->from};
  meta[nmeta++] = (sg_job_kv){SG_SMTP_META_RCPTS, rcpts.data};
  meta[nmeta++] = (sg_job_kv){SG_SMTP_META_NRCPTS, nrcpts};
  meta[nmeta++] = (sg_job_kv){SG_SMTP_META_HEADERS, hdrs.data};
  if (is_notification(hdrs.data, hdrs.len))
    meta[nmeta++] = (sg_job_kv){SG_SMTP_META_AUTO, "1"};
  sg_job j = {.id = id,
              .backend = SG_BACKEND_UNSPECIFIED,
              .account = m->account ? m->account : "",
              .sender = m->from,
              .to = to,
              .n_to = m->nrcpts,
              .subject = "",
              .text_body = "",
              .html_body = "",
              .mime = (const uint8_t *)mime.data,
              .mime_len = mime.len,
              .reply_stream = "",
              .campaign_id = "",
              .metadata = meta,
              .n_metadata = nmeta,
              .created_unix_ms = now_ms};
  sg_job_encode(&j, out);
  sg_free(to);
  sg_buf_free(&mime);
  sg_buf_free(&hdrs);
  sg_buf_free(&rcpts);
}
