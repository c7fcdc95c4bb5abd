/* SPDX-License-Identifier: Apache-2.0 */
/* Gateway configuration: settings tables, named accounts, validation; see sg_config.h. */
#include "conf/sg_config.h"
#include "conf/sg_config_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"

#define F(name) offsetof(sg_config, name)
#define L(name) (offsetof(sg_config, limits) + offsetof(sg_limits, name))
#define BIG INT64_MAX

static const sg_setting tbl[] = {
    {"gateway", "consumer", SG_SET_STR, F(consumer), "", 0, 0, 0, NULL,
     "Redis consumer name, stable across restarts (default: host name)"},
    {"gateway", "default_backend", SG_SET_STR, F(default_backend), "graph", 0, 0, 0,
     "SENDGATE_DEFAULT_BACKEND", "graph or acs"},
    {"gateway", "max_in_flight", SG_SET_INT, F(max_in_flight), "10000", 1, 10000000, 0, NULL,
     "jobs held in memory at once; fetching stops at this cap"},
    {"gateway", "max_held_bytes", SG_SET_INT, F(max_held_bytes), "67108864", 0, BIG, 0, NULL,
     "bytes of job entries held in memory at once, beside max_in_flight; fetching takes only "
     "what fits (at least one job of max_job_bytes); the gateway's memory peaks near 4x this "
     "when large jobs wait on a slow provider; 0 = no byte budget"},
    {"gateway", "max_job_bytes", SG_SET_INT, F(max_job_bytes), "41943040", 0, BIG, 0, NULL,
     "a job entry larger than this (what any backend can send) is refused as INVALID "
     "SENDGATE_TOO_LARGE without being read into the gateway; 0 = no cap. With both this and "
     "max_held_bytes 0, reads are native XREADGROUPs: less Redis CPU, no size protection"},
    {"gateway", "fetch_count", SG_SET_INT, F(fetch_count), "512", 1, 100000, 0, NULL,
     "entries per read"},
    {"gateway", "max_requests", SG_SET_INT, F(max_requests), "1024", 0, 1000000, 0, NULL,
     "HTTP requests on the wire or waiting for a stream at once, all lanes together; other "
     "jobs wait on their lanes without a request built (0 = no cap)"},
    {"gateway", "fetch_wait_ms", SG_SET_INT, F(fetch_wait_ms), "0", 0, 1000, 0, NULL,
     "after a read that returned fewer entries than asked, wait this long before the next "
     "(fewer, fuller reads under moderate load, for that much latency); 0 = at once"},
    {"gateway", "grace_ms", SG_SET_INT, F(grace_ms), "10000", 0, 3600000, 0, NULL,
     "time to finish in-flight work on SIGTERM"},
    {"gateway", "results_stream", SG_SET_STR, F(results_stream), "sendgate:results", 0, 0, 0, NULL,
     "default results stream"},
    {"gateway", "results_maxlen", SG_SET_INT, F(results_maxlen), "10000000", 0, BIG, 0, NULL,
     "approximate cap of the default results stream (MAXLEN ~); 0 = none"},
    {"gateway", "reply_stream_prefix", SG_SET_STR, F(reply_stream_prefix), "sendgate:results", 0, 0,
     0, NULL,
     "a job's reply_stream must start with this (else INVALID SENDGATE_REPLY_STREAM_NOT_ALLOWED, "
     "answered on the default stream); empty = any key, which lets producers write into any "
     "key of the Redis user"},
    {"gateway", "jobs_stream", SG_SET_STR, F(jobs_stream), "sendgate:jobs", 0, 0, 0, NULL, ""},
    {"gateway", "bulk_stream", SG_SET_STR, F(bulk_stream), "sendgate:jobs:bulk", 0, 0, 0, NULL,
     "campaign producers XADD here; moved into jobs_stream only while it has nothing unread "
     "and the gateway has room, so transactional jobs never queue behind a campaign; "
     "empty = off"},
    {"gateway", "group", SG_SET_STR, F(group), "sendgate", 0, 0, 0, NULL, ""},
    {"gateway", "dead_stream", SG_SET_STR, F(dead_stream), "sendgate:dead", 0, 0, 0, NULL, ""},
    {"gateway", "max_attempts", SG_SET_INT, F(max_attempts), "8", 1, 1000, 0, NULL,
     "attempts per job when the job does not say"},
    {"gateway", "deadline_ms", SG_SET_INT, F(deadline_ms), "86400000", 1000, BIG, 0, NULL,
     "give up this long after a job was created, when the job does not say"},
    {"gateway", "request_timeout_ms", SG_SET_INT, F(request_timeout_ms), "30000", 100, 3600000, 0,
     NULL, "one HTTP request, queueing included"},
    {"gateway", "connect_timeout_ms", SG_SET_INT, F(connect_timeout_ms), "10000", 100, 600000, 0,
     NULL, "TCP connect + TLS handshake"},
    {"gateway", "retry_base_ms", SG_SET_INT, F(retry_base_ms), "500", 1, 3600000, 0, NULL,
     "backoff base for retries without Retry-After"},
    {"gateway", "retry_cap_ms", SG_SET_INT, F(retry_cap_ms), "60000", 1, 86400000, 0, NULL,
     "backoff cap"},
    {"gateway", "max_conns_per_origin", SG_SET_INT, F(max_conns_per_origin), "4", 1, 64, 0, NULL,
     "HTTP/2 connections per provider origin"},

    {"gateway", "ambiguous", SG_SET_STR, F(ambiguous), "resend", 0, 0, 0, NULL,
     "a Graph request whose answer was lost after it was sent: resend (may duplicate) or fail"},
    {"gateway", "ledger_ttl_s", SG_SET_INT, F(ledger_ttl_s), "604800", 0, BIG, 0, NULL,
     "remember sent jobs (sendgate:ledger:*) at least this long so a redelivery is not sent "
     "again; 0 = off"},
    {"gateway", "ledger_legacy", SG_SET_STR, F(ledger_legacy_text), "auto", 0, 0, 0, NULL,
     "also look sent jobs up in sendgate:sent:<id> (written by gateways before the compact "
     "ledger): auto (while a keyspace scan every 10 minutes finds such keys), true or false"},
    {"gateway", "ledger_slots", SG_SET_INT, F(ledger_slots), "131072", 1, 16777216, 0, NULL,
     "sent-ledger buckets per ledger_ttl_s: at least the jobs sent per ledger_ttl_s / 64; the "
     "same on every gateway"},
    {"gateway", "delayed_after_ms", SG_SET_INT, F(delayed_after_ms), "60000", 1000, BIG, 0, NULL,
     "a job that must wait longer than this moves to sendgate:delayed instead of memory"},
    {"gateway", "hol_horizon_ms", SG_SET_INT, F(hol_horizon_ms), "1000", 0, 600000, 0, NULL,
     "a lane keeps in memory only the jobs it can start within this time (from its limits and "
     "observed latency); the rest wait in sendgate:delayed, due as the lane can take them, so "
     "a campaign never fills max_in_flight; 0 = off"},
    {"gateway", "reaper_interval_ms", SG_SET_INT, F(reaper_interval_ms), "30000", 100, BIG, 0, NULL,
     "how often entries left pending by dead consumers are claimed"},
    {"gateway", "reaper_min_idle_ms", SG_SET_INT, F(reaper_min_idle_ms), "300000", 1000, BIG, 0,
     NULL, "claim only entries idle this long (above the longest in-memory wait)"},
    {"gateway", "max_deliveries", SG_SET_INT, F(max_deliveries), "5", 1, 1000, 0, NULL,
     "an entry delivered more often than this is dead-lettered"},
    {"gateway", "shared_budgets", SG_SET_BOOL, F(shared_budgets), "true", 0, 0, 0, NULL,
     "lanes' in-flight caps, windows and Retry-After pauses are shared through Redis by every "
     "gateway on it (sendgate:budget:*), so N replicas together keep each mailbox's limits; "
     "off = each gateway allows the full limits on its own (one gateway only)"},
    {"gateway", "budget_lease_ms", SG_SET_INT, F(budget_lease_ms), "5000", 300, 600000, 0, NULL,
     "shared budgets: what a gateway holds (in-flight slots) is freed this long after its last "
     "call to Redis, e.g. when it died"},
    {"gateway", "budget_share_ms", SG_SET_INT, F(budget_share_ms), "1000", 10, 60000, 0, NULL,
     "shared budgets: credit taken from a lane's windows is spent within this time (it is "
     "counted as if spent at its end, so long windows lose about this much of their budget)"},
    {"gateway", "budget_share_jobs", SG_SET_INT, F(budget_share_jobs), "64", 1, 64, 0, NULL,
     "shared budgets: jobs' worth of window credit a gateway alone on a lane takes per call "
     "(with other gateways on the lane, only what it can send at once)"},
    {"gateway", "budget_poll_ms", SG_SET_INT, F(budget_poll_ms), "5", 1, 10000, 0, NULL,
     "shared budgets: a lane whose ask was denied asks again after this"},
    {"gateway", "replicas_max", SG_SET_INT, F(replicas_max), "0", 0, 100000, 0, NULL,
     "shared budgets without Redis: each lane's limits are divided by this; 0 = by the number "
     "of gateways last seen in Redis"},

    {"redis", "url", SG_SET_STR, F(redis_url), "redis://127.0.0.1:6379/0", 0, 0, SG_SET_SECRET,
     NULL, "redis://[:password@]host:port/db"},
    {"redis", "timeout_ms", SG_SET_INT, F(redis_timeout_ms), "5000", 100, 600000, 0, NULL,
     "per-command timeout"},

    {"graph", "tenant_id", SG_SET_STR, F(graph_tenant_id), "", 0, 0, 0, NULL, ""},
    {"graph", "client_id", SG_SET_STR, F(graph_client_id), "", 0, 0, 0, NULL, ""},
    {"graph", "client_secret", SG_SET_STR, F(graph_client_secret), "", 0, 0, SG_SET_SECRET, NULL,
     ""},
    {"graph", "client_certificate_file", SG_SET_STR, F(graph_client_certificate_file), "", 0, 0, 0,
     NULL, "instead of a secret: PEM with the app certificate's key and chain (client assertions)"},
    {"graph", "client_certificate_password", SG_SET_STR, F(graph_client_certificate_password), "",
     0, 0, SG_SET_SECRET, NULL, "password of an encrypted key in client_certificate_file"},
    {"graph", "client_assertion_alg", SG_SET_STR, F(graph_client_assertion_alg), "ps256", 0, 0, 0,
     NULL, "ps256 (x5t#S256) or rs256 (x5t) for certificate assertions"},
    {"graph", "client_assertion_file", SG_SET_STR, F(graph_client_assertion_file), "", 0, 0, 0,
     NULL,
     "instead of a secret: a federated token file, read for every token request (default with "
     "no credential set: AZURE_FEDERATED_TOKEN_FILE, with AZURE_CLIENT_ID and AZURE_TENANT_ID)"},
    {"graph", "managed_identity", SG_SET_STR, F(graph_managed_identity), "", 0, 0, 0, NULL,
     "instead of an app credential: the VM's or service's managed identity, \"system\" or a "
     "user-assigned identity's client id"},
    {"graph", "cloud", SG_SET_STR, F(cloud), "global", 0, 0, 0, NULL,
     "global, usgov (= usgovhigh, GCC High), dod or china: the Graph root, Entra root and token "
     "scope together (explicit url, scope and login url win)"},
    {"graph", "url", SG_SET_STR, F(graph_url), "", 0, 0, 0, NULL,
     "Graph root; empty = the cloud's (https://graph.microsoft.com)"},
    {"graph", "scope", SG_SET_STR, F(graph_scope), "", 0, 0, 0, NULL,
     "token scope: the Graph resource + /.default; empty = the cloud's"},
    {"graph", "allowed_senders", SG_SET_STR, F(graph_allowed_senders), "", 0, 0, 0, NULL,
     "addresses (or mailbox ids) and @domain entries the default Graph account may send as, "
     "comma-separated; empty = any mailbox the app may use (see README: restrict it in Exchange "
     "too)"},
    {"login", "identity_endpoint", SG_SET_STR, F(identity_endpoint), "", 0, 0, 0, NULL,
     "managed identity tokens: empty = IDENTITY_ENDPOINT (App Service) or the instance metadata "
     "service http://169.254.169.254"},
    {"login", "identity_header", SG_SET_STR, F(identity_header), "", 0, 0, SG_SET_SECRET, NULL,
     "App Service's X-IDENTITY-HEADER value; empty = IDENTITY_HEADER"},
    {"login", "url", SG_SET_STR, F(login_url), "", 0, 0, 0, NULL,
     "Entra token root; empty = the cloud's (https://login.microsoftonline.com)"},
    {"graph", "mailbox_concurrency", SG_SET_INT, L(graph_mailbox_concurrency), "4", 0, 100000, 0,
     NULL, "requests in flight per (account, mailbox)"},
    {"graph", "mailbox_requests_per_10min", SG_SET_INT, L(graph_mailbox_requests_per_10min),
     "10000", 0, BIG, 0, NULL, ""},
    {"graph", "mailbox_messages_per_minute", SG_SET_INT, L(graph_mailbox_messages_per_minute), "0",
     0, BIG, 0, NULL, ""},
    {"graph", "mailbox_recipients_per_day", SG_SET_INT, L(graph_mailbox_recipients_per_day),
     "10000", 0, BIG, 0, NULL, ""},
    {"graph", "mailbox_upload_bytes_per_5min", SG_SET_INT, L(graph_mailbox_upload_bytes_per_5min),
     "157286400", 0, BIG, 0, NULL,
     "request bytes per (account, mailbox) per 5 minutes (Outlook: 150 MB of uploads); a lane "
     "holds a request back rather than meet a 429; 0 = no limit"},
    {"graph", "max_send_bytes", SG_SET_INT, L(graph_max_send_bytes), "36700160", 0, 157286400, 0,
     NULL,
     "largest message (raw bytes of bodies and attachments) sent through Graph: Exchange's "
     "default is 35 MB, configurable per mailbox up to 150 MB; larger jobs are INVALID "
     "SENDGATE_TOO_LARGE; 0 = no check of ours. Messages over 4 MB go as drafts and need "
     "Mail.ReadWrite"},
    {"graph", "upload_chunk_bytes", SG_SET_INT, F(graph_upload_chunk_bytes), "3932160", 327680,
     4194304, 0, NULL,
     "bytes per upload range of a large message's attachments (rounded down to a multiple of "
     "320 KiB, as Graph asks; at most 4 MiB)"},

    {"exchange_smtp", "messages_per_minute", SG_SET_INT, L(smtp_messages_per_minute), "30", 0, BIG,
     0, NULL, "messages per (account, mailbox) of exchange_smtp accounts (Exchange: 30)"},
    {"exchange_smtp", "recipients_per_day", SG_SET_INT, L(smtp_recipients_per_day), "10000", 0, BIG,
     0, NULL, "rolling 24 h, per (account, mailbox)"},
    {"exchange_smtp", "sessions", SG_SET_INT, L(smtp_sessions), "3", 0, 1000, 0, NULL,
     "SMTP connections per (account, mailbox)"},
    {"exchange_smtp", "throttle_ms", SG_SET_INT, F(smtp_throttle_ms), "60000", 1, 86400000, 0, NULL,
     "SMTP accounts: how long a mailbox's lane pauses after a throttling reply (4.7.x, 421)"},
    {"hve", "messages_per_minute", SG_SET_INT, F(hve_messages_per_minute), "0", 0, BIG, 0, NULL,
     "messages per (account, mailbox) of hve accounts"},
    {"hve", "recipients_per_day", SG_SET_INT, F(hve_recipients_per_day), "0", 0, BIG, 0, NULL, ""},
    {"hve", "sessions", SG_SET_INT, F(hve_sessions), "3", 0, 1000, 0, NULL,
     "SMTP connections per (account, mailbox)"},
    {"acs", "connection_string", SG_SET_STR, F(acs_connection_string), "", 0, 0, SG_SET_SECRET,
     NULL, "endpoint=https://...;accesskey=..."},
    {"acs", "api_version", SG_SET_STR, F(acs_api_version), "2025-09-01", 0, 0, 0, NULL, ""},
    {"acs", "poll", SG_SET_BOOL, F(acs_poll), "true", 0, 0, 0, NULL,
     "follow Operation-Location until the operation ends"},
    {"acs", "poll_max", SG_SET_INT, F(acs_poll_max), "20", 1, 1000, 0, NULL, "polls per operation"},
    {"acs", "polls_per_minute", SG_SET_INT, F(acs_polls_per_minute), "60", 0, BIG, 0, NULL,
     "status polls per minute per resource (documented default 60); 0 = no limit"},
    {"acs", "polls_per_hour", SG_SET_INT, F(acs_polls_per_hour), "200", 0, BIG, 0, NULL,
     "status polls per hour per resource (documented default 200); 0 = no limit"},
    {"acs", "disable_tracking", SG_SET_BOOL, F(acs_disable_tracking), "false", 0, 0, 0, NULL,
     "send userEngagementTrackingDisabled: true"},
    {"acs", "allowed_senders", SG_SET_STR, F(acs_allowed_senders), "", 0, 0, 0, NULL,
     "senderAddress values (or @domain) the default ACS account may use; empty = any"},
    {"acs", "sends_per_minute", SG_SET_INT, L(acs_sends_per_minute), "30", 0, BIG, 0, NULL, ""},
    {"acs", "sends_per_hour", SG_SET_INT, L(acs_sends_per_hour), "100", 0, BIG, 0, NULL, ""},
    {"acs", "concurrency", SG_SET_INT, L(acs_concurrency), "16", 0, 100000, 0, NULL,
     "send requests in flight per ACS resource (keeps a Retry-After from meeting a deep queue)"},

    {"network", "https_proxy", SG_SET_STR, F(https_proxy), "", 0, 0, SG_SET_SECRET, NULL,
     "http://[user:password@]host:port for HTTPS to Graph, ACS and Entra (CONNECT); empty = "
     "https_proxy / HTTPS_PROXY from the environment, as curl"},
    {"network", "no_proxy", SG_SET_STR, F(no_proxy), "", 0, 0, 0, NULL,
     "hosts, .domains, IPs and CIDRs reached directly; empty = no_proxy / NO_PROXY"},
    {"tls", "ca_file", SG_SET_STR, F(tls_ca_file), "", 0, 0, 0, NULL,
     "extra trust anchors (PEM); verification stays on"},
    {"http", "listen", SG_SET_STR, F(http_listen), "127.0.0.1:9464", 0, 0, 0, NULL,
     "/metrics and /healthz; empty = off"},
    {"log", "level", SG_SET_STR, F(log_level), "info", 0, 0, 0, NULL, "debug, info, warn, error"},
    {"log", "show_recipients", SG_SET_BOOL, F(log_show_recipients), "false", 0, 0, 0, NULL,
     "log recipient addresses in clear"},
};

