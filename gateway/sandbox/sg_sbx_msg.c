/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The accepted-message record, its message key (SHA-256), its JSON line, and
 * the shared address syntax check and verdict helpers. Pure; see sg_sbx_msg.h.
 */
#include "sandbox/sg_sbx_msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "core/sg_json_write.h"

void sg_sbx_msg_init(sg_sbx_msg *m) {
  memset(m, 0, sizeof *m);
  m->save_to_sent_items = true;
}

static void free_list(sg_sbx_addr_list *l) {
  for (size_t i = 0; i < l->n; i++) {
    sg_free(l->v[i].address);
    sg_free(l->v[i].name);
  }
  sg_free(l->v);
}

void sg_sbx_msg_free(sg_sbx_msg *m) {
  sg_free(m->mailbox);
  sg_free(m->from);
  free_list(&m->to);
  free_list(&m->cc);
  free_list(&m->bcc);
  free_list(&m->reply_to);
  sg_free(m->subject);
  for (size_t i = 0; i < m->n_atts; i++) {
    sg_free(m->atts[i].name);
    sg_free(m->atts[i].content_type);
    sg_free(m->atts[i].content_id);
  }
  sg_free(m->atts);
  for (size_t i = 0; i < m->n_hdrs; i++) {
    sg_free(m->hdrs[i].name);
    sg_free(m->hdrs[i].value);
  }
  sg_free(m->hdrs);
  sg_sbx_msg_init(m);
}

/*
 * Makes room for element |n| of an array holding |n| elements of |size|.
 * Capacity is implicit: 4, then doubling at each power of two, so growth stays
 * linear (a body about to be refused can hold 100k+ addresses or headers).
 */
static void *grow(void *p, size_t n, size_t size) {
  if (n == 0 || (n >= 4 && (n & (n - 1)) == 0))
    p = sg_xrealloc(p, (n ? 2 * n : 4) * size);
  return p;
}

void sg_sbx_addr_list_add(sg_sbx_addr_list *l, const char *address, const char *name) {
  l->v = grow(l->v, l->n, sizeof *l->v);
  sg_sbx_addr *a = &l->v[l->n++];
  a->address = sg_xstrdup(address);
  a->name = name ? sg_xstrdup(name) : NULL;
  const char *at = strrchr(a->address, '@');
  a->domain = at ? at + 1 : a->address + strlen(a->address);
}

void sg_sbx_msg_add_hdr(sg_sbx_msg *m, const char *name, const char *value) {
  m->hdrs = grow(m->hdrs, m->n_hdrs, sizeof *m->hdrs);
  m->hdrs[m->n_hdrs].name = sg_xstrdup(name);
  m->hdrs[m->n_hdrs].value = sg_xstrdup(value);
  m->n_hdrs++;
}

sg_sbx_att *sg_sbx_msg_add_att(sg_sbx_msg *m, const char *name, const char *content_type,
                               const char *content_id, bool is_inline, size_t size) {
  m->atts = grow(m->atts, m->n_atts, sizeof *m->atts);
  sg_sbx_att *a = &m->atts[m->n_atts++];
  a->name = sg_xstrdup(name);
  a->content_type = content_type ? sg_xstrdup(content_type) : NULL;
  a->content_id = content_id ? sg_xstrdup(content_id) : NULL;
  a->is_inline = is_inline;
  a->size = size;
  a->sha256[0] = '\0';
  return a;
}

void sg_sbx_hex32(const unsigned char md[32], char out[65]) {
  static const char hex[] = "0123456789abcdef";
  for (unsigned i = 0; i < 32; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  out[64] = '\0';
}

void sg_sbx_sha256_hex(const void *p, size_t n, char out[65]) {
  unsigned char md[32];
  SHA256(p, n, md);
  sg_sbx_hex32(md, out);
}

void sg_sbx_msg_set_key(sg_sbx_msg *m, const char *body, size_t len) {
  static const char hex[] = "0123456789abcdef";
  const char *mb = m->mailbox ? m->mailbox : "";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  /* SHA-256 cannot fail short of OOM in OpenSSL's default provider; treat any
   * failure like OOM (our policy) rather than write a wrong key. */
  if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
      !EVP_DigestUpdate(ctx, m->api, strlen(m->api) + 1) ||
      !EVP_DigestUpdate(ctx, mb, strlen(mb) + 1) || !EVP_DigestUpdate(ctx, body, len) ||
      !EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 32) {
    fprintf(stderr, "sg_sbx_msg_set_key: SHA-256 failed\n");
    abort();
  }
  EVP_MD_CTX_free(ctx);
  memcpy(m->key_bin, md, 32);
  for (unsigned i = 0; i < 32; i++) {
    m->key[2 * i] = hex[md[i] >> 4];
    m->key[2 * i + 1] = hex[md[i] & 15];
  }
  m->key[64] = '\0';
}

