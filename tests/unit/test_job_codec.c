/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the job codec (decode + validation per invalid kind), results, addresses. */
#include "harness.h"

#include "core/sg_addr.h"
#include "core/sg_err.h"
#include "job/sg_job_codec.h"
#include "job/sg_proto.h"
#include "job/sg_result.h"

static sg_job_addr to1[] = {{"a@example.com", "Ann"}};

static sg_job base_job(void) {
  sg_job j = {0};
  j.id = "job-1";
  j.account = "";
  j.sender = "sender@contoso.com";
  j.to = to1;
  j.n_to = 1;
  j.subject = "Hello";
  j.text_body = "Body";
  j.html_body = "";
  j.reply_stream = "";
  j.campaign_id = "c1";
  return j;
}

/* Encodes |j|, decodes it, and returns the decode status; fills |code|. */
static int roundtrip(const sg_job *j, const char **code) {
  sg_buf b = SG_BUF_INIT;
  sg_job_encode(j, &b);
  sg_job_msg *m = NULL;
  sg_job_error err = {0};
  int rv = sg_job_decode((const uint8_t *)b.data, b.len, &m, &err);
  *code = err.code;
  if (rv != SG_ERR_PARSE)
    ASSERT_NOT_NULL(m);
  sg_job_msg_free(m);
  sg_buf_free(&b);
  return rv;
}

#define EXPECT_INVALID(j, want)                                                                    \
  do {                                                                                             \
    const char *code_;                                                                             \
    ASSERT_EQ(SG_ERR_INVAL, roundtrip(&(j), &code_));                                              \
    ASSERT_STR_EQ(want, code_);                                                                    \
  } while (0)

static void t_valid_roundtrip(void) {
  sg_job j = base_job();
  sg_job_header h[] = {{"X-Ticket", "42"}};
  j.headers = h;
  j.n_headers = 1;
  uint8_t bytes[] = {0, 1, 2, 255};
  sg_job_attachment at[] = {{"a.bin", "application/octet-stream", bytes, 4, "cid1", true}};
  j.attachments = at;
  j.n_attachments = 1;
  sg_job_kv md[] = {{"k", "v"}};
  j.metadata = md;
  j.n_metadata = 1;
  j.max_attempts = 3;
  j.created_unix_ms = 1700000000000;
  j.priority = SG_PRIORITY_BULK;
  j.html_body = "<p>Gr\xc3\xbc\xc3\x9f"
                "e</p>";
  sg_buf b = SG_BUF_INIT;
  sg_job_encode(&j, &b);
  sg_job_msg *m;
  sg_job_error err;
  ASSERT_OK(sg_job_decode((const uint8_t *)b.data, b.len, &m, &err));
  const sg_job *v = sg_job_msg_view(m);
  ASSERT_STR_EQ("job-1", v->id);
  ASSERT_STR_EQ("Body", v->text_body);
  ASSERT_EQ(4, v->text_body_len); /* the decoder keeps the bodies' lengths */
  ASSERT_EQ(strlen(j.html_body), v->html_body_len);
  ASSERT_EQ(14, sg_job_html_len(v));
  ASSERT_STR_EQ("a@example.com", v->to[0].address);
  ASSERT_STR_EQ("Ann", v->to[0].name);
  ASSERT_EQ(4, v->attachments[0].content_len);
  ASSERT_MEM_EQ(bytes, v->attachments[0].content, 4);
  ASSERT(v->attachments[0].is_inline);
  ASSERT_STR_EQ("X-Ticket", v->headers[0].name);
  ASSERT_STR_EQ("v", v->metadata[0].value);
  ASSERT_EQ(3, v->max_attempts);
  ASSERT_EQ(1700000000000, v->created_unix_ms);
  ASSERT_EQ(SG_PRIORITY_BULK, v->priority);
  ASSERT(sg_job_bulk(v));
  ASSERT_OK(sg_job_check_backend(v, SG_BACKEND_GRAPH, 1000, &err));
  ASSERT_OK(sg_job_check_backend(v, SG_BACKEND_ACS, 1000, &err));
  sg_job_msg_free(m);
  sg_buf_free(&b);
}

