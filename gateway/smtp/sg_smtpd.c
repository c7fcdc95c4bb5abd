/* SPDX-License-Identifier: Apache-2.0 */
/* `sendgate smtpd` server: listeners, limits, Redis, metrics, drain; see sg_smtpd.h. */
#include "smtp/sg_smtpd.h"

#include <stdio.h>
#include <string.h>

#include "app/sg_admin.h"
#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "smtp/sg_smtpd_int.h"

/* Pending connections the kernel queues per listener. */
#define BACKLOG 511

static void on_connection(uv_stream_t *st, int status) {
  sg_smtpd_listener *l = st->data;
  if (status < 0 || l->srv->draining)
    return;
  sg_smtpd_conn_accept(l);
}

static int open_listener(sg_smtpd *s, sg_smtpd_listener *l, const char *addr, sg_smtp_mode mode,
                         const char *name, char *err, size_t errcap) {
  char host[64];
  uint16_t port;
  if (sg_admin_parse_listen(addr, host, sizeof host, &port) != 0) {
    snprintf(err, errcap, "smtp %s listener: bad address '%s' (HOST:PORT)", name, addr);
    return SG_ERR_CONFIG;
  }
  struct sockaddr_storage ss;
  int rv = strchr(host, ':') ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss)
                             : uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
  if (rv != 0) {
    snprintf(err, errcap, "smtp %s listener: bad address '%s'", name, addr);
    return SG_ERR_CONFIG;
  }
  l->srv = s;
  l->mode = mode;
  l->name = name;
  uv_tcp_init(s->loop, &l->tcp);
  l->tcp.data = l;
  l->open = true;
  rv = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&ss, 0);
  if (rv == 0)
    rv = uv_listen((uv_stream_t *)&l->tcp, BACKLOG, on_connection);
  if (rv != 0) {
    snprintf(err, errcap, "smtp %s listener %s: %s", name, addr, uv_strerror(rv));
    return rv;
  }
  sg_log_kv(SG_LOG_INFO, "smtpd", "listening", "listener", name, "address", addr, NULL);
  return 0;
}

static void register_metrics(sg_smtpd *s, sg_metrics *m) {
  static const char *const listener[] = {"listener"};
  static const char *const reason[] = {"reason"};
  static const char *const result[] = {"result"};
  static const double buckets[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                   0.1,   0.25,  0.5,   1,    2.5,  5};
  sg_metric_family *active, *accepted, *handoff;
  const struct {
    sg_metric_desc d;
    sg_metric_family **out;
  } fams[] = {
      {{.name = "sendgate_smtp_sessions_total",
        .help = "SMTP sessions accepted, per listener",
        .type = SG_METRIC_COUNTER,
        .labels = listener,
        .nlabels = 1},
       &s->m_sessions},
      {{.name = "sendgate_smtp_sessions_active",
        .help = "SMTP sessions open now",
        .type = SG_METRIC_GAUGE},
       &active},
      {{.name = "sendgate_smtp_connections_refused_total",
        .help = "connections refused over a limit, per reason",
        .type = SG_METRIC_COUNTER,
        .labels = reason,
        .nlabels = 1},
       &s->m_refused_conn},
      {{.name = "sendgate_smtp_auth_failures_total",
        .help = "failed AUTH attempts, per result",
        .type = SG_METRIC_COUNTER,
        .labels = result,
        .nlabels = 1},
       &s->m_auth_fail},
      {{.name = "sendgate_smtp_messages_accepted_total",
        .help = "messages answered 250 (their job is in the jobs stream)",
        .type = SG_METRIC_COUNTER},
       &accepted},
      {{.name = "sendgate_smtp_refused_total",
        .help = "senders, messages and sessions refused, per reason",
        .type = SG_METRIC_COUNTER,
        .labels = reason,
        .nlabels = 1},
       &s->m_refused_msg},
      {{.name = "sendgate_smtp_handoff_seconds",
        .help = "from the final dot to the XADD reply (the 250)",
        .type = SG_METRIC_HISTOGRAM,
        .buckets = buckets,
        .nbuckets = SG_ARRAY_LEN(buckets)},
       &handoff},
  };
  for (size_t i = 0; i < SG_ARRAY_LEN(fams); i++)
    sg_metrics_register(m, &fams[i].d, fams[i].out);
  s->m_active = sg_metric_child0(active);
  s->m_accepted = sg_metric_child0(accepted);
  s->m_handoff = sg_metric_child0(handoff);
}

