/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the sandbox's ACS operations store (sg_sbx_ops), with a fake clock. */
#include "harness.h"

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "sandbox/sg_sbx_ops.h"

#define OPID "8540c0de-899f-5cce-acb5-3ec493af3800"

static void expect_json(const sg_sbx_op *op, int64_t now, const char *want) {
  sg_buf b = SG_BUF_INIT;
  sg_sbx_op_write_json(&b, op, now);
  ASSERT_STR_EQ(want, b.data);
  sg_buf_free(&b);
}

static void t_lifecycle_success(void) {
  sg_sbx_ops *s = sg_sbx_ops_new(100, 0);
  const sg_sbx_op *op;
  bool existed = true;
  ASSERT_OK(sg_sbx_ops_create(s, OPID, 1000, NULL, &op, &existed));
  ASSERT(!existed);
  ASSERT_STR_EQ(OPID, sg_sbx_op_id(op));
  ASSERT_EQ(SG_SBX_OP_NOT_STARTED, sg_sbx_op_status_at(op, 1000));
  ASSERT_EQ(SG_SBX_OP_NOT_STARTED, sg_sbx_op_status_at(op, 1099));
  ASSERT_EQ(SG_SBX_OP_RUNNING, sg_sbx_op_status_at(op, 1100));
  ASSERT_EQ(SG_SBX_OP_RUNNING, sg_sbx_op_status_at(op, 1199));
  ASSERT_EQ(SG_SBX_OP_SUCCEEDED, sg_sbx_op_status_at(op, 1200));
  ASSERT_EQ(1200, sg_sbx_op_final_ms(op));
  ASSERT_NULL(sg_sbx_op_error_code(op));
  expect_json(op, 1000, "{\"id\":\"" OPID "\",\"status\":\"NotStarted\"}");
  expect_json(op, 1150, "{\"id\":\"" OPID "\",\"status\":\"Running\"}");
  expect_json(op, 5000, "{\"id\":\"" OPID "\",\"status\":\"Succeeded\"}");
  ASSERT(sg_sbx_ops_get(s, OPID) == op);
  ASSERT_NULL(sg_sbx_ops_get(s, "8540C0DE-899F-5CCE-ACB5-3EC493AF3800")); /* exact match */
  ASSERT_NULL(sg_sbx_ops_get(s, "nope"));
  sg_sbx_ops_free(s);
}

static void t_lifecycle_failure(void) {
  sg_sbx_ops *s = sg_sbx_ops_new(100, 0);
  const sg_sbx_op *op;
  sg_sbx_op_spec spec = {true, NULL, NULL, 0, 50};
  ASSERT_OK(sg_sbx_ops_create(s, "op-1", 0, &spec, &op, NULL));
  ASSERT_EQ(SG_SBX_OP_RUNNING, sg_sbx_op_status_at(op, 0)); /* not_started_ms = 0 */
  expect_json(op, 49, "{\"id\":\"op-1\",\"status\":\"Running\"}");
  ASSERT_EQ(SG_SBX_OP_FAILED, sg_sbx_op_status_at(op, 50));
  expect_json(op, 50,
              "{\"id\":\"op-1\",\"status\":\"Failed\",\"error\":{\"code\":\"EmailDropped\","
              "\"message\":\"Email was dropped after several attempts to deliver.\"}}");
  sg_sbx_op_spec custom = {true, "InvalidEmailAddress", "Bad \"address\".", -1, -1};
  ASSERT_OK(sg_sbx_ops_create(s, "op-2", 0, &custom, &op, NULL));
  ASSERT_EQ(SG_SBX_OP_NOT_STARTED, sg_sbx_op_status_at(op, 99));
  ASSERT_STR_EQ("InvalidEmailAddress", sg_sbx_op_error_code(op));
  ASSERT_STR_EQ("Bad \"address\".", sg_sbx_op_error_message(op));
  expect_json(op, 200,
              "{\"id\":\"op-2\",\"status\":\"Failed\",\"error\":{\"code\":\"InvalidEmailAddress\","
              "\"message\":\"Bad \\\"address\\\".\"}}");
  /* Step 0: final at once. */
  sg_sbx_ops *z = sg_sbx_ops_new(0, 0);
  ASSERT_OK(sg_sbx_ops_create(z, "x", 7, NULL, &op, NULL));
  ASSERT_EQ(SG_SBX_OP_SUCCEEDED, sg_sbx_op_status_at(op, 7));
  sg_sbx_ops_free(z);
  sg_sbx_ops_free(s);
}

static void t_same_id(void) {
  sg_sbx_ops *s = sg_sbx_ops_new(100, 0);
  const sg_sbx_op *a, *b;
  bool existed;
  ASSERT_OK(sg_sbx_ops_create(s, OPID, 0, NULL, &a, &existed));
  ASSERT(!existed);
  /* A retry with the same Operation-Id, even asking for another outcome: the same op. */
  sg_sbx_op_spec fail = {true, NULL, NULL, 0, 0};
  ASSERT_OK(sg_sbx_ops_create(s, OPID, 500, &fail, &b, &existed));
  ASSERT(existed);
  ASSERT(a == b);
  ASSERT_EQ(SG_SBX_OP_SUCCEEDED, sg_sbx_op_status_at(b, 500));
  ASSERT_EQ(1, sg_sbx_ops_count(s));
  sg_sbx_ops_free(s);
}

