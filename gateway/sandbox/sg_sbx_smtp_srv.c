/* SPDX-License-Identifier: Apache-2.0 */
/* The SMTP stand-in's listener and connections; see sg_sbx_smtp_srv.h. */
#include "sandbox/sg_sbx_smtp_srv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_list.h"
#include "core/sg_log.h"
#include "net/sg_tlsconn.h"
#include "sandbox/sg_sbx_int.h"

struct sg_sbx_smtp_srv {
  sg_sbx *sbx;
  uv_tcp_t listener;
  uint16_t port;
  sg_sbx_smtp_role role;
  sg_sbx_smtp_policy pol; /* from the settings, refreshed before each use */
  sg_sbx_smtp_hooks hooks;
  sg_list conns;
  int pending; /* the listener and the connections not yet closed */
  bool stopping;
  void (*done)(void *);
  void *done_ud;
};

typedef struct conn {
  sg_list link;
  sg_sbx_smtp_srv *srv;
  sg_tlsconn *c;
  sg_sbx_smtp *sess;
  uv_timer_t idle;
  int handles; /* the connection and the timer */
  bool tls_started;
} conn;

/* ---- hooks into the sandbox ---- */

static sg_sbx_token_status hook_token(void *ud, const char *tok, size_t len) {
  sg_sbx_smtp_srv *srv = ud;
  if (srv->sbx->cfg.smtp_expire_tokens > 0) { /* a token that ran out in the meantime */
    srv->sbx->cfg.smtp_expire_tokens--;
    return SG_SBX_TOKEN_EXPIRED;
  }
  return sg_sbx_tokens_validate(srv->sbx->tokens, tok, len, SG_SBX_AUD_OUTLOOK, sg_wall_ms(), NULL);
}

