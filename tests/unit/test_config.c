/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for app/sg_config: precedence, named accounts, validation messages. */
#include "harness.h"

#include <unistd.h>

#include "conf/sg_config.h"
#include "core/sg_err.h"

static char *write_tmp(const char *text) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/sg_cfg_XXXXXX");
  int fd = mkstemp(path);
  ASSERT(fd >= 0);
  ASSERT_EQ((ssize_t)strlen(text), write(fd, text, strlen(text)));
  close(fd);
  return path;
}

static void t_env_only(void) {
  char e1[] = "SENDGATE_GRAPH_TENANT_ID=t", e2[] = "SENDGATE_GRAPH_CLIENT_ID=c",
       e3[] = "SENDGATE_GRAPH_CLIENT_SECRET=s", e4[] = "SENDGATE_GRAPH_URL=https://localhost:8443",
       e5[] = "SENDGATE_GRAPH_MAILBOX_CONCURRENCY=2", e6[] = "SENDGATE_ACS_SENDS_PER_MINUTE=0";
  char *envp[] = {e1, e2, e3, e4, e5, e6, NULL};
  sg_config cfg;
  char err[300];
  ASSERT_OK(sg_config_load(&cfg, NULL, envp, err, sizeof err));
  ASSERT_STR_EQ("redis://127.0.0.1:6379/0", cfg.redis_url);
  ASSERT_STR_EQ("127.0.0.1:9464", cfg.http_listen);
  ASSERT_EQ(1, cfg.naccounts);
  const sg_account *a = sg_config_account(&cfg, SG_BACKEND_GRAPH, "");
  ASSERT_NOT_NULL(a);
  ASSERT_STR_EQ("https://localhost:8443", a->graph_url);
  ASSERT_STR_EQ("https://login.microsoftonline.com", a->login_url);
  ASSERT_EQ(2, a->limits.graph_mailbox_concurrency);
  ASSERT_EQ(0, cfg.limits.acs_sends_per_minute);
  ASSERT_NULL(sg_config_account(&cfg, SG_BACKEND_ACS, ""));
  ASSERT(cfg.consumer[0] != '\0');
  ASSERT_EQ(SG_LEDGER_LEGACY_AUTO, cfg.ledger_legacy);
  sg_config_free(&cfg);
  /* gateway.ledger_legacy: auto, or a boolean word. */
  const char *words[][2] = {{"false", "0"}, {"no", "0"}, {"TRUE", "1"}, {"on", "1"}, {"Auto", "2"}};
  for (size_t i = 0; i < 5; i++) {
    char e7[64];
    snprintf(e7, sizeof e7, "SENDGATE_GATEWAY_LEDGER_LEGACY=%s", words[i][0]);
    char *env2[] = {e1, e2, e3, e4, e7, NULL};
    ASSERT_OK(sg_config_load(&cfg, NULL, env2, err, sizeof err));
    ASSERT_EQ(atoi(words[i][1]), cfg.ledger_legacy);
    sg_config_free(&cfg);
  }
  char e8[] = "SENDGATE_GATEWAY_LEDGER_LEGACY=sometimes";
  char *env3[] = {e1, e2, e3, e4, e8, NULL};
  ASSERT_EQ(SG_ERR_CONFIG, sg_config_load(&cfg, NULL, env3, err, sizeof err));
  ASSERT(strstr(err, "SENDGATE_GATEWAY_LEDGER_LEGACY") != NULL);
}

static void t_file_accounts(void) {
  char *path = write_tmp("[gateway]\nmax_in_flight = 500\n"
                         "[graph]\nmailbox_concurrency = 3\n"
                         "[account.sales]\ntype = graph\ntenant_id = t2\nclient_id = c2\n"
                         "client_secret = s2\nmailbox_concurrency = 1\n"
                         "[account.bulk]\ntype = acs\n"
                         "connection_string = endpoint=https://x.example/;accesskey=AAAA\n");
  char e1[] = "SENDGATE_ACCOUNT_SALES_CLIENT_SECRET=fromenv",
       e2[] = "SENDGATE_GATEWAY_MAX_IN_FLIGHT=700";
  char *envp[] = {e1, e2, NULL};
  sg_config cfg;
  char err[300];
  ASSERT_OK(sg_config_load(&cfg, path, envp, err, sizeof err));
  ASSERT_EQ(700, cfg.max_in_flight);
  ASSERT_EQ(2, cfg.naccounts);
  const sg_account *s = sg_config_account(&cfg, SG_BACKEND_GRAPH, "sales");
  ASSERT_NOT_NULL(s);
  ASSERT_STR_EQ("fromenv", s->client_secret);
  ASSERT_EQ(1, s->limits.graph_mailbox_concurrency);
  ASSERT_EQ(10000, s->limits.graph_mailbox_recipients_per_day); /* inherited default */
  const sg_account *b = sg_config_account(&cfg, SG_BACKEND_ACS, "bulk");
  ASSERT_NOT_NULL(b);
  ASSERT_EQ(SG_BACKEND_ACS, b->backend);
  ASSERT_EQ(30, b->limits.acs_sends_per_minute);
  sg_config_free(&cfg);
  unlink(path);
}

