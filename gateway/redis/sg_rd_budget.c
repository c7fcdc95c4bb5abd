/* SPDX-License-Identifier: Apache-2.0 */
/* The shared-budget script and its call; see sg_rd_budget.h. */
#include "redis/sg_rd_budget.h"

#include <string.h>

#include "core/sg_err.h"
#include "core/sg_fmt.h"
#include "core/sg_mem.h"
#include "redis/sg_rd_script.h"

/*
 * ARGV: gateway id, lease ms, share ms, key prefix, the lanes, "1" when a
 * call of this gateway succeeded before, "1" when it leaves (everything it
 * holds goes back, as for a gateway that died; no lanes then). One lane per line: "<len>:<lane
 * key>" then numbers: cap want rel claim flags (1 reset, 2 company: drop the credit this gateway
 * took alone) bye pause_ms, per window (5) limit window_ms ret ret_sid, nruns, per run of jobs that
 * cost the same: count and 5 charges. Reply: now, gateways, lost (1: this gateway's registry entry
 * had expired, its leases are gone), the number of news and the news (lane keys where another
 * gateway arrived), then per lane 14 numbers: slots granted, items granted, other gateways on the
 * lane, pause left (ms), credit per window (5), sub-window index of the credit per window (5).
 *
 * Window hash <base>w<w>: field = sub-window index (decimal), value = credit
 * counted there; gateways of the previous version read and write it the same
 * way. Its companion <base>w<w>:s holds t, the sum of the window's live fields,
 * and r, the sub-window index (floor(now / slot)) when t was last rebuilt.
 * A credit read takes t when r is the current index: a field expires only
 * when the index moves (the cutoff depends on it alone). Otherwise it rebuilds
 * t from the window as before (HGETALL, HDEL of the expired fields, sum). Every
 * change the script makes to the window goes to t too: granted credit is added
 * (the companion was read or rebuilt in the same call) and credit given back
 * is taken off when the companion exists (one made by that HINCRBY would have
 * no r nor TTL; a missing companion is rebuilt at its next read anyway). The
 * companion gets the window's TTL whenever the window does, and at a rebuild.
 * Writers that do not keep t (older gateways) are seen at the next rebuild:
 * t may miss their changes for the rest of the current sub-window only.
 *
 * Cost: a call does the registry (expired gateways' leases dropped through
 * their lane sets, once) and per lane a few commands. Per limited window, a
 * credit read is one HMGET of the companion; the window hash (at most 61
 * sub-windows) is read and summed at most once per sub-window (1/60 of the
 * window) per lane, whichever gateway asks first.
 */