static void t_undecodable(void) {
  sg_job_msg *m = (sg_job_msg *)1;
  sg_job_error err;
  const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
  ASSERT_EQ(SG_ERR_PARSE, sg_job_decode(junk, sizeof junk, &m, &err));
  ASSERT_NULL(m);
  ASSERT_STR_EQ(SG_JOBERR_UNDECODABLE, err.code);
}

static void t_invalid_kinds(void) {
  sg_job j = base_job();
  j.id = "";
  EXPECT_INVALID(j, SG_JOBERR_BAD_ID);
  char longid[200];
  memset(longid, 'a', 129);
  longid[129] = '\0';
  j = base_job();
  j.id = longid;
  EXPECT_INVALID(j, SG_JOBERR_BAD_ID);
  j = base_job();
  j.id = "a\x01";
  EXPECT_INVALID(j, SG_JOBERR_BAD_ID);
  j = base_job();
  j.sender = "";
  EXPECT_INVALID(j, SG_JOBERR_NO_SENDER);
  j = base_job();
  j.n_to = 0;
  j.to = NULL;
  EXPECT_INVALID(j, SG_JOBERR_NO_RECIPIENTS);
  sg_job_addr bad[] = {{"not an address", ""}};
  j = base_job();
  j.to = bad;
  EXPECT_INVALID(j, SG_JOBERR_BAD_ADDRESS);
  j = base_job();
  j.mime = (const uint8_t *)"Subject: x\r\n\r\nbody";
  j.mime_len = 18;
  EXPECT_INVALID(j, SG_JOBERR_MIME_AND_CONTENT);
  /* With mime, recipients alone are its envelope: valid, and checked. */
  sg_job env = base_job();
  env.subject = env.text_body = env.html_body = "";
  env.mime = (const uint8_t *)"Subject: x\r\n\r\nbody";
  env.mime_len = 18;
  const char *ecode;
  ASSERT_OK(roundtrip(&env, &ecode));
  env.to = bad;
  EXPECT_INVALID(env, SG_JOBERR_BAD_ADDRESS);
  sg_job_header h1[] = {{"Subject", "x"}};
  j = base_job();
  j.headers = h1;
  j.n_headers = 1;
  EXPECT_INVALID(j, SG_JOBERR_BAD_HEADER);
  sg_job_header h2[] = {{"X-A", "x\r\nBcc: evil@example.com"}};
  j.headers = h2;
  EXPECT_INVALID(j, SG_JOBERR_CRLF);
  sg_job_header h3[] = {{"X-1", "a"}, {"X-2", "a"}, {"X-3", "a"},
                        {"X-4", "a"}, {"X-5", "a"}, {"X-6", "a"}};
  j.headers = h3;
  j.n_headers = 6;
  EXPECT_INVALID(j, SG_JOBERR_TOO_MANY_HEADERS);
  j = base_job();
  j.subject = "Hi\r\nBcc: x@y.com";
  EXPECT_INVALID(j, SG_JOBERR_CRLF);
  j = base_job();
  j.subject = "bad \xff utf8";
  EXPECT_INVALID(j, SG_JOBERR_BAD_UTF8);
  j = base_job();
  j.backend = (sg_backend)7;
  EXPECT_INVALID(j, SG_JOBERR_BAD_BACKEND);
  j = base_job();
  j.priority = (sg_priority)3;
  EXPECT_INVALID(j, SG_JOBERR_BAD_PRIORITY);
  sg_job_attachment at[] = {{"", "", (const uint8_t *)"x", 1, "", false}};
  j = base_job();
  j.attachments = at;
  j.n_attachments = 1;
  EXPECT_INVALID(j, SG_JOBERR_BAD_ATTACHMENT);
}