static bool hook_take(void *ud, const char *mailbox) {
  sg_sbx_smtp_srv *srv = ud;
  sg_sbx *s = srv->sbx;
  if (!s->smtp_msg)
    return true;
  char key[300];
  snprintf(key, sizeof key, "%s", mailbox);
  for (char *p = key; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  uint64_t ra = 0;
  bool ok = sg_sbx_rate_take(s->smtp_msg, key, 1, sg_sbx__now(s), &ra) == 0;
  if (!ok)
    sg_sbx__inbox_event(s, "smtp", key, 450, "4.7.0 over messages_per_minute", ra);
  return ok;
}

static sg_sbx_fault hook_fault(void *ud) {
  sg_sbx_smtp_srv *srv = ud;
  return sg_sbx_fault_pick(&srv->sbx->cfg, &srv->sbx->rng);
}

static void save_files(sg_sbx *s, uint64_t n, const sg_sbx_smtp_delivery *d) {
  char path[1200];
  snprintf(path, sizeof path, "%s/%llu.env", s->cfg.smtp_save_dir, (unsigned long long)n);
  FILE *f = fopen(path, "w");
  if (f) {
    fprintf(f, "host %s\nmailbox %s\nfrom %s\nparams %s\n",
            d->role == SG_SBX_SMTP_HVE ? "hve" : "exchange", d->mailbox, d->from, d->mail_params);
    for (size_t i = 0; i < d->n_rcpts; i++)
      fprintf(f, "rcpt %s\n", d->rcpts[i]);
    fclose(f);
  }
  snprintf(path, sizeof path, "%s/%llu.eml", s->cfg.smtp_save_dir, (unsigned long long)n);
  f = fopen(path, "wb");
  if (f) {
    fwrite(d->data, 1, d->len, f);
    fclose(f);
  }
  if (!f)
    sg_log(SG_LOG_WARN, "sandbox", "smtp: cannot write %s: %s", path, strerror(errno));
}

static void hook_deliver(void *ud, const sg_sbx_smtp_delivery *d, char id[64]) {
  sg_sbx_smtp_srv *srv = ud;
  sg_sbx *s = srv->sbx;
  uint64_t n = ++s->smtp_seq;
  char guid[37];
  sg_sbx__guid(s, guid);
  snprintf(id, 64, "%s", guid);
  sg_sbx_msg m;
  sg_sbx_msg_init(&m);
  m.api = d->role == SG_SBX_SMTP_HVE ? "smtp-hve" : "smtp";
  m.mailbox = sg_xstrdup(d->mailbox);
  m.from = sg_xstrdup(d->from);
  for (size_t i = 0; i < d->n_rcpts; i++)
    sg_sbx_addr_list_add(&m.to, d->rcpts[i], NULL);
  m.recipient_count = d->n_rcpts;
  m.body_kind = SG_SBX_BODY_MIME;
  m.mime = true;
  m.body_len = d->len;
  m.save_to_sent_items = d->role == SG_SBX_SMTP_EXCHANGE; /* HVE keeps no copy */
  sg_sbx_msg_set_key(&m, (const char *)d->data, d->len);
  sg_sbx__record(s, &m, guid, NULL);
  sg_sbx__inbox_add(s, &m, guid, d->data, d->len);
  sg_sbx_msg_free(&m);
  if (s->cfg.smtp_save_dir[0])
    save_files(s, n, d);
}

/* The policy points into the settings, which POST /sandbox/config may
 * replace at any time: read again before every use. */
static void refresh_policy(sg_sbx_smtp_srv *srv) {
  const sg_sbx_cfg *c = &srv->sbx->cfg;
  srv->pol = (sg_sbx_smtp_policy){srv->role,
                                  c->smtp_hve_user,
                                  c->smtp_hve_password,
                                  c->smtp_accepted_domains,
                                  (uint32_t)c->smtp_hve_max_rcpts,
                                  (uint64_t)c->smtp_max_message_bytes,
                                  c->smtp_basic_5_7_139,
                                  c->smtp_auth_disabled,
                                  c->smtp_quota_mailboxes};
}

/* ---- connections ---- */

static void maybe_done(sg_sbx_smtp_srv *srv) {
  if (srv->stopping && srv->pending == 0 && srv->done) {
    void (*done)(void *) = srv->done;
    srv->done = NULL;
    done(srv->done_ud);
    sg_free(srv);
  }
}

static void conn_release(conn *k) {
  if (--k->handles > 0)
    return;
  sg_sbx_smtp_srv *srv = k->srv;
  sg_sbx_smtp_free(k->sess);
  sg_free(k);
  srv->pending--;
  maybe_done(srv);
}

static void on_idle_closed(uv_handle_t *h) {
  conn_release(h->data);
}

static void on_idle(uv_timer_t *t) {
  conn *k = t->data;
  if (k->c)
    sg_tlsconn_close(k->c, SG_ERR_TIMEOUT);
}

/* Writes the session's output and acts on what it asks for. */
static void pump(conn *k) {
  sg_buf *out = sg_sbx_smtp_output(k->sess);
  bool drop = false;
  bool closed = sg_sbx_smtp_closed(k->sess, &drop);
  if (out->len > 0 && !drop)
    sg_tlsconn_write(k->c, (const uint8_t *)out->data, out->len);
  sg_buf_reset(out);
  if (closed) {
    sg_tlsconn_close(k->c, drop ? SG_ERR_CLOSED : 0);
    return;
  }
  if (sg_sbx_smtp_want_tls(k->sess)) {
    k->tls_started = true;
    if (sg_tlsconn_starttls(k->c, k->srv->sbx->ssl, NULL) != 0)
      sg_tlsconn_close(k->c, SG_ERR_TLS);
  }
}

static void on_ready(sg_tlsconn *c, void *ud) {
  conn *k = ud;
  (void)c;
  if (k->tls_started)
    sg_sbx_smtp_tls_done(k->sess);
  pump(k);
}

static void on_read(sg_tlsconn *c, const uint8_t *p, size_t n, void *ud) {
  conn *k = ud;
  (void)c;
  uv_timer_again(&k->idle);
  refresh_policy(k->srv);
  sg_sbx_smtp_feed(k->sess, p, n);
  pump(k);
}

static void on_close(sg_tlsconn *c, int err, void *ud) {
  conn *k = ud;
  (void)c;
  (void)err;
  k->c = NULL;
  sg_list_remove(&k->link);
  uv_close((uv_handle_t *)&k->idle, on_idle_closed);
  conn_release(k);
}

static void on_connection(uv_stream_t *server, int status) {
  sg_sbx_smtp_srv *srv = server->data;
  if (status < 0 || srv->stopping)
    return;
  conn *k = sg_xcalloc(1, sizeof *k);
  k->srv = srv;
  refresh_policy(srv);
  k->sess = sg_sbx_smtp_new(&srv->pol, &srv->hooks);
  static const sg_tlsconn_cbs cbs = {on_ready, on_read, NULL, on_close};
  /* Plain first; the handshake timeout also bounds the close. */
  if (sg_tlsconn_accept(&k->c, server, NULL, 10000, &cbs, k) != 0) {
    sg_sbx_smtp_free(k->sess);
    sg_free(k);
    return;
  }
  uv_timer_init(server->loop, &k->idle);
  k->idle.data = k;
  uv_timer_start(&k->idle, on_idle, SG_SBX_SMTP_IDLE_MS, SG_SBX_SMTP_IDLE_MS);
  k->handles = 2;
  srv->pending++;
  sg_list_push_back(&srv->conns, &k->link);
}

/* ---- listener ---- */

static void on_failed_close(uv_handle_t *h) {
  sg_free(h->data);
}

int sg_sbx_smtp_srv_start(sg_sbx_smtp_srv **out, sg_sbx *sbx, sg_sbx_smtp_role role,
                          const char *listen, char *err, size_t errcap) {
  *out = NULL;
  char host[128];
  const char *colon = strrchr(listen, ':');
  if (!colon || (size_t)(colon - listen) >= sizeof host) {
    snprintf(err, errcap, "smtp: '%s' is not ip:port", listen);
    return SG_ERR_CONFIG;
  }
  memcpy(host, listen, (size_t)(colon - listen));
  host[colon - listen] = '\0';
  char *end;
  long port = strtol(colon + 1, &end, 10);
  struct sockaddr_storage ss;
  if (*end || port < 0 || port > 65535 ||
      (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&ss) != 0 &&
       uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&ss) != 0)) {
    snprintf(err, errcap, "smtp: '%s' is not ip:port", listen);
    return SG_ERR_CONFIG;
  }
  sg_sbx_smtp_srv *srv = sg_xcalloc(1, sizeof *srv);
  srv->sbx = sbx;
  sg_list_init(&srv->conns);
  srv->role = role;
  refresh_policy(srv);
  srv->hooks = (sg_sbx_smtp_hooks){hook_token, hook_take, hook_fault, hook_deliver, srv};
  uv_tcp_init(sbx->loop, &srv->listener);
  srv->listener.data = srv;
  int rv = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&ss, 0);
  if (rv == 0)
    rv = uv_listen((uv_stream_t *)&srv->listener, 128, on_connection);
  if (rv != 0) {
    snprintf(err, errcap, "smtp: cannot listen on %s: %s", listen, uv_strerror(rv));
    uv_close((uv_handle_t *)&srv->listener, on_failed_close);
    return rv;
  }
  struct sockaddr_storage bound;
  int blen = sizeof bound;
  uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&bound, &blen);
  srv->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
  srv->pending = 1;
  *out = srv;
  return 0;
}

uint16_t sg_sbx_smtp_srv_port(const sg_sbx_smtp_srv *srv) {
  return srv->port;
}

static void on_listener_closed(uv_handle_t *h) {
  sg_sbx_smtp_srv *srv = h->data;
  srv->pending--;
  maybe_done(srv);
}

void sg_sbx_smtp_srv_stop(sg_sbx_smtp_srv *srv, void (*done)(void *ud), void *ud) {
  srv->stopping = true;
  srv->done = done;
  srv->done_ud = ud;
  for (sg_list *n = srv->conns.next; n != &srv->conns; n = n->next) {
    conn *k = sg_container_of(n, conn, link);
    if (k->c)
      sg_tlsconn_close(k->c, SG_ERR_SHUTDOWN);
  }
  uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
}
