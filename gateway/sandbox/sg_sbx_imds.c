/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's managed identity endpoints, on their own plain-HTTP listener
 * (imds.listen), as Azure serves them:
 *   GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=R
 *       [&client_id=ID]  with "Metadata: true"          (VMs: IMDS)
 *   GET /msi/token?api-version=2019-08-01&resource=R[&client_id=ID]
 *       with "X-IDENTITY-HEADER: <imds.identity_header>" (App Service)
 * Without client_id the system-assigned identity answers; a client_id must be
 * imds.system_client_id or imds.user_client_id ("Identity not found"). The
 * resource must be the Graph root or ACS's (with or without a final '/').
 * Tokens come from the same store as Entra's, so Graph and ACS accept them.
 */
#include "sandbox/sg_sbx_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_log.h"
#include "sandbox/sg_sbx_form.h"

static void answer(sg_sbx *s, sg_httpd_req *req, int status, const char *error,
                   const char *description) {
  sg_buf b = SG_BUF_INIT;
  sg_buf_printf(&b, "{\"error\":\"%s\",\"error_description\":\"%s\"}", error, description);
  sg_sbx_stats_reject(&s->stats, error);
  sg_sbx__send_json(s, req, status, &b);
  sg_buf_free(&b);
}

/* The audience of |resource|: the Graph root or ACS's, a final '/' allowed. */
static sg_sbx_audience audience(const char *resource) {
  size_t n = strlen(resource);
  while (n > 0 && resource[n - 1] == '/')
    n--;
  static const char graph[] = "https://graph.microsoft.com",
                    acs[] = "https://communication.azure.com";
  if (n == sizeof graph - 1 && strncasecmp(resource, graph, n) == 0)
    return SG_SBX_AUD_GRAPH;
  if (n == sizeof acs - 1 && strncasecmp(resource, acs, n) == 0)
    return SG_SBX_AUD_ACS;
  return SG_SBX_AUD_NONE;
}

static void on_request(sg_httpd_req *req, void *ud) {
  sg_sbx *s = ud;
  const char *q = strchr(req->path, '?');
  size_t plen = q ? (size_t)(q - req->path) : strlen(req->path);
  bool imds = plen == 31 && memcmp(req->path, "/metadata/identity/oauth2/token", 31) == 0;
  bool app_service = plen == 10 && memcmp(req->path, "/msi/token", 10) == 0;
  s->stats.token_requests++;
  if ((!imds && !app_service) || strcmp(req->method, "GET") != 0) {
    answer(s, req, 404, "not_found", "No such endpoint");
    return;
  }
  char hv[256];
  if (imds) {
    const char *m = sg_sbx__header(req, "metadata", hv, sizeof hv);
    if (m == NULL || strcasecmp(m, "true") != 0) {
      answer(s, req, 400, "bad_request_102", "Required metadata header not specified");
      return;
    }
  } else {
    const char *h = sg_sbx__header(req, "x-identity-header", hv, sizeof hv);
    if (h == NULL || strcmp(h, s->cfg.imds_identity_header) != 0) {
      answer(s, req, 401, "unauthorized", "X-IDENTITY-HEADER is missing or wrong");
      return;
    }
  }
  sg_sbx_form f = SG_SBX_FORM_INIT;
  if (q == NULL || sg_sbx_form_parse(&f, q + 1, strlen(q + 1)) != 0) {
    sg_sbx_form_free(&f);
    answer(s, req, 400, "invalid_request", "Required query parameters are missing");
    return;
  }
  const char *ver = sg_sbx_form_get(&f, "api-version");
  const char *resource = sg_sbx_form_get(&f, "resource");
  const char *cid = sg_sbx_form_get(&f, "client_id");
  sg_sbx_audience aud = resource ? audience(resource) : SG_SBX_AUD_NONE;
  if (ver == NULL || strcmp(ver, imds ? "2018-02-01" : "2019-08-01") != 0) {
    answer(s, req, 400, "invalid_request", "Invalid or missing api-version");
  } else if (resource == NULL) {
    answer(s, req, 400, "invalid_request", "Required audience parameter not specified");
  } else if (cid && strcasecmp(cid, s->cfg.imds_system_id) != 0 &&
             strcasecmp(cid, s->cfg.imds_user_id) != 0) {
    answer(s, req, 400, "invalid_request", "Identity not found");
  } else if (aud == SG_SBX_AUD_NONE) {
    answer(s, req, 400, "invalid_resource",
           "AADSTS500011: The resource principal was not found in the tenant.");
  } else {
    sg_sbx_token_resp r;
    sg_sbx_tokens_issue_identity(s->tokens, s->cfg.tenant_id, cid ? cid : s->cfg.imds_system_id,
                                 aud, resource, (int64_t)sg_wall_ms(), &r);
    if (r.status == 200)
      s->stats.tokens_issued++;
    sg_sbx__send_json(s, req, r.status, &r.body);
    sg_sbx_token_resp_free(&r);
  }
  sg_sbx_form_free(&f);
}

int sg_sbx__imds_start(sg_sbx *s, char *err, size_t errcap) {
  if (!s->cfg.imds_listen[0])
    return 0;
  char host[256];
  uint16_t port;
  if (sg_sbx__split_listen(s->cfg.imds_listen, host, sizeof host, &port) != 0) {
    snprintf(err, errcap, "imds.listen: '%s' is not host:port", s->cfg.imds_listen);
    return SG_ERR_CONFIG;
  }
  sg_httpd_settings hs;
  sg_httpd_settings_default(&hs);
  int rv = sg_httpd_new(&s->imds, s->loop, host, port, NULL, &hs, on_request, s);
  if (rv) {
    snprintf(err, errcap, "cannot listen on %s: %s", s->cfg.imds_listen, sg_strerror(rv));
    return rv;
  }
  s->imds_port = sg_httpd_port(s->imds);
  return 0;
}

static void on_imds_closed(void *ud) {
  sg_sbx *s = ud;
  s->imds = NULL;
  s->imds_then(s);
}

void sg_sbx__imds_stop(sg_sbx *s, void (*then)(sg_sbx *s)) {
  if (s->imds == NULL) {
    then(s);
    return;
  }
  s->imds_then = then;
  sg_httpd_close(s->imds, on_imds_closed);
}
