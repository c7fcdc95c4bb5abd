/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tree of a MIME message's parts turned into bodies and attachments; see
 * sg_mime_parse.h for the rules.
 */
#include "job/sg_mime_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/sg_addr.h"
#include "core/sg_err.h"
#include "core/sg_utf8.h"

int sg_mime__check_headers(sg_mime_ctx *c, GMimeObject *obj) {
  GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
  int n = hl ? g_mime_header_list_get_count(hl) : 0;
  if ((size_t)n > c->lim->max_headers)
    return sg_mime__fail(c, SG_JOBERR_MIME_HEADER_LIMIT, "a part has %d header fields; at most %zu",
                         n, c->lim->max_headers);
  for (int i = 0; i < n; i++) {
    GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
    const char *raw = g_mime_header_get_raw_value(h);
    size_t len = raw ? strlen(raw) : 0;
    if (len > c->lim->max_header_bytes)
      return sg_mime__fail(c, SG_JOBERR_MIME_HEADER_LIMIT,
                           "a header field is %zu bytes long; at most %zu", len,
                           c->lim->max_header_bytes);
  }
  return 0;
}

/* Writes |obj| (a data wrapper or a whole object) into a GLib array sized
 * |hint| up front, and returns its bytes with a NUL after them. */
static char *collect(sg_mime_ctx *c, GMimeDataWrapper *w, GMimeObject *obj, size_t hint,
                     size_t *len) {
  GByteArray *a = g_byte_array_sized_new((guint)(hint + 1));
  GMimeStream *dst = g_mime_stream_mem_new_with_byte_array(a);
  g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(dst), FALSE);
  ssize_t rv = w ? g_mime_data_wrapper_write_to_stream(w, dst)
                 : g_mime_object_write_to_stream(obj, NULL, dst);
  g_object_unref(dst);
  *len = a->len;
  g_byte_array_append(a, (const guint8 *)"", 1);
  char *p = sg_mime__own(c, g_byte_array_free(a, FALSE));
  if (rv < 0) {
    sg_mime__fail(c, SG_JOBERR_MIME_MALFORMED, "a part's content cannot be decoded");
    return NULL;
  }
  return p;
}

static bool encoding_known(GMimeObject *obj) {
  const char *cte = g_mime_object_get_header(obj, "Content-Transfer-Encoding");
  if (cte == NULL)
    return true;
  while (*cte == ' ' || *cte == '\t')
    cte++;
  return *cte == '\0' || g_mime_content_encoding_from_string(cte) != GMIME_CONTENT_ENCODING_DEFAULT;
}

/* The decoded content of a leaf part (NUL after it). NULL on failure. */
static char *decode(sg_mime_ctx *c, GMimePart *part, size_t *len) {
  if (!encoding_known(GMIME_OBJECT(part))) {
    sg_mime__fail(c, SG_JOBERR_MIME_ENCODING, "a part's Content-Transfer-Encoding is not known");
    return NULL;
  }
  GMimeDataWrapper *w = g_mime_part_get_content(part);
  if (w == NULL) {
    *len = 0;
    return sg_mime__own(c, g_strdup(""));
  }
  gint64 enc = g_mime_stream_length(g_mime_data_wrapper_get_stream(w));
  size_t hint = enc > 0 ? (size_t)enc : 0;
  if (g_mime_data_wrapper_get_encoding(w) == GMIME_CONTENT_ENCODING_BASE64)
    hint = hint / 4 * 3 + 3;
  return collect(c, w, NULL, hint, len);
}

static bool ascii_or_utf8(const char *cs) {
  return cs == NULL || g_ascii_strcasecmp(cs, "utf-8") == 0 ||
         g_ascii_strcasecmp(cs, "utf8") == 0 || g_ascii_strcasecmp(cs, "us-ascii") == 0 ||
         g_ascii_strcasecmp(cs, "ascii") == 0;
}

