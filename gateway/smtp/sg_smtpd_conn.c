/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One client connection of `sendgate smtpd`: reads (through TLS when it is
 * on), runs the session, writes its replies once per turn (PIPELINING: all
 * replies to the commands buffered so far go out in one write), and carries
 * out the session's events: STARTTLS, AUTH checks, the hand-off of a message
 * to Redis (250 only after the XADD succeeded), close. Every wait has a
 * timer: commands and TLS handshakes smtp.command_timeout_ms, message data
 * smtp.data_timeout_ms; AUTH checks and XADDs have their own bounds.
 */
#include <stdio.h>
#include <string.h>

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "net/sg_stream_write.h"
#include "smtp/sg_smtp_job.h"
#include "smtp/sg_smtpd_int.h"

/* Input buffered while an event is outstanding before reading pauses. */
#define MAX_PENDING_INPUT (256u * 1024u)
/* Output the client has not taken before the connection is dropped. */
#define MAX_PENDING_OUTPUT (1024u * 1024u)
/* Plaintext read from TLS per call. */
#define TLS_READ_CHUNK 16384

typedef enum { OP_NONE, OP_TLS, OP_AUTH, OP_HANDOFF } op;

struct sg_smtpd_conn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_write_t wreq;
  sg_list link;
  sg_smtpd *srv;
  sg_smtpd_listener *l;
  sg_smtp_session *sess;
  sg_tls *tls;
  bool starttls; /* the TLS handshake follows a STARTTLS (not implicit) */
  op op;
  sg_smtp_auth_req *auth_req;
  sg_buf wpend, winflight;
  bool writing, reading, closing, close_after_write;
  int refs; /* 2 handles + 1 per XADD in flight */
  char ip[64];
  char job_id[SG_SMTP_JOB_ID_LEN + 1];
  uint64_t handoff_start_ms;
};

static void pump(sg_smtpd_conn *c);
static void conn_close(sg_smtpd_conn *c);

sg_smtpd_conn *sg_smtpd_conn_from_link(sg_list *l) {
  return (sg_smtpd_conn *)(void *)((char *)l - offsetof(sg_smtpd_conn, link));
}

static void unref(sg_smtpd_conn *c) {
  if (--c->refs > 0)
    return;
  sg_smtpd *s = c->srv;
  sg_smtp_session_free(c->sess);
  sg_tls_free(c->tls);
  sg_buf_free(&c->wpend);
  sg_buf_free(&c->winflight);
  sg_free(c);
  sg_smtpd_conn_gone(s);
}

static void on_handle_closed(uv_handle_t *h) {
  unref(h->data);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  buf->base = sg_xmalloc(65536);
  buf->len = 65536;
}

static void set_reading(sg_smtpd_conn *c, bool on) {
  if (c->closing || c->reading == on)
    return;
  c->reading = on;
  if (on)
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
  else
    uv_read_stop((uv_stream_t *)&c->tcp);
}

static void on_timeout(uv_timer_t *t) {
  sg_smtpd_conn *c = t->data;
  sg_log_kv(SG_LOG_INFO, "smtpd", "timeout", "client", c->ip, NULL);
  if (c->tls == NULL || sg_tls_handshake_done(c->tls)) {
    sg_buf *out = sg_smtp_session_output(c->sess);
    sg_buf_printf(out, "421 4.4.2 %s Error: timeout exceeded\r\n", c->srv->cfg->hostname);
  }
  c->close_after_write = true;
  pump(c);
}

/* (Re)arms the timer for what the connection waits for now. */
static void arm_timer(sg_smtpd_conn *c) {
  if (c->closing)
    return;
  if (c->op == OP_AUTH || c->op == OP_HANDOFF) {
    uv_timer_stop(&c->timer);
    return;
  }
  const sg_smtp_config *cfg = c->srv->cfg;
  int64_t ms = sg_smtp_session_in_data(c->sess) ? cfg->data_timeout_ms : cfg->command_timeout_ms;
  uv_timer_start(&c->timer, on_timeout, (uint64_t)ms, 0);
}

static void start_write(sg_smtpd_conn *c);

static void on_written(uv_write_t *req, int status) {
  sg_smtpd_conn *c = req->data;
  c->writing = false;
  sg_buf_reset(&c->winflight);
  if (status < 0 || c->closing) {
    conn_close(c);
    return;
  }
  start_write(c);
}

