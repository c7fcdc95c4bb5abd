/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's own endpoints: GET /healthz, GET /sandbox/stats (counters),
 * GET /sandbox/messages?limit=N (recent accepted messages), POST
 * /sandbox/reset (counters, messages, the inbox and limiter state), POST /sandbox/config
 * (body: "section.key=value" lines; limits and faults change at once).
 */
#include "sandbox/sg_sbx_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_settings.h"

static void plain(sg_sbx *s, sg_httpd_req *req, int status, const char *text) {
  sg_sbx_reply r;
  sg_sbx__reply_init(&r, status);
  sg_sbx__reply_header(&r, "content-type", "text/plain; charset=utf-8");
  sg_sbx__reply_body(&r, text, strlen(text));
  sg_sbx__send(s, req, &r, 0);
}

static void apply_config(sg_sbx *s, sg_httpd_req *req) {
  sg_buf body = SG_BUF_INIT;
  sg_buf_append(&body, req->body, req->body_len);
  char err[300] = "";
  int rv = 0;
  char *save = NULL;
  for (char *line = strtok_r(body.data ? body.data : (char *)"", "\r\n", &save); line;
       line = strtok_r(NULL, "\r\n", &save)) {
    while (*line == ' ')
      line++;
    if (*line == '\0' || *line == '#')
      continue;
    if (strncmp(line, "server.", 7) == 0) {
      snprintf(err, sizeof err, "%s: server settings cannot change at run time", line);
      rv = SG_ERR_CONFIG;
      break;
    }
    if ((rv = sg_settings_set_kv(&sg_sbx_settings, &s->cfg, line, err, sizeof err)) != 0)
      break;
  }
  sg_buf_free(&body);
  if (rv) {
    char msg[400];
    snprintf(msg, sizeof msg, "%s\n", err);
    plain(s, req, 400, msg);
    return;
  }
  sg_sbx__limits_rebuild(s);
  if (sg_sbx_ops_count(s->ops) == 0) { /* the step is fixed once operations exist */
    sg_sbx_ops_free(s->ops);
    s->ops = sg_sbx_ops_new((uint64_t)s->cfg.acs_op_step_ms, 0);
  }
  s->rng = (uint64_t)s->cfg.fault_seed;
  sg_log(SG_LOG_INFO, "sandbox", "settings changed at run time");
  plain(s, req, 200, "ok\n");
}

void sg_sbx__route_ctl(sg_sbx *s, sg_httpd_req *req) {
  const char *p = req->path;
  bool get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
  if (get && strcmp(p, "/healthz") == 0) {
    plain(s, req, 200, "ok\n");
  } else if (get && strcmp(p, "/sandbox/stats") == 0) {
    sg_buf b = SG_BUF_INIT;
    sg_sbx_stats_json(&s->stats, &b);
    /* Counters that live elsewhere are appended to the object. */
    b.len--; /* drop the closing brace */
    sg_httpd_stats hs;
    sg_httpd_get_stats(s->httpd, &hs);
    sg_buf_printf(&b, ",\"acs_operations\":%zu,\"tokens_stored\":%zu,\"connections\":%llu}",
                  sg_sbx_ops_count(s->ops), sg_sbx_tokens_count(s->tokens),
                  (unsigned long long)hs.conns_total);
    sg_sbx__send_json(s, req, 200, &b);
    sg_buf_free(&b);
  } else if (get && strncmp(p, "/sandbox/messages", 17) == 0 && (p[17] == '\0' || p[17] == '?')) {
    char lim[32];
    size_t limit = 100;
    if (sg_sbx__query(p, "limit", lim, sizeof lim))
      limit = (size_t)strtoull(lim, NULL, 10);
    sg_buf b = SG_BUF_INIT;
    sg_sbx_stats_messages_json(&s->stats, limit, &b);
    sg_sbx__send_json(s, req, 200, &b);
    sg_buf_free(&b);
  } else if (post && strcmp(p, "/sandbox/reset") == 0) {
    sg_sbx_stats_reset(&s->stats);
    sg_sbx_inbox_clear(s->inbox);
    sg_sbx__limits_rebuild(s);
    plain(s, req, 200, "ok\n");
  } else if (post && strcmp(p, "/sandbox/config") == 0) {
    apply_config(s, req);
  } else {
    plain(s, req, 404, "not found\n");
  }
}
