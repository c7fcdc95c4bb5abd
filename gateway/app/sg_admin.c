/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin endpoint: routes /metrics, /healthz and /readyz on a cleartext
 * sg_httpd. Request bodies are not wanted here, so the server's limits are
 * small; the registry is written into one buffer reused across scrapes.
 */
#include "app/sg_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_http.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "httpd/sg_httpd.h"

/* Longest readiness reason sent (one line; longer ones are cut). */
#define REASON_MAX 256
/* Nobody needs to send a body or big headers to a scrape endpoint. */
#define ADMIN_MAX_BODY 1024
#define ADMIN_MAX_CONNS 64
#define ADMIN_MAX_CONN_LIFETIME_MS (10u * 60u * 1000u)
#define ADMIN_IDLE_MS 30000
#define ADMIN_MAX_HEADERS (16 * 1024)
/* A scrape buffer grown past this (a one-off burst of children) is released. */
#define SCRAPE_KEEP (1024 * 1024)

struct sg_admin {
  sg_httpd *srv;
  sg_metrics *registry;
  sg_admin_ready_cb ready_cb;
  void *ud;
  sg_buf scrape;
  sg_admin_status_cb status_cb;
  void *status_ud;
  sg_admin_stopped_cb done;
  void *done_ud;
};

int sg_admin_parse_listen(const char *listen, char *host, size_t cap, uint16_t *port) {
  const char *h, *colon;
  size_t hlen;
  if (listen == NULL)
    return SG_ERR_INVAL;
  if (listen[0] == '[') {
    const char *end = strchr(listen, ']');
    if (end == NULL || end[1] != ':')
      return SG_ERR_INVAL;
    h = listen + 1;
    hlen = (size_t)(end - h);
    colon = end + 1;
  } else {
    colon = strrchr(listen, ':');
    if (colon == NULL || memchr(listen, ':', (size_t)(colon - listen)) != NULL)
      return SG_ERR_INVAL; /* bare IPv6 needs brackets */
    h = listen;
    hlen = (size_t)(colon - listen);
  }
  const char *p = colon + 1;
  if (*p == '\0' || strlen(p) > 5)
    return SG_ERR_INVAL;
  unsigned long n = 0;
  for (; *p; p++) {
    if (*p < '0' || *p > '9')
      return SG_ERR_INVAL;
    n = n * 10 + (unsigned long)(*p - '0');
  }
  if (n > 65535)
    return SG_ERR_INVAL;
  char ip[64];
  if (hlen == 0 && listen[0] != '[')
    snprintf(ip, sizeof ip, "0.0.0.0");
  else if (hlen == 9 && strncmp(h, "localhost", 9) == 0)
    snprintf(ip, sizeof ip, "127.0.0.1");
  else if (hlen > 0 && hlen < sizeof ip)
    snprintf(ip, sizeof ip, "%.*s", (int)hlen, h);
  else
    return SG_ERR_INVAL;
  struct sockaddr_in a4;
  struct sockaddr_in6 a6;
  if (uv_ip4_addr(ip, 0, &a4) != 0 && uv_ip6_addr(ip, 0, &a6) != 0)
    return SG_ERR_INVAL;
  if (strlen(ip) >= cap)
    return SG_ERR_INVAL;
  memcpy(host, ip, strlen(ip) + 1);
  *port = (uint16_t)n;
  return 0;
}

static void respond_text(sg_httpd_req *req, int status, const char *text) {
  sg_http_header h[] = {
      sg_http_hdr("content-type", "text/plain; charset=utf-8"),
      sg_http_hdr("cache-control", "no-store"),
  };
  (void)sg_httpd_respond(req, status, h, SG_ARRAY_LEN(h), text, strlen(text));
}

static void serve_metrics(sg_admin *a, sg_httpd_req *req) {
  sg_buf_reset(&a->scrape);
  sg_metrics_write(a->registry, &a->scrape);
  sg_http_header h[] = {
      sg_http_hdr("content-type", "text/plain; version=0.0.4; charset=utf-8"),
      sg_http_hdr("cache-control", "no-store"),
  };
  (void)sg_httpd_respond(req, 200, h, SG_ARRAY_LEN(h), a->scrape.data, a->scrape.len);
  if (a->scrape.cap > SCRAPE_KEEP)
    sg_buf_free(&a->scrape);
}

static void serve_ready(sg_admin *a, sg_httpd_req *req) {
  char reason[REASON_MAX] = "";
  if (a->ready_cb == NULL || a->ready_cb(a->ud, reason, sizeof reason)) {
    respond_text(req, 200, "ready\n");
    return;
  }
  reason[sizeof reason - 1] = '\0';
  for (char *p = reason; *p; p++) /* keep it one line */
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  if (reason[0] == '\0')
    snprintf(reason, sizeof reason, "not ready");
  char body[REASON_MAX + 2];
  snprintf(body, sizeof body, "%s\n", reason);
  respond_text(req, 503, body);
}