static void t_mime_job(void) {
  sg_job j = {0};
  j.id = "m1";
  j.sender = "sender@contoso.com";
  j.mime = (const uint8_t *)"To: a@b.example\r\nSubject: x\r\n\r\nbody";
  j.mime_len = strlen((const char *)j.mime);
  const char *code;
  ASSERT_OK(roundtrip(&j, &code));
  sg_job_error err;
  ASSERT_OK(sg_job_check_backend(&j, SG_BACKEND_GRAPH, 100, &err));
  ASSERT_EQ(SG_ERR_INVAL, sg_job_check_backend(&j, SG_BACKEND_ACS, 100, &err));
  ASSERT_STR_EQ(SG_JOBERR_MIME_UNSUPPORTED, err.code);
}

static void t_backend_rules(void) {
  sg_job j = base_job();
  sg_job_error err;
  ASSERT_EQ(SG_ERR_INVAL,
            sg_job_check_backend(&j, SG_BACKEND_GRAPH, SG_GRAPH_MAX_REQUEST + 1, &err));
  ASSERT_STR_EQ(SG_JOBERR_TOO_LARGE, err.code);
  ASSERT_OK(sg_job_check_backend(&j, SG_BACKEND_GRAPH, SG_GRAPH_MAX_REQUEST, &err));
  ASSERT_EQ(SG_ERR_INVAL, sg_job_check_backend(&j, SG_BACKEND_ACS, SG_ACS_MAX_REQUEST + 1, &err));
  static sg_job_addr many[51];
  for (int i = 0; i < 51; i++)
    many[i] = (sg_job_addr){"r@example.com", ""};
  j.to = many;
  j.n_to = 51;
  ASSERT_EQ(SG_ERR_INVAL, sg_job_check_backend(&j, SG_BACKEND_ACS, 100, &err));
  ASSERT_STR_EQ(SG_JOBERR_TOO_MANY_RECIPIENTS, err.code);
  ASSERT_OK(sg_job_check_backend(&j, SG_BACKEND_GRAPH, 100, &err));
  j = base_job();
  j.subject = "";
  ASSERT_EQ(SG_ERR_INVAL, sg_job_check_backend(&j, SG_BACKEND_ACS, 100, &err));
  ASSERT_STR_EQ(SG_JOBERR_NO_SUBJECT, err.code);
  j = base_job();
  j.text_body = "";
  ASSERT_EQ(SG_ERR_INVAL, sg_job_check_backend(&j, SG_BACKEND_ACS, 100, &err));
  ASSERT_STR_EQ(SG_JOBERR_NO_CONTENT, err.code);
}

static void t_addresses(void) {
  const char *good[] = {"a@b.co",
                        "first.last+tag@sub.example.com",
                        "x@[127.0.0.1]",
                        "x@[IPv6:2001:db8::1]",
                        "x@[ipv6:::1]",
                        "\xc3\xa9l\xc3\xa8"
                        "ve@\xc3\xa9"
                        "cole.fr",
                        "o'brien@example.ie"};
  const char *bad[] = {"", "@b.co", "a@", "a@b", "a b@c.com", "a@b..com", ".a@b.com", "a.@b.com",
                       "a..b@c.com", "a@-b.com", "a@b-.com", "<a@b.com>", "a@b.com\r\n",
                       "a\"b@c.com",
                       /* brackets hold an IP literal and nothing else */
                       "a@[x\r\nX-Injected:1]", "a@[example.com]", "a@[]", "a@[1.2.3]",
                       "a@[2001:db8::1]", "a@[IPv6:1.2.3.4]", "a@[127.0.0.1", "a@[1.2.3.4]x",
                       /* control characters anywhere, C1 included */
                       "a\tb@c.com", "ab@c\x7f.com",
                       "a\xc2\x85"
                       "b@c.com",
                       "ab@\xc2\x9f"
                       "c.com"};
  for (size_t i = 0; i < SG_ARRAY_LEN(good); i++)
    ASSERT(sg_addr_valid(good[i], strlen(good[i])));
  for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++) {
    if (sg_addr_valid(bad[i], strlen(bad[i])))
      SG_FAIL_("accepted bad address '%s'", bad[i]);
  }
}