/* Writes the pending replies (sg_stream_write.h: at once, nearly always). */
static void start_write(sg_smtpd_conn *c) {
  if (c->writing || c->closing)
    return;
  if (c->wpend.len > 0) {
    c->wreq.data = c;
    size_t done;
    int rv = sg_stream_write((uv_stream_t *)&c->tcp, &c->wreq, on_written, &c->wpend, &c->winflight,
                             &done, MAX_PENDING_OUTPUT);
    if (rv < 0) {
      conn_close(c);
      return;
    }
    if (rv == 0) {
      c->writing = true;
      return;
    }
  }
  if (c->close_after_write)
    conn_close(c);
}

/* Moves TLS records and the session's replies to the socket. */
static void flush(sg_smtpd_conn *c) {
  sg_buf *out = sg_smtp_session_output(c->sess);
  if (c->tls == NULL) {
    sg_buf_append(&c->wpend, out->data, out->len);
    sg_buf_reset(out);
  } else if (sg_tls_handshake_done(c->tls) && out->len > 0) {
    if (sg_tls_write(c->tls, (const uint8_t *)out->data, out->len) != 0)
      c->close_after_write = true;
    sg_buf_reset(out);
  }
  if (c->tls)
    sg_tls_take_out(c->tls, &c->wpend);
  if (c->wpend.len > MAX_PENDING_OUTPUT) {
    conn_close(c);
    return;
  }
  start_write(c);
}

/* ---- AUTH ---- */

static void on_auth(sg_smtp_auth_result res, const sg_smtp_user *user, void *ud) {
  sg_smtpd_conn *c = ud;
  c->auth_req = NULL;
  c->op = OP_NONE;
  const char *name, *pass;
  size_t plen;
  sg_smtp_session_auth_creds(c->sess, &name, &pass, &plen);
  static const char *const names[] = {"ok", "bad", "locked", "tempfail"};
  sg_log_kv(res == SG_SMTP_AUTH_OK ? SG_LOG_INFO : SG_LOG_WARN, "smtpd", "auth", "client", c->ip,
            "user", name, "result", names[res], NULL);
  if (res != SG_SMTP_AUTH_OK)
    sg_metric_inc(sg_metric_child1(c->srv->m_auth_fail, names[res]));
  sg_smtp_session_auth_done(c->sess, res, user);
  pump(c);
}

static void start_auth(sg_smtpd_conn *c) {
  const char *name, *pass;
  size_t plen;
  sg_smtp_session_auth_creds(c->sess, &name, &pass, &plen);
  c->op = OP_AUTH;
  if (c->srv->auth == NULL ||
      sg_smtp_auth_check(c->srv->auth, c->ip, name, pass, plen, on_auth, c, &c->auth_req) != 0) {
    c->op = OP_NONE;
    sg_smtp_session_auth_done(c->sess, SG_SMTP_AUTH_TEMPFAIL, NULL);
  }
}

/* ---- the hand-off ---- */

static void handoff_done(sg_smtpd_conn *c, bool ok, const char *why) {
  const sg_smtp_message *m = sg_smtp_session_message(c->sess);
  char rc[16], sz[24];
  snprintf(rc, sizeof rc, "%zu", m->nrcpts);
  snprintf(sz, sizeof sz, "%zu", m->len);
  if (ok) {
    sg_metric_inc(c->srv->m_accepted);
    sg_metric_observe(c->srv->m_handoff, (double)(sg_mono_ms() - c->handoff_start_ms) / 1000.0);
    sg_log_kv(SG_LOG_INFO, "smtpd", "queued", "job_id", c->job_id, "client", c->ip, "user", m->user,
              "recipients", rc, "bytes", sz, NULL);
  } else {
    sg_metric_inc(sg_metric_child1(c->srv->m_refused_msg, "queue_unavailable"));
    sg_log_kv(SG_LOG_WARN, "smtpd", "not queued (451)", "job_id", c->job_id, "client", c->ip,
              "reason", why, NULL);
  }
  c->op = OP_NONE;
  sg_smtp_session_queued(c->sess, ok ? c->job_id : NULL);
}

static void on_xadd(sg_rd_client *rc, int status, const redisReply *reply, void *ud) {
  (void)rc;
  sg_smtpd_conn *c = ud;
  bool ok = status == 0 && reply && reply->type == REDIS_REPLY_STRING;
  if (!c->closing) {
    handoff_done(c, ok, ok ? "" : sg_strerror(status));
    pump(c);
  } else if (ok) {
    /* The client left before the 250: the job is queued all the same (the
     * client will send it again; RFC 5321 6.1 accepts the duplicate). */
    sg_log_kv(SG_LOG_INFO, "smtpd", "queued after the client left", "job_id", c->job_id, NULL);
  }
  unref(c);
}

