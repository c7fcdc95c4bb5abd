/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for svc/sg_acs: the emails:send body (exact bytes for a full
 * message, parsed back for hostile input, and accepted field for field by the
 * sandbox's validator for many generated jobs), the size against the built
 * size, the Operation-Id, the paths, the signed request headers (the
 * known-answer vectors of microsoft-apis.md §5.1, checked with the verifier),
 * and the send and poll classifiers.
 *
 * The binary also has tool modes used by tests/integration/test_acs_sdk.sh,
 * so the gateway's own code builds, signs and classifies real requests there:
 *   test_acs --acs-request SPEC.json CONNSTR API_VERSION OUTDIR
 *   test_acs --acs-poll-request CONNSTR API_VERSION OPERATION_ID OUTDIR
 *   test_acs --acs-classify send|poll HEADER_DUMP BODY_FILE
 * (see acs_tool.h beside this file).
 */
#include "harness.h"

#include "core/sg_base64.h"
#include "core/sg_err.h"
#include "core/sg_rand.h"
#include "core/sg_utf8.h"
#include "json/sg_json.h"
#include "sandbox/sg_sbx_acs.h"
#include "svc/sg_acs.h"

#include "acs_tool.h"

/* sg_acs_operation_id("job-1"), equal to Python's
 * uuid.uuid5(UUID("6b1d5e0c-3a9f-4b21-8e47-d23570c419ab"), "job-1"). */
#define PINNED_OPID_JOB1 "51af8585-b3ca-5dc7-afc2-9448935225f4"

static sg_json_doc *parse(const sg_buf *b) {
  sg_json_doc *d = NULL;
  char err[128] = "";
  int rv = sg_json_parse(&d, b->data, b->len, 0, err, sizeof err);
  if (rv != 0)
    fprintf(stderr, "parse error: %s\n%.*s\n", err, (int)(b->len > 2000 ? 2000 : b->len), b->data);
  ASSERT_OK(rv);
  return d;
}

static sg_job empty_job(void) {
  sg_job j;
  memset(&j, 0, sizeof j);
  j.id = "job-1";
  j.backend = SG_BACKEND_ACS;
  j.account = j.subject = j.text_body = j.html_body = j.reply_stream = j.campaign_id = "";
  j.sender = "DoNotReply@contoso.com";
  return j;
}

/* Builds |j| and checks the size function agrees. */
static void build(const sg_job *j, const char *ver, const sg_acs_build_opts *o, sg_buf *b) {
  sg_buf_reset(b);
  ASSERT_OK(sg_acs_build(j, ver, o, b));
  ASSERT_EQ(sg_acs_request_size(j, ver, o), b->len);
}

static void t_full_message(void) {
  static const sg_job_addr to[] = {{"a@example.com", "Ann \"A\" \xc3\x85sa"},
                                   {"b@example.com", ""}};
  static const sg_job_addr cc[] = {{"c@example.com", "Cee"}};
  static const sg_job_addr bcc[] = {{"d@example.com", ""}};
  static const sg_job_addr rt[] = {{"reply@example.com", "Replies"}};
  static const sg_job_header hdrs[] = {
      {"X-Campaign", "spring \xe2\x98\x83"}, {"x-trace", "1\t2"}, {"X-CAMPAIGN", "dropped"}};
  static const uint8_t png[] = {0x89, 'P', 'N', 'G'};
  static const uint8_t pdf[] = {'%', 'P', 'D', 'F'};
  static const sg_job_attachment atts[] = {
      {"logo.png", "image/png", png, sizeof png, "logo1", true},
      {"a.pdf", "application/pdf", pdf, sizeof pdf, "not-inline", false},
      {"blob", "", NULL, 0, "", true}};
  sg_job j = empty_job();
  j.subject = "Hi \"you\"\n\x01";
  j.text_body = "text";
  j.html_body = "<p>html</p>";
  j.to = to, j.n_to = 2, j.cc = cc, j.n_cc = 1, j.bcc = bcc, j.n_bcc = 1;
  j.reply_to = rt, j.n_reply_to = 1;
  j.headers = hdrs, j.n_headers = 3;
  j.attachments = atts, j.n_attachments = 3;
  sg_acs_build_opts o = {true};
  sg_buf b = SG_BUF_INIT;
  build(&j, "2025-09-01", &o, &b);
  ASSERT_STR_EQ(
      "{\"headers\":{\"X-Campaign\":\"spring \xe2\x98\x83\",\"x-trace\":\"1\\t2\"},"
      "\"senderAddress\":\"DoNotReply@contoso.com\","
      "\"content\":{\"subject\":\"Hi \\\"you\\\"\\n\\u0001\",\"plainText\":\"text\","
      "\"html\":\"<p>html</p>\"},"
      "\"recipients\":{\"to\":[{\"address\":\"a@example.com\",\"displayName\":"
      "\"Ann \\\"A\\\" \xc3\x85sa\"},{\"address\":\"b@example.com\"}],"
      "\"cc\":[{\"address\":\"c@example.com\",\"displayName\":\"Cee\"}],"
      "\"bcc\":[{\"address\":\"d@example.com\"}]},"
      "\"attachments\":[{\"name\":\"logo.png\",\"contentType\":\"image/png\","
      "\"contentInBase64\":\"iVBORw==\",\"contentId\":\"logo1\"},"
      "{\"name\":\"a.pdf\",\"contentType\":\"application/pdf\",\"contentInBase64\":\"JVBERg==\"},"
      "{\"name\":\"blob\",\"contentType\":\"application/octet-stream\",\"contentInBase64\":\"\"}],"
      "\"replyTo\":[{\"address\":\"reply@example.com\",\"displayName\":\"Replies\"}],"
      "\"userEngagementTrackingDisabled\":true}",
      b.data);
  /* The GA 2023-03-31 schema has no contentId; no opts: no tracking member. */
  build(&j, "2023-03-31", NULL, &b);
  ASSERT_NULL(strstr(b.data, "contentId"));
  ASSERT_NULL(strstr(b.data, "userEngagementTrackingDisabled"));
  build(&j, "2024-07-01-preview", NULL, &b);
  ASSERT_NULL(strstr(b.data, "contentId"));
  build(&j, "2026-01-01-preview", NULL, &b);
  ASSERT_NOT_NULL(strstr(b.data, "\"contentId\":\"logo1\""));
  sg_buf_free(&b);
}

static void t_minimal(void) {
  static const sg_job_addr to[] = {{"a@example.com", ""}};
  sg_job j = empty_job();
  j.subject = "s";
  j.html_body = "<b>x</b>";
  j.to = to, j.n_to = 1;
  sg_buf b = SG_BUF_INIT;
  build(&j, "2025-09-01", NULL, &b);
  ASSERT_STR_EQ("{\"senderAddress\":\"DoNotReply@contoso.com\",\"content\":{\"subject\":\"s\","
                "\"html\":\"<b>x</b>\"},\"recipients\":{\"to\":[{\"address\":\"a@example.com\"}]}}",
                b.data);
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_build(NULL, "2025-09-01", NULL, &b));
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_build(&j, NULL, NULL, &b));
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_build(&j, "2025-09-01", NULL, NULL));
  ASSERT_EQ(0, sg_acs_request_size(NULL, "2025-09-01", NULL));
  ASSERT(sg_acs_has_content_id("2025-09-01"));
  ASSERT(sg_acs_has_content_id("2025-10-01-preview"));
  ASSERT(!sg_acs_has_content_id("2025-01-15-preview"));
  ASSERT(!sg_acs_has_content_id("2023-03-31"));
  ASSERT(!sg_acs_has_content_id("2025"));
  ASSERT(!sg_acs_has_content_id(NULL));
  sg_buf_free(&b);
}