const sg_settings sg_config_settings = {tbl, SG_ARRAY_LEN(tbl), "SENDGATE_"};

/* Per-account settings ([account.NAME] sections, SENDGATE_ACCOUNT_<NAME>_<KEY>). */
typedef struct {
  sg_account a;
  char *type;
} acct_in;

#define A(name) offsetof(acct_in, a.name)
#define AL(name) (offsetof(acct_in, a.limits) + offsetof(sg_limits, name))
static const sg_setting acct_tbl[] = {
    {"", "type", SG_SET_STR, offsetof(acct_in, type), "", 0, 0, 0, NULL,
     "graph, acs, exchange_smtp or hve"},
    {"", "tenant_id", SG_SET_STR, A(tenant_id), "", 0, 0, 0, NULL, ""},
    {"", "client_id", SG_SET_STR, A(client_id), "", 0, 0, 0, NULL, ""},
    {"", "client_secret", SG_SET_STR, A(client_secret), "", 0, 0, SG_SET_SECRET, NULL, ""},
    {"", "client_certificate_file", SG_SET_STR, A(client_certificate_file), "", 0, 0, 0, NULL,
     "instead of a secret: PEM with the app certificate's key and chain"},
    {"", "client_certificate_password", SG_SET_STR, A(client_certificate_password), "", 0, 0,
     SG_SET_SECRET, NULL, ""},
    {"", "client_assertion_alg", SG_SET_STR, A(client_assertion_alg), "ps256", 0, 0, 0, NULL,
     "ps256 or rs256"},
    {"", "client_assertion_file", SG_SET_STR, A(client_assertion_file), "", 0, 0, 0, NULL,
     "instead of a secret: a federated token file, read for every token request"},
    {"", "managed_identity", SG_SET_STR, A(managed_identity), "", 0, 0, 0, NULL,
     "instead of an app credential: \"system\" or a user-assigned identity's client id"},
    {"", "cloud", SG_SET_STR, A(cloud), "", 0, 0, 0, NULL,
     "national cloud of this account; empty = [graph] cloud"},
    {"", "login_url", SG_SET_STR, A(login_url), "", 0, 0, 0, NULL, ""},
    {"", "graph_url", SG_SET_STR, A(graph_url), "", 0, 0, 0, NULL, ""},
    {"", "scope", SG_SET_STR, A(scope), "", 0, 0, 0, NULL, ""},
    {"", "connection_string", SG_SET_STR, A(connection_string), "", 0, 0, SG_SET_SECRET, NULL, ""},
    {"", "endpoint", SG_SET_STR, A(acs_endpoint), "", 0, 0, 0, NULL, ""},
    {"", "allowed_senders", SG_SET_STR, A(allowed_senders), "", 0, 0, 0, NULL,
     "addresses and @domain entries jobs of this account may send as; empty = any"},
    {"", "mailbox_concurrency", SG_SET_INT, AL(graph_mailbox_concurrency), "-1", -1, BIG, 0, NULL,
     ""},
    {"", "mailbox_requests_per_10min", SG_SET_INT, AL(graph_mailbox_requests_per_10min), "-1", -1,
     BIG, 0, NULL, ""},
    {"", "mailbox_messages_per_minute", SG_SET_INT, AL(graph_mailbox_messages_per_minute), "-1", -1,
     BIG, 0, NULL, ""},
    {"", "mailbox_recipients_per_day", SG_SET_INT, AL(graph_mailbox_recipients_per_day), "-1", -1,
     BIG, 0, NULL, ""},
    {"", "mailbox_upload_bytes_per_5min", SG_SET_INT, AL(graph_mailbox_upload_bytes_per_5min), "-1",
     -1, BIG, 0, NULL, ""},
    {"", "max_send_bytes", SG_SET_INT, AL(graph_max_send_bytes), "-1", -1, 157286400, 0, NULL,
     "Graph: largest message this account sends (the mailboxes' maximum send size)"},
    {"", "sends_per_minute", SG_SET_INT, AL(acs_sends_per_minute), "-1", -1, BIG, 0, NULL, ""},
    {"", "sends_per_hour", SG_SET_INT, AL(acs_sends_per_hour), "-1", -1, BIG, 0, NULL, ""},
    {"", "concurrency", SG_SET_INT, AL(acs_concurrency), "-1", -1, 100000, 0, NULL, ""},
    {"", "smtp_host", SG_SET_STR, A(smtp_host), "", 0, 0, 0, NULL, "HOST:PORT; empty = the type's"},
    {"", "username", SG_SET_STR, A(username), "", 0, 0, 0, NULL, "hve: the HVE account"},
    {"", "password", SG_SET_STR, A(password), "", 0, 0, SG_SET_SECRET, NULL, "hve"},
    {"", "accepted_domains", SG_SET_STR, A(accepted_domains), "", 0, 0, 0, NULL, "hve"},
    {"", "smtp_messages_per_minute", SG_SET_INT, AL(smtp_messages_per_minute), "-1", -1, BIG, 0,
     NULL, ""},
    {"", "smtp_recipients_per_day", SG_SET_INT, AL(smtp_recipients_per_day), "-1", -1, BIG, 0, NULL,
     ""},
    {"", "smtp_sessions", SG_SET_INT, AL(smtp_sessions), "-1", -1, 1000, 0, NULL, ""},
};

