/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the SMTP client's pure parts: the reply parser
 * (smtpc/sg_smtpc_reply.c), the EHLO reader and the session machine
 * (sg_smtpc_proto.c) fed arbitrary server bytes.
 *
 * Input: one selector byte (AUTH mechanism, XOAUTH2 form, piece size,
 * recipients), then the server's bytes. The driver starts one message, says
 * "TLS done" whenever the machine asks for TLS, pumps the body, and after
 * each outcome starts another message while the session is open.
 * Checked: the reply parser never reports more bytes used than given; every
 * line the client writes outside the body ends in CRLF and contains no bare
 * CR or LF, and no AUTH line is ever written before TLS; at most one outcome
 * per message; an outcome after the session closed comes with no more
 * output; the machine reaches no state where it waits without a timeout.
 */
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "fuzz_common.h"
#include "smtpc/sg_smtpc_ehlo.h"
#include "smtpc/sg_smtpc_proto.h"
#include "smtpc/sg_smtpc_reply.h"

static const char MSG[] = "From: a@contoso.com\r\nSubject: x\r\n\r\n.dot\r\nbody\n";

static void check_output(sg_smtpc_proto *p, bool body_phase) {
  sg_buf *o = sg_smtpc_proto_output(p);
  if (!sg_smtpc_proto_tls_active(p)) {
    for (size_t i = 0; i + 4 < o->len; i++)
      CHECK(memcmp(o->data + i, "AUTH", 4) != 0);
  }
  if (!body_phase && o->len > 0) {
    CHECK(o->len >= 2 && o->data[o->len - 2] == '\r' && o->data[o->len - 1] == '\n');
    for (size_t i = 0; i < o->len; i++) {
      if (o->data[i] == '\n')
        CHECK(i > 0 && o->data[i - 1] == '\r');
      if (o->data[i] == '\r')
        CHECK(i + 1 < o->len && o->data[i + 1] == '\n');
    }
  }
  sg_buf_reset(o);
}

static void fuzz_replies(const uint8_t *data, size_t size) {
  sg_smtpc_reply r;
  size_t off = 0;
  while (off < size) {
    size_t used = 0;
    int rv = sg_smtpc_reply_parse((const char *)data + off, size - off, &r, &used);
    if (rv != 0)
      break;
    CHECK(used > 0 && used <= size - off);
    CHECK(r.code >= 200 && r.code <= 599);
    CHECK(r.text_len == strlen(r.text));
    sg_smtpc_ext e;
    sg_smtpc_ehlo_parse(&r, &e);
    off += used;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  uint8_t sel = data[0];
  data++;
  size--;
  fuzz_replies(data, size);

  sg_smtpc_opts o;
  memset(&o, 0, sizeof o);
  static const sg_smtpc_auth auths[] = {SG_SMTPC_AUTH_XOAUTH2, SG_SMTPC_AUTH_PLAIN,
                                        SG_SMTPC_AUTH_LOGIN, SG_SMTPC_AUTH_NONE};
  o.auth = auths[sel & 3];
  o.xoauth2_two_step = (sel & 4) != 0;
  o.plaintext = o.auth == SG_SMTPC_AUTH_NONE && (sel & 8);
  o.user = "mbx@contoso.com";
  o.secret = "token";
  size_t piece = (size_t)1 << ((sel >> 4) & 7); /* 1..128 */
  static const char *const rcpts[] = {"a@contoso.com", "b@contoso.com", "c@contoso.com"};
  sg_smtpc_env env = {"a@contoso.com", rcpts, (size_t)1 + ((sel >> 7) & 1) * 2};

  sg_smtpc_proto *p;
  CHECK(sg_smtpc_proto_new(&p, &o) == 0);
  char err[200];
  CHECK(sg_smtpc_proto_start(p, &env, (const uint8_t *)MSG, strlen(MSG), err, sizeof err) == 0);
  int messages = 1, outcomes = 0;
  for (size_t off = 0; off < size && !sg_smtpc_proto_closed(p); off += piece) {
    size_t n = size - off < piece ? size - off : piece;
    sg_smtpc_proto_feed(p, data + off, n);
    check_output(p, false);
    if (sg_smtpc_proto_want_tls(p)) {
      sg_smtpc_proto_tls_done(p);
      check_output(p, false);
    }
    if (sg_smtpc_proto_body_pending(p)) {
      while (sg_smtpc_proto_body_pending(p))
        sg_smtpc_proto_pump(p, 16);
      check_output(p, true);
    }
    sg_outcome r;
    while (sg_smtpc_proto_take_result(p, &r)) {
      outcomes++;
      CHECK(outcomes <= messages);
    }
    if (!sg_smtpc_proto_closed(p))
      CHECK(sg_smtpc_proto_wait_ms(p) > 0 || sg_smtpc_proto_idle(p));
    if (sg_smtpc_proto_idle(p) && messages < 4) {
      CHECK(sg_smtpc_proto_start(p, &env, (const uint8_t *)MSG, strlen(MSG), err, sizeof err) == 0);
      messages++;
      check_output(p, false);
    }
  }
  sg_smtpc_proto_fail(p, SG_ERR_EOF);
  sg_outcome r;
  while (sg_smtpc_proto_take_result(p, &r))
    outcomes++;
  CHECK(outcomes == messages);
  CHECK(sg_smtpc_proto_closed(p));
  if (sg_fuzz_verbose())
    fprintf(stderr, "sel=%02x messages=%d stage=%s\n", sel, messages,
            sg_smtpc_stage_name(sg_smtpc_proto_stage(p)));
  sg_smtpc_proto_del(p);
  return 0;
}