static const char SCRIPT[] =
    "local gw, lease, share, pfx, blob = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], "
    "ARGV[5]\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local keep = 10 * lease\n"
    "local reg = pfx .. 'gateways'\n"
    "local me = redis.call('ZSCORE', reg, gw)\n"
    "local lost = 0\n"
    "if ARGV[6] == '1' and (not me or tonumber(me) <= now) then lost = 1 end\n"
    "local function purge(d)\n"
    "  local ls = pfx .. 'lanes:' .. d\n"
    "  for _, lane in ipairs(redis.call('SMEMBERS', ls)) do\n"
    "    local b = pfx .. '{' .. lane .. '}:'\n"
    "    redis.call('HDEL', b .. 's', d)\n"
    "    redis.call('HDEL', b .. 'a', d)\n"
    "    redis.call('ZREM', b .. 'q', d)\n"
    "    redis.call('ZREM', b .. 'g', d)\n"
    "  end\n"
    "  redis.call('DEL', ls, pfx .. 'news:' .. d)\n"
    "  redis.call('ZREM', reg, d)\n"
    "end\n"
    "for _, d in ipairs(redis.call('ZRANGEBYSCORE', reg, '-inf', now)) do purge(d) end\n"
    "if ARGV[7] == '1' then\n"
    "  purge(gw)\n"
    "  return {now, redis.call('ZCARD', reg), 0, 0}\n"
    "end\n"
    "redis.call('ZADD', reg, now + lease, gw)\n"
    "redis.call('PEXPIRE', reg, keep)\n"
    "local mylanes, nk = pfx .. 'lanes:' .. gw, pfx .. 'news:' .. gw\n"
    "redis.call('PEXPIRE', mylanes, keep)\n"
    "local news = redis.call('SMEMBERS', nk)\n"
    "if #news > 0 then redis.call('DEL', nk) end\n"
    "local out = {now, redis.call('ZCARD', reg), lost, #news}\n"
    "for _, k in ipairs(news) do out[#out + 1] = k end\n"
    "local function tell(m, lane)\n"
    "  redis.call('SADD', pfx .. 'news:' .. m, lane)\n"
    "  redis.call('PEXPIRE', pfx .. 'news:' .. m, keep)\n"
    "end\n"
    "local pos = 1\n"
    "while pos <= #blob do\n"
    "  local colon = string.find(blob, ':', pos, true)\n"
    "  local klen = tonumber(string.sub(blob, pos, colon - 1))\n"
    "  local lane = string.sub(blob, colon + 1, colon + klen)\n"
    "  local eol = string.find(blob, '\\n', colon + klen + 1, true)\n"
    "  local v = {}\n"
    "  for x in string.gmatch(string.sub(blob, colon + klen + 1, eol - 1), '%d+') do\n"
    "    v[#v + 1] = tonumber(x)\n"
    "  end\n"
    "  pos = eol + 1\n"
    "  local cap, want, rel, claim, flags, bye, pause = v[1], v[2], v[3], v[4], v[5], v[6], v[7]\n"
    "  local nruns = v[28]\n"
    "  local base = pfx .. '{' .. lane .. '}:'\n"
    "  local gk, sk, qk, pk, ak = base .. 'g', base .. 's', base .. 'q', base .. 'p', base .. 'a'\n"
    "  local old = tonumber(redis.call('HGET', sk, gw) or '0')\n"
    "  local mine = claim\n"
    "  if flags % 2 == 0 then mine = math.max(old - rel, 0) + claim end\n"
    "  local left = redis.call('PTTL', pk)\n"
    "  if pause > 0 and pause > left then\n"
    "    redis.call('SET', pk, '1', 'PX', pause)\n"
    "    left = pause\n"
    "  end\n"
    "  if left < 0 then left = 0 end\n"
    "  local others\n"
    "  local leaving = bye == 1 and mine == 0 and want == 0 and nruns == 0\n"
    "  if leaving then\n"
    "    redis.call('ZREM', gk, gw)\n"
    "    redis.call('SREM', mylanes, lane)\n"
    "    others = redis.call('ZCARD', gk)\n"
    "  else\n"
    "    if redis.call('ZADD', gk, now, gw) == 1 then\n"
    "      redis.call('SADD', mylanes, lane)\n"
    "      for _, m in ipairs(redis.call('ZRANGE', gk, 0, -1)) do\n"
    "        if m ~= gw then tell(m, lane) end\n"
    "      end\n"
    "    end\n"
    "    redis.call('PEXPIRE', gk, keep)\n"
    "    others = redis.call('ZCARD', gk) - 1\n"
    "  end\n"
    "  local granted = 0\n"
    "  if want > 0 and left == 0 then\n"
    "    local used = mine\n"
    "    local all = redis.call('HGETALL', sk)\n"
    "    for i = 1, #all, 2 do\n"
    "      if all[i] ~= gw then used = used + tonumber(all[i + 1]) end\n"
    "    end\n"
    "    local ahead = redis.call('ZRANK', qk, gw)\n"
    "    if not ahead then ahead = redis.call('ZCARD', qk) end\n"
    "    local free = cap - used - ahead\n"
    "    if free > 0 then granted = math.min(want, free) end\n"
    "    mine = mine + granted\n"
    "    if granted < want then\n"
    "      redis.call('ZADD', qk, 'NX', now, gw)\n"
    "      redis.call('PEXPIRE', qk, keep)\n"
    "    else redis.call('ZREM', qk, gw) end\n"
    "  elseif cap > 0 then\n"
    "    redis.call('ZREM', qk, gw)\n"
    "  end\n"
    "  if mine ~= old then\n"
    "    if mine > 0 then redis.call('HSET', sk, gw, mine) else redis.call('HDEL', sk, gw) end\n"
    "  end\n"
    "  if mine > 0 then redis.call('PEXPIRE', sk, keep) end\n"
    "  local blocked = left > 0\n"
    "  if cap == 0 then\n"
    "    local gave = false\n"
    "    for w = 0, 4 do if v[10 + 4 * w] > 0 then gave = true end end\n"
    "    if flags >= 2 or leaving or (gave and nruns == 0) then redis.call('HDEL', ak, gw) end\n"
    "    if nruns > 0 and others > 0 and not blocked then\n"
    "      local a = redis.call('HGETALL', ak)\n"
    "      for i = 1, #a, 2 do\n"
    "        if a[i] ~= gw and tonumber(a[i + 1]) > now then\n"
    "          blocked = true\n"
    "          tell(a[i], lane)\n"
    "        end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  local lim, sums, keys, rec, cr, sid = {}, {}, {}, {}, {}, {}\n"
    "  for w = 0, 4 do\n"
    "    local l, wms, ret, rsid = v[8 + 4 * w], v[9 + 4 * w], v[10 + 4 * w], v[11 + 4 * w]\n"
    "    cr[w], sid[w], lim[w] = 0, 0, l\n"
    "    if l > 0 and (ret > 0 or nruns > 0) then\n"
    "      local slot = math.max(1, math.floor(wms / 60))\n"
    "      local key = base .. 'w' .. w\n"
    "      local ck = key .. ':s'\n"
    "      keys[w] = key\n"
    "      if ret > 0 then\n"
    "        local f = string.format('%d', rsid)\n"
    "        local have = tonumber(redis.call('HGET', key, f) or '0')\n"
    "        if have > 0 then\n"
    "          local d = math.min(ret, have)\n"
    "          redis.call('HINCRBY', key, f, -d)\n"
    "          if redis.call('EXISTS', ck) == 1 then redis.call('HINCRBY', ck, 't', -d) end\n"
    "        end\n"
    "      end\n"
    "      if nruns > 0 and not blocked then\n"
    "        local nslots = math.ceil(wms / slot)\n"
    "        rec[w] = {math.floor((now + share) / slot), wms + share + 2 * slot}\n"
    "        local cur = math.floor(now / slot)\n"
    "        local cs = redis.call('HMGET', ck, 't', 'r')\n"
    "        local sum = tonumber(cs[1])\n"
    "        if not sum or tonumber(cs[2]) ~= cur then\n"
    "          sum = 0\n"
    "          local h = redis.call('HGETALL', key)\n"
    "          for i = 1, #h, 2 do\n"
    "            if tonumber(h[i]) < cur - nslots then redis.call('HDEL', key, h[i])\n"
    "            else sum = sum + tonumber(h[i + 1]) end\n"
    "          end\n"
    "          local ts, rs = string.format('%d', sum), string.format('%d', cur)\n"
    "          redis.call('HSET', ck, 't', ts, 'r', rs)\n"
    "          redis.call('PEXPIRE', ck, rec[w][2])\n"
    "        end\n"
    "        sums[w] = sum\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  local got = 0\n"
    "  if nruns > 0 and not blocked then\n"
    "    for j = 0, nruns - 1 do\n"
    "      local b = 29 + 6 * j\n"
    "      local n = v[b]\n"
    "      for w = 0, 4 do\n"
    "        local c = v[b + 1 + w]\n"
    "        if lim[w] > 0 and c > 0 then\n"
    "          n = math.min(n, math.floor((lim[w] - sums[w] - cr[w]) / c))\n"
    "        end\n"
    "      end\n"
    "      if n < 0 then n = 0 end\n"
    "      for w = 0, 4 do\n"
    "        if lim[w] > 0 then cr[w] = cr[w] + n * v[b + 1 + w] end\n"
    "      end\n"
    "      got = got + n\n"
    "      if n < v[b] then break end\n"
    "    end\n"
    "  end\n"
    "  for w = 0, 4 do\n"
    "    if cr[w] > 0 then\n"
    "      local f = string.format('%d', rec[w][1])\n"
    "      redis.call('HINCRBY', keys[w], f, cr[w])\n"
    "      redis.call('PEXPIRE', keys[w], rec[w][2])\n"
    "      redis.call('HINCRBY', keys[w] .. ':s', 't', cr[w])\n"
    "      redis.call('PEXPIRE', keys[w] .. ':s', rec[w][2])\n"
    "      sid[w] = rec[w][1]\n"
    "    end\n"
    "  end\n"
    "  if cap == 0 and got > 0 and others == 0 then\n"
    "    redis.call('HSET', ak, gw, now + share)\n"
    "    redis.call('PEXPIRE', ak, keep)\n"
    "  end\n"
    "  out[#out + 1] = granted\n"
    "  out[#out + 1] = got\n"
    "  out[#out + 1] = others\n"
    "  out[#out + 1] = left\n"
    "  for w = 0, 4 do out[#out + 1] = cr[w] end\n"
    "  for w = 0, 4 do out[#out + 1] = sid[w] end\n"
    "end\n"
    "return out\n";

