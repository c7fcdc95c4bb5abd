/* SPDX-License-Identifier: Apache-2.0 */
/* Structured job to MIME; see sg_mime_render.h. */
#include "job/sg_mime_render.h"

#include <openssl/sha.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/sg_base64.h"
#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_utf8.h"

/* RFC 5322 2.1.1: lines SHOULD be at most 78 octets. */
#define SOFT 78
/* RFC 2047 2: an encoded-word is at most 75 octets; "=?UTF-8?B?" "?=" take 12,
 * leaving 63 base64 characters: 45 bytes of text (whole UTF-8 sequences). */
#define EW_BYTES 45
/* RFC 2045 6.7: quoted-printable lines at most 76 octets. */
#define QP_LINE 76
/* RFC 2045 6.8: base64 lines at most 76 characters. */
#define B64_LINE 76

typedef struct ctx {
  sg_buf *out;
  size_t col; /* octets on the current header line */
  char *err;
  size_t errcap;
  char hash[65]; /* hex SHA-256 of the job id */
  int nbound;    /* boundaries made */
} ctx;

static bool has_ctl(const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return true;
  }
  return false;
}

static bool is_ascii(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s >= 0x80)
      return false;
  return true;
}

static void put(ctx *c, const char *s, size_t n) {
  sg_buf_append(c->out, s, n);
  c->col += n;
}

static void puts_(ctx *c, const char *s) {
  put(c, s, strlen(s));
}

static void crlf(ctx *c) {
  sg_buf_append(c->out, "\r\n", 2);
  c->col = 0;
}

/* Folds before a token of |n| octets when it would pass SOFT. */
static void fold_for(ctx *c, size_t n) {
  if (c->col > 1 && c->col + n > SOFT) {
    sg_buf_append(c->out, "\r\n", 2);
    c->col = 0;
  }
}

/* Encoded-words for |s|, each a separate token (folded between them). */
static void encoded_words(ctx *c, const char *s, bool first_space) {
  size_t n = strlen(s), i = 0;
  bool first = true;
  while (i < n) {
    /* A text that needs several words starts on the field's line when it
     * can (no fold right after "Name:"); one that fits in a single word is
     * never split (parsers differ on joining the parts of a phrase). */
    size_t max = EW_BYTES;
    if (first && n > EW_BYTES && c->col + 1 + 12 + 8 <= SOFT) {
      size_t room = SOFT - c->col - 1 - 12; /* base64 characters */
      max = room / 4 * 3 < EW_BYTES ? room / 4 * 3 : EW_BYTES;
    }
    size_t take = 0;
    while (i + take < n) {
      size_t l = sg_utf8_seq((const unsigned char *)s + i + take, n - i - take);
      if (l == 0)
        l = 1; /* invalid UTF-8: carried as a byte (B encoding takes any) */
      if (take + l > max)
        break;
      take += l;
    }
    sg_buf w = SG_BUF_INIT;
    sg_buf_append_str(&w, "=?UTF-8?B?");
    sg_base64_encode(&w, s + i, take);
    sg_buf_append_str(&w, "?=");
    if (!first || first_space) {
      if (!first || c->col + 1 + w.len > SOFT)
        fold_for(c, w.len + 1);
      put(c, " ", 1);
    }
    put(c, w.data, w.len);
    sg_buf_free(&w);
    first = false;
    i += take;
  }
}

/* An unstructured value (Subject, X- headers), after "Name:". */
static void unstructured(ctx *c, const char *v) {
  bool plain = is_ascii(v) && !strstr(v, "=?");
  /* Words over a line cannot be folded: encode them instead. */
  for (const char *p = v; plain && *p;) {
    size_t w = strcspn(p, " \t");
    if (w > SOFT - 2)
      plain = false;
    p += w;
    p += strspn(p, " \t");
  }
  if (!plain) {
    encoded_words(c, v, true);
    return;
  }
  put(c, " ", 1);
  const char *p = v;
  while (*p) {
    size_t sp = strspn(p, " \t");
    size_t w = strcspn(p + sp, " \t");
    if (c->col > 1 && c->col + sp + w > SOFT && sp > 0) {
      crlf(c); /* the whitespace starts the continuation line */
    }
    put(c, p, sp + w);
    p += sp + w;
  }
}

