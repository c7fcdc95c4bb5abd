/* SPDX-License-Identifier: Apache-2.0 */
/* One HTTP/2 pool per provider origin, shared by the accounts that use it. */
#include "app/sg_app_int.h"

#include "net/sg_proxy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/sg_err.h"
#include "core/sg_log.h"

/* Parses "https://host[:port][/]" (IPv6 in brackets). */
static int parse_url(const char *url, char *host, size_t hcap, uint16_t *port) {
  if (strncasecmp(url, "https://", 8) != 0)
    return SG_ERR_INVAL;
  const char *h = url + 8, *end = h + strcspn(h, "/?#");
  if (*end == '/' && end[1] != '\0')
    return SG_ERR_INVAL; /* a path under the root is not supported */
  const char *colon = NULL;
  if (*h == '[') {
    const char *rb = memchr(h, ']', (size_t)(end - h));
    if (rb == NULL)
      return SG_ERR_INVAL;
    if (rb + 1 < end && rb[1] == ':')
      colon = rb + 1;
    else if (rb + 1 != end)
      return SG_ERR_INVAL;
    if ((size_t)(rb - h - 1) >= hcap || rb == h + 1)
      return SG_ERR_INVAL;
    memcpy(host, h + 1, (size_t)(rb - h - 1));
    host[rb - h - 1] = '\0';
  } else {
    colon = memchr(h, ':', (size_t)(end - h));
    const char *he = colon ? colon : end;
    if (he == h || (size_t)(he - h) >= hcap)
      return SG_ERR_INVAL;
    memcpy(host, h, (size_t)(he - h));
    host[he - h] = '\0';
  }
  *port = 443;
  if (colon) {
    char *pe;
    long p = strtol(colon + 1, &pe, 10);
    if (pe != end || p <= 0 || p > 65535)
      return SG_ERR_INVAL;
    *port = (uint16_t)p;
  }
  return 0;
}

sg_origin *sg_app__origin(sg_app *a, const char *url, const char *label, char *err, size_t errcap) {
  char host[256];
  uint16_t port;
  if (parse_url(url, host, sizeof host, &port) != 0) {
    snprintf(err, errcap, "'%s' is not an https://host[:port] URL", url);
    return NULL;
  }
  for (size_t i = 0; i < a->norigins; i++)
    if (a->origins[i]->port == port && strcasecmp(a->origins[i]->host, host) == 0) {
      /* Shared by a provider and a token endpoint: the provider names it. */
      if (strcmp(label, "entra") != 0)
        a->origins[i]->label = label;
      return a->origins[i];
    }
  /* Origins named by answers (Graph's upload URLs) come and stay: bounded. */
  if (a->norigins >= SG_APP_MAX_ORIGINS) {
    snprintf(err, errcap, "%s: more than %d origins", url, SG_APP_MAX_ORIGINS);
    return NULL;
  }
  sg_origin *o = sg_xcalloc(1, sizeof *o);
  o->host = sg_xstrdup(host);
  o->port = port;
  o->label = label;
  bool v6 = strchr(host, ':') != NULL;
  if (port == 443)
    snprintf(o->authority, sizeof o->authority, v6 ? "[%s]" : "%s", host);
  else
    snprintf(o->authority, sizeof o->authority, v6 ? "[%s]:%u" : "%s:%u", host, (unsigned)port);
  sg_h2_pool_opts opts;
  sg_h2_pool_opts_init(&opts);
  opts.max_conns = (unsigned)a->cfg.max_conns_per_origin;
  opts.connect_timeout_ms = (uint64_t)a->cfg.connect_timeout_ms;
  opts.default_timeout_ms = (uint64_t)a->cfg.request_timeout_ms;
  opts.max_queue = (size_t)a->cfg.max_in_flight + 1024;
  /* Through the HTTPS proxy unless the host is in no_proxy (checked at load). */
  sg_proxy proxy;
  char perr[200];
  if (a->cfg.https_proxy[0] && !sg_proxy_bypass(a->cfg.no_proxy, host) &&
      sg_proxy_parse(a->cfg.https_proxy, &proxy, perr, sizeof perr) == 0) {
    opts.proxy = &proxy;
    sg_log_kv(SG_LOG_INFO, "net", "through the HTTPS proxy", "origin", o->authority, "proxy",
              proxy.host, NULL);
  }
  int rv = sg_h2_pool_new(&o->pool, a->loop, a->ssl, host, port, &opts);
  if (rv) {
    snprintf(err, errcap, "cannot make a connection pool for %s: %s", url, sg_strerror(rv));
    sg_free(o->host);
    sg_free(o);
    return NULL;
  }
  a->origins = sg_xrealloc(a->origins, (a->norigins + 1) * sizeof *a->origins);
  a->origins[a->norigins++] = o;
  return o;
}

typedef struct {
  sg_app *a;
  size_t left;
  void (*done)(void *);
  void *ud;
} close_ctx;

static void on_pool_closed(void *ud) {
  close_ctx *c = ud;
  if (--c->left == 0) {
    void (*done)(void *) = c->done;
    void *dud = c->ud;
    sg_app *a = c->a;
    for (size_t i = 0; i < a->norigins; i++) {
      sg_free(a->origins[i]->host);
      sg_free(a->origins[i]);
    }
    sg_free(a->origins);
    a->origins = NULL;
    a->norigins = 0;
    sg_free(c);
    done(dud);
  }
}

void sg_app__origins_close(sg_app *a, void (*done)(void *), void *ud) {
  if (a->norigins == 0) {
    done(ud);
    return;
  }
  close_ctx *c = sg_xcalloc(1, sizeof *c);
  c->a = a;
  c->left = a->norigins;
  c->done = done;
  c->ud = ud;
  /* Copy the pools first: a pool may report closed from inside its close call. */
  size_t n = a->norigins;
  sg_h2_pool **pools = sg_xcalloc(n, sizeof *pools);
  for (size_t i = 0; i < n; i++)
    pools[i] = a->origins[i]->pool;
  for (size_t i = 0; i < n; i++)
    sg_h2_pool_close(pools[i], on_pool_closed, c);
  sg_free(pools);
}