/* allowed_senders: addresses in any case, @domain entries, empty = anyone; from
 * the file per account and from the environment for the default account. */
static void t_allowed_senders(void) {
  char *path =
      write_tmp("[graph]\ntenant_id = t\nclient_id = c\nclient_secret = s\n"
                "[account.sales]\ntype = graph\ntenant_id = t2\nclient_id = c2\n"
                "client_secret = s2\nallowed_senders = Sales@Contoso.com, @fabrikam.com\n");
  char e1[] = "SENDGATE_GRAPH_ALLOWED_SENDERS=alerts@contoso.com";
  char *envp[] = {e1, NULL};
  sg_config cfg;
  char err[300];
  ASSERT_OK(sg_config_load(&cfg, path, envp, err, sizeof err));
  const sg_account *s = sg_config_account(&cfg, SG_BACKEND_GRAPH, "sales");
  ASSERT(sg_config_sender_allowed(s, "sales@contoso.com"));
  ASSERT(sg_config_sender_allowed(s, "SALES@CONTOSO.COM"));
  ASSERT(sg_config_sender_allowed(s, "anyone@fabrikam.com"));
  ASSERT(sg_config_sender_allowed(s, "x@FABRIKAM.com"));
  ASSERT(!sg_config_sender_allowed(s, "ceo@contoso.com"));
  ASSERT(!sg_config_sender_allowed(s, "x@sub.fabrikam.com"));
  ASSERT(!sg_config_sender_allowed(s, "x@fabrikam.com.evil.example"));
  ASSERT(!sg_config_sender_allowed(s, "sales@contoso.co"));
  ASSERT(!sg_config_sender_allowed(s, "sales@contoso.comx"));
  ASSERT(!sg_config_sender_allowed(s, ""));
  const sg_account *d = sg_config_account(&cfg, SG_BACKEND_GRAPH, "");
  ASSERT(sg_config_sender_allowed(d, "alerts@contoso.com"));
  ASSERT(!sg_config_sender_allowed(d, "sales@contoso.com"));
  sg_config_free(&cfg);
  unlink(path);
  char e2[] = "SENDGATE_GRAPH_TENANT_ID=t", e3[] = "SENDGATE_GRAPH_CLIENT_ID=c",
       e4[] = "SENDGATE_GRAPH_CLIENT_SECRET=s";
  char *envp3[] = {e2, e3, e4, NULL};
  ASSERT_OK(sg_config_load(&cfg, NULL, envp3, err, sizeof err));
  ASSERT(
      sg_config_sender_allowed(sg_config_account(&cfg, SG_BACKEND_GRAPH, ""), "any@where.example"));
  sg_config_free(&cfg);
}

