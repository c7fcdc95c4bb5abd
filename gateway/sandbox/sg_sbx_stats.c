/* SPDX-License-Identifier: Apache-2.0 */
/* Sandbox counters, duplicate detection and recent messages; see sg_sbx_stats.h. */
#include "sandbox/sg_sbx_stats.h"

#include <stdio.h>
#include <string.h>

#include "core/sg_json_write.h"

/* Open-addressing set of message keys (SHA-256 values). Only the first 8
 * bytes are kept, as a fingerprint (0 marks an empty slot; a key whose first
 * 8 bytes are 0 is stored as 1): 8 bytes a key instead of 33 keeps the table
 * small, and two different messages share a fingerprint with probability
 * about n^2 / 2^65 (3e-8 for a million messages), a false duplicate. At 50 %
 * load a table twice the size is zeroed 8 KB per insert (its pages are first
 * touched a few at a time: a page fault costs ~10 us on the benchmark's VM),
 * then takes over, and the old one is moved into it a few slots per insert,
 * as Redis rehashes its dictionaries. Doubling at once stalled the sandbox
 * for 100 ms and more at a hundred thousand keys, which the benchmark saw as
 * gateway latency. */
typedef struct keytab {
  uint64_t *slots;
  size_t cap, len;
} keytab;

#define KEYSET_MOVE_PER_INSERT 128          /* slots: done well before the next growth */
#define KEYSET_ZERO_PER_INSERT (8u * 1024u) /* bytes: two pages */

struct sg_sbx_keyset {
  keytab cur;
  keytab next;        /* being zeroed before it takes over; cap 0 when not */
  size_t next_zeroed; /* bytes of next.slots zeroed */
  keytab old;         /* being moved into cur; cap 0 when not */
  size_t old_next;    /* next slot of old to move */
  size_t len;         /* distinct keys in the set */
};

static uint64_t key_fp(const uint8_t k[32]) {
  uint64_t h;
  memcpy(&h, k, sizeof h);
  return h ? h : 1;
}

/* The slot of |fp| in |t|, or of the empty slot where it would go. */
static size_t tab_find(const keytab *t, uint64_t fp, bool *found) {
  size_t mask = t->cap - 1;
  for (size_t i = fp & mask;; i = (i + 1) & mask) {
    if (t->slots[i] == 0 || t->slots[i] == fp) {
      *found = t->slots[i] == fp;
      return i;
    }
  }
}

static void tab_free(keytab *t) {
  sg_free(t->slots);
  memset(t, 0, sizeof *t);
}

/* Moves the next |n| slots of the old table; frees it once all are moved. */
static void keyset_move(sg_sbx_keyset *s, size_t n) {
  for (; n > 0 && s->old_next < s->old.cap; s->old_next++, n--) {
    uint64_t fp = s->old.slots[s->old_next];
    if (fp == 0)
      continue;
    bool found;
    size_t i = tab_find(&s->cur, fp, &found);
    if (!found) {
      s->cur.slots[i] = fp;
      s->cur.len++;
    }
  }
  if (s->old.cap && s->old_next == s->old.cap)
    tab_free(&s->old);
}

/* Makes the next table, allocated but not yet zeroed. */
static void keyset_start_next(sg_sbx_keyset *s) {
  s->next.cap = s->cur.cap ? s->cur.cap * 2 : 1024;
  s->next.slots = sg_xmalloc(s->next.cap * sizeof(uint64_t));
  s->next.len = 0;
  s->next_zeroed = 0;
}

/* Zeroes up to |budget| more bytes of the next table; true once all are. */
static bool keyset_zero_next(sg_sbx_keyset *s, size_t budget) {
  size_t total = s->next.cap * sizeof(uint64_t), n = total - s->next_zeroed;
  n = n < budget ? n : budget;
  memset((uint8_t *)s->next.slots + s->next_zeroed, 0, n);
  s->next_zeroed += n;
  return s->next_zeroed == total;
}

/* The zeroed next table takes over; the current one starts moving into it. */
static void keyset_switch(sg_sbx_keyset *s) {
  keyset_move(s, SIZE_MAX); /* a move still under way finishes first */
  s->old = s->cur;
  s->old_next = 0;
  s->cur = s->next;
  memset(&s->next, 0, sizeof s->next);
}

/* Returns true when |k| was already present. */
static bool keyset_insert(sg_sbx_keyset *s, const uint8_t k[32]) {
  /* At 50 % load the next table is prepared; the current one takes the keys
   * meanwhile (a few thousand more at most: its load stays below 75 %). */
  if (s->next.cap == 0 && (s->cur.len + 1) * 2 > s->cur.cap)
    keyset_start_next(s);
  if (s->next.cap) {
    size_t budget = s->cur.cap ? KEYSET_ZERO_PER_INSERT : SIZE_MAX;
    if (keyset_zero_next(s, budget) || (s->cur.len + 1) * 4 > s->cur.cap * 3) {
      keyset_zero_next(s, SIZE_MAX); /* done, or the current table is 75 % full */
      keyset_switch(s);
    }
  }
  keyset_move(s, KEYSET_MOVE_PER_INSERT);
  uint64_t fp = key_fp(k);
  bool found;
  size_t i = tab_find(&s->cur, fp, &found);
  if (found)
    return true;
  if (s->old.cap) {
    bool in_old;
    tab_find(&s->old, fp, &in_old);
    if (in_old)
      return true;
  }
  s->cur.slots[i] = fp;
  s->cur.len++;
  s->len++;
  return false;
}

static void keyset_free(sg_sbx_keyset *s) {
  if (s == NULL)
    return;
  tab_free(&s->cur);
  tab_free(&s->next);
  tab_free(&s->old);
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

bool sg_sbx_stats_accept(sg_sbx_stats *st, const uint8_t key[32], const char *record, size_t len) {
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
  U(drafts_created);
  U(drafts_sent);
  U(drafts_deleted);
  U(attachments_added);
  U(uploads_created);
  U(upload_ranges);
  U(upload_bytes);
  U(uploads_completed);
  U(throttled_upload);
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
