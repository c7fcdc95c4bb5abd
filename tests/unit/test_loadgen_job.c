/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the loadgen's job builder: what the gateway receives. */
#include "harness.h"

#include "core/sg_err.h"
#include "job/sg_job_codec.h"
#include "sg_lg_job.h"
#include "sg_lg_opts.h"

/* Decodes job |seq| as the gateway would. */
static sg_job_msg *build(sg_lg_builder *b, uint64_t seq, sg_buf *raw) {
  sg_buf_reset(raw);
  sg_lg_job_build(b, seq, 1796000000000, raw);
  sg_job_msg *m = NULL;
  sg_job_error e;
  sg_job_decode((const uint8_t *)raw->data, raw->len, &m, &e);
  ASSERT(m != NULL);
  return m;
}

static void t_fields(void) {
  static const char filler[] = "The quick brown fox jumps over the lazy dog. 0123456789\n";
  const char *args[] = {"sendgate-loadgen", "--run-id", "t",      "--senders", "7",
                        "--recipients",     "2",        "--size", "300"};
  sg_lg_opts o;
  char err[256];
  ASSERT_OK(sg_lg_opts_parse(&o, (int)SG_ARRAY_LEN(args), (char **)args, NULL, err, sizeof err));
  sg_lg_builder b;
  sg_lg_builder_init(&b, &o);
  sg_buf raw = SG_BUF_INIT;
  for (uint64_t seq = 0; seq < 50; seq++) {
    sg_job_msg *m = build(&b, seq, &raw);
    const sg_job *j = sg_job_msg_view(m);
    char want[128];
    snprintf(want, sizeof want, "t-%llu", (unsigned long long)seq);
    ASSERT_STR_EQ(want, j->id);
    snprintf(want, sizeof want, "sender-%llu@example.com", (unsigned long long)(seq % 7));
    ASSERT_STR_EQ(want, j->sender);
    snprintf(want, sizeof want, "sendgate-loadgen t-%llu", (unsigned long long)seq);
    ASSERT_STR_EQ(want, j->subject);
    ASSERT_EQ(2, j->n_to);
    snprintf(want, sizeof want, "r-%llu@example.com", (unsigned long long)((seq * 2 + 1) % 100000));
    ASSERT_STR_EQ(want, j->to[1].address);
    /* The body: its first line, then the filler line after line, cut at --size. */
    ASSERT_EQ(300, strlen(j->text_body));
    int head = snprintf(want, sizeof want, "Load test message t-%llu.\n", (unsigned long long)seq);
    ASSERT_MEM_EQ(want, j->text_body, (size_t)head);
    for (size_t i = (size_t)head; i < 300; i++)
      ASSERT_EQ(filler[(i - (size_t)head) % (sizeof filler - 1)], j->text_body[i]);
    ASSERT_EQ(1796000000000, j->created_unix_ms);
    ASSERT_EQ(SG_PRIORITY_TRANSACTIONAL, j->priority);
    sg_job_msg_free(m);
  }
  sg_buf_free(&raw);
  sg_lg_builder_free(&b);
}

/* Campaign mode: one sender, bulk. */
static void t_campaign(void) {
  const char *args[] = {"sendgate-loadgen", "--run-id",   "c",   "--sender",
                        "pool:news",        "--priority", "bulk"};
  sg_lg_opts o;
  char err[256];
  ASSERT_OK(sg_lg_opts_parse(&o, (int)SG_ARRAY_LEN(args), (char **)args, NULL, err, sizeof err));
  sg_lg_builder b;
  sg_lg_builder_init(&b, &o);
  sg_buf raw = SG_BUF_INIT;
  for (uint64_t seq = 0; seq < 5; seq++) {
    sg_job_msg *m = build(&b, seq, &raw);
    const sg_job *j = sg_job_msg_view(m);
    ASSERT_STR_EQ("pool:news", j->sender);
    ASSERT_EQ(SG_PRIORITY_BULK, j->priority);
    ASSERT(sg_job_bulk(j));
    sg_job_msg_free(m);
  }
  sg_buf_free(&raw);
  sg_lg_builder_free(&b);
  const char *bad[] = {"sendgate-loadgen", "--priority", "urgent"};
  ASSERT_EQ(SG_ERR_INVAL,
            sg_lg_opts_parse(&o, (int)SG_ARRAY_LEN(bad), (char **)bad, NULL, err, sizeof err));
  ASSERT(strstr(err, "transactional or bulk") != NULL);
}

SG_TESTS({"fields", t_fields}, {"campaign", t_campaign})