/* Control characters other than CR/LF (tab aside) are refused in every field
 * that goes into a message header; a tab in a subject is fine. */
static void t_control_chars(void) {
  sg_job j = base_job();
  j.subject = "Report\x1b[31m";
  EXPECT_INVALID(j, SG_JOBERR_CONTROL_CHAR);
  j.subject = "Report \xc2\x85 next line";
  EXPECT_INVALID(j, SG_JOBERR_CONTROL_CHAR);
  j.subject = "Col1\tCol2";
  const char *code = NULL;
  ASSERT_EQ(0, roundtrip(&j, &code));
  sg_job_header h[] = {{"X-A", "a\x7f"}};
  j = base_job();
  j.headers = h;
  j.n_headers = 1;
  EXPECT_INVALID(j, SG_JOBERR_CONTROL_CHAR);
  sg_job_addr named[] = {{"a@example.com", "Ann\x08"}};
  j = base_job();
  j.to = named;
  EXPECT_INVALID(j, SG_JOBERR_CONTROL_CHAR);
  sg_job_addr lit[] = {{"a@[x\r\nX-Injected:1]", ""}};
  j = base_job();
  j.to = lit;
  EXPECT_INVALID(j, SG_JOBERR_BAD_ADDRESS);
  sg_job_attachment att[] = {{"r\x01.pdf", "application/pdf", (const uint8_t *)"x", 1, "", false}};
  j = base_job();
  j.attachments = att;
  j.n_attachments = 1;
  EXPECT_INVALID(j, SG_JOBERR_CONTROL_CHAR);
}

/* Appends field |num| (length-delimited) holding |n| bytes to |b|. */
static void put_ld(sg_buf *b, unsigned num, const void *p, size_t n) {
  sg_buf_append_char(b, (char)(num << 3 | 2));
  sg_buf_append_char(b, (char)n);
  sg_buf_append(b, p, n);
}

/* A string field with a NUL byte would be cut by protobuf-c: INVALID, anywhere. */
static void t_embedded_nul(void) {
  sg_job j = base_job();
  sg_buf b = SG_BUF_INIT;
  sg_job_encode(&j, &b);
  size_t base_len = b.len;
  sg_job_msg *m;
  sg_job_error err;
  /* subject (9) = "Hi\0Bcc" overrides the first one */
  put_ld(&b, 9, "Hi\0Bcc", 6);
  ASSERT_EQ(SG_ERR_INVAL, sg_job_decode((const uint8_t *)b.data, b.len, &m, &err));
  ASSERT_STR_EQ(SG_JOBERR_NUL, err.code);
  sg_job_msg_free(m);
  /* to (5) = Address{address (1) = "b@example.com", name (2) = "B\0ob"}: nested */
  b.len = base_len;
  sg_buf addr = SG_BUF_INIT;
  put_ld(&addr, 1, "b@example.com", 13);
  put_ld(&addr, 2, "B\0ob", 4);
  put_ld(&b, 5, addr.data, addr.len);
  ASSERT_EQ(SG_ERR_INVAL, sg_job_decode((const uint8_t *)b.data, b.len, &m, &err));
  ASSERT_STR_EQ(SG_JOBERR_NUL, err.code);
  sg_job_msg_free(m);
  /* metadata (18) entry {key (1) = "k", value (2) = "v\0w"}: a map entry */
  b.len = base_len;
  sg_buf_reset(&addr);
  put_ld(&addr, 1, "k", 1);
  put_ld(&addr, 2, "v\0w", 3);
  sg_buf_append_char(&b, (char)0x92); /* field 18, wire type 2: two-byte key */
  sg_buf_append_char(&b, 0x01);
  sg_buf_append_char(&b, (char)addr.len);
  sg_buf_append(&b, addr.data, addr.len);
  ASSERT_EQ(SG_ERR_INVAL, sg_job_decode((const uint8_t *)b.data, b.len, &m, &err));
  ASSERT_STR_EQ(SG_JOBERR_NUL, err.code);
  sg_job_msg_free(m);
  /* bytes may hold NULs: an attachment's content (12 -> 3) is fine */
  b.len = base_len;
  sg_buf_reset(&addr);
  put_ld(&addr, 1, "a.bin", 5);
  put_ld(&addr, 3, "\0\0\1", 3);
  put_ld(&b, 12, addr.data, addr.len);
  ASSERT_OK(sg_job_decode((const uint8_t *)b.data, b.len, &m, &err));
  ASSERT_EQ(3, sg_job_msg_view(m)->attachments[0].content_len);
  sg_job_msg_free(m);
  sg_buf_free(&addr);
  sg_buf_free(&b);
}

