/* SPDX-License-Identifier: Apache-2.0 */
/* What sg_smtpd.c (listeners, limits, Redis, drain) and sg_smtpd_conn.c (one
 * client connection) share. Not a public interface. */
#ifndef SG_SMTPD_INT_H
#define SG_SMTPD_INT_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <uv.h>

#include "core/sg_list.h"
#include "core/sg_metrics.h"
#include "net/sg_tls.h"
#include "redis/sg_rd_client.h"
#include "smtp/sg_smtp_auth.h"
#include "smtp/sg_smtp_config.h"
#include "smtp/sg_smtp_policy.h"
#include "smtp/sg_smtp_session.h"
#include "smtp/sg_smtpd.h"
#include "smtp/sg_smtpd_dsn.h"

typedef struct sg_smtpd_listener {
  uv_tcp_t tcp;
  sg_smtpd *srv;
  sg_smtp_mode mode;
  const char *name; /* "submission", "implicit_tls", "relay" (metrics label) */
  bool open;
} sg_smtpd_listener;

struct sg_smtpd {
  uv_loop_t *loop;
  const sg_smtp_config *cfg;
  SSL_CTX *tls_ctx; /* NULL without a certificate */
  sg_smtp_nets relay_nets;
  sg_smtp_auth *auth; /* NULL without a submission listener */
  sg_rd_client *rd;
  sg_smtpd_dsn *dsn; /* the result watcher; NULL without smtp.bounce_sender */
  size_t closing_rd; /* Redis users (client, watcher) still closing at the end */
  sg_smtpd_listener listeners[3];
  sg_list conns; /* sg_smtpd_conn.link */
  size_t nconns; /* connections not yet freed (also those only waiting for Redis) */
  bool draining;
  bool finished;       /* shut down: free once open_handles is 0 */
  size_t open_handles; /* own handles being closed */
  uv_timer_t grace;
  void (*done)(void *ud);
  void *done_ud;

  /* metrics */
  sg_metric_family *m_sessions, *m_refused_conn, *m_auth_fail, *m_refused_msg;
  sg_metric *m_active, *m_accepted, *m_handoff;
};

typedef struct sg_smtpd_conn sg_smtpd_conn;

/* Takes the accepted connection of |l|. */
void sg_smtpd_conn_accept(sg_smtpd_listener *l);

/* Asks the connection to finish and close (drain), or closes it at once (|now|). */
void sg_smtpd_conn_drain(sg_smtpd_conn *c, bool now);

/* The connection behind a link of sg_smtpd.conns. */
sg_smtpd_conn *sg_smtpd_conn_from_link(sg_list *l);

/* A connection was freed (called by sg_smtpd_conn.c). */
void sg_smtpd_conn_gone(sg_smtpd *s);

#endif
