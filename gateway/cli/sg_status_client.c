/* SPDX-License-Identifier: Apache-2.0 */
/* Settings, address and one GET for `sendgate status` / `explain`; see sg_status_client.h. */
#include "cli/sg_status_client.h"

#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "app/sg_admin.h"
#include "core/sg_err.h"
#include "core/sg_settings.h"
#include "net/sg_h1_get.h"

int sg_status_load_settings(sg_config *cfg, const char *config, char *const *envp, char *err,
                            size_t errcap) {
  memset(cfg, 0, sizeof *cfg);
  if (sg_settings_defaults(&sg_config_settings, cfg, err, errcap) ||
      (config && sg_settings_load_ini(&sg_config_settings, cfg, config, sg_config_ignore_unknown,
                                      NULL, err, errcap)) ||
      sg_settings_load_env(&sg_config_settings, cfg, envp, err, errcap))
    return -1;
  return 0;
}

int sg_status_parse_url(const char *url, char *host, size_t cap, uint16_t *port) {
  if (strncmp(url, "https://", 8) == 0)
    return -1;
  if (strncmp(url, "http://", 7) == 0)
    url += 7;
  char hp[300];
  size_t n = strcspn(url, "/?");
  if (n == 0 || n >= sizeof hp)
    return -1;
  memcpy(hp, url, n);
  hp[n] = '\0';
  char ip[64];
  if (sg_admin_parse_listen(hp, ip, sizeof ip, port) != 0) {
    /* a host name such as gw1.internal:9464 */
    char *colon = strrchr(hp, ':');
    if (colon == NULL || colon == hp || strchr(hp, '[') || strlen(colon + 1) > 5)
      return -1;
    unsigned long p = 0;
    for (const char *d = colon + 1; *d; d++) {
      if (*d < '0' || *d > '9')
        return -1;
      p = p * 10 + (unsigned long)(*d - '0');
    }
    *colon = '\0';
    if (p == 0 || p > 65535 || strlen(hp) >= cap)
      return -1;
    memcpy(host, hp, strlen(hp) + 1);
    *port = (uint16_t)p;
    return 0;
  }
  if (*port == 0)
    return -1;
  if (strcmp(ip, "0.0.0.0") == 0)
    snprintf(ip, sizeof ip, "127.0.0.1");
  else if (strcmp(ip, "::") == 0)
    snprintf(ip, sizeof ip, "::1");
  if (strlen(ip) >= cap)
    return -1;
  memcpy(host, ip, strlen(ip) + 1);
  return 0;
}

typedef struct get_state {
  int done, status, err;
  sg_buf *body;
} get_state;

static void on_got(int err, const sg_h1_resp *resp, void *ud) {
  get_state *g = ud;
  g->done = 1;
  g->err = err;
  if (err == 0) {
    g->status = resp->status;
    sg_buf_append(g->body, resp->body.data, resp->body.len);
  }
}

int sg_status_get(const char *host, uint16_t port, const char *target, sg_buf *body, char *err,
                  size_t errcap) {
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) {
    snprintf(err, errcap, "cannot set up an event loop");
    return -1;
  }
  get_state g = {0, 0, 0, body};
  int rv =
      sg_h1_get(&loop, NULL, host, port, target, NULL, 0, SG_STATUS_GET_TIMEOUT_MS, on_got, &g);
  if (rv == 0)
    uv_run(&loop, UV_RUN_DEFAULT); /* the GET's own deadline bounds this */
  else
    g.err = rv;
  uv_run(&loop, UV_RUN_NOWAIT); /* close callbacks */
  (void)uv_loop_close(&loop);
  if (g.err != 0 || !g.done) {
    snprintf(err, errcap, "cannot reach the gateway at http://%s:%u%s: %s", host, (unsigned)port,
             target, sg_strerror(g.err ? g.err : SG_ERR_TIMEOUT));
    return -1;
  }
  return g.status;
}
