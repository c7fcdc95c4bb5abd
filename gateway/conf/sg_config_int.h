/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the platform adds to the settings (sg_config_platform.c): national
 * clouds, the credential rules, the variables that Azure, AKS and curl
 * define (workload identity, managed identity endpoints, proxies). Internal
 * to conf/.
 */
#ifndef SG_CONFIG_INT_H
#define SG_CONFIG_INT_H

#include "conf/sg_config.h"

/* A national cloud's roots (microsoft-apis.md §2.7). */
typedef struct sg_config__cloud {
  const char *name, *login, *graph;
} sg_config__cloud;

/* global, usgov, usgovhigh, dod, china (any case), or NULL. */
const sg_config__cloud *sg_config__cloud_find(const char *name);
/* |v| when set, else |fallback| when set, else |def| (copied). */
char *sg_config__first_set(const char *v, const char *fallback, const char *def);
/* "<graph root>/.default" (allocated). */
char *sg_config__graph_scope(const char *root);
/* How many of the four credentials are set (NULL counts as unset). */
int sg_config__credentials(const char *secret, const char *cert, const char *assertion_file,
                           const char *managed_identity);
/* Replaces a settings string (freed) with a copy of |v|. */
void sg_config__set_str(char **field, const char *v);
/* network.https_proxy / no_proxy from the environment when unset; checks the
 * URL. Returns 0 or SG_ERR_CONFIG with the reason in |err|. */
int sg_config__proxy_defaults(sg_config *cfg, char *const *envp, char *err, size_t errcap);
/* App Service's IDENTITY_ENDPOINT and IDENTITY_HEADER when the settings are unset. */
void sg_config__identity_defaults(sg_config *cfg, char *const *envp);
/* AKS workload identity for the default Graph account without a credential. */
void sg_config__workload_identity_defaults(sg_config *cfg, char *const *envp);

/* sg_config_smtp.c: SMTP accounts (type = exchange_smtp or hve). */
#define SG_CONFIG_SMTP_SCOPE "https://outlook.office365.com/.default"
/* Whether |type| names an SMTP account type; |*hve| says which. */
bool sg_config__smtp_type(const char *type, bool *hve);
/* Checks and completes SMTP account |a| (its host, its credentials, the [hve]
 * defaults of its limits); NULL, or why it is refused (static). */
const char *sg_config__smtp_account(const sg_config *cfg, sg_account *a);

#endif