/* Deterministic generated jobs. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) {
  return sg_rand_next(&rng_state);
}

/* Strings kept for freeing at the end of one generated job. */
typedef struct pool {
  char *s[256];
  size_t n;
} pool;

static const char *keep(pool *p, char *s) {
  ASSERT_LT(p->n, SG_ARRAY_LEN(p->s));
  p->s[p->n++] = s;
  return s;
}

static void pool_free(pool *p) {
  for (size_t i = 0; i < p->n; i++)
    sg_free(p->s[i]);
  p->n = 0;
}

/* Hostile text: controls, quotes, UTF-8 of every length and invalid bytes.
 * With |clean| only what survives a round trip unchanged (no invalid UTF-8). */
static const char *gen_str(pool *p, size_t maxlen, bool clean) {
  static const char *const good[] = {"a",
                                     "Z",
                                     " ",
                                     "\"",
                                     "\\",
                                     "/",
                                     "\n",
                                     "\r",
                                     "\t",
                                     "\b",
                                     "\f",
                                     "\x01",
                                     "\x1f",
                                     "\x7f",
                                     "\xc3\xa9",
                                     "<p>",
                                     "&",
                                     "\xe2\x82\xac",
                                     "\xf0\x9f\x98\x80",
                                     "@"};
  static const char *const bad[] = {"\x80",     "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                    "\xe2\x82", "\xff"};
  size_t n = (size_t)(rnd() % (maxlen + 1));
  char *s = sg_xmalloc(n * 4 + 1);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    const char *piece = (!clean && rnd() % 5 == 0) ? bad[rnd() % SG_ARRAY_LEN(bad)]
                                                   : good[rnd() % SG_ARRAY_LEN(good)];
    memcpy(s + k, piece, strlen(piece));
    k += strlen(piece);
  }
  s[k] = '\0';
  return keep(p, s);
}

static const char *gen_addr(pool *p) {
  char *s = sg_xmalloc(40);
  snprintf(s, 40, "u%u@d%u.example", (unsigned)(rnd() % 1000), (unsigned)(rnd() % 5));
  return keep(p, s);
}

/* A generated job. With |valid| every field is one ACS (and the sandbox)
 * accepts: addresses, allowed content types, distinct content ids, x- names. */
typedef struct gen {
  sg_job j;
  sg_job_addr to[4], cc[3], bcc[3], rt[2];
  sg_job_header hdrs[5];
  sg_job_attachment atts[3];
  uint8_t content[3][70];
  pool p;
} gen;

static void gen_addrs(gen *g, sg_job_addr *v, size_t n, bool valid) {
  for (size_t i = 0; i < n; i++) {
    v[i].address = valid ? gen_addr(&g->p) : gen_str(&g->p, 6, false);
    v[i].name = (rnd() & 1) ? gen_str(&g->p, 8, valid) : "";
  }
}