/* A text part's content as UTF-8 (NUL after it). NULL on failure. */
static char *text_utf8(sg_mime_ctx *c, GMimePart *part, size_t *len) {
  size_t n;
  char *raw = decode(c, part, &n);
  if (raw == NULL)
    return NULL;
  const char *cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
  char *u = raw;
  if (ascii_or_utf8(cs)) {
    if (!sg_utf8_valid(raw, n)) {
      sg_mime__fail(c, SG_JOBERR_MIME_CHARSET, "a text part is not valid %s",
                    cs ? cs : "US-ASCII (no charset given)");
      return NULL;
    }
  } else {
    const char *name = g_mime_charset_iconv_name(cs);
    GIConv cd = g_iconv_open("UTF-8", name);
    if (cd == (GIConv)-1) {
      sg_mime__fail(c, SG_JOBERR_MIME_CHARSET, "the charset %.64s of a text part is not known", cs);
      return NULL;
    }
    g_iconv_close(cd);
    gsize rd = 0, wr = 0;
    u = g_convert(raw, (gssize)n, "UTF-8", name, &rd, &wr, NULL);
    if (u == NULL) {
      sg_mime__fail(c, SG_JOBERR_MIME_CHARSET, "a text part is not valid %.64s", cs);
      return NULL;
    }
    sg_mime__own(c, u);
    n = wr;
  }
  if (memchr(u, '\0', n) != NULL) {
    sg_mime__fail(c, SG_JOBERR_NUL, "a text part contains a NUL byte");
    return NULL;
  }
  *len = n;
  return u;
}

/* A file name, display name or header value as the view carries it. */
int sg_mime__check_text(sg_mime_ctx *c, const char *s, const char *what) {
  if (!sg_utf8_valid(s, strlen(s)))
    return sg_mime__fail(c, SG_JOBERR_BAD_UTF8, "%s is not valid UTF-8", what);
  if (sg_has_ctl(s, strlen(s), true))
    return sg_mime__fail(c, SG_JOBERR_CONTROL_CHAR, "%s contains a control character", what);
  return 0;
}

static const char *extension(const char *mime_type) {
  static const char *const map[][2] = {
      {"application/pdf", ".pdf"}, {"image/png", ".png"},     {"image/jpeg", ".jpg"},
      {"image/gif", ".gif"},       {"text/plain", ".txt"},    {"text/html", ".html"},
      {"text/csv", ".csv"},        {"text/calendar", ".ics"}, {"message/rfc822", ".eml"},
  };
  for (size_t i = 0; i < SG_ARRAY_LEN(map); i++)
    if (g_ascii_strcasecmp(mime_type, map[i][0]) == 0)
      return map[i][1];
  return ".bin";
}

static sg_job_attachment *add_att(sg_mime_ctx *c, bool related) {
  if (c->n_atts == c->cap_atts) {
    c->cap_atts = c->cap_atts ? c->cap_atts * 2 : 4;
    c->out->atts = sg_xrealloc(c->out->atts, c->cap_atts * sizeof *c->out->atts);
    c->related = sg_xrealloc(c->related, c->cap_atts * sizeof *c->related);
  }
  c->related[c->n_atts] = related;
  sg_job_attachment *a = &c->out->atts[c->n_atts++];
  memset(a, 0, sizeof *a);
  a->name = a->content_type = a->content_id = "";
  return a;
}

/* Name, type and Content-ID of an attachment from its part. */
static int describe(sg_mime_ctx *c, sg_job_attachment *a, GMimeObject *obj, const char *fname) {
  char *type =
      sg_mime__own(c, g_mime_content_type_get_mime_type(g_mime_object_get_content_type(obj)));
  a->content_type = type;
  if (fname == NULL || fname[0] == '\0')
    fname = sg_mime__own(c, g_strdup_printf("attachment-%zu%s", c->n_atts, extension(type)));
  else
    fname = sg_mime__own(c, g_strdup(fname));
  a->name = fname;
  const char *cid = g_mime_object_get_content_id(obj);
  if (cid != NULL)
    a->content_id = sg_mime__own(c, g_strdup(cid));
  int rv;
  if ((rv = sg_mime__check_text(c, a->name, "an attachment's file name")) != 0 ||
      (rv = sg_mime__check_text(c, a->content_type, "an attachment's content type")) != 0 ||
      (rv = sg_mime__check_text(c, a->content_id, "an attachment's Content-ID")) != 0)
    return rv;
  return 0;
}