#define SL(name) (offsetof(sg_sender_limits, limits) + offsetof(sg_limits, name))
static const sg_setting sender_tbl[] = {
    {"", "account", SG_SET_STR, offsetof(sg_sender_limits, account), "", 0, 0, 0, NULL,
     "only under this account (default: every account)"},
    {"", "mailbox_concurrency", SG_SET_INT, SL(graph_mailbox_concurrency), "-1", -1, 100000, 0,
     NULL, ""},
    {"", "mailbox_requests_per_10min", SG_SET_INT, SL(graph_mailbox_requests_per_10min), "-1", -1,
     BIG, 0, NULL, ""},
    {"", "mailbox_messages_per_minute", SG_SET_INT, SL(graph_mailbox_messages_per_minute), "-1", -1,
     BIG, 0, NULL, ""},
    {"", "mailbox_recipients_per_day", SG_SET_INT, SL(graph_mailbox_recipients_per_day), "-1", -1,
     BIG, 0, NULL, ""},
    {"", "mailbox_upload_bytes_per_5min", SG_SET_INT, SL(graph_mailbox_upload_bytes_per_5min), "-1",
     -1, BIG, 0, NULL, ""},
};

typedef struct {
  acct_in *v;
  char **names;
  size_t n;
  sg_sender_limits *senders;
  size_t nsenders;
  sg_config__pool_in pools;
} acct_list;

