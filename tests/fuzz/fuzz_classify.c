/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the response classifiers: svc/sg_acs (emails:send and
 * operation polls) and, on the same input, svc/sg_classify (Graph and
 * Entra). Input layout: two bytes of HTTP status (100 + value % 500), then
 * header lines "name: value" up to an empty line, then the body. Besides
 * "no crash, no leak, no over-read", it checks what the classifiers promise
 * whatever the answer: a known kind, NUL-terminated fields within their caps,
 * no control characters in code and message, operation ids that are safe in
 * a path, a verbatim Operation-Location without spaces, Retry-After within
 * the clamp, and POLL_AGAIN always with a delay.
 *
 * Linked with fuzz_replay.c it runs every file of the corpus once (the ctest
 * "fuzz-replay" test), so plain gcc builds exercise the corpus too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "svc/sg_acs.h"
#include "svc/sg_classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
  do {                                                                                             \
    if (!(c)) {                                                                                    \
      fprintf(stderr, "fuzz_classify: check failed: %s (line %d)\n", #c, __LINE__);                \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

#define MAX_HEADERS 32
#define NOW_MS 1700000000000LL

/* |s| is NUL-terminated within |cap| bytes and has no control characters. */
static void check_text(const char *s, size_t cap) {
  size_t n = strnlen(s, cap);
  CHECK(n < cap);
  for (size_t i = 0; i < n; i++)
    CHECK((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] != 0x7f);
}

static void check_base(const sg_outcome *o, int status) {
  CHECK(o->http_status == status);
  CHECK(o->kind >= SG_OUTCOME_SENT && o->kind <= SG_OUTCOME_PENDING);
  check_text(o->code, sizeof o->code);
  check_text(o->message, sizeof o->message);
  check_text(o->request_id, sizeof o->request_id);
  if (o->has_retry_after)
    CHECK(o->retry_after_ms >= 0 && o->retry_after_ms <= SG_CLASSIFY_MAX_RETRY_AFTER_MS);
}

static void check_acs(const sg_acs_outcome *o, int status, bool poll) {
  check_base(&o->base, status);
  CHECK(o->kind >= SG_ACS_ACCEPTED && o->kind <= SG_ACS_AUTH_REFRESH);
  static const sg_outcome_kind folded[] = {SG_OUTCOME_ACCEPTED, SG_OUTCOME_SENT,
                                           SG_OUTCOME_PENDING,  SG_OUTCOME_FAILED,
                                           SG_OUTCOME_RETRY,    SG_OUTCOME_AUTH_REFRESH};
  CHECK(o->base.kind == folded[o->kind]);
  size_t n = strnlen(o->operation_id, sizeof o->operation_id);
  CHECK(n < sizeof o->operation_id);
  CHECK(strspn(o->operation_id,
               "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n);
  n = strnlen(o->operation_location, sizeof o->operation_location);
  CHECK(n < sizeof o->operation_location);
  for (size_t i = 0; i < n; i++)
    CHECK((unsigned char)o->operation_location[i] > 0x20 &&
          (unsigned char)o->operation_location[i] < 0x7f);
  check_text(o->status, sizeof o->status);
  if (poll) {
    CHECK(o->kind != SG_ACS_ACCEPTED);
    if (o->kind == SG_ACS_SENT || o->kind == SG_ACS_POLL_AGAIN)
      CHECK(status >= 200 && status <= 299);
  } else {
    CHECK(o->kind != SG_ACS_SENT && o->kind != SG_ACS_POLL_AGAIN);
  }
  if (o->kind == SG_ACS_POLL_AGAIN)
    CHECK(o->base.has_retry_after && !o->base.throttled);
  if (o->kind == SG_ACS_AUTH_REFRESH)
    CHECK(status == 401);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  int status = 100 + ((data[0] << 8) | data[1]) % 500;
  /* A private copy: header values point into it and names are cut at ':'. */
  char *buf = sg_xmalloc(size - 2 + 1);
  memcpy(buf, data + 2, size - 2);
  buf[size - 2] = '\0';
  size_t len = size - 2;
  sg_http_header h[MAX_HEADERS];
  size_t nh = 0, pos = 0;
  while (pos < len) {
    char *nl = memchr(buf + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - buf) : len;
    if (end == pos) { /* empty line: the body follows */
      pos++;
      break;
    }
    char *colon = memchr(buf + pos, ':', end - pos);
    if (colon != NULL && nh < MAX_HEADERS) {
      const char *v = colon + 1;
      while (v < buf + end && *v == ' ')
        v++;
      h[nh++] =
          (sg_http_header){buf + pos, (size_t)(colon - (buf + pos)), v, (size_t)(buf + end - v)};
    }
    pos = end + 1;
  }
  const char *body = pos < len ? buf + pos : NULL;
  size_t blen = pos < len ? len - pos : 0;

  sg_acs_outcome a;
  CHECK(sg_classify_acs_send(status, h, nh, body, blen, NOW_MS, &a) == 0);
  check_acs(&a, status, false);
  CHECK(sg_classify_acs_poll(status, h, nh, body, blen, NOW_MS, &a) == 0);
  check_acs(&a, status, true);

  sg_outcome g;
  CHECK(sg_classify_graph(status, h, nh, body, blen, NOW_MS, &g) == 0);
  check_base(&g, status);
  sg_entra_token tok;
  CHECK(sg_classify_entra(status, h, nh, body, blen, NOW_MS, &g, &tok) == 0);
  check_base(&g, status);
  if (g.kind == SG_OUTCOME_OK)
    sg_entra_token_free(&tok);
  sg_free(buf);
  return 0;
}