static bool is_uuid4(const char *s) {
  if (strlen(s) != 36)
    return false;
  for (int i = 0; i < 36; i++) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
      return false;
  }
  return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

static void t_generated_ids(void) {
  sg_sbx_ops *s = sg_sbx_ops_new(10, 0);
  const sg_sbx_op *a, *b;
  bool existed = true;
  ASSERT_OK(sg_sbx_ops_create(s, NULL, 0, NULL, &a, &existed));
  ASSERT(!existed);
  ASSERT_OK(sg_sbx_ops_create(s, "", 0, NULL, &b, NULL));
  ASSERT(is_uuid4(sg_sbx_op_id(a)));
  ASSERT(is_uuid4(sg_sbx_op_id(b)));
  ASSERT(strcmp(sg_sbx_op_id(a), sg_sbx_op_id(b)) != 0);
  ASSERT(sg_sbx_ops_get(s, sg_sbx_op_id(a)) == a);
  ASSERT_EQ(2, sg_sbx_ops_count(s));
  sg_sbx_ops_free(s);
}

static void t_bad_ids(void) {
  sg_sbx_ops *s = sg_sbx_ops_new(10, 0);
  static const char *bad[] = {"a b", "a/b", "a\"b", "a?b", "\xc3\xa9"};
  for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++)
    if (sg_sbx_ops_create(s, bad[i], 0, NULL, NULL, NULL) != SG_ERR_INVAL)
      SG_FAIL_("accepted id: %s", bad[i]);
  char longid[SG_SBX_OP_ID_MAX + 2];
  memset(longid, 'a', sizeof longid);
  longid[SG_SBX_OP_ID_MAX + 1] = '\0';
  ASSERT_EQ(SG_ERR_INVAL, sg_sbx_ops_create(s, longid, 0, NULL, NULL, NULL));
  longid[SG_SBX_OP_ID_MAX] = '\0';
  ASSERT_OK(sg_sbx_ops_create(s, longid, 0, NULL, NULL, NULL));
  ASSERT_EQ(1, sg_sbx_ops_count(s));
  sg_sbx_ops_free(s);
}

static void t_bounded(void) {
  sg_sbx_ops *s = sg_sbx_ops_new(100, 3); /* final 200 ms after creation */
  ASSERT_OK(sg_sbx_ops_create(s, "a", 0, NULL, NULL, NULL));
  ASSERT_OK(sg_sbx_ops_create(s, "b", 10, NULL, NULL, NULL));
  sg_sbx_op_spec slow = {false, NULL, NULL, 0, 100000};
  ASSERT_OK(sg_sbx_ops_create(s, "c", 20, &slow, NULL, NULL));
  /* Full, nothing finished: refused. A known id is still answered. */
  ASSERT_EQ(SG_ERR_BUSY, sg_sbx_ops_create(s, "d", 100, NULL, NULL, NULL));
  bool existed = false;
  ASSERT_OK(sg_sbx_ops_create(s, "a", 100, NULL, NULL, &existed));
  ASSERT(existed);
  /* "a" finished at 200, "b" at 210: the oldest finished goes. */
  ASSERT_OK(sg_sbx_ops_create(s, "d", 205, NULL, NULL, NULL));
  ASSERT_NULL(sg_sbx_ops_get(s, "a"));
  ASSERT_NOT_NULL(sg_sbx_ops_get(s, "b"));
  ASSERT_EQ(3, sg_sbx_ops_count(s));
  /* At 300 "b" and "d" are done, "c" (older, still running) is kept. */
  ASSERT_OK(sg_sbx_ops_create(s, "e", 300, NULL, NULL, NULL));
  ASSERT_NOT_NULL(sg_sbx_ops_get(s, "c"));
  ASSERT_NULL(sg_sbx_ops_get(s, "b"));
  ASSERT_OK(sg_sbx_ops_create(s, "f", 450, NULL, NULL, NULL));
  ASSERT_NULL(sg_sbx_ops_get(s, "d"));
  ASSERT_NOT_NULL(sg_sbx_ops_get(s, "c"));
  ASSERT_EQ(3, sg_sbx_ops_count(s));
  sg_sbx_ops_free(s);
}

static void t_names(void) {
  ASSERT_STR_EQ("NotStarted", sg_sbx_op_status_name(SG_SBX_OP_NOT_STARTED));
  ASSERT_STR_EQ("Running", sg_sbx_op_status_name(SG_SBX_OP_RUNNING));
  ASSERT_STR_EQ("Succeeded", sg_sbx_op_status_name(SG_SBX_OP_SUCCEEDED));
  ASSERT_STR_EQ("Failed", sg_sbx_op_status_name(SG_SBX_OP_FAILED));
}

SG_TESTS({"lifecycle_success", t_lifecycle_success}, {"lifecycle_failure", t_lifecycle_failure},
         {"same_id", t_same_id}, {"generated_ids", t_generated_ids}, {"bad_ids", t_bad_ids},
         {"bounded", t_bounded}, {"names", t_names})
