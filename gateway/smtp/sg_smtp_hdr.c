/* SPDX-License-Identifier: Apache-2.0 */
/* From: addresses of a message; see sg_smtp_hdr.h. */
#include "smtp/sg_smtp_hdr.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "core/sg_err.h"

/* Length of the line at |p| up to (not including) its LF, and where the next starts. */
static size_t line_end(const uint8_t *p, size_t n, size_t *next) {
  const uint8_t *lf = memchr(p, '\n', n);
  size_t e = lf ? (size_t)(lf - p) : n;
  *next = lf ? e + 1 : n;
  if (e > 0 && p[e - 1] == '\r')
    e--;
  return e;
}

static void trim(const char **s, size_t *n) {
  while (*n > 0 && (**s == ' ' || **s == '\t')) {
    (*s)++;
    (*n)--;
  }
  while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
    (*n)--;
}

/* One mailbox (comments already removed): the angle address or the bare addr-spec. */
static int add_mailbox(const char *m, size_t n, sg_buf *out) {
  const char *lt = NULL, *gt = NULL;
  bool q = false;
  for (size_t i = 0; i < n; i++) {
    if (m[i] == '"' && (i == 0 || m[i - 1] != '\\'))
      q = !q;
    else if (!q && m[i] == '<' && lt == NULL)
      lt = m + i;
    else if (!q && m[i] == '>' && lt && gt == NULL)
      gt = m + i;
  }
  const char *a = m;
  size_t al = n;
  if (lt) {
    if (gt == NULL)
      return SG_ERR_PARSE;
    a = lt + 1;
    al = (size_t)(gt - a);
  }
  trim(&a, &al);
  if (al == 0)
    return lt ? SG_ERR_PARSE : 0; /* empty list item: skipped */
  sg_buf_append(out, a, al);
  sg_buf_append_char(out, '\0');
  return 1;
}

/* The mailbox-list of an unfolded field value. */
static int parse_list(const char *v, size_t n, sg_buf *out) {
  sg_buf cur;
  sg_buf_init(&cur);
  int count = 0, depth = 0;
  bool q = false, angle = false;
  for (size_t i = 0; i <= n; i++) {
    char c = i < n ? v[i] : ',';
    if (depth > 0) { /* inside a comment */
      if (c == '\\')
        i++;
      else if (c == '(')
        depth++;
      else if (c == ')')
        depth--;
      continue;
    }
    if (q) {
      if (c == '\\' && i + 1 < n) {
        sg_buf_append_char(&cur, c);
        c = v[++i];
      } else if (c == '"') {
        q = false;
      }
      sg_buf_append_char(&cur, c);
      continue;
    }
    if (c == '(') {
      depth = 1;
      sg_buf_append_char(&cur, ' ');
    } else if (c == '"') {
      q = true;
      sg_buf_append_char(&cur, c);
    } else if (c == '<' || c == '>') {
      angle = c == '<';
      sg_buf_append_char(&cur, c);
    } else if (c == ':' && !angle) {
      sg_buf_reset(&cur); /* "group name:" */
    } else if ((c == ',' || c == ';') && !angle) {
      int rv = add_mailbox((const char *)cur.data, cur.len, out);
      if (rv < 0) {
        sg_buf_free(&cur);
        return rv;
      }
      count += rv;
      sg_buf_reset(&cur);
    } else {
      sg_buf_append_char(&cur, c);
    }
  }
  sg_buf_free(&cur);
  return count > 0 ? count : SG_ERR_PARSE;
}

int sg_smtp_hdr_from(const uint8_t *msg, size_t n, sg_buf *out) {
  sg_buf val;
  sg_buf_init(&val);
  int found = 0, count = 0;
  size_t pos = 0;
  bool in_from = false;
  while (pos < n) {
    size_t next;
    const uint8_t *l = msg + pos;
    size_t ll = line_end(l, n - pos, &next);
    pos += next;
    if (ll == 0)
      break; /* end of the header section */
    if (l[0] == ' ' || l[0] == '\t') {
      if (in_from)
        sg_buf_append(&val, l, ll);
      continue;
    }
    in_from = false;
    const uint8_t *colon = memchr(l, ':', ll);
    if (colon == NULL)
      continue;
    size_t nl = (size_t)(colon - l);
    while (nl > 0 && (l[nl - 1] == ' ' || l[nl - 1] == '\t'))
      nl--;
    if (nl == 4 && strncasecmp((const char *)l, "From", 4) == 0) {
      if (++found > 1)
        break;
      in_from = true;
      sg_buf_append(&val, colon + 1, ll - (size_t)(colon - l) - 1);
    }
  }
  if (found > 1)
    count = SG_ERR_PARSE;
  else if (found == 1)
    count = parse_list((const char *)val.data, val.len, out);
  sg_buf_free(&val);
  return count;
}