static void gen_job(gen *g, bool valid) {
  static const char *const types[] = {"image/png", "application/pdf", "text/plain", "text/csv"};
  memset(g, 0, sizeof *g);
  g->j = empty_job();
  sg_job *j = &g->j;
  j->subject = valid ? gen_str(&g->p, 20, true) : gen_str(&g->p, 20, false);
  if (valid && j->subject[0] == '\0')
    j->subject = "s";
  j->text_body = (rnd() & 1) ? gen_str(&g->p, 60, valid) : "";
  j->html_body = (rnd() & 1) || (valid && !j->text_body[0]) ? gen_str(&g->p, 60, valid) : "";
  if (valid && !j->text_body[0] && !j->html_body[0])
    j->html_body = "<p>x</p>";
  j->n_to = (size_t)(rnd() % 4) + (valid ? 1 : 0);
  j->n_cc = (size_t)(rnd() % 4);
  j->n_bcc = (size_t)(rnd() % 4);
  j->n_reply_to = (size_t)(rnd() % 3);
  gen_addrs(g, g->to, j->n_to, valid);
  gen_addrs(g, g->cc, j->n_cc, valid);
  gen_addrs(g, g->bcc, j->n_bcc, valid);
  gen_addrs(g, g->rt, j->n_reply_to, valid);
  j->to = g->to, j->cc = g->cc, j->bcc = g->bcc, j->reply_to = g->rt;
  j->n_headers = (size_t)(rnd() % 6);
  for (size_t i = 0; i < j->n_headers; i++) {
    if (valid) {
      char *name = sg_xmalloc(16);
      snprintf(name, 16, "X-H%u", (unsigned)(rnd() % 4)); /* repeats are likely */
      g->hdrs[i].name = keep(&g->p, name);
      g->hdrs[i].value = gen_str(&g->p, 10, true);
      /* CR/LF are refused in header values by the service. */
      for (char *c = (char *)g->hdrs[i].value; *c; c++)
        if (*c == '\r' || *c == '\n')
          *c = ' ';
    } else {
      g->hdrs[i].name = gen_str(&g->p, 5, false);
      g->hdrs[i].value = gen_str(&g->p, 10, false);
    }
  }
  j->headers = g->hdrs;
  j->n_attachments = (size_t)(rnd() % 4);
  for (size_t i = 0; i < j->n_attachments; i++) {
    /* The service wants content: valid jobs have at least one byte. */
    size_t cl = (size_t)(rnd() % sizeof g->content[i]) + (valid ? 1 : 0);
    cl = cl > sizeof g->content[i] ? sizeof g->content[i] : cl;
    for (size_t k = 0; k < cl; k++)
      g->content[i][k] = (uint8_t)rnd();
    char *cid = sg_xmalloc(32);
    snprintf(cid, 32, "cid%u", (unsigned)i);
    g->atts[i] = (sg_job_attachment){valid ? "file.bin" : gen_str(&g->p, 5, false),
                                     valid ? types[rnd() % SG_ARRAY_LEN(types)]
                                           : ((rnd() & 1) ? gen_str(&g->p, 5, false) : ""),
                                     g->content[i],
                                     cl,
                                     (rnd() & 1) ? keep(&g->p, cid) : (sg_free(cid), ""),
                                     (rnd() & 1) != 0};
  }
  j->attachments = g->atts;
}

static size_t distinct_headers(const sg_job *j) {
  size_t n = 0;
  for (size_t i = 0; i < j->n_headers; i++) {
    bool seen = false;
    for (size_t k = 0; k < i; k++)
      seen = seen || strcasecmp(j->headers[k].name, j->headers[i].name) == 0;
    n += !seen;
  }
  return n;
}

/* Hostile jobs: the size is exact and the body is valid JSON. */
static void t_size_many(void) {
  static const char *const versions[] = {"2023-03-31", "2025-09-01"};
  for (int iter = 0; iter < 800; iter++) {
    gen g;
    gen_job(&g, false);
    sg_acs_build_opts o = {(rnd() & 1) != 0};
    sg_buf b = SG_BUF_INIT;
    build(&g.j, versions[iter & 1], &o, &b);
    sg_json_doc *d = parse(&b);
    const sg_json *root = sg_json_root(d);
    const sg_json *att = sg_json_get(root, "attachments");
    ASSERT_EQ(g.j.n_attachments, att ? att->count : 0);
    const sg_json *h = sg_json_get(root, "headers");
    ASSERT_EQ(distinct_headers(&g.j), h ? h->count : 0);
    ASSERT_EQ(o.user_engagement_tracking_disabled,
              sg_json_get(root, "userEngagementTrackingDisabled") != NULL);
    sg_json_doc_free(d);
    sg_buf_free(&b);
    pool_free(&g.p);
  }
}

static void addrs_equal(const sg_job_addr *v, size_t n, const sg_sbx_addr_list *l) {
  ASSERT_EQ(n, l->n);
  for (size_t i = 0; i < n; i++) {
    ASSERT_STR_EQ(v[i].address, l->v[i].address);
    if (v[i].name[0])
      ASSERT_STR_EQ(v[i].name, l->v[i].name);
    else
      ASSERT_NULL(l->v[i].name);
  }
}

/* Valid jobs: the sandbox's strict validator accepts every body and records
 * exactly the job's fields. */
