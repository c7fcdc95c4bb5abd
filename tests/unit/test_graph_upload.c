/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for svc/sg_graph_upload: how attachments are routed (draft JSON,
 * POST, upload session), the order of steps for every shape of job, the
 * ranges of an upload (contiguous, in order, each at most a chunk, a
 * multiple of 320 KiB but the last), what PUT answers are accepted, the draft
 * record and what a recalled record leads to, restarts, and the parsers of
 * Graph's answers (hostile bodies included).
 */
#include "harness.h"

#include <string.h>

#include "json/sg_json.h"
#include "svc/sg_graph.h"
#include "svc/sg_graph_upload.h"

static uint8_t big_bytes[9 * 1024 * 1024];

static sg_job_addr to1[] = {{"r@b.example", ""}};

/* A job with attachments of the given sizes (bytes from big_bytes). */
static void make_job(sg_job *j, sg_job_attachment *a, const size_t *sizes, size_t n) {
  memset(j, 0, sizeof *j);
  j->id = "job-1";
  j->account = "";
  j->sender = "big@contoso.com";
  j->subject = "scan";
  j->text_body = "see attached";
  j->html_body = "";
  j->reply_stream = "";
  j->campaign_id = "";
  j->to = to1;
  j->n_to = 1;
  for (size_t i = 0; i < n; i++) {
    a[i] = (sg_job_attachment){"f.bin", "application/pdf", big_bytes, sizes[i], "", false};
  }
  j->attachments = a;
  j->n_attachments = n;
}

/* A job of one attachment of |size| bytes and its sequence (default chunk). */
static void start_one(sg_job *j, sg_job_attachment *a, size_t size, sg_graph_seq *q) {
  make_job(j, a, &size, 1);
  ASSERT_EQ(SG_GSEQ_OK, sg_graph_seq_init(q, j, 0));
}

/* The steps from the start (no record) to DONE, as names joined by spaces;
 * PUTs advance by whole ranges (200 then 201). */
static void walk(sg_graph_seq *q, const sg_job *job, char *out, size_t cap) {
  out[0] = '\0';
  size_t n = 0;
  for (int guard = 0; q->step != SG_GSTEP_DONE && guard < 1000; guard++) {
    n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? " " : "", sg_gstep_name(q->step));
    switch (q->step) {
    case SG_GSTEP_RECALL:
      sg_graph_seq_recall(q, NULL, 0);
      break;
    case SG_GSTEP_CREATE:
      strcpy(q->draft_id, "D1");
      sg_graph_seq_advance(q);
      break;
    case SG_GSTEP_PUT: {
      uint64_t a, b, size = job->attachments[q->att].content_len;
      sg_graph_seq_range(q, job, &a, &b);
      ASSERT(sg_graph_seq_put_done(q, job, b + 1 == size ? 201 : 200, b + 1));
      break;
    }
    default:
      sg_graph_seq_advance(q);
      break;
    }
  }
  ASSERT_EQ(SG_GSTEP_DONE, q->step);
}

static void t_routes(void) {
  sg_job j;
  sg_job_attachment a[5];
  size_t sizes[] = {1000, 3000000, 2999999, 8000000, 10};
  make_job(&j, a, sizes, 5);
  sg_graph_seq q;
  ASSERT_EQ(SG_GSEQ_OK, sg_graph_seq_init(&q, &j, 0));
  ASSERT_EQ(SG_GATT_INLINE, q.route[0]);
  ASSERT_EQ(SG_GATT_SESSION, q.route[1]); /* 3,000,000: not "under 3 MB" */
  ASSERT_EQ(SG_GATT_INLINE, q.route[2]);  /* its base64 still fits in the draft */
  ASSERT_EQ(SG_GATT_SESSION, q.route[3]);
  /* The draft holds the small ones while it stays under the request cap. */
  sg_buf b = SG_BUF_INIT;
  sg_graph_seq_draft_json(&q, &j, &b);
  ASSERT_LE(b.len, SG_GRAPH_MAX_REQUEST_BYTES - SG_GRAPH_DRAFT_MARGIN);
  ASSERT_EQ(sg_graph_seq_bytes(&(sg_graph_seq){.step = SG_GSTEP_CREATE, .inl = q.inl}, &j), b.len);
  sg_json_doc *d = NULL;
  ASSERT_OK(sg_json_parse(&d, b.data, b.len, 0, NULL, 0));
  const sg_json *atts = sg_json_get(sg_json_root(d), "attachments");
  size_t inl = 0;
  for (size_t i = 0; i < 5; i++)
    inl += q.inl[i];
  ASSERT_EQ(inl, atts->count);
  ASSERT_NULL(sg_json_get(sg_json_root(d), "saveToSentItems")); /* a message resource */
  sg_json_doc_free(d);
  sg_buf_free(&b);
  sg_graph_seq_free(&q);
}

