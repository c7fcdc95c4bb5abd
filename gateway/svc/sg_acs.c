/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACS Email request building; see sg_acs.h. One emitter walks the job for
 * both building and sizing, so the size cannot drift from the bytes written:
 * in sizing mode every write only adds its length. Members are written in
 * the order Microsoft's JavaScript client serializes them (headers,
 * senderAddress, content, recipients, attachments, replyTo,
 * userEngagementTrackingDisabled), so for the same message the two bodies
 * can be compared byte for byte.
 */
#include "svc/sg_acs.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>
#include <strings.h>

#include "core/sg_base64.h"
#include "core/sg_err.h"
#include "core/sg_json_write.h"
#include "json/sg_json_emit.h"

static bool nonempty(const char *s) {
  return s != NULL && s[0] != '\0';
}

/* Writes a comma before every member but the first of the current object, then the key. */
static void member(sg_jemit *e, bool *first, const char *key_colon) {
  if (!*first)
    sg_jemit_raw(e, ",");
  *first = false;
  sg_jemit_raw(e, key_colon);
}

static void addr_list(sg_jemit *e, const sg_job_addr *v, size_t n) {
  sg_jemit_raw(e, "[");
  for (size_t i = 0; i < n; i++) {
    sg_jemit_raw(e, i ? ",{\"address\":" : "{\"address\":");
    sg_jemit_str(e, v[i].address);
    if (nonempty(v[i].name)) {
      sg_jemit_raw(e, ",\"displayName\":");
      sg_jemit_str(e, v[i].name);
    }
    sg_jemit_raw(e, "}");
  }
  sg_jemit_raw(e, "]");
}

/* True when header |i| repeats an earlier name (the first one wins). */
static bool header_repeats(const sg_job *job, size_t i) {
  for (size_t k = 0; k < i; k++)
    if (strcasecmp(job->headers[k].name, job->headers[i].name) == 0)
      return true;
  return false;
}

static void headers(sg_jemit *e, const sg_job *job, bool *first) {
  if (job->n_headers == 0)
    return;
  member(e, first, "\"headers\":{");
  bool hfirst = true;
  for (size_t i = 0; i < job->n_headers; i++) {
    if (header_repeats(job, i))
      continue;
    if (!hfirst)
      sg_jemit_raw(e, ",");
    hfirst = false;
    sg_jemit_str(e, job->headers[i].name);
    sg_jemit_raw(e, ":");
    sg_jemit_str(e, job->headers[i].value);
  }
  sg_jemit_raw(e, "}");
}

static void content(sg_jemit *e, const sg_job *job, bool *first) {
  member(e, first, "\"content\":{\"subject\":");
  sg_jemit_str(e, job->subject);
  if (nonempty(job->text_body)) {
    sg_jemit_raw(e, ",\"plainText\":");
    sg_jemit_strn(e, job->text_body, sg_job_text_len(job));
  }
  if (nonempty(job->html_body)) {
    sg_jemit_raw(e, ",\"html\":");
    sg_jemit_strn(e, job->html_body, sg_job_html_len(job));
  }
  sg_jemit_raw(e, "}");
}

static void recipients(sg_jemit *e, const sg_job *job, bool *first) {
  member(e, first, "\"recipients\":{");
  bool rfirst = true;
  const struct {
    const char *key;
    const sg_job_addr *v;
    size_t n;
  } lists[] = {{"\"to\":", job->to, job->n_to},
               {"\"cc\":", job->cc, job->n_cc},
               {"\"bcc\":", job->bcc, job->n_bcc}};
  for (size_t i = 0; i < SG_ARRAY_LEN(lists); i++) {
    /* "to" is required by the schema: written even when empty, so the
     * service answers with its own error rather than a missing member. */
    if (lists[i].n == 0 && i > 0)
      continue;
    member(e, &rfirst, lists[i].key);
    addr_list(e, lists[i].v, lists[i].n);
  }
  sg_jemit_raw(e, "}");
}