static int on_sender(acct_list *l, const char *section, const char *key, const char *value,
                     char *err, size_t errcap) {
  const char *addr = section + 7;
  if (*addr == '\0' || strchr(addr, '@') == NULL) {
    snprintf(err, errcap,
             "[%s]: a sender section names an address, e.g. [sender.alerts@contoso.com]", section);
    return SG_ERR_CONFIG;
  }
  size_t i;
  for (i = 0; i < l->nsenders; i++)
    if (strcasecmp(l->senders[i].address, addr) == 0)
      break;
  sg_settings st = {sender_tbl, SG_ARRAY_LEN(sender_tbl), ""};
  if (i == l->nsenders) {
    l->senders = sg_xrealloc(l->senders, (l->nsenders + 1) * sizeof *l->senders);
    memset(&l->senders[i], 0, sizeof l->senders[i]);
    int rv = sg_settings_defaults(&st, &l->senders[i], err, errcap);
    if (rv)
      return rv;
    /* The limits not in the table stay "inherit". */
    l->senders[i].limits.acs_sends_per_minute = -1;
    l->senders[i].limits.acs_sends_per_hour = -1;
    l->senders[i].limits.acs_concurrency = -1;
    l->senders[i].limits.graph_max_send_bytes = -1;
    l->senders[i].limits.smtp_messages_per_minute = -1;
    l->senders[i].limits.smtp_recipients_per_day = -1;
    l->senders[i].limits.smtp_sessions = -1;
    l->senders[i].address = sg_xstrdup(addr);
    for (char *p = l->senders[i].address; *p; p++)
      *p = (char)tolower((unsigned char)*p);
    l->nsenders++;
  }
  char kerr[200];
  if (sg_settings_set(&st, &l->senders[i], "", key, value, kerr, sizeof kerr) != 0) {
    snprintf(err, errcap, "[%s] %s", section, kerr);
    return SG_ERR_CONFIG;
  }
  return 0;
}

