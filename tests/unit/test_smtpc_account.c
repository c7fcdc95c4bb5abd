/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for smtpc/sg_smtpc_account: hosts, smtp_host, HVE's recipient rules. */
#include "harness.h"

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "smtpc/sg_smtpc_account.h"

static void t_hosts(void) {
  char h[256];
  uint16_t port = 0;
  ASSERT_OK(sg_smtpc_account_parse_host("", SG_SMTPC_ACCOUNT_EXCHANGE, h, sizeof h, &port));
  ASSERT_STR_EQ("smtp.office365.com", h);
  ASSERT_EQ(587, port);
  ASSERT_OK(sg_smtpc_account_parse_host(NULL, SG_SMTPC_ACCOUNT_HVE, h, sizeof h, &port));
  ASSERT_STR_EQ("smtp-hve.office365.com", h);
  ASSERT_OK(
      sg_smtpc_account_parse_host("localhost:2525", SG_SMTPC_ACCOUNT_HVE, h, sizeof h, &port));
  ASSERT_STR_EQ("localhost", h);
  ASSERT_EQ(2525, port);
  ASSERT_OK(sg_smtpc_account_parse_host("[::1]:25", SG_SMTPC_ACCOUNT_HVE, h, sizeof h, &port));
  ASSERT_STR_EQ("::1", h);
  ASSERT_EQ(25, port);
  ASSERT_OK(sg_smtpc_account_parse_host("smtp.example", SG_SMTPC_ACCOUNT_HVE, h, sizeof h, &port));
  ASSERT_EQ(587, port);
  const char *bad[] = {":25", "host:", "host:0", "host:65536", "host:25x",
                       "::1", "[::1",  "a b:25", "[::1]x"};
  for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++)
    ASSERT_EQ(SG_ERR_INVAL,
              sg_smtpc_account_parse_host(bad[i], SG_SMTPC_ACCOUNT_EXCHANGE, h, sizeof h, &port));
  char small[4];
  ASSERT_EQ(SG_ERR_INVAL, sg_smtpc_account_parse_host("longhost:1", SG_SMTPC_ACCOUNT_EXCHANGE,
                                                      small, sizeof small, &port));
}

static void t_hve(void) {
  char err[300];
  const char *ok[] = {"a@contoso.com", "b@Sub.Contoso.COM"};
  ASSERT_OK(sg_smtpc_account_hve_check(ok, 2, "contoso.com, sub.contoso.com", err, sizeof err));
  const char *ext[] = {"a@contoso.com", "x@fabrikam.com"};
  ASSERT_EQ(SG_ERR_INVAL, sg_smtpc_account_hve_check(ext, 2, "contoso.com", err, sizeof err));
  ASSERT(strstr(err, "x@fabrikam.com is outside") != NULL);
  /* A suffix is not the domain. */
  const char *sfx[] = {"a@evilcontoso.com"};
  ASSERT_EQ(SG_ERR_INVAL, sg_smtpc_account_hve_check(sfx, 1, "contoso.com", err, sizeof err));
  ASSERT_EQ(SG_ERR_INVAL, sg_smtpc_account_hve_check(ok, 1, "", err, sizeof err));
  const char *many[51];
  for (int i = 0; i < 51; i++)
    many[i] = "a@contoso.com";
  ASSERT_OK(sg_smtpc_account_hve_check(many, 50, "contoso.com", err, sizeof err));
  ASSERT_EQ(SG_ERR_TOOBIG, sg_smtpc_account_hve_check(many, 51, "contoso.com", err, sizeof err));
}

SG_TESTS({"hosts", t_hosts}, {"hve", t_hve})
