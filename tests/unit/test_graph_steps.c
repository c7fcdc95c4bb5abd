/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Graph provider's draft route through its table (svc/sg_prov_graph.c),
 * driven as the runtime drives it: prepare, then build and advance per step
 * with Graph's answers. Checks the requests (method, path, headers, bodies
 * borrowed from the job's bytes, no bearer on upload URLs, record steps),
 * the order of steps, and what the answers mean: 403 on the draft is
 * SENDGATE_GRAPH_NEEDS_MAIL_READWRITE, a lost or refused range starts the
 * draft over, a draft gone after a send that may have gone out is ambiguous,
 * a job over max_send_bytes or under the single-request size is not a
 * draft at all, and a large MIME job goes as a draft of its content.
 */
#include "harness.h"

#include <string.h>

#include "conf/sg_config.h"
#include "core/sg_base64.h"
#include "core/sg_err.h"
#include "svc/sg_graph_upload.h"
#include "svc/sg_provider.h"

static uint8_t bytes[8 * 1024 * 1024];
static sg_job_addr to1[] = {{"r@b.example", ""}};

typedef struct fixture {
  sg_config cfg;
  sg_account acct;
  void *st;
  sg_prov_info info;
  sg_job job;
  sg_job_attachment att[2];
  sg_prov_job pj;
} fixture;

static void setup(fixture *f, size_t big, int64_t max_send) {
  memset(f, 0, sizeof *f);
  char err[200];
  ASSERT_OK(sg_settings_defaults(&sg_config_settings, &f->cfg, err, sizeof err));
  f->acct.name = (char *)"";
  f->acct.graph_url = (char *)"https://graph.example";
  f->acct.limits = f->cfg.limits;
  f->acct.limits.graph_max_send_bytes = max_send;
  ASSERT_OK(sg_provider_graph.acct_init(&f->st, &f->info, &f->acct, &f->cfg, err, sizeof err));
  for (size_t i = 0; i < sizeof bytes; i++)
    bytes[i] = (uint8_t)(i * 7 + 3);
  f->att[0] = (sg_job_attachment){"report.pdf", "application/pdf", bytes, big, "", false};
  f->att[1] = (sg_job_attachment){"small.txt", "text/plain", bytes, 1000, "", false};
  sg_job *j = &f->job;
  j->id = "job-1";
  j->account = "";
  j->sender = "big@contoso.com";
  j->subject = "scan";
  j->text_body = "see attached";
  j->html_body = "";
  j->reply_stream = j->campaign_id = "";
  j->to = to1;
  j->n_to = 1;
  j->attachments = f->att;
  j->n_attachments = 2;
  f->pj.job = j;
}

/* setup(), and the job prepared. */
static void setup_prepared(fixture *f, size_t big, int64_t max_send) {
  setup(f, big, max_send);
  sg_job_error err;
  ASSERT_OK(sg_provider_graph.prepare(f->st, &f->pj, &err));
}

static void teardown(fixture *f) {
  if (sg_provider_graph.job_free)
    sg_provider_graph.job_free(&f->pj);
  sg_buf_free(&f->pj.body);
  sg_buf_free(&f->pj.path);
  sg_provider_graph.acct_free(f->st);
  sg_settings_free(&sg_config_settings, &f->cfg);
}

static const char *hdr(const sg_prov_req *r, const char *name) {
  for (size_t i = 0; i < r->nh; i++)
    if (strcmp(r->h[i].name, name) == 0)
      return r->h[i].value;
  return NULL;
}

/* Builds the current step's request into |r|. */
static void build(fixture *f, sg_prov_req *r) {
  memset(r, 0, sizeof *r);
  sg_buf_reset(&f->pj.body);
  sg_prov_ctx ctx = {"TOKEN", 5, "graph.example", 1700000000000LL, {1, 2}};
  sg_job_error err;
  ASSERT_OK(sg_provider_graph.build(f->st, &f->pj, &ctx, r, &err));
}

/* An answer to the current step: classified, then advanced. */
static sg_outcome answer(fixture *f, int err, int status, const char *body) {
  sg_outcome o;
  size_t len = body ? strlen(body) : 0;
  if (err)
    sg_classify_transport(err, true, &o);
  else if (status)
    sg_provider_graph.classify(f->st, &f->pj, status, NULL, 0, body, len, 1700000000000LL, &o);
  else {
    memset(&o, 0, sizeof o); /* a record step done */
    o.kind = SG_OUTCOME_SENT;
  }
  sg_provider_graph.advance(f->st, &f->pj, err, status, body, len, &o);
  return o;
}

