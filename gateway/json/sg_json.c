/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict RFC 8259 JSON parser; see sg_json.h.
 *
 * One pass over the input, no recursion: the open containers form a chain
 * through their |next| field (which is free until a container closes), so the
 * nesting depth costs no stack and no allocation. Memory comes from an arena:
 * the first allocation holds the document header, a first block of nodes and
 * a text area of len + 1 bytes. The text area always suffices, because every
 * string, key and number literal copied into it (with its NUL) is no longer
 * than its source bytes plus one delimiter or the end of input. Only the node
 * count is unknown in advance; when the first block runs out, further blocks
 * of doubling size are chained to the document (a few big chunks at most).
 */
#include "json/sg_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_utf8.h"

/* Nodes in the first block: enough for provider responses and most request
 * bodies, small enough not to waste memory on a big body that is one string. */
#define FIRST_NODES_MAX 512
#define MORE_NODES_MIN 256

struct node_block {
  struct node_block *next;
  sg_json nodes[];
};

struct sg_json_doc {
  const sg_json *root;
  struct node_block *more; /* blocks allocated after the first, newest first */
  sg_json nodes[];         /* the first block, then the text area */
};

typedef struct {
  const unsigned char *start, *p, *end;
  char *text;               /* next free byte of the text area */
  sg_json *node, *node_end; /* free nodes of the current block */
  size_t last_block;        /* nodes in the current block */
  sg_json_doc *doc;
  char *err;
  size_t errcap;
} parser;

/*
 * Byte classes for the string scanner: 0 for bytes copied as they are, 1 for
 * the quote, the backslash and control characters, 2 for non-ASCII lead and
 * continuation bytes (validated as UTF-8).
 */
/* clang-format off */
static const unsigned char str_class[256] = {
    /* 0x00-0x1f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x20-0x7f: '"' (0x22) and '\\' (0x5c) */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x80-0xff */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};
/* clang-format on */

/* Records |msg| at the current offset; returns |rv| for a tail call. */
static int fail(parser *P, const unsigned char *at, int rv, const char *msg) {
  if (P->err != NULL && P->errcap > 0)
    snprintf(P->err, P->errcap, "%s at byte %zu", msg, (size_t)(at - P->start));
  return rv;
}

static int fail_char(parser *P, const char *what) {
  char msg[96];
  unsigned char c = *P->p;
  if (c > 0x20 && c < 0x7f)
    snprintf(msg, sizeof msg, "%s: unexpected '%c'", what, c);
  else
    snprintf(msg, sizeof msg, "%s: unexpected byte 0x%02x", what, c);
  return fail(P, P->p, SG_ERR_PARSE, msg);
}

static inline void skip_ws(parser *P) {
  const unsigned char *p = P->p, *end = P->end;
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
    p++;
  P->p = p;
}

static sg_json *new_node(parser *P) {
  if (P->node == P->node_end) {
    /* Every node starts at its own input byte, which bounds what is left. */
    size_t left = (size_t)(P->end - P->p) + 1;
    size_t n = P->last_block * 2;
    if (n < MORE_NODES_MIN)
      n = MORE_NODES_MIN;
    if (n > left)
      n = left;
    struct node_block *b = sg_xmalloc(sizeof *b + n * sizeof(sg_json));
    b->next = P->doc->more;
    P->doc->more = b;
    P->node = b->nodes;
    P->node_end = b->nodes + n;
    P->last_block = n;
  }
  sg_json *v = P->node++;
  memset(v, 0, sizeof *v);
  return v;
}

static int hex4(const unsigned char *p, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    unsigned char c = p[i];
    unsigned d;
    if (c >= '0' && c <= '9')
      d = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = (unsigned)(c - 'A' + 10);
    else
      return -1;
    v = (v << 4) | d;
  }
  *out = v;
  return 0;
}

static char *put_utf8(char *t, unsigned cp) {
  if (cp < 0x80) {
    *t++ = (char)cp;
  } else if (cp < 0x800) {
    *t++ = (char)(0xC0 | (cp >> 6));
    *t++ = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *t++ = (char)(0xE0 | (cp >> 12));
    *t++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *t++ = (char)(0x80 | (cp & 0x3F));
  } else {
    *t++ = (char)(0xF0 | (cp >> 18));
    *t++ = (char)(0x80 | ((cp >> 12) & 0x3F));
    *t++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *t++ = (char)(0x80 | (cp & 0x3F));
  }
  return t;
}

