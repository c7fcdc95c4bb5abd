/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sent ledger (layout in sg_rd_queue.h): the id hash, the packed value,
 * the bucket keys, the batched lookups (one script call per loop turn) and
 * the write that goes into a completion.
 *
 * Sizing: a bucket stays a listpack (about 20 bytes per job) while it holds
 * at most hash-max-listpack-entries (128 by default) fields; one generation
 * holds the jobs sent in one ledger_ttl_s, spread evenly over ledger_slots
 * buckets, so ledger_slots should be at least jobs per ttl / 64 (the fullest
 * of many buckets holds well above the mean).
 */
/* SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP,
 * but they are kept, and they run the same assembly without the provider
 * layer: see sg_rd_ledger_id_make. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "redis/sg_rd_queue_int.h"

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_fmt.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "job/sg_result.h"
#include "redis/sg_resp.h"

#include <ctype.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

/* Appends up to |cap| bytes of |s| (lower-cased if |fold|) and a NUL. */
static size_t put(unsigned char *out, const char *s, size_t cap, bool fold) {
  size_t n = 0;
  for (; s[n] && n < cap; n++)
    out[n] = fold ? (unsigned char)tolower((unsigned char)s[n]) : (unsigned char)s[n];
  out[n] = 0;
  return n + 1;
}

void sg_rd_ledger_id_make(const char *account, const char *sender, const char *job_id,
                          sg_rd_ledger_id *out) {
  /* account NUL lower(sender) NUL id NUL: the NULs keep ("a", "bc") apart
   * from ("ab", "c"). Longer strings than the job limits are cut. */
  unsigned char buf[3 * 1024 + 3];
  size_t n = put(buf, account, 1024, false);
  n += put(buf + n, sender, 1024, true);
  n += put(buf + n, job_id, 1024, false);
  /* The low-level calls: OpenSSL 3's one-shot SHA256() fetches the
   * implementation on every call, and EVP_DigestInit_ex2/Final_ex on a
   * reused context still free and allocate the provider's context each time
   * (about 3,300 instructions a message in all, against about 600). */
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, buf, n);
  SHA256_Final(md, &ctx);
  uint64_t f = 0;
  uint32_t s = 0;
  for (int i = 0; i < 8; i++)
    f = f << 8 | md[i];
  for (int i = 8; i < 12; i++)
    s = s << 8 | md[i];
  out->field = (int64_t)f;
  out->slot_hash = s;
}

#define ATT_BITS 8
#define HTTP_BITS 10
#define TIME_MASK ((1ull << 45) - 1) /* ms: until the year 3084 */

int64_t sg_rd_sent_pack(const sg_rd_sent *s) {
  uint64_t att = s->attempts > 255 ? 255 : s->attempts;
  uint64_t http = s->http_status < 0 ? 0 : s->http_status > 1023 ? 1023 : (uint64_t)s->http_status;
  uint64_t t = s->completed_unix_ms < 0 ? 0 : (uint64_t)s->completed_unix_ms & TIME_MASK;
  return (int64_t)(t << (ATT_BITS + HTTP_BITS) | att << HTTP_BITS | http);
}

void sg_rd_sent_unpack(int64_t v, sg_rd_sent *out) {
  uint64_t u = (uint64_t)v;
  memset(out, 0, sizeof *out);
  out->http_status = (int32_t)(u & ((1u << HTTP_BITS) - 1));
  out->attempts = (uint32_t)(u >> HTTP_BITS & ((1u << ATT_BITS) - 1));
  out->completed_unix_ms = (int64_t)(u >> (ATT_BITS + HTTP_BITS) & TIME_MASK);
}

int64_t sg_rd_ledger_gen(const sg_rd_queue *q, int64_t unix_ms) {
  return q->ttl_s > 0 ? unix_ms / 1000 / q->ttl_s : 0;
}

/* "sendgate:ledger:<gen>:" */
static size_t gen_prefix(int64_t gen, char *out) {
  size_t n = sizeof SG_RD_LEDGER_PREFIX - 1;
  memcpy(out, SG_RD_LEDGER_PREFIX, n);
  n += sg_fmt_i64(out + n, gen);
  out[n++] = ':';
  out[n] = '\0';
  return n;
}

size_t sg_rd_ledger_key(const sg_rd_queue *q, int64_t gen, const sg_rd_ledger_id *id, char *out) {
  size_t n = gen_prefix(gen, out);
  return n + sg_fmt_u64(out + n, id->slot_hash % q->slots);
}