#define REPLY_HEAD 4
#define REPLY_PER_OP 14

/* One call out; outlives |b| when |b| is freed first. */
typedef struct call {
  sg_rd_budget *b; /* NULL: abandoned */
  sg_rd_budget_cb cb;
  void *ud;
  size_t nops;
} call;

struct sg_rd_budget {
  sg_rd_client *c;
  sg_rd_script script;
  char *gw, *prefix;
  char lease[24], share[24];
  uint32_t timeout_ms;
  call *out;
  sg_buf blob;
};

void sg_rd_budget_new(sg_rd_client *c, const sg_rd_budget_opts *o, sg_rd_budget **out) {
  sg_rd_budget *b = sg_xcalloc(1, sizeof *b);
  b->c = c;
  sg_rd_script_init(&b->script, SCRIPT);
  b->gw = sg_xstrdup(o->gateway_id);
  b->prefix = sg_xstrdup(o->prefix ? o->prefix : "sendgate:budget:");
  sg_fmt_u64(b->lease, o->lease_ms);
  sg_fmt_u64(b->share, o->share_ms);
  b->timeout_ms = o->timeout_ms;
  sg_buf_init(&b->blob);
  *out = b;
}

void sg_rd_budget_free(sg_rd_budget *b) {
  if (b == NULL)
    return;
  if (b->out)
    b->out->b = NULL;
  sg_free(b->gw);
  sg_free(b->prefix);
  sg_buf_free(&b->blob);
  sg_free(b);
}

