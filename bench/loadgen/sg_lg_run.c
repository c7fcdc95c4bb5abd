/* SPDX-License-Identifier: Apache-2.0 */
/* sendgate-loadgen's event loop: producers, results reader, timers; see sg_lg_run.h. */
#include "sg_lg_run.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "job/sg_result.h"
#include "redis/sg_rd_client.h"
#include "redis/sg_rd_ids.h"
#include "sg_lg_job.h"

#define MAX_STREAMS 2
#define READ_COUNT "1000" /* results per XREAD */
#define READ_BLOCK "500"  /* XREAD BLOCK ms; short so a reconnect resumes quickly */
#define READ_BLOCK_MS 500
#define CMD_TIMEOUT_MS 10000 /* any single command; then the connection is reset */
#define TICK_RATE_MS 1       /* timer period when pacing (jobs are issued per tick) */
#define TICK_MS 20           /* otherwise: watchdog and progress only */

typedef enum { PH_CONNECTING, PH_POSITIONING, PH_PRODUCING, PH_DRAINING, PH_DONE } phase;

typedef struct lg lg;
typedef struct producer producer;

/* One outstanding XADD: which job it carries. */
typedef struct slot {
  producer *p;
  uint64_t seq;
} slot;

struct producer {
  lg *g;
  sg_rd_client *c;
  slot *slots;    /* |pipeline| of them */
  uint32_t *free; /* stack of free slot indexes */
  uint32_t n_free;
};

struct lg {
  const sg_lg_opts *o;
  sg_lg_track *t;
  uv_loop_t loop;
  uv_timer_t tick;
  uv_signal_t sig[2];
  sg_rd_client *reader;
  producer *prods;
  uint32_t rr; /* round-robin start */
  int open_clients;
  sg_lg_builder builder;
  sg_buf job;
  phase ph;
  sg_lg_stop stop;
  int signals;
  uint64_t limit, next_seq, outstanding;
  uint64_t start_us, t0_us, last_queue_us, activity_us, drain_deadline_us, next_progress_us;
  uint64_t all_queued_us, completed_at_all_queued; /* when the last job was queued */
  uint64_t interval_us;
  uint64_t prev_us, prev_queued, prev_completed; /* at the last progress line */
  bool tty, progress_shown;
  const char *streams[MAX_STREAMS];
  char ids[MAX_STREAMS][SG_RD_ID_MAX];
  int n_streams, positioned;
  bool read_inflight;
  int err;
  char *errbuf;
  size_t errcap;
  sg_lg_times times;
};

static uint64_t now_us(void) {
  return uv_hrtime() / 1000u;
}
static double secs(uint64_t from, uint64_t to) {
  return to > from ? (double)(to - from) / 1e6 : 0;
}

static void pump(lg *g);
static void read_results(lg *g);

static void client_closed(sg_rd_client *c, void *ud) {
  (void)c;
  ((lg *)ud)->open_clients--;
}

static void finish(lg *g, sg_lg_stop stop) {
  if (g->ph == PH_DONE)
    return;
  uint64_t now = now_us();
  g->ph = PH_DONE;
  g->stop = stop;
  uint64_t t0 = g->t0_us ? g->t0_us : now;
  g->times.elapsed_s = secs(t0, now);
  g->times.queue_s = secs(t0, g->last_queue_us);
  g->times.complete_s = secs(t0, g->t->last_result_us);
  if (g->all_queued_us && g->t->last_result_us > g->all_queued_us) {
    g->times.drain_s = secs(g->all_queued_us, g->t->last_result_us);
    g->times.drain_completed = g->t->completed - g->completed_at_all_queued;
  }
  if (g->progress_shown && g->tty)
    fputc('\n', stderr);
  uv_timer_stop(&g->tick);
  uv_close((uv_handle_t *)&g->tick, NULL);
  for (int i = 0; i < 2; i++)
    uv_close((uv_handle_t *)&g->sig[i], NULL);
  if (g->reader)
    sg_rd_client_close(g->reader, false, client_closed, g);
  for (uint32_t i = 0; i < g->o->producers; i++)
    if (g->prods[i].c)
      sg_rd_client_close(g->prods[i].c, false, client_closed, g);
}

