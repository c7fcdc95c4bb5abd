/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Job stream consumer: the read side (group setup, own pending entries, then
 * blocking reads under credit) and the lifecycle. The completion queue lives
 * in sg_rd_stream_txn.c. See sg_rd_stream.h for the protocol.
 */
#include "redis/sg_rd_stream_int.h"

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "net/sg_tls.h"

#include <stdio.h>
#include <string.h>

/* After an unexpected error reply to a read, wait this long before setting up
 * again, so a persistent error (WRONGTYPE on the key...) cannot spin. */
#define READ_RETRY_MS 1000
#define READ_BYTES_MAX ((int64_t)16 << 20)
#define NATIVE_BLOCK_MS 1000
/* A sized stream reads natively only when at least this many entries of the
 * estimated size fit in a read: larger entries cost Redis little per byte in
 * the script, and a native read that overflows costs a reconnect. */
#define NATIVE_MIN_COUNT 4
#define EST_ENTRY_MIN 64
/* After an entry is given back (sg_rd_stream_unhold), the pending list is read
 * again no sooner than this. */
#define RESCAN_MS 1000

/*
 * The read: sizes are decided in Redis, before any payload crosses the wire.
 * KEYS[1] stream; ARGV: group, consumer, count, from ('>' for new entries, else
 * the pending-scan cursor), max entry bytes (0: none), byte budget.
 *
 * New entries: the ones after the group's last delivered id are sized with
 * XRANGE, in pages of 8, 16, 32... entries (so that a stream of large entries
 * is not pulled into the script by the hundred), and as many as the budget
 * allows (at least one) are taken in the same atomic call, as XREADGROUP
 * would: XCLAIM ... RETRYCOUNT 1 FORCE JUSTID LASTID <last> puts them in this
 * consumer's pending list with one delivery and moves the group's last
 * delivered id (without reading the entries a second time).
 * Own pending entries (after a restart): XREADGROUP from the cursor in the
 * same pages, cut at the budget (an entry of a page past the budget counts a
 * delivery and is read again next time). Either way an entry over the
 * max entry size comes back as {id, nil, size} without its fields, an entry
 * deleted meanwhile as {id, nil}, the others as {id, fields, size}, in
 * XREADGROUP's reply shape {{key, entries}}. A missing key or group answers
 * NOGROUP (the reader creates them again).
 */
static const char read_script[] =
    "local key, g, c = KEYS[1], ARGV[1], ARGV[2]\n"
    "local count, from = tonumber(ARGV[3]), ARGV[4]\n"
    "local maxe, budget = tonumber(ARGV[5]), tonumber(ARGV[6])\n"
    "local function size(f)\n"
    "  local n = 0\n"
    "  for i = 1, #f do n = n + #f[i] end\n"
    "  return n\n"
    "end\n"
    "local out, total, page = {}, 0, 8\n"
    "local function add(e)\n"
    "  if not e[2] then out[#out + 1] = {e[1], false} return true end\n"
    "  local n = size(e[2])\n"
    "  if maxe > 0 and n > maxe then out[#out + 1] = {e[1], false, n} return true end\n"
    "  if #out > 0 and total + n > budget then return false end\n"
    "  total = total + n\n"
    "  out[#out + 1] = {e[1], e[2], n}\n"
    "  return true\n"
    "end\n"
    "if from == '>' then\n"
    "  local gs = redis.pcall('XINFO', 'GROUPS', key)\n"
    "  if gs.err then return redis.error_reply('NOGROUP ' .. gs.err) end\n"
    "  local last\n"
    "  for _, gi in ipairs(gs) do\n"
    "    local name, ld\n"
    "    for i = 1, #gi, 2 do\n"
    "      if gi[i] == 'name' then name = gi[i + 1]\n"
    "      elseif gi[i] == 'last-delivered-id' then ld = gi[i + 1] end\n"
    "    end\n"
    "    if name == g then last = ld break end\n"
    "  end\n"
    "  if not last then return redis.error_reply('NOGROUP no such consumer group') end\n"
    "  local ids, full = {}, false\n"
    "  while #ids < count and not full do\n"
    "    local want = math.min(page, count - #ids)\n"
    "    local r = redis.call('XRANGE', key, '(' .. last, '+', 'COUNT', want)\n"
    "    for _, e in ipairs(r) do\n"
    "      if not add(e) then full = true break end\n"
    "      ids[#ids + 1] = e[1]\n"
    "      last = e[1]\n"
    "    end\n"
    "    if #r < want then break end\n"
    "    page = page * 2\n"
    "  end\n"
    "  if #ids == 0 then return {} end\n"
    "  ids[#ids + 1] = 'RETRYCOUNT'\n"
    "  ids[#ids + 1] = 1\n"
    "  ids[#ids + 1] = 'FORCE'\n"
    "  ids[#ids + 1] = 'JUSTID'\n"
    "  ids[#ids + 1] = 'LASTID'\n"
    "  ids[#ids + 1] = last\n"
    "  redis.call('XCLAIM', key, g, c, 0, unpack(ids))\n"
    "else\n"
    "  local k, full = 0, false\n"
    "  while k < count and not full do\n"
    "    local want = math.min(page, count - k)\n"
    "    local r = redis.call('XREADGROUP', 'GROUP', g, c, 'COUNT', want, 'STREAMS', key, from)\n"
    "    local es = r and r[1] and r[1][2] or {}\n"
    "    for _, e in ipairs(es) do\n"
    "      if not add(e) then full = true break end\n"
    "      k = k + 1\n"
    "      from = e[1]\n"
    "    end\n"
    "    if #es < want then break end\n"
    "    page = page * 2\n"
    "  end\n"
    "end\n"
    "return {{key, out}}\n";

