/* SPDX-License-Identifier: Apache-2.0 */
/* `sendgate smtpd` settings; see sg_smtp_config.h. */
#include "smtp/sg_smtp_config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/sg_addr.h"
#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "job/sg_job_codec.h"
#include "smtp/sg_smtp_cmd.h"
#include "smtp/sg_smtp_policy.h"

#define F(name) offsetof(sg_smtp_config, name)
#define DAY 86400000

/* Graph sends messages up to 150 MB (drafts and upload sessions above its
 * 4 MB request); Exchange's default maximum is 35 MB (the default here). */
#define MAX_MESSAGE_CAP ((int64_t)157286400)

static const sg_setting tbl[] = {
    {"smtp", "listen", SG_SET_STR, F(listen), "127.0.0.1:2587", 0, 0, 0, NULL,
     "submission listener (STARTTLS, AUTH required); empty or off = none"},
    {"smtp", "listen_tls", SG_SET_STR, F(listen_tls), "", 0, 0, 0, NULL,
     "implicit TLS submission listener (RFC 8314); empty or off = none"},
    {"smtp", "listen_relay", SG_SET_STR, F(listen_relay), "", 0, 0, 0, NULL,
     "relay listener (no AUTH; relay_networks only); empty or off = none"},
    {"smtp", "tls_cert_file", SG_SET_STR, F(tls_cert_file), "", 0, 0, 0, NULL,
     "server certificate chain (PEM, leaf first)"},
    {"smtp", "tls_key_file", SG_SET_STR, F(tls_key_file), "", 0, 0, 0, NULL,
     "server private key (PEM)"},
    {"smtp", "users_file", SG_SET_STR, F(users_file), "", 0, 0, 0, NULL,
     "users and password hashes (sendgate smtp-user)"},
    {"smtp", "relay_networks", SG_SET_STR, F(relay_networks), "", 0, 0, 0, NULL,
     "comma-separated CIDRs allowed on the relay listener"},
    {"smtp", "relay_senders", SG_SET_STR, F(relay_senders), "", 0, 0, 0, NULL,
     "comma-separated addresses or @domain relay clients may send as"},
    {"smtp", "bounce_sender", SG_SET_STR, F(bounce_sender), "", 0, 0, 0, NULL,
     "mailbox that sends delivery status notifications; empty = none"},
    {"smtp", "hostname", SG_SET_STR, F(hostname), "", 0, 0, 0, NULL,
     "name in the greeting and Received: fields (default: the host name)"},
    {"smtp", "max_message_bytes", SG_SET_INT, F(max_message_bytes), "36700160", 1024,
     MAX_MESSAGE_CAP, 0, NULL,
     "largest message accepted (SIZE): Exchange's default maximum, 35 MB; messages over Graph's "
     "4 MB request go as drafts (the app needs Mail.ReadWrite)"},
    {"smtp", "max_recipients", SG_SET_INT, F(max_recipients), "100", 1, SG_SMTP_MAX_RCPTS, 0, NULL,
     "RCPT TO per message"},
    {"smtp", "max_connections", SG_SET_INT, F(max_connections), "2000", 1, 1000000, 0, NULL,
     "client connections at once, all listeners"},
    {"smtp", "max_connections_per_ip", SG_SET_INT, F(max_connections_per_ip), "50", 1, 1000000, 0,
     NULL, "client connections at once from one IP address"},
    {"smtp", "max_commands", SG_SET_INT, F(max_commands), "10000", 0, INT32_MAX, 0, NULL,
     "commands per session, then 421; 0 = no cap"},
    {"smtp", "max_errors", SG_SET_INT, F(max_errors), "10", 0, INT32_MAX, 0, NULL,
     "refused commands per session, then 421; 0 = no cap"},
    {"smtp", "command_timeout_ms", SG_SET_INT, F(command_timeout_ms), "300000", 100, DAY, 0, NULL,
     "wait for a command (RFC 5321 4.5.3.2.7: 5 minutes), TLS handshake included"},
    {"smtp", "data_timeout_ms", SG_SET_INT, F(data_timeout_ms), "180000", 100, DAY, 0, NULL,
     "wait for the next piece of message data (RFC 5321 4.5.3.2.5: 3 minutes)"},
    {"smtp", "handoff_timeout_ms", SG_SET_INT, F(handoff_timeout_ms), "5000", 100, 600000, 0, NULL,
     "wait for Redis to take a message's job, then 451"},
    {"smtp", "grace_ms", SG_SET_INT, F(grace_ms), "10000", 0, 3600000, 0, NULL,
     "on SIGTERM, time for sessions to finish before they are cut"},
    {"smtp", "auth_cache_ms", SG_SET_INT, F(auth_cache_ms), "60000", 0, DAY, 0, NULL,
     "successful password checks remembered"},
    {"smtp", "auth_fail_delay_ms", SG_SET_INT, F(auth_fail_delay_ms), "1000", 0, 60000, 0, NULL,
     "a failed AUTH is answered this late"},
    {"smtp", "auth_lockout_failures", SG_SET_INT, F(auth_lockout_failures), "10", 1, 1000000, 0,
     NULL, "failed AUTHs per source within auth_lockout_window_ms before a lockout"},
    {"smtp", "auth_lockout_window_ms", SG_SET_INT, F(auth_lockout_window_ms), "600000", 1000, DAY,
     0, NULL, ""},
    {"smtp", "auth_lockout_ms", SG_SET_INT, F(auth_lockout_ms), "900000", 1000, DAY, 0, NULL,
     "how long a locked-out source is refused"},
};