static int on_unknown(void *ud, const char *section, const char *key, const char *value, char *err,
                      size_t errcap) {
  acct_list *l = ud;
  if (strncasecmp(section, "sender.", 7) == 0)
    return on_sender(l, section, key, value, err, errcap);
  if (strncasecmp(section, "pool.", 5) == 0)
    return sg_config__pool_line(&l->pools, section, key, value, err, errcap);
  /* [smtp] belongs to `sendgate smtpd` (smtp/sg_smtp_config.c), which checks it. */
  if (strcasecmp(section, "smtp") == 0)
    return 0;
  if (strncasecmp(section, "account.", 8) != 0) {
    snprintf(err, errcap, "unknown section [%s]", section);
    return SG_ERR_CONFIG;
  }
  sg_settings s = {acct_tbl, SG_ARRAY_LEN(acct_tbl), ""};
  return sg_config__named_line(&l->v, &l->names, &l->n, sizeof *l->v, &s, "account", section,
                               section + 8, key, value, err, errcap);
}

static void limits_inherit(sg_limits *l, const sg_limits *def) {
  int64_t *v = (int64_t *)(void *)l;
  const int64_t *d = (const int64_t *)(const void *)def;
  for (size_t i = 0; i < sizeof *l / sizeof(int64_t); i++)
    if (v[i] < 0)
      v[i] = d[i];
}

int sg_config_ignore_unknown(void *ud, const char *section, const char *key, const char *value,
                             char *err, size_t errcap) {
  return 0;
}