static void do_setup(sg_rd_stream *s);
static void on_retry_timer(uv_timer_t *t);
static void on_wait_timer(uv_timer_t *t);

/* ---- read side ---- */

static void read_error(sg_rd_stream *s, const char *what, const redisReply *reply) {
  sg_log_kv(SG_LOG_ERROR, "redis", what, "stream", s->key, "detail",
            reply && reply->type == REDIS_REPLY_ERROR ? reply->str : NULL, NULL);
  s->read_state = RS_SETUP;
  if (!s->stopping)
    uv_timer_start(&s->retry_timer, on_retry_timer, READ_RETRY_MS, 0);
}

static const sg_rd_field *build_fields(sg_rd_stream *s, const redisReply *kv, size_t *n) {
  size_t pairs = kv->elements / 2;
  if (pairs > s->fields_cap) {
    s->fields = sg_xrealloc(s->fields, pairs * sizeof *s->fields);
    s->fields_cap = pairs;
  }
  for (size_t i = 0; i < pairs; i++) {
    const redisReply *k = kv->element[2 * i], *v = kv->element[2 * i + 1];
    s->fields[i] = (sg_rd_field){k->str, k->len, v->str, v->len};
  }
  *n = pairs;
  return s->fields;
}

static bool is_str(const redisReply *r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

/* Checks the shape [[key, [[id, [f, v, ...] | nil, size?], ...]]]; returns the entries array. */
static const redisReply *entries_of(const redisReply *reply) {
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1)
    return NULL;
  const redisReply *kv = reply->element[0];
  if (kv->type != REDIS_REPLY_ARRAY || kv->elements != 2 ||
      kv->element[1]->type != REDIS_REPLY_ARRAY)
    return NULL;
  const redisReply *entries = kv->element[1];
  for (size_t i = 0; i < entries->elements; i++) {
    const redisReply *e = entries->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || e->elements > 3 ||
        !is_str(e->element[0]))
      return NULL;
    if (e->elements == 3 &&
        (e->element[2]->type != REDIS_REPLY_INTEGER || e->element[2]->integer < 0))
      return NULL;
    const redisReply *f = e->element[1];
    if (f->type == REDIS_REPLY_NIL)
      continue;
    if (f->type != REDIS_REPLY_ARRAY || f->elements % 2 != 0)
      return NULL;
    for (size_t j = 0; j < f->elements; j++)
      if (!is_str(f->element[j]))
        return NULL;
  }
  return entries;
}

