/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for svc/sg_graph: the sendMail JSON body (parsed back with
 * sg_json and compared field by field, including control characters,
 * non-ASCII and invalid UTF-8), the MIME body, the size estimate against the
 * real size for many generated jobs, and the URL path encoding.
 */
#include "harness.h"

#include "core/sg_base64.h"
#include "core/sg_err.h"
#include "core/sg_rand.h"
#include "json/sg_json.h"
#include "svc/sg_graph.h"

static sg_json_doc *parse(const sg_buf *b) {
  sg_json_doc *d = NULL;
  char err[128] = "";
  int rv = sg_json_parse(&d, b->data, b->len, 0, err, sizeof err);
  if (rv != 0)
    fprintf(stderr, "parse error: %s\n%.*s\n", err, (int)(b->len > 2000 ? 2000 : b->len), b->data);
  ASSERT_OK(rv);
  return d;
}

static const char *jstr(const sg_json *v) {
  ASSERT_NOT_NULL(v);
  ASSERT_EQ(SG_JSON_STRING, v->type);
  return v->str;
}

static const sg_json *at(const sg_json *arr, size_t i) {
  ASSERT_NOT_NULL(arr);
  ASSERT_EQ(SG_JSON_ARRAY, arr->type);
  ASSERT_LT(i, arr->count);
  const sg_json *v = arr->child;
  while (i--)
    v = v->next;
  return v;
}

static sg_job empty_job(void) {
  sg_job j;
  memset(&j, 0, sizeof j);
  j.id = "job-1";
  j.backend = SG_BACKEND_GRAPH;
  j.account = j.sender = j.subject = j.text_body = j.html_body = "";
  j.reply_stream = j.campaign_id = "";
  j.sender = "sender@contoso.com";
  return j;
}

