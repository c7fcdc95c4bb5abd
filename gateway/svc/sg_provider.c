/* SPDX-License-Identifier: Apache-2.0 */
/* The table of providers, and what they share. */
#include "svc/sg_provider.h"

#include <ctype.h>
#include <string.h>

#include "core/sg_fmt.h"

const sg_provider *sg_provider_for(sg_backend b) {
  switch (b) {
  case SG_BACKEND_GRAPH:
    return &sg_provider_graph;
  case SG_BACKEND_ACS:
    return &sg_provider_acs;
  case SG_BACKEND_SMTP:
    return &sg_provider_smtp;
  default:
    return NULL;
  }
}

/* Escapes and base64 make the real size a bit larger than the text; a short
 * guess only costs one more growth. */
size_t sg_prov_body_guess(const sg_job *job) {
  size_t n = 512 + strlen(job->subject) + sg_job_text_len(job) + sg_job_html_len(job) +
             job->mime_len * 4 / 3 + 160 * (job->n_to + job->n_cc + job->n_bcc + job->n_reply_to) +
             96 * job->n_headers;
  for (size_t i = 0; i < job->n_attachments; i++)
    n += job->attachments[i].content_len * 4 / 3 + 256;
  return n + n / 8;
}

void sg_prov_mailbox_key(char *key, const char *prefix, const char *account, const char *sender) {
  size_t n = sg_fmt_copy(key, SG_PROV_LANE_KEY_MAX - 1, prefix);
  n += sg_fmt_copy(key + n, SG_PROV_LANE_KEY_MAX - 1 - n, account);
  key[n++] = '|';
  for (const char *p = sender; *p && n < SG_PROV_LANE_KEY_MAX - 1; p++)
    key[n++] = (char)tolower((unsigned char)*p);
  key[n] = '\0';
}

const char *sg_prov_bearer(sg_prov_req *r, const char *token, size_t len) {
  if (len > sizeof r->bearer - 8)
    len = sizeof r->bearer - 8;
  memcpy(r->bearer, "Bearer ", 7);
  memcpy(r->bearer + 7, token, len);
  r->bearer[7 + len] = '\0';
  return r->bearer;
}