static void deliver(sg_rd_stream *s, const redisReply *e, bool from_pending) {
  const redisReply *idr = e->element[0];
  sg_rd_entry ent;
  memset(&ent, 0, sizeof ent);
  if (idr->len >= SG_RD_ID_MAX || sg_rd_id_parse(idr->str, idr->len, &ent.id_num) != 0) {
    sg_log_kv(SG_LOG_ERROR, "redis", "bad entry id", "stream", s->key, NULL);
    return;
  }
  if (sg_rd_idset_has(&s->held, ent.id_num) || sg_rd_idset_has(&s->recent, ent.id_num))
    return; /* still being worked on since before the reconnect, or just completed */
  uint64_t size = e->elements == 3 ? (uint64_t)e->element[2]->integer : 0;
  bool oversize = e->element[1]->type == REDIS_REPLY_NIL && e->elements == 3;
  bool native = e->elements == 2 && e->element[1]->type == REDIS_REPLY_ARRAY;
  if (native) {
    /* A native read: sized here (it came in under the reply cap). */
    const redisReply *f = e->element[1];
    for (size_t i = 0; i < f->elements; i++)
      size += f->element[i]->len;
    oversize = s->opts.max_entry_bytes && size > s->opts.max_entry_bytes;
  }
  if (size > s->read_max)
    s->read_max = size;
  if (oversize) {
    /* Over the entry size cap: handed out without its fields (never read). */
    sg_rd_idset_add(&s->held, ent.id_num);
    ent.id = idr->str;
    ent.size = size;
    ent.oversize = true;
    ent.redelivered = from_pending;
    if (s->credit > 0)
      s->credit--;
    s->stats.fetched++;
    s->stats.native_fetched += native;
    s->stats.oversize++;
    s->cbs.on_entry(s, &ent, s->cbs.ud);
    return;
  }
  if (e->element[1]->type == REDIS_REPLY_NIL) {
    /* Pending but deleted meanwhile: nothing to send, just stop it coming back. */
    sg_log_kv(SG_LOG_WARN, "redis", "pending entry without payload acked", "stream", s->key,
              "entry", idr->str, NULL);
    s->stats.deleted_acked++;
    sg_rd_stream_complete(s, idr->str, NULL, 0, NULL, NULL);
    return;
  }
  sg_rd_idset_add(&s->held, ent.id_num);
  ent.id = idr->str;
  ent.fields = build_fields(s, e->element[1], &ent.nfields);
  ent.redelivered = from_pending;
  ent.size = size;
  if (s->credit > 0)
    s->credit--;
  s->byte_credit -= (int64_t)size;
  s->stats.fetched++;
  s->stats.native_fetched += native;
  s->cbs.on_entry(s, &ent, s->cbs.ud);
}

static void read_reply(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  (void)c;
  sg_rd_stream *s = ud;
  s->read_inflight = false;
  if (s->stopping || status == SG_ERR_SHUTDOWN)
    return;
  if (status == SG_ERR_REDIS) {
    if (strncmp(reply->str, "NOGROUP", 7) == 0) { /* group or key vanished (FLUSHALL...) */
      do_setup(s);
      return;
    }
    read_error(s, "read failed", reply);
    return;
  }
  if (status != 0)
    return; /* connection lost: on_down / on_up restart the cycle */
  s->stats.reads++;
  bool from_pending = s->read_state == RS_PENDING;
  const redisReply *entries = NULL;
  if (reply->type == REDIS_REPLY_NIL) { /* a native read's BLOCK expired */
    sg_rd_stream__maybe_read(s);
    return;
  }
  if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 0) {
    if (!from_pending) { /* nothing new: poll again after a pause that grows while idle */
      s->poll_ms = s->poll_ms ? s->poll_ms * 2 : 1;
      if (s->poll_ms > s->opts.poll_ms)
        s->poll_ms = s->opts.poll_ms;
      uv_timer_start(&s->wait_timer, on_wait_timer, s->poll_ms, 0);
      return;
    }
  } else if ((entries = entries_of(reply)) == NULL) {
    read_error(s, "unexpected read reply", NULL);
    return;
  }
  if (!from_pending)
    s->poll_ms = 0;
  if (entries == NULL) { /* the pending scan is through */
    s->read_state = RS_LIVE;
    sg_log_kv(SG_LOG_DEBUG, "redis", "own pending entries done", "stream", s->key, NULL);
    sg_rd_stream__maybe_read(s);
    return;
  }
  if (from_pending) {
    if (entries->elements == 0) {
      s->read_state = RS_LIVE;
      sg_log_kv(SG_LOG_DEBUG, "redis", "own pending entries done", "stream", s->key, NULL);
    } else {
      const redisReply *last = entries->element[entries->elements - 1]->element[0];
      snprintf(s->cursor, sizeof s->cursor, "%.*s", (int)last->len, last->str);
    }
  } else if (entries->elements == 0) { /* (not from the script, but harmless) */
    sg_rd_stream__maybe_read(s);
    return;
  }
  s->delivering = true;
  s->read_max = 0;
  for (size_t i = 0; i < entries->elements && !s->stopping; i++)
    deliver(s, entries->element[i], from_pending);
  s->delivering = false;
  if (entries->elements > 0)
    s->est_entry = s->read_max > s->est_entry / 2 ? s->read_max : s->est_entry / 2;
  if (!from_pending && s->opts.fetch_wait_ms > 0 && entries->elements > 0 &&
      entries->elements < s->last_count && !s->stopping) {
    /* A short read: the rest of the burst is probably still on its way (Redis
     * wakes a blocked reader on the first entry). Let it gather first. */
    uv_timer_start(&s->wait_timer, on_wait_timer, s->opts.fetch_wait_ms, 0);
    return;
  }
  sg_rd_stream__maybe_read(s);
}

