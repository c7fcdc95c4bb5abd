/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for json/sg_json: acceptance, every rejection, escapes, lookups, limits. */
#include "harness.h"

#include <math.h>
#include <time.h>

#include "core/sg_err.h"
#include "core/sg_json_write.h"
#include "core/sg_mem.h"
#include "core/sg_utf8.h"
#include "json/sg_json.h"

static char err_[160];

/* Parses a NUL-terminated literal; aborts the test on failure. */
static sg_json_doc *ok(const char *s) {
  sg_json_doc *d = NULL;
  int rv = sg_json_parse(&d, s, strlen(s), 0, err_, sizeof err_);
  if (rv != 0)
    SG_FAIL_("parse of <%s> failed: %s", s, err_);
  ASSERT_NOT_NULL(d);
  ASSERT_NOT_NULL(sg_json_root(d));
  return d;
}

/* Expects |s| (|n| bytes) to be rejected with |rv| at byte |off|. */
static void bad_n(const char *s, size_t n, int rv, size_t off) {
  sg_json_doc *d = (sg_json_doc *)&d; /* must be reset to NULL */
  err_[0] = '\0';
  int got = sg_json_parse(&d, s, n, 0, err_, sizeof err_);
  if (got != rv)
    SG_FAIL_("parse of <%.*s>: want %d, got %d (%s)", (int)n, s, rv, got, err_);
  ASSERT_NULL(d);
  char want[48];
  snprintf(want, sizeof want, " at byte %zu", off);
  size_t el = strlen(err_), wl = strlen(want);
  if (el < wl || strcmp(err_ + el - wl, want) != 0)
    SG_FAIL_("parse of <%.*s>: error <%s> does not end in <%s>", (int)n, s, err_, want);
}

static void bad(const char *s, size_t off) {
  bad_n(s, strlen(s), SG_ERR_PARSE, off);
}

static void t_scalars(void) {
  sg_json_doc *d = ok("null");
  ASSERT_EQ(SG_JSON_NULL, sg_json_root(d)->type);
  sg_json_doc_free(d);
  d = ok(" \t\r\ntrue \n");
  ASSERT(sg_json_true(sg_json_root(d)));
  sg_json_doc_free(d);
  d = ok("false");
  ASSERT_EQ(SG_JSON_FALSE, sg_json_root(d)->type);
  ASSERT(!sg_json_true(sg_json_root(d)));
  sg_json_doc_free(d);
  d = ok("\"hi\"");
  ASSERT_STR_EQ("hi", sg_json_str(sg_json_root(d)));
  ASSERT_EQ(2, sg_json_root(d)->len);
  sg_json_doc_free(d);
  d = ok("\"\"");
  ASSERT_STR_EQ("", sg_json_str(sg_json_root(d)));
  ASSERT_EQ(0, sg_json_root(d)->len);
  sg_json_doc_free(d);
  ASSERT_NULL(sg_json_root(NULL));
  ASSERT_NULL(sg_json_str(NULL));
  ASSERT(!sg_json_true(NULL));
  sg_json_doc_free(NULL);
}