static void start_handoff(sg_smtpd_conn *c) {
  const sg_smtp_message *m = sg_smtp_session_message(c->sess);
  sg_smtp_job_new_id(c->job_id);
  sg_buf job;
  sg_buf_init(&job);
  sg_smtp_job_build(&job, m, c->job_id, c->ip, c->srv->cfg->hostname, sg_wall_ms());
  const char *stream = c->srv->cfg->base.jobs_stream;
  const char *argv[] = {"XADD", stream, "*", "job", job.data};
  size_t lens[] = {4, strlen(stream), 1, 3, job.len};
  c->op = OP_HANDOFF;
  c->handoff_start_ms = sg_mono_ms();
  int rv = sg_rd_client_cmd(c->srv->rd, 5, argv, lens, (uint32_t)c->srv->cfg->handoff_timeout_ms,
                            on_xadd, c);
  sg_buf_free(&job);
  if (rv != 0) {
    handoff_done(c, false, sg_strerror(rv));
    return;
  }
  c->refs++;
}

/* ---- the session loop ---- */

static void begin_tls(sg_smtpd_conn *c) {
  if (sg_tls_new(&c->tls, c->srv->tls_ctx, NULL) != 0) {
    c->close_after_write = true;
    return;
  }
  c->op = OP_TLS;
}

static void pump(sg_smtpd_conn *c) {
  while (!c->closing) {
    if (c->op == OP_TLS || c->op == OP_AUTH || c->op == OP_HANDOFF) {
      flush(c);
      break;
    }
    if (c->close_after_write) {
      if (c->tls && sg_tls_handshake_done(c->tls)) {
        /* The last replies, then close_notify, in one go. */
        sg_buf *out = sg_smtp_session_output(c->sess);
        if (out->len)
          sg_tls_write(c->tls, (const uint8_t *)out->data, out->len);
        sg_buf_reset(out);
        sg_tls_shutdown(c->tls);
      }
      set_reading(c, false);
      flush(c);
      break;
    }
    sg_smtp_event ev = sg_smtp_session_run(c->sess);
    if (ev == SG_SMTP_EV_NONE) {
      flush(c);
      break;
    }
    if (ev == SG_SMTP_EV_STARTTLS) {
      flush(c); /* "220 Ready to start TLS" goes out in clear */
      c->starttls = true;
      begin_tls(c);
    } else if (ev == SG_SMTP_EV_AUTH) {
      flush(c);
      start_auth(c);
    } else if (ev == SG_SMTP_EV_MESSAGE) {
      flush(c);
      start_handoff(c);
    } else {
      c->close_after_write = true;
    }
  }
  if (c->closing)
    return;
  bool pause = sg_smtp_session_pending_input(c->sess) > MAX_PENDING_INPUT || c->close_after_write;
  set_reading(c, !pause);
  arm_timer(c);
}

/* Encrypted bytes from the client. */
static void tls_input(sg_smtpd_conn *c, const uint8_t *p, size_t n) {
  sg_tls_feed(c->tls, p, n);
  if (!sg_tls_handshake_done(c->tls)) {
    int rv = sg_tls_handshake(c->tls);
    sg_tls_take_out(c->tls, &c->wpend);
    if (rv == SG_ERR_AGAIN) {
      start_write(c);
      return;
    }
    if (rv != 0) {
      sg_log_kv(SG_LOG_INFO, "smtpd", "TLS handshake failed", "client", c->ip, "detail",
                sg_tls_error_detail(c->tls), NULL);
      c->close_after_write = true;
      start_write(c);
      return;
    }
    c->op = OP_NONE;
    if (c->starttls)
      sg_smtp_session_tls_started(c->sess);
  }
  uint8_t buf[TLS_READ_CHUNK];
  for (;;) {
    size_t got = 0;
    int rv = sg_tls_read(c->tls, buf, sizeof buf, &got);
    if (rv == SG_ERR_AGAIN)
      break;
    if (rv != 0) {
      c->close_after_write = true;
      break;
    }
    sg_smtp_session_feed(c->sess, buf, got);
  }
  sg_tls_take_out(c->tls, &c->wpend);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  sg_smtpd_conn *c = st->data;
  if (nread < 0) {
    sg_free(buf->base);
    conn_close(c);
    return;
  }
  if (nread > 0) {
    if (c->tls)
      tls_input(c, (const uint8_t *)buf->base, (size_t)nread);
    else if (c->op != OP_TLS)
      sg_smtp_session_feed(c->sess, (const uint8_t *)buf->base, (size_t)nread);
  }
  sg_free(buf->base);
  pump(c);
}