/* Decodes the escape at P->p (just after the backslash) into |*tp|. */
static int parse_escape(parser *P, char **tp) {
  const unsigned char *p = P->p, *end = P->end;
  char *t = *tp;
  if (p == end)
    return fail(P, p, SG_ERR_PARSE, "unterminated string");
  switch (*p) {
  case '"':
  case '\\':
  case '/':
    *t++ = (char)*p;
    break;
  case 'b':
    *t++ = '\b';
    break;
  case 'f':
    *t++ = '\f';
    break;
  case 'n':
    *t++ = '\n';
    break;
  case 'r':
    *t++ = '\r';
    break;
  case 't':
    *t++ = '\t';
    break;
  case 'u': {
    unsigned cp, lo;
    if (end - p < 5 || hex4(p + 1, &cp) != 0)
      return fail(P, p - 1, SG_ERR_PARSE, "bad \\u escape");
    if (cp >= 0xDC00 && cp <= 0xDFFF)
      return fail(P, p - 1, SG_ERR_PARSE, "unpaired low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (end - p < 11 || p[5] != '\\' || p[6] != 'u' || hex4(p + 7, &lo) != 0 || lo < 0xDC00 ||
          lo > 0xDFFF)
        return fail(P, p - 1, SG_ERR_PARSE, "unpaired high surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      p += 6;
    }
    t = put_utf8(t, cp);
    p += 4;
    break;
  }
  default:
    return fail(P, p - 1, SG_ERR_PARSE, "bad escape");
  }
  P->p = p + 1;
  *tp = t;
  return 0;
}

/* Parses a string whose opening quote is at P->p - 1 into the text area. */
static int parse_string(parser *P, const char **out, size_t *out_len) {
  const unsigned char *end = P->end;
  char *t = P->text, *start = t;
  for (;;) {
    const unsigned char *p = P->p, *run = p;
    while (p < end && str_class[*p] == 0)
      p++;
    memcpy(t, run, (size_t)(p - run));
    t += p - run;
    P->p = p;
    if (p == end)
      return fail(P, p, SG_ERR_PARSE, "unterminated string");
    unsigned char c = *p;
    if (c == '"') {
      P->p = p + 1;
      break;
    }
    if (c == '\\') {
      P->p = p + 1;
      int rv = parse_escape(P, &t);
      if (rv != 0)
        return rv;
    } else if (c < 0x20) {
      return fail(P, p, SG_ERR_PARSE, "control character in string");
    } else {
      size_t k = sg_utf8_seq(p, (size_t)(end - p));
      if (k == 0)
        return fail(P, p, SG_ERR_PARSE, "invalid UTF-8 in string");
      memcpy(t, p, k);
      t += k;
      P->p = p + k;
    }
  }
  *t++ = '\0';
  *out = start;
  *out_len = (size_t)(t - start - 1);
  P->text = t;
  return 0;
}

static inline bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}

/*
 * Parses a number at P->p: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
 * The literal is copied; the double is computed exactly for short integers
 * and by strtod otherwise (in the C locale, which the gateway never changes).
 * Overflowing exponents give +-HUGE_VAL and are accepted.
 */
static int parse_number(parser *P, sg_json *v) {
  const unsigned char *p = P->p, *end = P->end, *lit = p;
  bool neg = false, integral = true;
  if (*p == '-') {
    neg = true;
    p++;
  }
  if (p == end || !is_digit(*p))
    return fail(P, p, SG_ERR_PARSE, "digit expected in number");
  if (*p == '0') {
    p++;
    if (p < end && is_digit(*p))
      return fail(P, p - 1, SG_ERR_PARSE, "leading zero in number");
  } else {
    while (p < end && is_digit(*p))
      p++;
  }
  const unsigned char *int_end = p;
  if (p < end && *p == '.') {
    integral = false;
    p++;
    if (p == end || !is_digit(*p))
      return fail(P, p, SG_ERR_PARSE, "digit expected after decimal point");
    while (p < end && is_digit(*p))
      p++;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    integral = false;
    p++;
    if (p < end && (*p == '+' || *p == '-'))
      p++;
    if (p == end || !is_digit(*p))
      return fail(P, p, SG_ERR_PARSE, "digit expected in exponent");
    while (p < end && is_digit(*p))
      p++;
  }
  size_t n = (size_t)(p - lit);
  char *t = P->text;
  memcpy(t, lit, n);
  t[n] = '\0';
  P->text = t + n + 1;
  v->type = SG_JSON_NUMBER;
  v->str = t;
  v->len = n;
  size_t digits = (size_t)(int_end - lit) - (neg ? 1 : 0);
  if (integral && digits <= 15) {
    /* Below 2^53: exact in a double, no need for strtod. */
    int64_t acc = 0;
    for (const unsigned char *q = lit + (neg ? 1 : 0); q < int_end; q++)
      acc = acc * 10 + (*q - '0');
    v->num = neg ? -(double)acc : (double)acc;
  } else {
    v->num = strtod(t, NULL);
  }
  P->p = p;
  return 0;
}