static void t_full_message(void) {
  static const char subject[] = "Quote \" backslash \\ tab\t nl\n cr\r bell\x07 nul-free "
                                "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \x7f";
  static const sg_job_addr to[] = {{"a@example.com", "Ann \"A\" \xc3\x85sa"},
                                   {"b@example.com", ""}};
  static const sg_job_addr cc[] = {{"c@example.com", "Cee"}};
  static const sg_job_addr bcc[] = {{"d@example.com", ""}};
  static const sg_job_addr rt[] = {{"reply@example.com", "Replies"}};
  static const sg_job_header hdrs[] = {{"X-Campaign", "spring \xe2\x98\x83"}, {"x-trace", "1\t2"}};
  static const uint8_t bin[] = {0, 1, 2, 0xff, 0xfe, '"', '\\', 10, 13};
  static const uint8_t png[] = {0x89, 'P', 'N', 'G'};
  const sg_job_attachment atts[] = {
      {"report \xc3\xa9.bin", "application/octet-stream", bin, sizeof bin, "", false},
      {"logo.png", "image/png", png, sizeof png, "logo@x", true},
      {"empty.txt", "", NULL, 0, "", false},
  };
  sg_job j = empty_job();
  j.subject = subject;
  j.text_body = "plain text";
  j.html_body = "<p>Hello \xe2\x80\x94 <img src=\"cid:logo@x\"></p>\n";
  j.to = to;
  j.n_to = 2;
  j.cc = cc;
  j.n_cc = 1;
  j.bcc = bcc;
  j.n_bcc = 1;
  j.reply_to = rt;
  j.n_reply_to = 1;
  j.headers = hdrs;
  j.n_headers = 2;
  j.attachments = atts;
  j.n_attachments = 3;

  sg_buf b = SG_BUF_INIT;
  const char *ct = NULL;
  ASSERT_OK(sg_graph_build(&j, &b, &ct));
  ASSERT_STR_EQ(SG_GRAPH_CONTENT_TYPE_JSON, ct);
  ASSERT_EQ(sg_graph_request_size(&j), b.len);
  ASSERT_EQ(strlen(b.data), b.len); /* no raw NUL in the JSON */

  sg_json_doc *d = parse(&b);
  const sg_json *root = sg_json_root(d);
  ASSERT_EQ(2, root->count);
  const sg_json *save = sg_json_get(root, "saveToSentItems");
  ASSERT_NOT_NULL(save);
  ASSERT_EQ(SG_JSON_FALSE, save->type);
  const sg_json *m = sg_json_get(root, "message");
  ASSERT_STR_EQ(subject, jstr(sg_json_get(m, "subject")));
  /* Both bodies given: HTML wins. */
  ASSERT_STR_EQ("html", jstr(sg_json_get(sg_json_get(m, "body"), "contentType")));
  ASSERT_STR_EQ(j.html_body, jstr(sg_json_get(sg_json_get(m, "body"), "content")));

  const sg_json *tr = sg_json_get(m, "toRecipients");
  ASSERT_EQ(2, tr->count);
  const sg_json *ea = sg_json_get(at(tr, 0), "emailAddress");
  ASSERT_STR_EQ("a@example.com", jstr(sg_json_get(ea, "address")));
  ASSERT_STR_EQ(to[0].name, jstr(sg_json_get(ea, "name")));
  ea = sg_json_get(at(tr, 1), "emailAddress");
  ASSERT_STR_EQ("b@example.com", jstr(sg_json_get(ea, "address")));
  ASSERT_NULL(sg_json_get(ea, "name")); /* empty name left out */
  ASSERT_STR_EQ("c@example.com",
                jstr(sg_json_get(sg_json_get(at(sg_json_get(m, "ccRecipients"), 0), "emailAddress"),
                                 "address")));
  ASSERT_STR_EQ(
      "d@example.com",
      jstr(sg_json_get(sg_json_get(at(sg_json_get(m, "bccRecipients"), 0), "emailAddress"),
                       "address")));
  ASSERT_STR_EQ(
      "Replies",
      jstr(sg_json_get(sg_json_get(at(sg_json_get(m, "replyTo"), 0), "emailAddress"), "name")));

  const sg_json *ih = sg_json_get(m, "internetMessageHeaders");
  ASSERT_EQ(2, ih->count);
  ASSERT_STR_EQ("X-Campaign", jstr(sg_json_get(at(ih, 0), "name")));
  ASSERT_STR_EQ("spring \xe2\x98\x83", jstr(sg_json_get(at(ih, 0), "value")));
  ASSERT_STR_EQ("1\t2", jstr(sg_json_get(at(ih, 1), "value")));

  const sg_json *as = sg_json_get(m, "attachments");
  ASSERT_EQ(3, as->count);
  for (size_t i = 0; i < 3; i++) {
    const sg_json *a = at(as, i);
    ASSERT_STR_EQ("#microsoft.graph.fileAttachment", jstr(sg_json_get(a, "@odata.type")));
    ASSERT_STR_EQ(atts[i].name, jstr(sg_json_get(a, "name")));
    const sg_json *cb = sg_json_get(a, "contentBytes");
    sg_buf raw = SG_BUF_INIT;
    ASSERT_OK(sg_base64_decode(&raw, jstr(cb), cb->len, false));
    ASSERT_EQ(atts[i].content_len, raw.len);
    if (raw.len)
      ASSERT_MEM_EQ(atts[i].content, raw.data, raw.len);
    sg_buf_free(&raw);
    ASSERT_EQ(atts[i].is_inline ? SG_JSON_TRUE : SG_JSON_FALSE, sg_json_get(a, "isInline")->type);
  }
  ASSERT_STR_EQ("application/octet-stream", jstr(sg_json_get(at(as, 0), "contentType")));
  ASSERT_NULL(sg_json_get(at(as, 0), "contentId"));
  ASSERT_STR_EQ("logo@x", jstr(sg_json_get(at(as, 1), "contentId")));
  ASSERT_NULL(sg_json_get(at(as, 2), "contentType"));
  sg_json_doc_free(d);
  sg_buf_free(&b);
}