bool sg_config_sender_allowed(const sg_account *acct, const char *sender) {
  const char *list = acct->allowed_senders;
  if (list == NULL || list[0] == '\0')
    return true;
  size_t sl = strlen(sender);
  const char *at = strrchr(sender, '@');
  for (const char *p = list; *p;) {
    p += strspn(p, " ,");
    size_t n = strcspn(p, ",");
    while (n > 0 && p[n - 1] == ' ')
      n--;
    if (n > 1 && p[0] == '@') { /* a domain: the sender's domain, exactly */
      if (at && strlen(at) == n && strncasecmp(at, p, n) == 0)
        return true;
    } else if (n > 0 && n == sl && strncasecmp(sender, p, n) == 0) {
      return true;
    }
    p += n;
    p += strcspn(p, ",");
  }
  return false;
}

int sg_backend_parse(const char *s, sg_backend *out) {
  if (strcasecmp(s, "graph") == 0)
    *out = SG_BACKEND_GRAPH;
  else if (strcasecmp(s, "acs") == 0)
    *out = SG_BACKEND_ACS;
  else
    return SG_ERR_INVAL;
  return 0;
}

static void account_free(sg_account *a) {
  sg_free(a->name);
  sg_free(a->tenant_id);
  sg_free(a->client_id);
  sg_free(a->client_secret);
  sg_free(a->client_certificate_file);
  sg_free(a->client_certificate_password);
  sg_free(a->client_assertion_alg);
  sg_free(a->client_assertion_file);
  sg_free(a->managed_identity);
  sg_free(a->identity_endpoint);
  sg_free(a->identity_header);
  sg_free(a->cloud);
  sg_free(a->login_url);
  sg_free(a->graph_url);
  sg_free(a->scope);
  sg_free(a->connection_string);
  sg_free(a->acs_endpoint);
  sg_free(a->allowed_senders);
  sg_free(a->smtp_host);
  sg_free(a->username);
  sg_free(a->password);
  sg_free(a->accepted_domains);
}

static void push_account(sg_config *cfg, const sg_account *a) {
  cfg->accounts = sg_xrealloc(cfg->accounts, (cfg->naccounts + 1) * sizeof *cfg->accounts);
  cfg->accounts[cfg->naccounts++] = *a;
}

static bool acs_conn_string_ok(const char *s) {
  return strcasestr(s, "endpoint=") != NULL && strcasestr(s, "accesskey=") != NULL;
}