static void on_wait_timer(uv_timer_t *t) {
  sg_rd_stream__maybe_read(t->data);
}

/*
 * How many new entries the next read may take natively (XREADGROUP COUNT n
 * BLOCK, what Redis does cheapest: about 7 us of Redis CPU per entry less
 * than the sizing script, which converts every entry to Lua and back), out of
 * the |n| wanted; 0: read with the script.
 *
 * With neither an entry size cap nor a byte budget, always. Otherwise a native
 * reply's sizes are known only once it is in, and what bounds it is the read
 * connection's reply cap (sg_rd_replies_set_cap: the strings of one reply),
 * so a native read is sent only when
 *  - the byte credit could take a whole reply of the cap's size (held bytes
 *    stay within the budget whatever comes), and
 *  - the cap holds COUNT entries of the estimated size plus one entry of
 *    max_entry_bytes: a larger surprise drops the connection (SG_ERR_TOOBIG)
 *    and the entries it took come again through the pending scan, sized by
 *    the script; an entry over max_entry_bytes that fits is handed out
 *    without its fields, as the script would.
 */
static uint32_t native_count(const sg_rd_stream *s, uint32_t n) {
  if (s->read_state != RS_LIVE)
    return 0;
  if (!s->opts.max_entry_bytes && !s->opts.byte_budget)
    return n;
  if (s->reply_cap == 0 || s->reply_cap <= s->opts.max_entry_bytes)
    return 0;
  if (s->opts.byte_budget && s->byte_credit < (int64_t)s->reply_cap)
    return 0;
  uint64_t est = s->est_entry > EST_ENTRY_MIN ? s->est_entry : EST_ENTRY_MIN;
  uint64_t fit = (s->reply_cap - s->opts.max_entry_bytes) / est;
  if (fit < NATIVE_MIN_COUNT)
    return 0;
  return fit < n ? (uint32_t)fit : n;
}

/* Sends the native read of |n| new entries; false if it could not be sent. */
static bool read_native(sg_rd_stream *s, uint32_t n) {
  char count[16], block[16];
  int clen = snprintf(count, sizeof count, "%u", n);
  int blen = snprintf(block, sizeof block, "%u", NATIVE_BLOCK_MS);
  const char *argv[] = {"XREADGROUP", "GROUP", s->group,  s->consumer, "COUNT", count,
                        "BLOCK",      block,   "STREAMS", s->key,      ">"};
  size_t lens[] = {10,
                   5,
                   strlen(s->group),
                   strlen(s->consumer),
                   5,
                   (size_t)clen,
                   5,
                   (size_t)blen,
                   7,
                   strlen(s->key),
                   1};
  if (sg_rd_client_cmd(s->rc, 11, argv, lens, s->opts.cmd_timeout_ms + NATIVE_BLOCK_MS, read_reply,
                       s) != 0)
    return false;
  s->read_inflight = true;
  s->stats.native_reads++;
  sg_rd_idset_free(&s->recent);
  sg_rd_idset_init(&s->recent);
  return true;
}