static sg_gstep step(const fixture *f) {
  return ((const sg_graph_seq *)f->pj.seq)->step;
}

static void t_small_job_is_not_a_draft(void) {
  fixture f;
  setup_prepared(&f, 100000, 36700160);
  ASSERT_NULL(f.pj.seq);
  ASSERT_GT(f.pj.next_bytes, 100000); /* the sendMail body, for the byte window */
  teardown(&f);
}

static void t_over_max_send(void) {
  fixture f;
  setup(&f, 6000000, 5000000);
  sg_job_error err;
  ASSERT_EQ(SG_ERR_INVAL, sg_provider_graph.prepare(f.st, &f.pj, &err));
  ASSERT_STR_EQ("SENDGATE_TOO_LARGE", err.code);
  ASSERT_NOT_NULL(strstr(err.message, "max_send_bytes"));
  teardown(&f);
}

static void t_full_sequence(void) {
  fixture f;
  setup_prepared(&f, 6000000, 36700160);
  ASSERT_NOT_NULL(f.pj.seq);
  ASSERT(f.pj.step_idempotent);
  sg_prov_req r;
  /* RECALL: a record read, no HTTP. */
  build(&f, &r);
  ASSERT_EQ(SG_PROV_STORE_GET, r.store);
  ASSERT_EQ(SG_OUTCOME_STEP, answer(&f, 0, 0, NULL).kind);
  /* CREATE: the draft with the small attachment in it. */
  ASSERT_EQ(SG_GSTEP_CREATE, step(&f));
  build(&f, &r);
  ASSERT_STR_EQ("POST", r.method);
  ASSERT_STR_EQ("/v1.0/users/big@contoso.com/messages", r.path);
  ASSERT_STR_EQ("Bearer TOKEN", hdr(&r, "authorization"));
  ASSERT_NOT_NULL(strstr((const char *)r.body, "\"small.txt\""));
  ASSERT_NULL(strstr((const char *)r.body, "\"report.pdf\""));
  ASSERT_EQ(r.body_len, f.pj.next_bytes);
  ASSERT_EQ(SG_OUTCOME_STEP, answer(&f, 0, 201, "{\"id\":\"D1\"}").kind);
  /* REMEMBER: "d D1" before anything else. */
  build(&f, &r);
  ASSERT_EQ(SG_PROV_STORE_SET, r.store);
  ASSERT_EQ(4, r.store_len);
  ASSERT_MEM_EQ("d D1", r.store_value, 4);
  ASSERT_GE(r.store_ttl_s, 86400);
  ASSERT_EQ(SG_OUTCOME_STEP, answer(&f, 0, 0, NULL).kind);
  /* SESSION for the large one. */
  build(&f, &r);
  ASSERT_STR_EQ("/v1.0/users/big@contoso.com/messages/D1/attachments/createUploadSession", r.path);
  ASSERT_EQ(SG_OUTCOME_STEP,
            answer(&f, 0, 201, "{\"uploadUrl\":\"https://up.example:8443/up/tok\"}").kind);
  /* PUT ranges: the job's own bytes, no bearer, the upload URL's origin. */
  build(&f, &r);
  ASSERT_STR_EQ("PUT", r.method);
  ASSERT_STR_EQ("/up/tok", r.path);
  ASSERT_STR_EQ("https://up.example:8443", r.origin);
  ASSERT_NULL(hdr(&r, "authorization"));
  ASSERT_STR_EQ("bytes 0-3932159/6000000", hdr(&r, "content-range"));
  ASSERT(r.body == bytes);
  ASSERT_EQ(3932160, r.body_len);
  ASSERT_EQ(SG_OUTCOME_STEP, answer(&f, 0, 200, "{\"nextExpectedRanges\":[\"3932160\"]}").kind);
  ASSERT_EQ(6000000 - 3932160, f.pj.next_bytes);
  build(&f, &r);
  ASSERT_STR_EQ("bytes 3932160-5999999/6000000", hdr(&r, "content-range"));
  ASSERT(r.body == bytes + 3932160);
  ASSERT_EQ(SG_OUTCOME_STEP, answer(&f, 0, 201, NULL).kind);
  /* COMMIT: "s D1", then SEND. */
  build(&f, &r);
  ASSERT_EQ(SG_PROV_STORE_SET, r.store);
  ASSERT_MEM_EQ("s D1", r.store_value, 4);
  ASSERT_EQ(SG_OUTCOME_STEP, answer(&f, 0, 0, NULL).kind);
  build(&f, &r);
  ASSERT_STR_EQ("/v1.0/users/big@contoso.com/messages/D1/send", r.path);
  ASSERT_EQ(0, r.body_len);
  /* A lost answer to the send: resent on the same draft (not ambiguous). */
  sg_outcome o = answer(&f, SG_ERR_TIMEOUT, 0, NULL);
  ASSERT_EQ(SG_OUTCOME_RETRY, o.kind);
  ASSERT(f.pj.step_idempotent);
  ASSERT_EQ(SG_GSTEP_SEND, step(&f));
  o = answer(&f, 0, 202, NULL);
  ASSERT_EQ(SG_OUTCOME_SENT, o.kind);
  ASSERT_EQ(SG_GSTEP_DONE, step(&f));
  teardown(&f);
}