/* Ends the run on a Redis error reply: "|what| failed: |detail|". */
static void fail_run(lg *g, int err, const char *what, const char *detail) {
  g->err = err;
  snprintf(g->errbuf, g->errcap, "%s failed: %s", what, detail);
  finish(g, SG_LG_STOP_ERROR);
}

static void maybe_done(lg *g) {
  if (g->ph == PH_PRODUCING && g->next_seq >= g->limit && g->outstanding == 0) {
    g->ph = PH_DRAINING;
    g->drain_deadline_us = now_us() + (uint64_t)(g->o->timeout_s * 1e6);
  }
  if (g->ph == PH_DRAINING && sg_lg_track_missing(g->t) == 0)
    finish(g, SG_LG_STOP_DONE);
}

/* ---- producers ---- */

static void on_xadd(sg_rd_client *c, int status, const redisReply *r, void *ud) {
  (void)c;
  (void)r;
  slot *s = ud;
  producer *p = s->p;
  lg *g = p->g;
  p->free[p->n_free++] = (uint32_t)(s - p->slots);
  g->outstanding--;
  sg_lg_track_queued(g->t, s->seq, status == 0);
  if (status == 0) {
    g->last_queue_us = g->activity_us = now_us();
  }
  if (g->all_queued_us == 0 && g->t->queued + g->t->queue_failed >= g->o->count) {
    g->all_queued_us = now_us();
    g->completed_at_all_queued = g->t->completed;
  }
  if (g->ph == PH_DONE)
    return;
  pump(g);
  maybe_done(g);
}

static bool issue(lg *g, producer *p, uint64_t seq) {
  uint64_t us = now_us();
  sg_buf_reset(&g->job);
  sg_lg_job_build(&g->builder, seq, sg_wall_ms(), &g->job);
  uint32_t idx = p->free[p->n_free - 1];
  slot *s = &p->slots[idx];
  s->seq = seq;
  const char *argv[5] = {"XADD", g->o->jobs_stream, "*", "job", g->job.data};
  size_t lens[5] = {4, strlen(g->o->jobs_stream), 1, 3, g->job.len};
  if (sg_rd_client_cmd(p->c, 5, argv, lens, CMD_TIMEOUT_MS, on_xadd, s) != 0)
    return false;
  p->n_free--;
  g->outstanding++;
  sg_lg_track_built(g->t, seq, us, (int)sg_lg_job_kind(&g->builder, seq),
                    sg_lg_job_backend(&g->builder, seq));
  return true;
}

/* The next producer that is up and has room, round robin; NULL if none. */
static producer *pick(lg *g) {
  uint32_t n = g->o->producers;
  for (uint32_t k = 0; k < n; k++) {
    producer *p = &g->prods[(g->rr + k) % n];
    if (p->n_free > 0 && sg_rd_client_is_up(p->c)) {
      g->rr = (g->rr + k + 1) % n;
      return p;
    }
  }
  return NULL;
}

static void pump(lg *g) {
  if (g->ph != PH_PRODUCING)
    return;
  uint64_t allowed = g->limit;
  if (g->o->rate > 0) {
    double due = g->o->rate * secs(g->t0_us, now_us());
    if (due + 1 < (double)allowed)
      allowed = (uint64_t)due + 1;
  }
  /* The jobs of one turn go through one producer (one write, as one app
   * would queue a burst); the next turn takes the next producer. */
  producer *p = NULL;
  while (g->next_seq < allowed) {
    if (p == NULL || p->n_free == 0 || !sg_rd_client_is_up(p->c))
      p = pick(g);
    if (p == NULL || !issue(g, p, g->next_seq))
      break;
    g->next_seq++;
  }
}

static void on_producer_up(sg_rd_client *c, void *ud) {
  (void)c;
  pump(ud);
}

/* ---- results reader ---- */