static void t_sandbox_accepts(void) {
  static const char *const versions[] = {"2023-03-31", "2025-09-01"};
  for (int iter = 0; iter < 400; iter++) {
    gen g;
    gen_job(&g, true);
    const char *ver = versions[iter & 1];
    sg_acs_build_opts o = {(rnd() & 1) != 0};
    sg_buf b = SG_BUF_INIT;
    build(&g.j, ver, &o, &b);
    sg_sbx_msg m;
    sg_sbx_verdict v;
    if (sg_sbx_acs_validate(b.data, b.len, ver, NULL, &m, &v) != 0)
      SG_FAIL_("rejected %d %s: %s\n%s", v.status, v.code, v.message, b.data);
    ASSERT_STR_EQ(g.j.sender, m.mailbox);
    ASSERT_STR_EQ(g.j.subject, m.subject);
    ASSERT_EQ(strlen(g.j.text_body) + strlen(g.j.html_body), m.body_len);
    addrs_equal(g.j.to, g.j.n_to, &m.to);
    addrs_equal(g.j.cc, g.j.n_cc, &m.cc);
    addrs_equal(g.j.bcc, g.j.n_bcc, &m.bcc);
    addrs_equal(g.j.reply_to, g.j.n_reply_to, &m.reply_to);
    ASSERT_EQ(o.user_engagement_tracking_disabled, m.tracking_disabled);
    ASSERT_EQ(distinct_headers(&g.j), m.n_hdrs);
    ASSERT_EQ(g.j.n_attachments, m.n_atts);
    for (size_t i = 0; i < m.n_atts; i++) {
      const sg_job_attachment *a = &g.j.attachments[i];
      ASSERT_STR_EQ(a->name, m.atts[i].name);
      ASSERT_STR_EQ(a->content_type, m.atts[i].content_type);
      ASSERT_EQ(a->content_len, m.atts[i].size);
      bool cid = sg_acs_has_content_id(ver) && a->is_inline && a->content_id[0];
      if (cid)
        ASSERT_STR_EQ(a->content_id, m.atts[i].content_id);
      else
        ASSERT_NULL(m.atts[i].content_id);
    }
    sg_sbx_msg_free(&m);
    sg_buf_free(&b);
    pool_free(&g.p);
  }
}

static void t_large_attachment_size(void) {
  size_t n = 8u * 1024u * 1024u + 1;
  uint8_t *big = sg_xcalloc(1, n);
  static const sg_job_addr to[] = {{"a@example.com", ""}};
  sg_job_attachment a = {"big.bin", "application/zip", big, n, "", false};
  sg_job j = empty_job();
  j.subject = "s", j.text_body = "t", j.to = to, j.n_to = 1;
  j.attachments = &a, j.n_attachments = 1;
  size_t want = sg_acs_request_size(&j, "2025-09-01", NULL);
  ASSERT_GT(want, SG_SBX_ACS_MAX_BODY); /* base64 of 8 MiB is over 10 MiB */
  sg_buf b = SG_BUF_INIT;
  build(&j, "2025-09-01", NULL, &b);
  ASSERT_EQ(want, b.len);
  sg_buf_free(&b);
  sg_free(big);
}

static bool uuid_shape(const char *s, char version) {
  if (strlen(s) != 36)
    return false;
  for (size_t i = 0; i < 36; i++) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (s[i] == '-'))
      return false;
    if (!dash && !strchr("0123456789abcdef", s[i]))
      return false;
  }
  return s[14] == version && strchr("89ab", s[19]) != NULL;
}

static void t_operation_id(void) {
  char a[SG_ACS_UUID_LEN], b[SG_ACS_UUID_LEN], c[SG_ACS_UUID_LEN];
  ASSERT_OK(sg_acs_operation_id("job-1", a));
  ASSERT_OK(sg_acs_operation_id("job-1", b));
  ASSERT_OK(sg_acs_operation_id("job-2", c));
  ASSERT_STR_EQ(a, b);
  ASSERT(strcmp(a, c) != 0);
  ASSERT(uuid_shape(a, '5'));
  ASSERT(uuid_shape(c, '5'));
  /* Pinned: a change of namespace or hashing would give queued jobs new ids,
   * and retries across the upgrade would no longer be deduplicated. */
  ASSERT_STR_EQ(PINNED_OPID_JOB1, a);
  /* Many ids: all distinct (pairwise over a sorted list). */
  enum { N = 2000 };
  static char ids[N][SG_ACS_UUID_LEN];
  for (int i = 0; i < N; i++) {
    char job[32];
    snprintf(job, sizeof job, "j%d", i);
    ASSERT_OK(sg_acs_operation_id(job, ids[i]));
  }
  qsort(ids, N, SG_ACS_UUID_LEN, (int (*)(const void *, const void *))strcmp);
  for (int i = 1; i < N; i++)
    ASSERT(strcmp(ids[i - 1], ids[i]) != 0);
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_operation_id(NULL, a));
  ASSERT_OK(sg_acs_random_uuid(a));
  ASSERT_OK(sg_acs_random_uuid(b));
  ASSERT(uuid_shape(a, '4'));
  ASSERT(strcmp(a, b) != 0);
}