void sg_rd_stream__maybe_read(sg_rd_stream *s) {
  if (s->rescan && s->read_state == RS_LIVE && !s->read_inflight && !s->delivering &&
      sg_rd_client_is_up(s->cc) && !uv_is_active((uv_handle_t *)&s->wait_timer)) {
    s->rescan = false;
    s->read_state = RS_PENDING; /* entries given back: read own pending ones again */
    strcpy(s->cursor, "0");
    s->stats.rescans++;
  }
  if (s->stopping || s->delivering || s->read_inflight || s->credit == 0 || s->reads_held ||
      (s->read_state != RS_PENDING && s->read_state != RS_LIVE) ||
      uv_is_active((uv_handle_t *)&s->wait_timer))
    return;
  /* Bytes: held entries never exceed the budget, as a read starts only
   * while one more entry of the largest size fits. */
  int64_t room = s->opts.max_entry_bytes ? (int64_t)s->opts.max_entry_bytes : 1;
  if (s->opts.byte_budget && s->byte_credit < room)
    return;
  uint32_t n = s->credit < s->opts.count ? s->credit : s->opts.count;
  uint32_t nn = native_count(s, n);
  s->last_count = nn ? nn : n;
  if (nn && read_native(s, nn))
    return;
  char count[16], maxe[24], budget[24];
  int clen = snprintf(count, sizeof count, "%u", n);
  int mlen = snprintf(maxe, sizeof maxe, "%llu", (unsigned long long)s->opts.max_entry_bytes);
  /* One read's reply is held twice for a moment (hiredis's buffer and its
   * reply objects): a read takes at most READ_BYTES_MAX (or one entry), and
   * stays under the reply cap (its ids count there too). */
  int64_t b =
      s->opts.byte_budget && s->byte_credit < READ_BYTES_MAX ? s->byte_credit : READ_BYTES_MAX;
  int64_t ids = 64 + (int64_t)n * (SG_RD_ID_MAX + 8);
  if (s->reply_cap && b > (int64_t)s->reply_cap - ids)
    b = (int64_t)s->reply_cap > 2 * ids ? (int64_t)s->reply_cap - ids : ids;
  int blen = snprintf(budget, sizeof budget, "%lld", (long long)b);
  bool live = s->read_state == RS_LIVE;
  const char *id = live ? ">" : s->cursor;
  const char *args[] = {s->key, s->group, s->consumer, count, id, maxe, budget};
  size_t lens[] = {strlen(s->key), strlen(s->group), strlen(s->consumer), (size_t)clen,
                   strlen(id),     (size_t)mlen,     (size_t)blen};
  if (sg_rd_script_run(&s->read_script, s->rc, 1, 7, args, lens, s->opts.cmd_timeout_ms, read_reply,
                       s) == 0) {
    s->read_inflight = true;
    /* Acks confirmed before this read was sent are applied before it runs. */
    sg_rd_idset_free(&s->recent);
    sg_rd_idset_init(&s->recent);
  }
}

static void setup_reply(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  (void)c;
  sg_rd_stream *s = ud;
  s->read_inflight = false;
  if (s->stopping || (status != 0 && status != SG_ERR_REDIS))
    return;
  if (status == SG_ERR_REDIS && strncmp(reply->str, "BUSYGROUP", 9) != 0) {
    read_error(s, "XGROUP CREATE failed", reply);
    return;
  }
  s->read_state = RS_PENDING;
  strcpy(s->cursor, "0");
  sg_rd_stream__maybe_read(s);
}

static void do_setup(sg_rd_stream *s) {
  s->read_state = RS_SETUP;
  if (s->stopping || s->read_inflight)
    return;
  const char *argv[] = {"XGROUP", "CREATE", s->key, s->group, "0", "MKSTREAM"};
  size_t lens[] = {6, 6, strlen(s->key), strlen(s->group), 1, 8};
  if (sg_rd_client_cmd(s->rc, 6, argv, lens, s->opts.cmd_timeout_ms, setup_reply, s) == 0)
    s->read_inflight = true;
}

static void on_retry_timer(uv_timer_t *t) {
  sg_rd_stream *s = t->data;
  if (s->read_state == RS_SETUP)
    do_setup(s);
}

