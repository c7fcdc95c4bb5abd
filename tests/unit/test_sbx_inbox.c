/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the web inbox's store: the bounded ring, filters, the event
 * ring and a message's history, the JSON, and attachment file names. */
#include "harness.h"

#include "json/sg_json.h"
#include "sandbox/sg_sbx_inbox.h"

static const sg_sbx_inbox_limits BIG = {1000, 1u << 30, 1u << 20, 1000};

static void set(char **dst, const char *v) {
  sg_free(*dst);
  *dst = sg_xstrdup(v);
}

static sg_sbx_inbox_msg *msg(const char *api, const char *mailbox, const char *to,
                             const char *subject) {
  sg_sbx_inbox_msg *m = sg_sbx_inbox_msg_new();
  m->api = api;
  set(&m->mailbox, mailbox);
  set(&m->from, mailbox);
  set(&m->to, to);
  set(&m->subject, subject);
  return m;
}

static void t_ids_and_count_bound(void) {
  sg_sbx_inbox *ib = sg_sbx_inbox_new();
  sg_sbx_inbox_limits l = BIG;
  l.max_messages = 3;
  for (int i = 1; i <= 5; i++)
    ASSERT_EQ(i, sg_sbx_inbox_add(ib, msg("graph", "a@x.com", "b@y.com", "s"), 1000 + i, &l));
  ASSERT_EQ(3, sg_sbx_inbox_count(ib));
  ASSERT_EQ(5, sg_sbx_inbox_last_id(ib));
  ASSERT_NULL(sg_sbx_inbox_get(ib, 2)); /* the oldest went first */
  ASSERT_NOT_NULL(sg_sbx_inbox_get(ib, 3));
  ASSERT_EQ(1005, sg_sbx_inbox_get(ib, 5)->ts_ms);
  ASSERT_NULL(sg_sbx_inbox_get(ib, 6));
  ASSERT_NULL(sg_sbx_inbox_get(ib, 0));
  /* max_messages 0 keeps nothing, and says so */
  l.max_messages = 0;
  ASSERT_EQ(0, sg_sbx_inbox_add(ib, msg("graph", "a@x.com", "b@y.com", "s"), 1, &l));
  sg_sbx_inbox_clear(ib);
  ASSERT_EQ(0, sg_sbx_inbox_count(ib));
  ASSERT_EQ(0, sg_sbx_inbox_bytes(ib));
  ASSERT_EQ(1, sg_sbx_inbox_add(ib, msg("graph", "a@x.com", "b@y.com", "s"), 1, &BIG));
  sg_sbx_inbox_del(ib);
}

static void t_byte_bound(void) {
  sg_sbx_inbox *ib = sg_sbx_inbox_new();
  sg_sbx_inbox_limits l = BIG;
  l.max_bytes = 10000;
  char body[3001];
  memset(body, 'x', 3000);
  body[3000] = '\0';
  for (int i = 0; i < 10; i++) {
    sg_sbx_inbox_msg *m = msg("acs", "a@x.com", "b@y.com", "big");
    set(&m->text, body);
    ASSERT_NE(0, sg_sbx_inbox_add(ib, m, i, &l));
    ASSERT_LE(sg_sbx_inbox_bytes(ib), 10000);
  }
  ASSERT_EQ(3, sg_sbx_inbox_count(ib)); /* 3 x ~3.3 KB fit, 4 do not */
  /* A message alone over the bound is not kept; the others stay. */
  sg_sbx_inbox_msg *huge = msg("acs", "a@x.com", "b@y.com", "huge");
  char *t = sg_xcalloc(20001, 1);
  memset(t, 'y', 20000);
  sg_free(huge->text);
  huge->text = t;
  ASSERT_EQ(0, sg_sbx_inbox_add(ib, huge, 99, &l));
  ASSERT_EQ(3, sg_sbx_inbox_count(ib));
  sg_sbx_inbox_del(ib);
}

static void t_attachment_kept_or_not(void) {
  sg_sbx_inbox_msg *m = msg("graph", "a@x.com", "b@y.com", "s");
  sg_sbx_inbox_msg_add_att(m, "a.txt", NULL, NULL, false, "abc", 3, true);
  sg_sbx_inbox_msg_add_att(m, NULL, "image/png", "logo", true, "zz", 2, false);
  ASSERT_EQ(2, m->n_atts);
  ASSERT_MEM_EQ(m->atts[0].data, "abc", 3);
  ASSERT_STR_EQ(m->atts[0].content_type, "application/octet-stream");
  ASSERT_NULL(m->atts[1].data);
  ASSERT_EQ(2, m->atts[1].size);
  ASSERT_STR_EQ(m->atts[1].name, "");
  ASSERT(m->content_cut);
  sg_sbx_inbox_msg_add_hdr(m, "X-Long", "0123456789", 4);
  ASSERT_STR_EQ(m->hdrs[0].value, "0123");
  sg_sbx_inbox_msg_del(m);
}

