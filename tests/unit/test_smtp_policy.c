/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for relay networks and senders (smtp/sg_smtp_policy) and the
 * From: field reader (smtp/sg_smtp_hdr). */
#include "harness.h"

#include "core/sg_err.h"
#include "smtp/sg_smtp_hdr.h"
#include "smtp/sg_smtp_policy.h"

static void t_nets(void) {
  sg_smtp_nets n;
  char err[200];
  ASSERT_OK(sg_smtp_nets_parse("10.0.0.0/8, 192.168.1.7,2001:db8::/32 ,127.0.0.1/32", &n, err,
                               sizeof err));
  ASSERT_EQ(4, n.n);
  ASSERT(sg_smtp_nets_match(&n, "10.1.2.3"));
  ASSERT(!sg_smtp_nets_match(&n, "11.0.0.1"));
  ASSERT(sg_smtp_nets_match(&n, "192.168.1.7"));
  ASSERT(!sg_smtp_nets_match(&n, "192.168.1.8"));
  ASSERT(sg_smtp_nets_match(&n, "2001:db8:1::5"));
  ASSERT(!sg_smtp_nets_match(&n, "2001:db9::5"));
  ASSERT(sg_smtp_nets_match(&n, "::ffff:10.9.9.9"));
  ASSERT(sg_smtp_nets_match(&n, "127.0.0.1"));
  ASSERT(!sg_smtp_nets_match(&n, "127.0.0.2"));
  ASSERT(!sg_smtp_nets_match(&n, "garbage"));
  sg_smtp_nets_free(&n);
  ASSERT_OK(sg_smtp_nets_parse("10.0.0.1/20", &n, err, sizeof err)); /* host bits cleared */
  ASSERT(sg_smtp_nets_match(&n, "10.0.15.255"));
  sg_smtp_nets_free(&n);
  ASSERT_OK(sg_smtp_nets_parse("", &n, err, sizeof err));
  ASSERT(!sg_smtp_nets_match(&n, "127.0.0.1"));
  sg_smtp_nets_free(&n);
  ASSERT_EQ(SG_ERR_CONFIG, sg_smtp_nets_parse("10.0.0.0/33", &n, err, sizeof err));
  ASSERT_EQ(SG_ERR_CONFIG, sg_smtp_nets_parse("10.0.0.0/", &n, err, sizeof err));
  ASSERT_EQ(SG_ERR_CONFIG, sg_smtp_nets_parse("printers", &n, err, sizeof err));
  ASSERT_EQ(SG_ERR_CONFIG, sg_smtp_nets_parse("::/129", &n, err, sizeof err));
}

static void t_senders(void) {
  const char *l = "scanner@contoso.com, @alerts.contoso.com";
  ASSERT(sg_smtp_addr_in_list(l, "Scanner@Contoso.com"));
  ASSERT(sg_smtp_addr_in_list(l, "nagios@ALERTS.contoso.com"));
  ASSERT(!sg_smtp_addr_in_list(l, "nagios@x.alerts.contoso.com"));
  ASSERT(!sg_smtp_addr_in_list(l, "ceo@contoso.com"));
  ASSERT(!sg_smtp_addr_in_list(l, ""));
  ASSERT(!sg_smtp_addr_in_list("", "scanner@contoso.com"));
}

/* The From: addresses of |msg| joined with spaces, or "ERR". */
static const char *from(const char *msg) {
  static char out[512];
  sg_buf b;
  sg_buf_init(&b);
  int n = sg_smtp_hdr_from((const uint8_t *)msg, strlen(msg), &b);
  if (n < 0) {
    sg_buf_free(&b);
    return "ERR";
  }
  out[0] = '\0';
  const char *a = b.data;
  for (int i = 0; i < n; i++, a += strlen(a) + 1)
    snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? " " : "", a);
  sg_buf_free(&b);
  return out;
}

static void t_from(void) {
  ASSERT_STR_EQ("a@contoso.com", from("From: a@contoso.com\r\nTo: b@x.example\r\n\r\nbody"));
  ASSERT_STR_EQ("a@contoso.com", from("from : \"Scan, Room 4\" <a@contoso.com>\r\n\r\n"));
  ASSERT_STR_EQ(
      "a@contoso.com b@contoso.com",
      from("Subject: x\r\nFrom: A (the <boss>) <a@contoso.com>,\r\n b@contoso.com\r\n\r\n"));
  ASSERT_STR_EQ("a@contoso.com", from("From: Team: a@contoso.com;\r\n\r\n"));
  ASSERT_STR_EQ("", from("Subject: none\r\n\r\nFrom: a@contoso.com\r\n"));
  ASSERT_STR_EQ("ERR", from("From: a@contoso.com\r\nFrom: b@contoso.com\r\n\r\n"));
  ASSERT_STR_EQ("ERR", from("From: \r\n\r\n"));
  ASSERT_STR_EQ("ERR", from("From: <a@contoso.com\r\n\r\n"));
}

SG_TESTS({"nets", t_nets}, {"senders", t_senders}, {"from", t_from})
