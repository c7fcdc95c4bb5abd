/* SPDX-License-Identifier: Apache-2.0 */
/* Drafts and upload sessions of the sandbox; see sg_sbx_drafts.h. */
#include "sandbox/sg_sbx_drafts.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/sg_fmt.h"
#include "sandbox/sg_sbx_msg.h"

static char *dup_or_null(const char *s) {
  return s ? sg_xstrdup(s) : NULL;
}

static char *lower_dup(const char *s) {
  char *o = sg_xstrdup(s);
  for (char *p = o; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  return o;
}

static void att_free(sg_sbx_datt *a) {
  sg_free(a->name);
  sg_free(a->content_type);
  sg_free(a->content_id);
}

static void draft_free(sg_sbx_draft *dr) {
  for (size_t i = 0; i < dr->n_atts; i++)
    att_free(&dr->atts[i]);
  sg_free(dr->atts);
  sg_buf_free(&dr->json);
  sg_free(dr->app);
  sg_free(dr->mailbox);
  sg_free(dr);
}

static void upload_free(sg_sbx_upload *u) {
  att_free(&u->att);
  sg_free(u->app);
  sg_free(u->mailbox);
  EVP_MD_CTX_free(u->sha);
  sg_free(u);
}

void sg_sbx_drafts_init(sg_sbx_drafts *d, size_t max) {
  memset(d, 0, sizeof *d);
  sg_list_init(&d->drafts);
  sg_list_init(&d->uploads);
  d->max = max ? max : 10000;
}

void sg_sbx_drafts_free(sg_sbx_drafts *d) {
  sg_list *n;
  while ((n = sg_list_pop_front(&d->uploads)) != NULL)
    upload_free(sg_container_of(n, sg_sbx_upload, link));
  while ((n = sg_list_pop_front(&d->drafts)) != NULL)
    draft_free(sg_container_of(n, sg_sbx_draft, link));
  d->n_drafts = d->n_uploads = 0;
}

sg_sbx_draft *sg_sbx_drafts_create(sg_sbx_drafts *d, const char *app, const char *mailbox,
                                   const char *json, size_t len, uint64_t nonce) {
  if (d->n_drafts >= d->max) /* the oldest goes: the store stays bounded */
    sg_sbx_drafts_remove(d, sg_container_of(sg_list_front(&d->drafts), sg_sbx_draft, link));
  sg_sbx_draft *dr = sg_xcalloc(1, sizeof *dr);
  /* Graph's ids are long opaque base64; ours: a sequence number and a nonce. */
  snprintf(dr->id, sizeof dr->id, "AAMkAD%06" PRIu64 "%016" PRIx64 "=", ++d->seq, nonce);
  dr->app = sg_xstrdup(app);
  dr->mailbox = lower_dup(mailbox);
  sg_buf_init(&dr->json);
  sg_buf_append(&dr->json, json, len);
  sg_list_push_back(&d->drafts, &dr->link);
  d->n_drafts++;
  return dr;
}

sg_sbx_draft *sg_sbx_drafts_find(sg_sbx_drafts *d, const char *mailbox, const char *id) {
  for (sg_list *n = d->drafts.next; n != &d->drafts; n = n->next) {
    sg_sbx_draft *dr = sg_container_of(n, sg_sbx_draft, link);
    if (strcmp(dr->id, id) == 0 && strcasecmp(dr->mailbox, mailbox) == 0)
      return dr;
  }
  return NULL;
}

void sg_sbx_drafts_remove(sg_sbx_drafts *d, sg_sbx_draft *dr) {
  for (sg_list *n = d->uploads.next; n != &d->uploads;) {
    sg_sbx_upload *u = sg_container_of(n, sg_sbx_upload, link);
    n = n->next;
    if (strcmp(u->draft_id, dr->id) == 0)
      sg_sbx_upload_remove(d, u);
  }
  sg_list_remove(&dr->link);
  d->n_drafts--;
  draft_free(dr);
}

void sg_sbx_draft_add_att(sg_sbx_draft *dr, const char *name, const char *content_type,
                          const char *content_id, bool is_inline, uint64_t size,
                          const char sha256[65]) {
  dr->atts = sg_xrealloc(dr->atts, (dr->n_atts + 1) * sizeof *dr->atts);
  sg_sbx_datt *a = &dr->atts[dr->n_atts++];
  a->name = sg_xstrdup(name);
  a->content_type = dup_or_null(content_type);
  a->content_id = dup_or_null(content_id);
  a->is_inline = is_inline;
  a->size = size;
  snprintf(a->sha256, sizeof a->sha256, "%s", sha256 ? sha256 : "");
}

sg_sbx_upload *sg_sbx_upload_create(sg_sbx_drafts *d, const sg_sbx_draft *dr, const char *name,
                                    const char *content_type, const char *content_id,
                                    bool is_inline, uint64_t size, uint64_t expires_ms,
                                    uint64_t nonce) {
  if (d->n_uploads >= d->max)
    sg_sbx_upload_remove(d, sg_container_of(sg_list_front(&d->uploads), sg_sbx_upload, link));
  sg_sbx_upload *u = sg_xcalloc(1, sizeof *u);
  snprintf(u->token, sizeof u->token, "%016" PRIx64 "%06" PRIu64, nonce, ++d->seq);
  snprintf(u->draft_id, sizeof u->draft_id, "%s", dr->id);
  u->app = sg_xstrdup(dr->app);
  u->mailbox = sg_xstrdup(dr->mailbox);
  u->att.name = sg_xstrdup(name);
  u->att.content_type = dup_or_null(content_type);
  u->att.content_id = dup_or_null(content_id);
  u->att.is_inline = is_inline;
  u->att.size = size;
  u->expires_ms = expires_ms;
  u->sha = EVP_MD_CTX_new();
  if (u->sha == NULL || !EVP_DigestInit_ex(u->sha, EVP_sha256(), NULL))
    abort(); /* out of memory, our policy */
  sg_list_push_back(&d->uploads, &u->link);
  d->n_uploads++;
  return u;
}

sg_sbx_upload *sg_sbx_upload_find(sg_sbx_drafts *d, const char *token, uint64_t now_ms) {
  for (sg_list *n = d->uploads.next; n != &d->uploads; n = n->next) {
    sg_sbx_upload *u = sg_container_of(n, sg_sbx_upload, link);
    if (strcmp(u->token, token) != 0)
      continue;
    if (now_ms >= u->expires_ms) {
      sg_sbx_upload_remove(d, u);
      return NULL;
    }
    return u;
  }
  return NULL;
}

void sg_sbx_upload_remove(sg_sbx_drafts *d, sg_sbx_upload *u) {
  sg_list_remove(&u->link);
  d->n_uploads--;
  upload_free(u);
}

static bool num(const char **p, uint64_t *out) {
  const char *s = *p;
  if (!isdigit((unsigned char)*s))
    return false;
  uint64_t v = 0;
  for (; isdigit((unsigned char)*s); s++) {
    if (v > (UINT64_MAX - 9) / 10)
      return false;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  *out = v;
  *p = s;
  return true;
}

int sg_sbx_range_parse(const char *hdr, uint64_t *a, uint64_t *b, uint64_t *total) {
  const char *p = hdr;
  if (strncasecmp(p, "bytes ", 6) != 0)
    return -1;
  p += 6;
  if (!num(&p, a) || *p++ != '-' || !num(&p, b) || *p++ != '/' || !num(&p, total) || *p)
    return -1;
  return *b < *a ? -1 : 0;
}

sg_sbx_range_verdict sg_sbx_upload_check(const sg_sbx_upload *u, const char *hdr, size_t len,
                                         uint64_t max_chunk) {
  uint64_t a, b, total;
  if (hdr == NULL || sg_sbx_range_parse(hdr, &a, &b, &total) != 0)
    return SG_SBX_RANGE_BAD_HEADER;
  if (total != u->att.size)
    return SG_SBX_RANGE_BAD_TOTAL;
  if (a != u->next)
    return SG_SBX_RANGE_OUT_OF_ORDER;
  if (max_chunk && b - a + 1 > max_chunk)
    return SG_SBX_RANGE_TOO_LARGE;
  if (b >= total || (uint64_t)len != b - a + 1)
    return SG_SBX_RANGE_LENGTH;
  return SG_SBX_RANGE_OK;
}

bool sg_sbx_upload_put(sg_sbx_drafts *d, sg_sbx_upload *u, const void *data, size_t len,
                       uint64_t expires_ms) {
  if (len && !EVP_DigestUpdate(u->sha, data, len))
    abort();
  u->next += len;
  u->expires_ms = expires_ms;
  if (u->next < u->att.size)
    return false;
  unsigned char md[32];
  unsigned mdlen = 0;
  if (!EVP_DigestFinal_ex(u->sha, md, &mdlen) || mdlen != 32)
    abort();
  sg_sbx_hex32(md, u->att.sha256);
  sg_sbx_draft *dr = sg_sbx_drafts_find(d, u->mailbox, u->draft_id);
  if (dr)
    sg_sbx_draft_add_att(dr, u->att.name, u->att.content_type, u->att.content_id, u->att.is_inline,
                         u->att.size, u->att.sha256);
  sg_sbx_upload_remove(d, u);
  return true;
}