static int parse_literal(parser *P, sg_json *v, const char *word, size_t n, sg_json_type type) {
  if ((size_t)(P->end - P->p) < n || memcmp(P->p, word, n) != 0)
    return fail_char(P, "invalid literal");
  v->type = type;
  P->p += n;
  return 0;
}

/*
 * The value loop. |cur| is the innermost open container and |last| its last
 * child so far; an open container keeps its parent in |next| until it closes.
 */
static int parse_doc(parser *P, unsigned max_depth) {
  sg_json *cur = NULL, *last = NULL, *root = NULL, *v;
  const char *key = NULL;
  size_t key_len = 0;
  unsigned depth = 0;
  unsigned char c;
  int rv;

value:
  skip_ws(P);
  if (P->p == P->end)
    return fail(P, P->p, SG_ERR_PARSE, "unexpected end of input");
  v = new_node(P);
  v->key = key;
  v->key_len = key_len;
  key = NULL;
  key_len = 0;
  if (cur == NULL)
    root = v;
  else if (last == NULL)
    cur->child = v;
  else
    last->next = v;
  if (cur != NULL)
    cur->count++;
  last = v;
  c = *P->p;
  switch (c) {
  case '[':
  case '{':
    if (depth >= max_depth) {
      char msg[64];
      snprintf(msg, sizeof msg, "nesting deeper than %u", max_depth);
      return fail(P, P->p, SG_ERR_RANGE, msg);
    }
    depth++;
    v->type = c == '[' ? SG_JSON_ARRAY : SG_JSON_OBJECT;
    v->next = cur;
    cur = v;
    last = NULL;
    P->p++;
    skip_ws(P);
    if (P->p < P->end && *P->p == (c == '[' ? ']' : '}')) {
      P->p++;
      goto close;
    }
    if (c == '{')
      goto member;
    goto value;
  case '"':
    P->p++;
    v->type = SG_JSON_STRING;
    rv = parse_string(P, &v->str, &v->len);
    break;
  case 't':
    rv = parse_literal(P, v, "true", 4, SG_JSON_TRUE);
    break;
  case 'f':
    rv = parse_literal(P, v, "false", 5, SG_JSON_FALSE);
    break;
  case 'n':
    rv = parse_literal(P, v, "null", 4, SG_JSON_NULL);
    break;
  default:
    if (c == '-' || is_digit(c))
      rv = parse_number(P, v);
    else
      rv = fail_char(P, "value expected");
  }
  if (rv != 0)
    return rv;

after:
  skip_ws(P);
  if (cur == NULL) {
    if (P->p != P->end)
      return fail(P, P->p, SG_ERR_PARSE, "trailing characters after the value");
    P->doc->root = root;
    return 0;
  }
  if (P->p == P->end)
    return fail(P, P->p, SG_ERR_PARSE, "unexpected end of input");
  c = *P->p;
  if (c == ',') {
    P->p++;
    if (cur->type == SG_JSON_OBJECT)
      goto member;
    goto value;
  }
  if (c != (cur->type == SG_JSON_ARRAY ? ']' : '}'))
    return fail_char(P, cur->type == SG_JSON_ARRAY ? "',' or ']' expected" : "',' or '}' expected");
  P->p++;

close:
  v = (sg_json *)cur->next;
  cur->next = NULL;
  last = cur;
  cur = v;
  depth--;
  goto after;

member:
  skip_ws(P);
  if (P->p == P->end)
    return fail(P, P->p, SG_ERR_PARSE, "unexpected end of input");
  if (*P->p != '"')
    return fail_char(P, "member name expected");
  P->p++;
  rv = parse_string(P, &key, &key_len);
  if (rv != 0)
    return rv;
  skip_ws(P);
  if (P->p == P->end)
    return fail(P, P->p, SG_ERR_PARSE, "unexpected end of input");
  if (*P->p != ':')
    return fail_char(P, "':' expected");
  P->p++;
  goto value;
}