static void handle_entry(lg *g, const redisReply *e, uint64_t now) {
  if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[1]->type != REDIS_REPLY_ARRAY)
    return;
  const redisReply *f = e->element[1];
  /* The entry id's time: when Redis appended the result. */
  int64_t entry_ms = 0;
  if (e->element[0]->type == REDIS_REPLY_STRING)
    entry_ms = strtoll(e->element[0]->str, NULL, 10);
  for (size_t i = 0; i + 1 < f->elements; i += 2) {
    const redisReply *k = f->element[i], *v = f->element[i + 1];
    if (k->type != REDIS_REPLY_STRING || k->len != 6 || memcmp(k->str, "result", 6) != 0 ||
        v->type != REDIS_REPLY_STRING)
      continue;
    sg_result_msg *m;
    if (sg_result_decode((const uint8_t *)v->str, v->len, &m) != 0) {
      sg_lg_track_undecodable(g->t);
      continue;
    }
    sg_lg_track_result_at(g->t, sg_result_msg_view(m), now, entry_ms);
    sg_result_msg_free(m);
  }
}

static void on_xread(sg_rd_client *c, int status, const redisReply *r, void *ud) {
  (void)c;
  lg *g = ud;
  g->read_inflight = false;
  if (g->ph == PH_DONE)
    return;
  if (status == SG_ERR_REDIS) {
    fail_run(g, SG_ERR_REDIS, "XREAD on the results stream", r ? r->str : "?");
    return;
  }
  if (status != 0)
    return; /* connection lost: on_reader_up reads again from the same ids */
  uint64_t now = now_us();
  for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
    const redisReply *s = r->element[i];
    if (s->type != REDIS_REPLY_ARRAY || s->elements != 2 ||
        s->element[1]->type != REDIS_REPLY_ARRAY)
      continue;
    int si = 0;
    for (int k = 0; k < g->n_streams; k++)
      if (s->element[0]->len == strlen(g->streams[k]) &&
          memcmp(s->element[0]->str, g->streams[k], s->element[0]->len) == 0)
        si = k;
    const redisReply *es = s->element[1];
    for (size_t j = 0; j < es->elements; j++) {
      const redisReply *e = es->element[j];
      if (e->type == REDIS_REPLY_ARRAY && e->elements >= 1 &&
          e->element[0]->type == REDIS_REPLY_STRING && e->element[0]->len < SG_RD_ID_MAX) {
        memcpy(g->ids[si], e->element[0]->str, e->element[0]->len);
        g->ids[si][e->element[0]->len] = '\0';
      }
      handle_entry(g, e, now);
    }
  }
  maybe_done(g);
  if (g->ph != PH_DONE)
    read_results(g);
}

static void read_results(lg *g) {
  if (g->read_inflight || !sg_rd_client_is_up(g->reader))
    return;
  const char *argv[6 + 2 * MAX_STREAMS] = {"XREAD", "COUNT",    READ_COUNT,
                                           "BLOCK", READ_BLOCK, "STREAMS"};
  size_t lens[6 + 2 * MAX_STREAMS];
  int argc = 6;
  for (int k = 0; k < g->n_streams; k++)
    argv[argc++] = g->streams[k];
  for (int k = 0; k < g->n_streams; k++)
    argv[argc++] = g->ids[k];
  for (int k = 0; k < argc; k++)
    lens[k] = strlen(argv[k]);
  if (sg_rd_client_cmd(g->reader, argc, argv, lens, READ_BLOCK_MS + CMD_TIMEOUT_MS, on_xread, g) ==
      0)
    g->read_inflight = true;
}

static void start_producing(lg *g) {
  g->ph = PH_PRODUCING;
  g->t0_us = g->activity_us = now_us();
  g->next_progress_us = g->t0_us + g->interval_us;
  read_results(g);
  pump(g);
  maybe_done(g);
}

static void on_position(sg_rd_client *c, int status, const redisReply *r, void *ud) {
  (void)c;
  lg *g = ud;
  if (g->ph != PH_POSITIONING)
    return;
  if (status == SG_ERR_REDIS) {
    fail_run(g, SG_ERR_REDIS, "XREVRANGE on the results stream", r ? r->str : "?");
    return;
  }
  if (status != 0)
    return; /* reconnecting: on_reader_up starts over */
  /* The stream's last entry, or nothing (an empty or absent stream: read from 0). */
  int si = g->positioned++;
  snprintf(g->ids[si], SG_RD_ID_MAX, "0-0");
  if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
      r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements >= 1) {
    const redisReply *id = r->element[0]->element[0];
    if (id->type == REDIS_REPLY_STRING && id->len < SG_RD_ID_MAX) {
      memcpy(g->ids[si], id->str, id->len);
      g->ids[si][id->len] = '\0';
    }
  }
  if (g->positioned == g->n_streams)
    start_producing(g);
}