static void t_result_roundtrip(void) {
  sg_job_kv md[] = {{"tenant", "acme"}};
  sg_result r = {.job_id = "j1",
                 .status = SG_STATUS_FAILED,
                 .backend = SG_BACKEND_GRAPH,
                 .attempts = 2,
                 .http_status = 400,
                 .error_code = "ErrorInvalidRecipients",
                 .error_message = "bad",
                 .provider_request_id = "rid",
                 .metadata = md,
                 .n_metadata = 1,
                 .created_unix_ms = 5,
                 .completed_unix_ms = 9,
                 .stream_entry_id = "1-0",
                 .sender = "member-2@contoso.com"};
  sg_buf b = SG_BUF_INIT;
  sg_result_encode(&r, &b);
  sg_result_msg *m;
  ASSERT_OK(sg_result_decode((const uint8_t *)b.data, b.len, &m));
  const sg_result *v = sg_result_msg_view(m);
  ASSERT_STR_EQ("j1", v->job_id);
  ASSERT_EQ(SG_STATUS_FAILED, v->status);
  ASSERT_EQ(400, v->http_status);
  ASSERT_STR_EQ("ErrorInvalidRecipients", v->error_code);
  ASSERT_STR_EQ("acme", v->metadata[0].value);
  ASSERT_STR_EQ("1-0", v->stream_entry_id);
  ASSERT_STR_EQ("member-2@contoso.com", v->sender);
  ASSERT_STR_EQ("FAILED", sg_status_name(v->status));
  sg_result_msg_free(m);
  sg_buf_free(&b);
}

/* What protobuf-c's generic packer makes of |r| (sg_result_encode's reference). */
static void pack_reference(const sg_result *r, sg_buf *out) {
#define S(x) ((char *)((x) ? (x) : ""))
  Sendgate__V1__MailResult pb = SENDGATE__V1__MAIL_RESULT__INIT;
  Sendgate__V1__MailResult__MetadataEntry ents[4], *ptrs[4];
  pb.job_id = S(r->job_id);
  pb.status = (Sendgate__V1__Status)r->status;
  pb.backend = (Sendgate__V1__Backend)r->backend;
  pb.attempts = r->attempts;
  pb.http_status = r->http_status;
  pb.error_code = S(r->error_code);
  pb.error_message = S(r->error_message);
  pb.provider_request_id = S(r->provider_request_id);
  pb.operation_id = S(r->operation_id);
  pb.campaign_id = S(r->campaign_id);
  pb.created_unix_ms = r->created_unix_ms;
  pb.completed_unix_ms = r->completed_unix_ms;
  pb.stream_entry_id = S(r->stream_entry_id);
  pb.sender = S(r->sender);
  for (size_t i = 0; i < r->n_metadata; i++) {
    sendgate__v1__mail_result__metadata_entry__init(&ents[i]);
    ents[i].key = S(r->metadata[i].key);
    ents[i].value = S(r->metadata[i].value);
    ptrs[i] = &ents[i];
  }
  pb.n_metadata = r->n_metadata;
  pb.metadata = r->n_metadata ? ptrs : NULL;
#undef S
  size_t n = sendgate__v1__mail_result__get_packed_size(&pb);
  sg_buf_reserve(out, n);
  sendgate__v1__mail_result__pack(&pb, (uint8_t *)out->data + out->len);
  out->len += n;
}

