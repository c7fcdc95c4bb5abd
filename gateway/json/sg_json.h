/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A strict RFC 8259 JSON parser producing a read-only tree in one arena.
 * Pure: no I/O, bounded nesting depth, rejects invalid UTF-8, lone surrogates
 * in \u escapes, trailing garbage, leading zeros, and control characters in
 * strings. Used for provider responses in the gateway and request bodies in
 * the sandbox; a fuzz target.
 *
 *   sg_json_doc *d; char err[128];
 *   if (sg_json_parse(&d, text, len, 0, err, sizeof err) == 0) {
 *     const sg_json *code = sg_json_get(sg_json_get(sg_json_root(d), "error"), "code");
 *     ...
 *     sg_json_doc_free(d);
 *   }
 */
#ifndef SG_JSON_H
#define SG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
  SG_JSON_NULL,
  SG_JSON_FALSE,
  SG_JSON_TRUE,
  SG_JSON_NUMBER,
  SG_JSON_STRING,
  SG_JSON_ARRAY,
  SG_JSON_OBJECT
} sg_json_type;

typedef struct sg_json sg_json;
struct sg_json {
  sg_json_type type;
  /* STRING: the unescaped UTF-8 bytes, NUL-terminated (may contain NUL).
   * NUMBER: the literal as written. Otherwise NULL. */
  const char *str;
  size_t len;
  double num;           /* NUMBER only */
  const sg_json *child; /* ARRAY/OBJECT: first element or member */
  const sg_json *next;  /* next element or member of the parent */
  const char *key;      /* member of an OBJECT: its unescaped name, NUL-terminated */
  size_t key_len;
  size_t count; /* ARRAY/OBJECT: number of children */
};

typedef struct sg_json_doc sg_json_doc;

/* Default maximum nesting depth when |max_depth| is 0. */
#define SG_JSON_DEFAULT_DEPTH 64

/*
 * Parses |len| bytes at |text| (need not be NUL-terminated; borrowed only
 * during the call: the document copies what it keeps). On success stores a
 * new document in |*out|, owned by the caller (sg_json_doc_free), and returns
 * 0; every node and string stays valid until then. On failure stores NULL and
 * returns SG_ERR_PARSE (or SG_ERR_RANGE when more than |max_depth| arrays or
 * objects are nested; 0 means SG_JSON_DEFAULT_DEPTH) and, when |err| is not
 * NULL, writes a one-line reason ending in "at byte N" (truncated to
 * |errcap|). Rejected: empty input, a BOM, invalid UTF-8 anywhere in strings
 * (overlongs, UTF-8-encoded surrogates, above U+10FFFF), unpaired \u
 * surrogates, control characters below 0x20 in strings, leading zeros, "+1",
 * ".5", "1.", "1e", NaN/Infinity, trailing commas, trailing non-whitespace.
 * Duplicate member names are kept (lookups find the first). A number whose
 * exponent overflows a double is accepted with num = +-HUGE_VAL.
 * Memory: one allocation holding the strings (at most len + 1 bytes) and the
 * first nodes, plus a few doubling blocks of nodes for large documents.
 *
 * Returns 0 or one of: SG_ERR_PARSE, SG_ERR_RANGE.
 */
int sg_json_parse(sg_json_doc **out, const char *text, size_t len, unsigned max_depth, char *err,
                  size_t errcap);

/* The top-level value of |doc| (NULL when doc is NULL). */
const sg_json *sg_json_root(const sg_json_doc *doc);
/* Frees |doc| and every node and string in it; NULL is ignored. */
void sg_json_doc_free(sg_json_doc *doc);

/* The first member of object |obj| named |key| (NUL-terminated, so names with
 * an embedded NUL never match), or NULL (also when obj is NULL or not an
 * object). Linear in the number of members. */
const sg_json *sg_json_get(const sg_json *obj, const char *key);
/* Case-insensitive variant (ASCII). */
const sg_json *sg_json_get_ci(const sg_json *obj, const char *key);

/* The string of |v| if it is a STRING, else NULL. */
const char *sg_json_str(const sg_json *v);
/* |v| as a bool: true only for JSON true. */
bool sg_json_true(const sg_json *v);
/*
 * Stores |v| in |*out| when it is a NUMBER holding an integer in int64 range.
 * Only literals written without fraction or exponent count: "42" and "-0" do,
 * "42.0" and "4.2e1" do not. |out| may be NULL to test only.
 * Returns true on success; NULL or non-NUMBER |v| gives false.
 */
bool sg_json_int(const sg_json *v, int64_t *out);

#endif
