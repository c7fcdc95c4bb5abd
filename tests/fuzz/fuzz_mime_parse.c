/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for job/sg_mime_parse (MIME jobs turned into structured
 * content with GMime). The input is the message; an odd-sized input comes
 * with an envelope of two recipients, an even-sized one without (so both
 * ways of finding recipients are fuzzed). Besides "no crash, no leak, no
 * over-read", it checks what the conversion promises: a refusal has one of
 * the documented codes and a message; a success is a structured view with
 * no MIME left, the job's own fields kept, every string valid UTF-8 (the
 * subject, names and header values without control characters, bodies
 * without NUL), every attachment named, inline only with a Content-ID, at
 * least one valid recipient, only X- headers, and decoded content bounded by
 * a small multiple of the input. The ACS body built from it has exactly the
 * size sg_acs_request_size promised.
 */
#include <string.h>

#include "core/sg_addr.h"
#include "core/sg_err.h"
#include "core/sg_utf8.h"
#include "fuzz_common.h"
#include "job/sg_mime_parse.h"
#include "svc/sg_acs.h"

static const char *const codes[] = {
    SG_JOBERR_MIME_MALFORMED,
    SG_JOBERR_MIME_CHARSET,
    SG_JOBERR_MIME_ENCODING,
    SG_JOBERR_MIME_TOO_DEEP,
    SG_JOBERR_MIME_TOO_MANY_PARTS,
    SG_JOBERR_MIME_HEADER_LIMIT,
    SG_JOBERR_MIME_ENCRYPTED,
    SG_JOBERR_MIME_SIGNED,
    SG_JOBERR_NUL,
    SG_JOBERR_CONTROL_CHAR,
    SG_JOBERR_BAD_UTF8,
    SG_JOBERR_BAD_ADDRESS,
    SG_JOBERR_NO_RECIPIENTS,
    SG_JOBERR_TOO_MANY_HEADERS,
};

static void check_text(const char *s, bool no_ctl) {
  CHECK(s != NULL);
  CHECK(sg_utf8_valid(s, strlen(s)));
  if (no_ctl)
    CHECK(!sg_has_ctl(s, strlen(s), true));
}

static void check_addrs(const sg_job_addr *a, size_t n) {
  CHECK(n == 0 || a != NULL);
  for (size_t i = 0; i < n; i++) {
    CHECK(sg_addr_valid(a[i].address, strlen(a[i].address)));
    check_text(a[i].name, true);
  }
}

static void check_view(const sg_job *j, const sg_job *src, size_t size) {
  CHECK(j->mime == NULL && j->mime_len == 0);
  CHECK(j->id == src->id && j->sender == src->sender && j->account == src->account);
  CHECK(j->metadata == src->metadata && j->max_attempts == src->max_attempts);
  check_text(j->subject, true);
  check_text(j->text_body, false);
  check_text(j->html_body, false);
  check_addrs(j->to, j->n_to);
  check_addrs(j->cc, j->n_cc);
  check_addrs(j->bcc, j->n_bcc);
  check_addrs(j->reply_to, j->n_reply_to);
  CHECK(j->n_to + j->n_cc + j->n_bcc > 0);
  if (src->n_to > 0)
    CHECK(j->n_to + j->n_cc + j->n_bcc == src->n_to);
  CHECK(j->n_headers <= SG_MIME_MAX_X_HEADERS);
  for (size_t i = 0; i < j->n_headers; i++) {
    CHECK(j->headers[i].name[0] == 'X' || j->headers[i].name[0] == 'x');
    CHECK(j->headers[i].name[1] == '-');
    check_text(j->headers[i].value, true);
  }
  size_t total = strlen(j->text_body) + strlen(j->html_body);
  CHECK(j->n_attachments == 0 || j->attachments != NULL);
  for (size_t i = 0; i < j->n_attachments; i++) {
    const sg_job_attachment *a = &j->attachments[i];
    CHECK(a->name[0] != '\0');
    check_text(a->name, true);
    check_text(a->content_type, true);
    check_text(a->content_id, true);
    CHECK(!a->is_inline || a->content_id[0] != '\0');
    CHECK(a->content_len == 0 || a->content != NULL);
    total += a->content_len;
  }
  /* Decoding shrinks; a charset can triple a byte; an attached message is
   * written out again. */
  CHECK(total <= 4 * size + 64 * 1024);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const sg_job_addr env[] = {{"a@fabrikam.example", ""}, {"b@fabrikam.example", "B"}};
  static const sg_job_kv meta[] = {{"k", "v"}};
  sg_job src = {.id = "fuzz-1",
                .account = "",
                .sender = "s@contoso.com",
                .to = (size & 1) ? env : NULL,
                .n_to = (size & 1) ? 2 : 0,
                .subject = "",
                .text_body = "",
                .html_body = "",
                .mime = data,
                .mime_len = size,
                .reply_stream = "",
                .campaign_id = "",
                .metadata = meta,
                .n_metadata = 1,
                .max_attempts = 2};
  sg_mime_job m;
  sg_job_error err;
  memset(&err, 0, sizeof err);
  int rv = sg_mime_to_job(&m, &src, NULL, &err);
  if (sg_fuzz_verbose())
    fprintf(stderr, "mime_parse: %s\n", rv ? err.code : "ok");
  if (rv != 0) {
    CHECK(rv == SG_ERR_INVAL);
    bool known = false;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
      known = known || (err.code != NULL && strcmp(err.code, codes[i]) == 0);
    CHECK(known);
    CHECK(err.message[0] != '\0');
    CHECK(m.n_own == 0 && m.atts == NULL);
    sg_mime_job_free(&m);
    return 0;
  }
  check_view(&m.job, &src, size);
  sg_buf body = SG_BUF_INIT;
  CHECK(sg_acs_build(&m.job, "2025-09-01", NULL, &body) == 0);
  CHECK(body.len == sg_acs_request_size(&m.job, "2025-09-01", NULL));
  sg_buf_free(&body);
  sg_mime_job_free(&m);
  return 0;
}
