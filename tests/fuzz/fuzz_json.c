/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for json/sg_json. Besides "no crash, no leak, no
 * over-read", it checks what the parser promises on success: every string and
 * name is valid UTF-8 and NUL-terminated, counts match the children, names
 * appear exactly on object members, and writing the tree back out (with
 * sg_json_write) and parsing that again gives the same tree. It also checks
 * that a larger depth limit never rejects what a smaller one accepted.
 *
 * Linked with fuzz_replay.c it runs every file of the corpus once (the ctest
 * "fuzz-replay" test), so plain gcc builds exercise the corpus too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_json_write.h"
#include "core/sg_mem.h"
#include "core/sg_utf8.h"
#include "json/sg_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
  do {                                                                                             \
    if (!(c)) {                                                                                    \
      fprintf(stderr, "fuzz_json: check failed: %s (line %d)\n", #c, __LINE__);                    \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

/* Checks the invariants of |v| and writes it as JSON to |out|. Depth is
 * bounded by the parser's limit, so recursion is bounded too. */
static void check_write(const sg_json *v, bool member, sg_buf *out) {
  CHECK(member == (v->key != NULL));
  if (member) {
    CHECK(v->key[v->key_len] == '\0');
    CHECK(sg_utf8_valid(v->key, v->key_len));
    sg_jw_str(out, v->key, v->key_len);
    sg_buf_append_char(out, ':');
  }
  switch (v->type) {
  case SG_JSON_NULL:
    sg_buf_append_str(out, "null");
    break;
  case SG_JSON_TRUE:
  case SG_JSON_FALSE:
    sg_jw_bool(out, v->type == SG_JSON_TRUE);
    break;
  case SG_JSON_NUMBER:
    CHECK(v->str != NULL && v->len > 0 && v->str[v->len] == '\0' && strlen(v->str) == v->len);
    sg_buf_append(out, v->str, v->len);
    break;
  case SG_JSON_STRING:
    CHECK(v->str != NULL && v->str[v->len] == '\0');
    CHECK(sg_utf8_valid(v->str, v->len));
    sg_jw_str(out, v->str, v->len);
    break;
  case SG_JSON_ARRAY:
  case SG_JSON_OBJECT: {
    bool obj = v->type == SG_JSON_OBJECT;
    sg_buf_append_char(out, obj ? '{' : '[');
    size_t n = 0;
    for (const sg_json *c = v->child; c != NULL; c = c->next) {
      if (n++ > 0)
        sg_buf_append_char(out, ',');
      check_write(c, obj, out);
    }
    CHECK(n == v->count);
    sg_buf_append_char(out, obj ? '}' : ']');
    break;
  }
  default:
    CHECK(!"bad type");
  }
}

static bool same(const sg_json *a, const sg_json *b) {
  if (a->type != b->type || a->len != b->len || a->key_len != b->key_len || a->count != b->count)
    return false;
  if ((a->key == NULL) != (b->key == NULL) || (a->str == NULL) != (b->str == NULL))
    return false;
  if (a->key != NULL && memcmp(a->key, b->key, a->key_len) != 0)
    return false;
  if (a->str != NULL && memcmp(a->str, b->str, a->len) != 0)
    return false;
  if (a->type == SG_JSON_NUMBER && memcmp(&a->num, &b->num, sizeof a->num) != 0)
    return false;
  const sg_json *x = a->child, *y = b->child;
  for (; x != NULL && y != NULL; x = x->next, y = y->next)
    if (!same(x, y))
      return false;
  return x == NULL && y == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sg_json_doc *doc = NULL;
  char err[128];
  int rv = sg_json_parse(&doc, (const char *)data, size, 0, err, sizeof err);
  CHECK(rv == 0 || rv == SG_ERR_PARSE || rv == SG_ERR_RANGE);
  if (rv != 0) {
    CHECK(doc == NULL);
    CHECK(strstr(err, " at byte ") != NULL);
    if (rv == SG_ERR_RANGE) {
      /* Too deep for 64; with a limit above the input size (nesting needs a
       * byte per level) only well-formedness decides. */
      int rv2 = sg_json_parse(&doc, (const char *)data, size, (unsigned)size + 1, NULL, 0);
      CHECK(rv2 == 0 || rv2 == SG_ERR_PARSE);
      sg_json_doc_free(doc);
    }
    return 0;
  }
  const sg_json *root = sg_json_root(doc);
  CHECK(root != NULL && root->next == NULL);
  sg_buf out = SG_BUF_INIT;
  check_write(root, false, &out);

  sg_json_doc *again = NULL;
  rv = sg_json_parse(&again, out.data, out.len, 0, err, sizeof err);
  if (rv != 0) {
    fprintf(stderr, "fuzz_json: re-parse failed: %s\n", err);
    abort();
  }
  CHECK(same(root, sg_json_root(again)));
  sg_json_doc_free(again);

  /* A larger limit accepts the same document. */
  CHECK(sg_json_parse(&again, (const char *)data, size, 1000, NULL, 0) == 0);
  sg_json_doc_free(again);

  /* Lookups by every member name find a member with that name. */
  if (root->type == SG_JSON_OBJECT) {
    for (const sg_json *m = root->child; m != NULL; m = m->next) {
      if (memchr(m->key, '\0', m->key_len) != NULL)
        continue;
      const sg_json *f = sg_json_get(root, m->key);
      CHECK(f != NULL && f->key_len == m->key_len);
      CHECK(sg_json_get_ci(root, m->key) != NULL);
    }
  }
  int64_t i64;
  (void)sg_json_int(root, &i64);
  sg_buf_free(&out);
  sg_json_doc_free(doc);
  return 0;
}