static int finish_accounts(sg_config *cfg, acct_list *l, char *const *envp, char *err,
                           size_t errcap) {
  /* The default accounts, from [graph] and [acs]. */
  sg_config__workload_identity_defaults(cfg, envp);
  sg_config__identity_defaults(cfg, envp);
  int prv = sg_config__proxy_defaults(cfg, envp, err, errcap);
  if (prv)
    return prv;
  const sg_config__cloud *gc = sg_config__cloud_find(cfg->cloud);
  if (gc == NULL) {
    snprintf(err, errcap, "graph.cloud: expected global, usgov, usgovhigh, dod or china");
    return SG_ERR_CONFIG;
  }
  bool t = cfg->graph_tenant_id[0], c = cfg->graph_client_id[0];
  bool mi = cfg->graph_managed_identity[0];
  int ncred = sg_config__credentials(cfg->graph_client_secret, cfg->graph_client_certificate_file,
                                     cfg->graph_client_assertion_file, cfg->graph_managed_identity);
  if (t || c || ncred) {
    if (ncred > 1 || (!mi && !(t && c && ncred == 1))) {
      snprintf(err, errcap, "default Graph account: %s",
               ncred > 1 ? "set one of SENDGATE_GRAPH_CLIENT_SECRET, _CLIENT_CERTIFICATE_FILE, "
                           "_CLIENT_ASSERTION_FILE and _MANAGED_IDENTITY, not several"
               : !t      ? "SENDGATE_GRAPH_TENANT_ID is missing"
               : !c      ? "SENDGATE_GRAPH_CLIENT_ID is missing"
               : ncred   ? "set one of SENDGATE_GRAPH_CLIENT_SECRET, _CLIENT_CERTIFICATE_FILE, "
                           "_CLIENT_ASSERTION_FILE and _MANAGED_IDENTITY, not several"
                         : "SENDGATE_GRAPH_CLIENT_SECRET (or _CLIENT_CERTIFICATE_FILE, or "
                           "_CLIENT_ASSERTION_FILE) is missing");
      return SG_ERR_CONFIG;
    }
    sg_account a = {0};
    a.name = sg_xstrdup("");
    a.backend = SG_BACKEND_GRAPH;
    a.tenant_id = sg_xstrdup(cfg->graph_tenant_id);
    a.client_id = sg_xstrdup(cfg->graph_client_id);
    a.client_secret = sg_xstrdup(cfg->graph_client_secret);
    a.client_certificate_file = sg_xstrdup(cfg->graph_client_certificate_file);
    a.client_certificate_password = sg_xstrdup(cfg->graph_client_certificate_password);
    a.client_assertion_alg = sg_xstrdup(cfg->graph_client_assertion_alg);
    a.client_assertion_file = sg_xstrdup(cfg->graph_client_assertion_file);
    a.managed_identity = sg_xstrdup(cfg->graph_managed_identity);
    a.identity_endpoint = sg_xstrdup(cfg->identity_endpoint);
    a.identity_header = sg_xstrdup(cfg->identity_header);
    a.cloud = sg_xstrdup(gc->name);
    a.login_url = sg_config__first_set(cfg->login_url, NULL, gc->login);
    a.graph_url = sg_config__first_set(cfg->graph_url, NULL, gc->graph);
    /* The cloud's resource, even when the URL points elsewhere (a proxy, the sandbox). */
    a.scope =
        cfg->graph_scope[0] ? sg_xstrdup(cfg->graph_scope) : sg_config__graph_scope(gc->graph);
    a.connection_string = sg_xstrdup("");
    a.acs_endpoint = sg_xstrdup("");
    a.allowed_senders = sg_xstrdup(cfg->graph_allowed_senders);
    a.limits = cfg->limits;
    push_account(cfg, &a);
  }
  if (cfg->acs_connection_string[0]) {
    if (!acs_conn_string_ok(cfg->acs_connection_string)) {
      snprintf(err, errcap,
               "SENDGATE_ACS_CONNECTION_STRING: expected endpoint=https://...;accesskey=...");
      return SG_ERR_CONFIG;
    }
    sg_account a = {0};
    a.name = sg_xstrdup("");
    a.backend = SG_BACKEND_ACS;
    a.tenant_id = sg_xstrdup("");
    a.client_id = sg_xstrdup("");
    a.client_secret = sg_xstrdup("");
    a.client_certificate_file = sg_xstrdup("");
    a.client_certificate_password = sg_xstrdup("");
    a.client_assertion_alg = sg_xstrdup("");
    a.client_assertion_file = sg_xstrdup("");
    a.managed_identity = sg_xstrdup("");
    a.identity_endpoint = sg_xstrdup("");
    a.identity_header = sg_xstrdup("");
    a.cloud = sg_xstrdup(gc->name);
    a.login_url = sg_config__first_set(cfg->login_url, NULL, gc->login);
    a.graph_url = sg_xstrdup("");
    a.scope = sg_xstrdup("https://communication.azure.com//.default");
    a.connection_string = sg_xstrdup(cfg->acs_connection_string);
    a.acs_endpoint = sg_xstrdup("");
    a.allowed_senders = sg_xstrdup(cfg->acs_allowed_senders);
    a.limits = cfg->limits;
    push_account(cfg, &a);
  }
  /* Named accounts: the environment overrides each, then validate. */
  for (size_t i = 0; i < l->n; i++) {
    acct_in *in = &l->v[i];
    char prefix[100];
    snprintf(prefix, sizeof prefix, "SENDGATE_ACCOUNT_%s_", l->names[i]);
    for (char *p = prefix; *p; p++)
      *p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    sg_settings s2 = {acct_tbl, SG_ARRAY_LEN(acct_tbl), prefix};
    int rv = sg_settings_load_env(&s2, in, envp, err, errcap);
    if (rv)
      return rv;
    sg_account a = in->a;
    memset(&in->a, 0, sizeof in->a);
    a.name = l->names[i];
    l->names[i] = NULL;
    const char *why = NULL;
    bool smtp = sg_config__smtp_type(in->type, &a.hve);
    if (smtp)
      a.backend = SG_BACKEND_SMTP;
    else if (sg_backend_parse(in->type, &a.backend) != 0)
      why = "type must be graph, acs, exchange_smtp or hve";
    else if (sg_config__credentials(a.client_secret, a.client_certificate_file,
                                    a.client_assertion_file, a.managed_identity) > 1)
      why = "set one of client_secret, client_certificate_file, client_assertion_file and "
            "managed_identity, not several";
    else if (a.backend == SG_BACKEND_GRAPH && !a.managed_identity[0] &&
             !(a.tenant_id[0] && a.client_id[0] &&
               sg_config__credentials(a.client_secret, a.client_certificate_file,
                                      a.client_assertion_file, NULL)))
      why = "a Graph account needs tenant_id, client_id and client_secret (or "
            "client_certificate_file, or client_assertion_file), or managed_identity";
    else if (a.backend == SG_BACKEND_ACS && !a.connection_string[0] &&
             !(a.acs_endpoint[0] &&
               (a.managed_identity[0] ||
                (a.tenant_id[0] && a.client_id[0] &&
                 sg_config__credentials(a.client_secret, a.client_certificate_file,
                                        a.client_assertion_file, NULL)))))
      why = "an ACS account needs connection_string, or endpoint with tenant_id, client_id and "
            "client_secret (or client_certificate_file, or client_assertion_file)";
    else if (a.backend == SG_BACKEND_ACS && a.connection_string[0] &&
             !acs_conn_string_ok(a.connection_string))
      why = "connection_string: expected endpoint=https://...;accesskey=...";
    const sg_config__cloud *ac = a.cloud && a.cloud[0] ? sg_config__cloud_find(a.cloud) : gc;
    if (ac == NULL && why == NULL)
      why = "cloud: expected global, usgov, usgovhigh, dod or china";
    if (ac == NULL)
      ac = gc;
    char *login = sg_config__first_set(a.login_url, cfg->login_url, ac->login);
    char *graph = sg_config__first_set(a.graph_url, cfg->graph_url, ac->graph);
    char *scope;
    if (a.scope && a.scope[0])
      scope = sg_xstrdup(a.scope);
    else if (a.backend == SG_BACKEND_ACS)
      scope = sg_xstrdup("https://communication.azure.com//.default");
    else if (smtp)
      scope = sg_xstrdup(SG_CONFIG_SMTP_SCOPE);
    else if (cfg->graph_scope[0])
      scope = sg_xstrdup(cfg->graph_scope);
    else
      scope = sg_config__graph_scope(ac->graph);
    sg_free(a.cloud);
    a.cloud = sg_xstrdup(ac->name);
    sg_free(a.identity_endpoint);
    sg_free(a.identity_header);
    a.identity_endpoint = sg_xstrdup(cfg->identity_endpoint);
    a.identity_header = sg_xstrdup(cfg->identity_header);
    sg_free(a.login_url);
    sg_free(a.graph_url);
    sg_free(a.scope);
    a.login_url = login;
    a.graph_url = graph;
    a.scope = scope;
    if (smtp && why == NULL)
      why = sg_config__smtp_account(cfg, &a);
    limits_inherit(&a.limits, &cfg->limits);
    if (why) {
      snprintf(err, errcap, "[account.%s] %s", a.name, why);
      account_free(&a);
      return SG_ERR_CONFIG;
    }
    push_account(cfg, &a);
  }
  if (cfg->naccounts == 0) {
    snprintf(err, errcap,
             "no account configured: set SENDGATE_GRAPH_TENANT_ID, SENDGATE_GRAPH_CLIENT_ID and "
             "SENDGATE_GRAPH_CLIENT_SECRET, or SENDGATE_ACS_CONNECTION_STRING, or [account.NAME] "
             "sections");
    return SG_ERR_CONFIG;
  }
  return 0;
}

