/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the one-shot client's HTTP/1.1 response parser
 * (net/sg_h1_resp.c), which reads what a managed identity endpoint answers.
 * Input: one selector byte (the split point), then the response bytes.
 * Checked: parsing never reads outside the input; a complete parse of a
 * prefix without EOF stays complete (with the same status and body) when the
 * whole is given; headers point inside the input with lower-case names; the
 * body is never larger than the input.
 */
#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "fuzz_common.h"
#include "net/sg_h1_resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > SG_H1_RESP_MAX)
    return 0;
  size_t n = size - 1;
  char *a = malloc(n + 1), *b = malloc(n + 1);
  CHECK(a && b);
  memcpy(a, data + 1, n);
  memcpy(b, data + 1, n);
  sg_h1_resp r1, r2;
  int rv = sg_h1_resp_parse(a, n, false, &r1);
  int rv_eof = sg_h1_resp_parse(b, n, true, &r2);
  CHECK(rv == 0 || rv == SG_ERR_AGAIN || rv == SG_ERR_PARSE);
  CHECK(rv_eof == 0 || rv_eof == SG_ERR_PARSE);
  if (rv == 0) {
    CHECK(rv_eof == 0);
    CHECK(r1.status == r2.status && r1.body.len == r2.body.len);
    CHECK(r1.body.len <= n);
    CHECK(r1.body.len == 0 || memcmp(r1.body.data, r2.body.data, r1.body.len) == 0);
    for (size_t i = 0; i < r1.nheaders; i++) {
      const sg_http_header *h = &r1.headers[i];
      CHECK(h->name >= a && h->name + h->name_len <= a + n);
      CHECK(h->value >= a && h->value + h->value_len <= a + n);
      for (size_t k = 0; k < h->name_len; k++)
        CHECK(!(h->name[k] >= 'A' && h->name[k] <= 'Z'));
    }
    sg_h1_resp_free(&r1);
  }
  if (rv_eof == 0)
    sg_h1_resp_free(&r2);
  /* A split: the first part alone is incomplete or complete, never a crash. */
  size_t cut = n ? data[0] % (n + 1) : 0;
  sg_h1_resp r3;
  if (sg_h1_resp_parse(b, cut, false, &r3) == 0)
    sg_h1_resp_free(&r3);
  free(a);
  free(b);
  return 0;
}