static void serve_status(sg_admin *a, sg_httpd_req *req) {
  sg_buf_reset(&a->scrape);
  int status = a->status_cb(a->status_ud, req->path, &a->scrape);
  sg_http_header h[] = {
      sg_http_hdr("content-type", "application/json"),
      sg_http_hdr("cache-control", "no-store"),
  };
  (void)sg_httpd_respond(req, status, h, SG_ARRAY_LEN(h), a->scrape.data, a->scrape.len);
  if (a->scrape.cap > SCRAPE_KEEP)
    sg_buf_free(&a->scrape);
}

void sg_admin_set_status(sg_admin *a, sg_admin_status_cb cb, void *ud) {
  if (a == NULL)
    return;
  a->status_cb = cb;
  a->status_ud = ud;
}

static void on_request(sg_httpd_req *req, void *ud) {
  sg_admin *a = ud;
  size_t plen = strcspn(req->path, "?");
  bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
  enum { METRICS, HEALTHZ, READYZ, STATUS, NONE } route = NONE;
  if (plen == 8 && strncmp(req->path, "/metrics", 8) == 0)
    route = METRICS;
  else if (plen == 8 && strncmp(req->path, "/healthz", 8) == 0)
    route = HEALTHZ;
  else if (plen == 7 && strncmp(req->path, "/readyz", 7) == 0)
    route = READYZ;
  else if (a->status_cb && plen >= 7 && strncmp(req->path, "/status", 7) == 0 &&
           (plen == 7 || req->path[7] == '/'))
    route = STATUS;

  if (route == NONE) {
    respond_text(req, 404, "not found\n");
  } else if (!get) {
    sg_http_header h[] = {
        sg_http_hdr("content-type", "text/plain; charset=utf-8"),
        sg_http_hdr("allow", "GET, HEAD"),
    };
    static const char msg[] = "method not allowed\n";
    (void)sg_httpd_respond(req, 405, h, SG_ARRAY_LEN(h), msg, sizeof msg - 1);
  } else if (route == METRICS) {
    serve_metrics(a, req);
  } else if (route == STATUS) {
    serve_status(a, req);
  } else if (route == HEALTHZ) {
    respond_text(req, 200, "ok\n");
  } else {
    serve_ready(a, req);
  }
}

int sg_admin_start(sg_admin **out, uv_loop_t *loop, const char *listen, sg_metrics *registry,
                   sg_admin_ready_cb ready_cb, void *ud, char *err, size_t errcap) {
  *out = NULL;
  if (listen == NULL || listen[0] == '\0')
    return 0;
  char host[64];
  uint16_t port;
  if (sg_admin_parse_listen(listen, host, sizeof host, &port) != 0) {
    snprintf(err, errcap, "SENDGATE_HTTP_LISTEN (http.listen) \"%.80s\": expected IP:PORT", listen);
    return SG_ERR_CONFIG;
  }
  sg_admin *a = sg_xcalloc(1, sizeof *a);
  a->registry = registry;
  a->ready_cb = ready_cb;
  a->ud = ud;
  sg_httpd_settings s;
  sg_httpd_settings_default(&s);
  s.max_body = ADMIN_MAX_BODY;
  s.max_header_block = ADMIN_MAX_HEADERS;
  s.max_concurrent_streams = 16;
  /* Scrapers and probes need a few short connections; anything else is
   * refused or cut (in Kubernetes this listens on 0.0.0.0). */
  s.max_conns = ADMIN_MAX_CONNS;
  s.max_conn_lifetime_ms = ADMIN_MAX_CONN_LIFETIME_MS;
  s.idle_timeout_ms = ADMIN_IDLE_MS;
  int rv = sg_httpd_new(&a->srv, loop, host, port, NULL, &s, on_request, a);
  if (rv != 0) {
    snprintf(err, errcap, "http listen %.80s: %s", listen, sg_strerror(rv));
    sg_free(a);
    return rv == SG_ERR_INVAL ? SG_ERR_CONFIG : rv;
  }
  char portbuf[8];
  snprintf(portbuf, sizeof portbuf, "%u", (unsigned)sg_httpd_port(a->srv));
  sg_log_kv(SG_LOG_INFO, "admin", "listening", "host", host, "port", portbuf, NULL);
  *out = a;
  return 0;
}

uint16_t sg_admin_port(const sg_admin *a) {
  return a ? sg_httpd_port(a->srv) : 0;
}

static void on_closed(void *ud) {
  sg_admin *a = ud;
  sg_admin_stopped_cb done = a->done;
  void *done_ud = a->done_ud;
  sg_buf_free(&a->scrape);
  sg_free(a);
  if (done)
    done(done_ud);
}

void sg_admin_stop(sg_admin *a, sg_admin_stopped_cb done, void *ud) {
  if (a == NULL) {
    if (done)
      done(ud);
    return;
  }
  a->done = done;
  a->done_ud = ud;
  sg_httpd_close(a->srv, on_closed);
}
