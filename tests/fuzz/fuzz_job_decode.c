/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the job codec (job/sg_job_codec) and the Graph request
 * builder (svc/sg_graph). The input is the protobuf bytes of a MailJob, as a
 * producer would put them on the stream. Besides "no crash, no leak, no
 * over-read" it checks what the codec and the builder promise:
 *  - decode returns 0, SG_ERR_INVAL (with a job and a SENDGATE_* code) or
 *    SG_ERR_PARSE (without a job);
 *  - a valid job's view has no NULL strings, an id of 1..128 printable bytes,
 *    UTF-8 text, at least one recipient or a MIME body;
 *  - encoding the view and decoding that again is valid and encodes to the
 *    same bytes (the codec loses nothing it validated);
 *  - both backends' checks return 0 or SG_ERR_INVAL with a code;
 *  - sg_graph_build appends exactly sg_graph_request_size() bytes, valid JSON
 *    (an object with "message") for structured jobs, the unwrapped base64 of
 *    the MIME for MIME jobs; sg_graph_path gives an encoded path.
 * With SG_FUZZ_CROSSCHECK=1 in the environment it also hands every request
 * the gateway would send to the sandbox's Graph validator and aborts when the
 * sandbox refuses it (exploratory: the sandbox's address rules are stricter
 * than the gateway's by design, so this mode is off in the corpus replay).
 * MIME jobs are left out of it: the codec does not look inside the MIME, so
 * a MIME body without a header section is sent and refused by Graph (and the
 * sandbox) with ErrorMimeContentInvalid, a permanent failure by design.
 *
 * Seeds (corpus/job_decode/) are sg_job_encode output of valid and invalid
 * jobs, made by gen_seeds.c.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/sg_base64.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "fuzz_common.h"
#include "core/sg_utf8.h"
#include "job/sg_job_codec.h"
#include "job/sg_mail_hdr.h"
#include "json/sg_json.h"
#include "sandbox/sg_sbx_graph.h"
#include "svc/sg_graph.h"

static bool text_ok(const char *s) {
  return s != NULL && sg_utf8_valid(s, strlen(s));
}

static void check_addrs(const sg_job_addr *a, size_t n) {
  CHECK(n == 0 || a != NULL);
  for (size_t i = 0; i < n; i++) {
    CHECK(a[i].address != NULL && a[i].address[0] != '\0');
    CHECK(a[i].name != NULL);
  }
}

/* Invariants of any view the codec hands out (valid or not). */
static void check_view_shape(const sg_job *j) {
  const char *strs[] = {j->id,        j->account,      j->sender,      j->subject,
                        j->text_body, j->reply_stream, j->campaign_id, j->html_body};
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
    CHECK(strs[i] != NULL);
  CHECK(j->n_attachments == 0 || j->attachments != NULL);
  CHECK(j->n_headers == 0 || j->headers != NULL);
  CHECK(j->n_metadata == 0 || j->metadata != NULL);
  CHECK(j->mime_len == 0 || j->mime != NULL);
}

/* Invariants of a view decode accepted. */
static void check_valid_view(const sg_job *j) {
  size_t idlen = strlen(j->id);
  CHECK(idlen >= 1 && idlen <= SG_JOB_ID_MAX);
  for (size_t i = 0; i < idlen; i++)
    CHECK(j->id[i] >= 0x20 && j->id[i] <= 0x7e);
  CHECK(j->sender[0] != '\0');
  CHECK(j->backend == SG_BACKEND_UNSPECIFIED || j->backend == SG_BACKEND_GRAPH ||
        j->backend == SG_BACKEND_ACS || j->backend == SG_BACKEND_SMTP);
  CHECK(j->priority == SG_PRIORITY_UNSPECIFIED || j->priority == SG_PRIORITY_TRANSACTIONAL ||
        j->priority == SG_PRIORITY_BULK);
  CHECK(text_ok(j->account) && text_ok(j->sender) && text_ok(j->subject));
  CHECK(text_ok(j->text_body) && text_ok(j->html_body) && text_ok(j->reply_stream));
  CHECK(text_ok(j->campaign_id));
  CHECK(strpbrk(j->subject, "\r\n") == NULL);
  if (j->mime_len > 0) {
    CHECK(j->n_reply_to == 0); /* to, cc, bcc: the envelope */
    CHECK(j->n_attachments == 0 && j->n_headers == 0);
    CHECK(j->subject[0] == '\0' && j->text_body[0] == '\0' && j->html_body[0] == '\0');
  } else {
    CHECK(j->n_to + j->n_cc + j->n_bcc >= 1);
    CHECK(j->n_headers <= SG_JOB_MAX_HEADERS);
  }
  check_addrs(j->to, j->n_to);
  check_addrs(j->cc, j->n_cc);
  check_addrs(j->bcc, j->n_bcc);
  check_addrs(j->reply_to, j->n_reply_to);
  for (size_t i = 0; i < j->n_headers; i++) {
    CHECK(text_ok(j->headers[i].name) && text_ok(j->headers[i].value));
    CHECK(j->headers[i].name[0] == 'X' || j->headers[i].name[0] == 'x');
  }
  for (size_t i = 0; i < j->n_attachments; i++) {
    const sg_job_attachment *a = &j->attachments[i];
    CHECK(text_ok(a->name) && a->name[0] != '\0');
    CHECK(text_ok(a->content_type) && text_ok(a->content_id));
    CHECK(a->content_len == 0 || a->content != NULL);
  }
  for (size_t i = 0; i < j->n_metadata; i++)
    CHECK(text_ok(j->metadata[i].key) && text_ok(j->metadata[i].value));
}

static void check_error(int rv, const sg_job_error *err) {
  CHECK(rv == SG_ERR_INVAL);
  CHECK(err->code != NULL && strncmp(err->code, "SENDGATE_", 9) == 0);
  CHECK(memchr(err->message, '\0', sizeof err->message) != NULL);
}

/* encode(view) decodes as valid and encodes to the same bytes again. */
static void check_roundtrip(const sg_job *j) {
  sg_buf e1 = SG_BUF_INIT, e2 = SG_BUF_INIT;
  sg_job_encode(j, &e1);
  sg_job_msg *m = NULL;
  sg_job_error err;
  memset(&err, 0, sizeof err);
  int rv = sg_job_decode((const uint8_t *)e1.data, e1.len, &m, &err);
  if (rv != 0) {
    fprintf(stderr, "re-decode: %s %s\n", err.code ? err.code : "?", err.message);
    abort();
  }
  sg_job_encode(sg_job_msg_view(m), &e2);
  CHECK(e1.len == e2.len && (e1.len == 0 || memcmp(e1.data, e2.data, e1.len) == 0));
  sg_job_msg_free(m);
  sg_buf_free(&e1);
  sg_buf_free(&e2);
}

static void check_path(const char *mailbox) {
  sg_buf p = SG_BUF_INIT;
  int rv = sg_graph_path(&p, mailbox);
  CHECK(rv == 0 || rv == SG_ERR_INVAL);
  if (rv == 0) {
    CHECK(p.len > 20 && memcmp(p.data, "/v1.0/users/", 12) == 0);
    CHECK(memcmp(p.data + p.len - 9, "/sendMail", 9) == 0);
    /* The mailbox segment is RFC 3986 unreserved characters, '@' and %XX. */
    for (size_t i = 12; i < p.len - 9; i++) {
      char c = p.data[i];
      if (c == '%') {
        CHECK(i + 2 < p.len - 9 && isxdigit((unsigned char)p.data[i + 1]) &&
              isxdigit((unsigned char)p.data[i + 2]));
        i += 2;
        continue;
      }
      CHECK(isalnum((unsigned char)c) || strchr("-._~@", c) != NULL);
    }
  } else {
    CHECK(mailbox[0] == '\0' || strcmp(mailbox, ".") == 0 || strcmp(mailbox, "..") == 0);
  }
  sg_buf_free(&p);
}

static void crosscheck(const sg_job *j, const sg_buf *body, const char *ct) {
  sg_sbx_msg msg;
  sg_sbx_verdict v;
  int rv = sg_sbx_graph_validate(ct, body->data, body->len, j->sender, NULL, &msg, &v);
  if (rv != 0) {
    fprintf(stderr, "sandbox refused a request the gateway would send: %d %s: %s\n", v.status,
            v.code, v.message);
    abort();
  }
  sg_sbx_msg_free(&msg);
}

/* The MIME sent for a job with an envelope names exactly the envelope in its
 * To, Cc and Bcc fields (what Graph delivers to), and its body is the job's. */
typedef struct env_check {
  const sg_job *j;
  size_t found;
  bool *seen;
} env_check;

static size_t env_count(const sg_job *j) {
  return j->n_to + j->n_cc + j->n_bcc;
}

static const char *env_addr(const sg_job *j, size_t i) {
  if (i < j->n_to)
    return j->to[i].address;
  i -= j->n_to;
  if (i < j->n_cc)
    return j->cc[i].address;
  return j->bcc[i - j->n_cc].address;
}

static void on_env_addr(const char *a, void *ud) {
  env_check *c = ud;
  size_t n = env_count(c->j), i;
  for (i = 0; i < n; i++)
    if (strcasecmp(env_addr(c->j, i), a) == 0)
      break;
  if (i == n) {
    fprintf(stderr, "the MIME names %s, not in the envelope\n", a);
    abort();
  }
  c->seen[i] = true;
}

static void check_envelope(const sg_job *j, const sg_buf *mime) {
  size_t n = env_count(j);
  bool *seen = sg_xcalloc(n, sizeof *seen);
  env_check c = {j, 0, seen};
  size_t hlen = sg_mail_hdr_len(mime->data, mime->len);
  sg_mail_hdr_addrs(mime->data, hlen, "To", on_env_addr, &c);
  sg_mail_hdr_addrs(mime->data, hlen, "Cc", on_env_addr, &c);
  sg_mail_hdr_addrs(mime->data, hlen, "Bcc", on_env_addr, &c);
  for (size_t i = 0; i < n; i++) {
    if (!seen[i]) {
      /* Also in the same case: the envelope may list one address twice. */
      bool dup = false;
      for (size_t k = 0; k < n && !dup; k++)
        dup = k != i && seen[k] && strcasecmp(env_addr(j, k), env_addr(j, i)) == 0;
      if (!dup) {
        fprintf(stderr, "envelope recipient %s missing from the MIME\n", env_addr(j, i));
        abort();
      }
    }
  }
  sg_free(seen);
  /* The body (after the header section) is the job's, byte for byte. */
  size_t jh = sg_mail_hdr_len((const char *)j->mime, j->mime_len);
  CHECK(mime->len - hlen == j->mime_len - jh &&
        memcmp(mime->data + hlen, j->mime + jh, j->mime_len - jh) == 0);
}

static void check_graph(const sg_job *j, bool cross) {
  size_t size = sg_graph_request_size(j);
  sg_buf body = SG_BUF_INIT;
  sg_buf_append_str(&body, "pre"); /* build appends: keep a prefix to check that */
  const char *ct = NULL;
  CHECK(sg_graph_build(j, &body, &ct) == 0);
  CHECK(body.len == size + 3 && memcmp(body.data, "pre", 3) == 0);
  sg_buf_consume(&body, 3);
  CHECK(body.len == size);
  if (j->mime_len > 0) {
    CHECK(ct != NULL && strcmp(ct, SG_GRAPH_CONTENT_TYPE_MIME) == 0);
    sg_buf dec = SG_BUF_INIT;
    CHECK(sg_base64_decode(&dec, body.data, body.len, false) == 0);
    if (j->n_to + j->n_cc + j->n_bcc == 0)
      CHECK(dec.len == j->mime_len && memcmp(dec.data, j->mime, dec.len) == 0);
    else
      check_envelope(j, &dec);
    sg_buf_free(&dec);
  } else {
    CHECK(ct != NULL && strcmp(ct, SG_GRAPH_CONTENT_TYPE_JSON) == 0);
    sg_json_doc *doc = NULL;
    char err[128];
    int rv = sg_json_parse(&doc, body.data, body.len, 0, err, sizeof err);
    if (rv != 0) {
      fprintf(stderr, "Graph body is not JSON: %s\n", err);
      abort();
    }
    const sg_json *root = sg_json_root(doc);
    CHECK(root->type == SG_JSON_OBJECT);
    const sg_json *msg = sg_json_get(root, "message");
    CHECK(msg != NULL && msg->type == SG_JSON_OBJECT);
    sg_json_doc_free(doc);
  }
  sg_job_error jerr;
  memset(&jerr, 0, sizeof jerr);
  int rv = sg_job_check_backend(j, SG_BACKEND_GRAPH, size, &jerr);
  if (rv != 0)
    check_error(rv, &jerr);
  if (rv == 0 && cross && j->mime_len == 0)
    crosscheck(j, &body, ct);
  sg_buf_free(&body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int cross = -1;
  if (cross < 0) {
    const char *e = getenv("SG_FUZZ_CROSSCHECK");
    cross = e != NULL && strcmp(e, "1") == 0;
  }
  sg_job_msg *m = (sg_job_msg *)&cross; /* must be overwritten */
  sg_job_error err;
  memset(&err, 0, sizeof err);
  int rv = sg_job_decode(data, size, &m, &err);
  CHECK(rv == 0 || rv == SG_ERR_INVAL || rv == SG_ERR_PARSE);
  if (sg_fuzz_verbose())
    fprintf(stderr, "job_decode: %d %s\n", rv, rv ? err.code : "valid");
  if (rv == SG_ERR_PARSE) {
    CHECK(m == NULL);
    CHECK(err.code != NULL && strcmp(err.code, SG_JOBERR_UNDECODABLE) == 0);
    return 0;
  }
  CHECK(m != NULL);
  const sg_job *j = sg_job_msg_view(m);
  CHECK(j != NULL);
  check_view_shape(j);
  if (rv != 0) {
    check_error(rv, &err);
    sg_job_msg_free(m);
    return 0;
  }
  check_valid_view(j);
  check_roundtrip(j);
  check_path(j->sender);
  check_graph(j, cross == 1);

  /* ACS: no builder yet; the rules alone, with a plausible size. */
  memset(&err, 0, sizeof err);
  rv = sg_job_check_backend(j, SG_BACKEND_ACS, sg_graph_request_size(j), &err);
  if (rv != 0)
    check_error(rv, &err);
  else
    CHECK(j->mime_len == 0 && j->subject[0] != '\0');
  sg_job_msg_free(m);
  return 0;
}
