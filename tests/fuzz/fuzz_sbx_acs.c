/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the sandbox's ACS emails:send validator
 * (sandbox/sg_sbx_acs). The first input byte b, taken as s = b - '0', picks
 * the request's context; the rest is the body:
 *   s & 7    api-version: 0 absent, 1 "", 2 2023-03-31, 3 2025-09-01,
 *            4 2023-01-15-preview, 5 2024-07-01-preview, 6 2021-10-01-preview
 *            (not served), 7 "2023-03-31 " (unknown)
 *   s & 8    suppress_invalid_attachment
 *   s & 16   small limits (max_body 1024, max_recipients 2)
 * So '2' is a plain 2023-03-31 request, '3' 2025-09-01, ':' 2023-03-31 with
 * suppression, 'B' 2023-03-31 with small limits.
 *
 * Checked besides memory safety: 0 exactly when the verdict is "accepted";
 * an accepted message has api "acs", a valid senderAddress as mailbox, the
 * message key over the exact body, 1..max_recipients valid recipients and
 * serializes to a JSON object; a refusal has status 400 or 413 (413 exactly
 * when over max_body, then a missing or unknown api-version is the next
 * reason), a code, an empty record and an error body that is JSON with that
 * code. Validating twice gives the same answer.
 */
#include <stdbool.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "fuzz_common.h"
#include "json/sg_json.h"
#include "sandbox/sg_sbx_acs.h"

static const char *const versions[8] = {
    NULL,
    "",
    "2023-03-31",
    "2025-09-01",
    "2023-01-15-preview",
    "2024-07-01-preview",
    "2021-10-01-preview",
    "2023-03-31 ",
};

static void check_json_error(const sg_buf *b, const char *want_code) {
  sg_json_doc *doc = NULL;
  char err[128];
  if (sg_json_parse(&doc, b->data, b->len, 0, err, sizeof err) != 0) {
    fprintf(stderr, "not JSON (%s): %.*s\n", err, (int)b->len, b->data);
    abort();
  }
  const sg_json *root = sg_json_root(doc);
  CHECK(root->type == SG_JSON_OBJECT);
  if (want_code) {
    const sg_json *e = sg_json_get(root, "error");
    CHECK(e != NULL);
    const char *code = sg_json_str(sg_json_get(e, "code"));
    CHECK(code != NULL && strcmp(code, want_code) == 0);
  }
  sg_json_doc_free(doc);
}

static void check_addrs(const sg_sbx_addr_list *l) {
  CHECK(l->n == 0 || l->v != NULL);
  for (size_t i = 0; i < l->n; i++) {
    const char *a = l->v[i].address;
    CHECK(a != NULL && sg_sbx_addr_valid(a, strlen(a)));
    CHECK(l->v[i].domain == strrchr(a, '@') + 1);
  }
}

static void check_accepted(const sg_sbx_msg *m, const char *body, size_t len,
                           const sg_sbx_acs_limits *lim) {
  CHECK(m->api != NULL && strcmp(m->api, "acs") == 0);
  CHECK(m->mailbox != NULL && sg_sbx_addr_valid(m->mailbox, strlen(m->mailbox)));
  CHECK(m->recipient_count == m->to.n + m->cc.n + m->bcc.n);
  CHECK(m->recipient_count >= 1 && m->recipient_count <= lim->max_recipients);
  check_addrs(&m->to);
  check_addrs(&m->cc);
  check_addrs(&m->bcc);
  check_addrs(&m->reply_to);
  CHECK(!m->mime && m->body_kind != SG_SBX_BODY_MIME);
  CHECK(m->subject != NULL);
  for (size_t i = 0; i < m->n_atts; i++)
    CHECK(m->atts[i].name != NULL);
  for (size_t i = 0; i < m->n_hdrs; i++)
    CHECK(m->hdrs[i].name != NULL && m->hdrs[i].value != NULL);
  CHECK(strlen(m->key) == 64);
  sg_sbx_msg k;
  sg_sbx_msg_init(&k);
  k.api = "acs";
  k.mailbox = m->mailbox; /* borrowed; k is not freed */
  sg_sbx_msg_set_key(&k, body, len);
  CHECK(strcmp(k.key, m->key) == 0);
  sg_buf j = SG_BUF_INIT;
  sg_sbx_msg_to_json(m, &j);
  check_json_error(&j, NULL);
  sg_buf_free(&j);
}

static void check_rejected(const sg_sbx_msg *m, const sg_sbx_verdict *v, size_t len,
                           const char *ver, const sg_sbx_acs_limits *lim) {
  CHECK(v->status == 400 || v->status == 413);
  CHECK((v->status == 413) == (len > lim->max_body));
  CHECK(v->code != NULL && v->code[0] != '\0');
  CHECK(memchr(v->message, '\0', sizeof v->message) != NULL);
  if (v->status == 400 && (ver == NULL || ver[0] == '\0'))
    CHECK(strcmp(v->code, "MissingApiVersionParameter") == 0);
  if (v->status == 400 && ver != NULL &&
      (strcmp(ver, "2021-10-01-preview") == 0 || strcmp(ver, "2023-03-31 ") == 0))
    CHECK(strcmp(v->code, "UnsupportedApiVersion") == 0);
  CHECK(m->api == NULL && m->mailbox == NULL && m->to.n == 0 && m->n_atts == 0 && m->n_hdrs == 0);
  sg_buf b = SG_BUF_INIT;
  sg_sbx_acs_verdict_json(&b, v);
  check_json_error(&b, v->code);
  sg_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  unsigned s = (uint8_t)(data[0] - '0');
  const char *ver = versions[s & 7];
  sg_sbx_acs_limits lim;
  sg_sbx_acs_limits_default(&lim);
  lim.suppress_invalid_attachment = (s & 8) != 0;
  if (s & 16) {
    lim.max_body = 1024;
    lim.max_recipients = 2;
  }
  size_t len = size - 1;
  char *body = sg_xmalloc(len ? len : 1); /* exact size: over-reads are caught */
  if (len)
    memcpy(body, data + 1, len);

  sg_sbx_msg m;
  sg_sbx_verdict v;
  int rv = sg_sbx_acs_validate(body, len, ver, &lim, &m, &v);
  CHECK(rv == 0 || rv == SG_ERR_INVAL);
  CHECK((rv == 0) == (v.status == 0));
  if (sg_fuzz_verbose())
    fprintf(stderr, "sbx_acs %c: %d %s %s\n", data[0], v.status, v.code, v.message);
  if (rv == 0)
    check_accepted(&m, body, len, &lim);
  else
    check_rejected(&m, &v, len, ver, &lim);

  sg_sbx_msg m2;
  sg_sbx_verdict v2;
  int rv2 = sg_sbx_acs_validate(body, len, ver, &lim, &m2, &v2);
  CHECK(rv2 == rv && v2.status == v.status && strcmp(v2.code, v.code) == 0);
  CHECK(strcmp(v2.message, v.message) == 0);
  if (rv == 0)
    CHECK(strcmp(m.key, m2.key) == 0);
  sg_sbx_msg_free(&m2);
  sg_sbx_msg_free(&m);
  sg_free(body);
  return 0;
}