static int attach_message(sg_mime_ctx *c, GMimeMessagePart *mp, const char *parent) {
  GMimeObject *obj = GMIME_OBJECT(mp);
  GMimeMessage *m = g_mime_message_part_get_message(mp);
  sg_job_attachment *a = add_att(c, strcmp(parent, "related") == 0);
  int rv = describe(c, a, obj, g_mime_object_get_content_disposition_parameter(obj, "filename"));
  if (rv != 0)
    return rv;
  if (m == NULL) {
    a->content = (const uint8_t *)"";
    return 0;
  }
  size_t len;
  char *bytes = collect(c, NULL, GMIME_OBJECT(m), 4096, &len);
  if (bytes == NULL)
    return SG_ERR_INVAL;
  a->content = (const uint8_t *)bytes;
  a->content_len = len;
  return 0;
}

/* A text/plain or text/html part that is a body rather than an attachment. */
static bool body_candidate(GMimeObject *obj, const char **which) {
  GMimeContentType *ct = g_mime_object_get_content_type(obj);
  if (g_mime_content_type_is_type(ct, "text", "plain"))
    *which = "plain";
  else if (g_mime_content_type_is_type(ct, "text", "html"))
    *which = "html";
  else
    return false;
  GMimeContentDisposition *d = g_mime_object_get_content_disposition(obj);
  if (d != NULL && g_mime_content_disposition_is_attachment(d))
    return false;
  return g_mime_part_get_filename(GMIME_PART(obj)) == NULL;
}

static int leaf(sg_mime_ctx *c, GMimePart *part, const char *parent) {
  GMimeObject *obj = GMIME_OBJECT(part);
  GMimeContentType *ct = g_mime_object_get_content_type(obj);
  if (g_mime_content_type_is_type(ct, "application", "pkcs7-mime") ||
      g_mime_content_type_is_type(ct, "application", "x-pkcs7-mime")) {
    const char *st = g_mime_content_type_get_parameter(ct, "smime-type");
    bool signed_only = st && (g_ascii_strcasecmp(st, "signed-data") == 0 ||
                              g_ascii_strcasecmp(st, "certs-only") == 0);
    return signed_only
               ? sg_mime__fail(c, SG_JOBERR_MIME_SIGNED, "the message is S/MIME signed")
               : sg_mime__fail(c, SG_JOBERR_MIME_ENCRYPTED, "the message is S/MIME encrypted");
  }
  const char *which = NULL;
  if (body_candidate(obj, &which)) {
    bool plain = strcmp(which, "plain") == 0;
    char **slot = plain ? &c->text : &c->html;
    if (*slot == NULL) {
      size_t n;
      char *t = text_utf8(c, part, &n);
      if (t == NULL)
        return SG_ERR_INVAL;
      *slot = t;
      *(plain ? &c->text_len : &c->html_len) = n;
      return 0;
    }
  }
  sg_job_attachment *a = add_att(c, strcmp(parent, "related") == 0);
  int rv = describe(c, a, obj, g_mime_part_get_filename(part));
  if (rv != 0)
    return rv;
  size_t n;
  char *bytes = decode(c, part, &n);
  if (bytes == NULL)
    return SG_ERR_INVAL;
  a->content = (const uint8_t *)bytes;
  a->content_len = n;
  return 0;
}

/* Counts the parts of an attached message against the limits (they are not
 * taken apart: the message is one attachment). */