static void t_errors(void) {
  sg_config cfg;
  char err[300];
  char *none[] = {NULL};
  ASSERT_EQ(SG_ERR_CONFIG, sg_config_load(&cfg, NULL, none, err, sizeof err));
  ASSERT(strstr(err, "no account configured") != NULL);

  char e1[] = "SENDGATE_GRAPH_TENANT_ID=t", e2[] = "SENDGATE_GRAPH_CLIENT_ID=c";
  char *partial[] = {e1, e2, NULL};
  ASSERT_EQ(SG_ERR_CONFIG, sg_config_load(&cfg, NULL, partial, err, sizeof err));
  ASSERT(strstr(err, "SENDGATE_GRAPH_CLIENT_SECRET") != NULL);

  char e3[] = "SENDGATE_ACS_CONNECTION_STRING=endpoint=https://x/;accesskey=AA",
       e4[] = "SENDGATE_DEFAULT_BACKEND=smtp";
  char *badb[] = {e3, e4, NULL};
  ASSERT_EQ(SG_ERR_CONFIG, sg_config_load(&cfg, NULL, badb, err, sizeof err));
  ASSERT(strstr(err, "SENDGATE_DEFAULT_BACKEND") != NULL);

  char *path = write_tmp("[account.x]\ntype = graph\ntenant_id = t\n");
  char *envp[] = {e3, NULL};
  ASSERT_EQ(SG_ERR_CONFIG, sg_config_load(&cfg, path, envp, err, sizeof err));
  ASSERT(strstr(err, "[account.x]") != NULL);
  unlink(path);
  path = write_tmp("[gateway]\nmax_in_flight = lots\n");
  ASSERT_EQ(SG_ERR_CONFIG, sg_config_load(&cfg, path, envp, err, sizeof err));
  ASSERT(strstr(err, ":2:") != NULL && strstr(err, "gateway.max_in_flight") != NULL);
  unlink(path);
  path = write_tmp("[nonsense]\nx = 1\n");
  ASSERT_EQ(SG_ERR_CONFIG, sg_config_load(&cfg, path, envp, err, sizeof err));
  ASSERT(strstr(err, "[nonsense]") != NULL);
  unlink(path);
}

static void t_sender_limits(void) {
  char *path =
      write_tmp("[graph]\nmailbox_concurrency = 3\nmailbox_recipients_per_day = 500\n"
                "[account.sales]\ntype = graph\ntenant_id = t\nclient_id = c\n"
                "client_secret = s\n"
                "[sender.Alerts@Contoso.com]\nmailbox_concurrency = 1\n"
                "[sender.bulk@contoso.com]\naccount = sales\nmailbox_messages_per_minute = 30\n");
  char e1[] = "SENDGATE_GRAPH_TENANT_ID=t", e2[] = "SENDGATE_GRAPH_CLIENT_ID=c",
       e3[] = "SENDGATE_GRAPH_CLIENT_SECRET=s";
  char *envp[] = {e1, e2, e3, NULL};
  sg_config cfg;
  char err[300];
  ASSERT_OK(sg_config_load(&cfg, path, envp, err, sizeof err));
  ASSERT_EQ(2, cfg.nsenders);
  const sg_account *def = sg_config_account(&cfg, SG_BACKEND_GRAPH, "");
  const sg_account *sales = sg_config_account(&cfg, SG_BACKEND_GRAPH, "sales");
  sg_limits l;
  sg_config_sender_limits(&cfg, def, "alerts@contoso.com", &l);
  ASSERT_EQ(1, l.graph_mailbox_concurrency);
  ASSERT_EQ(500, l.graph_mailbox_recipients_per_day); /* inherited */
  sg_config_sender_limits(&cfg, sales, "ALERTS@contoso.com", &l);
  ASSERT_EQ(1, l.graph_mailbox_concurrency); /* every account */
  sg_config_sender_limits(&cfg, def, "other@contoso.com", &l);
  ASSERT_EQ(3, l.graph_mailbox_concurrency);
  sg_config_sender_limits(&cfg, def, "bulk@contoso.com", &l);
  ASSERT_EQ(0, l.graph_mailbox_messages_per_minute); /* only under sales */
  sg_config_sender_limits(&cfg, sales, "bulk@contoso.com", &l);
  ASSERT_EQ(30, l.graph_mailbox_messages_per_minute);
  sg_config_free(&cfg);
  unlink(path);
  path = write_tmp("[sender.bulk@contoso.com]\naccount = nope\n");
  ASSERT_EQ(SG_ERR_CONFIG, sg_config_load(&cfg, path, envp, err, sizeof err));
  ASSERT(strstr(err, "nope") != NULL);
  unlink(path);
  path = write_tmp("[sender.nobody]\nmailbox_concurrency = 1\n");
  ASSERT_EQ(SG_ERR_CONFIG, sg_config_load(&cfg, path, envp, err, sizeof err));
  unlink(path);
}

/* One credential per app: a secret, a certificate or an assertion file; with
 * none set, AKS's workload identity variables make the default account. */