static bool list_has_domain(const sg_sbx_addr_list *l, const char *domain) {
  for (size_t i = 0; i < l->n; i++)
    if (strcasecmp(l->v[i].domain, domain) == 0)
      return true;
  return false;
}

bool sg_sbx_msg_has_domain(const sg_sbx_msg *m, const char *domain) {
  return list_has_domain(&m->to, domain) || list_has_domain(&m->cc, domain) ||
         list_has_domain(&m->bcc, domain);
}

/* ---- JSON line ---- */

static void jw_opt(sg_buf *b, const char *s) {
  if (s)
    sg_jw_cstr(b, s);
  else
    sg_buf_append_str(b, "null");
}

static void jw_list(sg_buf *b, const char *key, const sg_sbx_addr_list *l) {
  sg_buf_append_char(b, ',');
  sg_jw_key(b, key);
  sg_buf_append_char(b, '[');
  for (size_t i = 0; i < l->n; i++) {
    if (i)
      sg_buf_append_char(b, ',');
    sg_buf_append_str(b, "{\"address\":");
    sg_jw_cstr(b, l->v[i].address);
    sg_buf_append_str(b, ",\"name\":");
    jw_opt(b, l->v[i].name);
    sg_buf_append_char(b, '}');
  }
  sg_buf_append_char(b, ']');
}