typedef struct {
  uint64_t ids[16];
  size_t n;
} seen;

static void on_msg(const sg_sbx_inbox_msg *m, void *ud) {
  seen *s = ud;
  s->ids[s->n++] = m->id;
}

static size_t list(const sg_sbx_inbox *ib, sg_sbx_inbox_filter f, seen *s) {
  memset(s, 0, sizeof *s);
  return sg_sbx_inbox_each(ib, &f, on_msg, s);
}

static void t_filters(void) {
  sg_sbx_inbox *ib = sg_sbx_inbox_new();
  sg_sbx_inbox_add(ib, msg("graph", "Sales@Contoso.com", "alice@example.com", "Invoice 1"), 1,
                   &BIG);
  sg_sbx_inbox_add(ib, msg("acs", "noreply@contoso.com", "bob@example.net", "Welcome"), 2, &BIG);
  sg_sbx_inbox_msg *m = msg("smtp", "hve@contoso.com", "carol@example.org", "invoice 2");
  set(&m->cc, "alice@example.com");
  sg_sbx_inbox_add(ib, m, 3, &BIG);
  seen s;
  ASSERT_EQ(3, list(ib, (sg_sbx_inbox_filter){0}, &s));
  ASSERT_EQ(3, s.ids[0]); /* newest first */
  ASSERT_EQ(1, s.ids[2]);
  ASSERT_EQ(2, list(ib, (sg_sbx_inbox_filter){.q = "INVOICE"}, &s));
  ASSERT_EQ(1, list(ib, (sg_sbx_inbox_filter){.mailbox = "sales@"}, &s));
  ASSERT_EQ(1, s.ids[0]);
  ASSERT_EQ(2, list(ib, (sg_sbx_inbox_filter){.rcpt = "ALICE"}, &s)); /* To or Cc */
  ASSERT_EQ(1, list(ib, (sg_sbx_inbox_filter){.rcpt = "alice", .q = "2"}, &s));
  ASSERT_EQ(0, list(ib, (sg_sbx_inbox_filter){.q = "nothing like it"}, &s));
  ASSERT_EQ(1, list(ib, (sg_sbx_inbox_filter){.since = 2}, &s));
  ASSERT_EQ(3, s.ids[0]);
  ASSERT_EQ(0, list(ib, (sg_sbx_inbox_filter){.since = 3}, &s));
  ASSERT_EQ(3, list(ib, (sg_sbx_inbox_filter){.limit = 1}, &s)); /* counts past the limit */
  ASSERT_EQ(1, s.n);
  sg_sbx_inbox_del(ib);
}

static sg_sbx_inbox_event ev(const char *api, const char *mailbox, int64_t ts, int status) {
  sg_sbx_inbox_event e;
  memset(&e, 0, sizeof e);
  snprintf(e.api, sizeof e.api, "%s", api);
  snprintf(e.mailbox, sizeof e.mailbox, "%s", mailbox);
  snprintf(e.code, sizeof e.code, "%s", "TooManyRequests");
  e.ts_ms = ts;
  e.status = status;
  return e;
}

typedef struct {
  int64_t ts[64];
  size_t n;
} evs;

static void on_ev(const sg_sbx_inbox_event *e, void *ud) {
  evs *s = ud;
  s->ts[s->n++] = e->ts_ms;
}