static void t_needs_readwrite(void) {
  fixture f;
  setup_prepared(&f, 6000000, 0);
  answer(&f, 0, 0, NULL);
  sg_outcome o = answer(
      &f, 0, 403, "{\"error\":{\"code\":\"ErrorAccessDenied\",\"message\":\"Access is denied.\"}}");
  ASSERT_EQ(SG_OUTCOME_FAILED, o.kind);
  ASSERT_STR_EQ("SENDGATE_GRAPH_NEEDS_MAIL_READWRITE", o.code);
  ASSERT_NOT_NULL(strstr(o.message, "Mail.ReadWrite"));
  teardown(&f);
}

static void t_recalled_records(void) {
  fixture f;
  setup_prepared(&f, 6000000, 0);
  /* An unsent draft of an earlier run: deleted (404: already gone is fine). */
  ASSERT_EQ(SG_OUTCOME_STEP, answer(&f, 0, 0, "d OLD").kind);
  sg_prov_req r;
  build(&f, &r);
  ASSERT_STR_EQ("DELETE", r.method);
  ASSERT_STR_EQ("/v1.0/users/big@contoso.com/messages/OLD", r.path);
  ASSERT_EQ(SG_OUTCOME_STEP,
            answer(&f, 0, 404, "{\"error\":{\"code\":\"ErrorItemNotFound\"}}").kind);
  ASSERT_EQ(SG_GSTEP_CREATE, step(&f));
  teardown(&f);

  /* A send that may have gone out: that draft again; gone (404) is ambiguous. */
  setup_prepared(&f, 6000000, 0);
  answer(&f, 0, 0, "s SENT1");
  ASSERT_EQ(SG_GSTEP_SEND, step(&f));
  build(&f, &r);
  ASSERT_STR_EQ("/v1.0/users/big@contoso.com/messages/SENT1/send", r.path);
  sg_outcome o = answer(&f, 0, 404, "{\"error\":{\"code\":\"ErrorItemNotFound\"}}");
  ASSERT_EQ(SG_OUTCOME_RETRY, o.kind);
  ASSERT(o.ambiguous);
  ASSERT(!f.pj.step_idempotent);        /* gateway.ambiguous decides */
  ASSERT_EQ(SG_GSTEP_CREATE, step(&f)); /* resend: a new draft */
  teardown(&f);
}