static void t_paths(void) {
  sg_buf b = SG_BUF_INIT;
  ASSERT_OK(sg_acs_send_path(&b, "", "2025-09-01"));
  ASSERT_STR_EQ("/emails:send?api-version=2025-09-01", b.data);
  sg_buf_reset(&b);
  ASSERT_OK(sg_acs_send_path(&b, "/acs", "2024-07-01-preview"));
  ASSERT_STR_EQ("/acs/emails:send?api-version=2024-07-01-preview", b.data);
  sg_buf_reset(&b);
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_send_path(&b, NULL, "2025-09-01&x=1"));
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_send_path(&b, NULL, ""));
  ASSERT_OK(sg_acs_poll_path(&b, NULL, "8540c0de-899f-5cce-acb5-3ec493af3800", "2023-03-31"));
  ASSERT_STR_EQ("/emails/operations/8540c0de-899f-5cce-acb5-3ec493af3800?api-version=2023-03-31",
                b.data);
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_poll_path(&b, NULL, "../x", "2023-03-31"));
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_poll_path(&b, NULL, "", "2023-03-31"));

  sg_acs_conn c;
  ASSERT_OK(sg_acs_conn_parse("endpoint=https://Res.Example:8443/;accesskey=AAEC", &c));
  sg_buf_reset(&b);
  ASSERT_OK(sg_acs_location_path(&b, &c, "https://res.example:8443//emails/operations/x?a=1"));
  ASSERT_STR_EQ("//emails/operations/x?a=1", b.data);
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_location_path(&b, &c, "https://res.example/emails/x"));
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_location_path(&b, &c, "http://res.example:8443/emails/x"));
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_location_path(&b, &c, "https://res.example:84430/x"));
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_location_path(&b, &c, "https://res.example:8443/x\r\ny: z"));
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_location_path(&b, &c, "/emails/operations/x"));
  sg_acs_conn_free(&c);
  sg_buf_free(&b);
}

static const char *hval(const sg_acs_headers *hs, const char *name) {
  const sg_http_header *f = sg_http_find(hs->h, hs->n, name);
  return f ? f->value : NULL;
}

/* The known-answer vectors of microsoft-apis.md §5.1. */
static void t_headers_hmac(void) {
  static const char body[] =
      "{\"senderAddress\":\"donotreply@contoso.com\",\"content\":{\"subject\":\"hi\","
      "\"plainText\":\"x\"},\"recipients\":{\"to\":[{\"address\":\"a@b.example\"}]}}";
  sg_acs_conn c;
  ASSERT_OK(sg_acs_conn_parse("endpoint=https://contoso.communication.azure.com/;"
                              "accesskey=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                              &c));
  sg_acs_req r = {"POST",
                  "/emails:send?api-version=2023-03-31",
                  c.authority,
                  body,
                  sizeof body - 1,
                  "Mon, 01 Jan 2024 00:00:00 GMT",
                  "3f2e7c7a-0000-5000-8000-000000000001",
                  "3f2e7c7a-0000-4000-8000-000000000002",
                  c.key,
                  c.key_len,
                  NULL};
  sg_acs_headers hs;
  ASSERT_OK(sg_acs_headers_fill(&hs, &r));
  ASSERT_EQ(6, hs.n);
  ASSERT_STR_EQ("application/json", hval(&hs, "content-type"));
  ASSERT_STR_EQ("3f2e7c7a-0000-5000-8000-000000000001", hval(&hs, "operation-id"));
  ASSERT_STR_EQ("3f2e7c7a-0000-4000-8000-000000000002", hval(&hs, "x-ms-client-request-id"));
  ASSERT_STR_EQ("Mon, 01 Jan 2024 00:00:00 GMT", hval(&hs, "x-ms-date"));
  ASSERT_STR_EQ("DlHkdf2q6jMUbo9kxrkNduMyKL0WcrFbosuwm39lujI=", hval(&hs, "x-ms-content-sha256"));
  ASSERT_STR_EQ("HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
                "rdsoIbNLlPLfdWUiaBlNdgcGsXZ4gwPWHNv+SOZocWM=",
                hval(&hs, "authorization"));
  ASSERT_EQ(SG_ACS_VERIFY_OK,
            sg_acs_verify_headers(c.key, c.key_len, "POST", r.path_and_query, c.authority, hs.h,
                                  hs.n, body, sizeof body - 1, 0, -1));
  sg_acs_headers_free(&hs);

  /* The poll: GET, empty body, no Operation-Id, no content-type. */
  sg_acs_req g = {
      "GET",       "/emails/operations/8540c0de-899f-5cce-acb5-3ec493af3800?api-version=2023-03-31",
      c.authority, NULL,
      0,           "Mon, 01 Jan 2024 00:00:00 GMT",
      NULL,        NULL,
      c.key,       c.key_len,
      NULL};
  ASSERT_OK(sg_acs_headers_fill(&hs, &g));
  ASSERT_EQ(3, hs.n);
  ASSERT_NULL(hval(&hs, "content-type"));
  ASSERT_NULL(hval(&hs, "operation-id"));
  ASSERT_STR_EQ("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", hval(&hs, "x-ms-content-sha256"));
  ASSERT_STR_EQ("HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
                "1k4Yjo5h4eB5mcSm4l3N+3AK4DcBOU/Zu5jczxWAC8k=",
                hval(&hs, "authorization"));
  sg_acs_headers_free(&hs);

  /* A non-default port is part of the signed host. */
  sg_acs_conn p;
  ASSERT_OK(sg_acs_conn_parse("endpoint=https://localhost:8443/;accesskey=AAEC", &p));
  r.authority = p.authority, r.key = p.key, r.key_len = p.key_len;
  ASSERT_OK(sg_acs_headers_fill(&hs, &r));
  ASSERT_EQ(SG_ACS_VERIFY_OK,
            sg_acs_verify_headers(p.key, p.key_len, "POST", r.path_and_query, "localhost:8443",
                                  hs.h, hs.n, body, sizeof body - 1, 0, -1));
  ASSERT_EQ(SG_ACS_VERIFY_SIGNATURE,
            sg_acs_verify_headers(p.key, p.key_len, "POST", r.path_and_query, "localhost", hs.h,
                                  hs.n, body, sizeof body - 1, 0, -1));
  sg_acs_headers_free(&hs);

  /* Refusals; free is safe after a failure. */
  sg_acs_req bad = r;
  bad.date = NULL;
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_headers_fill(&hs, &bad));
  sg_acs_headers_free(&hs);
  bad = r, bad.key = NULL;
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_headers_fill(&hs, &bad));
  bad = r, bad.operation_id = "not a uuid";
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_headers_fill(&hs, &bad));
  bad = r, bad.operation_id = "3f2e7c7a-0000-5000-8000-0000000000011";
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_headers_fill(&hs, &bad));
  bad = r, bad.authority = NULL;
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_headers_fill(&hs, &bad));
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_headers_fill(&hs, NULL));
  sg_acs_conn_free(&p);
  sg_acs_conn_free(&c);
}

