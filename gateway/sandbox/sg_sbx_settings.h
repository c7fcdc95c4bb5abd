/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's settings: where it listens, the made-up tenant, app and ACS
 * key it accepts, the provider limits it enforces and the faults it injects.
 * Each comes from the config file (--config), the environment
 * (SENDGATE_SANDBOX_<SECTION>_<KEY>), --set section.key=value, or at run time
 * from POST /sandbox/config. Limits of 0 are off. Windows are in milliseconds
 * so tests can shrink a 10-minute window to a second.
 */
#ifndef SG_SBX_SETTINGS_H
#define SG_SBX_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/sg_settings.h"

typedef struct sg_sbx_cfg {
  /* [server] */
  char *listen;      /* host:port; port 0 = any free port */
  char *state_dir;   /* CA, server certificate, ACS key, messages file */
  char *public_host; /* the host name printed in URLs (must be in the certificate) */
  char *cert_file;   /* given certificate chain; empty = make one in state_dir */
  char *key_file;
  char *ca_file; /* the CA to print for clients when cert_file is given */
  int64_t max_concurrent_streams;
  /* [entra] */
  char *tenant_id;
  char *client_id;
  char *client_secret;
  char *client_certificate_file; /* certificate registered on the app (PEM); "" = none */
  /* managed identity stand-in (plain HTTP, as IMDS and App Service's endpoint are) */
  char *imds_listen;          /* host:port; "" = off */
  char *imds_system_id;       /* client id of the system-assigned identity */
  char *imds_user_id;         /* client id of the one user-assigned identity */
  char *imds_identity_header; /* App Service's X-IDENTITY-HEADER value */
  int64_t token_lifetime_s;   /* 0 = random 3600..5400 as Entra does */
  int64_t token_length;       /* characters of an access token (SG_SBX_TOKEN_DEFAULT) */
  double token_fault_429_rate;
  int64_t token_retry_after_s;
  /* [graph] */
  int64_t graph_max_request_bytes;
  int64_t graph_mailbox_concurrency;
  int64_t graph_mailbox_requests;
  int64_t graph_mailbox_window_ms;
  int64_t graph_mailbox_messages_per_minute;
  int64_t graph_minute_window_ms;
  int64_t graph_mailbox_recipients_per_day;
  int64_t graph_day_window_ms;
  bool graph_retry_after_fractional;
  /* Per-mailbox override: these mailboxes get their own requests-per-window limit
   * instead of mailbox_requests/mailbox_window_ms (to throttle one sender hard). */
  char *graph_slow_mailboxes; /* comma-separated, compared without case; empty = none */
  int64_t graph_slow_requests;
  int64_t graph_slow_window_ms;
  /* drafts and upload sessions (the large-message route) */
  bool graph_mail_readwrite;         /* the app holds Mail.ReadWrite (else drafts: 403) */
  int64_t graph_upload_bytes;        /* bytes per (app, mailbox) per upload window; 0 = off */
  int64_t graph_upload_window_ms;    /* that window (Outlook: 5 minutes) */
  int64_t graph_upload_max_chunk;    /* bytes per PUT range at most */
  int64_t graph_upload_ttl_ms;       /* an upload session lives this long after its last range */
  int64_t graph_attachment_post_max; /* POST .../attachments: bytes below this */
  int64_t graph_attachment_max;      /* an upload session's size at most */
  /* [acs] */
  char *acs_access_key; /* base64; empty = made and kept in state_dir */
  int64_t acs_sends_per_minute;
  int64_t acs_sends_per_hour;
  int64_t acs_minute_window_ms;
  int64_t acs_hour_window_ms;
  int64_t acs_status_per_minute;
  int64_t acs_status_per_hour;
  int64_t acs_op_step_ms;
  int64_t acs_max_request_bytes;
  char *acs_bounce_domains; /* comma-separated recipient domains whose ops end Failed */
  bool acs_drop_first_response;
  int64_t acs_clock_skew_s;
  char *acs_bodies_dir; /* each accepted emails:send body kept as <operation id>.json; "" = none */
  /* [faults] */
  int64_t fault_seed;
  double fault_rate_500;
  double fault_rate_503;
  double fault_rate_503_no_retry_after;
  double fault_rate_504;
  double fault_rate_reset;
  double fault_rate_drop;
  int64_t fault_goaway_every;
  int64_t fault_latency_ms;
  double fault_delay_202_rate;
  int64_t fault_delay_202_ms;
  double fault_retry_after_s;
  /* [smtp]: the SMTP stand-ins (sg_sbx_smtp.h) */
  char *smtp_exchange_listen; /* host:port; empty = off */
  char *smtp_hve_listen;
  char *smtp_hve_user;
  char *smtp_hve_password;
  char *smtp_accepted_domains;
  int64_t smtp_hve_max_rcpts;
  int64_t smtp_messages_per_minute;
  int64_t smtp_minute_window_ms;
  int64_t smtp_max_message_bytes;
  bool smtp_basic_5_7_139;
  bool smtp_auth_disabled;
  char *smtp_quota_mailboxes;
  int64_t smtp_expire_tokens; /* the next N XOAUTH2 tokens are taken as expired */
  char *smtp_save_dir;        /* empty = messages not saved */
  /* [record] */
  char *record_file;          /* JSON lines; empty = <state_dir>/messages.jsonl; "off" = none */
  int64_t record_memory;      /* recent messages kept for GET /sandbox/messages */
  int64_t violation_grace_ms; /* after a Retry-After answer goes out, requests already on
                                 their way are not counted as violations */
  /* [inbox]: the web inbox at /inbox (sg_sbx_inbox.h) */
  int64_t inbox_max_messages;      /* messages kept with their content */
  int64_t inbox_max_bytes;         /* all of them together */
  int64_t inbox_max_message_bytes; /* content of one message kept at most */
  int64_t inbox_max_events;        /* throttling and fault answers kept */
} sg_sbx_cfg;

/* The settings table (prefix SENDGATE_SANDBOX_). */
extern const sg_settings sg_sbx_settings;

#endif
