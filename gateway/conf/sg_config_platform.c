/* SPDX-License-Identifier: Apache-2.0 */
/* What the platform adds to the settings; see sg_config_int.h. */
#include "conf/sg_config_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_settings.h"
#include "net/sg_proxy.h"

/* National clouds (microsoft-apis.md §2.7): tokens cannot be swapped between them. */
static const sg_config__cloud k_clouds[] = {
    {"global", "https://login.microsoftonline.com", "https://graph.microsoft.com"},
    {"usgov", "https://login.microsoftonline.us", "https://graph.microsoft.us"},
    {"usgovhigh", "https://login.microsoftonline.us", "https://graph.microsoft.us"},
    {"dod", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us"},
    {"china", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"},
};

const sg_config__cloud *sg_config__cloud_find(const char *name) {
  for (size_t i = 0; i < SG_ARRAY_LEN(k_clouds); i++)
    if (strcasecmp(name, k_clouds[i].name) == 0)
      return &k_clouds[i];
  return NULL;
}

/* |v| when set, else |fallback| when set, else |def| (copied). */
char *sg_config__first_set(const char *v, const char *fallback, const char *def) {
  return sg_xstrdup(v && v[0] ? v : fallback && fallback[0] ? fallback : def);
}

/* "<graph root>/.default" */
char *sg_config__graph_scope(const char *root) {
  size_t n = strlen(root);
  char *s = sg_xmalloc(n + sizeof "/.default");
  memcpy(s, root, n);
  memcpy(s + n, "/.default", sizeof "/.default");
  return s;
}

int sg_config__credentials(const char *secret, const char *cert, const char *assertion_file,
                           const char *mi) {
  return (secret && secret[0]) + (cert && cert[0]) + (assertion_file && assertion_file[0]) +
         (mi && mi[0]);
}

/* The HTTPS proxy and its exceptions: the settings, else the environment as
 * curl reads it (lower case first). The URL is checked here. */
int sg_config__proxy_defaults(sg_config *cfg, char *const *envp, char *err, size_t errcap) {
  const char *url = sg_proxy_env(envp, "https_proxy", "HTTPS_PROXY");
  const char *no = sg_proxy_env(envp, "no_proxy", "NO_PROXY");
  if (!cfg->https_proxy[0] && url)
    sg_config__set_str(&cfg->https_proxy, url);
  if (!cfg->no_proxy[0] && no)
    sg_config__set_str(&cfg->no_proxy, no);
  sg_proxy p;
  char e[200];
  if (cfg->https_proxy[0] && sg_proxy_parse(cfg->https_proxy, &p, e, sizeof e) != 0) {
    snprintf(err, errcap, "network.https_proxy (or https_proxy): %s", e);
    return SG_ERR_CONFIG;
  }
  return 0;
}

/* The managed identity endpoint and header of every account: the settings, or
 * App Service's variables. */
void sg_config__identity_defaults(sg_config *cfg, char *const *envp) {
  const char *ep = sg_settings_env(envp, "IDENTITY_ENDPOINT"),
             *hd = sg_settings_env(envp, "IDENTITY_HEADER");
  if (!cfg->identity_endpoint[0] && ep && ep[0] && hd && hd[0]) {
    sg_config__set_str(&cfg->identity_endpoint, ep);
    if (!cfg->identity_header[0])
      sg_config__set_str(&cfg->identity_header, hd);
  }
}

void sg_config__set_str(char **field, const char *v) {
  sg_free(*field);
  *field = sg_xstrdup(v);
}

/* Workload identity (AKS, GitHub Actions): with no credential set for the
 * default Graph account, AZURE_FEDERATED_TOKEN_FILE is its assertion file and
 * AZURE_CLIENT_ID / AZURE_TENANT_ID fill what is not set. */
void sg_config__workload_identity_defaults(sg_config *cfg, char *const *envp) {
  const char *file = sg_settings_env(envp, "AZURE_FEDERATED_TOKEN_FILE");
  const char *client = sg_settings_env(envp, "AZURE_CLIENT_ID");
  const char *tenant = sg_settings_env(envp, "AZURE_TENANT_ID");
  if (!file || !file[0] || !client || !client[0] || !tenant || !tenant[0] ||
      sg_config__credentials(cfg->graph_client_secret, cfg->graph_client_certificate_file,
                             cfg->graph_client_assertion_file, cfg->graph_managed_identity))
    return;
  sg_config__set_str(&cfg->graph_client_assertion_file, file);
  if (!cfg->graph_client_id[0])
    sg_config__set_str(&cfg->graph_client_id, client);
  if (!cfg->graph_tenant_id[0])
    sg_config__set_str(&cfg->graph_tenant_id, tenant);
}