static void t_many_small_go_by_post(void) {
  /* Two attachments of 2.5 MB: base64 of both is over 4 MB, so the second
   * goes by POST .../attachments. */
  sg_job j;
  sg_job_attachment a[2];
  size_t sizes[] = {2500000, 2500000};
  make_job(&j, a, sizes, 2);
  sg_graph_seq q;
  ASSERT_EQ(SG_GSEQ_OK, sg_graph_seq_init(&q, &j, 0));
  ASSERT_EQ(SG_GATT_INLINE, q.route[0]);
  ASSERT_EQ(SG_GATT_POST, q.route[1]);
  char steps[512];
  walk(&q, &j, steps, sizeof steps);
  ASSERT_STR_EQ("RECALL CREATE REMEMBER ATTACH COMMIT SEND", steps);
  sg_graph_seq_free(&q);
}

static void t_order_with_sessions(void) {
  sg_job j;
  sg_job_attachment a[3];
  /* 8 MB in ranges of 3.75 MiB: 3 ranges; 1000 bytes inline; 3.2 MB: 1 range. */
  size_t sizes[] = {8000000, 1000, 3200000};
  make_job(&j, a, sizes, 3);
  sg_graph_seq q;
  ASSERT_EQ(SG_GSEQ_OK, sg_graph_seq_init(&q, &j, 0));
  char steps[512];
  walk(&q, &j, steps, sizeof steps);
  ASSERT_STR_EQ("RECALL CREATE REMEMBER SESSION PUT PUT PUT SESSION PUT COMMIT SEND", steps);
  sg_graph_seq_free(&q);
}

static void t_ranges(void) {
  sg_job j;
  sg_job_attachment a[1];
  size_t sizes[] = {9000000};
  make_job(&j, a, sizes, 1);
  uint64_t chunks[] = {0, 1, 327680, 4194304, 5000000, 1000000};
  uint64_t want[] = {3932160, 327680, 327680, 3932160, 3932160, 983040};
  for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
    sg_graph_seq q;
    ASSERT_EQ(SG_GSEQ_OK, sg_graph_seq_init(&q, &j, chunks[c]));
    ASSERT_EQ(want[c], q.chunk);
    ASSERT_EQ(0, q.chunk % SG_GRAPH_CHUNK_UNIT);
    ASSERT_LE(q.chunk, SG_GRAPH_CHUNK_MAX);
    q.step = SG_GSTEP_PUT;
    q.att = 0;
    uint64_t expect = 0, n = 0;
    for (;;) {
      uint64_t f, l;
      sg_graph_seq_range(&q, &j, &f, &l);
      ASSERT_EQ(expect, f); /* contiguous, in order */
      ASSERT_LE(l - f + 1, q.chunk);
      ASSERT_EQ(l - f + 1, sg_graph_seq_bytes(&q, &j));
      n++;
      expect = l + 1;
      if (l + 1 == 9000000) {
        ASSERT(sg_graph_seq_put_done(&q, &j, 201, 0));
        break;
      }
      ASSERT_EQ(0, (l + 1) % SG_GRAPH_CHUNK_UNIT);
      ASSERT(sg_graph_seq_put_done(&q, &j, 200, l + 1));
    }
    ASSERT_EQ((9000000 + q.chunk - 1) / q.chunk, n);
    ASSERT_EQ(SG_GSTEP_COMMIT, q.step);
    sg_graph_seq_free(&q);
  }
}

static void t_put_answers(void) {
  sg_job j;
  sg_job_attachment a[1];
  sg_graph_seq q;
  start_one(&j, a, 9000000, &q);
  q.step = SG_GSTEP_PUT;
  /* A partial take resumes from where Graph says. */
  ASSERT(sg_graph_seq_put_done(&q, &j, 200, 1000));
  ASSERT_EQ(1000, q.off);
  uint64_t f, l;
  sg_graph_seq_range(&q, &j, &f, &l);
  ASSERT_EQ(1000, f);
  /* Backwards, the same position, past the range, past the end: refused. */
  ASSERT(!sg_graph_seq_put_done(&q, &j, 200, 500));
  ASSERT(!sg_graph_seq_put_done(&q, &j, 200, 1000));
  ASSERT(!sg_graph_seq_put_done(&q, &j, 200, l + 2));
  ASSERT(!sg_graph_seq_put_done(&q, &j, 200, 9000000));
  /* Complete before the last byte: refused. */
  ASSERT(!sg_graph_seq_put_done(&q, &j, 201, 0));
  ASSERT_EQ(1000, q.off);
  sg_graph_seq_free(&q);
}

