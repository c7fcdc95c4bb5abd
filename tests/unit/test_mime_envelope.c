/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sg_mime_envelope: the header section names exactly the envelope (what
 * Graph delivers to), the body is untouched, line ends are kept.
 */
#include "harness.h"

#include "job/sg_mime_envelope.h"

#include <string.h>

static char out_text[8192];

static const char *rewrite(const char *msg, const char *const *rcpts, size_t n) {
  sg_buf b = SG_BUF_INIT;
  sg_mime_envelope((const uint8_t *)msg, strlen(msg), rcpts, n, &b);
  ASSERT_LT(b.len, sizeof out_text);
  memcpy(out_text, b.data, b.len);
  out_text[b.len] = '\0';
  sg_buf_free(&b);
  return out_text;
}

static void t_bcc_added(void) {
  const char *r[] = {"a@example.com", "hidden@example.org"};
  const char *m = "From: s@example.com\r\nTo: A <a@example.com>\r\nSubject: hi\r\n\r\nbody\r\n";
  ASSERT_STR_EQ("From: s@example.com\r\nTo: A <a@example.com>\r\nSubject: hi\r\n"
                "Bcc: hidden@example.org\r\n\r\nbody\r\n",
                rewrite(m, r, 2));
}

static void t_all_in_headers(void) {
  const char *r[] = {"B@Example.com", "a@example.com"}; /* case does not matter */
  const char *m = "To: a@example.com\r\nCc: \"Bee, B\" <b@example.com>\r\n\r\nx";
  ASSERT_STR_EQ(m, rewrite(m, r, 2));
}

static void t_old_bcc_replaced(void) {
  const char *r[] = {"a@example.com", "c@example.com"};
  const char *m = "To: a@example.com\r\nBcc: z@example.com,\r\n y@example.com\r\nX: 1\r\n\r\nb";
  ASSERT_STR_EQ("To: a@example.com\r\nX: 1\r\nBcc: c@example.com\r\n\r\nb", rewrite(m, r, 2));
}

static void t_outsider_renamed(void) {
  /* A list's To: names the list, not the recipient: Graph must not send to the list. */
  const char *r[] = {"member@example.com"};
  const char *m = "To: list@example.com\r\nCc: member@example.com, other@example.com\r\n"
                  "Subject: s\r\n\r\nbody";
  ASSERT_STR_EQ("X-Original-To: list@example.com\r\n"
                "X-Original-Cc: member@example.com, other@example.com\r\n"
                "Subject: s\r\nBcc: member@example.com\r\n\r\nbody",
                rewrite(m, r, 1));
}

static void t_folded_and_lf(void) {
  const char *r[] = {"a@example.com", "b@example.com", "c@example.com"};
  const char *m = "to: a@example.com,\n\tb@example.com\nSubject: s\n\nline\n.\n";
  ASSERT_STR_EQ(
      "to: a@example.com,\n\tb@example.com\nSubject: s\nBcc: c@example.com\r\n\nline\n.\n",
      rewrite(m, r, 3));
}

static void t_body_untouched(void) {
  /* Header-like lines in the body are not header fields. */
  const char *r[] = {"a@example.com"};
  const char *m = "Subject: s\r\n\r\nTo: evil@example.com\r\nBcc: x@example.com\r\n";
  ASSERT_STR_EQ("Subject: s\r\nBcc: a@example.com\r\n\r\nTo: evil@example.com\r\nBcc: "
                "x@example.com\r\n",
                rewrite(m, r, 1));
}

static void t_no_body(void) {
  const char *r[] = {"a@example.com", "b@example.com"};
  ASSERT_STR_EQ("Subject: s\r\nBcc: a@example.com,\r\n b@example.com\r\n",
                rewrite("Subject: s", r, 2));
}

static void t_many(void) {
  /* More recipients than the stack holds. */
  static char addrs[100][32];
  const char *r[100];
  for (int i = 0; i < 100; i++) {
    snprintf(addrs[i], sizeof addrs[i], "r%d@example.com", i);
    r[i] = addrs[i];
  }
  const char *out = rewrite("To: r5@example.com\r\n\r\nb", r, 100);
  ASSERT(strncmp(out, "To: r5@example.com\r\nBcc: r0@example.com,\r\n r1@", 45) == 0);
  ASSERT(strstr(out, "r5@example.com,") == NULL); /* only in To: */
  ASSERT(strstr(out, " r99@example.com\r\n\r\nb") != NULL);
}

SG_TESTS({"bcc_added", t_bcc_added}, {"all_in_headers", t_all_in_headers},
         {"old_bcc_replaced", t_old_bcc_replaced}, {"outsider_renamed", t_outsider_renamed},
         {"folded_and_lf", t_folded_and_lf}, {"body_untouched", t_body_untouched},
         {"no_body", t_no_body}, {"many", t_many})
