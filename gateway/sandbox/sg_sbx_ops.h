/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's ACS Email operations (POST /emails:send, GET
 * /emails/operations/{id}). An operation is created with its outcome decided
 * up front (succeed, or fail with a code and message) and walks NotStarted ->
 * Running -> Succeeded/Failed as time passes. A second create with the same
 * caller Operation-Id returns the existing operation and says so, so the
 * sandbox never sends one message twice. Bounded: beyond max_ops the oldest
 * finished operations are dropped. Pure: "now" (ms) is an argument.
 */
#ifndef SG_SBX_OPS_H
#define SG_SBX_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"

#define SG_SBX_OPS_DEFAULT_MAX 100000
/* Longest Operation-Id accepted (a UUID is 36). */
#define SG_SBX_OP_ID_MAX 128

typedef enum {
  SG_SBX_OP_NOT_STARTED = 0,
  SG_SBX_OP_RUNNING,
  SG_SBX_OP_SUCCEEDED,
  SG_SBX_OP_FAILED
} sg_sbx_op_status;

/* How one operation ends. Strings are copied by sg_sbx_ops_create. */
typedef struct sg_sbx_op_spec {
  bool fail;
  const char *error_code;    /* NULL with fail: "EmailDropped" */
  const char *error_message; /* NULL with fail: "Email was dropped after several attempts ..." */
  int64_t not_started_ms;    /* time spent NotStarted; < 0: the store's step */
  int64_t running_ms;        /* time spent Running; < 0: the store's step */
} sg_sbx_op_spec;

#define SG_SBX_OP_SPEC_SUCCEED                                                                     \
  { false, NULL, NULL, -1, -1 }

typedef struct sg_sbx_ops sg_sbx_ops;
typedef struct sg_sbx_op sg_sbx_op;

/* |step_ms|: default time per state (0: final at once); |max_ops| 0: SG_SBX_OPS_DEFAULT_MAX. */
sg_sbx_ops *sg_sbx_ops_new(uint64_t step_ms, size_t max_ops);
void sg_sbx_ops_free(sg_sbx_ops *s);

/*
 * Creates an operation at |now_ms| with id |op_id| (NULL or "": a fresh UUID
 * v4) and outcome |spec| (NULL: SG_SBX_OP_SPEC_SUCCEED). When |op_id| is
 * already known, nothing is created: |*out| is the existing operation and
 * |*existed| true. |out| and |existed| may be NULL; *out is valid until the
 * next create or free.
 * Returns 0 or one of: SG_ERR_INVAL (|op_id| longer than SG_SBX_OP_ID_MAX or
 * with characters other than [A-Za-z0-9._-]), SG_ERR_BUSY (max_ops
 * operations stored and none finished).
 */
int sg_sbx_ops_create(sg_sbx_ops *s, const char *op_id, int64_t now_ms, const sg_sbx_op_spec *spec,
                      const sg_sbx_op **out, bool *existed);
/* The operation |op_id| (exact match), or NULL. Valid until the next create or free. */
const sg_sbx_op *sg_sbx_ops_get(const sg_sbx_ops *s, const char *op_id);

/* The operation's id (borrowed). */
const char *sg_sbx_op_id(const sg_sbx_op *op);
/* Its status at |now_ms|. */
sg_sbx_op_status sg_sbx_op_status_at(const sg_sbx_op *op, int64_t now_ms);
/* When it reaches its final status (ms, same clock as create). */
int64_t sg_sbx_op_final_ms(const sg_sbx_op *op);
/* The error code and message (borrowed) for a failing operation, else NULL. */
const char *sg_sbx_op_error_code(const sg_sbx_op *op);
const char *sg_sbx_op_error_message(const sg_sbx_op *op);

/* "NotStarted", "Running", "Succeeded", "Failed". */
const char *sg_sbx_op_status_name(sg_sbx_op_status st);
/*
 * Appends the EmailSendResult for |op| at |now_ms|:
 * {"id":..,"status":..} plus "error":{"code":..,"message":..} once Failed.
 */
void sg_sbx_op_write_json(sg_buf *b, const sg_sbx_op *op, int64_t now_ms);

/* Operations stored. */
size_t sg_sbx_ops_count(const sg_sbx_ops *s);

#endif
