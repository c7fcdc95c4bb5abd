/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the sandbox's Graph sendMail validator
 * (sandbox/sg_sbx_graph). The first input byte picks the request shape, the
 * rest is the body:
 *   'j'  application/json            'J'  same, with small limits
 *   'p'  text/plain (body as given: base64 of a MIME message expected)
 *   'm'  text/plain, the rest base64-encoded here first, so mutations reach
 *        the MIME parser ('M': same, with small limits)
 *   other bytes: an odd Content-Type from a table (absent, charset
 *        parameters, other types, upper case), body as given.
 * Small limits are max_body 1024, max_recipients 3, max_headers 2.
 *
 * Checked besides memory safety: 0 exactly when the verdict is "accepted";
 * an accepted message has api "graph", the URL mailbox, a key equal to
 * SHA-256(api NUL mailbox NUL body) in lowercase hex, 1..max_recipients valid
 * recipients, at most max_headers x- headers, and serializes to a JSON
 * object; a refusal has status 400, 413 or 415 (413 exactly when the body is
 * over max_body), a code, an empty record, and an error body that is JSON
 * carrying that code. Validating twice gives the same answer.
 */
#include <stdbool.h>
#include <string.h>

#include "core/sg_base64.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "fuzz_common.h"
#include "json/sg_json.h"
#include "sandbox/sg_sbx_graph.h"

#define MAILBOX "sender@contoso.com"

static const char *const odd_types[] = {
    NULL,
    "application/json; charset=utf-8",
    "application/json;charset=UTF-8",
    "Application/JSON",
    "application/json; charset=iso-8859-1",
    "text/plain; charset=utf-8",
    "TEXT/PLAIN",
    "text/html",
    "multipart/form-data; boundary=x",
    "",
    "application/json; foo=bar; charset=\"utf-8\"",
    "text/plain;charset=latin1",
};

static void check_json_object(const sg_buf *b) {
  sg_json_doc *doc = NULL;
  char err[128];
  int rv = sg_json_parse(&doc, b->data, b->len, 0, err, sizeof err);
  if (rv != 0) {
    fprintf(stderr, "not JSON (%s): %.*s\n", err, (int)b->len, b->data);
    abort();
  }
  CHECK(sg_json_root(doc)->type == SG_JSON_OBJECT);
  sg_json_doc_free(doc);
}

static void check_addrs(const sg_sbx_addr_list *l) {
  CHECK(l->n == 0 || l->v != NULL);
  for (size_t i = 0; i < l->n; i++) {
    const char *a = l->v[i].address;
    CHECK(a != NULL && sg_sbx_addr_valid(a, strlen(a)));
    const char *at = strrchr(a, '@');
    CHECK(at != NULL && l->v[i].domain == at + 1);
  }
}

static void check_accepted(const sg_sbx_msg *m, const sg_sbx_verdict *v, const char *body,
                           size_t len, const sg_sbx_graph_limits *lim) {
  CHECK(v->status == 0 && v->code != NULL && v->code[0] == '\0');
  CHECK(m->api != NULL && strcmp(m->api, "graph") == 0);
  CHECK(m->mailbox != NULL && strcmp(m->mailbox, MAILBOX) == 0);
  CHECK(m->recipient_count == m->to.n + m->cc.n + m->bcc.n);
  CHECK(m->recipient_count >= 1 && m->recipient_count <= lim->max_recipients);
  check_addrs(&m->to);
  check_addrs(&m->cc);
  check_addrs(&m->bcc);
  check_addrs(&m->reply_to);
  if (!m->mime) {
    CHECK(m->n_hdrs <= lim->max_headers);
    for (size_t i = 0; i < m->n_hdrs; i++)
      CHECK(m->hdrs[i].name != NULL && (m->hdrs[i].name[0] == 'x' || m->hdrs[i].name[0] == 'X') &&
            m->hdrs[i].name[1] == '-');
  }
  CHECK(m->mime == (m->body_kind == SG_SBX_BODY_MIME));
  for (size_t i = 0; i < m->n_atts; i++)
    CHECK(m->atts[i].name != NULL);
  /* The key is SHA-256 over api, mailbox and the exact body. */
  CHECK(strlen(m->key) == 64);
  for (size_t i = 0; i < 64; i++)
    CHECK((m->key[i] >= '0' && m->key[i] <= '9') || (m->key[i] >= 'a' && m->key[i] <= 'f'));
  sg_sbx_msg k;
  sg_sbx_msg_init(&k);
  k.api = "graph";
  k.mailbox = (char *)MAILBOX; /* not freed: set_key allocates nothing */
  sg_sbx_msg_set_key(&k, body, len);
  CHECK(strcmp(k.key, m->key) == 0 && memcmp(k.key_bin, m->key_bin, 32) == 0);
  sg_buf j = SG_BUF_INIT;
  sg_sbx_msg_to_json(m, &j);
  check_json_object(&j);
  sg_buf_free(&j);
}