/* ---- life cycle ---- */

static void conn_close(sg_smtpd_conn *c) {
  if (c->closing)
    return;
  c->closing = true;
  if (c->auth_req) {
    sg_smtp_auth_cancel(c->auth_req);
    c->auth_req = NULL;
  }
  sg_list_remove(&c->link);
  sg_metric_dec(c->srv->m_active);
  uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

void sg_smtpd_conn_drain(sg_smtpd_conn *c, bool now) {
  if (now) {
    conn_close(c);
    return;
  }
  sg_smtp_session_shutdown(c->sess);
  if (c->op == OP_NONE)
    pump(c);
}

static void on_refused(void *ud, const char *reason) {
  sg_smtpd_conn *c = ud;
  sg_metric_inc(sg_metric_child1(c->srv->m_refused_msg, reason));
  sg_log_kv(SG_LOG_INFO, "smtpd", "refused", "client", c->ip, "reason", reason, NULL);
}

static size_t count_ip(sg_smtpd *s, const char *ip) {
  size_t n = 0;
  sg_list *p;
  for (p = s->conns.next; p != &s->conns; p = p->next)
    if (strcmp(sg_smtpd_conn_from_link(p)->ip, ip) == 0)
      n++;
  return n;
}

/* A connection over a limit gets a 421 in clear (not on the TLS port) and is closed. */
static void refuse_conn(sg_smtpd_conn *c, const char *why) {
  sg_metric_inc(sg_metric_child1(c->srv->m_refused_conn, why));
  sg_log_kv(SG_LOG_WARN, "smtpd", "connection refused", "client", c->ip, "reason", why, NULL);
  if (c->l->mode != SG_SMTP_MODE_IMPLICIT_TLS) {
    sg_buf_printf(&c->wpend, "421 4.7.0 %s Too many connections, try again later\r\n",
                  c->srv->cfg->hostname);
    c->close_after_write = true;
    start_write(c);
  } else {
    conn_close(c);
  }
}

void sg_smtpd_conn_accept(sg_smtpd_listener *l) {
  sg_smtpd *s = l->srv;
  sg_smtpd_conn *c = sg_xcalloc(1, sizeof *c);
  c->srv = s;
  c->l = l;
  c->refs = 2;
  sg_buf_init(&c->wpend);
  sg_buf_init(&c->winflight);
  sg_list_node_init(&c->link);
  uv_tcp_init(s->loop, &c->tcp);
  uv_timer_init(s->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  s->nconns++;
  sg_list_push_back(&s->conns, &c->link);
  sg_metric_inc(s->m_active);
  if (uv_accept((uv_stream_t *)&l->tcp, (uv_stream_t *)&c->tcp) != 0) {
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  struct sockaddr_storage ss;
  int len = sizeof ss;
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
    if (ss.ss_family == AF_INET6)
      uv_ip6_name((struct sockaddr_in6 *)&ss, c->ip, sizeof c->ip);
    else
      uv_ip4_name((struct sockaddr_in *)&ss, c->ip, sizeof c->ip);
  }
  sg_metric_inc(sg_metric_child1(s->m_sessions, l->name));
  const sg_smtp_config *cfg = s->cfg;
  sg_smtp_session_opts o = {
      .mode = l->mode,
      .hostname = cfg->hostname,
      .max_message_bytes = (size_t)cfg->max_message_bytes,
      .max_rcpts = (uint32_t)cfg->max_recipients,
      .max_commands = (uint32_t)cfg->max_commands,
      .max_errors = (uint32_t)cfg->max_errors,
      .tls_available = s->tls_ctx != NULL,
      .relay_senders = cfg->relay_senders,
      .refuse = l->mode == SG_SMTP_MODE_RELAY && !sg_smtp_nets_match(&s->relay_nets, c->ip),
      .on_refused = on_refused,
      .ud = c,
  };
  c->sess = sg_smtp_session_new(&o);
  if (s->nconns > (size_t)cfg->max_connections) {
    refuse_conn(c, "max_connections");
    return;
  }
  if (count_ip(s, c->ip) > (size_t)cfg->max_connections_per_ip) {
    refuse_conn(c, "max_connections_per_ip");
    return;
  }
  sg_log_kv(SG_LOG_DEBUG, "smtpd", "connection", "client", c->ip, "listener", l->name, NULL);
  if (l->mode == SG_SMTP_MODE_IMPLICIT_TLS)
    begin_tls(c); /* the greeting waits in the session until the handshake is done */
  pump(c);
}