/* The hand-written encoder gives protobuf-c's bytes: every field empty, set,
 * negative, long (two-byte lengths) or NULL, in random combinations. */
static void t_result_bytes(void) {
  /* sg_result_encode writes each MailResult field by hand (job/sg_result.c):
   * a field added to the schema must be added there, to pack_reference and
   * to the draws below, or this fails. */
  const ProtobufCMessageDescriptor *d = &sendgate__v1__mail_result__descriptor;
  ASSERT_EQ(15, d->n_fields);
  for (unsigned i = 0; i < d->n_fields; i++)
    ASSERT(d->fields[i].id >= 1 && d->fields[i].id <= 15);
  ASSERT_EQ(2, sendgate__v1__mail_result__metadata_entry__descriptor.n_fields);
  static char long_s[300];
  memset(long_s, 'x', sizeof long_s - 1);
  const char *strs[] = {NULL, "", "a", "ErrorInvalidRecipients", long_s};
  const int64_t nums[] = {0, 1, 127, 128, 202, -1, INT32_MIN, INT32_MAX, INT64_MIN, INT64_MAX};
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int round = 0; round < 3000; round++) {
    uint64_t bits[4];
    for (int k = 0; k < 4; k++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      bits[k] = x;
    }
#define STR(k) strs[(bits[(k) / 8] >> (((k) % 8) * 8)) % SG_ARRAY_LEN(strs)]
#define NUM(k) nums[(bits[(k) / 8] >> (((k) % 8) * 8)) % SG_ARRAY_LEN(nums)]
    sg_job_kv md[4] = {{STR(16), STR(17)}, {STR(18), STR(19)}, {STR(20), STR(21)}, {"k", "v"}};
    sg_result r = {.job_id = STR(0),
                   .status = (sg_status)NUM(1),
                   .backend = (sg_backend)NUM(2),
                   .attempts = (uint32_t)NUM(3),
                   .http_status = (int32_t)NUM(4),
                   .error_code = STR(5),
                   .error_message = STR(6),
                   .provider_request_id = STR(7),
                   .operation_id = STR(8),
                   .campaign_id = STR(9),
                   .metadata = md,
                   .n_metadata = (size_t)(bits[3] % 5),
                   .created_unix_ms = NUM(10),
                   .completed_unix_ms = NUM(11),
                   .stream_entry_id = STR(12),
                   .sender = STR(13)};
#undef STR
#undef NUM
    sg_buf got = SG_BUF_INIT, want = SG_BUF_INIT;
    sg_buf_append(&got, "pre", 3); /* appends after what is there */
    sg_buf_append(&want, "pre", 3);
    sg_result_encode(&r, &got);
    pack_reference(&r, &want);
    ASSERT_EQ(want.len, got.len);
    ASSERT(memcmp(want.data, got.data, got.len) == 0);
    ASSERT_EQ('\0', got.data[got.len]);
    sg_buf_free(&got);
    sg_buf_free(&want);
  }
}

/* Decodes with |c| and frees: the first block goes back to |c|. */
static void decode_free(sg_job_msg_cache *c, const sg_buf *b, const char *want_id) {
  sg_job_msg *m;
  sg_job_error err;
  ASSERT_OK(sg_job_decode_cached(c, (const uint8_t *)b->data, b->len, &m, &err));
  ASSERT_STR_EQ(want_id, sg_job_msg_view(m)->id);
  sg_job_msg_free(m);
}