static void t_event_ring(void) {
  sg_sbx_inbox *ib = sg_sbx_inbox_new();
  for (int i = 0; i < 10; i++) {
    sg_sbx_inbox_event e = ev("graph", "a@x.com", i, 429);
    sg_sbx_inbox_event_add(ib, &e, 4);
  }
  ASSERT_EQ(4, sg_sbx_inbox_event_count(ib));
  sg_sbx_inbox_msg *m = msg("graph", "A@X.com", "b@y.com", "s");
  uint64_t id = sg_sbx_inbox_add(ib, m, 5, &BIG);
  evs s = {0};
  sg_sbx_inbox_history(ib, sg_sbx_inbox_get(ib, id), on_ev, &s);
  ASSERT_EQ(4, s.n); /* the last four, oldest first, mailbox compared without case */
  ASSERT_EQ(6, s.ts[0]);
  ASSERT_EQ(9, s.ts[3]);
  /* A smaller setting keeps the latest ones. */
  sg_sbx_inbox_event e = ev("graph", "a@x.com", 10, 429);
  sg_sbx_inbox_event_add(ib, &e, 2);
  ASSERT_EQ(2, sg_sbx_inbox_event_count(ib));
  memset(&s, 0, sizeof s);
  sg_sbx_inbox_history(ib, sg_sbx_inbox_get(ib, id), on_ev, &s);
  ASSERT_EQ(2, s.n);
  ASSERT_EQ(9, s.ts[0]);
  ASSERT_EQ(10, s.ts[1]);
  e = ev("graph", "a@x.com", 11, 429);
  sg_sbx_inbox_event_add(ib, &e, 0); /* 0: none recorded */
  ASSERT_EQ(2, sg_sbx_inbox_event_count(ib));
  sg_sbx_inbox_del(ib);
}

static void t_history_matching(void) {
  sg_sbx_inbox *ib = sg_sbx_inbox_new();
  const int64_t T = 1000000;
  sg_sbx_inbox_event list[] = {
      ev("graph", "a@x.com", T - SG_SBX_INBOX_HISTORY_BEFORE_MS - 1, 429), /* too early */
      ev("graph", "a@x.com", T - 5000, 429),                               /* yes */
      ev("graph", "other@x.com", T - 4000, 429),                           /* other mailbox */
      ev("acs", "", T - 3000, 429),                                        /* other service */
      ev("graph", "a@x.com", T + 2000, 0),                                 /* yes: after */
      ev("graph", "a@x.com", T + SG_SBX_INBOX_HISTORY_AFTER_MS + 1, 429),  /* too late */
      ev("smtp", "h@x.com", T - 1, 450),                                   /* smtp-hve's */
  };
  for (size_t i = 0; i < SG_ARRAY_LEN(list); i++)
    sg_sbx_inbox_event_add(ib, &list[i], 100);
  uint64_t g = sg_sbx_inbox_add(ib, msg("graph", "a@x.com", "b@y.com", "g"), T, &BIG);
  uint64_t a = sg_sbx_inbox_add(ib, msg("acs", "s@x.com", "b@y.com", "a"), T, &BIG);
  uint64_t h = sg_sbx_inbox_add(ib, msg("smtp-hve", "h@x.com", "b@y.com", "h"), T, &BIG);
  evs s = {0};
  sg_sbx_inbox_history(ib, sg_sbx_inbox_get(ib, g), on_ev, &s);
  ASSERT_EQ(2, s.n);
  ASSERT_EQ(T - 5000, s.ts[0]);
  ASSERT_EQ(T + 2000, s.ts[1]);
  memset(&s, 0, sizeof s);
  sg_sbx_inbox_history(ib, sg_sbx_inbox_get(ib, a), on_ev, &s);
  ASSERT_EQ(1, s.n); /* the resource-wide ACS event */
  memset(&s, 0, sizeof s);
  sg_sbx_inbox_history(ib, sg_sbx_inbox_get(ib, h), on_ev, &s);
  ASSERT_EQ(1, s.n);
  /* At most SG_SBX_INBOX_HISTORY_MAX, the latest. */
  for (int i = 0; i < 200; i++) {
    sg_sbx_inbox_event e = ev("graph", "a@x.com", T - 1000 + i, 429);
    sg_sbx_inbox_event_add(ib, &e, 1000);
  }
  memset(&s, 0, sizeof s);
  sg_sbx_inbox_history(ib, sg_sbx_inbox_get(ib, g), on_ev, &s);
  ASSERT_EQ(SG_SBX_INBOX_HISTORY_MAX, s.n);
  ASSERT_EQ(T - 1000 + 199, s.ts[SG_SBX_INBOX_HISTORY_MAX - 1]);
  sg_sbx_inbox_del(ib);
}

static void t_file_names(void) {
  char out[32];
  static const struct {
    const char *in, *want;
  } cases[] = {
      {"report.pdf", "report.pdf"},
      {"../../etc/passwd", "passwd"},
      {"C:\\Users\\x\\evil.exe", "evil.exe"},
      {"..hidden", "hidden"},
      {"a\"b;c\r\nd.txt", "a_b_c__d.txt"},
      {"na\xc3\xafve.txt", "na__ve.txt"},
      {"", "attachment-3"},
      {"...", "attachment-3"},
      {"trailing. ", "trailing"},
      {"a-very-long-name-that-does-not-fit-at-all.docx", "a-very-long-name-that-does.docx"},
  };
  for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
    sg_sbx_inbox_file_name(out, sizeof out, cases[i].in, 2);
    ASSERT_STR_EQ(out, cases[i].want);
  }
  sg_sbx_inbox_file_name(out, sizeof out, NULL, 0);
  ASSERT_STR_EQ(out, "attachment-1");
}