/* Appends the distinct lowercase domains of |l| not yet in |seen|. */
static void jw_domains(sg_buf *b, const sg_sbx_addr_list *l, sg_buf *seen, size_t *count) {
  for (size_t i = 0; i < l->n; i++) {
    char low[256];
    size_t n = 0;
    for (const char *p = l->v[i].domain; *p && n + 1 < sizeof low; p++)
      low[n++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
    low[n] = '\0';
    /* |seen| holds "\ndomain\n" entries; domains never contain '\n'. */
    char probe[260];
    snprintf(probe, sizeof probe, "\n%s\n", low);
    if (seen->data && strstr(seen->data, probe))
      continue;
    sg_buf_append_str(seen, probe);
    if ((*count)++)
      sg_buf_append_char(b, ',');
    sg_jw_cstr(b, low);
  }
}

static const char *body_kind_name(sg_sbx_body_kind k) {
  switch (k) {
  case SG_SBX_BODY_TEXT:
    return "text";
  case SG_SBX_BODY_HTML:
    return "html";
  case SG_SBX_BODY_BOTH:
    return "text+html";
  case SG_SBX_BODY_MIME:
    return "mime";
  case SG_SBX_BODY_NONE:
    break;
  }
  return "none";
}

void sg_sbx_msg_to_json(const sg_sbx_msg *m, sg_buf *out) {
  sg_buf_append_str(out, "{\"api\":");
  jw_opt(out, m->api);
  sg_buf_append_str(out, ",\"key\":");
  sg_jw_cstr(out, m->key);
  sg_buf_append_str(out, ",\"mailbox\":");
  jw_opt(out, m->mailbox);
  sg_buf_append_str(out, ",\"from\":");
  jw_opt(out, m->from);
  jw_list(out, "to", &m->to);
  jw_list(out, "cc", &m->cc);
  jw_list(out, "bcc", &m->bcc);
  jw_list(out, "reply_to", &m->reply_to);
  sg_buf_append_str(out, ",\"recipients\":");
  sg_jw_int(out, (int64_t)m->recipient_count);
  sg_buf_append_str(out, ",\"domains\":[");
  sg_buf seen = SG_BUF_INIT;
  size_t nd = 0;
  jw_domains(out, &m->to, &seen, &nd);
  jw_domains(out, &m->cc, &seen, &nd);
  jw_domains(out, &m->bcc, &seen, &nd);
  sg_buf_free(&seen);
  sg_buf_append_str(out, "],\"subject\":");
  jw_opt(out, m->subject);
  sg_buf_append_str(out, ",\"body_kind\":");
  sg_jw_cstr(out, body_kind_name(m->body_kind));
  sg_buf_append_str(out, ",\"body_len\":");
  sg_jw_int(out, (int64_t)m->body_len);
  sg_buf_append_str(out, ",\"mime\":");
  sg_jw_bool(out, m->mime);
  sg_buf_append_str(out, ",\"save_to_sent_items\":");
  sg_jw_bool(out, m->save_to_sent_items);
  sg_buf_append_str(out, ",\"tracking_disabled\":");
  sg_jw_bool(out, m->tracking_disabled);
  sg_buf_append_str(out, ",\"attachments\":[");
  for (size_t i = 0; i < m->n_atts; i++) {
    const sg_sbx_att *a = &m->atts[i];
    sg_buf_append_str(out, i ? ",{\"name\":" : "{\"name\":");
    sg_jw_cstr(out, a->name);
    sg_buf_append_str(out, ",\"content_type\":");
    jw_opt(out, a->content_type);
    sg_buf_append_str(out, ",\"content_id\":");
    jw_opt(out, a->content_id);
    sg_buf_append_str(out, ",\"inline\":");
    sg_jw_bool(out, a->is_inline);
    sg_buf_append_str(out, ",\"size\":");
    sg_jw_int(out, (int64_t)a->size);
    if (a->sha256[0]) {
      sg_buf_append_str(out, ",\"sha256\":");
      sg_jw_cstr(out, a->sha256);
    }
    sg_buf_append_char(out, '}');
  }
  sg_buf_append_str(out, "],\"headers\":[");
  for (size_t i = 0; i < m->n_hdrs; i++) {
    sg_buf_append_str(out, i ? ",{\"name\":" : "{\"name\":");
    sg_jw_cstr(out, m->hdrs[i].name);
    sg_buf_append_str(out, ",\"value\":");
    sg_jw_cstr(out, m->hdrs[i].value);
    sg_buf_append_char(out, '}');
  }
  sg_buf_append_str(out, "]}");
}

/* ---- address syntax ---- */

static bool is_atext(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool is_ldh(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

static bool local_valid(const char *s, size_t n) {
  if (n < 1 || n > 64 || s[0] == '.' || s[n - 1] == '.')
    return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '.') {
      if (s[i + 1] == '.')
        return false;
    } else if (!is_atext(c)) {
      return false;
    }
  }
  return true;
}

static bool domain_valid(const char *s, size_t n) {
  size_t labels = 0, start = 0;
  bool all_digits = true;
  for (size_t i = 0; i <= n; i++) {
    if (i == n || s[i] == '.') {
      size_t len = i - start;
      if (len < 1 || len > 63 || s[start] == '-' || s[i - 1] == '-')
        return false;
      labels++;
      if (i == n && all_digits)
        return false;
      start = i + 1;
      all_digits = true;
      continue;
    }
    unsigned char c = (unsigned char)s[i];
    if (!is_ldh(c))
      return false;
    if (c < '0' || c > '9')
      all_digits = false;
  }
  return labels >= 2;
}

bool sg_sbx_addr_valid(const char *s, size_t n) {
  if (!s || n < 3 || n > 254)
    return false;
  const char *at = memchr(s, '@', n);
  if (!at || memchr(at + 1, '@', n - (size_t)(at - s) - 1))
    return false;
  size_t ln = (size_t)(at - s);
  return local_valid(s, ln) && domain_valid(at + 1, n - ln - 1);
}

/* ---- JSON member names ---- */

const char *sg_sbx_json_bad_key(const sg_json *obj, const char *const *names, bool *dup) {
  uint32_t seen = 0;
  *dup = false;
  for (const sg_json *m = obj->child; m; m = m->next) {
    unsigned i = 0;
    while (names[i] && (strlen(names[i]) != m->key_len || memcmp(names[i], m->key, m->key_len)))
      i++;
    if (!names[i] || i >= 32)
      return m->key;
    if (seen & (1u << i)) {
      *dup = true;
      return m->key;
    }
    seen |= 1u << i;
  }
  return NULL;
}

/* ---- verdicts ---- */

void sg_sbx_verdict_set(sg_sbx_verdict *v, int status, const char *code, const char *fmt, ...) {
  va_list ap;
  v->status = status;
  v->code = code;
  v->no_inner = false;
  va_start(ap, fmt);
  vsnprintf(v->message, sizeof v->message, fmt, ap);
  va_end(ap);
}

void sg_sbx_verdict_ok(sg_sbx_verdict *v) {
  v->status = 0;
  v->code = "";
  v->message[0] = '\0';
  v->no_inner = false;
}