static void t_headers_bearer(void) {
  sg_acs_req r = {"POST",
                  "/emails:send?api-version=2025-09-01",
                  "res.example",
                  "{}",
                  2,
                  NULL,
                  "3f2e7c7a-0000-5000-8000-000000000001",
                  NULL,
                  NULL,
                  0,
                  "eyJ0eXAi.abc.def"};
  sg_acs_headers hs;
  ASSERT_OK(sg_acs_headers_fill(&hs, &r));
  ASSERT_EQ(3, hs.n);
  ASSERT_STR_EQ("Bearer eyJ0eXAi.abc.def", hval(&hs, "authorization"));
  ASSERT_NULL(hval(&hs, "x-ms-content-sha256"));
  ASSERT_NULL(hval(&hs, "x-ms-client-request-id"));
  sg_acs_headers_free(&hs);
  r.bearer_token = "tok\r\nx-evil: 1";
  ASSERT_EQ(SG_ERR_INVAL, sg_acs_headers_fill(&hs, &r));
  sg_acs_headers_free(&hs);
  ASSERT_STR_EQ("https://communication.azure.com//.default", SG_ACS_ENTRA_SCOPE);
}

#define H(n, v) sg_http_hdr(n, v)
#define NOW 1700000000000LL

static sg_acs_outcome send_c(int status, const sg_http_header *h, size_t nh, const char *body) {
  sg_acs_outcome o;
  ASSERT_OK(sg_classify_acs_send(status, h, nh, body, body ? strlen(body) : 0, NOW, &o));
  return o;
}

static sg_acs_outcome poll_c(int status, const sg_http_header *h, size_t nh, const char *body) {
  sg_acs_outcome o;
  ASSERT_OK(sg_classify_acs_poll(status, h, nh, body, body ? strlen(body) : 0, NOW, &o));
  return o;
}