static void t_minimal_text(void) {
  static const sg_job_addr to[] = {{"a@example.com", ""}};
  sg_job j = empty_job();
  j.subject = "Hi";
  j.text_body = "Body";
  j.to = to;
  j.n_to = 1;
  j.save_to_sent_items = true;
  sg_buf b = SG_BUF_INIT;
  const char *ct;
  ASSERT_OK(sg_graph_build(&j, &b, &ct));
  ASSERT_STR_EQ("{\"message\":{\"subject\":\"Hi\",\"body\":{\"contentType\":\"text\",\"content\":"
                "\"Body\"},\"toRecipients\":[{\"emailAddress\":{\"address\":\"a@example.com\"}}]}}",
                b.data);
  ASSERT_EQ(sg_graph_request_size(&j), b.len);
  /* No body at all: an empty text body, still valid JSON. */
  j.text_body = "";
  j.save_to_sent_items = false;
  sg_buf_reset(&b);
  ASSERT_OK(sg_graph_build(&j, &b, &ct));
  ASSERT(strstr(b.data, "\"body\":{\"contentType\":\"text\",\"content\":\"\"}") != NULL);
  ASSERT(strstr(b.data, "\"saveToSentItems\":false}") != NULL);
  ASSERT(strstr(b.data, "ccRecipients") == NULL);
  ASSERT(strstr(b.data, "internetMessageHeaders") == NULL);
  ASSERT(strstr(b.data, "attachments") == NULL);
  sg_json_doc_free(parse(&b));
  ASSERT_EQ(SG_ERR_INVAL, sg_graph_build(NULL, &b, &ct));
  ASSERT_EQ(SG_ERR_INVAL, sg_graph_build(&j, NULL, &ct));
  ASSERT_EQ(SG_ERR_INVAL, sg_graph_build(&j, &b, NULL));
  sg_buf_free(&b);
}

static void t_invalid_utf8(void) {
  static const sg_job_addr to[] = {{"a@example.com", "bad \xff\xc0\xaf name"}};
  sg_job j = empty_job();
  j.subject = "x\x80y\xed\xa0\x80z\xf4\x90\x80\x80";
  j.to = to;
  j.n_to = 1;
  sg_buf b = SG_BUF_INIT;
  const char *ct;
  ASSERT_OK(sg_graph_build(&j, &b, &ct));
  ASSERT_EQ(sg_graph_request_size(&j), b.len);
  sg_json_doc *d = parse(&b);
  const char *s = jstr(sg_json_get(sg_json_get(sg_json_root(d), "message"), "subject"));
  /* Every bad byte became U+FFFD (EF BF BD). */
  ASSERT_STR_EQ("x\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz"
                "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
                s);
  sg_json_doc_free(d);
  sg_buf_free(&b);
}

static void t_mime(void) {
  static const char mime[] = "From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\n\r\nhello \xc3\xa9\r\n";
  sg_job j = empty_job();
  j.mime = (const uint8_t *)mime;
  j.mime_len = sizeof mime - 1;
  sg_buf b = SG_BUF_INIT;
  const char *ct = NULL;
  ASSERT_OK(sg_graph_build(&j, &b, &ct));
  ASSERT_STR_EQ(SG_GRAPH_CONTENT_TYPE_MIME, ct);
  ASSERT_EQ(sg_base64_len(sizeof mime - 1), b.len);
  ASSERT_EQ(sg_graph_request_size(&j), b.len);
  ASSERT(strchr(b.data, '\n') == NULL); /* unwrapped */
  sg_buf raw = SG_BUF_INIT;
  ASSERT_OK(sg_base64_decode(&raw, b.data, b.len, false));
  ASSERT_EQ(sizeof mime - 1, raw.len);
  ASSERT_MEM_EQ(mime, raw.data, raw.len);
  /* Appends: an existing prefix is kept. */
  sg_buf_reset(&b);
  sg_buf_append_str(&b, "PFX");
  ASSERT_OK(sg_graph_build(&j, &b, &ct));
  ASSERT_EQ(3 + sg_graph_request_size(&j), b.len);
  ASSERT_MEM_EQ("PFX", b.data, 3);
  sg_buf_free(&raw);
  sg_buf_free(&b);
}

/* Deterministic generated jobs. */
static uint64_t rng_state = 0x2545F4914F6CDD1DULL;
static uint64_t rnd(void) {
  return sg_rand_next(&rng_state);
}

/* A NUL-terminated string of hostile bytes: ASCII, controls, quotes, UTF-8
 * sequences of every length, and invalid bytes. Stored in |pool|. */