/* Whether a write to |slot| of |gen| must carry the bucket's EXPIREAT. */
static bool needs_expire(sg_rd_queue *q, int64_t gen, uint64_t slot) {
  sg_rd_stream_stats st;
  sg_rd_stream_get_stats(q->s, &st);
  if (q->exp_bits == NULL || gen != q->exp_gen || st.reconnects != q->exp_conn) {
    sg_free(q->exp_bits);
    q->exp_bits = sg_xcalloc((size_t)q->slots / 8 + 1, 1);
    q->exp_gen = gen;
    q->exp_conn = st.reconnects;
  }
  uint8_t bit = (uint8_t)(1u << (slot & 7));
  if (q->exp_bits[slot >> 3] & bit)
    return false;
  q->exp_bits[slot >> 3] |= bit;
  return true;
}

void sg_rd_ledger_write_init(sg_rd_queue *q, sg_rd_ledger_write *w, const sg_rd_ledger_id *id,
                             const sg_rd_sent *s, int64_t now_ms) {
  int64_t gen = sg_rd_ledger_gen(q, now_ms);
  size_t kl = sg_rd_ledger_key(q, gen, id, w->key_);
  size_t fl = sg_fmt_i64(w->field_, id->field);
  size_t vl = sg_fmt_i64(w->value_, sg_rd_sent_pack(s));
  size_t al = sg_fmt_i64(w->at_, (gen + 2) * q->ttl_s);
  const char *argv[] = {"HSETNX", w->key_, w->field_, w->value_, "EXPIREAT", w->key_, w->at_};
  size_t lens[] = {6, kl, fl, vl, 8, kl, al};
  memcpy(w->argv_, argv, sizeof argv);
  memcpy(w->lens_, lens, sizeof lens);
  w->ops[0] = (sg_rd_op){4, w->argv_, w->lens_};
  w->ops[1] = (sg_rd_op){3, w->argv_ + 4, w->lens_ + 4};
  w->nops = needs_expire(q, gen, id->slot_hash % q->slots) ? 2 : 1;
}

/* ---- lookups ---- */

/*
 * The lookups of a loop turn go out as plain commands pipelined on the
 * command connection (one write and one pending record per batch of 512
 * jobs), not as a script: Redis runs a native HGET for a fraction of what
 * the same call costs from Lua. Per batch one HLEN of the
 * first job's bucket of this generation (a sample of how full the buckets
 * are), then per job HGET <this generation's bucket> <field>, HGET <the
 * previous generation's bucket> <field> and, with the older layout on,
 * GET sendgate:sent:<job id>. A job is answered when its last reply is in:
 * this generation's record first, then the previous one's, then the older
 * layout's (only a SENT MailResult counts there; a key of another type is
 * no record). An error reply to an HGET (a bucket of another type) answers
 * that job SG_ERR_REDIS; the connection failing (or the batch's timeout)
 * answers every job whose replies are still out with its status.
 */

/* Above this many fields a bucket is no longer a listpack (Redis's default
 * hash-max-listpack-entries) and costs several times the memory. */
#define LISTPACK_MAX 128
#define FULL_WARN_EVERY_MS (10 * 60 * 1000)

#define LOOKUP_BATCH_MAX 512

typedef struct lookup_batch {
  sg_rd_queue *q;
  size_t n;    /* jobs */
  size_t per;  /* replies per job: 2, or 3 with the older layout */
  size_t sent; /* commands written (the HLEN included) */
  size_t got;  /* replies received */
  size_t owed; /* jobs from this index on were answered when the write failed */
  int status;  /* the current job's first error */
  bool hit;    /* the current job's record was found */
  sg_rd_sent rec;
  sg_rd_lookup *l[];
} lookup_batch;

/* A record of the older layout: a whole MailResult; only SENT ones count. */
static bool legacy_record(const char *data, size_t len, sg_rd_sent *out) {
  sg_result_msg *m;
  if (sg_result_decode((const uint8_t *)data, len, &m) != 0)
    return false;
  const sg_result *r = sg_result_msg_view(m);
  bool ok = r->status == SG_STATUS_SENT;
  *out = (sg_rd_sent){r->attempts, r->http_status, r->completed_unix_ms, true};
  sg_result_msg_free(m);
  return ok;
}