static void on_reader_up(sg_rd_client *c, void *ud) {
  lg *g = ud;
  if (g->ph == PH_CONNECTING || g->ph == PH_POSITIONING) {
    g->ph = PH_POSITIONING;
    g->positioned = 0;
    for (int k = 0; k < g->n_streams; k++) {
      const char *argv[6] = {"XREVRANGE", g->streams[k], "+", "-", "COUNT", "1"};
      size_t lens[6] = {9, strlen(g->streams[k]), 1, 1, 5, 1};
      sg_rd_client_cmd(c, 6, argv, lens, CMD_TIMEOUT_MS, on_position, g);
    }
    return;
  }
  read_results(g);
}

/* ---- timers and signals ---- */

static void progress(lg *g, uint64_t now) {
  if (g->interval_us == 0 || now < g->next_progress_us || g->t0_us == 0)
    return;
  double dt = secs(g->prev_us ? g->prev_us : g->t0_us, now);
  double q = dt > 0 ? (double)(g->t->queued - g->prev_queued) / dt : 0;
  double c = dt > 0 ? (double)(g->t->completed - g->prev_completed) / dt : 0;
  g->prev_us = now;
  g->prev_queued = g->t->queued;
  g->prev_completed = g->t->completed;
  g->next_progress_us = now + g->interval_us;
  sg_buf line = SG_BUF_INIT;
  if (g->tty)
    sg_buf_append_char(&line, '\r');
  sg_lg_report_progress(g->t, secs(g->t0_us, now), q, c, &line);
  sg_buf_append_str(&line, g->tty ? "\x1b[K" : "\n");
  fwrite(line.data, 1, line.len, stderr);
  fflush(stderr);
  sg_buf_free(&line);
  g->progress_shown = true;
}

static void on_tick(uv_timer_t *h) {
  lg *g = h->data;
  uint64_t now = now_us();
  if (g->ph < PH_PRODUCING) {
    if (now - g->start_us > (uint64_t)(g->o->connect_timeout_s * 1e6)) {
      char d[400];
      sg_rd_url u;
      if (sg_rd_url_parse(g->o->redis_url, &u) == 0)
        sg_rd_url_describe(&u, d, sizeof d);
      else
        snprintf(d, sizeof d, "?");
      g->err = SG_ERR_TIMEOUT;
      snprintf(g->errbuf, g->errcap, "cannot reach Redis at %s within %.1f s", d,
               g->o->connect_timeout_s);
      finish(g, SG_LG_STOP_ERROR);
    }
    return;
  }
  pump(g);
  if (g->ph == PH_PRODUCING && now - g->activity_us > (uint64_t)(g->o->timeout_s * 1e6)) {
    finish(g, SG_LG_STOP_STALLED);
    return;
  }
  if (g->ph == PH_DRAINING && now > g->drain_deadline_us) {
    finish(g, SG_LG_STOP_TIMEOUT);
    return;
  }
  progress(g, now);
}

static void on_signal(uv_signal_t *h, int signum) {
  (void)signum;
  lg *g = h->data;
  if (++g->signals >= 2 || g->ph < PH_PRODUCING) {
    finish(g, SG_LG_STOP_INTERRUPTED);
    return;
  }
  g->limit = g->next_seq; /* stop queueing; wait for what is queued */
  maybe_done(g);
}

/* ---- setup ---- */

