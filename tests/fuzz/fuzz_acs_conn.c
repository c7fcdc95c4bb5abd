/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the ACS connection string parser (sg_acs_conn_parse in
 * svc/sg_acs_hmac.c), plus the two other parsers of that file that read
 * untrusted text: the Authorization header and the IMF date.
 *
 * Input: the text (cut at the first NUL for the connection string; the raw
 * bytes for the header and date parsers).
 * Checked: a parsed connection string is consistent (scheme http or https,
 * the scheme's default port when none is given, authority = host[:port]
 * with the port only when it is not the default, base path "" or "/x" without
 * a trailing slash, endpoint = scheme://authority + base path, a non-empty
 * key); the string written back from it parses to the same fields; a request
 * signed with its key verifies with it, and not with a different key; a parsed
 * Authorization's signature lies inside the input; a parsed date is one whose
 * seconds fit a 4-digit year.
 */
#include <string.h>

#include "core/sg_base64.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "fuzz_common.h"
#include "svc/sg_acs_hmac.h"

static void check_conn(const sg_acs_conn *c) {
  CHECK(c->scheme && c->host && c->authority && c->base_path && c->endpoint && c->key);
  CHECK(strcmp(c->scheme, "https") == 0 || strcmp(c->scheme, "http") == 0);
  CHECK(c->host[0] != '\0' && c->port != 0 && c->key_len > 0);
  uint16_t def = strcmp(c->scheme, "https") == 0 ? 443 : 80;
  sg_buf want = SG_BUF_INIT;
  if (c->port == def)
    sg_buf_append_str(&want, c->host);
  else
    sg_buf_printf(&want, "%s:%u", c->host, (unsigned)c->port);
  CHECK(strcmp(c->authority, want.data) == 0);
  size_t bp = strlen(c->base_path);
  CHECK(bp == 0 || (c->base_path[0] == '/' && c->base_path[bp - 1] != '/'));
  sg_buf_reset(&want);
  sg_buf_printf(&want, "%s://%s%s", c->scheme, c->authority, c->base_path);
  CHECK(strcmp(c->endpoint, want.data) == 0);
  sg_buf_free(&want);
}

static void check_round_trip(const sg_acs_conn *c) {
  sg_buf s = SG_BUF_INIT;
  sg_buf_printf(&s, "endpoint=%s/;accesskey=", c->endpoint);
  sg_base64_encode(&s, c->key, c->key_len);
  sg_acs_conn d;
  CHECK(sg_acs_conn_parse(s.data, &d) == 0);
  CHECK(strcmp(d.endpoint, c->endpoint) == 0 && strcmp(d.authority, c->authority) == 0);
  CHECK(strcmp(d.host, c->host) == 0 && d.port == c->port);
  CHECK(strcmp(d.base_path, c->base_path) == 0 && strcmp(d.scheme, c->scheme) == 0);
  CHECK(d.key_len == c->key_len && memcmp(d.key, c->key, c->key_len) == 0);
  sg_acs_conn_free(&d);
  sg_buf_free(&s);
}

static void check_sign_verify(const sg_acs_conn *c) {
  static const char body[] = "{\"senderAddress\":\"a@b.example\"}";
  static const char path[] = "/emails:send?api-version=2023-03-31";
  static const char date[] = "Mon, 01 Jan 2024 00:00:00 GMT";
  sg_acs_signed sig;
  CHECK(sg_acs_sign(c->key, c->key_len, "post", path, c->authority, date, body, sizeof body - 1,
                    &sig) == 0);
  sg_http_header h[] = {
      {"authorization", 13, sig.authorization, strlen(sig.authorization)},
      {"x-ms-date", 9, date, sizeof date - 1},
      {"x-ms-content-sha256", 19, sig.content_hash, strlen(sig.content_hash)},
  };
  CHECK(sg_acs_verify_headers(c->key, c->key_len, "POST", path, c->authority, h, 3, body,
                              sizeof body - 1, 0, -1) == SG_ACS_VERIFY_OK);
  unsigned char other[64];
  size_t on = c->key_len < sizeof other ? c->key_len : sizeof other;
  memcpy(other, c->key, on);
  other[0] ^= 1;
  CHECK(sg_acs_verify_headers(other, on, "POST", path, c->authority, h, 3, body, sizeof body - 1, 0,
                              -1) == SG_ACS_VERIFY_SIGNATURE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = sg_xmalloc(size + 1);
  memcpy(s, data, size);
  s[size] = '\0';

  sg_acs_conn c;
  int rv = sg_acs_conn_parse(s, &c);
  CHECK(rv == 0 || rv == SG_ERR_PARSE);
  if (sg_fuzz_verbose())
    fprintf(stderr, "acs_conn: %d\n", rv);
  if (rv == 0) {
    check_conn(&c);
    check_round_trip(&c);
    check_sign_verify(&c);
    sg_acs_conn_free(&c);
  }
  sg_free(s);

  /* The same bytes as an Authorization value and as a date, exact length. */
  char *raw = sg_xmalloc(size ? size : 1);
  memcpy(raw, data, size);
  sg_acs_str sig;
  if (sg_acs_auth_parse(raw, size, &sig) == 0)
    CHECK(sig.p >= raw && sig.n <= size && (size_t)(sig.p - raw) <= size - sig.n);
  int64_t t;
  if (sg_acs_parse_date(raw, size, &t) == 0)
    CHECK(t >= -62167219200LL && t < 253402300800LL); /* years 0000..9999 */
  sg_free(raw);
  return 0;
}