/* A bucket's packed value into |out|; false when it is not one. */
static bool packed_record(const redisReply *v, sg_rd_sent *out) {
  char num[24];
  if (v->len == 0 || v->len >= sizeof num)
    return false;
  memcpy(num, v->str, v->len);
  num[v->len] = '\0';
  char *end;
  long long packed = strtoll(num, &end, 10);
  if (*end != '\0')
    return false;
  sg_rd_sent_unpack((int64_t)packed, out);
  return true;
}

/* Keeps the sampled bucket's fill; says (every 10 minutes at most) when
 * buckets outgrow a listpack. With buckets sized as documented (64 fields on
 * average) a sample above 128 practically never happens; with 100 on
 * average, a few calls in a thousand see one. */
static void note_fill(sg_rd_queue *q, const redisReply *m) {
  if (m == NULL || m->type != REDIS_REPLY_INTEGER)
    return;
  q->fill = m->integer > 0 ? (uint32_t)m->integer : 0;
  int64_t now = sg_wall_ms();
  if (q->fill <= LISTPACK_MAX || now - q->full_warned_ms < FULL_WARN_EVERY_MS)
    return;
  q->full_warned_ms = now;
  char n[24];
  sg_fmt_u64(n, q->fill);
  sg_log_kv(SG_LOG_WARN, "redis",
            "sent-ledger buckets outgrow a listpack and take several times the memory: raise "
            "gateway.ledger_slots (deploy/README.md)",
            "fields", n, NULL);
}

/* One reply of job |b->l[j]|: |k| 0 and 1 are the HGETs, 2 the older
 * layout's GET. An error reply comes with SG_ERR_REDIS and |r| set; a lost
 * connection with its status and |r| NULL. */
static void job_reply(lookup_batch *b, size_t k, int status, const redisReply *r) {
  if (r != NULL && r->type == REDIS_REPLY_ERROR) {
    if (k == 2)
      return; /* the older layout's key holds another type: no record */
    if (b->status == 0)
      sg_log_kv(SG_LOG_ERROR, "redis", "ledger lookup refused", "detail", r->str, NULL);
    status = SG_ERR_REDIS;
  }
  if (status != 0 || r == NULL) {
    if (b->status == 0)
      b->status = status ? status : SG_ERR_REDIS;
    return;
  }
  if (b->hit || r->type != REDIS_REPLY_STRING)
    return; /* found already, or nil */
  b->hit = k < 2 ? packed_record(r, &b->rec) : legacy_record(r->str, r->len, &b->rec);
}

static void on_lookup_reply(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  (void)c;
  lookup_batch *b = ud;
  size_t i = b->got++;
  sg_rd_lookup *done = NULL; /* the job answered by this reply */
  int done_status = 0;
  sg_rd_sent rec;
  bool hit = false;
  if (i == 0) {
    if (status == 0 && reply != NULL)
      note_fill(b->q, reply);
  } else {
    size_t j = (i - 1) / b->per, k = (i - 1) % b->per;
    if (k == 0) {
      b->status = 0;
      b->hit = false;
    }
    job_reply(b, k, status, reply);
    if (k == b->per - 1) {
      done = b->l[j];
      done_status = b->status;
      hit = b->status == 0 && b->hit;
      rec = b->rec;
    }
  }
  /* The batch goes first: the callback may make the connection answer the
   * rest of it. */
  if (b->got == 1 + b->n * b->per)
    sg_free(b);
  if (done)
    done->cb(done, done_status, hit ? &rec : NULL);
}

void sg_rd_queue_lookup(sg_rd_queue *q, sg_rd_lookup *l, const sg_rd_ledger_id *id,
                        const char *job_id, sg_rd_lookup_cb cb) {
  l->id = *id;
  l->job_id = job_id;
  l->cb = cb;
  sg_list_push_back(&q->lookups, &l->node);
}

bool sg_rd_queue_lookup_cancel(sg_rd_lookup *l) {
  if (!sg_list_linked(&l->node))
    return false;
  sg_list_remove(&l->node);
  return true;
}

/* Copies |n| bytes to |p| and returns the byte after them. */
static char *put_raw(char *p, const void *src, size_t n) {
  memcpy(p, src, n);
  return p + n;
}

/* HGET <prefix><slot digits> <field> into |w|, written in one go (two per
 * job and many jobs per turn). */