static int start_clients(lg *g, const sg_rd_url *url) {
  sg_rd_client_opts co = {0};
  co.connect_timeout_ms = (uint32_t)(g->o->connect_timeout_s * 1000 + 1);
  co.backoff_max_ms = 1000;
  co.tls_ca_file = getenv("SENDGATE_TLS_CA_FILE"); /* rediss:// */
  co.name = "results";
  sg_rd_client_cbs rc = {on_reader_up, NULL, g};
  int rv = sg_rd_client_new(&g->loop, url, &co, &rc, &g->reader);
  if (rv != 0)
    return rv;
  g->open_clients++;
  sg_rd_client_start(g->reader);
  uint32_t pl = g->o->pipeline;
  for (uint32_t i = 0; i < g->o->producers; i++) {
    producer *p = &g->prods[i];
    p->g = g;
    p->slots = sg_xcalloc(pl, sizeof *p->slots);
    p->free = sg_xcalloc(pl, sizeof *p->free);
    for (uint32_t k = 0; k < pl; k++) {
      p->slots[k].p = p;
      p->free[k] = pl - 1 - k;
    }
    p->n_free = pl;
    co.name = "producer";
    sg_rd_client_cbs pc = {on_producer_up, NULL, g};
    if ((rv = sg_rd_client_new(&g->loop, url, &co, &pc, &p->c)) != 0)
      return rv;
    g->open_clients++;
    sg_rd_client_start(p->c);
  }
  return 0;
}

static void setup(lg *g, const sg_lg_opts *o, sg_lg_track *t, char *err, size_t errcap) {
  memset(g, 0, sizeof *g);
  g->o = o;
  g->t = t;
  g->errbuf = err;
  g->errcap = errcap;
  g->limit = o->count;
  g->tty = isatty(STDERR_FILENO) == 1;
  double iv = o->interval_s >= 0 ? o->interval_s : g->tty ? 1.0 : 5.0;
  g->interval_us = o->quiet ? 0 : (uint64_t)(iv * 1e6);
  g->streams[g->n_streams++] = o->results_stream;
  if (o->reply_stream && strcmp(o->reply_stream, o->results_stream) != 0)
    g->streams[g->n_streams++] = o->reply_stream;
  sg_lg_builder_init(&g->builder, o);
  g->prods = sg_xcalloc(o->producers, sizeof *g->prods);
}

static void teardown(lg *g) {
  for (uint32_t i = 0; i < g->o->producers; i++) {
    sg_free(g->prods[i].slots);
    sg_free(g->prods[i].free);
  }
  sg_free(g->prods);
  sg_lg_builder_free(&g->builder);
  sg_buf_free(&g->job);
}

int sg_lg_run(const sg_lg_opts *o, sg_lg_track *t, sg_lg_stop *stop, sg_lg_times *tm, char *err,
              size_t errcap) {
  sg_rd_url url;
  if (sg_rd_url_parse(o->redis_url, &url) != 0) {
    snprintf(err, errcap, "bad Redis URL (expected redis[s]://[[user]:password@]host[:port][/db])");
    return SG_ERR_PARSE;
  }
  lg *g = sg_xcalloc(1, sizeof *g);
  setup(g, o, t, err, errcap);
  int rv = uv_loop_init(&g->loop);
  if (rv != 0) {
    teardown(g);
    sg_free(g);
    snprintf(err, errcap, "uv_loop_init: %s", uv_strerror(rv));
    return rv;
  }
  g->start_us = now_us();
  uv_timer_init(&g->loop, &g->tick);
  g->tick.data = g;
  static const int signums[2] = {SIGINT, SIGTERM};
  for (int i = 0; i < 2; i++) {
    uv_signal_init(&g->loop, &g->sig[i]);
    g->sig[i].data = g;
    uv_signal_start(&g->sig[i], on_signal, signums[i]);
  }
  uint64_t period = o->rate > 0 ? TICK_RATE_MS : TICK_MS;
  uv_timer_start(&g->tick, on_tick, period, period);
  rv = start_clients(g, &url);
  if (rv != 0) {
    snprintf(err, errcap, "cannot start the Redis clients: %s", sg_strerror(rv));
    g->err = rv;
    finish(g, SG_LG_STOP_ERROR);
  }
  uv_run(&g->loop, UV_RUN_DEFAULT);
  /* Bounded: every handle was closed by finish(). */
  for (int i = 0; i < 100 && uv_loop_alive(&g->loop); i++)
    uv_run(&g->loop, UV_RUN_NOWAIT);
  int crv = uv_loop_close(&g->loop);
  rv = g->err;
  if (rv == 0 && crv != 0) {
    snprintf(err, errcap, "event loop did not close: %s", uv_strerror(crv));
    rv = crv;
  }
  *stop = g->stop;
  *tm = g->times;
  teardown(g);
  sg_free(g);
  return rv;
}