static void attachments(sg_jemit *e, const sg_job *job, bool content_id, bool *first) {
  if (job->n_attachments == 0)
    return;
  member(e, first, "\"attachments\":[");
  for (size_t i = 0; i < job->n_attachments; i++) {
    const sg_job_attachment *a = &job->attachments[i];
    sg_jemit_raw(e, i ? ",{\"name\":" : "{\"name\":");
    sg_jemit_str(e, a->name);
    sg_jemit_raw(e, ",\"contentType\":");
    sg_jemit_str(e, nonempty(a->content_type) ? a->content_type : SG_ACS_DEFAULT_ATTACHMENT_TYPE);
    sg_jemit_raw(e, ",\"contentInBase64\":\"");
    sg_jemit_b64(e, a->content, a->content_len);
    sg_jemit_raw(e, "\"");
    if (content_id && a->is_inline && nonempty(a->content_id)) {
      sg_jemit_raw(e, ",\"contentId\":");
      sg_jemit_str(e, a->content_id);
    }
    sg_jemit_raw(e, "}");
  }
  sg_jemit_raw(e, "]");
}

static void walk(sg_jemit *e, const sg_job *job, bool content_id, const sg_acs_build_opts *opts) {
  bool first = true;
  sg_jemit_raw(e, "{");
  headers(e, job, &first);
  member(e, &first, "\"senderAddress\":");
  sg_jemit_str(e, job->sender);
  content(e, job, &first);
  recipients(e, job, &first);
  attachments(e, job, content_id, &first);
  if (job->n_reply_to > 0) {
    member(e, &first, "\"replyTo\":");
    addr_list(e, job->reply_to, job->n_reply_to);
  }
  if (opts != NULL && opts->user_engagement_tracking_disabled)
    member(e, &first, "\"userEngagementTrackingDisabled\":true");
  sg_jemit_raw(e, "}");
}

bool sg_acs_has_content_id(const char *api_version) {
  /* Versions are "YYYY-MM-DD[-preview]": the date compares as a string. */
  static const size_t date_len = sizeof SG_ACS_CONTENT_ID_API_VERSION - 1;
  if (api_version == NULL || strlen(api_version) < date_len)
    return false;
  return strncmp(api_version, SG_ACS_CONTENT_ID_API_VERSION, date_len) >= 0;
}

int sg_acs_build(const sg_job *job, const char *api_version, const sg_acs_build_opts *opts,
                 sg_buf *body) {
  if (job == NULL || api_version == NULL || body == NULL)
    return SG_ERR_INVAL;
  sg_jemit e = {body, 0};
  sg_buf_reserve(body, sg_acs_request_size(job, api_version, opts));
  walk(&e, job, sg_acs_has_content_id(api_version), opts);
  return 0;
}

size_t sg_acs_request_size(const sg_job *job, const char *api_version,
                           const sg_acs_build_opts *opts) {
  sg_jemit e = {NULL, 0};
  if (job != NULL && api_version != NULL)
    walk(&e, job, sg_acs_has_content_id(api_version), opts);
  return e.n;
}

/* --- Operation-Id and other UUIDs --- */

/* The sendgate namespace for name-based Operation-Ids. A fixed random UUID:
 * changing it would give every queued job a new Operation-Id. */
static const unsigned char op_namespace[16] = {0x6b, 0x1d, 0x5e, 0x0c, 0x3a, 0x9f, 0x4b, 0x21,
                                               0x8e, 0x47, 0xd2, 0x35, 0x70, 0xc4, 0x19, 0xab};

static void uuid_format(const unsigned char u[16], char out[SG_ACS_UUID_LEN]) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (size_t i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out[o++] = '-';
    out[o++] = hex[u[i] >> 4];
    out[o++] = hex[u[i] & 15];
  }
  out[o] = '\0';
}

static void uuid_set_version(unsigned char u[16], unsigned version) {
  u[6] = (unsigned char)((u[6] & 0x0F) | (version << 4));
  u[8] = (unsigned char)((u[8] & 0x3F) | 0x80); /* RFC 4122 variant */
}

int sg_acs_operation_id(const char *job_id, char out[SG_ACS_UUID_LEN]) {
  if (job_id == NULL || out == NULL)
    return SG_ERR_INVAL;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
           EVP_DigestUpdate(ctx, op_namespace, sizeof op_namespace) == 1 &&
           EVP_DigestUpdate(ctx, job_id, strlen(job_id)) == 1 &&
           EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 16;
  EVP_MD_CTX_free(ctx);
  if (!ok)
    return SG_ERR_CRYPTO;
  uuid_set_version(md, 5);
  uuid_format(md, out);
  return 0;
}

int sg_acs_random_uuid(char out[SG_ACS_UUID_LEN]) {
  unsigned char u[16];
  if (out == NULL || RAND_bytes(u, sizeof u) != 1)
    return SG_ERR_CRYPTO;
  uuid_set_version(u, 4);
  uuid_format(u, out);
  return 0;
}

/* --- Paths --- */

