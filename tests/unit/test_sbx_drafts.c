/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's drafts and upload sessions (sandbox/sg_sbx_drafts.h), pure:
 * Content-Range parsing, ranges in order / with a gap / overlapping / too
 * large / with a wrong total or length, the digest of the whole attachment
 * added to its draft on the last range, expiry, and the bound on the store.
 */
#include "harness.h"

#include <openssl/sha.h>
#include <string.h>

#include "sandbox/sg_sbx_drafts.h"
#include "sandbox/sg_sbx_msg.h"

static void t_range_parse(void) {
  uint64_t a, b, t;
  ASSERT_OK(sg_sbx_range_parse("bytes 0-9/10", &a, &b, &t));
  ASSERT(a == 0 && b == 9 && t == 10);
  ASSERT_OK(sg_sbx_range_parse("Bytes 5-5/6", &a, &b, &t));
  const char *bad[] = {"",
                       "bytes",
                       "bytes 0-9",
                       "bytes 9-0/10",
                       "bytes -1-2/3",
                       "bits 0-1/2",
                       "bytes 0-1/2 ",
                       "bytes 0-1/*",
                       "bytes 0-99999999999999999999/1"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    ASSERT_EQ(-1, sg_sbx_range_parse(bad[i], &a, &b, &t));
}

static void t_upload(void) {
  sg_sbx_drafts d;
  sg_sbx_drafts_init(&d, 4);
  sg_sbx_draft *dr = sg_sbx_drafts_create(&d, "graph|app|mb", "MB@x.example", "{}", 2, 7);
  ASSERT(sg_sbx_drafts_find(&d, "mb@x.example", dr->id) == dr);
  ASSERT_NULL(sg_sbx_drafts_find(&d, "other@x.example", dr->id));
  uint8_t data[1000];
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (uint8_t)(i * 31);
  sg_sbx_upload *u =
      sg_sbx_upload_create(&d, dr, "f.bin", "application/pdf", NULL, false, 1000, 5000, 9);
  ASSERT(sg_sbx_upload_find(&d, u->token, 100) == u);
  ASSERT_EQ(SG_SBX_RANGE_OK, sg_sbx_upload_check(u, "bytes 0-399/1000", 400, 400));
  ASSERT_EQ(SG_SBX_RANGE_TOO_LARGE, sg_sbx_upload_check(u, "bytes 0-400/1000", 401, 400));
  ASSERT_EQ(SG_SBX_RANGE_BAD_TOTAL, sg_sbx_upload_check(u, "bytes 0-399/999", 400, 400));
  ASSERT_EQ(SG_SBX_RANGE_LENGTH, sg_sbx_upload_check(u, "bytes 0-399/1000", 399, 400));
  ASSERT_EQ(SG_SBX_RANGE_BAD_HEADER, sg_sbx_upload_check(u, NULL, 0, 400));
  ASSERT(!sg_sbx_upload_put(&d, u, data, 400, 6000));
  ASSERT_EQ(400, u->next);
  ASSERT_EQ(6000, u->expires_ms); /* moved on by the range */
  /* A repeat, an overlap and a gap are all out of order. */
  ASSERT_EQ(SG_SBX_RANGE_OUT_OF_ORDER, sg_sbx_upload_check(u, "bytes 0-399/1000", 400, 400));
  ASSERT_EQ(SG_SBX_RANGE_OUT_OF_ORDER, sg_sbx_upload_check(u, "bytes 399-500/1000", 102, 400));
  ASSERT_EQ(SG_SBX_RANGE_OUT_OF_ORDER, sg_sbx_upload_check(u, "bytes 401-500/1000", 100, 400));
  ASSERT_EQ(SG_SBX_RANGE_LENGTH, sg_sbx_upload_check(u, "bytes 400-1000/1000", 601, 1000));
  ASSERT_EQ(SG_SBX_RANGE_OK, sg_sbx_upload_check(u, "bytes 400-799/1000", 400, 400));
  ASSERT(!sg_sbx_upload_put(&d, u, data + 400, 400, 6000));
  ASSERT_EQ(SG_SBX_RANGE_OK, sg_sbx_upload_check(u, "bytes 800-999/1000", 200, 400));
  ASSERT(sg_sbx_upload_put(&d, u, data + 800, 200, 6000)); /* complete: |u| is gone */
  ASSERT_EQ(0, d.n_uploads);
  ASSERT_EQ(1, dr->n_atts);
  char want[65];
  sg_sbx_sha256_hex(data, sizeof data, want);
  ASSERT_STR_EQ(want, dr->atts[0].sha256);
  ASSERT_EQ(1000, dr->atts[0].size);
  ASSERT_STR_EQ("application/pdf", dr->atts[0].content_type);
  sg_sbx_drafts_free(&d);
}

static void t_expiry_and_bounds(void) {
  sg_sbx_drafts d;
  sg_sbx_drafts_init(&d, 2);
  sg_sbx_draft *dr = sg_sbx_drafts_create(&d, "k", "mb", "{}", 2, 1);
  sg_sbx_upload *u = sg_sbx_upload_create(&d, dr, "f", NULL, NULL, false, 10, 1000, 2);
  char tok[SG_SBX_UPLOAD_TOKEN_MAX];
  strcpy(tok, u->token);
  ASSERT(sg_sbx_upload_find(&d, tok, 999) == u);
  ASSERT_NULL(sg_sbx_upload_find(&d, tok, 1000)); /* expired: removed */
  ASSERT_EQ(0, d.n_uploads);
  /* Removing a draft removes its sessions. */
  u = sg_sbx_upload_create(&d, dr, "f", NULL, NULL, false, 10, 1000, 3);
  strcpy(tok, u->token);
  sg_sbx_drafts_remove(&d, dr);
  ASSERT_NULL(sg_sbx_upload_find(&d, tok, 0));
  /* At most |max| drafts: the oldest goes. */
  sg_sbx_draft *a = sg_sbx_drafts_create(&d, "k", "mb", "{}", 2, 4);
  char aid[SG_SBX_DRAFT_ID_MAX];
  strcpy(aid, a->id);
  sg_sbx_draft *b = sg_sbx_drafts_create(&d, "k", "mb", "{}", 2, 5);
  sg_sbx_draft *c = sg_sbx_drafts_create(&d, "k", "mb", "{}", 2, 6);
  ASSERT_EQ(2, d.n_drafts);
  ASSERT_NULL(sg_sbx_drafts_find(&d, "mb", aid));
  ASSERT(sg_sbx_drafts_find(&d, "mb", b->id) == b && sg_sbx_drafts_find(&d, "mb", c->id) == c);
  ASSERT(strcmp(b->id, c->id) != 0);
  sg_sbx_drafts_free(&d);
}

SG_TESTS({"range_parse", t_range_parse}, {"upload", t_upload},
         {"expiry_and_bounds", t_expiry_and_bounds})