static int count_only(sg_mime_ctx *c, GMimeObject *obj, size_t depth) {
  if (depth > c->lim->max_depth)
    return sg_mime__fail(c, SG_JOBERR_MIME_TOO_DEEP, "parts are nested more than %zu deep",
                         c->lim->max_depth);
  if (++c->parts > c->lim->max_parts)
    return sg_mime__fail(c, SG_JOBERR_MIME_TOO_MANY_PARTS, "more than %zu parts",
                         c->lim->max_parts);
  int rv = sg_mime__check_headers(c, obj);
  if (rv != 0)
    return rv;
  if (GMIME_IS_MULTIPART(obj)) {
    GMimeMultipart *mp = GMIME_MULTIPART(obj);
    for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
      if ((rv = count_only(c, g_mime_multipart_get_part(mp, i), depth + 1)) != 0)
        return rv;
  } else if (GMIME_IS_MESSAGE_PART(obj)) {
    GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
    if (m != NULL) {
      if ((rv = sg_mime__check_headers(c, GMIME_OBJECT(m))) != 0)
        return rv;
      GMimeObject *body = g_mime_message_get_mime_part(m);
      if (body != NULL)
        return count_only(c, body, depth + 1);
    }
  }
  return 0;
}

int sg_mime__walk(sg_mime_ctx *c, GMimeObject *obj, size_t depth, const char *parent) {
  if (depth > c->lim->max_depth)
    return sg_mime__fail(c, SG_JOBERR_MIME_TOO_DEEP, "parts are nested more than %zu deep",
                         c->lim->max_depth);
  if (++c->parts > c->lim->max_parts)
    return sg_mime__fail(c, SG_JOBERR_MIME_TOO_MANY_PARTS, "more than %zu parts",
                         c->lim->max_parts);
  int rv = sg_mime__check_headers(c, obj);
  if (rv != 0)
    return rv;
  if (GMIME_IS_MULTIPART_ENCRYPTED(obj))
    return sg_mime__fail(c, SG_JOBERR_MIME_ENCRYPTED, "the message is encrypted");
  if (GMIME_IS_MULTIPART_SIGNED(obj))
    return sg_mime__fail(c, SG_JOBERR_MIME_SIGNED, "the message is signed");
  if (GMIME_IS_MULTIPART(obj)) {
    GMimeMultipart *mp = GMIME_MULTIPART(obj);
    const char *sub = g_mime_content_type_get_media_subtype(g_mime_object_get_content_type(obj));
    sub = sub && g_ascii_strcasecmp(sub, "related") == 0       ? "related"
          : sub && g_ascii_strcasecmp(sub, "alternative") == 0 ? "alternative"
                                                               : "mixed";
    for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
      if ((rv = sg_mime__walk(c, g_mime_multipart_get_part(mp, i), depth + 1, sub)) != 0)
        return rv;
    return 0;
  }
  if (GMIME_IS_MESSAGE_PART(obj)) {
    GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
    GMimeObject *body = m ? g_mime_message_get_mime_part(m) : NULL;
    if (m != NULL && (rv = sg_mime__check_headers(c, GMIME_OBJECT(m))) != 0)
      return rv;
    if (body != NULL && (rv = count_only(c, body, depth + 1)) != 0)
      return rv;
    return attach_message(c, GMIME_MESSAGE_PART(obj), parent);
  }
  if (GMIME_IS_PART(obj))
    return leaf(c, GMIME_PART(obj), parent);
  return sg_mime__fail(c, SG_JOBERR_MIME_MALFORMED, "a part of an unknown kind");
}

/* The Content-IDs |html| references as cid:<id> (the URL form of RFC 2392),
 * in one pass over it (the HTML may be megabytes, the parts hundreds). */
static GHashTable *cid_refs(const char *html) {
  GHashTable *refs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (const char *p = html; (p = strcasestr(p, "cid:")) != NULL;) {
    p += 4;
    size_t n = strcspn(p, "\"' >)\t\r\n");
    if (n > 0)
      g_hash_table_add(refs, g_strndup(p, n));
    p += n;
  }
  return refs;
}

void sg_mime__mark_inline(sg_mime_ctx *c) {
  GHashTable *refs = c->html != NULL && c->n_atts > 0 ? cid_refs(c->html) : NULL;
  for (size_t i = 0; i < c->n_atts; i++) {
    sg_job_attachment *a = &c->out->atts[i];
    a->is_inline = a->content_id[0] != '\0' &&
                   (c->related[i] || (refs != NULL && g_hash_table_contains(refs, a->content_id)));
  }
  if (refs != NULL)
    g_hash_table_destroy(refs);
}