static void put_hget(sg_buf *w, const char *prefix, size_t plen, const char *slot, size_t slen,
                     const char *field, size_t flen) {
  static const char head[] = "*3\r\n$4\r\nHGET\r\n$";
  char num[SG_FMT_U64_MAX];
  sg_buf_reserve(w, sizeof head + 2 * SG_FMT_U64_MAX + plen + slen + flen + 8);
  char *p = put_raw(w->data + w->len, head, sizeof head - 1);
  p = put_raw(p, num, sg_fmt_u64(num, plen + slen));
  p = put_raw(p, "\r\n", 2);
  p = put_raw(p, prefix, plen);
  p = put_raw(p, slot, slen);
  p = put_raw(p, "\r\n$", 3);
  p = put_raw(p, num, sg_fmt_u64(num, flen));
  p = put_raw(p, "\r\n", 2);
  p = put_raw(p, field, flen);
  p = put_raw(p, "\r\n", 2);
  *p = '\0';
  w->len = (size_t)(p - w->data);
}

/* Writes one batch's commands into |w|; returns how many. */
static uint32_t write_batch(sg_rd_queue *q, sg_buf *w, const lookup_batch *b, const char *p0,
                            size_t l0, const char *p1, size_t l1) {
  char key[64];
  memcpy(key, p0, l0);
  size_t kl = l0 + sg_fmt_u64(key + l0, b->l[0]->id.slot_hash % q->slots);
  sg_buf_reset(w);
  sg_resp_array(w, 2);
  sg_resp_bulk(w, "HLEN", 4);
  sg_resp_bulk(w, key, kl);
  for (size_t i = 0; i < b->n; i++) {
    const sg_rd_lookup *l = b->l[i];
    uint64_t slot = l->id.slot_hash % q->slots;
    char field[24], sd[SG_FMT_U64_MAX];
    size_t fl = sg_fmt_i64(field, l->id.field), sl = sg_fmt_u64(sd, slot);
    put_hget(w, p0, l0, sd, sl, field, fl);
    put_hget(w, p1, l1, sd, sl, field, fl);
    if (b->per == 3) {
      static const char pre[] = SG_RD_LEDGER_LEGACY_PREFIX;
      size_t il = strlen(l->job_id), pl = sizeof pre - 1;
      char len[SG_FMT_U64_MAX];
      size_t nl = sg_fmt_u64(len, pl + il);
      sg_resp_array(w, 2);
      sg_resp_bulk(w, "GET", 3);
      sg_buf_append(w, "$", 1);
      sg_buf_append(w, len, nl);
      sg_buf_append(w, "\r\n", 2);
      sg_buf_append(w, pre, pl);
      sg_buf_append(w, l->job_id, il);
      sg_buf_append(w, "\r\n", 2);
    }
  }
  return (uint32_t)(1 + b->n * b->per);
}

void sg_rd_queue_flush(sg_rd_queue *q) {
  if (sg_list_empty(&q->lookups))
    return;
  sg_rd_client *cc = sg_rd_stream_cmd_client(q->s);
  int64_t gen = sg_rd_ledger_gen(q, sg_wall_ms());
  char p0[48], p1[48];
  size_t l0 = gen_prefix(gen, p0), l1 = gen_prefix(gen - 1, p1);
  while (!sg_list_empty(&q->lookups)) {
    lookup_batch *b = sg_xmalloc(sizeof *b + LOOKUP_BATCH_MAX * sizeof(sg_rd_lookup *));
    *b = (lookup_batch){.q = q, .per = q->legacy ? 3 : 2};
    sg_list *n;
    while (b->n < LOOKUP_BATCH_MAX && (n = sg_list_pop_front(&q->lookups)) != NULL)
      b->l[b->n++] = sg_container_of(n, sg_rd_lookup, node);
    uint32_t ncmd = write_batch(q, &q->wbuf, b, p0, l0, p1, l1);
    int rv = sg_rd_client_pipeline_resp(cc, q->wbuf.data, q->wbuf.len, ncmd, q->timeout_ms,
                                        on_lookup_reply, b);
    if (rv != 0) {
      for (size_t i = 0; i < b->n; i++)
        b->l[i]->cb(b->l[i], rv, NULL); /* not up */
      sg_free(b);
    }
  }
  if (q->wbuf.cap > (1u << 20))
    sg_buf_free(&q->wbuf);
  sg_rd_client_flush(cc);
}

uint32_t sg_rd_queue_ledger_fill(const sg_rd_queue *q) {
  return q->fill;
}