static const char *gen_str(sg_buf *pool, size_t maxlen) {
  static const char *const pieces[] = {
      "a",
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
      "\xe2\x82\xac",
      "\xf0\x9f\x98\x80",
      "\x80",
      "\xc0\xaf",
      "\xed\xa0\x80",
      "\xf4\x90\x80\x80",
      "\xe2\x82",
      "\xf0\x9f",
      "\xff",
      "<p>",
      "&amp;",
      "@",
  };
  size_t n = (size_t)(rnd() % (maxlen + 1));
  char *s = sg_xmalloc(n * 5 + 1); /* longest piece: 5 bytes */
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    const char *p = pieces[rnd() % SG_ARRAY_LEN(pieces)];
    size_t pl = strlen(p);
    memcpy(s + k, p, pl);
    k += pl;
  }
  s[k] = '\0';
  /* Keep the pointer for freeing at the end. */
  sg_buf_append(pool, &s, sizeof s);
  return s;
}

static void gen_addrs(sg_buf *pool, sg_job_addr *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    v[i].address = gen_str(pool, 6);
    v[i].name = (rnd() & 1) ? gen_str(pool, 8) : "";
  }
}

static void t_size_many(void) {
  for (int iter = 0; iter < 600; iter++) {
    sg_buf pool = SG_BUF_INIT;
    sg_job_addr to[4], cc[3], bcc[3], rt[2];
    sg_job_header hdrs[5];
    sg_job_attachment atts[3];
    uint8_t content[3][70];
    sg_job j = empty_job();
    j.subject = gen_str(&pool, 20);
    j.text_body = (rnd() & 1) ? gen_str(&pool, 60) : "";
    j.html_body = (rnd() & 1) ? gen_str(&pool, 60) : "";
    j.n_to = (size_t)(rnd() % 5);
    j.n_cc = (size_t)(rnd() % 4);
    j.n_bcc = (size_t)(rnd() % 4);
    j.n_reply_to = (size_t)(rnd() % 3);
    gen_addrs(&pool, to, j.n_to);
    gen_addrs(&pool, cc, j.n_cc);
    gen_addrs(&pool, bcc, j.n_bcc);
    gen_addrs(&pool, rt, j.n_reply_to);
    j.to = to;
    j.cc = cc;
    j.bcc = bcc;
    j.reply_to = rt;
    j.n_headers = (size_t)(rnd() % 6);
    for (size_t i = 0; i < j.n_headers; i++) {
      hdrs[i].name = gen_str(&pool, 5);
      hdrs[i].value = gen_str(&pool, 10);
    }
    j.headers = hdrs;
    j.n_attachments = (size_t)(rnd() % 4);
    for (size_t i = 0; i < j.n_attachments; i++) {
      size_t cl = (size_t)(rnd() % sizeof content[i]);
      for (size_t k = 0; k < cl; k++)
        content[i][k] = (uint8_t)rnd();
      atts[i] = (sg_job_attachment){gen_str(&pool, 5),
                                    (rnd() & 1) ? gen_str(&pool, 5) : "",
                                    content[i],
                                    cl,
                                    (rnd() & 1) ? gen_str(&pool, 4) : "",
                                    (rnd() & 1) != 0};
    }
    j.attachments = atts;
    j.save_to_sent_items = (rnd() & 1) != 0;
    if (iter % 10 == 0) {
      /* MIME jobs: random bytes of random length. */
      const char *m = gen_str(&pool, 200);
      j.mime = (const uint8_t *)m;
      j.mime_len = strlen(m);
    }

    sg_buf b = SG_BUF_INIT;
    const char *ct;
    ASSERT_OK(sg_graph_build(&j, &b, &ct));
    ASSERT_EQ(sg_graph_request_size(&j), b.len);
    /* The same bytes with the bodies' lengths given, as the decoder does. */
    sg_job jl = j;
    jl.text_body_len = strlen(j.text_body);
    jl.html_body_len = strlen(j.html_body);
    sg_buf bl = SG_BUF_INIT;
    ASSERT_OK(sg_graph_build(&jl, &bl, &ct));
    ASSERT_EQ(b.len, bl.len);
    ASSERT_MEM_EQ(b.data, bl.data, b.len);
    ASSERT_EQ(b.len, sg_graph_request_size(&jl));
    sg_buf_free(&bl);
    if (j.mime_len == 0) {
      sg_json_doc *d = parse(&b);
      const sg_json *m = sg_json_get(sg_json_root(d), "message");
      ASSERT_NOT_NULL(m);
      ASSERT_EQ(j.n_to, j.n_to ? sg_json_get(m, "toRecipients")->count : 0);
      ASSERT_EQ(j.n_attachments, j.n_attachments ? sg_json_get(m, "attachments")->count : 0);
      if (!j.n_headers)
        ASSERT_NULL(sg_json_get(m, "internetMessageHeaders"));
      sg_json_doc_free(d);
    } else {
      ASSERT_STR_EQ(SG_GRAPH_CONTENT_TYPE_MIME, ct);
    }
    sg_buf_free(&b);
    char **ptrs = (char **)(void *)pool.data;
    for (size_t i = 0; i < pool.len / sizeof(char *); i++)
      sg_free(ptrs[i]);
    sg_buf_free(&pool);
  }
}