/* A display name as a quoted-string or encoded-words, after a space. */
static void phrase(ctx *c, const char *name) {
  /* A quoted-string cannot be folded: long names go as encoded-words too. */
  if (!is_ascii(name) || strstr(name, "=?") || strlen(name) > 60) {
    encoded_words(c, name, true);
    return;
  }
  sg_buf q = SG_BUF_INIT;
  sg_buf_append_char(&q, ' ');
  sg_buf_append_char(&q, '"');
  for (const char *p = name; *p; p++) {
    if (*p == '"' || *p == '\\')
      sg_buf_append_char(&q, '\\');
    sg_buf_append_char(&q, *p);
  }
  sg_buf_append_char(&q, '"');
  fold_for(c, q.len);
  put(c, q.data, q.len);
  sg_buf_free(&q);
}

static int check_addr(ctx *c, const sg_job_addr *a, const char *field) {
  if (!a->address[0] || has_ctl(a->address) || strpbrk(a->address, "<>\" ,") || has_ctl(a->name)) {
    snprintf(c->err, c->errcap, "%s: an address or name with characters a header cannot carry",
             field);
    return SG_ERR_INVAL;
  }
  return 0;
}

static int address_field(ctx *c, const char *field, const sg_job_addr *v, size_t n) {
  if (n == 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (check_addr(c, &v[i], field) != 0)
      return SG_ERR_INVAL;
  puts_(c, field);
  puts_(c, ":");
  for (size_t i = 0; i < n; i++) {
    size_t al = strlen(v[i].address) + 2;
    if (v[i].name[0]) {
      phrase(c, v[i].name);
      fold_for(c, al + 2);
      put(c, " <", 2);
    } else {
      fold_for(c, al + 1);
      put(c, " <", 2);
    }
    puts_(c, v[i].address);
    put(c, ">", 1);
    if (i + 1 < n)
      put(c, ",", 1);
  }
  crlf(c);
  return 0;
}

static bool field_name_ok(const char *n) {
  if (strncasecmp(n, "X-", 2) != 0 || !n[2])
    return false;
  for (const char *p = n; *p; p++)
    if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == ':')
      return false;
  return strlen(n) < 70;
}

/* ---- bodies ---- */

static void qp_soft_break(sg_buf *o, size_t *col) {
  sg_buf_append(o, "=\r\n", 3);
  *col = 0;
}

/* Quoted-printable of |s| (text: LF or CRLF are line breaks, made CRLF). */
static void qp(sg_buf *o, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  size_t col = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    unsigned char ch = *p;
    if (ch == '\r' && p[1] == '\n')
      continue;
    if (ch == '\n' || ch == '\r') {
      sg_buf_append(o, "\r\n", 2);
      col = 0;
      continue;
    }
    bool eol = p[1] == '\0' || p[1] == '\n' || (p[1] == '\r');
    bool lit = (ch >= 33 && ch <= 126 && ch != '=') || ((ch == ' ' || ch == '\t') && !eol);
    /* A dot alone at a line start survives SMTP, but some relays mangle a
     * leading "From " or dot; encoding them costs nothing. */
    if (col == 0 && (ch == '.' || (ch == 'F' && strncmp((const char *)p, "From ", 5) == 0)))
      lit = false;
    size_t need = lit ? 1 : 3;
    if (col + need > QP_LINE - 1)
      qp_soft_break(o, &col);
    if (lit) {
      sg_buf_append_char(o, (char)ch);
    } else {
      char e[3] = {'=', hex[ch >> 4], hex[ch & 15]};
      sg_buf_append(o, e, 3);
    }
    col += need;
  }
  sg_buf_append(o, "\r\n", 2);
}

static void b64_body(sg_buf *o, const uint8_t *p, size_t n) {
  sg_buf tmp = SG_BUF_INIT;
  sg_base64_encode(&tmp, p, n);
  for (size_t i = 0; i < tmp.len; i += B64_LINE) {
    size_t l = tmp.len - i < B64_LINE ? tmp.len - i : B64_LINE;
    sg_buf_append(o, tmp.data + i, l);
    sg_buf_append(o, "\r\n", 2);
  }
  sg_buf_free(&tmp);
}

