/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The settings of `sendgate smtpd`: the [smtp] section of the gateway's
 * config file (SENDGATE_SMTP_<KEY> in the environment wins, as everywhere),
 * plus the shared settings it needs from the same file, read with the
 * gateway's own table so names, defaults and environment overrides are the
 * same: redis.url, redis.timeout_ms, gateway.jobs_stream,
 * gateway.results_stream, gateway.consumer, http.listen, log.level. Other
 * sections are ignored. Pure apart from reading the file.
 */
#ifndef SG_SMTP_CONFIG_H
#define SG_SMTP_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "conf/sg_config.h"

typedef struct sg_smtp_config {
  /* [smtp] */
  char *listen;       /* submission (STARTTLS); "" or "off" = none */
  char *listen_tls;   /* implicit TLS (RFC 8314); "" or "off" = none */
  char *listen_relay; /* relay; "" or "off" = none */
  char *tls_cert_file;
  char *tls_key_file;
  char *users_file;
  char *relay_networks;
  char *relay_senders;
  char *bounce_sender; /* sends delivery status notifications (sg_smtpd_dsn); "" = none */
  char *hostname;      /* greeting name; default: the host name */
  int64_t max_message_bytes;
  int64_t max_recipients;
  int64_t max_connections;
  int64_t max_connections_per_ip;
  int64_t max_commands;
  int64_t max_errors;
  int64_t command_timeout_ms;
  int64_t data_timeout_ms;
  int64_t handoff_timeout_ms;
  int64_t grace_ms;
  int64_t auth_cache_ms;
  int64_t auth_fail_delay_ms;
  int64_t auth_lockout_failures;
  int64_t auth_lockout_window_ms;
  int64_t auth_lockout_ms;

  /* The shared settings (only the settings part of sg_config is filled:
   * no accounts are read or required). */
  sg_config base;
} sg_smtp_config;

extern const sg_settings sg_smtp_config_settings;

/* True when a listen setting means "no listener". */
bool sg_smtp_listen_off(const char *v);

/*
 * Loads defaults, |path| (may be NULL), then |envp|, and validates: a
 * submission or implicit-TLS listener needs tls_cert_file, tls_key_file and
 * users_file; a relay listener needs relay_networks and relay_senders; at
 * least one listener. Returns 0 or SG_ERR_CONFIG / SG_ERR_IO with a one-line
 * reason in |err|; |c| is left freed on failure.
 */
int sg_smtp_config_load(sg_smtp_config *c, const char *path, char *const *envp, char *err,
                        size_t errcap);
void sg_smtp_config_free(sg_smtp_config *c);

#endif
