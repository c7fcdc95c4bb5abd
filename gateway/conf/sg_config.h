/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's configuration: an INI file (sendgate run --config FILE) with
 * every setting overridable by SENDGATE_<SECTION>_<KEY> in the environment
 * (the environment wins), secrets also from <VAR>_FILE. Named accounts are
 * sections "[account.NAME]" with "type = graph", "acs", "exchange_smtp" or "hve"; their
 * settings can be overridden by SENDGATE_ACCOUNT_<NAME>_<KEY>. The [graph]
 * and [acs] sections describe the default accounts (job.account empty).
 * Pure: the environment is passed in; no I/O besides reading the files named.
 */
#ifndef SG_CONFIG_H
#define SG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_settings.h"
#include "job/sg_job.h"

/* Limits of one lane; 0 = no limit. -1 = inherit (in account/sender overrides). */
/* gateway.ledger_legacy */
enum { SG_LEDGER_LEGACY_OFF, SG_LEDGER_LEGACY_ON, SG_LEDGER_LEGACY_AUTO };

typedef struct sg_limits {
  int64_t graph_mailbox_concurrency;
  int64_t graph_mailbox_requests_per_10min;
  int64_t graph_mailbox_messages_per_minute;
  int64_t graph_mailbox_recipients_per_day;
  int64_t graph_mailbox_upload_bytes_per_5min; /* request bytes per (account, mailbox) */
  int64_t graph_max_send_bytes; /* a message's raw bytes at most (Exchange: 35 MB by default) */
  int64_t acs_sends_per_minute;
  int64_t acs_sends_per_hour;
  int64_t acs_concurrency; /* send requests in flight per ACS resource */
  /* SMTP accounts (exchange_smtp, hve), per (account, mailbox) */
  int64_t smtp_messages_per_minute;
  int64_t smtp_recipients_per_day; /* rolling 24 h */
  int64_t smtp_sessions;           /* SMTP connections open at once */
} sg_limits;

typedef struct sg_account {
  char *name; /* "" for the default account of its backend */
  sg_backend backend;
  /* Graph, and ACS with Entra auth */
  char *tenant_id;
  char *client_id;
  char *client_secret;
  /* Instead of a secret: a certificate (PEM with key and chain) whose key signs
   * a client assertion per token request, or a file holding an assertion the
   * platform keeps fresh (workload identity). See svc/sg_cred.h. */
  char *client_certificate_file;
  char *client_certificate_password; /* of an encrypted key; "" = none */
  char *client_assertion_alg;        /* ps256 (default) or rs256 */
  char *client_assertion_file;
  /* Or a managed identity: "system" or a user-assigned identity's client id;
   * tokens from identity_endpoint (IMDS, or App Service's with identity_header). */
  char *managed_identity;
  char *identity_endpoint;
  char *identity_header;
  char *cloud; /* global, usgov, usgovhigh, dod, china (resolved) */
  char *login_url;
  char *graph_url;
  char *scope; /* token scope for Graph ("https://graph.microsoft.com/.default") */
  /* ACS */
  char *connection_string; /* endpoint=...;accesskey=... (HMAC) */
  char *acs_endpoint;      /* with Entra auth instead of a key */
  /* Who a job of this account may send as: comma-separated addresses (or
   * Graph mailbox ids) and "@domain" entries, any case; "" = anyone. */
  char *allowed_senders;
  /* SMTP accounts (backend SG_BACKEND_SMTP): type exchange_smtp (XOAUTH2
   * with the Entra app above) or hve (username and password, or the app). */
  bool hve;
  char *smtp_host;        /* "HOST:PORT", the type's default when not set */
  char *username;         /* hve: the HVE account's user; "" = OAuth */
  char *password;         /* hve: SENDGATE_ACCOUNT_<NAME>_PASSWORD or its _FILE */
  char *accepted_domains; /* hve: the tenant's domains; other recipients are INVALID */
  sg_limits limits;
} sg_account;

/* Limits for one sender ([sender.ADDRESS] sections); -1 fields inherit. */
typedef struct sg_sender_limits {
  char *address; /* lower case */
  char *account; /* "" = under every account */
  sg_limits limits;
} sg_sender_limits;

/* A sender pool ([pool.NAME]): a job whose sender is "pool:NAME" is sent by
 * whichever member has budget now (app/sg_app_pool.c). */
typedef struct sg_pool_member {
  char *account; /* "" = the job's account */
  char *sender;  /* mailbox (Graph) or senderAddress (ACS) */
  uint32_t weight;
} sg_pool_member;

typedef struct sg_pool {
  char *name;
  char *account; /* "" = the job's; the members' default account */
  sg_pool_member *members;
  size_t nmembers;
} sg_pool;