static int load_tls(sg_smtpd *s, char *err, size_t errcap) {
  const sg_smtp_config *c = s->cfg;
  if (c->tls_cert_file[0] == '\0' && c->tls_key_file[0] == '\0')
    return 0;
  if (sg_tls_ctx_server_new(&s->tls_ctx, c->tls_cert_file, c->tls_key_file) != 0) {
    snprintf(err, errcap,
             "smtp: cannot use the certificate %s with the key %s (unreadable, not PEM, or "
             "they do not match)",
             c->tls_cert_file, c->tls_key_file);
    return SG_ERR_CONFIG;
  }
  return 0;
}

static void on_redis_up(sg_rd_client *c, void *ud) {
  (void)c;
  (void)ud;
  sg_log(SG_LOG_INFO, "smtpd", "redis connected");
}

static void on_redis_down(sg_rd_client *c, int reason, void *ud) {
  (void)c;
  (void)ud;
  sg_log(SG_LOG_WARN, "smtpd", "redis connection lost: %s", sg_strerror(reason));
}

static int start_redis(sg_smtpd *s, char *err, size_t errcap) {
  sg_rd_url url;
  if (sg_rd_url_parse(s->cfg->base.redis_url, &url) != 0) {
    snprintf(err, errcap, "SENDGATE_REDIS_URL: not a redis[s]:// or unix:// URL");
    return SG_ERR_CONFIG;
  }
  sg_rd_client_opts o = {
      .name = "smtpd", .connect_timeout_ms = 3000, .tls_ca_file = s->cfg->base.tls_ca_file};
  sg_rd_client_cbs cbs = {on_redis_up, on_redis_down, s};
  int rv = sg_rd_client_new(s->loop, &url, &o, &cbs, &s->rd);
  if (rv != 0) {
    snprintf(err, errcap, "redis client: %s", sg_strerror(rv));
    return rv;
  }
  sg_rd_client_start(s->rd);
  return 0;
}

static int start_auth(sg_smtpd *s, char *err, size_t errcap) {
  const sg_smtp_config *c = s->cfg;
  if (sg_smtp_listen_off(c->listen) && sg_smtp_listen_off(c->listen_tls))
    return 0;
  sg_smtp_auth_opts o = {.users_file = c->users_file,
                         .cache_ms = (uint32_t)c->auth_cache_ms,
                         .fail_delay_ms = (uint32_t)c->auth_fail_delay_ms,
                         .lockout_failures = (uint32_t)c->auth_lockout_failures,
                         .lockout_window_ms = (uint32_t)c->auth_lockout_window_ms,
                         .lockout_ms = (uint32_t)c->auth_lockout_ms};
  int rv = sg_smtp_auth_new(s->loop, &o, &s->auth);
  if (rv != 0) {
    snprintf(err, errcap, "smtp: cannot load the users file %s: %s", c->users_file,
             sg_strerror(rv));
    return SG_ERR_CONFIG;
  }
  return 0;
}

static void free_server(sg_smtpd *s) {
  sg_smtp_nets_free(&s->relay_nets);
  if (s->tls_ctx)
    SSL_CTX_free(s->tls_ctx);
  void (*done)(void *) = s->done;
  void *ud = s->done_ud;
  sg_free(s);
  if (done)
    done(ud);
}

/* The server's own handles (listeners, grace timer) close asynchronously;
 * it is freed when the last is closed and the shutdown is complete. */
static void on_own_closed(uv_handle_t *h) {
  sg_smtpd *s = h->type == UV_TIMER ? h->data : ((sg_smtpd_listener *)h->data)->srv;
  if (--s->open_handles == 0 && s->finished)
    free_server(s);
}

static void close_own(sg_smtpd *s, uv_handle_t *h) {
  s->open_handles++;
  uv_close(h, on_own_closed);
}

static void close_listeners(sg_smtpd *s) {
  for (size_t i = 0; i < 3; i++)
    if (s->listeners[i].open) {
      s->listeners[i].open = false;
      close_own(s, (uv_handle_t *)&s->listeners[i].tcp);
    }
}