static void t_numbers(void) {
  static const struct {
    const char *text;
    double num;
    bool is_int;
    int64_t i;
  } cases[] = {
      {"0", 0, true, 0},
      {"-0", 0, true, 0},
      {"7", 7, true, 7},
      {"-12", -12, true, -12},
      {"123456789012345", 123456789012345.0, true, 123456789012345},
      {"9223372036854775807", 9223372036854775807.0, true, INT64_MAX},
      {"-9223372036854775808", -9223372036854775808.0, true, INT64_MIN},
      {"9223372036854775808", 9223372036854775808.0, false, 0},
      {"-9223372036854775809", -9223372036854775809.0, false, 0},
      {"1.5", 1.5, false, 0},
      {"-0.25", -0.25, false, 0},
      {"1.0", 1.0, false, 0},
      {"1e3", 1000, false, 0},
      {"1E+2", 100, false, 0},
      {"25e-2", 0.25, false, 0},
      {"0.1e1", 1.0, false, 0},
      {"100000000000000000000", 1e20, false, 0},
  };
  for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
    sg_json_doc *d = ok(cases[i].text);
    const sg_json *v = sg_json_root(d);
    ASSERT_EQ(SG_JSON_NUMBER, v->type);
    ASSERT_STR_EQ(cases[i].text, v->str);
    ASSERT_EQ(strlen(cases[i].text), v->len);
    if (v->num != cases[i].num)
      SG_FAIL_("%s: num %.17g != %.17g", cases[i].text, v->num, cases[i].num);
    int64_t got = 12345;
    ASSERT_EQ(cases[i].is_int, sg_json_int(v, &got));
    if (cases[i].is_int)
      ASSERT_EQ(cases[i].i, got);
    else
      ASSERT_EQ(12345, got); /* untouched */
    ASSERT_EQ(cases[i].is_int, sg_json_int(v, NULL));
    sg_json_doc_free(d);
  }
  /* Exponent overflow: accepted, literal kept, num infinite. */
  sg_json_doc *d = ok("[1e400,-1e400,1e-400]");
  const sg_json *v = sg_json_root(d)->child;
  ASSERT(isinf(v->num) && v->num > 0);
  ASSERT(isinf(v->next->num) && v->next->num < 0);
  ASSERT(v->next->next->num == 0);
  ASSERT_STR_EQ("1e400", v->str);
  sg_json_doc_free(d);
  /* sg_json_int on non-numbers. */
  d = ok("[\"1\",true,null]");
  for (v = sg_json_root(d)->child; v; v = v->next)
    ASSERT(!sg_json_int(v, NULL));
  ASSERT(!sg_json_int(NULL, NULL));
  sg_json_doc_free(d);
}

static void t_rejections(void) {
  /* Empty input and whitespace only. */
  bad_n("", 0, SG_ERR_PARSE, 0);
  bad_n(NULL, 0, SG_ERR_PARSE, 0);
  bad(" \n", 2);
  /* Numbers. */
  bad("01", 0);
  bad("-01", 1);
  bad("[00]", 1);
  bad("+1", 0);
  bad(".5", 0);
  bad("1.", 2);
  bad("1.e5", 2);
  bad("-", 1);
  bad("-a", 1);
  bad("1e", 2);
  bad("1e+", 3);
  bad("0x10", 1);
  bad("NaN", 0);
  bad("nan", 0);
  bad("Infinity", 0);
  bad("-Infinity", 1);
  bad("[1,NaN]", 3);
  /* Literals. */
  bad("tru", 0);
  bad("True", 0);
  bad("nul", 0);
  bad("nulll", 4);
  bad("falsey", 5);
  /* Trailing commas and structure. */
  bad("[1,]", 3);
  bad("[1,2,]", 5);
  bad("{\"a\":1,}", 7);
  bad("[,1]", 1);
  bad("[1 2]", 3);
  bad("{\"a\" 1}", 5);
  bad("{\"a\":}", 5);
  bad("{a:1}", 1);
  bad("{'a':1}", 1);
  bad("{1:1}", 1);
  bad("[1}", 2);
  bad("{\"a\":1]", 6);
  bad("[", 1);
  bad("[1", 2);
  bad("{", 1);
  bad("{\"a\"", 4);
  bad("{\"a\":", 5);
  bad("]", 0);
  /* Trailing garbage. */
  bad("1 2", 2);
  bad("{} x", 3);
  bad("[]]", 2);
  bad("\"a\"\"b\"", 3);
  bad_n("1\0", 2, SG_ERR_PARSE, 1);
  /* BOM. */
  bad("\xef\xbb\xbf{}", 0);
  /* Strings: control characters (raw), unterminated, bad escapes. */
  bad("\"a\nb\"", 2);
  bad("\"\t\"", 1);
  bad("\"\x1f\"", 1);
  bad_n("\"a\0\"", 4, SG_ERR_PARSE, 2);
  bad("\"abc", 4);
  bad("\"abc\\", 5);
  bad("\"\\x\"", 1);
  bad("\"\\'\"", 1);
  bad("\"\\u12\"", 1);
  bad("\"\\u12G4\"", 1);
  bad("\"\\U0041\"", 1);
  /* Unpaired surrogates in escapes. */
  bad("\"\\ud800\"", 1);
  bad("\"x\\udbff\"", 2);
  bad("\"\\udc00\"", 1);
  bad("\"\\ud800\\u0041\"", 1);
  bad("\"\\ud800\\ud800\"", 1);
  bad("\"\\ud800\\ue000\"", 1);
  bad("\"\\udbff\\udbff\"", 1);
  bad("\"\\ud800x\"", 1);
  bad("\"\\udfff\\ud800\"", 1);
  /* Invalid UTF-8: continuation, overlongs, surrogates, > U+10FFFF, truncated. */
  bad("\"\x80\"", 1);
  bad("\"ab\xbf\"", 3);
  bad("\"\xc0\xaf\"", 1);
  bad("\"\xc1\xbf\"", 1);
  bad("\"\xe0\x80\xaf\"", 1);
  bad("\"\xe0\x9f\xbf\"", 1);
  bad("\"\xf0\x80\x80\xaf\"", 1);
  bad("\"\xf0\x8f\xbf\xbf\"", 1);
  bad("\"\xed\xa0\x80\"", 1);
  bad("\"\xed\xbf\xbf\"", 1);
  bad("\"\xf4\x90\x80\x80\"", 1);
  bad("\"\xf5\x80\x80\x80\"", 1);
  bad("\"\xff\"", 1);
  bad("\"\xc3\"", 1);
  bad("\"\xe2\x82\"", 1);
  bad("\"\xc3(\"", 1);
  bad("{\"k\xc3\":1}", 3);
  /* Invalid UTF-8 outside strings is just an unexpected byte. */
  bad("\xc3\xa9", 0);
}