static void t_large_attachment_size(void) {
  /* A 3 MiB attachment: the estimate says over the cap without building. */
  size_t n = 3u * 1024u * 1024u + 100u;
  uint8_t *big = sg_xcalloc(n, 1);
  static const sg_job_addr to[] = {{"a@example.com", ""}};
  sg_job_attachment a = {"big.bin", "application/octet-stream", big, n, "", false};
  sg_job j = empty_job();
  j.to = to;
  j.n_to = 1;
  j.attachments = &a;
  j.n_attachments = 1;
  size_t est = sg_graph_request_size(&j);
  ASSERT_GT(est, SG_GRAPH_MAX_REQUEST_BYTES);
  sg_buf b = SG_BUF_INIT;
  const char *ct;
  ASSERT_OK(sg_graph_build(&j, &b, &ct));
  ASSERT_EQ(est, b.len);
  sg_buf_free(&b);
  sg_free(big);
}

static void path_is(const char *mailbox, const char *want) {
  sg_buf b = SG_BUF_INIT;
  ASSERT_OK(sg_graph_path(&b, mailbox));
  ASSERT_STR_EQ(want, b.data);
  sg_buf_free(&b);
}

static void t_path(void) {
  path_is("user@contoso.com", "/v1.0/users/user@contoso.com/sendMail");
  path_is("6e8b3a5c-1f2d-4c3b-9a8e-0123456789ab",
          "/v1.0/users/6e8b3a5c-1f2d-4c3b-9a8e-0123456789ab/sendMail");
  path_is("first.last_x~y-z@sub.example.org",
          "/v1.0/users/first.last_x~y-z@sub.example.org/sendMail");
  path_is("a b/c?d#e%f+g&h'i", "/v1.0/users/a%20b%2Fc%3Fd%23e%25f%2Bg%26h%27i/sendMail");
  path_is("j\xc3\xb6ns@x", "/v1.0/users/j%C3%B6ns@x/sendMail");
  path_is("\r\n", "/v1.0/users/%0D%0A/sendMail");
  path_is("...", "/v1.0/users/.../sendMail");
  /* Every byte: kept when unreserved (RFC 3986) or '@', else %XX. */
  for (unsigned c = 1; c < 256; c++) {
    char mailbox[] = {'a', (char)c, 'b', '\0'}, want[64];
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~' || c == '@';
    if (keep)
      snprintf(want, sizeof want, "/v1.0/users/a%cb/sendMail", c);
    else
      snprintf(want, sizeof want, "/v1.0/users/a%%%02Xb/sendMail", c);
    path_is(mailbox, want);
  }
  sg_buf b = SG_BUF_INIT;
  ASSERT_EQ(SG_ERR_INVAL, sg_graph_path(&b, ""));
  ASSERT_EQ(SG_ERR_INVAL, sg_graph_path(&b, NULL));
  ASSERT_EQ(SG_ERR_INVAL, sg_graph_path(&b, "."));
  ASSERT_EQ(SG_ERR_INVAL, sg_graph_path(&b, ".."));
  ASSERT_EQ(SG_ERR_INVAL, sg_graph_path(NULL, "a@b"));
  ASSERT_EQ(0, b.len);
  sg_buf_free(&b);
}

SG_TESTS({"full_message", t_full_message}, {"minimal_text", t_minimal_text},
         {"invalid_utf8", t_invalid_utf8}, {"mime", t_mime}, {"size_many", t_size_many},
         {"large_attachment_size", t_large_attachment_size}, {"path", t_path})