static void put_u64(sg_buf *out, uint64_t v) {
  char n[24];
  size_t len = sg_fmt_u64(n, v);
  sg_buf_append_char(out, ' ');
  sg_buf_append(out, n, len);
}

void sg_rd_budget_encode(const sg_share_req *req, sg_buf *out) {
  for (size_t i = 0; i < req->nops; i++) {
    const sg_share_op *op = &req->ops[i];
    char n[24];
    size_t klen = strlen(op->key);
    sg_buf_append(out, n, sg_fmt_u64(n, klen));
    sg_buf_append_char(out, ':');
    sg_buf_append(out, op->key, klen);
    uint64_t flags = (op->reset ? 1u : 0u) | (op->company ? 2u : 0u);
    uint64_t head[7] = {op->cap, op->want,          op->rel,     op->claim,
                        flags,   op->bye ? 1u : 0u, op->pause_ms};
    for (int k = 0; k < 7; k++)
      put_u64(out, head[k]);
    for (int w = 0; w < SG_SHARE_NWIN; w++) {
      put_u64(out, op->limit[w]);
      put_u64(out, op->win_ms[w]);
      put_u64(out, op->ret[w]);
      put_u64(out, op->ret_sid[w]);
    }
    put_u64(out, op->nruns);
    for (size_t k = 0; k < (size_t)op->nruns * SG_SHARE_RUN; k++)
      put_u64(out, req->charges[op->items + k]);
    sg_buf_append_char(out, '\n');
  }
}

static uint64_t num(const redisReply *r) {
  return r->type == REDIS_REPLY_INTEGER && r->integer > 0 ? (uint64_t)r->integer : 0;
}

