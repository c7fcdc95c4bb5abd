/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the sandbox's SMTP stand-in session
 * (sandbox/sg_sbx_smtp.c) fed arbitrary client bytes.
 *
 * Input: one selector byte (role, piece size, faults), then the bytes a
 * client sends. The driver says "TLS done" whenever the session asks.
 * Checked: every reply line ends in CRLF and starts with a 3-digit code
 * 2xx..5xx and a space or '-'; a delivered message has 1..1000 recipients,
 * an authenticated mailbox, at most max_message_bytes, and CRLF line ends
 * only; nothing is delivered before TLS and AUTH.
 */
#include <string.h>

#include "core/sg_mem.h"
#include "fuzz_common.h"
#include "sandbox/sg_sbx_smtp.h"

#define MAX_MSG 4096

typedef struct run {
  bool tls;
  uint8_t sel;
  int delivered;
} run;

static sg_sbx_token_status check_token(void *ud, const char *tok, size_t len) {
  (void)ud;
  return len == 4 && memcmp(tok, "good", 4) == 0 ? SG_SBX_TOKEN_OK : SG_SBX_TOKEN_EXPIRED;
}

static bool take(void *ud, const char *mailbox) {
  CHECK(mailbox && mailbox[0]);
  return (((run *)ud)->sel & 0x40) == 0;
}

static sg_sbx_fault fault(void *ud) {
  static const sg_sbx_fault f[] = {SG_SBX_FAULT_NONE, SG_SBX_FAULT_NONE, SG_SBX_FAULT_DROP,
                                   SG_SBX_FAULT_504};
  return f[(((run *)ud)->sel >> 4) & 3];
}

static void deliver(void *ud, const sg_sbx_smtp_delivery *d, char id[64]) {
  run *r = ud;
  CHECK(r->tls);
  CHECK(d->mailbox && d->mailbox[0]);
  CHECK(d->n_rcpts >= 1 && d->n_rcpts <= SG_SBX_SMTP_MAX_RCPTS);
  CHECK(d->len <= MAX_MSG);
  for (size_t i = 0; i < d->len; i++) {
    if (d->data[i] == '\n')
      CHECK(i > 0 && d->data[i - 1] == '\r');
    if (d->data[i] == '\r')
      CHECK(i + 1 < d->len && d->data[i + 1] == '\n');
  }
  r->delivered++;
  snprintf(id, 64, "id");
}

static void check_replies(sg_buf *b) {
  const char *p = b->data, *end = b->data + b->len;
  while (p < end) {
    const char *e = memchr(p, '\n', (size_t)(end - p));
    CHECK(e != NULL && e > p && e[-1] == '\r');
    size_t n = (size_t)(e - p) + 1;
    CHECK(n >= 5 && p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
          p[2] <= '9' && (p[3] == ' ' || p[3] == '-'));
    p = e + 1;
  }
  sg_buf_reset(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  run r = {false, data[0], 0};
  data++;
  size--;
  sg_sbx_smtp_policy pol = {(r.sel & 1) ? SG_SBX_SMTP_HVE : SG_SBX_SMTP_EXCHANGE,
                            "hve@contoso.com",
                            "pw",
                            "contoso.com",
                            3,
                            MAX_MSG,
                            (r.sel & 2) != 0,
                            (r.sel & 0x80) != 0,
                            "full@contoso.com"};
  sg_sbx_smtp_hooks hooks = {check_token, take, fault, deliver, &r};
  sg_sbx_smtp *s = sg_sbx_smtp_new(&pol, &hooks);
  size_t piece = (size_t)1 << ((r.sel >> 2) & 3) * 2; /* 1, 4, 16, 64 */
  bool drop = false;
  for (size_t off = 0; off < size && !sg_sbx_smtp_closed(s, &drop); off += piece) {
    size_t n = size - off < piece ? size - off : piece;
    sg_sbx_smtp_feed(s, data + off, n);
    check_replies(sg_sbx_smtp_output(s));
    if (sg_sbx_smtp_want_tls(s)) {
      r.tls = true;
      sg_sbx_smtp_tls_done(s);
    }
  }
  if (sg_fuzz_verbose())
    fprintf(stderr, "sel=%02x delivered=%d\n", r.sel, r.delivered);
  sg_sbx_smtp_free(s);
  return 0;
}