static void t_msg_cache(void) {
  sg_job j = base_job();
  sg_buf small = SG_BUF_INIT, big = SG_BUF_INIT;
  sg_job_encode(&j, &small);
  size_t n = 100000; /* a job whose block is over the cache's largest */
  char *text = sg_xmalloc(n + 1);
  memset(text, 'a', n);
  text[n] = '\0';
  j.text_body = text;
  j.id = "job-big";
  sg_job_encode(&j, &big);
  sg_job_msg_cache *c = sg_job_msg_cache_new(8 * 1024, 16 * 1024);
  sg_job_msg_cache_stats st;
  sg_job_msg_cache_get_stats(c, &st);
  ASSERT_EQ(0, st.blocks);
  /* Two jobs out at once, then both back: two blocks kept, in whole KiB. */
  sg_job_msg *m1, *m2;
  sg_job_error err;
  ASSERT_OK(sg_job_decode_cached(c, (const uint8_t *)small.data, small.len, &m1, &err));
  ASSERT_OK(sg_job_decode_cached(c, (const uint8_t *)small.data, small.len, &m2, &err));
  uintptr_t last = (uintptr_t)(void *)m2;
  sg_job_msg_free(m1);
  sg_job_msg_free(m2);
  sg_job_msg_cache_get_stats(c, &st);
  ASSERT_EQ(2, st.blocks);
  ASSERT_EQ(0, st.reused);
  ASSERT(st.bytes >= 2 * 1024 && st.bytes % 1024 == 0);
  /* The next decode takes the block freed last, and the job decoded into it
   * is whole. */
  sg_job_msg *m3;
  ASSERT_OK(sg_job_decode_cached(c, (const uint8_t *)small.data, small.len, &m3, &err));
  sg_job_msg_cache_get_stats(c, &st);
  ASSERT_EQ(1, st.blocks);
  ASSERT_EQ(1, st.reused);
  ASSERT_EQ(last, (uintptr_t)(void *)m3);
  ASSERT_STR_EQ("job-1", sg_job_msg_view(m3)->id);
  ASSERT_STR_EQ("Body", sg_job_msg_view(m3)->text_body);
  ASSERT_STR_EQ("a@example.com", sg_job_msg_view(m3)->to[0].address);
  sg_job_msg_free(m3);
  /* A kept block too small for the next job is freed and the job gets a new
   * one; that one, over max_block, is freed too, not kept. */
  decode_free(c, &big, "job-big");
  sg_job_msg_cache_get_stats(c, &st);
  ASSERT_EQ(1, st.blocks);
  ASSERT_EQ(1, st.reused);
  /* Bounded by max_bytes: eight jobs out at once, at most 8 KiB kept. */
  sg_job_msg *ms[8];
  for (size_t i = 0; i < 8; i++)
    ASSERT_OK(sg_job_decode_cached(c, (const uint8_t *)small.data, small.len, &ms[i], &err));
  for (size_t i = 0; i < 8; i++)
    sg_job_msg_free(ms[i]);
  sg_job_msg_cache_get_stats(c, &st);
  ASSERT(st.blocks >= 2 && st.bytes <= 8 * 1024);
  ASSERT_EQ(2, st.reused);
  /* Undecodable bytes give their block back too. */
  size_t before = st.blocks;
  sg_job_msg *bad = (sg_job_msg *)1;
  ASSERT_EQ(SG_ERR_PARSE, sg_job_decode_cached(c, (const uint8_t *)"\xff\xff\xff", 3, &bad, &err));
  ASSERT_NULL(bad);
  sg_job_msg_cache_get_stats(c, &st);
  ASSERT_EQ(before, st.blocks);
  ASSERT_EQ(3, st.reused);
  /* A NULL cache is plain sg_job_decode. */
  decode_free(NULL, &small, "job-1");
  sg_job_msg_cache_free(c);
  sg_free(text);
  sg_buf_free(&small);
  sg_buf_free(&big);
}

SG_TESTS({"valid_roundtrip", t_valid_roundtrip}, {"msg_cache", t_msg_cache},
         {"undecodable", t_undecodable}, {"invalid_kinds", t_invalid_kinds},
         {"mime_job", t_mime_job}, {"backend_rules", t_backend_rules}, {"addresses", t_addresses},
         {"control_chars", t_control_chars}, {"embedded_nul", t_embedded_nul},
         {"result_roundtrip", t_result_roundtrip}, {"result_bytes", t_result_bytes})