static void t_utf8_ok(void) {
  /* Boundaries of each sequence length are accepted and copied unchanged. */
  const char *s = "\"\x7f \xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbf "
                  "\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf\"";
  sg_json_doc *d = ok(s);
  const sg_json *v = sg_json_root(d);
  ASSERT_EQ(strlen(s) - 2, v->len);
  ASSERT_MEM_EQ(s + 1, v->str, v->len);
  sg_json_doc_free(d);
}

static void t_escapes(void) {
  sg_json_doc *d = ok("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"");
  ASSERT_STR_EQ("q\" b\\ s/ \b\f\n\r\t", sg_json_str(sg_json_root(d)));
  sg_json_doc_free(d);
  /* \u escapes to UTF-8 of 1, 2, 3 bytes, and a pair to 4 bytes. */
  d = ok("\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\\uD834\\uDD1E\\uffff\"");
  ASSERT_STR_EQ("A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf0\x9d\x84\x9e\xef\xbf\xbf",
                sg_json_str(sg_json_root(d)));
  sg_json_doc_free(d);
  /* An escaped NUL is kept and counted. */
  d = ok("\"a\\u0000b\"");
  const sg_json *v = sg_json_root(d);
  ASSERT_EQ(3, v->len);
  ASSERT_MEM_EQ("a\0b", v->str, 4);
  sg_json_doc_free(d);
  /* Escapes in member names. */
  d = ok("{\"a\\u0062\\n\":1,\"\\u00e9t\\u00e9\":2}");
  ASSERT_NOT_NULL(sg_json_get(sg_json_root(d), "ab\n"));
  ASSERT_EQ(3, sg_json_get(sg_json_root(d), "ab\n")->key_len);
  ASSERT_NOT_NULL(sg_json_get(sg_json_root(d), "\xc3\xa9t\xc3\xa9"));
  sg_json_doc_free(d);
}

static void t_nested(void) {
  const char *s = "{\"error\":{\"code\":\"ErrorInvalidRecipients\",\"message\":\"bad\","
                  "\"innerError\":{\"date\":\"2024-01-01T00:00:00\",\"request-id\":\"r1\"}},"
                  "\"list\":[1,[2,[3,[]]],{},{\"x\":null}],\"e\":{},\"a\":[]}";
  sg_json_doc *d = ok(s);
  const sg_json *root = sg_json_root(d);
  ASSERT_EQ(SG_JSON_OBJECT, root->type);
  ASSERT_EQ(4, root->count);
  ASSERT_NULL(root->key);
  ASSERT_NULL(root->next);
  const sg_json *code = sg_json_get(sg_json_get(root, "error"), "code");
  ASSERT_STR_EQ("ErrorInvalidRecipients", sg_json_str(code));
  ASSERT_STR_EQ("code", code->key);
  ASSERT_EQ(4, code->key_len);
  const sg_json *inner = sg_json_get(sg_json_get(root, "error"), "innerError");
  ASSERT_STR_EQ("r1", sg_json_str(sg_json_get(inner, "request-id")));
  ASSERT_NULL(inner->next); /* last member of error */
  const sg_json *list = sg_json_get(root, "list");
  ASSERT_EQ(SG_JSON_ARRAY, list->type);
  ASSERT_EQ(4, list->count);
  const sg_json *e = list->child;
  ASSERT_EQ(1, e->num);
  ASSERT_NULL(e->key);
  e = e->next;
  ASSERT_EQ(2, e->count);
  ASSERT_EQ(2, e->child->num);
  ASSERT_EQ(3, e->child->next->child->num);
  const sg_json *empty = e->child->next->child->next;
  ASSERT_EQ(SG_JSON_ARRAY, empty->type);
  ASSERT_EQ(0, empty->count);
  ASSERT_NULL(empty->child);
  ASSERT_NULL(empty->next);
  e = e->next;
  ASSERT_EQ(SG_JSON_OBJECT, e->type);
  ASSERT_EQ(0, e->count);
  e = e->next;
  ASSERT_EQ(SG_JSON_NULL, sg_json_get(e, "x")->type);
  ASSERT_NULL(e->next);
  ASSERT_EQ(0, sg_json_get(root, "e")->count);
  ASSERT_EQ(SG_JSON_ARRAY, sg_json_get(root, "a")->type);
  ASSERT_NULL(sg_json_get(root, "a")->next);
  sg_json_doc_free(d);
}

static void t_lookup(void) {
  sg_json_doc *d = ok("{\"Content-Type\":\"a\",\"dup\":1,\"dup\":2,\"\":\"empty\",\"k\\u0000x\":3,"
                      "\"sub\":{\"a\":1},\"arr\":[{\"a\":1}]}");
  const sg_json *r = sg_json_root(d);
  ASSERT_STR_EQ("a", sg_json_str(sg_json_get(r, "Content-Type")));
  ASSERT_NULL(sg_json_get(r, "content-type"));
  ASSERT_STR_EQ("a", sg_json_str(sg_json_get_ci(r, "content-type")));
  ASSERT_STR_EQ("a", sg_json_str(sg_json_get_ci(r, "CONTENT-TYPE")));
  ASSERT_NULL(sg_json_get_ci(r, "content-typ"));
  ASSERT_NULL(sg_json_get_ci(r, "content-typee"));
  ASSERT_EQ(1, sg_json_get(r, "dup")->num); /* the first one */
  ASSERT_EQ(1, sg_json_get_ci(r, "DUP")->num);
  ASSERT_STR_EQ("empty", sg_json_str(sg_json_get(r, "")));
  ASSERT_NULL(sg_json_get(r, "k")); /* a name with a NUL never matches a C string */
  ASSERT_NULL(sg_json_get(r, "a")); /* nested members are not found */
  ASSERT_NULL(sg_json_get(NULL, "a"));
  ASSERT_NULL(sg_json_get_ci(NULL, "a"));
  ASSERT_NULL(sg_json_get(sg_json_get(r, "arr"), "a")); /* not an object */
  ASSERT_NULL(sg_json_get_ci(sg_json_get(r, "dup"), "a"));
  ASSERT_NULL(sg_json_get(r, NULL));
  ASSERT_EQ(1, sg_json_get(sg_json_get(r, "sub"), "a")->num);
  /* Non-ASCII bytes compare exactly in the case-insensitive lookup. */
  sg_json_doc_free(d);
  d = ok("{\"\xc3\xa9\":1}");
  ASSERT_NOT_NULL(sg_json_get_ci(sg_json_root(d), "\xc3\xa9"));
  ASSERT_NULL(sg_json_get_ci(sg_json_root(d), "\xc3\x89"));
  sg_json_doc_free(d);
}

static void t_depth(void) {
  char s[2 * 200 + 1];
  for (unsigned depth = 1; depth <= 200; depth++) {
    for (unsigned i = 0; i < depth; i++) {
      s[i] = '[';
      s[2 * depth - 1 - i] = ']';
    }
    sg_json_doc *d = NULL;
    int rv = sg_json_parse(&d, s, 2 * depth, 0, err_, sizeof err_);
    if (depth <= SG_JSON_DEFAULT_DEPTH) {
      ASSERT_OK(rv);
      const sg_json *v = sg_json_root(d);
      unsigned n = 1;
      while (v->child) {
        v = v->child;
        n++;
      }
      ASSERT_EQ(depth, n);
      sg_json_doc_free(d);
    } else {
      ASSERT_EQ(SG_ERR_RANGE, rv);
      ASSERT_NULL(d);
      ASSERT(strstr(err_, "at byte 64") != NULL);
    }
    /* An explicit limit. */
    rv = sg_json_parse(&d, s, 2 * depth, 3, NULL, 0);
    ASSERT_EQ(depth <= 3 ? 0 : SG_ERR_RANGE, rv);
    sg_json_doc_free(d);
    rv = sg_json_parse(&d, s, 2 * depth, 1000, NULL, 0);
    ASSERT_OK(rv);
    sg_json_doc_free(d);
  }
}

/* Objects count towards the depth too; scalars do not. */
static void t_depth_objects(void) {
  sg_json_doc *d = NULL;
  const char *s = "{\"a\":{\"b\":[1]}}";
  ASSERT_OK(sg_json_parse(&d, s, strlen(s), 3, NULL, 0));
  sg_json_doc_free(d);
  ASSERT_EQ(SG_ERR_RANGE, sg_json_parse(&d, s, strlen(s), 2, err_, sizeof err_));
  ASSERT_STR_EQ("nesting deeper than 2 at byte 10", err_);
  ASSERT_OK(sg_json_parse(&d, "1", 1, 1, NULL, 0));
  sg_json_doc_free(d);
}

static void t_errors(void) {
  sg_json_doc *d;
  /* Small and absent error buffers are fine. */
  char small[8];
  ASSERT_EQ(SG_ERR_PARSE, sg_json_parse(&d, "[1,]", 4, 0, small, sizeof small));
  ASSERT_EQ(7, strlen(small));
  ASSERT_EQ(SG_ERR_PARSE, sg_json_parse(&d, "[1,]", 4, 0, NULL, 0));
  ASSERT_EQ(SG_ERR_PARSE, sg_json_parse(&d, "[1,]", 4, 0, small, 0));
  /* Success clears the error text. */
  ASSERT_OK(sg_json_parse(&d, "[]", 2, 0, err_, sizeof err_));
  ASSERT_STR_EQ("", err_);
  sg_json_doc_free(d);
  /* The message names the problem. */
  bad("[1,]", 3);
  ASSERT(strstr(err_, "']'") != NULL);
  bad("\"\\ud800\"", 1);
  ASSERT(strstr(err_, "surrogate") != NULL);
  bad("01", 0);
  ASSERT(strstr(err_, "leading zero") != NULL);
  bad("\"\x01\"", 1);
  ASSERT_STR_EQ("control character in string at byte 1", err_);
  bad("[\x01]", 1);
  ASSERT(strstr(err_, "0x01") != NULL);
}

static void t_not_terminated(void) {
  /* Only |len| bytes are read: the bytes after it would change the result. */
  const char buf[] = "12345";
  sg_json_doc *d;
  ASSERT_OK(sg_json_parse(&d, buf, 3, 0, NULL, 0));
  ASSERT_STR_EQ("123", sg_json_root(d)->str);
  ASSERT_EQ(123, sg_json_root(d)->num);
  sg_json_doc_free(d);
  const char lit[] = "truex";
  ASSERT_OK(sg_json_parse(&d, lit, 4, 0, NULL, 0));
  sg_json_doc_free(d);
  ASSERT_EQ(SG_ERR_PARSE, sg_json_parse(&d, lit, 3, 0, NULL, 0));
  /* A heap copy without a NUL, so ASan sees any over-read. */
  const char *texts[] = {"\"abc\"", "[1,2]", "{\"a\":-1.5e3}", "\"\\ud83d\\ude00\"", "0"};
  for (size_t i = 0; i < SG_ARRAY_LEN(texts); i++) {
    size_t n = strlen(texts[i]);
    for (size_t cut = 1; cut <= n; cut++) {
      char *h = sg_xmalloc(cut);
      memcpy(h, texts[i], cut);
      int rv = sg_json_parse(&d, h, cut, 0, NULL, 0);
      ASSERT(rv == 0 || rv == SG_ERR_PARSE);
      ASSERT_EQ(cut == n, rv == 0);
      sg_json_doc_free(d);
      sg_free(h);
    }
  }
}

static void t_big_string(void) {
  /* 1 MB of text with escapes and multibyte characters every so often. */
  sg_buf in = SG_BUF_INIT, want = SG_BUF_INIT;
  sg_buf_append_char(&in, '"');
  for (int i = 0; i < 40000; i++) {
    sg_buf_append_str(&in, "abcdefghij\\n\xc3\xa9\\u20ac\\\"");
    sg_buf_append_str(&want, "abcdefghij\n\xc3\xa9\xe2\x82\xac\"");
  }
  sg_buf_append_char(&in, '"');
  sg_json_doc *d = NULL;
  ASSERT_OK(sg_json_parse(&d, in.data, in.len, 0, err_, sizeof err_));
  const sg_json *v = sg_json_root(d);
  ASSERT_EQ(want.len, v->len);
  ASSERT_MEM_EQ(want.data, v->str, want.len);
  ASSERT_EQ('\0', v->str[v->len]);
  sg_json_doc_free(d);
  /* A string of only escapes: the output is shorter than the input. */
  sg_buf_reset(&in);
  sg_buf_append_char(&in, '"');
  for (int i = 0; i < 100000; i++)
    sg_buf_append_str(&in, "\\ud83d\\ude00");
  sg_buf_append_char(&in, '"');
  ASSERT_OK(sg_json_parse(&d, in.data, in.len, 0, err_, sizeof err_));
  ASSERT_EQ(400000, sg_json_root(d)->len);
  sg_json_doc_free(d);
  sg_buf_free(&in);
  sg_buf_free(&want);
}

/* Builds a ~4 MB document of many small objects and checks every node. */
static void t_4mb(void) {
  sg_buf b = SG_BUF_INIT;
  sg_buf_append_str(&b, "{\"items\":[");
  int n = 0;
  while (b.len < 4 * 1024 * 1024) {
    if (n > 0)
      sg_buf_append_char(&b, ',');
    sg_buf_printf(&b, "{\"id\":%d,\"name\":\"item %d\",\"ok\":%s,\"v\":[%d.5,null]}", n, n,
                  n % 2 ? "true" : "false", n);
    n++;
  }
  sg_buf_append_str(&b, "],\"count\":");
  sg_buf_printf(&b, "%d}", n);
  sg_json_doc *d = NULL;
  ASSERT_OK(sg_json_parse(&d, b.data, b.len, 0, err_, sizeof err_));
  const sg_json *r = sg_json_root(d);
  int64_t count;
  ASSERT(sg_json_int(sg_json_get(r, "count"), &count));
  ASSERT_EQ(n, count);
  const sg_json *items = sg_json_get(r, "items");
  ASSERT_EQ(n, items->count);
  int i = 0;
  char name[32];
  for (const sg_json *it = items->child; it; it = it->next, i++) {
    int64_t id;
    ASSERT(sg_json_int(sg_json_get(it, "id"), &id));
    ASSERT_EQ(i, id);
    snprintf(name, sizeof name, "item %d", i);
    ASSERT_STR_EQ(name, sg_json_str(sg_json_get(it, "name")));
    ASSERT_EQ(i % 2, sg_json_true(sg_json_get(it, "ok")));
    ASSERT(sg_json_get(it, "v")->child->num == i + 0.5);
  }
  ASSERT_EQ(n, i);
  sg_json_doc_free(d);

  /* The densest document: one node per two bytes. */
  sg_buf_reset(&b);
  sg_buf_append_char(&b, '[');
  for (int k = 0; k < 2 * 1024 * 1024 - 1; k++)
    sg_buf_append_str(&b, k ? ",0" : "0");
  sg_buf_append_char(&b, ']');
  ASSERT_OK(sg_json_parse(&d, b.data, b.len, 0, err_, sizeof err_));
  ASSERT_EQ(2 * 1024 * 1024 - 1, sg_json_root(d)->count);
  sg_json_doc_free(d);
  sg_buf_free(&b);
}

/* Not a pass/fail check (sanitizer builds are slow): prints the rate for a
 * typical sendMail body so regressions are visible in the test log. */
static void t_speed(void) {
  const char *body =
      "{\"message\":{\"subject\":\"Quarterly report \\u2014 Q3\",\"body\":{\"contentType\":"
      "\"HTML\",\"content\":\"<p>Hello Jane,</p><p>please find the report attached.</p>\"},"
      "\"toRecipients\":[{\"emailAddress\":{\"address\":\"jane@contoso.com\",\"name\":\"Jane\"}},"
      "{\"emailAddress\":{\"address\":\"joe@contoso.com\"}}],\"ccRecipients\":[],"
      "\"attachments\":[{\"@odata.type\":\"#microsoft.graph.fileAttachment\",\"name\":\"r.pdf\","
      "\"contentType\":\"application/pdf\",\"contentBytes\":\"JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9M"
      "ZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURlY29kZT4+CnN0cmVhbQp4nCvkMlAwUDC1NNUzMVGwMDHUszRSKErl"
      "\",\"isInline\":false}]},\"saveToSentItems\":true}";
  size_t n = strlen(body);
  int iters = 20000;
  clock_t t0 = clock();
  for (int i = 0; i < iters; i++) {
    sg_json_doc *d;
    ASSERT_OK(sg_json_parse(&d, body, n, 0, NULL, 0));
    sg_json_doc_free(d);
  }
  double s = (double)(clock() - t0) / CLOCKS_PER_SEC;
  fprintf(stderr, "   %d parses of %zu bytes: %.0f/s, %.0f MB/s\n", iters, n, iters / (s + 1e-9),
          iters * (double)n / (s + 1e-9) / 1e6);
}

/* The word-at-a-time escaper against a byte-by-byte reference, on strings
 * with every kind of byte at every offset: same output, and escaped_len agrees. */
static void ref_escape(sg_buf *b, const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned char c = p[i];
    if (c >= 0x80) {
      size_t k = sg_utf8_seq(p + i, n - i);
      if (k == 0) {
        sg_buf_append(b, "\\ufffd", 6);
        i++;
      } else {
        sg_buf_append(b, p + i, k);
        i += k;
      }
      continue;
    }
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      sg_buf_append(b, e, 2);
    } else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
      char e[2] = {'\\', c == '\n'   ? 'n'
                         : c == '\r' ? 'r'
                         : c == '\t' ? 't'
                         : c == '\b' ? 'b'
                                     : 'f'};
      sg_buf_append(b, e, 2);
    } else if (c < 0x20) {
      sg_buf_printf(b, "\\u%04x", c);
    } else {
      sg_buf_append_char(b, (char)c);
    }
    i++;
  }
}