static void t_classify_send(void) {
  sg_http_header h[] = {H("operation-location",
                          "https://res.example//emails/operations/abc-1?api-version=2025-09-01"),
                        H("retry-after", "20"), H("x-ms-request-id", "rid-1"),
                        H("operation-id", "hdr-id")};
  sg_acs_outcome o = send_c(202, h, 4, "{\"id\":\"abc-1\",\"status\":\"Running\"}");
  ASSERT_EQ(SG_ACS_ACCEPTED, o.kind);
  ASSERT_EQ(SG_OUTCOME_ACCEPTED, o.base.kind);
  ASSERT_EQ(202, o.base.http_status);
  ASSERT_STR_EQ("abc-1", o.operation_id);
  ASSERT_STR_EQ("https://res.example//emails/operations/abc-1?api-version=2025-09-01",
                o.operation_location);
  ASSERT_STR_EQ("Running", o.status);
  ASSERT(o.base.has_retry_after);
  ASSERT_EQ(20000, o.base.retry_after_ms);
  ASSERT_STR_EQ("rid-1", o.base.request_id);
  ASSERT_STR_EQ("", o.base.code);
  /* No body: the operation-id header; a hostile body id is ignored. */
  o = send_c(202, h, 4, NULL);
  ASSERT_STR_EQ("hdr-id", o.operation_id);
  o = send_c(202, h, 4, "{\"id\":\"../../x\"}");
  ASSERT_STR_EQ("hdr-id", o.operation_id);
  o = send_c(202, NULL, 0, "{\"id\":\"a/b\"}");
  ASSERT_STR_EQ("", o.operation_id);
  ASSERT_EQ(SG_ACS_ACCEPTED, o.kind);
  /* A 202 whose body already says Failed. */
  o = send_c(202, NULL, 0, "{\"id\":\"x\",\"status\":\"Failed\",\"error\":{\"code\":\"E\"}}");
  ASSERT_EQ(SG_ACS_FAILED, o.kind);
  ASSERT_STR_EQ("E", o.base.code);
  /* 409: the Operation-Id is known: accepted, poll it. */
  sg_http_header c[] = {H("x-ms-error-code", "Conflict"), H("operation-id", "op-9")};
  o = send_c(409, c, 2, "{\"error\":{\"code\":\"Conflict\",\"message\":\"in progress\"}}");
  ASSERT_EQ(SG_ACS_ACCEPTED, o.kind);
  ASSERT_STR_EQ("op-9", o.operation_id);
  ASSERT_EQ(409, o.base.http_status);
  /* 429: throttled with Retry-After. */
  sg_http_header t[] = {H("retry-after", "7"), H("x-ms-error-code", "TooManyRequests")};
  o = send_c(429, t, 2, "{\"error\":{\"code\":\"TooManyRequests\",\"message\":\"slow\"}}");
  ASSERT_EQ(SG_ACS_RETRY, o.kind);
  ASSERT_EQ(SG_OUTCOME_RETRY, o.base.kind);
  ASSERT(o.base.throttled);
  ASSERT_EQ(7000, o.base.retry_after_ms);
  ASSERT_STR_EQ("TooManyRequests", o.base.code);
  ASSERT_STR_EQ("slow", o.base.message);
  /* 503 with and without Retry-After; other 5xx; 408. */
  o = send_c(503, t, 1, NULL);
  ASSERT(o.kind == SG_ACS_RETRY && o.base.throttled && o.base.has_retry_after);
  o = send_c(503, NULL, 0, NULL);
  ASSERT(o.kind == SG_ACS_RETRY && !o.base.throttled && !o.base.has_retry_after);
  o = send_c(500, NULL, 0, "{\"error\":{\"code\":\"InternalServerError\"}}");
  ASSERT(o.kind == SG_ACS_RETRY && !o.base.throttled && !o.base.ambiguous);
  o = send_c(504, NULL, 0, "<html>");
  ASSERT_EQ(SG_ACS_RETRY, o.kind);
  o = send_c(408, NULL, 0, NULL);
  ASSERT_EQ(SG_ACS_RETRY, o.kind);
  /* 4xx: FAILED; the header code wins over the body's. */
  sg_http_header e[] = {H("x-ms-error-code", "InvalidEmailAddress"), H("x-ms-request-id", "r2")};
  o = send_c(400, e, 2, "{\"error\":{\"code\":\"BadRequest\",\"message\":\"bad 'x'\"}}");
  ASSERT_EQ(SG_ACS_FAILED, o.kind);
  ASSERT_EQ(SG_OUTCOME_FAILED, o.base.kind);
  ASSERT_STR_EQ("InvalidEmailAddress", o.base.code);
  ASSERT_STR_EQ("bad 'x'", o.base.message);
  ASSERT_STR_EQ("r2", o.base.request_id);
  o = send_c(413, NULL, 0, "{\"error\":{\"code\":\"RequestBodyTooLarge\",\"message\":\"m\"}}");
  ASSERT_EQ(SG_ACS_FAILED, o.kind);
  ASSERT_STR_EQ("RequestBodyTooLarge", o.base.code);
  o = send_c(401, NULL, 0, "{\"error\":{\"code\":\"Denied\"}}");
  ASSERT_EQ(SG_ACS_AUTH_REFRESH, o.kind);
  ASSERT_EQ(SG_OUTCOME_AUTH_REFRESH, o.base.kind);
  o = send_c(403, NULL, 0, NULL);
  ASSERT_EQ(SG_ACS_FAILED, o.kind);
  o = send_c(302, NULL, 0, NULL);
  ASSERT_EQ(SG_ACS_FAILED, o.kind);
  /* Throttle code under another status. */
  o = send_c(400, NULL, 0, "{\"error\":{\"code\":\"TooManyRequests\"}}");
  ASSERT(o.kind == SG_ACS_RETRY && o.base.throttled);
  /* Bad arguments. */
  ASSERT_EQ(SG_ERR_INVAL, sg_classify_acs_send(202, NULL, 1, NULL, 0, NOW, &o));
  ASSERT_EQ(SG_ERR_INVAL, sg_classify_acs_send(202, NULL, 0, NULL, 3, NOW, &o));
  ASSERT_EQ(SG_ERR_INVAL, sg_classify_acs_send(202, NULL, 0, NULL, 0, NOW, NULL));
}

static void t_classify_poll(void) {
  sg_http_header ra[] = {H("retry-after", "3"), H("x-ms-request-id", "rq")};
  sg_acs_outcome o = poll_c(200, NULL, 0, "{\"id\":\"op\",\"status\":\"Succeeded\"}");
  ASSERT_EQ(SG_ACS_SENT, o.kind);
  ASSERT_EQ(SG_OUTCOME_SENT, o.base.kind);
  ASSERT_STR_EQ("op", o.operation_id);
  o = poll_c(200, ra, 2, "{\"id\":\"op\",\"status\":\"Running\"}");
  ASSERT_EQ(SG_ACS_POLL_AGAIN, o.kind);
  ASSERT_EQ(SG_OUTCOME_PENDING, o.base.kind);
  ASSERT(o.base.has_retry_after && !o.base.throttled);
  ASSERT_EQ(3000, o.base.retry_after_ms);
  ASSERT_STR_EQ("rq", o.base.request_id);
  o = poll_c(200, NULL, 0, "{\"id\":\"op\",\"status\":\"NotStarted\"}");
  ASSERT_EQ(SG_ACS_POLL_AGAIN, o.kind);
  ASSERT_EQ(SG_ACS_DEFAULT_POLL_MS, o.base.retry_after_ms);
  o = poll_c(200, NULL, 0,
             "{\"id\":\"op\",\"status\":\"Failed\",\"error\":{\"code\":\"EmailDropped\","
             "\"message\":\"Email was dropped after several attempts to deliver.\"}}");
  ASSERT_EQ(SG_ACS_FAILED, o.kind);
  ASSERT_STR_EQ("EmailDropped", o.base.code);
  ASSERT_STR_EQ("Email was dropped after several attempts to deliver.", o.base.message);
  o = poll_c(200, NULL, 0, "{\"status\":\"Failed\"}");
  ASSERT_EQ(SG_ACS_FAILED, o.kind);
  ASSERT_STR_EQ("EmailSendFailed", o.base.code);
  o = poll_c(200, NULL, 0, "{\"status\":\"Canceled\"}");
  ASSERT_EQ(SG_ACS_FAILED, o.kind);
  ASSERT_STR_EQ("Canceled", o.base.code);
  o = poll_c(200, NULL, 0, "{\"status\":\"Exploded\"}");
  ASSERT_EQ(SG_ACS_RETRY, o.kind);
  o = poll_c(200, NULL, 0, "not json");
  ASSERT_EQ(SG_ACS_RETRY, o.kind);
  o = poll_c(200, NULL, 0, "{\"status\":\"Succeeded\",\"error\":{\"code\":\"X\"}}");
  ASSERT_EQ(SG_ACS_SENT, o.kind);
  ASSERT_STR_EQ("", o.base.code);
  o = poll_c(429, ra, 1, NULL);
  ASSERT(o.kind == SG_ACS_RETRY && o.base.throttled && o.base.retry_after_ms == 3000);
  o = poll_c(404, NULL, 0, "{\"error\":{\"code\":\"NotFound\",\"message\":\"gone\"}}");
  ASSERT_EQ(SG_ACS_FAILED, o.kind);
  ASSERT_STR_EQ("NotFound", o.base.code);
  o = poll_c(500, NULL, 0, NULL);
  ASSERT_EQ(SG_ACS_RETRY, o.kind);
  o = poll_c(401, NULL, 0, NULL);
  ASSERT_EQ(SG_ACS_AUTH_REFRESH, o.kind);
  ASSERT_STR_EQ("POLL_AGAIN", sg_acs_kind_name(SG_ACS_POLL_AGAIN));
  ASSERT_STR_EQ("ACCEPTED", sg_acs_kind_name(SG_ACS_ACCEPTED));
  ASSERT_STR_EQ("UNKNOWN", sg_acs_kind_name((sg_acs_kind)99));
}