const sg_settings sg_smtp_config_settings = {tbl, sizeof tbl / sizeof tbl[0], "SENDGATE_"};

bool sg_smtp_listen_off(const char *v) {
  return v == NULL || v[0] == '\0' || strcasecmp(v, "off") == 0;
}

/* The [smtp] pass ignores every other section, the shared pass ignores [smtp]
 * and the gateway's account and sender sections. */
static int ignore(void *ud, const char *section, const char *key, const char *value, char *err,
                  size_t errcap) {
  return 0;
}

static int smtp_unknown(void *ud, const char *section, const char *key, const char *value,
                        char *err, size_t errcap) {
  if (strcasecmp(section, "smtp") != 0)
    return 0;
  snprintf(err, errcap, "unknown setting smtp.%s", key);
  return SG_ERR_CONFIG;
}

static int validate(sg_smtp_config *c, char *err, size_t errcap) {
  bool sub = !sg_smtp_listen_off(c->listen), imp = !sg_smtp_listen_off(c->listen_tls);
  bool relay = !sg_smtp_listen_off(c->listen_relay);
  if (!sub && !imp && !relay) {
    snprintf(err, errcap,
             "no SMTP listener: set SENDGATE_SMTP_LISTEN, SENDGATE_SMTP_LISTEN_TLS "
             "or SENDGATE_SMTP_LISTEN_RELAY");
    return SG_ERR_CONFIG;
  }
  if ((sub || imp) && (c->tls_cert_file[0] == '\0' || c->tls_key_file[0] == '\0')) {
    snprintf(err, errcap,
             "the submission listener %s needs a certificate (AUTH only after TLS): set "
             "SENDGATE_SMTP_TLS_CERT_FILE and SENDGATE_SMTP_TLS_KEY_FILE, or turn it off with "
             "SENDGATE_SMTP_LISTEN=off",
             sub ? c->listen : c->listen_tls);
    return SG_ERR_CONFIG;
  }
  if ((sub || imp) && c->users_file[0] == '\0') {
    snprintf(err, errcap,
             "the submission listener %s needs users: set SENDGATE_SMTP_USERS_FILE (written by "
             "sendgate smtp-user), or turn it off with SENDGATE_SMTP_LISTEN=off",
             sub ? c->listen : c->listen_tls);
    return SG_ERR_CONFIG;
  }
  if (relay) {
    sg_smtp_nets nets;
    int rv = sg_smtp_nets_parse(c->relay_networks, &nets, err, errcap);
    if (rv)
      return rv;
    size_t n = nets.n;
    sg_smtp_nets_free(&nets);
    if (n == 0 || c->relay_senders[0] == '\0') {
      snprintf(err, errcap,
               "the relay listener %s needs SENDGATE_SMTP_RELAY_NETWORKS and "
               "SENDGATE_SMTP_RELAY_SENDERS (never an open relay)",
               c->listen_relay);
      return SG_ERR_CONFIG;
    }
  }
  if (c->bounce_sender[0] != '\0' && !sg_addr_valid(c->bounce_sender, strlen(c->bounce_sender))) {
    snprintf(err, errcap, "SENDGATE_SMTP_BOUNCE_SENDER: '%s' is not an e-mail address",
             c->bounce_sender);
    return SG_ERR_CONFIG;
  }
  sg_log_level lvl;
  if (sg_log_parse_level(c->base.log_level, &lvl) != 0) {
    snprintf(err, errcap, "SENDGATE_LOG_LEVEL: '%s' is not debug, info, warn or error",
             c->base.log_level);
    return SG_ERR_CONFIG;
  }
  if (c->hostname[0] == '\0') {
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    sg_free(c->hostname);
    c->hostname = sg_xstrdup(host);
  }
  return 0;
}

int sg_smtp_config_load(sg_smtp_config *c, const char *path, char *const *envp, char *err,
                        size_t errcap) {
  memset(c, 0, sizeof *c);
  int rv = sg_settings_defaults(&sg_smtp_config_settings, c, err, errcap);
  if (rv == 0)
    rv = sg_settings_defaults(&sg_config_settings, &c->base, err, errcap);
  if (rv == 0 && path) {
    rv = sg_settings_load_ini(&sg_smtp_config_settings, c, path, smtp_unknown, NULL, err, errcap);
    if (rv == 0)
      rv = sg_settings_load_ini(&sg_config_settings, &c->base, path, ignore, NULL, err, errcap);
  }
  if (rv == 0)
    rv = sg_settings_load_env(&sg_smtp_config_settings, c, envp, err, errcap);
  if (rv == 0)
    rv = sg_settings_load_env(&sg_config_settings, &c->base, envp, err, errcap);
  if (rv == 0)
    rv = validate(c, err, errcap);
  if (rv)
    sg_smtp_config_free(c);
  return rv;
}

void sg_smtp_config_free(sg_smtp_config *c) {
  sg_settings_free(&sg_smtp_config_settings, c);
  sg_settings_free(&sg_config_settings, &c->base);
}