int sg_json_parse(sg_json_doc **out, const char *text, size_t len, unsigned max_depth, char *err,
                  size_t errcap) {
  parser P = {.err = err, .errcap = errcap};
  *out = NULL;
  if (err != NULL && errcap > 0)
    err[0] = '\0';
  if (text == NULL || len == 0) {
    if (err != NULL && errcap > 0)
      snprintf(err, errcap, "empty input at byte 0");
    return SG_ERR_PARSE;
  }
  if (len > (SIZE_MAX - sizeof(sg_json_doc)) / 2 / sizeof(sg_json)) {
    if (err != NULL && errcap > 0)
      snprintf(err, errcap, "input too large at byte 0");
    return SG_ERR_PARSE;
  }
  size_t first = len / 16 + 4;
  if (first > FIRST_NODES_MAX)
    first = FIRST_NODES_MAX;
  sg_json_doc *doc = sg_xmalloc(sizeof *doc + first * sizeof(sg_json) + len + 1);
  doc->root = NULL;
  doc->more = NULL;
  P.doc = doc;
  P.start = P.p = (const unsigned char *)text;
  P.end = P.start + len;
  P.node = doc->nodes;
  P.node_end = doc->nodes + first;
  P.last_block = first;
  P.text = (char *)(doc->nodes + first);
  int rv = parse_doc(&P, max_depth == 0 ? SG_JSON_DEFAULT_DEPTH : max_depth);
  if (rv != 0) {
    sg_json_doc_free(doc);
    return rv;
  }
  *out = doc;
  return 0;
}

const sg_json *sg_json_root(const sg_json_doc *doc) {
  return doc != NULL ? doc->root : NULL;
}

void sg_json_doc_free(sg_json_doc *doc) {
  if (doc == NULL)
    return;
  struct node_block *b = doc->more;
  while (b != NULL) {
    struct node_block *next = b->next;
    sg_free(b);
    b = next;
  }
  sg_free(doc);
}

const sg_json *sg_json_get(const sg_json *obj, const char *key) {
  if (obj == NULL || obj->type != SG_JSON_OBJECT || key == NULL)
    return NULL;
  size_t n = strlen(key);
  for (const sg_json *m = obj->child; m != NULL; m = m->next)
    if (m->key_len == n && memcmp(m->key, key, n) == 0)
      return m;
  return NULL;
}

static inline unsigned char ascii_lower(unsigned char c) {
  return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

const sg_json *sg_json_get_ci(const sg_json *obj, const char *key) {
  if (obj == NULL || obj->type != SG_JSON_OBJECT || key == NULL)
    return NULL;
  size_t n = strlen(key);
  for (const sg_json *m = obj->child; m != NULL; m = m->next) {
    if (m->key_len != n)
      continue;
    size_t i = 0;
    while (i < n && ascii_lower((unsigned char)m->key[i]) == ascii_lower((unsigned char)key[i]))
      i++;
    if (i == n)
      return m;
  }
  return NULL;
}

const char *sg_json_str(const sg_json *v) {
  return v != NULL && v->type == SG_JSON_STRING ? v->str : NULL;
}

bool sg_json_true(const sg_json *v) {
  return v != NULL && v->type == SG_JSON_TRUE;
}

/* Decided: only literals written without fraction or exponent count ("1.0"
 * and "1e3" do not), so the answer never depends on double rounding. */
bool sg_json_int(const sg_json *v, int64_t *out) {
  if (v == NULL || v->type != SG_JSON_NUMBER)
    return false;
  const char *s = v->str;
  bool neg = *s == '-';
  if (neg)
    s++;
  uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  uint64_t acc = 0;
  for (; *s != '\0'; s++) {
    if (*s < '0' || *s > '9')
      return false;
    uint64_t d = (uint64_t)(*s - '0');
    if (acc > (limit - d) / 10)
      return false;
    acc = acc * 10 + d;
  }
  if (out != NULL) {
    if (!neg)
      *out = (int64_t)acc;
    else if (acc == (uint64_t)INT64_MAX + 1)
      *out = INT64_MIN;
    else
      *out = -(int64_t)acc;
  }
  return true;
}
