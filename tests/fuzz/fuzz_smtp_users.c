/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the SMTP users-file parser (smtp/sg_smtp_users.c).
 *
 * Input: users-file text, any bytes.
 * Checked: the parser returns 0 or SG_ERR_PARSE, and on an error a message
 * that starts with "line N: " (N within the input's lines) or names the size
 * cap; a parsed set has valid names, hashes, accounts and lower-case
 * allow-from entries, each user findable by name; formatting it and parsing
 * the text again gives the same text (comments and users in place);
 * sg_smtp_user_may_send_as holds for each allow-from address and for an
 * address in each "@domain".
 */
#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "fuzz_common.h"
#include "smtp/sg_smtp_users.h"

static size_t count_lines(const uint8_t *d, size_t n) {
  size_t lines = 1;
  for (size_t i = 0; i < n; i++)
    lines += d[i] == '\n';
  return lines;
}

static void check_user(const sg_smtp_users *u, const sg_smtp_user *x) {
  CHECK(sg_smtp_users_check_name(x->name, NULL, 0) == 0);
  CHECK(sg_smtp_users_check_hash(x->hash, NULL, 0) == 0);
  CHECK(sg_smtp_users_check_account(x->account, NULL, 0) == 0);
  CHECK(sg_smtp_users_find(u, x->name) == x);
  CHECK(x->nallow >= 1);
  for (size_t k = 0; k < x->nallow; k++) {
    const char *a = x->allow_from[k];
    for (const char *p = a; *p; p++)
      CHECK(!(*p >= 'A' && *p <= 'Z'));
    /* "x@domain" for an @domain entry: the parser's own rule (an entry of
     * 254 bytes leaves no room for a longer local part). */
    char probe[300];
    snprintf(probe, sizeof probe, "%s%s", a[0] == '@' ? "x" : "", a);
    CHECK(sg_smtp_user_may_send_as(x, probe));
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sg_smtp_users *u = NULL;
  char err[512];
  err[0] = '\0';
  int rv = sg_smtp_users_parse((const char *)data, size, &u, err, sizeof err);
  if (sg_fuzz_verbose())
    fprintf(stderr, "smtp_users: %d %s\n", rv, rv ? err : "");
  CHECK(rv == 0 || rv == SG_ERR_PARSE);
  if (rv != 0) {
    CHECK(u == NULL);
    unsigned long line = 0;
    CHECK(sscanf(err, "line %lu: ", &line) == 1 || strstr(err, "larger than") != NULL);
    CHECK(line <= count_lines(data, size));
    return 0;
  }
  for (size_t i = 0; i < sg_smtp_users_count(u); i++)
    check_user(u, sg_smtp_users_at(u, i));
  size_t len, len2;
  char *text = sg_smtp_users_format(u, &len);
  sg_smtp_users *again = NULL;
  CHECK(sg_smtp_users_parse(text, len, &again, err, sizeof err) == 0);
  CHECK(sg_smtp_users_count(again) == sg_smtp_users_count(u));
  char *text2 = sg_smtp_users_format(again, &len2);
  CHECK(len == len2 && memcmp(text, text2, len) == 0);
  sg_free(text);
  sg_free(text2);
  sg_smtp_users_free(again);
  sg_smtp_users_free(u);
  return 0;
}