static void t_credentials(void) {
  sg_config cfg;
  char err[300];
  char t[] = "SENDGATE_GRAPH_TENANT_ID=t", c[] = "SENDGATE_GRAPH_CLIENT_ID=c",
       sec[] = "SENDGATE_GRAPH_CLIENT_SECRET=s",
       cert[] = "SENDGATE_GRAPH_CLIENT_CERTIFICATE_FILE=/etc/sendgate/app.pem",
       pw[] = "SENDGATE_GRAPH_CLIENT_CERTIFICATE_PASSWORD=pw";
  char *with_cert[] = {t, c, cert, pw, NULL};
  ASSERT_OK(sg_config_load(&cfg, NULL, with_cert, err, sizeof err));
  ASSERT_EQ(1u, cfg.naccounts);
  ASSERT_STR_EQ("/etc/sendgate/app.pem", cfg.accounts[0].client_certificate_file);
  ASSERT_STR_EQ("pw", cfg.accounts[0].client_certificate_password);
  ASSERT_STR_EQ("ps256", cfg.accounts[0].client_assertion_alg);
  ASSERT_STR_EQ("", cfg.accounts[0].client_secret);
  sg_config_free(&cfg);

  char *both[] = {t, c, sec, cert, NULL};
  ASSERT_EQ(SG_ERR_CONFIG, sg_config_load(&cfg, NULL, both, err, sizeof err));
  ASSERT(strstr(err, "not several") != NULL);

  char f[] = "AZURE_FEDERATED_TOKEN_FILE=/var/run/secrets/azure/tokens/azure-identity-token",
       ac[] = "AZURE_CLIENT_ID=wi-client", at[] = "AZURE_TENANT_ID=wi-tenant";
  char *wi[] = {f, ac, at, NULL};
  ASSERT_OK(sg_config_load(&cfg, NULL, wi, err, sizeof err));
  ASSERT_EQ(1u, cfg.naccounts);
  ASSERT_STR_EQ("wi-client", cfg.accounts[0].client_id);
  ASSERT_STR_EQ("wi-tenant", cfg.accounts[0].tenant_id);
  ASSERT_STR_EQ("/var/run/secrets/azure/tokens/azure-identity-token",
                cfg.accounts[0].client_assertion_file);
  sg_config_free(&cfg);
  /* A secret set for the default account wins over the platform's variables. */
  char *wi_secret[] = {f, ac, at, t, c, sec, NULL};
  ASSERT_OK(sg_config_load(&cfg, NULL, wi_secret, err, sizeof err));
  ASSERT_STR_EQ("c", cfg.accounts[0].client_id);
  ASSERT_STR_EQ("", cfg.accounts[0].client_assertion_file);
  sg_config_free(&cfg);

  const char *ini = "[account.certs]\ntype = graph\ntenant_id = t\nclient_id = c\n"
                    "client_certificate_file = /x.pem\nclient_assertion_alg = rs256\n";
  char *path = write_tmp(ini);
  char *none[] = {NULL};
  ASSERT_OK(sg_config_load(&cfg, path, none, err, sizeof err));
  ASSERT_STR_EQ("rs256", cfg.accounts[0].client_assertion_alg);
  sg_config_free(&cfg);
  unlink(path);
  path = write_tmp("[account.nocred]\ntype = graph\ntenant_id = t\nclient_id = c\n");
  ASSERT_EQ(SG_ERR_CONFIG, sg_config_load(&cfg, path, none, err, sizeof err));
  ASSERT(strstr(err, "client_certificate_file") != NULL);
  unlink(path);
}

/* graph.cloud sets the three roots together; explicit URLs and scopes win;
 * accounts may name their own cloud. */