/* Hostile answers: long strings, control bytes, huge and deep bodies. */
static void t_classify_hostile(void) {
  sg_buf b = SG_BUF_INIT;
  sg_buf_append_str(&b, "{\"id\":\"");
  for (int i = 0; i < 200; i++)
    sg_buf_append_char(&b, 'a');
  sg_buf_append_str(&b, "\",\"status\":\"Failed\",\"error\":{\"code\":\"");
  for (int i = 0; i < 5000; i++)
    sg_buf_append_str(&b, "\xc3\xa9\\u0001");
  sg_buf_append_str(&b, "\",\"message\":\"m\"}}");
  sg_acs_outcome o = poll_c(200, NULL, 0, b.data);
  ASSERT_EQ(SG_ACS_FAILED, o.kind);
  ASSERT_STR_EQ("", o.operation_id); /* too long to be an id */
  ASSERT_LT(strlen(o.base.code), sizeof o.base.code);
  for (const char *p = o.base.code; *p; p++)
    ASSERT((unsigned char)*p >= 0x20);
  ASSERT(sg_utf8_valid(o.base.code, strlen(o.base.code)));
  /* Over the parse cap: not parsed at all. */
  sg_buf_reset(&b);
  sg_buf_append_str(&b, "{\"status\":\"Succeeded\",\"pad\":\"");
  for (size_t i = 0; i < SG_ACS_CLASSIFY_MAX_BODY; i++)
    sg_buf_append_char(&b, 'x');
  sg_buf_append_str(&b, "\"}");
  o = poll_c(200, NULL, 0, b.data);
  ASSERT_EQ(SG_ACS_RETRY, o.kind);
  /* Deep nesting. */
  sg_buf_reset(&b);
  for (int i = 0; i < 5000; i++)
    sg_buf_append_str(&b, "{\"a\":");
  o = poll_c(200, NULL, 0, b.data);
  ASSERT_EQ(SG_ACS_RETRY, o.kind);
  /* A long or binary Operation-Location is dropped, not cut. */
  sg_buf_reset(&b);
  sg_buf_append_str(&b, "https://x/");
  for (int i = 0; i < SG_ACS_LOCATION_MAX; i++)
    sg_buf_append_char(&b, 'p');
  sg_http_header h[] = {H("operation-location", b.data), H("x-ms-request-id", "r\x01\xff")};
  o = send_c(202, h, 2, NULL);
  ASSERT_STR_EQ("", o.operation_location);
  ASSERT_STR_EQ("r??", o.base.request_id);
  sg_http_header h2[] = {H("operation-location", "https://x/a b")};
  o = send_c(202, h2, 1, NULL);
  ASSERT_STR_EQ("", o.operation_location);
  /* Body with embedded NUL bytes. */
  static const char nul[] = "{\"id\":\"a\\u0000b\",\"status\":\"Running\"}";
  o = poll_c(200, NULL, 0, nul);
  ASSERT_STR_EQ("", o.operation_id);
  ASSERT_EQ(SG_ACS_POLL_AGAIN, o.kind);
  sg_buf_free(&b);
}

static const sg_test_case cases[] = {
    {"full_message", t_full_message},
    {"minimal", t_minimal},
    {"size_many", t_size_many},
    {"sandbox_accepts", t_sandbox_accepts},
    {"large_attachment_size", t_large_attachment_size},
    {"operation_id", t_operation_id},
    {"paths", t_paths},
    {"headers_hmac", t_headers_hmac},
    {"headers_bearer", t_headers_bearer},
    {"classify_send", t_classify_send},
    {"classify_poll", t_classify_poll},
    {"classify_hostile", t_classify_hostile},
};

int main(int argc, char **argv) {
  if (argc > 1 && strncmp(argv[1], "--acs-", 6) == 0)
    return acs_tool_main(argc, argv);
  return sg_test_main(argc, argv, cases, SG_ARRAY_LEN(cases));
}