static void t_lost_range_starts_over(void) {
  fixture f;
  setup_prepared(&f, 6000000, 0);
  answer(&f, 0, 0, NULL);
  answer(&f, 0, 201, "{\"id\":\"D1\"}");
  answer(&f, 0, 0, NULL);
  answer(&f, 0, 201, "{\"uploadUrl\":\"https://up.example/up/tok\"}");
  ASSERT_EQ(SG_GSTEP_PUT, step(&f));
  /* The answer to a range is lost: the same range again, not ambiguous. */
  sg_outcome o = answer(&f, SG_ERR_RESET, 0, NULL);
  ASSERT_EQ(SG_OUTCOME_RETRY, o.kind);
  ASSERT(f.pj.step_idempotent);
  ASSERT_EQ(SG_GSTEP_PUT, step(&f));
  /* It had been taken: refused as out of order; the draft starts over. */
  o = answer(&f, 0, 416, "{\"error\":{\"code\":\"InvalidRange\"}}");
  ASSERT_EQ(SG_OUTCOME_RETRY, o.kind);
  ASSERT(!o.ambiguous && !o.throttled);
  ASSERT_EQ(SG_GSTEP_DISCARD, step(&f));
  sg_prov_req r;
  build(&f, &r);
  ASSERT_STR_EQ("/v1.0/users/big@contoso.com/messages/D1", r.path);
  /* Refused again and again: FAILED after SG_GRAPH_MAX_RESTARTS. */
  for (int i = 0; i < SG_GRAPH_MAX_RESTARTS; i++) {
    answer(&f, 0, 204, NULL);
    answer(&f, 0, 201, "{\"id\":\"D2\"}");
    answer(&f, 0, 0, NULL);
    answer(&f, 0, 201, "{\"uploadUrl\":\"https://up.example/up/tok\"}");
    o = answer(&f, 0, 404, "{\"error\":{\"code\":\"ErrorItemNotFound\"}}");
  }
  /* The last draft is deleted first. */
  ASSERT_EQ(SG_OUTCOME_STEP, o.kind);
  ASSERT_EQ(SG_GSTEP_DISCARD, step(&f));
  o = answer(&f, 0, 204, NULL);
  ASSERT_EQ(SG_OUTCOME_FAILED, o.kind);
  ASSERT_STR_EQ("SENDGATE_GRAPH_UPLOAD_FAILED", o.code);
  teardown(&f);
}

static void t_throttled_step(void) {
  fixture f;
  setup_prepared(&f, 6000000, 0);
  answer(&f, 0, 0, NULL);
  sg_outcome o = answer(&f, 0, 429, "{\"error\":{\"code\":\"ApplicationThrottled\"}}");
  ASSERT_EQ(SG_OUTCOME_RETRY, o.kind);
  ASSERT(o.throttled);
  ASSERT_EQ(SG_GSTEP_CREATE, step(&f)); /* the same step again */
  teardown(&f);
}

/* A MIME job over the single-request size goes as a draft of the content
 * it holds (taken apart by job/sg_mime_parse.h); its attachment's decoded
 * bytes are uploaded. One that cannot be mapped is INVALID with its code. */
static uint8_t mime_buf[8 * 1024 * 1024];

static size_t make_mime(size_t att_bytes, int x_headers) {
  sg_buf m = SG_BUF_INIT;
  sg_buf_append_str(&m, "From: scanner@contoso.com\r\nTo: r@b.example\r\nSubject: scan\r\n");
  for (int i = 0; i < x_headers; i++)
    sg_buf_printf(&m, "X-Scan-%d: %d\r\n", i, i);
  sg_buf_append_str(&m,
                    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                    "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n"
                    "--b1\r\nContent-Type: application/pdf; name=\"scan.pdf\"\r\n"
                    "Content-Disposition: attachment; filename=\"scan.pdf\"\r\n"
                    "Content-Transfer-Encoding: base64\r\n\r\n");
  sg_buf b64 = SG_BUF_INIT;
  sg_base64_encode_wrapped(&b64, bytes, att_bytes, 76);
  sg_buf_append(&m, b64.data, b64.len);
  sg_buf_append_str(&m, "\r\n--b1--\r\n");
  ASSERT_LE(m.len, sizeof mime_buf);
  memcpy(mime_buf, m.data, m.len);
  size_t n = m.len;
  sg_buf_free(&b64);
  sg_buf_free(&m);
  return n;
}

/* A fixture whose job is the MIME message of make_mime(|att_bytes|, |x_headers|)
 * alone. */
static void setup_mime(fixture *f, int64_t max_send, size_t att_bytes, int x_headers) {
  setup(f, 0, max_send);
  f->job.subject = f->job.text_body = "";
  f->job.n_attachments = 0;
  f->job.mime = mime_buf;
  f->job.mime_len = make_mime(att_bytes, x_headers);
}