static void check_rejected(const sg_sbx_msg *m, const sg_sbx_verdict *v, size_t len,
                           const sg_sbx_graph_limits *lim) {
  CHECK(v->status == 400 || v->status == 413 || v->status == 415);
  CHECK((v->status == 413) == (len > lim->max_body));
  CHECK(v->code != NULL && v->code[0] != '\0');
  CHECK(memchr(v->message, '\0', sizeof v->message) != NULL);
  CHECK(m->api == NULL && m->mailbox == NULL && m->to.n == 0 && m->n_atts == 0);
  sg_sbx_graph_inner inner = {"2024-01-01T00:00:00", "0000", NULL};
  sg_buf b = SG_BUF_INIT;
  sg_sbx_graph_verdict_json(&b, v, &inner);
  check_json_object(&b);
  sg_json_doc *doc = NULL;
  CHECK(sg_json_parse(&doc, b.data, b.len, 0, NULL, 0) == 0);
  const sg_json *e = sg_json_get(sg_json_root(doc), "error");
  CHECK(e != NULL);
  const char *code = sg_json_str(sg_json_get(e, "code"));
  CHECK(code != NULL && strcmp(code, v->code) == 0);
  sg_json_doc_free(doc);
  sg_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  uint8_t sel = data[0];
  const char *body = (const char *)data + 1;
  size_t len = size - 1;
  const char *ct;
  bool small = sel == 'J' || sel == 'M';
  sg_buf enc = SG_BUF_INIT;
  switch (sel) {
  case 'j':
  case 'J':
    ct = "application/json";
    break;
  case 'p':
    ct = "text/plain";
    break;
  case 'm':
  case 'M':
    ct = "text/plain";
    sg_base64_encode(&enc, body, len);
    body = enc.data ? enc.data : "";
    len = enc.len;
    break;
  default:
    ct = odd_types[sel % (sizeof odd_types / sizeof odd_types[0])];
    break;
  }
  sg_sbx_graph_limits lim;
  sg_sbx_graph_limits_default(&lim);
  if (small) {
    lim.max_body = 1024;
    lim.max_recipients = 3;
    lim.max_headers = 2;
  }
  /* An exact-size copy, so over-reads of a non-NUL-terminated body are caught. */
  char *copy = sg_xmalloc(len ? len : 1);
  if (len)
    memcpy(copy, body, len);

  sg_sbx_msg m;
  sg_sbx_verdict v;
  int rv = sg_sbx_graph_validate(ct, copy, len, MAILBOX, &lim, &m, &v);
  CHECK(rv == 0 || rv == SG_ERR_INVAL);
  CHECK((rv == 0) == (v.status == 0));
  if (sg_fuzz_verbose())
    fprintf(stderr, "sbx_graph %c: %d %s %s\n", sel > 32 ? sel : '?', v.status, v.code, v.message);
  if (rv == 0)
    check_accepted(&m, &v, copy, len, &lim);
  else
    check_rejected(&m, &v, len, &lim);

  sg_sbx_msg m2;
  sg_sbx_verdict v2;
  int rv2 = sg_sbx_graph_validate(ct, copy, len, MAILBOX, &lim, &m2, &v2);
  CHECK(rv2 == rv && v2.status == v.status && strcmp(v2.code, v.code) == 0);
  CHECK(strcmp(v2.message, v.message) == 0);
  if (rv == 0)
    CHECK(strcmp(m.key, m2.key) == 0 && m.recipient_count == m2.recipient_count);
  sg_sbx_msg_free(&m2);
  sg_sbx_msg_free(&m);
  sg_free(copy);
  sg_buf_free(&enc);
  return 0;
}
