/* SPDX-License-Identifier: Apache-2.0 */
/* The shared-budget script and its call; see sg_rd_budget.h. */
#include "redis/sg_rd_budget.h"

#include <string.h>

#include "core/sg_err.h"
#include "core/sg_fmt.h"
#include "core/sg_mem.h"
#include "redis/sg_rd_script.h"

/*
 * ARGV: gateway id, lease ms, share ms, key prefix, the lanes. One lane per
 * line: "<len>:<lane key>" then numbers: cap want rel claim reset bye pause_ms,
 * per window (5) limit window_ms ret ret_sid, nruns, per run of jobs that cost
 * the same: count and 5 charges.
 * Reply: now, gateways, then per lane 14 numbers: slots granted, items
 * granted, other gateways on the lane, pause left (ms), credit per window (5),
 * sub-window index of the credit per window (5).
 */
static const char SCRIPT[] =
    "local gw, lease, share, pfx, blob = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], "
    "ARGV[5]\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local reg = pfx .. 'gateways'\n"
    "redis.call('ZREMRANGEBYSCORE', reg, '-inf', now)\n"
    "redis.call('ZADD', reg, now + lease, gw)\n"
    "redis.call('PEXPIRE', reg, 2 * lease)\n"
    "local out = {now, redis.call('ZCARD', reg)}\n"
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
    "  local cap, want, rel, claim, reset, bye, pause = v[1], v[2], v[3], v[4], v[5], v[6], v[7]\n"
    "  local base = pfx .. '{' .. lane .. '}:'\n"
    "  local gk, sk, qk, pk = base .. 'g', base .. 's', base .. 'q', base .. 'p'\n"
    "  local dead = redis.call('ZRANGEBYSCORE', gk, '-inf', now)\n"
    "  for _, m in ipairs(dead) do\n"
    "    redis.call('HDEL', sk, m)\n"
    "    redis.call('ZREM', qk, m)\n"
    "    redis.call('ZREM', gk, m)\n"
    "  end\n"
    "  local old = tonumber(redis.call('HGET', sk, gw) or '0')\n"
    "  local mine = claim\n"
    "  if reset == 0 then mine = math.max(old - rel, 0) + claim end\n"
    "  local left = tonumber(redis.call('PTTL', pk))\n"
    "  if pause > 0 and pause > left then\n"
    "    redis.call('SET', pk, '1', 'PX', pause)\n"
    "    left = pause\n"
    "  end\n"
    "  if left < 0 then left = 0 end\n"
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
    "      redis.call('PEXPIRE', qk, 2 * lease)\n"
    "    else redis.call('ZREM', qk, gw) end\n"
    "  else\n"
    "    redis.call('ZREM', qk, gw)\n"
    "  end\n"
    "  if mine > 0 then\n"
    "    redis.call('HSET', sk, gw, mine)\n"
    "    redis.call('PEXPIRE', sk, 2 * lease)\n"
    "  elseif old > 0 then redis.call('HDEL', sk, gw) end\n"
    "  local nruns = v[28]\n"
    "  local lim, sums, keys, rec, cr, sid = {}, {}, {}, {}, {}, {}\n"
    "  for w = 0, 4 do\n"
    "    local l, wms, ret, rsid = v[8 + 4 * w], v[9 + 4 * w], v[10 + 4 * w], v[11 + 4 * w]\n"
    "    cr[w], sid[w], lim[w] = 0, 0, l\n"
    "    if l > 0 then\n"
    "      local slot = math.max(1, math.floor(wms / 60))\n"
    "      local nslots = math.ceil(wms / slot)\n"
    "      local key = base .. 'w' .. w\n"
    "      keys[w] = key\n"
    "      rec[w] = {math.floor((now + share) / slot), wms + share + 2 * slot}\n"
    "      if ret > 0 then\n"
    "        local f = string.format('%d', rsid)\n"
    "        local have = tonumber(redis.call('HGET', key, f) or '0')\n"
    "        if have > 0 then redis.call('HINCRBY', key, f, -math.min(ret, have)) end\n"
    "      end\n"
    "      if nruns > 0 then\n"
    "        local sum, cur = 0, math.floor(now / slot)\n"
    "        local h = redis.call('HGETALL', key)\n"
    "        for i = 1, #h, 2 do\n"
    "          if tonumber(h[i]) < cur - nslots then redis.call('HDEL', key, h[i])\n"
    "          else sum = sum + tonumber(h[i + 1]) end\n"
    "        end\n"
    "        sums[w] = sum\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  local got = 0\n"
    "  if left == 0 then\n"
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
    "      sid[w] = rec[w][1]\n"
    "    end\n"
    "  end\n"
    "  local others\n"
    "  if bye == 1 and mine == 0 then\n"
    "    redis.call('ZREM', gk, gw)\n"
    "    redis.call('ZREM', qk, gw)\n"
    "    others = redis.call('ZCARD', gk)\n"
    "  else\n"
    "    redis.call('ZADD', gk, now + lease, gw)\n"
    "    redis.call('PEXPIRE', gk, 2 * lease)\n"
    "    others = redis.call('ZCARD', gk) - 1\n"
    "  end\n"
    "  local r = {granted, got, others, left}\n"
    "  for w = 0, 4 do r[5 + w] = cr[w] end\n"
    "  for w = 0, 4 do r[10 + w] = sid[w] end\n"
    "  for i = 1, 14 do out[#out + 1] = r[i] end\n"
    "end\n"
    "return out\n";

