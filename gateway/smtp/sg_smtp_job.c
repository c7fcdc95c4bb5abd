/* SPDX-License-Identifier: Apache-2.0 */
/* SMTP message -> MailJob; see sg_smtp_job.h. */
#include "smtp/sg_smtp_job.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/sg_fmt.h"
#include "core/sg_rand.h"
#include "job/sg_job_codec.h"

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

void sg_smtp_job_build(sg_buf *out, const sg_smtp_message *m, const char *id, const char *client_ip,
                       const char *host, int64_t now_ms) {
  sg_buf mime;
  sg_buf_init(&mime);
  sg_smtp_job_received(&mime, m, client_ip, host, id, now_ms / 1000);
  sg_buf_append(&mime, m->data, m->len);

  sg_job_addr *to = sg_xcalloc(m->nrcpts ? m->nrcpts : 1, sizeof *to);
  for (size_t i = 0; i < m->nrcpts; i++)
    to[i] = (sg_job_addr){m->rcpts[i], ""};
  sg_job_kv meta[2];
  size_t nmeta = 0;
  meta[nmeta++] = (sg_job_kv){"smtp_client", client_ip};
  if (m->user)
    meta[nmeta++] = (sg_job_kv){"smtp_user", m->user};
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
}
