/* SPDX-License-Identifier: Apache-2.0 */
/* Sandbox counters, duplicate detection and recent messages; see sg_sbx_stats.h. */
#include "sandbox/sg_sbx_stats.h"

#include <stdio.h>
#include <string.h>

#include "json/sg_json_write.h"

/* Open-addressing set of 32-byte keys (SHA-256 values, so the first 8 bytes
 * are already a good hash). Grows at 50 % load. */
struct sg_sbx_keyset {
  uint8_t (*slots)[32];
  uint8_t *used;
  size_t cap, len;
};

static uint64_t key_hash(const uint8_t k[32]) {
  uint64_t h;
  memcpy(&h, k, sizeof h);
  return h;
}

static bool keyset_insert(sg_sbx_keyset *s, const uint8_t k[32]);

static void keyset_grow(sg_sbx_keyset *s) {
  sg_sbx_keyset n = {0};
  n.cap = s->cap ? s->cap * 2 : 1024;
  n.slots = sg_xcalloc(n.cap, 32);
  n.used = sg_xcalloc(n.cap, 1);
  for (size_t i = 0; i < s->cap; i++)
    if (s->used[i])
      keyset_insert(&n, s->slots[i]);
  sg_free(s->slots);
  sg_free(s->used);
  *s = n;
}

/* Returns true when |k| was already present. */
static bool keyset_insert(sg_sbx_keyset *s, const uint8_t k[32]) {
  if ((s->len + 1) * 2 > s->cap)
    keyset_grow(s);
  size_t mask = s->cap - 1;
  for (size_t i = key_hash(k) & mask;; i = (i + 1) & mask) {
    if (!s->used[i]) {
      memcpy(s->slots[i], k, 32);
      s->used[i] = 1;
      s->len++;
      return false;
    }
    if (memcmp(s->slots[i], k, 32) == 0)
      return true;
  }
}

static void keyset_free(sg_sbx_keyset *s) {
  if (s == NULL)
    return;
  sg_free(s->slots);
  sg_free(s->used);
  sg_free(s);
}

void sg_sbx_stats_init(sg_sbx_stats *st, size_t recent_cap) {
  memset(st, 0, sizeof *st);
  st->keys = sg_xcalloc(1, sizeof *st->keys);
  st->recent_cap = recent_cap;
  if (recent_cap)
    st->recent = sg_xcalloc(recent_cap, sizeof(char *));
}

void sg_sbx_stats_free(sg_sbx_stats *st) {
  keyset_free(st->keys);
  for (size_t i = 0; i < st->recent_cap; i++)
    sg_free(st->recent[i]);
  sg_free(st->recent);
  memset(st, 0, sizeof *st);
}

void sg_sbx_stats_reset(sg_sbx_stats *st) {
  size_t cap = st->recent_cap;
  uint64_t inflight = st->inflight_now;
  sg_sbx_stats_free(st);
  sg_sbx_stats_init(st, cap);
  st->inflight_now = inflight; /* requests still being processed stay counted */
}

void sg_sbx_stats_reject(sg_sbx_stats *st, const char *code) {
  if (code == NULL || code[0] == '\0')
    code = "unknown";
  for (size_t i = 0; i < st->ncodes; i++) {
    if (strcmp(st->rejected[i].code, code) == 0) {
      st->rejected[i].count++;
      return;
    }
  }
  if (st->ncodes == SG_SBX_MAX_CODES) {
    code = "other";
    for (size_t i = 0; i < st->ncodes; i++)
      if (strcmp(st->rejected[i].code, code) == 0) {
        st->rejected[i].count++;
        return;
      }
    st->ncodes--; /* the last slot becomes "other" */
  }
  snprintf(st->rejected[st->ncodes].code, sizeof st->rejected[0].code, "%s", code);
  st->rejected[st->ncodes].count = 1;
  st->ncodes++;
}

bool sg_sbx_stats_accept(sg_sbx_stats *st, const uint8_t key[32], const char *record,
                         size_t len) {
  bool dup = keyset_insert(st->keys, key);
  if (dup)
    st->duplicates++;
  if (st->recent_cap && record) {
    size_t slot = (st->recent_head + st->recent_len) % st->recent_cap;
    if (st->recent_len == st->recent_cap) {
      slot = st->recent_head;
      st->recent_head = (st->recent_head + 1) % st->recent_cap;
    } else {
      st->recent_len++;
    }
    sg_free(st->recent[slot]);
    st->recent[slot] = sg_xstrndup(record, len);
  }
  return dup;
}

#define U(name) sg_buf_printf(out, "\"" #name "\":%llu,", (unsigned long long)st->name)

void sg_sbx_stats_json(const sg_sbx_stats *st, sg_buf *out) {
  sg_buf_append_char(out, '{');
  U(requests);
  U(graph_accepted);
  U(acs_accepted);
  U(acs_repeats);
  U(acs_polls);
  sg_buf_printf(out, "\"messages\":%llu,",
                (unsigned long long)(st->graph_accepted + st->acs_accepted));
  sg_buf_printf(out, "\"distinct_messages\":%llu,", (unsigned long long)st->keys->len);
  U(duplicates);
  U(throttled_graph);
  U(throttled_acs);
  U(throttled_token);
  U(retry_after_violations);
  U(tokens_issued);
  U(token_requests);
  U(auth_failures);
  U(inflight_now);
  U(max_inflight_per_mailbox);
  sg_buf_printf(out,
                "\"faults\":{\"500\":%llu,\"503\":%llu,\"504\":%llu,\"reset\":%llu,\"drop\":%llu,"
                "\"goaway\":%llu,\"delay_202\":%llu,\"acs_drop\":%llu},",
                (unsigned long long)st->fault_500, (unsigned long long)st->fault_503,
                (unsigned long long)st->fault_504, (unsigned long long)st->fault_reset,
                (unsigned long long)st->fault_drop, (unsigned long long)st->fault_goaway,
                (unsigned long long)st->fault_delay_202, (unsigned long long)st->fault_acs_drop);
  sg_buf_append_str(out, "\"rejected\":{");
  for (size_t i = 0; i < st->ncodes; i++) {
    if (i)
      sg_buf_append_char(out, ',');
    sg_jw_cstr(out, st->rejected[i].code);
    sg_buf_printf(out, ":%llu", (unsigned long long)st->rejected[i].count);
  }
  sg_buf_append_str(out, "}}");
}

void sg_sbx_stats_messages_json(const sg_sbx_stats *st, size_t limit, sg_buf *out) {
  sg_buf_append_char(out, '[');
  size_t n = st->recent_len < limit ? st->recent_len : limit;
  size_t first = st->recent_len - n;
  for (size_t i = 0; i < n; i++) {
    if (i)
      sg_buf_append_char(out, ',');
    sg_buf_append_str(out, st->recent[(st->recent_head + first + i) % st->recent_cap]);
  }
  sg_buf_append_char(out, ']');
}