static void rc_up(sg_rd_client *c, void *ud) {
  (void)c;
  sg_rd_stream *s = ud;
  if (s->rc_ups++ > 0)
    s->stats.reconnects++;
  /* Entries are read only while the command connection is up too: what the
   * owner does with an entry (ledger lookups, completions) goes there. The
   * two connect side by side, so either may be up first. */
  if (!sg_rd_client_is_up(s->cc)) {
    s->setup_waits_cc = true;
    return;
  }
  do_setup(s);
}

static void rc_down(sg_rd_client *c, int reason, void *ud) {
  (void)c;
  sg_rd_stream *s = ud;
  if (reason == SG_ERR_TOOBIG) { /* a native read with entries over the reply cap */
    char cap[24];
    snprintf(cap, sizeof cap, "%zu", s->reply_cap);
    sg_log_kv(SG_LOG_WARN, "redis",
              s->opts.max_entry_bytes
                  ? "a read came over the reply cap: its entries come again, sized"
                  : "a read came over the reply cap (set gateway.max_job_bytes "
                    "to refuse such entries)",
              "stream", s->key, "cap", cap, NULL);
    s->stats.oversize_reads++;
    if (s->est_entry < s->reply_cap)
      s->est_entry = s->reply_cap; /* sized reads until smaller entries are seen again */
  }
  s->read_state = RS_DOWN;
  s->read_inflight = false;
  s->setup_waits_cc = false;
  uv_timer_stop(&s->retry_timer);
  uv_timer_stop(&s->wait_timer);
}

static void cc_up(sg_rd_client *c, void *ud) {
  (void)c;
  sg_rd_stream *s = ud;
  if (s->cc_ups++ > 0)
    s->stats.reconnects++;
  sg_rd_stream__txn_kick(s);
  if (s->setup_waits_cc && sg_rd_client_is_up(s->rc)) {
    s->setup_waits_cc = false;
    do_setup(s);
  }
  sg_rd_stream__maybe_read(s); /* a pending rescan waits for this connection */
}

/* ---- lifecycle ---- */

int sg_rd_stream_new(uv_loop_t *loop, const sg_rd_url *url, const sg_rd_stream_opts *opts,
                     const sg_rd_stream_cbs *cbs, sg_rd_stream **out) {
  if (!loop || !url || !opts || !opts->consumer || !opts->consumer[0] || !cbs || !cbs->on_entry)
    return SG_ERR_INVAL;
  /* rediss://: one TLS context for both connections (a bad CA file fails here). */
  SSL_CTX *ssl = NULL;
  if (url->tls && opts->client.tls_ctx == NULL) {
    const char *ca = opts->client.tls_ca_file;
    int rv = sg_tls_ctx_client_new2(&ssl, ca && ca[0] ? ca : NULL, SG_TLS_ALPN_NONE);
    if (rv != 0)
      return rv;
  }
  sg_rd_stream *s = sg_xcalloc(1, sizeof *s);
  s->loop = loop;
  s->opts = *opts;
  s->ssl = ssl;
  if (ssl != NULL)
    s->opts.client.tls_ctx = ssl;
  s->opts.client.tls_ca_file = NULL;
  s->cbs = *cbs;
  s->key = sg_xstrdup(opts->stream ? opts->stream : "sendgate:jobs");
  s->group = sg_xstrdup(opts->group ? opts->group : "sendgate");
  s->consumer = sg_xstrdup(opts->consumer);
  s->dead = sg_xstrdup(opts->dead_stream ? opts->dead_stream : "sendgate:dead");
  s->opts.stream = s->opts.group = s->opts.consumer = s->opts.dead_stream = NULL;
  if (s->opts.count == 0)
    s->opts.count = 64;
  if (s->opts.poll_ms == 0)
    s->opts.poll_ms = 20;
  s->byte_credit = (int64_t)s->opts.byte_budget;
  if (s->opts.byte_budget && s->opts.byte_budget < s->opts.max_entry_bytes)
    s->byte_credit = (int64_t)s->opts.max_entry_bytes; /* room for one entry at least */
  sg_rd_script_init(&s->read_script, read_script);
  if (s->opts.cmd_timeout_ms == 0)
    s->opts.cmd_timeout_ms = 5000;
  if (s->opts.stop_timeout_ms == 0)
    s->opts.stop_timeout_ms = 5000;
  sg_rd_idset_init(&s->held);
  sg_rd_idset_init(&s->recent);
  sg_rd_stream__txn_init(s);
  uv_timer_init(loop, &s->retry_timer);
  uv_timer_init(loop, &s->wait_timer);
  uv_timer_init(loop, &s->stop_timer);
  s->retry_timer.data = s->wait_timer.data = s->stop_timer.data = s;
  s->open = 3;

  sg_rd_client_opts co = s->opts.client;
  /* The read connection's reply cap: a sized read's largest reply (a read's
   * bytes plus one entry of the largest size), unless the owner set one. */
  if (co.max_reply_bytes == 0 && s->opts.max_entry_bytes)
    co.max_reply_bytes =
        (size_t)READ_BYTES_MAX + (size_t)s->opts.max_entry_bytes + ((size_t)1 << 20);
  s->reply_cap = co.max_reply_bytes;
  s->est_entry = s->opts.max_entry_bytes;
  co.name = "read";
  /* Reads' whole replies are capped (what makes native reads of a sized stream
   * safe, see native_count); the command connection's are bounded by what
   * their commands ask for (the reaper: byte room at the largest size). */
  co.max_reply_total = s->opts.max_entry_bytes ? s->reply_cap : 0;
  sg_rd_client_cbs rcb = {rc_up, rc_down, s};
  sg_rd_client_cbs ccb = {cc_up, NULL, s};
  sg_rd_client_new(loop, url, &co, &rcb, &s->rc);
  co.name = "cmd";
  co.max_reply_total = 0;
  sg_rd_client_new(loop, url, &co, &ccb, &s->cc);
  s->open += 2;
  sg_rd_client_start(s->cc);
  sg_rd_client_start(s->rc);
  *out = s;
  return 0;
}