static void t_escape_words(void) {
  static const unsigned char specials[] = {'"',  '\\', 0x00, 0x1f, 0x20, 0x7f, 0x80,
                                           0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xff, '\n',
                                           '\r', '\t', '\b', '\f', 0x01, 'a'};
  unsigned char s[80];
  sg_buf got = SG_BUF_INIT, want = SG_BUF_INIT;
  uint64_t rnd = 88172645463325252ull;
  for (int round = 0; round < 40000; round++) {
    size_t n = (size_t)(round % 80);
    /* One special in 3, in 40, or only specials: short runs, runs longer than
     * the 16 and 8 bytes tested at once, and escapes back to back. */
    unsigned every = round % 3 == 0 ? 3 : round % 3 == 1 ? 40 : 1;
    for (size_t i = 0; i < n; i++) {
      rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
      s[i] = rnd % every ? (unsigned char)('A' + rnd % 26) : specials[(rnd >> 8) % sizeof specials];
    }
    if (round % 7 == 0)
      sg_buf_free(&got); /* the escaper grows an empty buffer too */
    sg_buf_reset(&got);
    sg_buf_reset(&want);
    sg_jw_escape(&got, (const char *)s, n);
    ref_escape(&want, s, n);
    ASSERT_EQ(want.len, got.len);
    if (got.len)
      ASSERT_MEM_EQ(want.data, got.data, got.len);
    ASSERT_EQ(want.len, sg_jw_escaped_len((const char *)s, n));
  }
  sg_buf_free(&got);
  sg_buf_free(&want);
}

SG_TESTS({"escape_words", t_escape_words}, {"scalars", t_scalars}, {"numbers", t_numbers},
         {"rejections", t_rejections}, {"utf8_ok", t_utf8_ok}, {"escapes", t_escapes},
         {"nested", t_nested}, {"lookup", t_lookup}, {"depth", t_depth},
         {"depth_objects", t_depth_objects}, {"errors", t_errors},
         {"not_terminated", t_not_terminated}, {"big_string", t_big_string}, {"4mb", t_4mb},
         {"speed", t_speed})