typedef struct sg_config {
  /* [gateway] */
  char *consumer;         /* Redis consumer name; default: host name */
  char *default_backend;  /* graph | acs */
  int64_t max_in_flight;  /* jobs held at once; fetching stops at the cap */
  int64_t max_held_bytes; /* bytes of job entries held at once */
  int64_t max_job_bytes;  /* larger entries: INVALID without being read */
  int64_t fetch_count;    /* entries per XREADGROUP */
  int64_t fetch_wait_ms;  /* pause after a short read so a burst is fetched together */
  int64_t max_requests;   /* HTTP requests out at once, all lanes (0 = no cap) */
  int64_t grace_ms;       /* shutdown grace */
  char *results_stream;
  int64_t results_maxlen;
  char *reply_stream_prefix; /* a job's reply_stream must start with it ("" = any key) */
  char *jobs_stream;
  char *bulk_stream; /* campaign jobs, fed into jobs_stream when there is room ("" = off) */
  char *group;
  char *dead_stream;
  int64_t max_attempts;
  int64_t deadline_ms;
  int64_t request_timeout_ms;
  int64_t connect_timeout_ms;
  int64_t retry_base_ms;
  int64_t retry_cap_ms;
  int64_t max_conns_per_origin;
  char *ambiguous;          /* Graph answer lost after sending: "resend" or "fail" */
  int64_t ledger_ttl_s;     /* how long the sent ledger remembers a sent job (at least); 0 = off */
  int64_t ledger_slots;     /* sent-ledger buckets per generation (see sg_rd_queue.h) */
  char *ledger_legacy_text; /* "auto", or a boolean word */
  int ledger_legacy;        /* SG_LEDGER_LEGACY_*: look up the older layout, sendgate:sent:<id> */
  int64_t delayed_after_ms; /* waits longer than this leave memory for sendgate:delayed */
  int64_t hol_horizon_ms;   /* jobs a lane cannot admit within this wait in sendgate:delayed */
  int64_t reaper_interval_ms;
  int64_t reaper_min_idle_ms;
  int64_t max_deliveries;
  /* shared budgets (sched/sg_share.h): lanes' limits shared by every gateway on the Redis */
  bool shared_budgets;
  int64_t budget_lease_ms;   /* slot leases expire this long after a gateway's last call */
  int64_t budget_share_ms;   /* credit taken from the shared windows is valid this long */
  int64_t budget_share_jobs; /* jobs' worth of credit a gateway alone on a lane takes at once */
  int64_t budget_poll_ms;    /* a denied ask is repeated after this */
  int64_t replicas_max;      /* without Redis, limits are divided by this (0: gateways seen) */
  /* [redis] */
  char *redis_url;
  int64_t redis_timeout_ms;
  /* [graph]: the default Graph account */
  char *graph_tenant_id;
  char *graph_client_id;
  char *graph_client_secret;
  char *graph_client_certificate_file;
  char *graph_client_certificate_password;
  char *graph_client_assertion_alg;
  char *graph_client_assertion_file;
  char *graph_managed_identity;
  char *identity_endpoint; /* [login]; default IDENTITY_ENDPOINT or IMDS */
  char *identity_header;   /* [login]; default IDENTITY_HEADER */
  char *cloud;
  char *graph_url;
  char *graph_scope;
  char *login_url;
  char *graph_allowed_senders;
  int64_t graph_upload_chunk_bytes; /* bytes per upload range of a large message */
  /* [acs]: the default ACS account */
  char *acs_connection_string;
  char *acs_api_version;
  bool acs_poll;
  int64_t acs_poll_max;
  int64_t acs_polls_per_minute; /* status calls per resource (their own budget) */
  int64_t acs_polls_per_hour;
  bool acs_disable_tracking; /* userEngagementTrackingDisabled on every message */
  char *acs_allowed_senders;
  /* default limits ([graph] / [acs] / [exchange_smtp] keys) */
  sg_limits limits;
  /* [hve]: the defaults of hve accounts' SMTP limits */
  int64_t hve_messages_per_minute;
  int64_t hve_recipients_per_day;
  int64_t hve_sessions;
  int64_t smtp_throttle_ms; /* [exchange_smtp] throttle_ms: lane pause after a 4.7.x reply */
  /* [tls] */
  char *tls_ca_file;
  char *https_proxy; /* [network]; resolved: the setting, else https_proxy/HTTPS_PROXY */
  char *no_proxy;    /* [network]; resolved: the setting, else no_proxy/NO_PROXY */
  /* [http] */
  char *http_listen;
  /* [log] */
  char *log_level;
  bool log_show_recipients;

  /* Accounts: defaults first (when configured), then the named ones. */
  sg_account *accounts;
  size_t naccounts;
  /* Per-sender limit overrides. */
  sg_sender_limits *senders;
  size_t nsenders;
  /* Sender pools (conf/sg_config_pool.c). */
  sg_pool *pools;
  size_t npools;
} sg_config;

extern const sg_settings sg_config_settings;

/*
 * Loads defaults, then |path| (may be NULL), then the environment |envp|, then
 * validates. On failure returns SG_ERR_CONFIG or SG_ERR_IO with a one-line
 * reason in |err|; |cfg| is left freed.
 */
int sg_config_load(sg_config *cfg, const char *path, char *const *envp, char *err, size_t errcap);

void sg_config_free(sg_config *cfg);

/* The account a job names (|name| may be "" for the backend's default), or NULL. */
const sg_account *sg_config_account(const sg_config *cfg, sg_backend backend, const char *name);

/* An sg_settings_unknown_cb that accepts every unknown line (for tools that
 * read only some settings of the gateway's file). */
int sg_config_ignore_unknown(void *ud, const char *section, const char *key, const char *value,
                             char *err, size_t errcap);

/*
 * The limits for |sender| (any case) under |acct|: the account's limits with
 * the fields a [sender.ADDRESS] section sets (for that account or for all)
 * laid over them. Writes the result into |out|.
 */
void sg_config_sender_limits(const sg_config *cfg, const sg_account *acct, const char *sender,
                             sg_limits *out);

/* True when |acct| lets a job send as |sender| (its allowed_senders). */
bool sg_config_sender_allowed(const sg_account *acct, const char *sender);

/* The pool named |name| (exact), or NULL. */
const sg_pool *sg_config_pool(const sg_config *cfg, const char *name);

/* Parses "graph"/"acs". Returns 0 or SG_ERR_INVAL. */
int sg_backend_parse(const char *s, sg_backend *out);

#endif