static void t_json(void) {
  sg_sbx_inbox *ib = sg_sbx_inbox_new();
  sg_sbx_inbox_msg *m = msg("graph", "a@x.com", "b@y.com", "</script><b>\"quoted\"\x01");
  set(&m->text, "line 1\nline 2 \xff");
  set(&m->html, "<p onclick=\"x()\">hi</p>");
  sg_sbx_inbox_msg_add_hdr(m, "X-Evil", "\"}]", 100);
  sg_sbx_inbox_msg_add_att(m, "../r.csv", "text/csv", NULL, false, "1,2", 3, true);
  sg_sbx_inbox_msg_add_att(m, "big.bin", NULL, NULL, false, NULL, 99, false);
  uint64_t id = sg_sbx_inbox_add(ib, m, 1700000000000, &BIG);
  sg_sbx_inbox_event e = ev("graph", "a@x.com", 1700000000000 - 10, 429);
  e.retry_ms = 3000;
  sg_sbx_inbox_event_add(ib, &e, 10);

  sg_buf b = SG_BUF_INIT;
  sg_sbx_inbox_list_json(ib, &(sg_sbx_inbox_filter){0}, &b);
  sg_json_doc *d = NULL;
  ASSERT_OK(sg_json_parse(&d, b.data, b.len, 0, NULL, 0));
  const sg_json *r = sg_json_root(d);
  int64_t v;
  ASSERT(sg_json_int(sg_json_get(r, "latest"), &v) && v == 1);
  ASSERT(sg_json_int(sg_json_get(r, "count"), &v) && v == 1);
  const sg_json *first = sg_json_get(r, "messages")->child;
  ASSERT_STR_EQ(sg_json_str(sg_json_get(first, "subject")), "</script><b>\"quoted\"\x01");
  ASSERT_STR_EQ(sg_json_str(sg_json_get(first, "ts")), "2023-11-14T22:13:20.000Z");
  ASSERT(sg_json_true(sg_json_get(first, "has_html")));
  sg_json_doc_free(d);
  sg_buf_reset(&b);

  sg_sbx_inbox_msg_json(ib, sg_sbx_inbox_get(ib, id), &b);
  ASSERT_OK(sg_json_parse(&d, b.data, b.len, 0, NULL, 0));
  r = sg_json_root(d);
  ASSERT_STR_EQ(sg_json_str(sg_json_get(r, "text")), "line 1\nline 2 \xef\xbf\xbd");
  ASSERT_STR_EQ(sg_json_str(sg_json_get(r, "html_url")), "/inbox/messages/1/html");
  ASSERT_NULL(sg_json_get(r, "html")); /* the HTML only from its own path */
  ASSERT_STR_EQ(sg_json_str(sg_json_get(sg_json_get(r, "headers")->child, "value")), "\"}]");
  const sg_json *a0 = sg_json_get(r, "attachment_list")->child;
  ASSERT_STR_EQ(sg_json_str(sg_json_get(a0, "file_name")), "r.csv");
  ASSERT_STR_EQ(sg_json_str(sg_json_get(a0, "url")), "/inbox/messages/1/attachments/0");
  ASSERT_NULL(sg_json_get(a0->next, "url")); /* not kept: no download */
  ASSERT(sg_json_true(sg_json_get(r, "content_cut")));
  const sg_json *h0 = sg_json_get(r, "history")->child;
  ASSERT(sg_json_int(sg_json_get(h0, "status"), &v) && v == 429);
  ASSERT(sg_json_int(sg_json_get(h0, "retry_after_ms"), &v) && v == 3000);
  sg_json_doc_free(d);
  sg_buf_free(&b);
  sg_sbx_inbox_del(ib);
}

SG_TESTS({"ids_and_count_bound", t_ids_and_count_bound}, {"byte_bound", t_byte_bound},
         {"attachment_kept_or_not", t_attachment_kept_or_not}, {"filters", t_filters},
         {"event_ring", t_event_ring}, {"history_matching", t_history_matching},
         {"file_names", t_file_names}, {"json", t_json})