static void release(sg_rd_stream *s) {
  if (--s->open > 0)
    return;
  if (s->stopped_cb)
    s->stopped_cb(s, s->stopped_ud);
  sg_rd_idset_free(&s->held);
  sg_rd_idset_free(&s->recent);
  sg_free(s->fields);
  sg_buf_free(&s->wbuf);
  sg_free(s->key);
  sg_free(s->ack_guard);
  sg_free(s->group);
  sg_free(s->consumer);
  sg_free(s->dead);
  SSL_CTX_free(s->ssl);
  sg_free(s);
}

static void on_handle_closed(uv_handle_t *h) {
  release(h->data);
}
static void on_client_closed(sg_rd_client *c, void *ud) {
  (void)c;
  release(ud);
}

void sg_rd_stream__finish_stop(sg_rd_stream *s) {
  if (s->cc_closing)
    return;
  s->cc_closing = true;
  sg_rd_stream__txn_fail_queued(s, SG_ERR_SHUTDOWN);
  sg_rd_client_close(s->cc, false, on_client_closed, s);
  sg_turn_reg_remove(&s->flush);
  uv_close((uv_handle_t *)&s->stop_timer, on_handle_closed);
  uv_close((uv_handle_t *)&s->retry_timer, on_handle_closed);
  uv_close((uv_handle_t *)&s->wait_timer, on_handle_closed);
}

static void on_stop_timer(uv_timer_t *t) {
  sg_rd_stream *s = t->data;
  sg_log_kv(SG_LOG_WARN, "redis", "stop: completions unconfirmed", "stream", s->key, NULL);
  sg_rd_stream__finish_stop(s);
}

void sg_rd_stream_stop(sg_rd_stream *s, sg_rd_stream_stopped_cb done, void *ud) {
  if (s->stopping)
    return;
  s->stopping = true;
  s->stopped_cb = done;
  s->stopped_ud = ud;
  uv_timer_stop(&s->retry_timer);
  uv_timer_stop(&s->wait_timer);
  sg_rd_client_close(s->rc, false, on_client_closed, s);
  if (sg_rd_stream__txn_pending(s) == 0)
    sg_rd_stream__finish_stop(s);
  else
    uv_timer_start(&s->stop_timer, on_stop_timer, s->opts.stop_timeout_ms, 0);
}