int sg_smtpd_start(sg_smtpd **out, uv_loop_t *loop, const sg_smtp_config *cfg, sg_metrics *registry,
                   char *err, size_t errcap) {
  *out = NULL;
  sg_smtpd *s = sg_xcalloc(1, sizeof *s);
  s->loop = loop;
  s->cfg = cfg;
  sg_list_init(&s->conns);
  uv_timer_init(loop, &s->grace);
  s->grace.data = s;
  register_metrics(s, registry);
  int rv = load_tls(s, err, errcap);
  if (rv == 0)
    rv = sg_smtp_nets_parse(cfg->relay_networks, &s->relay_nets, err, errcap);
  if (rv == 0)
    rv = start_auth(s, err, errcap);
  struct {
    const char *addr, *name;
    sg_smtp_mode mode;
  } ls[] = {{cfg->listen, "submission", SG_SMTP_MODE_SUBMISSION},
            {cfg->listen_tls, "implicit_tls", SG_SMTP_MODE_IMPLICIT_TLS},
            {cfg->listen_relay, "relay", SG_SMTP_MODE_RELAY}};
  for (size_t i = 0; rv == 0 && i < 3; i++) {
    if (sg_smtp_listen_off(ls[i].addr))
      continue;
    if (ls[i].mode != SG_SMTP_MODE_RELAY && s->tls_ctx == NULL) {
      snprintf(err, errcap, "smtp %s listener %s: no certificate (SENDGATE_SMTP_TLS_CERT_FILE)",
               ls[i].name, ls[i].addr);
      rv = SG_ERR_CONFIG;
      break;
    }
    rv = open_listener(s, &s->listeners[i], ls[i].addr, ls[i].mode, ls[i].name, err, errcap);
  }
  if (rv == 0)
    rv = start_redis(s, err, errcap);
  if (rv == 0 && cfg->bounce_sender[0] != '\0')
    rv = sg_smtpd_dsn_start(&s->dsn, loop, cfg, registry, err, errcap);
  if (rv != 0) {
    close_listeners(s);
    if (s->rd)
      sg_rd_client_close(s->rd, false, NULL, NULL);
    if (s->auth)
      sg_smtp_auth_close(s->auth);
    s->finished = true;
    close_own(s, (uv_handle_t *)&s->grace);
    return rv;
  }
  *out = s;
  return 0;
}

bool sg_smtpd_ready(void *srv, char *reason, size_t cap) {
  sg_smtpd *s = srv;
  if (s == NULL || s->draining) {
    snprintf(reason, cap, "shutting down");
    return false;
  }
  if (!sg_rd_client_is_up(s->rd)) {
    snprintf(reason, cap, "redis not connected");
    return false;
  }
  return true;
}

/* The Redis client and the result watcher are closed: the end. */
static void redis_part_closed(sg_smtpd *s) {
  if (--s->closing_rd > 0)
    return;
  if (s->auth)
    sg_smtp_auth_close(s->auth);
  s->auth = NULL;
  s->finished = true;
  close_own(s, (uv_handle_t *)&s->grace);
}

static void on_redis_closed(sg_rd_client *c, void *ud) {
  (void)c;
  sg_smtpd *s = ud;
  s->rd = NULL;
  redis_part_closed(s);
}

static void on_dsn_closed(void *ud) {
  sg_smtpd *s = ud;
  s->dsn = NULL;
  redis_part_closed(s);
}

/* Every connection is freed: close Redis (replies already asked for come
 * first) and the result watcher (its unacked results wait for the next start). */
static void finish(sg_smtpd *s) {
  uv_timer_stop(&s->grace);
  s->closing_rd = 1 + (s->dsn != NULL);
  if (s->dsn)
    sg_smtpd_dsn_close(s->dsn, on_dsn_closed, s);
  sg_rd_client *rd = s->rd;
  if (rd)
    sg_rd_client_close(rd, true, on_redis_closed, s);
  else
    redis_part_closed(s);
}

void sg_smtpd_conn_gone(sg_smtpd *s) {
  s->nconns--;
  if (s->draining && s->nconns == 0)
    finish(s);
}

static void on_grace(uv_timer_t *t) {
  sg_smtpd *s = t->data;
  sg_log(SG_LOG_WARN, "smtpd", "grace time over: closing the remaining sessions");
  sg_list *p, *n;
  for (p = s->conns.next; p != &s->conns; p = n) {
    n = p->next;
    sg_smtpd_conn_drain(sg_smtpd_conn_from_link(p), true);
  }
}

void sg_smtpd_stop(sg_smtpd *s, void (*done)(void *ud), void *ud) {
  s->draining = true;
  s->done = done;
  s->done_ud = ud;
  close_listeners(s);
  sg_log(SG_LOG_INFO, "smtpd", "draining %zu sessions", s->nconns);
  sg_list *p, *n;
  for (p = s->conns.next; p != &s->conns; p = n) {
    n = p->next;
    sg_smtpd_conn_drain(sg_smtpd_conn_from_link(p), false);
  }
  if (s->nconns == 0) {
    finish(s);
    return;
  }
  uv_timer_start(&s->grace, on_grace, (uint64_t)s->cfg->grace_ms, 0);
}
