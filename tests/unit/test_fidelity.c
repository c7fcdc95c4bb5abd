/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Content fidelity, as a property: every string a producer writes either
 * reaches the provider byte for byte, or the job is INVALID with a code that
 * says why; never a silently altered message. Random strings of awkward
 * characters (controls, C1, DEL, line separators, BOM, astral planes, JSON
 * escapes) go through the real codec (encode, decode, validate) and the real
 * Graph and ACS builders, and what the sandbox's validators parse out of the
 * request bodies is compared with what went in. Fixed seed, bounded count.
 */
#include "harness.h"

#include <stdbool.h>

#include "core/sg_err.h"
#include "core/sg_rand.h"
#include "job/sg_job_codec.h"
#include "sandbox/sg_sbx_acs.h"
#include "sandbox/sg_sbx_graph.h"
#include "svc/sg_acs.h"
#include "svc/sg_graph.h"

#define ROUNDS 400
#define MB "sender@contoso.com"

static uint64_t rng = 0x5eed5eed5eedULL;
static uint64_t next_rand(void) {
  return sg_rand_next(&rng);
}

/* Pieces a string is made of; |bad| says which the codec must refuse in a header field. */
typedef struct piece {
  const char *s;
  enum { OK, CTL, CRLF } bad;
} piece;

static const piece pieces[] = {
    {"a", OK},
    {"Z", OK},
    {" ", OK},
    {"\t", OK},
    {"\"", OK},
    {"\\", OK},
    {"/", OK},
    {"<", OK},
    {"&", OK},
    {"\xc3\xa9", OK},
    {"\xe4\xb8\xad", OK},
    {"\xf0\x9f\x98\x80", OK},
    {"\xe2\x80\xa8", OK},
    {"\xe2\x80\xa9", OK},
    {"\xef\xbb\xbf", OK},
    {"\xc2\xa0", OK},
    {"\x01", CTL},
    {"\x1b", CTL},
    {"\x7f", CTL},
    {"\xc2\x85", CTL},
    {"\xc2\x9f", CTL},
    {"\r", CRLF},
    {"\n", CRLF},
};

/* Whether this round's strings may hold characters the codec refuses (half the rounds). */
static bool awkward;

/* A random string of 1..12 pieces into |out|; returns the worst piece in it. */
static int make(char *out, size_t cap) {
  size_t n = 1 + next_rand() % 12, len = 0;
  int worst = OK;
  out[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    const piece *p = &pieces[next_rand() % SG_ARRAY_LEN(pieces)];
    if (p->bad != OK && !awkward)
      p = &pieces[0];
    size_t pl = strlen(p->s);
    if (len + pl + 1 > cap)
      break;
    memcpy(out + len, p->s, pl + 1);
    len += pl;
    if ((int)p->bad > worst)
      worst = p->bad;
  }
  return worst;
}

static void check_graph(const sg_job *j) {
  sg_buf body = SG_BUF_INIT;
  const char *ct;
  ASSERT_OK(sg_graph_build(j, &body, &ct));
  sg_sbx_msg m;
  sg_sbx_verdict v;
  if (sg_sbx_graph_validate(ct, body.data, body.len, MB, NULL, &m, &v) != 0)
    SG_FAIL_("graph refused %s: %s", v.code, v.message);
  ASSERT_STR_EQ(j->subject, m.subject);
  ASSERT_STR_EQ(j->to[0].name, m.to.v[0].name ? m.to.v[0].name : "");
  ASSERT_EQ(strlen(j->text_body), m.body_len);
  ASSERT_EQ(1, m.n_hdrs);
  ASSERT_STR_EQ(j->headers[0].value, m.hdrs[0].value);
  ASSERT_EQ(1, m.n_atts);
  ASSERT_STR_EQ(j->attachments[0].name, m.atts[0].name);
  sg_sbx_msg_free(&m);
  sg_buf_free(&body);
}