static void t_large_mime_goes_as_draft(void) {
  fixture f;
  setup_mime(&f, 0, 4000000, 1);
  sg_job_error err;
  ASSERT_OK(sg_provider_graph.prepare(f.st, &f.pj, &err));
  ASSERT_NOT_NULL(f.pj.seq);
  answer(&f, 0, 0, NULL); /* RECALL: none */
  sg_prov_req r;
  build(&f, &r);
  ASSERT_STR_EQ("/v1.0/users/big@contoso.com/messages", r.path);
  ASSERT_NOT_NULL(strstr((const char *)r.body, "\"subject\":\"scan\""));
  ASSERT_NOT_NULL(strstr((const char *)r.body, "\"X-Scan-0\""));
  ASSERT_NOT_NULL(strstr((const char *)r.body, "r@b.example"));
  answer(&f, 0, 201, "{\"id\":\"D1\"}");
  answer(&f, 0, 0, NULL);
  ASSERT_EQ(SG_GSTEP_SESSION, step(&f));
  build(&f, &r);
  ASSERT_NOT_NULL(strstr((const char *)r.body, "\"scan.pdf\""));
  ASSERT_NOT_NULL(strstr((const char *)r.body, "\"size\":4000000"));
  answer(&f, 0, 201, "{\"uploadUrl\":\"https://up.example/up/t\"}");
  build(&f, &r);
  ASSERT_STR_EQ("bytes 0-3932159/4000000", hdr(&r, "content-range"));
  ASSERT_MEM_EQ(bytes, r.body, 3932160); /* the decoded bytes */
  teardown(&f);

  /* Too many X- fields for Graph's internetMessageHeaders: INVALID. */
  setup_mime(&f, 0, 4000000, 6);
  ASSERT_EQ(SG_ERR_INVAL, sg_provider_graph.prepare(f.st, &f.pj, &err));
  ASSERT_STR_EQ("SENDGATE_TOO_MANY_HEADERS", err.code);
  teardown(&f);

  /* Over max_send_bytes: INVALID before it is taken apart. */
  setup_mime(&f, 5000000, 4000000, 0);
  ASSERT_EQ(SG_ERR_INVAL, sg_provider_graph.prepare(f.st, &f.pj, &err));
  ASSERT_STR_EQ("SENDGATE_TOO_LARGE", err.code);
  teardown(&f);

  /* Small MIME: one sendMail request, as before. */
  setup_mime(&f, 0, 1000, 0);
  ASSERT_OK(sg_provider_graph.prepare(f.st, &f.pj, &err));
  ASSERT_NULL(f.pj.seq);
  teardown(&f);
}

/* Refused for good with a draft in the mailbox: the draft is deleted, then
 * the refusal is the outcome. */
static void t_refused_draft_deleted(void) {
  fixture f;
  setup_prepared(&f, 6000000, 0);
  answer(&f, 0, 0, NULL);
  answer(&f, 0, 201, "{\"id\":\"D1\"}");
  answer(&f, 0, 0, NULL);
  ASSERT_EQ(SG_GSTEP_SESSION, step(&f));
  sg_outcome o = answer(
      &f, 0, 413, "{\"error\":{\"code\":\"ErrorAttachmentSizeShouldNotBeMoreThanMaximumSize\"}}");
  ASSERT_EQ(SG_OUTCOME_STEP, o.kind);
  ASSERT_EQ(SG_GSTEP_DISCARD, step(&f));
  sg_prov_req r;
  build(&f, &r);
  ASSERT_STR_EQ("DELETE", r.method);
  ASSERT_STR_EQ("/v1.0/users/big@contoso.com/messages/D1", r.path);
  o = answer(&f, 0, 204, NULL);
  ASSERT_EQ(SG_OUTCOME_FAILED, o.kind);
  ASSERT_STR_EQ("ErrorAttachmentSizeShouldNotBeMoreThanMaximumSize", o.code);
  ASSERT_EQ(413, o.http_status);
  ASSERT_EQ(SG_GSTEP_DONE, step(&f));
  teardown(&f);
}

SG_TESTS({"refused_draft_deleted", t_refused_draft_deleted},
         {"large_mime_goes_as_draft", t_large_mime_goes_as_draft},
         {"small_job_is_not_a_draft", t_small_job_is_not_a_draft},
         {"over_max_send", t_over_max_send}, {"full_sequence", t_full_sequence},
         {"needs_readwrite", t_needs_readwrite}, {"recalled_records", t_recalled_records},
         {"lost_range_starts_over", t_lost_range_starts_over}, {"throttled_step", t_throttled_step})
