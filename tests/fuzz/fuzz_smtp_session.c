/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the ESMTP session (smtp/sg_smtp_session.c) and what it
 * drives: the command parser, the DATA reader, the From: reader, AUTH
 * decoding and the relay policy.
 *
 * Input: one selector byte (listener mode, AUTH outcome, hand-off outcome,
 * piece size), then the bytes a client sends. The driver answers every event
 * as the glue would (TLS started, AUTH ok or bad, queued or not).
 * Checked: every reply is a CRLF line of at most 512 octets starting with a
 * 3-digit code; a handed-off message has 1..100 recipients, a non-empty
 * sender, at most max_message_bytes, and no bare CR or LF (no smuggling);
 * relay messages only come from relay_senders, submission messages only after
 * AUTH; and the output and events are the same whether the input is fed at
 * once or in pieces (unless STARTTLS ran, which drops pipelined input).
 */
#include <string.h>

#include "core/sg_mem.h"
#include "fuzz_common.h"
#include "smtp/sg_smtp_policy.h"
#include "smtp/sg_smtp_session.h"

#define MAX_MSG 2000

typedef struct run {
  sg_buf out;
  sg_buf events;
  bool starttls;
} run;

static void check_replies(const sg_buf *b) {
  const char *p = b->data, *end = b->data + b->len;
  while (p < end) {
    const char *e = memchr(p, '\n', (size_t)(end - p));
    CHECK(e != NULL && e > p && e[-1] == '\r');
    size_t n = (size_t)(e - p) + 1;
    CHECK(n <= 512);
    CHECK(n >= 5 && p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
          p[2] <= '9' && (p[3] == ' ' || p[3] == '-'));
    p = e + 1;
  }
}

static void check_message(const sg_smtp_message *m, sg_smtp_mode mode) {
  CHECK(m->nrcpts >= 1 && m->nrcpts <= 100);
  CHECK(m->from[0] != '\0');
  CHECK(m->len <= MAX_MSG);
  for (size_t i = 0; i < m->len; i++) {
    if (m->data[i] == '\n')
      CHECK(i > 0 && m->data[i - 1] == '\r');
    if (m->data[i] == '\r')
      CHECK(i + 1 < m->len && m->data[i + 1] == '\n');
  }
  if (mode == SG_SMTP_MODE_RELAY) {
    CHECK(m->user == NULL);
    CHECK(sg_smtp_addr_in_list("printer@contoso.com,@devices.contoso.com", m->from));
  } else {
    CHECK(m->user != NULL);
  }
}

static void drive(const uint8_t *p, size_t n, uint8_t sel, size_t step, run *r) {
  static char a1[] = "scanner@contoso.com", a2[] = "@alerts.contoso.com";
  static char name[] = "scanner", hash[] = "", account[] = "";
  static char *allow[] = {a1, a2};
  sg_smtp_user user = {name, hash, allow, 2, account};
  sg_smtp_mode mode = (sg_smtp_mode)(sel % 3);
  sg_smtp_session_opts o = {.mode = mode,
                            .hostname = "smtp.test",
                            .max_message_bytes = MAX_MSG,
                            .max_rcpts = 100,
                            .max_commands = 200,
                            .max_errors = 20,
                            .tls_available = true,
                            .relay_senders = "printer@contoso.com,@devices.contoso.com"};
  sg_smtp_session *s = sg_smtp_session_new(&o);
  sg_buf_init(&r->out);
  sg_buf_init(&r->events);
  r->starttls = false;
  size_t pos = 0;
  bool closed = false;
  int queued = 0;
  while (!closed) {
    size_t len = step == 0 || n - pos < step ? n - pos : step;
    sg_smtp_session_feed(s, p + pos, len);
    pos += len;
    for (;;) {
      sg_smtp_event ev = sg_smtp_session_run(s);
      sg_buf_append_char(&r->events, (char)('0' + ev));
      sg_buf *out = sg_smtp_session_output(s);
      sg_buf_append(&r->out, out->data, out->len);
      sg_buf_reset(out);
      if (ev == SG_SMTP_EV_NONE)
        break;
      if (ev == SG_SMTP_EV_CLOSE) {
        closed = true;
        break;
      }
      if (ev == SG_SMTP_EV_STARTTLS) {
        r->starttls = true;
        sg_smtp_session_tls_started(s);
      } else if (ev == SG_SMTP_EV_AUTH) {
        bool ok = (sel & 0x10) == 0;
        sg_smtp_session_auth_done(s, ok ? SG_SMTP_AUTH_OK : SG_SMTP_AUTH_BAD, ok ? &user : NULL);
      } else if (ev == SG_SMTP_EV_MESSAGE) {
        check_message(sg_smtp_session_message(s), mode);
        sg_smtp_session_queued(s, ((sel & 0x20) && (++queued % 2)) ? NULL : "smtp-1");
      }
    }
    if (pos == n)
      break;
  }
  check_replies(&r->out);
  sg_smtp_session_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  uint8_t sel = data[0];
  run a, b;
  drive(data + 1, size - 1, sel, 0, &a);
  drive(data + 1, size - 1, sel, 1 + (sel >> 6) * 7, &b);
  if (!a.starttls && !b.starttls) {
    CHECK(a.out.len == b.out.len && memcmp(a.out.data, b.out.data, a.out.len) == 0);
  }
  if (sg_fuzz_verbose())
    fprintf(stderr, "smtp_session: %zu reply bytes\n", a.out.len);
  sg_buf_free(&a.out);
  sg_buf_free(&a.events);
  sg_buf_free(&b.out);
  sg_buf_free(&b.events);
  return 0;
}