static bool token_ok(const char *s, const char *extra) {
  if (s == NULL || s[0] == '\0')
    return false;
  for (const char *p = s; *p; p++) {
    char c = *p;
    bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && strchr(extra, c) == NULL)
      return false;
  }
  return true;
}

int sg_acs_send_path(sg_buf *out, const char *base_path, const char *api_version) {
  if (out == NULL || !token_ok(api_version, "-."))
    return SG_ERR_INVAL;
  sg_buf_printf(out, "%s/emails:send?api-version=%s", base_path ? base_path : "", api_version);
  return 0;
}

int sg_acs_poll_path(sg_buf *out, const char *base_path, const char *operation_id,
                     const char *api_version) {
  if (out == NULL || !token_ok(api_version, "-.") || !token_ok(operation_id, "-_."))
    return SG_ERR_INVAL;
  sg_buf_printf(out, "%s/emails/operations/%s?api-version=%s", base_path ? base_path : "",
                operation_id, api_version);
  return 0;
}

int sg_acs_location_path(sg_buf *out, const sg_acs_conn *conn, const char *location) {
  if (out == NULL || conn == NULL || location == NULL || conn->scheme == NULL ||
      conn->authority == NULL)
    return SG_ERR_INVAL;
  for (const unsigned char *p = (const unsigned char *)location; *p; p++)
    if (*p <= 0x20 || *p == 0x7f)
      return SG_ERR_INVAL;
  size_t sl = strlen(conn->scheme), al = strlen(conn->authority);
  const char *p = location;
  if (strncasecmp(p, conn->scheme, sl) != 0 || strncmp(p + sl, "://", 3) != 0)
    return SG_ERR_INVAL;
  p += sl + 3;
  if (strncasecmp(p, conn->authority, al) != 0 || p[al] != '/')
    return SG_ERR_INVAL;
  sg_buf_append_str(out, p + al);
  return 0;
}

/* --- Request headers --- */

static void add(sg_acs_headers *hs, const char *name, const char *value) {
  hs->h[hs->n++] = sg_http_hdr(name, value);
}

/* Copies an id of at most a UUID's length into |dst|. */
static bool copy_id(char dst[SG_ACS_UUID_LEN], const char *src) {
  size_t n = strlen(src);
  if (n == 0 || n >= SG_ACS_UUID_LEN || !token_ok(src, "-"))
    return false;
  memcpy(dst, src, n + 1);
  return true;
}

int sg_acs_headers_fill(sg_acs_headers *out, const sg_acs_req *req) {
  if (out == NULL)
    return SG_ERR_INVAL;
  memset(out, 0, sizeof *out);
  if (req == NULL || req->method == NULL || req->path_and_query == NULL || req->authority == NULL ||
      (req->body == NULL && req->body_len > 0))
    return SG_ERR_INVAL;
  if (req->body_len > 0)
    add(out, "content-type", "application/json");
  if (req->operation_id != NULL) {
    if (!copy_id(out->operation_id, req->operation_id))
      return SG_ERR_INVAL;
    add(out, "operation-id", out->operation_id);
  }
  if (req->client_request_id != NULL) {
    if (!copy_id(out->client_request_id, req->client_request_id))
      return SG_ERR_INVAL;
    add(out, "x-ms-client-request-id", out->client_request_id);
  }
  if (req->bearer_token != NULL) {
    if (req->bearer_token[0] == '\0' || strpbrk(req->bearer_token, "\r\n") != NULL)
      return SG_ERR_INVAL;
    sg_buf_printf(&out->bearer, "Bearer %s", req->bearer_token);
    add(out, "authorization", out->bearer.data);
    return 0;
  }
  if (req->date == NULL || req->date[0] == '\0' || strlen(req->date) >= sizeof out->date ||
      strpbrk(req->date, "\r\n") != NULL || req->key == NULL || req->key_len == 0)
    return SG_ERR_INVAL;
  memcpy(out->date, req->date, strlen(req->date) + 1);
  int rv = sg_acs_sign(req->key, req->key_len, req->method, req->path_and_query, req->authority,
                       out->date, req->body, req->body_len, &out->sig);
  if (rv != 0)
    return rv;
  add(out, "x-ms-date", out->date);
  add(out, "x-ms-content-sha256", out->sig.content_hash);
  add(out, "authorization", out->sig.authorization);
  return 0;
}

void sg_acs_headers_free(sg_acs_headers *hs) {
  if (hs == NULL)
    return;
  sg_buf_free(&hs->bearer);
  hs->n = 0;
}