static void text_part(ctx *c, const char *subtype, const char *body) {
  sg_buf_printf(c->out,
                "Content-Type: text/%s; charset=utf-8\r\n"
                "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                subtype);
  qp(c->out, body);
}

/* ---- multipart ---- */

static void boundary(ctx *c, char out[40]) {
  snprintf(out, 40, "=_sg%.24s_%d", c->hash, c->nbound++);
}

static void open_multi(ctx *c, const char *subtype, const char *b) {
  sg_buf_printf(c->out, "Content-Type: multipart/%s;\r\n boundary=\"%s\"\r\n\r\n", subtype, b);
}

static void part_sep(ctx *c, const char *b) {
  sg_buf_printf(c->out, "--%s\r\n", b);
}

static void close_multi(ctx *c, const char *b) {
  sg_buf_printf(c->out, "--%s--\r\n", b);
}

static bool token_char(char ch) {
  return (unsigned char)ch > 0x20 && (unsigned char)ch < 0x7f && !strchr("()<>@,;:\\\"/[]?=", ch);
}

static bool content_type_ok(const char *t) {
  const char *slash = strchr(t, '/');
  if (!slash || slash == t || !slash[1])
    return false;
  for (const char *p = t; *p; p++)
    if (p != slash && !token_char(*p))
      return false;
  return true;
}

/* A parameter ("name", "filename"): quoted when ASCII and short, else
 * RFC 2231 percent-encoded UTF-8, in continuations of about 60 octets. */
static void param(ctx *c, const char *key, const char *v) {
  bool simple = is_ascii(v) && strlen(v) + strlen(key) < 60;
  if (simple) {
    sg_buf_printf(c->out, ";\r\n %s=\"", key);
    for (const char *p = v; *p; p++) {
      if (*p == '"' || *p == '\\')
        sg_buf_append_char(c->out, '\\');
      sg_buf_append_char(c->out, *p);
    }
    sg_buf_append_char(c->out, '"');
    return;
  }
  static const char hex[] = "0123456789ABCDEF";
  sg_buf enc = SG_BUF_INIT;
  for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
    if (token_char((char)*p) && *p != '%' && *p != '*' && *p != '\'')
      sg_buf_append_char(&enc, (char)*p);
    else
      sg_buf_printf(&enc, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
  }
  size_t i = 0;
  int k = 0;
  while (i < enc.len) {
    size_t l = enc.len - i < 54 ? enc.len - i : 54;
    /* never split a %XX triple */
    if (i + l < enc.len && l >= 2 && enc.data[i + l - 1] == '%')
      l -= 1;
    else if (i + l < enc.len && l >= 2 && enc.data[i + l - 2] == '%')
      l -= 2;
    sg_buf_printf(c->out, ";\r\n %s*%d*=%s", key, k, k == 0 ? "UTF-8''" : "");
    sg_buf_append(c->out, enc.data + i, l);
    i += l;
    k++;
  }
  sg_buf_free(&enc);
}

static int attachment(ctx *c, const sg_job_attachment *a, bool inline_part) {
  const char *type = a->content_type[0] ? a->content_type : "application/octet-stream";
  if (!content_type_ok(type) || has_ctl(a->name) || has_ctl(a->content_id) ||
      strpbrk(a->content_id, "<> ")) {
    snprintf(c->err, c->errcap, "attachment %s: bad content type, name or content id", a->name);
    return SG_ERR_INVAL;
  }
  sg_buf_printf(c->out, "Content-Type: %s", type);
  if (a->name[0])
    param(c, "name", a->name);
  sg_buf_append_str(c->out, "\r\n");
  sg_buf_append_str(c->out, "Content-Transfer-Encoding: base64\r\n");
  if (a->content_id[0])
    sg_buf_printf(c->out, "Content-ID: <%s>\r\n", a->content_id);
  sg_buf_append_str(c->out, inline_part ? "Content-Disposition: inline"
                                        : "Content-Disposition: attachment");
  if (a->name[0])
    param(c, "filename", a->name);
  sg_buf_append_str(c->out, "\r\n\r\n");
  b64_body(c->out, a->content, a->content_len);
  return 0;
}

static bool is_related(const sg_job_attachment *a) {
  return a->is_inline && a->content_id[0];
}

/* The html part, wrapped with its inline parts in multipart/related. */
static int html_related(ctx *c, const sg_job *j, size_t n_inline) {
  if (n_inline == 0) {
    text_part(c, "html", j->html_body);
    return 0;
  }
  char b[40];
  boundary(c, b);
  open_multi(c, "related", b);
  part_sep(c, b);
  text_part(c, "html", j->html_body);
  for (size_t i = 0; i < j->n_attachments; i++) {
    if (!is_related(&j->attachments[i]))
      continue;
    part_sep(c, b);
    int rv = attachment(c, &j->attachments[i], true);
    if (rv)
      return rv;
  }
  close_multi(c, b);
  return 0;
}

/* The readable body: text, html (with its inline parts) or both. */
static int body(ctx *c, const sg_job *j, size_t n_inline) {
  bool text = j->text_body[0] != '\0', html = j->html_body[0] != '\0';
  if (!html) {
    text_part(c, "plain", j->text_body);
    return 0;
  }
  if (!text)
    return html_related(c, j, n_inline);
  char b[40];
  boundary(c, b);
  open_multi(c, "alternative", b);
  part_sep(c, b);
  text_part(c, "plain", j->text_body);
  part_sep(c, b);
  int rv = html_related(c, j, n_inline);
  if (rv)
    return rv;
  close_multi(c, b);
  return 0;
}

static int headers(ctx *c, const sg_job *j, const sg_mime_render_opts *o) {
  sg_job_addr from = {j->sender, ""};
  int rv = address_field(c, "From", &from, 1);
  if (rv == 0)
    rv = address_field(c, "To", j->to, j->n_to);
  if (rv == 0)
    rv = address_field(c, "Cc", j->cc, j->n_cc);
  if (rv == 0)
    rv = address_field(c, "Reply-To", j->reply_to, j->n_reply_to);
  if (rv)
    return rv;
  if (has_ctl(j->subject)) {
    snprintf(c->err, c->errcap, "subject: control characters");
    return SG_ERR_INVAL;
  }
  puts_(c, "Subject:");
  unstructured(c, j->subject);
  crlf(c);
  char date[32];
  sg_time_imf(o->date_unix_ms / 1000, date);
  sg_buf_printf(c->out, "Date: %s\r\n", date);
  const char *dom = o->msgid_domain && o->msgid_domain[0] ? o->msgid_domain : NULL;
  if (!dom) {
    const char *at = strrchr(j->sender, '@');
    dom = at && at[1] ? at + 1 : "sendgate.invalid";
  }
  sg_buf_printf(c->out, "Message-ID: <%.32s@%s>\r\nMIME-Version: 1.0\r\n", c->hash, dom);
  for (size_t i = 0; i < j->n_headers; i++) {
    const sg_job_header *h = &j->headers[i];
    if (!field_name_ok(h->name) || has_ctl(h->value)) {
      snprintf(c->err, c->errcap, "header %zu: not an X- field, or control characters", i + 1);
      return SG_ERR_INVAL;
    }
    c->col = 0;
    puts_(c, h->name);
    puts_(c, ":");
    unstructured(c, h->value);
    crlf(c);
  }
  return 0;
}

int sg_mime_render(const sg_job *j, const sg_mime_render_opts *o, sg_buf *out, char *err,
                   size_t errcap) {
  if (j->mime_len > 0) {
    snprintf(err, errcap, "a MIME job is sent as it is");
    return SG_ERR_INVAL;
  }
  if (!j->sender[0]) {
    snprintf(err, errcap, "no sender");
    return SG_ERR_INVAL;
  }
  ctx c = {out, 0, err, errcap, "", 0};
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)j->id, strlen(j->id), md);
  for (int i = 0; i < 32; i++)
    snprintf(c.hash + 2 * i, 3, "%02x", md[i]);
  size_t start = out->len;
  int rv = headers(&c, j, o);
  size_t n_inline = 0, n_att = 0;
  bool html = j->html_body[0] != '\0';
  for (size_t i = 0; i < j->n_attachments; i++) {
    if (html && is_related(&j->attachments[i]))
      n_inline++;
    else
      n_att++;
  }
  if (rv == 0 && n_att == 0) {
    rv = body(&c, j, n_inline);
  } else if (rv == 0) {
    char b[40];
    boundary(&c, b);
    open_multi(&c, "mixed", b);
    part_sep(&c, b);
    rv = body(&c, j, n_inline);
    for (size_t i = 0; rv == 0 && i < j->n_attachments; i++) {
      const sg_job_attachment *a = &j->attachments[i];
      if (html && is_related(a))
        continue;
      part_sep(&c, b);
      rv = attachment(&c, a, a->is_inline);
    }
    if (rv == 0)
      close_multi(&c, b);
  }
  if (rv != 0) {
    out->len = start;
    if (out->data)
      out->data[start] = '\0';
  }
  return rv;
}