static void t_clouds(void) {
  sg_config cfg;
  char err[300];
  char t[] = "SENDGATE_GRAPH_TENANT_ID=t", c[] = "SENDGATE_GRAPH_CLIENT_ID=c",
       sec[] = "SENDGATE_GRAPH_CLIENT_SECRET=s", cn[] = "SENDGATE_GRAPH_CLOUD=china",
       url[] = "SENDGATE_GRAPH_URL=https://127.0.0.1:8443";
  char *none[] = {t, c, sec, NULL};
  ASSERT_OK(sg_config_load(&cfg, NULL, none, err, sizeof err));
  ASSERT_STR_EQ("https://login.microsoftonline.com", cfg.accounts[0].login_url);
  ASSERT_STR_EQ("https://graph.microsoft.com", cfg.accounts[0].graph_url);
  ASSERT_STR_EQ("https://graph.microsoft.com/.default", cfg.accounts[0].scope);
  sg_config_free(&cfg);
  char *china[] = {t, c, sec, cn, NULL};
  ASSERT_OK(sg_config_load(&cfg, NULL, china, err, sizeof err));
  ASSERT_STR_EQ("https://login.chinacloudapi.cn", cfg.accounts[0].login_url);
  ASSERT_STR_EQ("https://microsoftgraph.chinacloudapi.cn", cfg.accounts[0].graph_url);
  ASSERT_STR_EQ("https://microsoftgraph.chinacloudapi.cn/.default", cfg.accounts[0].scope);
  sg_config_free(&cfg);
  /* An explicit URL (a proxy, the sandbox) wins; the scope stays the cloud's resource. */
  char *china_url[] = {t, c, sec, cn, url, NULL};
  ASSERT_OK(sg_config_load(&cfg, NULL, china_url, err, sizeof err));
  ASSERT_STR_EQ("https://127.0.0.1:8443", cfg.accounts[0].graph_url);
  ASSERT_STR_EQ("https://microsoftgraph.chinacloudapi.cn/.default", cfg.accounts[0].scope);
  sg_config_free(&cfg);

  char *path = write_tmp("[account.dod]\ntype = graph\ntenant_id = t\nclient_id = c\n"
                         "client_secret = s\ncloud = DoD\n");
  char *empty[] = {NULL};
  ASSERT_OK(sg_config_load(&cfg, path, empty, err, sizeof err));
  ASSERT_STR_EQ("dod", cfg.accounts[0].cloud);
  ASSERT_STR_EQ("https://login.microsoftonline.us", cfg.accounts[0].login_url);
  ASSERT_STR_EQ("https://dod-graph.microsoft.us", cfg.accounts[0].graph_url);
  ASSERT_STR_EQ("https://dod-graph.microsoft.us/.default", cfg.accounts[0].scope);
  sg_config_free(&cfg);
  unlink(path);
  char bad[] = "SENDGATE_GRAPH_CLOUD=mars";
  char *mars[] = {t, c, sec, bad, NULL};
  ASSERT_EQ(SG_ERR_CONFIG, sg_config_load(&cfg, NULL, mars, err, sizeof err));
  ASSERT(strstr(err, "graph.cloud") != NULL);
}

/* network.https_proxy, else https_proxy / HTTPS_PROXY; a bad URL stops the load. */
static void t_proxy(void) {
  sg_config cfg;
  char err[300];
  char t[] = "SENDGATE_GRAPH_TENANT_ID=t", c[] = "SENDGATE_GRAPH_CLIENT_ID=c",
       sec[] = "SENDGATE_GRAPH_CLIENT_SECRET=s", up[] = "HTTPS_PROXY=http://upper:3128",
       lo[] = "https_proxy=http://lower:3128", np[] = "NO_PROXY=.corp",
       set[] = "SENDGATE_NETWORK_HTTPS_PROXY=http://setting:8080",
       bad[] = "SENDGATE_NETWORK_HTTPS_PROXY=https://tls-proxy:443";
  char *env1[] = {t, c, sec, up, lo, np, NULL};
  ASSERT_OK(sg_config_load(&cfg, NULL, env1, err, sizeof err));
  ASSERT_STR_EQ("http://lower:3128", cfg.https_proxy);
  ASSERT_STR_EQ(".corp", cfg.no_proxy);
  sg_config_free(&cfg);
  char *env2[] = {t, c, sec, up, set, NULL};
  ASSERT_OK(sg_config_load(&cfg, NULL, env2, err, sizeof err));
  ASSERT_STR_EQ("http://setting:8080", cfg.https_proxy);
  sg_config_free(&cfg);
  char *env3[] = {t, c, sec, bad, NULL};
  ASSERT_EQ(SG_ERR_CONFIG, sg_config_load(&cfg, NULL, env3, err, sizeof err));
  ASSERT(strstr(err, "only http://") != NULL);
}

SG_TESTS({"env_only", t_env_only}, {"file_accounts", t_file_accounts}, {"errors", t_errors},
         {"clouds", t_clouds}, {"proxy", t_proxy}, {"allowed_senders", t_allowed_senders},
         {"sender_limits", t_sender_limits}, {"credentials", t_credentials})