static void t_record_and_recall(void) {
  sg_job j;
  sg_job_attachment a[1];
  sg_graph_seq q;
  start_one(&j, a, 5000000, &q);
  char rec[SG_GRAPH_ID_MAX + 4];
  strcpy(q.draft_id, "AAMkAD=1");
  q.step = SG_GSTEP_REMEMBER;
  ASSERT_EQ(10, sg_graph_seq_record(&q, rec, sizeof rec));
  ASSERT_STR_EQ("d AAMkAD=1", rec);
  q.step = SG_GSTEP_COMMIT;
  sg_graph_seq_record(&q, rec, sizeof rec);
  ASSERT_STR_EQ("s AAMkAD=1", rec);
  sg_graph_seq_free(&q);

  /* An unsent draft of an earlier run: deleted, then a fresh one. */
  ASSERT_EQ(SG_GSEQ_OK, sg_graph_seq_init(&q, &j, 0));
  sg_graph_seq_recall(&q, "d OLD", 5);
  ASSERT_EQ(SG_GSTEP_DISCARD, q.step);
  ASSERT_STR_EQ("OLD", q.old_id);
  sg_graph_seq_advance(&q);
  ASSERT_EQ(SG_GSTEP_CREATE, q.step);
  ASSERT_STR_EQ("", q.old_id);
  sg_graph_seq_free(&q);

  /* A send that may have gone out: that draft is sent again, nothing else. */
  ASSERT_EQ(SG_GSEQ_OK, sg_graph_seq_init(&q, &j, 0));
  sg_graph_seq_recall(&q, "s SENT1", 7);
  ASSERT_EQ(SG_GSTEP_SEND, q.step);
  ASSERT_STR_EQ("SENT1", q.draft_id);
  ASSERT(q.send_maybe);
  sg_graph_seq_advance(&q);
  ASSERT_EQ(SG_GSTEP_DONE, q.step);
  sg_graph_seq_free(&q);

  /* Garbage or another shape: a fresh draft. */
  const char *bad[] = {"", "x", "d ", "x ID", "d a/b", "d a b", "s \x01"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ASSERT_EQ(SG_GSEQ_OK, sg_graph_seq_init(&q, &j, 0));
    sg_graph_seq_recall(&q, bad[i], strlen(bad[i]));
    ASSERT_EQ(SG_GSTEP_CREATE, q.step);
    ASSERT_STR_EQ("", q.draft_id);
    sg_graph_seq_free(&q);
  }
}

static void t_restart(void) {
  sg_job j;
  sg_job_attachment a[1];
  sg_graph_seq q;
  start_one(&j, a, 5000000, &q);
  strcpy(q.draft_id, "D1");
  strcpy(q.upload_url, "https://x/up/1");
  q.step = SG_GSTEP_PUT;
  q.off = 3932160;
  sg_graph_seq_restart(&q);
  ASSERT_EQ(SG_GSTEP_DISCARD, q.step);
  ASSERT_STR_EQ("D1", q.old_id);
  ASSERT_STR_EQ("", q.draft_id);
  ASSERT_STR_EQ("", q.upload_url);
  ASSERT_EQ(1, q.restarts);
  sg_graph_seq_restart(&q); /* no draft yet: straight to CREATE */
  ASSERT_EQ(SG_GSTEP_CREATE, q.step);
  ASSERT_EQ(2, q.restarts);
  sg_graph_seq_free(&q);
}

static void t_too_large_body(void) {
  static char body[4300000];
  memset(body, 'a', sizeof body - 1);
  sg_job j;
  make_job(&j, NULL, NULL, 0);
  j.text_body = body;
  sg_graph_seq q;
  ASSERT_EQ(SG_GSEQ_TOO_LARGE, sg_graph_seq_init(&q, &j, 0));
  sg_graph_seq_free(&q);
}

static void t_session_json(void) {
  sg_job j;
  sg_job_attachment a[1];
  size_t sizes[] = {5000000};
  make_job(&j, a, sizes, 1);
  a[0].name = "scan \"1\".pdf";
  a[0].content_id = "img1";
  a[0].is_inline = true;
  sg_graph_seq q;
  ASSERT_EQ(SG_GSEQ_OK, sg_graph_seq_init(&q, &j, 0));
  q.step = SG_GSTEP_SESSION;
  sg_buf b = SG_BUF_INIT;
  sg_graph_seq_session_json(&q, &j, &b);
  sg_json_doc *d = NULL;
  ASSERT_OK(sg_json_parse(&d, b.data, b.len, 0, NULL, 0));
  const sg_json *it = sg_json_get(sg_json_root(d), "AttachmentItem");
  ASSERT_STR_EQ("file", sg_json_str(sg_json_get(it, "attachmentType")));
  ASSERT_STR_EQ("scan \"1\".pdf", sg_json_str(sg_json_get(it, "name")));
  ASSERT_STR_EQ("application/pdf", sg_json_str(sg_json_get(it, "contentType")));
  ASSERT_STR_EQ("img1", sg_json_str(sg_json_get(it, "contentId")));
  ASSERT(sg_json_true(sg_json_get(it, "isInline")));
  int64_t size = 0;
  ASSERT(sg_json_int(sg_json_get(it, "size"), &size));
  ASSERT_EQ(5000000, size);
  sg_json_doc_free(d);
  sg_buf_free(&b);
  sg_graph_seq_free(&q);
}