static void senders_free(sg_sender_limits *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    sg_free(v[i].address);
    sg_free(v[i].account);
  }
  sg_free(v);
}

static void acct_list_free(acct_list *l) {
  senders_free(l->senders, l->nsenders);
  sg_config__pool_in_free(&l->pools);
  sg_settings s = {acct_tbl, SG_ARRAY_LEN(acct_tbl), ""};
  for (size_t i = 0; i < l->n; i++) {
    sg_settings_free(&s, &l->v[i]);
    sg_free(l->names[i]);
  }
  sg_free(l->v);
  sg_free(l->names);
}

/* gateway.ledger_legacy: "auto" or a boolean word (as SG_SET_BOOL takes them); -1 for neither. */
static int parse_legacy(const char *v) {
  static const char *const on[] = {"true", "yes", "on", "1"}, *const off[] = {"false", "no", "off",
                                                                              "0"};
  if (strcasecmp(v, "auto") == 0)
    return SG_LEDGER_LEGACY_AUTO;
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(v, on[i]) == 0)
      return SG_LEDGER_LEGACY_ON;
    if (strcasecmp(v, off[i]) == 0)
      return SG_LEDGER_LEGACY_OFF;
  }
  return -1;
}

int sg_config_load(sg_config *cfg, const char *path, char *const *envp, char *err, size_t errcap) {
  memset(cfg, 0, sizeof *cfg);
  acct_list l = {0};
  int rv = sg_settings_defaults(&sg_config_settings, cfg, err, errcap);
  if (rv == 0 && path)
    rv = sg_settings_load_ini(&sg_config_settings, cfg, path, on_unknown, &l, err, errcap);
  if (rv == 0)
    rv = sg_settings_load_env(&sg_config_settings, cfg, envp, err, errcap);
  sg_backend b;
  sg_log_level lvl;
  if (rv == 0 && sg_backend_parse(cfg->default_backend, &b) != 0) {
    snprintf(err, errcap, "SENDGATE_DEFAULT_BACKEND: '%s' is not graph or acs",
             cfg->default_backend);
    rv = SG_ERR_CONFIG;
  }
  if (rv == 0 && strcmp(cfg->ambiguous, "resend") != 0 && strcmp(cfg->ambiguous, "fail") != 0) {
    snprintf(err, errcap, "SENDGATE_GATEWAY_AMBIGUOUS: '%s' is not resend or fail", cfg->ambiguous);
    rv = SG_ERR_CONFIG;
  }
  if (rv == 0 && (cfg->ledger_legacy = parse_legacy(cfg->ledger_legacy_text)) < 0) {
    snprintf(err, errcap, "SENDGATE_GATEWAY_LEDGER_LEGACY: '%s' is not auto, true or false",
             cfg->ledger_legacy_text);
    rv = SG_ERR_CONFIG;
  }
  if (rv == 0 && sg_log_parse_level(cfg->log_level, &lvl) != 0) {
    snprintf(err, errcap, "SENDGATE_LOG_LEVEL: '%s' is not debug, info, warn or error",
             cfg->log_level);
    rv = SG_ERR_CONFIG;
  }
  if (rv == 0 && cfg->consumer[0] == '\0') {
    char host[256] = "sendgate";
    gethostname(host, sizeof host - 1);
    sg_free(cfg->consumer);
    cfg->consumer = sg_xstrdup(host);
  }
  if (rv == 0)
    rv = finish_accounts(cfg, &l, envp, err, errcap);
  for (size_t i = 0; rv == 0 && i < l.nsenders; i++) {
    const char *acc = l.senders[i].account;
    if (acc[0] && sg_config_account(cfg, SG_BACKEND_GRAPH, acc) == NULL) {
      snprintf(err, errcap, "[sender.%s] account '%s' is not configured", l.senders[i].address,
               acc);
      rv = SG_ERR_CONFIG;
    }
  }
  if (rv == 0)
    rv = sg_config__pools_finish(cfg, &l.pools, envp, err, errcap);
  if (rv == 0) {
    cfg->senders = l.senders;
    cfg->nsenders = l.nsenders;
    l.senders = NULL;
    l.nsenders = 0;
  }
  acct_list_free(&l);
  if (rv)
    sg_config_free(cfg);
  return rv;
}

void sg_config_sender_limits(const sg_config *cfg, const sg_account *acct, const char *sender,
                             sg_limits *out) {
  *out = acct->limits;
  for (size_t i = 0; i < cfg->nsenders; i++) {
    const sg_sender_limits *s = &cfg->senders[i];
    if (strcasecmp(s->address, sender) != 0)
      continue;
    if (s->account[0] && strcmp(s->account, acct->name) != 0)
      continue;
    int64_t *o = (int64_t *)(void *)out;
    const int64_t *v = (const int64_t *)(const void *)&s->limits;
    for (size_t k = 0; k < sizeof *out / sizeof(int64_t); k++)
      if (v[k] >= 0)
        o[k] = v[k];
  }
}

void sg_config_free(sg_config *cfg) {
  sg_config__pools_free(cfg);
  senders_free(cfg->senders, cfg->nsenders);
  cfg->senders = NULL;
  cfg->nsenders = 0;
  for (size_t i = 0; i < cfg->naccounts; i++)
    account_free(&cfg->accounts[i]);
  sg_free(cfg->accounts);
  cfg->accounts = NULL;
  cfg->naccounts = 0;
  sg_settings_free(&sg_config_settings, cfg);
}

const sg_account *sg_config_account(const sg_config *cfg, sg_backend backend, const char *name) {
  if (name == NULL)
    name = "";
  for (size_t i = 0; i < cfg->naccounts; i++) {
    const sg_account *a = &cfg->accounts[i];
    if (name[0] == '\0') {
      if (a->name[0] == '\0' && a->backend == backend)
        return a;
    } else if (strcmp(a->name, name) == 0) {
      return a;
    }
  }
  return NULL;
}