#define REPLY_HEAD 2
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
    uint64_t head[7] = {op->cap,           op->want,    op->rel, op->claim, op->reset ? 1u : 0u,
                        op->bye ? 1u : 0u, op->pause_ms};
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

static int parse(const redisReply *r, size_t nops, uint32_t *gateways, sg_share_grant *g) {
  if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != REPLY_HEAD + nops * REPLY_PER_OP)
    return SG_ERR_PARSE;
  *gateways = (uint32_t)num(r->element[1]);
  for (size_t i = 0; i < nops; i++) {
    redisReply **e = r->element + REPLY_HEAD + i * REPLY_PER_OP;
    g[i].slots = (uint32_t)num(e[0]);
    g[i].items = (uint32_t)num(e[1]);
    g[i].others = (uint32_t)num(e[2]);
    g[i].pause_ms = num(e[3]);
    for (int w = 0; w < SG_SHARE_NWIN; w++) {
      g[i].credit[w] = num(e[4 + w]);
      g[i].sid[w] = num(e[9 + w]);
    }
  }
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
  uint32_t gateways = 0;
  sg_share_grant *g = NULL;
  if (status == 0) {
    g = sg_xcalloc(k->nops ? k->nops : 1, sizeof *g);
    status = parse(reply, k->nops, &gateways, g);
  }
  k->cb(status, gateways, status == 0 ? g : NULL, status == 0 ? k->nops : 0, k->ud);
  sg_free(g);
  sg_free(k);
}

int sg_rd_budget_call(sg_rd_budget *b, const sg_share_req *req, sg_rd_budget_cb cb, void *ud) {
  if (b->out)
    return SG_ERR_BUSY;
  sg_buf_reset(&b->blob);
  sg_rd_budget_encode(req, &b->blob);
  const char *args[5] = {b->gw, b->lease, b->share, b->prefix, b->blob.data ? b->blob.data : ""};
  size_t lens[5] = {strlen(b->gw), strlen(b->lease), strlen(b->share), strlen(b->prefix),
                    b->blob.len};
  call *k = sg_xcalloc(1, sizeof *k);
  *k = (call){b, cb, ud, req->nops};
  int rv = sg_rd_script_run(&b->script, b->c, 0, 5, args, lens, b->timeout_ms, on_reply, k);
  if (rv) {
    sg_free(k);
    return rv;
  }
  b->out = k;
  return 0;
}