static void check_acs(const sg_job *j) {
  sg_buf body = SG_BUF_INIT;
  ASSERT_OK(sg_acs_build(j, "2025-09-01", NULL, &body));
  sg_sbx_msg m;
  sg_sbx_verdict v;
  if (sg_sbx_acs_validate(body.data, body.len, "2025-09-01", NULL, &m, &v) != 0)
    SG_FAIL_("acs refused %s: %s", v.code, v.message);
  ASSERT_STR_EQ(j->subject, m.subject);
  ASSERT_STR_EQ(j->to[0].name, m.to.v[0].name ? m.to.v[0].name : "");
  ASSERT_EQ(strlen(j->text_body), m.body_len);
  ASSERT_EQ(1, m.n_hdrs);
  ASSERT_STR_EQ(j->headers[0].value, m.hdrs[0].value);
  ASSERT_STR_EQ(j->attachments[0].name, m.atts[0].name);
  sg_sbx_msg_free(&m);
  sg_buf_free(&body);
}

static void t_round_trip_or_refused(void) {
  size_t sent = 0, refused = 0;
  for (int round = 0; round < ROUNDS; round++) {
    char subject[64], name[64], value[64], att[64], text[64];
    int worst = OK, w;
    awkward = next_rand() % 2 == 0;
    if ((w = make(subject, sizeof subject)) > worst)
      worst = w;
    if ((w = make(name, sizeof name)) > worst)
      worst = w;
    if ((w = make(value, sizeof value)) > worst)
      worst = w;
    if ((w = make(att, sizeof att)) > worst)
      worst = w;
    awkward = true;
    make(text, sizeof text); /* a body may hold anything that is UTF-8 */
    sg_job_addr to[] = {{"a@fabrikam.com", name}};
    sg_job_header h[] = {{"X-Test", value}};
    sg_job_attachment a[] = {{att, "text/plain", (const uint8_t *)"x", 1, "", false}};
    sg_job job = {.id = "fidelity",
                  .sender = MB,
                  .to = to,
                  .n_to = 1,
                  .subject = subject,
                  .text_body = text,
                  .html_body = "",
                  .account = "",
                  .reply_stream = "",
                  .campaign_id = "",
                  .headers = h,
                  .n_headers = 1,
                  .attachments = a,
                  .n_attachments = 1};
    sg_buf enc = SG_BUF_INIT;
    sg_job_encode(&job, &enc);
    sg_job_msg *msg = NULL;
    sg_job_error err;
    int rv = sg_job_decode((const uint8_t *)enc.data, enc.len, &msg, &err);
    if (worst == OK) {
      if (rv != 0)
        SG_FAIL_("round %d: a clean job was refused: %s %s", round, err.code, err.message);
      const sg_job *d = sg_job_msg_view(msg);
      /* the codec hands out exactly what was written */
      ASSERT_STR_EQ(subject, d->subject);
      ASSERT_STR_EQ(name, d->to[0].name);
      ASSERT_STR_EQ(value, d->headers[0].value);
      ASSERT_STR_EQ(att, d->attachments[0].name);
      ASSERT_STR_EQ(text, d->text_body);
      check_graph(d);
      check_acs(d);
      sent++;
    } else {
      ASSERT_EQ(SG_ERR_INVAL, rv);
      /* a subject's CR/LF comes before the others' control characters */
      if (strcmp(err.code, SG_JOBERR_CRLF) != 0 && strcmp(err.code, SG_JOBERR_CONTROL_CHAR) != 0)
        SG_FAIL_("round %d: refused with %s, want CRLF or CONTROL_CHAR", round, err.code);
      refused++;
    }
    sg_job_msg_free(msg);
    sg_buf_free(&enc);
  }
  /* both sides of the property were exercised */
  ASSERT(sent > ROUNDS / 10);
  ASSERT(refused > ROUNDS / 10);
}

SG_TESTS({"round_trip_or_refused", t_round_trip_or_refused})