void sg_rd_stream_set_credit(sg_rd_stream *s, uint32_t credit) {
  s->credit = credit;
  sg_rd_stream__maybe_read(s);
}

void sg_rd_stream_hold_reads(sg_rd_stream *s, bool hold) {
  if (s->reads_held == hold)
    return;
  s->reads_held = hold;
  if (!hold)
    sg_rd_stream__maybe_read(s);
}

void sg_rd_stream_set_trim_acked(sg_rd_stream *s, bool on) {
  s->opts.trim_acked = on;
}

void sg_rd_stream_set_ack_guard(sg_rd_stream *s, const char *key) {
  sg_free(s->ack_guard);
  s->ack_guard = key ? sg_xstrdup(key) : NULL;
}

void sg_rd_stream_add_credit(sg_rd_stream *s, uint32_t n) {
  s->credit = n > UINT32_MAX - s->credit ? UINT32_MAX : s->credit + n;
  sg_rd_stream__maybe_read(s);
}

void sg_rd_stream_add_byte_credit(sg_rd_stream *s, uint64_t n) {
  s->byte_credit += (int64_t)n;
  sg_rd_stream__maybe_read(s);
}

uint32_t sg_rd_stream_take_credit(sg_rd_stream *s, uint32_t max) {
  uint32_t n = s->stopping ? 0 : s->credit < max ? s->credit : max;
  s->credit -= n;
  return n;
}

static int parse_id(const char *id, sg_rd_id *out) {
  size_t n = id ? strlen(id) : 0;
  return n > 0 && n < SG_RD_ID_MAX ? sg_rd_id_parse(id, n, out) : SG_ERR_INVAL;
}

int sg_rd_stream_hold(sg_rd_stream *s, const char *id) {
  sg_rd_id num;
  if (parse_id(id, &num) != 0)
    return SG_ERR_INVAL;
  if (sg_rd_idset_has(&s->recent, num))
    return SG_ERR_EXISTS; /* just completed: a claim that raced its ack */
  return sg_rd_idset_add(&s->held, num) ? 0 : SG_ERR_EXISTS;
}

void sg_rd_stream_unhold(sg_rd_stream *s, const char *id) {
  sg_rd_id num;
  if (parse_id(id, &num) != 0)
    return;
  sg_rd_idset_remove(&s->held, num);
  /* The entry stays in this consumer's pending list and must come back: the
   * pending list is scanned again once the command connection is up (its
   * loss is what usually makes the owner give an entry back), and not
   * sooner than RESCAN_MS, so an entry that keeps failing cannot spin. */
  s->rescan = true;
  if (!s->stopping && !uv_is_active((uv_handle_t *)&s->wait_timer))
    uv_timer_start(&s->wait_timer, on_wait_timer, RESCAN_MS, 0);
}

void sg_rd_stream_deliver_held(sg_rd_stream *s, const sg_rd_entry *e) {
  if (s->stopping)
    return;
  if (!e->oversize)
    s->byte_credit -= (int64_t)e->size;
  else
    s->stats.oversize++;
  s->stats.fetched++;
  s->cbs.on_entry(s, e, s->cbs.ud);
}

uint32_t sg_rd_stream_byte_room(const sg_rd_stream *s) {
  if (!s->opts.byte_budget)
    return UINT32_MAX;
  if (s->byte_credit <= 0)
    return 0;
  uint64_t unit = s->opts.max_entry_bytes ? s->opts.max_entry_bytes : 1;
  uint64_t n = (uint64_t)s->byte_credit / unit;
  return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

uint64_t sg_rd_stream_max_entry_bytes(const sg_rd_stream *s) {
  return s->opts.max_entry_bytes;
}

sg_rd_client *sg_rd_stream_cmd_client(sg_rd_stream *s) {
  return s->cc;
}

bool sg_rd_stream_is_up(const sg_rd_stream *s) {
  return !s->stopping && sg_rd_client_is_up(s->rc) && sg_rd_client_is_up(s->cc);
}

void sg_rd_stream_get_stats(const sg_rd_stream *s, sg_rd_stream_stats *out) {
  *out = s->stats;
  out->pending_completions = sg_rd_stream__txn_pending(s);
  out->held = s->held.n;
  out->credit = s->credit;
  out->byte_credit = s->byte_credit;
}