static void t_parsers(void) {
  char id[SG_GRAPH_ID_MAX], url[SG_GRAPH_URL_MAX], origin[600];
  const char *ok = "{\"id\":\"AAMkAD=\",\"isDraft\":true}";
  ASSERT_OK(sg_graph_parse_id(ok, strlen(ok), id, sizeof id));
  ASSERT_STR_EQ("AAMkAD=", id);
  const char *bad_ids[] = {"",
                           "{}",
                           "{\"id\":1}",
                           "{\"id\":\"\"}",
                           "{\"id\":\"a/b\"}",
                           "{\"id\":\"a b\"}",
                           "not json",
                           "{\"id\":\"\\u0001\"}"};
  for (size_t i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++)
    ASSERT_EQ(-1, sg_graph_parse_id(bad_ids[i], strlen(bad_ids[i]), id, sizeof id));
  ASSERT_EQ(-1, sg_graph_parse_id(NULL, 0, id, sizeof id));

  const char *u =
      "{\"uploadUrl\":\"https://outlook.office.com/api/v2.0/Users('a')/up?authtoken=x\"}";
  ASSERT_OK(sg_graph_parse_upload_url(u, strlen(u), url, sizeof url));
  const char *path;
  ASSERT_OK(sg_graph_url_split(url, origin, sizeof origin, &path));
  ASSERT_STR_EQ("https://outlook.office.com", origin);
  ASSERT_STR_EQ("/api/v2.0/Users('a')/up?authtoken=x", path);
  const char *bad_urls[] = {
      "{\"uploadUrl\":\"http://x/up\"}",   "{\"uploadUrl\":\"https://x\"}",
      "{\"uploadUrl\":\"https:///up\"}",   "{\"uploadUrl\":\"https://u@evil/up\"}",
      "{\"uploadUrl\":\"https://x/a b\"}", "{}"};
  for (size_t i = 0; i < sizeof bad_urls / sizeof *bad_urls; i++)
    ASSERT_EQ(-1, sg_graph_parse_upload_url(bad_urls[i], strlen(bad_urls[i]), url, sizeof url));

  uint64_t next = 0;
  const char *n1 = "{\"nextExpectedRanges\":[\"3932160\"]}";
  ASSERT_OK(sg_graph_parse_next(n1, strlen(n1), &next));
  ASSERT_EQ(3932160, next);
  const char *n2 = "{\"nextExpectedRanges\":[\"12-\"]}";
  ASSERT_OK(sg_graph_parse_next(n2, strlen(n2), &next));
  ASSERT_EQ(12, next);
  const char *bad_next[] = {
      "{\"nextExpectedRanges\":[]}",       "{\"nextExpectedRanges\":\"1\"}",
      "{\"nextExpectedRanges\":[\"x\"]}",  "{\"nextExpectedRanges\":[\"99999999999999999999999\"]}",
      "{\"nextExpectedRanges\":[\"1x\"]}", ""};
  for (size_t i = 0; i < sizeof bad_next / sizeof *bad_next; i++)
    ASSERT_EQ(-1, sg_graph_parse_next(bad_next[i], strlen(bad_next[i]), &next));
}

static void t_job_bytes(void) {
  sg_job j;
  sg_job_attachment a[2];
  size_t sizes[] = {100, 2000};
  make_job(&j, a, sizes, 2);
  ASSERT_EQ(4 + 12 + 2100, sg_graph_job_bytes(&j));
}

SG_TESTS({"routes", t_routes}, {"many_small_go_by_post", t_many_small_go_by_post},
         {"order_with_sessions", t_order_with_sessions}, {"ranges", t_ranges},
         {"put_answers", t_put_answers}, {"record_and_recall", t_record_and_recall},
         {"restart", t_restart}, {"too_large_body", t_too_large_body},
         {"session_json", t_session_json}, {"parsers", t_parsers}, {"job_bytes", t_job_bytes})
