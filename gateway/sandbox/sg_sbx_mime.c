/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 5322 header-section scanner for the sandbox's Graph MIME path; see
 * sg_sbx_mime.h. Address lists are split on ',' and ';' outside quoted
 * strings, comments and <angle-addr>; a ':' outside them ends a group's
 * display name.
 */
#include "sandbox/sg_sbx_mime.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/sg_err.h"

/* X- fields recorded at most, to keep the accepted-message record small. */
#define MAX_XHDRS 64

typedef struct scan {
  sg_sbx_msg *m;
  char *bad;
  size_t badcap;
} scan;

static void note_bad(scan *c, const char *a) {
  if (!c->bad[0])
    snprintf(c->bad, c->badcap, "%s", a);
}

bool sg_sbx_mime_field_name_ok(const char *s, size_t n) {
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126 || s[i] == ':')
      return false;
  return true;
}

/* Flushes one address-list element: the <angle> part if any, else the bare text. */
static void mime_flush(scan *c, sg_buf *cur, sg_buf *ang, bool *has_angle, sg_sbx_addr_list *dst) {
  sg_buf *src = *has_angle ? ang : cur;
  const char *s = src->data ? src->data : "";
  size_t n = src->len;
  while (n && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
    s++, n--;
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
    n--;
  if (n) {
    char *a = sg_xstrndup(s, n);
    if (sg_sbx_addr_valid(a, n))
      sg_sbx_addr_list_add(dst, a, NULL);
    else
      note_bad(c, a);
    sg_free(a);
  } else if (*has_angle) {
    note_bad(c, "<>");
  }
  sg_buf_reset(cur);
  sg_buf_reset(ang);
  *has_angle = false;
}

/*
 * Parses an RFC 5322 address-list (mailboxes and groups; quoted display
 * names, comments and <angle-addr> handled; obsolete routes are not) and
 * appends every address to |dst|.
 */
static void mime_addr_list(scan *c, const char *s, size_t n, sg_sbx_addr_list *dst) {
  sg_buf cur = SG_BUF_INIT, ang = SG_BUF_INIT;
  bool quote = false, angle = false, has_angle = false;
  int comment = 0;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (quote || comment) {
      if (ch == '\\')
        i++;
      else if (quote && ch == '"')
        quote = false;
      else if (comment && ch == '(')
        comment++;
      else if (comment && ch == ')')
        comment--;
      continue;
    }
    if (angle) {
      if (ch == '>')
        angle = false;
      else
        sg_buf_append_char(&ang, ch);
      continue;
    }
    if (ch == '"') {
      quote = true;
    } else if (ch == '(') {
      comment = 1;
    } else if (ch == '<') {
      angle = has_angle = true;
      sg_buf_reset(&ang);
    } else if (ch == ':') { /* group display name ends */
      sg_buf_reset(&cur);
      has_angle = false;
    } else if (ch == ',' || ch == ';') {
      mime_flush(c, &cur, &ang, &has_angle, dst);
    } else {
      sg_buf_append_char(&cur, ch);
    }
  }
  if (quote || angle || comment)
    note_bad(c, "(unterminated address)");
  else
    mime_flush(c, &cur, &ang, &has_angle, dst);
  sg_buf_free(&cur);
  sg_buf_free(&ang);
}

/* Acts on one unfolded header field |name|: |value|. */
static void mime_field(scan *c, const char *name, size_t nlen, const char *value, size_t vlen) {
  sg_sbx_msg *m = c->m;
  while (vlen && (*value == ' ' || *value == '\t'))
    value++, vlen--;
  if (nlen == 2 && strncasecmp(name, "to", 2) == 0)
    mime_addr_list(c, value, vlen, &m->to);
  else if (nlen == 2 && strncasecmp(name, "cc", 2) == 0)
    mime_addr_list(c, value, vlen, &m->cc);
  else if (nlen == 3 && strncasecmp(name, "bcc", 3) == 0)
    mime_addr_list(c, value, vlen, &m->bcc);
  else if (nlen == 7 && strncasecmp(name, "subject", 7) == 0 && !m->subject)
    m->subject = sg_xstrndup(value, vlen);
  else if (nlen == 4 && strncasecmp(name, "from", 4) == 0 && !m->from) {
    sg_sbx_addr_list l = {NULL, 0};
    mime_addr_list(c, value, vlen, &l);
    if (l.n)
      m->from = sg_xstrdup(l.v[0].address);
    for (size_t i = 0; i < l.n; i++) {
      sg_free(l.v[i].address);
      sg_free(l.v[i].name);
    }
    sg_free(l.v);
  } else if (nlen > 2 && (name[0] == 'x' || name[0] == 'X') && name[1] == '-' &&
             m->n_hdrs < MAX_XHDRS) {
    char *nm = sg_xstrndup(name, nlen), *val = sg_xstrndup(value, vlen);
    sg_sbx_msg_add_hdr(m, nm, val);
    sg_free(nm);
    sg_free(val);
  }
}

/*
 * Walks the header section of |p| (|n| bytes): "Name: value" lines, folded
 * continuation lines starting with SP/HT, ended by an empty line or the end.
 * Returns the number of fields, or -1 when a line is neither.
 */
static long mime_headers(scan *c, const char *p, size_t n) {
  sg_buf val = SG_BUF_INIT;
  const char *name = NULL;
  size_t nlen = 0;
  long fields = 0;
  size_t i = 0;
  while (i < n) {
    const char *eol = memchr(p + i, '\n', n - i);
    size_t end = eol ? (size_t)(eol - p) : n, next = eol ? end + 1 : n;
    size_t llen = end - i;
    if (llen && p[i + llen - 1] == '\r')
      llen--;
    const char *line = p + i;
    i = next;
    if (llen == 0)
      break; /* end of the header section */
    if (line[0] == ' ' || line[0] == '\t') {
      if (!name)
        goto bad;
      sg_buf_append(&val, line, llen);
      continue;
    }
    if (name)
      mime_field(c, name, nlen, val.data ? val.data : "", val.len);
    const char *colon = memchr(line, ':', llen);
    if (!colon || !sg_sbx_mime_field_name_ok(line, (size_t)(colon - line)))
      goto bad;
    name = line;
    nlen = (size_t)(colon - line);
    sg_buf_reset(&val);
    sg_buf_append(&val, colon + 1, llen - nlen - 1);
    fields++;
  }
  if (name)
    mime_field(c, name, nlen, val.data ? val.data : "", val.len);
  sg_buf_free(&val);
  return fields;
bad:
  sg_buf_free(&val);
  return -1;
}

int sg_sbx_mime_scan(const char *p, size_t n, sg_sbx_msg *m, char *bad, size_t badcap) {
  scan c = {m, bad, badcap};
  bad[0] = '\0';
  return mime_headers(&c, p, n) > 0 ? 0 : SG_ERR_PARSE;
}
