/* SPDX-License-Identifier: Apache-2.0 */
/* ACS Email operations store; see sg_sbx_ops.h. */
#include "sandbox/sg_sbx_ops.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/sg_err.h"
#include "core/sg_json_write.h"
#include "sandbox/sg_sbx_table.h"

#define DROPPED_CODE "EmailDropped"
#define DROPPED_MSG "Email was dropped after several attempts to deliver."

struct sg_sbx_op {
  sg_sbx_entry e; /* key: the operation id */
  int64_t created_ms;
  int64_t running_at; /* NotStarted before this */
  int64_t final_at;   /* Running before this */
  char *error_code;   /* NULL: succeeds */
  char *error_message;
};

struct sg_sbx_ops {
  uint64_t step_ms;
  size_t max_ops;
  sg_sbx_table table;
};

sg_sbx_ops *sg_sbx_ops_new(uint64_t step_ms, size_t max_ops) {
  sg_sbx_ops *s = sg_xcalloc(1, sizeof(*s));
  s->step_ms = step_ms;
  s->max_ops = max_ops ? max_ops : SG_SBX_OPS_DEFAULT_MAX;
  sg_sbx_table_init(&s->table);
  return s;
}

static void free_op(sg_sbx_entry *e) {
  sg_sbx_op *op = sg_container_of(e, sg_sbx_op, e);
  sg_free(op->error_code);
  sg_free(op->error_message);
  sg_free(op);
}

void sg_sbx_ops_free(sg_sbx_ops *s) {
  if (s == NULL)
    return;
  sg_sbx_table_free(&s->table, free_op);
  sg_free(s);
}

static void uuid4(char out[37]) {
  unsigned char r[16];
  if (RAND_bytes(r, sizeof r) != 1)
    abort(); /* no randomness: nothing sensible to hand out */
  r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
  r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (size_t i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out[o++] = '-';
    out[o++] = hex[r[i] >> 4];
    out[o++] = hex[r[i] & 15];
  }
  out[o] = '\0';
}

static bool id_valid(const char *id, size_t n) {
  if (n == 0 || n > SG_SBX_OP_ID_MAX)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '.' || c == '_'))
      return false;
  }
  return true;
}

/* Drops the oldest finished operation; false when every one is still running. */
static bool evict_one(sg_sbx_ops *s, int64_t now_ms) {
  for (sg_sbx_entry *e = sg_sbx_table_oldest(&s->table); e;
       e = sg_sbx_table_next_newer(&s->table, e)) {
    sg_sbx_op *op = sg_container_of(e, sg_sbx_op, e);
    if (op->final_at <= now_ms) {
      sg_sbx_table_remove(&s->table, e);
      free_op(e);
      return true;
    }
  }
  return false;
}

int sg_sbx_ops_create(sg_sbx_ops *s, const char *op_id, int64_t now_ms, const sg_sbx_op_spec *spec,
                      const sg_sbx_op **out, bool *existed) {
  static const sg_sbx_op_spec succeed = SG_SBX_OP_SPEC_SUCCEED;
  char gen[37];
  if (out)
    *out = NULL;
  if (existed)
    *existed = false;
  if (op_id == NULL || *op_id == '\0') {
    do
      uuid4(gen);
    while (sg_sbx_table_find(&s->table, gen, 36));
    op_id = gen;
  }
  size_t n = strlen(op_id);
  if (!id_valid(op_id, n))
    return SG_ERR_INVAL;
  sg_sbx_entry *e = sg_sbx_table_find(&s->table, op_id, n);
  if (e) {
    if (out)
      *out = sg_container_of(e, sg_sbx_op, e);
    if (existed)
      *existed = true;
    return 0;
  }
  while (s->table.count >= s->max_ops)
    if (!evict_one(s, now_ms))
      return SG_ERR_BUSY;

  if (spec == NULL)
    spec = &succeed;
  const int64_t cap = INT64_MAX / 8; /* keeps now + ns + run from overflowing */
  int64_t step = s->step_ms > (uint64_t)cap ? cap : (int64_t)s->step_ms;
  int64_t ns = spec->not_started_ms < 0 ? step : spec->not_started_ms;
  int64_t run = spec->running_ms < 0 ? step : spec->running_ms;
  ns = ns > cap ? cap : ns;
  run = run > cap ? cap : run;
  sg_sbx_op *op = sg_xcalloc(1, sizeof(*op));
  op->created_ms = now_ms;
  op->running_at = now_ms + ns;
  op->final_at = op->running_at + run;
  if (spec->fail) {
    op->error_code = sg_xstrdup(spec->error_code ? spec->error_code : DROPPED_CODE);
    op->error_message = sg_xstrdup(spec->error_message ? spec->error_message : DROPPED_MSG);
  }
  sg_sbx_table_insert(&s->table, &op->e, op_id, n);
  if (out)
    *out = op;
  return 0;
}

const sg_sbx_op *sg_sbx_ops_get(const sg_sbx_ops *s, const char *op_id) {
  sg_sbx_entry *e = sg_sbx_table_find(&s->table, op_id, strlen(op_id));
  return e ? sg_container_of(e, sg_sbx_op, e) : NULL;
}

const char *sg_sbx_op_id(const sg_sbx_op *op) {
  return op->e.key;
}

sg_sbx_op_status sg_sbx_op_status_at(const sg_sbx_op *op, int64_t now_ms) {
  if (now_ms < op->running_at)
    return SG_SBX_OP_NOT_STARTED;
  if (now_ms < op->final_at)
    return SG_SBX_OP_RUNNING;
  return op->error_code ? SG_SBX_OP_FAILED : SG_SBX_OP_SUCCEEDED;
}

int64_t sg_sbx_op_final_ms(const sg_sbx_op *op) {
  return op->final_at;
}
const char *sg_sbx_op_error_code(const sg_sbx_op *op) {
  return op->error_code;
}
const char *sg_sbx_op_error_message(const sg_sbx_op *op) {
  return op->error_message;
}

const char *sg_sbx_op_status_name(sg_sbx_op_status st) {
  switch (st) {
  case SG_SBX_OP_NOT_STARTED:
    return "NotStarted";
  case SG_SBX_OP_RUNNING:
    return "Running";
  case SG_SBX_OP_SUCCEEDED:
    return "Succeeded";
  case SG_SBX_OP_FAILED:
    return "Failed";
  }
  return "Running";
}

void sg_sbx_op_write_json(sg_buf *b, const sg_sbx_op *op, int64_t now_ms) {
  sg_sbx_op_status st = sg_sbx_op_status_at(op, now_ms);
  sg_buf_append_str(b, "{\"id\":");
  sg_jw_str(b, op->e.key, op->e.key_len);
  sg_buf_append_str(b, ",\"status\":");
  sg_jw_cstr(b, sg_sbx_op_status_name(st));
  if (st == SG_SBX_OP_FAILED) {
    sg_buf_append_str(b, ",\"error\":{\"code\":");
    sg_jw_cstr(b, op->error_code);
    sg_buf_append_str(b, ",\"message\":");
    sg_jw_cstr(b, op->error_message);
    sg_buf_append_char(b, '}');
  }
  sg_buf_append_char(b, '}');
}

size_t sg_sbx_ops_count(const sg_sbx_ops *s) {
  return s->table.count;
}