/* The news: lane keys (hiredis's strings are NUL-terminated). A lane key
 * holds no NUL; one that would is skipped. At most this many are read per
 * answer (the rest are lost: the gateway learns of that company at its next
 * op on the lane). */
#define MAX_NEWS 4096

static int parse(const redisReply *r, size_t nops, sg_rd_budget_reply *out, sg_share_grant *g,
                 const char **news) {
  if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < REPLY_HEAD)
    return SG_ERR_PARSE;
  size_t nn = (size_t)num(r->element[3]);
  if (r->elements != REPLY_HEAD + nn + nops * REPLY_PER_OP)
    return SG_ERR_PARSE;
  out->gateways = (uint32_t)num(r->element[1]);
  out->lost = num(r->element[2]) != 0;
  out->nnews = 0;
  for (size_t i = 0; i < nn; i++) {
    const redisReply *e = r->element[REPLY_HEAD + i];
    if (e->type == REDIS_REPLY_STRING && strlen(e->str) == e->len && out->nnews < MAX_NEWS)
      news[out->nnews++] = e->str;
  }
  out->news = news;
  for (size_t i = 0; i < nops; i++) {
    redisReply **e = r->element + REPLY_HEAD + nn + i * REPLY_PER_OP;
    g[i].slots = (uint32_t)num(e[0]);
    g[i].items = (uint32_t)num(e[1]);
    g[i].others = (uint32_t)num(e[2]);
    g[i].pause_ms = num(e[3]);
    for (int w = 0; w < SG_SHARE_NWIN; w++) {
      g[i].credit[w] = num(e[4 + w]);
      g[i].sid[w] = num(e[9 + w]);
    }
  }
  out->g = g;
  out->n = nops;
  return 0;
}

static void on_reply(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  (void)c;
  call *k = ud;
  if (k->b == NULL) { /* abandoned */
    sg_free(k);
    return;
  }
  k->b->out = NULL;
  sg_rd_budget_reply out;
  memset(&out, 0, sizeof out);
  sg_share_grant *g = NULL;
  const char **news = NULL;
  if (status == 0) {
    g = sg_xcalloc(k->nops ? k->nops : 1, sizeof *g);
    size_t nn = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= REPLY_HEAD
                    ? (size_t)num(reply->element[3])
                    : 0;
    news = sg_xcalloc(nn && nn < MAX_NEWS ? nn : MAX_NEWS, sizeof *news);
    status = parse(reply, k->nops, &out, g, news);
  }
  k->cb(status, status == 0 ? &out : NULL, k->ud);
  sg_free(news);
  sg_free(g);
  sg_free(k);
}

static int run(sg_rd_budget *b, const sg_share_req *req, bool known, bool leave, call *k) {
  sg_buf_reset(&b->blob);
  sg_rd_budget_encode(req, &b->blob);
  const char *args[7] = {b->gw,
                         b->lease,
                         b->share,
                         b->prefix,
                         b->blob.data ? b->blob.data : "",
                         known ? "1" : "0",
                         leave ? "1" : "0"};
  size_t lens[7] = {
      strlen(b->gw), strlen(b->lease), strlen(b->share), strlen(b->prefix), b->blob.len, 1, 1};
  return sg_rd_script_run(&b->script, b->c, 0, 7, args, lens, b->timeout_ms, on_reply, k);
}

int sg_rd_budget_call(sg_rd_budget *b, const sg_share_req *req, bool known, sg_rd_budget_cb cb,
                      void *ud) {
  if (b->out)
    return SG_ERR_BUSY;
  call *k = sg_xcalloc(1, sizeof *k);
  *k = (call){b, cb, ud, req->nops};
  int rv = run(b, req, known, false, k);
  if (rv) {
    sg_free(k);
    return rv;
  }
  b->out = k;
  return 0;
}

int sg_rd_budget_leave(sg_rd_budget *b) {
  sg_share_req none;
  memset(&none, 0, sizeof none);
  call *k = sg_xcalloc(1, sizeof *k); /* abandoned at once: its answer is not awaited */
  int rv = run(b, &none, true, true, k);
  if (rv)
    sg_free(k);
  return rv;
}
