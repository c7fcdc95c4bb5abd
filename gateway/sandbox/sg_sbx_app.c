/* SPDX-License-Identifier: Apache-2.0 */
/* Sandbox lifecycle, request dispatch and shared reply helpers; see sg_sbx_app.h. */
#include "sandbox/sg_sbx_int.h"

#include <errno.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/sg_base64.h"
#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_fmt.h"
#include "core/sg_log.h"
#include "core/sg_rand.h"
#include "core/sg_settings.h"
#include "net/sg_tls.h"
#include "sandbox/sg_sbx_certgen.h"
#include "sandbox/sg_sbx_form.h"

/* How often buffered record lines reach the file. */
#define SG_SBX_FLUSH_MS 200

uint64_t sg_sbx__now(const sg_sbx *s) {
  return uv_now(s->loop);
}

/* ---- small helpers ---- */

void sg_sbx__guid(sg_sbx *s, char out[37]) {
  uint64_t x = sg_rand_next(&s->id_rng);
  sg_fmt_guid(out, x, sg_rand_next(&s->id_rng));
}

const char *sg_sbx__header(const sg_httpd_req *req, const char *name, char *out, size_t cap) {
  const sg_http_header *h = sg_http_find(req->headers, req->nheaders, name);
  if (h == NULL)
    return NULL;
  size_t n = h->value_len < cap - 1 ? h->value_len : cap - 1;
  memcpy(out, h->value, n);
  out[n] = '\0';
  return out;
}

const char *sg_sbx__query(const char *path, const char *name, char *out, size_t cap) {
  const char *q = strchr(path, '?');
  size_t nl = strlen(name);
  while (q) {
    q++;
    if (strncmp(q, name, nl) == 0 && q[nl] == '=') {
      const char *v = q + nl + 1, *e = strchr(v, '&');
      size_t n = e ? (size_t)(e - v) : strlen(v);
      if (n >= cap)
        n = cap - 1;
      memcpy(out, v, n);
      out[n] = '\0';
      return out;
    }
    q = strchr(q, '&');
  }
  return NULL;
}

void sg_sbx__reply_init(sg_sbx_reply *r, int status) {
  memset(r, 0, sizeof *r);
  r->status = status;
  sg_buf_init(&r->strings);
}

/* Header strings are stored as offsets first (the buffer may move), fixed up on send. */
void sg_sbx__reply_header(sg_sbx_reply *r, const char *name, const char *value) {
  if (r->nhdrs == SG_ARRAY_LEN(r->hdrs))
    return;
  size_t no = r->strings.len;
  sg_buf_append(&r->strings, name, strlen(name) + 1);
  size_t vo = r->strings.len;
  sg_buf_append(&r->strings, value, strlen(value) + 1);
  r->hdrs[r->nhdrs++] = (sg_http_header){(const char *)(uintptr_t)no, strlen(name),
                                         (const char *)(uintptr_t)vo, strlen(value)};
}

void sg_sbx__reply_body(sg_sbx_reply *r, const void *body, size_t len) {
  r->body_off = r->strings.len;
  r->body_len = len;
  sg_buf_append(&r->strings, body, len);
}

typedef struct {
  uv_timer_t timer;
  sg_list link;
  sg_sbx *s;
  sg_httpd_req *req;
  sg_sbx_reply r;
} delayed_reply;

static void reply_now(sg_sbx *s, sg_httpd_req *req, sg_sbx_reply *r) {
  sg_http_header h[SG_ARRAY_LEN(r->hdrs)];
  for (size_t i = 0; i < r->nhdrs; i++) {
    h[i] = r->hdrs[i];
    h[i].name = r->strings.data + (uintptr_t)r->hdrs[i].name;
    h[i].value = r->strings.data + (uintptr_t)r->hdrs[i].value;
  }
  if (r->goaway) {
    sg_httpd_goaway_after(req);
    s->stats.fault_goaway++;
  }
  sg_httpd_respond(req, r->status, h, r->nhdrs, r->body_len ? r->strings.data + r->body_off : NULL,
                   r->body_len);
  if (r->backoff_key[0] && r->backoff_ms) {
    uint64_t now = sg_sbx__now(s);
    sg_sbx_backoff_set(s->backoff, r->backoff_key, now + (uint64_t)s->cfg.violation_grace_ms,
                       now + r->backoff_ms);
  }
  if (r->inflight_key[0]) {
    sg_sbx_inflight_release(s->graph_inflight, r->inflight_key);
    if (s->stats.inflight_now)
      s->stats.inflight_now--;
  }
  sg_buf_free(&r->strings);
}

static void on_delay_closed(uv_handle_t *h) {
  sg_free(h->data);
}

static void on_delay(uv_timer_t *t) {
  delayed_reply *d = t->data;
  sg_list_remove(&d->link);
  reply_now(d->s, d->req, &d->r);
  uv_close((uv_handle_t *)&d->timer, on_delay_closed);
}

void sg_sbx__send(sg_sbx *s, sg_httpd_req *req, sg_sbx_reply *r, uint64_t delay_ms) {
  if (delay_ms == 0 || s->closing) {
    reply_now(s, req, r);
    return;
  }
  delayed_reply *d = sg_xcalloc(1, sizeof *d);
  d->s = s;
  d->req = req;
  d->r = *r;
  uv_timer_init(s->loop, &d->timer);
  d->timer.data = d;
  sg_list_push_back(&s->delayed, &d->link);
  uv_timer_start(&d->timer, on_delay, delay_ms, 0);
}

void sg_sbx__send_json(sg_sbx *s, sg_httpd_req *req, int status, const sg_buf *json) {
  sg_sbx_reply r;
  sg_sbx__reply_init(&r, status);
  sg_sbx__reply_header(&r, "content-type", "application/json");
  sg_sbx__reply_body(&r, json->data ? json->data : "", json->len);
  sg_sbx__send(s, req, &r, 0);
}

void sg_sbx__record(sg_sbx *s, const sg_sbx_msg *m, const char *request_id, const char *op_id) {
  sg_buf b = SG_BUF_INIT;
  char ts[32];
  sg_time_rfc3339(sg_wall_ms(), ts);
  sg_buf_printf(&b, "{\"ts\":\"%s\",\"request_id\":\"%s\",\"operation_id\":", ts, request_id);
  if (op_id)
    sg_buf_printf(&b, "\"%s\"", op_id);
  else
    sg_buf_append_str(&b, "null");
  sg_buf_append_str(&b, ",\"message\":");
  sg_sbx_msg_to_json(m, &b);
  sg_buf_append_char(&b, '}');
  bool dup = sg_sbx_stats_accept(&s->stats, m->key_bin, b.data, b.len);
  if (dup)
    sg_log_kv(SG_LOG_WARN, "sandbox", "duplicate message", "key", m->key, "api", m->api, NULL);
  if (s->record) {
    sg_buf_append_char(&b, '\n');
    fwrite(b.data, 1, b.len, s->record);
  }
  sg_buf_free(&b);
}

/* ---- limiters ---- */

static void limits_free(sg_sbx *s) {
  sg_sbx_inflight_free(s->graph_inflight);
  sg_sbx_rate_free(s->graph_req);
  sg_sbx_rate_free(s->graph_slow);
  sg_sbx_rate_free(s->graph_msg);
  sg_sbx_rate_free(s->graph_rcpt);
  sg_sbx_rate_free(s->acs_min);
  sg_sbx_rate_free(s->acs_hour);
  sg_sbx_rate_free(s->acs_status_min);
  sg_sbx_rate_free(s->acs_status_hour);
  sg_sbx_backoff_free(s->backoff);
  sg_sbx_rate_free(s->graph_upload);
  sg_sbx_rate_free(s->smtp_msg);
  s->smtp_msg = NULL;
}

void sg_sbx__limits_rebuild(sg_sbx *s) {
  const sg_sbx_cfg *c = &s->cfg;
  limits_free(s);
  /* In-flight slots are counted for every request so the sandbox reports the
   * most in flight per mailbox even when no cap is enforced. */
  s->graph_inflight = sg_sbx_inflight_new(UINT32_MAX, 0);
  s->graph_req = sg_sbx_rate_new((uint64_t)c->graph_mailbox_requests,
                                 (uint64_t)c->graph_mailbox_window_ms, SG_SBX_WINDOW_SLIDING, 0);
  s->graph_slow = sg_sbx_rate_new((uint64_t)c->graph_slow_requests,
                                  (uint64_t)c->graph_slow_window_ms, SG_SBX_WINDOW_SLIDING, 0);
  s->graph_msg = sg_sbx_rate_new((uint64_t)c->graph_mailbox_messages_per_minute,
                                 (uint64_t)c->graph_minute_window_ms, SG_SBX_WINDOW_SLIDING, 0);
  s->graph_rcpt = sg_sbx_rate_new((uint64_t)c->graph_mailbox_recipients_per_day,
                                  (uint64_t)c->graph_day_window_ms, SG_SBX_WINDOW_SLIDING, 0);
  s->acs_min = sg_sbx_rate_new((uint64_t)c->acs_sends_per_minute, (uint64_t)c->acs_minute_window_ms,
                               SG_SBX_WINDOW_SLIDING, 0);
  s->acs_hour = sg_sbx_rate_new((uint64_t)c->acs_sends_per_hour, (uint64_t)c->acs_hour_window_ms,
                                SG_SBX_WINDOW_SLIDING, 0);
  s->acs_status_min = sg_sbx_rate_new((uint64_t)c->acs_status_per_minute,
                                      (uint64_t)c->acs_minute_window_ms, SG_SBX_WINDOW_SLIDING, 0);
  s->acs_status_hour = sg_sbx_rate_new((uint64_t)c->acs_status_per_hour,
                                       (uint64_t)c->acs_hour_window_ms, SG_SBX_WINDOW_SLIDING, 0);
  s->backoff = sg_sbx_backoff_new(0);
  s->graph_upload = sg_sbx_rate_new((uint64_t)c->graph_upload_bytes,
                                    (uint64_t)c->graph_upload_window_ms, SG_SBX_WINDOW_SLIDING, 0);
  s->smtp_msg = sg_sbx_rate_new((uint64_t)c->smtp_messages_per_minute,
                                (uint64_t)c->smtp_minute_window_ms, SG_SBX_WINDOW_SLIDING, 0);
  sg_sbx_tokens_set_lifetime(s->tokens, (uint32_t)c->token_lifetime_s);
  sg_sbx_tokens_set_length(s->tokens, (size_t)c->token_length);
}

/* ---- dispatch ---- */

static void not_found(sg_sbx *s, sg_httpd_req *req) {
  sg_buf b = SG_BUF_INIT;
  sg_buf_append_str(
      &b, "{\"error\":{\"code\":\"NotFound\",\"message\":\"No such resource in the sandbox.\"}}");
  sg_sbx__send_json(s, req, 404, &b);
  sg_buf_free(&b);
}

/* Copies the path segment |p|..|e| percent-decoded into |out|. */
static bool segment(const char *p, const char *e, char *out, size_t cap) {
  sg_buf b = SG_BUF_INIT;
  bool ok = sg_sbx_form_decode(&b, p, (size_t)(e - p)) == 0 && b.len > 0 && b.len < cap &&
            memchr(b.data, '\0', b.len) == NULL;
  if (ok)
    memcpy(out, b.data, b.len + 1);
  sg_buf_free(&b);
  return ok;
}

static void on_request(sg_httpd_req *req, void *ud) {
  sg_sbx *s = ud;
  const char *path = req->path;
  const char *q = strchr(path, '?');
  size_t plen = q ? (size_t)(q - path) : strlen(path);
  char seg[512];
  if (strncmp(path, "/sandbox/", 9) == 0 || strncmp(path, "/healthz", 8) == 0) {
    sg_sbx__route_ctl(s, req);
    return;
  }
  if (strncmp(path, "/inbox", 6) == 0 && (path[6] == '\0' || path[6] == '/' || path[6] == '?')) {
    sg_sbx__route_inbox(s, req);
    return;
  }
  s->stats.requests++;
  static const char tok_sfx[] = "/oauth2/v2.0/token";
  size_t tl = sizeof tok_sfx - 1;
  if (plen > tl + 1 && memcmp(path + plen - tl, tok_sfx, tl) == 0 && path[0] == '/' &&
      memchr(path + 1, '/', plen - tl - 1) == NULL) {
    if (strcmp(req->method, "POST") != 0 || !segment(path + 1, path + plen - tl, seg, sizeof seg)) {
      not_found(s, req);
      return;
    }
    sg_sbx__route_token(s, req, seg);
    return;
  }
  static const char users[] = "/v1.0/users/", send_sfx[] = "/sendMail";
  if (strncmp(path, users, sizeof users - 1) == 0 &&
      plen > sizeof users - 1 + sizeof send_sfx - 1 &&
      memcmp(path + plen - (sizeof send_sfx - 1), send_sfx, sizeof send_sfx - 1) == 0) {
    const char *mb = path + sizeof users - 1, *mbe = path + plen - (sizeof send_sfx - 1);
    if (strcmp(req->method, "POST") != 0 || memchr(mb, '/', (size_t)(mbe - mb)) ||
        !segment(mb, mbe, seg, sizeof seg)) {
      not_found(s, req);
      return;
    }
    sg_sbx__route_graph(s, req, seg);
    return;
  }
  if (strncmp(path, users, sizeof users - 1) == 0) {
    /* /v1.0/users/{mailbox}/messages[/...]: drafts and their attachments */
    const char *mb = path + sizeof users - 1, *end = path + plen;
    const char *sl = memchr(mb, '/', (size_t)(end - mb));
    if (sl && (size_t)(end - sl) >= 9 && memcmp(sl, "/messages", 9) == 0 &&
        (sl + 9 == end || sl[9] == '/') && segment(mb, sl, seg, sizeof seg)) {
      char rest[512];
      size_t rl = (size_t)(end - (sl + 9));
      if (rl < sizeof rest) {
        memcpy(rest, sl + 9, rl);
        rest[rl] = '\0';
        sg_sbx__route_draft(s, req, seg, rest);
        return;
      }
    }
  }
  static const char up[] = "/up/";
  if (strncmp(path, up, sizeof up - 1) == 0 && plen > sizeof up - 1 &&
      plen - (sizeof up - 1) < sizeof seg && memchr(path + 4, '/', plen - 4) == NULL) {
    memcpy(seg, path + 4, plen - 4);
    seg[plen - 4] = '\0';
    sg_sbx__route_upload(s, req, seg);
    return;
  }
  if (plen == 12 && memcmp(path, "/emails:send", 12) == 0 && strcmp(req->method, "POST") == 0) {
    sg_sbx__route_acs_send(s, req);
    return;
  }
  static const char ops[] = "/emails/operations/";
  const char *op = path;
  if (strncmp(op, "//", 2) == 0) /* Operation-Location as the spec example writes it */
    op++;
  if (strncmp(op, ops, sizeof ops - 1) == 0 && strcmp(req->method, "GET") == 0) {
    const char *id = op + sizeof ops - 1, *ide = path + plen;
    if (ide > id && (size_t)(ide - id) < sizeof seg &&
        memchr(id, '/', (size_t)(ide - id)) == NULL) {
      memcpy(seg, id, (size_t)(ide - id));
      seg[ide - id] = '\0';
      sg_sbx__route_acs_get(s, req, seg);
      return;
    }
  }
  not_found(s, req);
}

/* ---- lifecycle ---- */

static int ensure_dir(const char *d, char *err, size_t errcap) {
  if (mkdir(d, 0700) == 0 || errno == EEXIST)
    return 0;
  snprintf(err, errcap, "cannot create state directory %s: %s", d, strerror(errno));
  return SG_ERR_IO;
}

/* The ACS access key: configured, or made once and kept in the state dir. */
/* entra.client_certificate_file: the app's certificate, as uploaded to Entra. */
static int register_certificate(sg_sbx *s, char *err, size_t errcap) {
  FILE *f = fopen(s->cfg.client_certificate_file, "rb");
  X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
  if (f)
    fclose(f);
  int rv = 0;
  if (cert == NULL ||
      sg_sbx_tokens_add_cert(s->tokens, s->cfg.tenant_id, s->cfg.client_id, cert) != 0) {
    snprintf(err, errcap, "entra: cannot read a certificate from %s",
             s->cfg.client_certificate_file);
    rv = SG_ERR_CONFIG;
  }
  X509_free(cert);
  return rv;
}

static int load_acs_key(sg_sbx *s, char *err, size_t errcap) {
  char *b64 = NULL;
  char path[1100];
  snprintf(path, sizeof path, "%s/acs-access-key", s->cfg.state_dir);
  if (s->cfg.acs_access_key[0]) {
    b64 = sg_xstrdup(s->cfg.acs_access_key);
  } else if (sg_settings_read_file(path, &b64, 4096) != 0) {
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1) {
      snprintf(err, errcap, "cannot make an ACS key: no randomness");
      return SG_ERR_CRYPTO;
    }
    sg_buf b = SG_BUF_INIT;
    sg_base64_encode(&b, raw, sizeof raw);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
      snprintf(err, errcap, "cannot write %s: %s", path, strerror(errno));
      sg_buf_free(&b);
      return SG_ERR_IO;
    }
    fchmod(fileno(f), 0600);
    fprintf(f, "%s\n", b.data);
    fclose(f);
    b64 = sg_buf_steal(&b, NULL);
  }
  sg_buf raw = SG_BUF_INIT;
  if (sg_base64_decode(&raw, b64, strlen(b64), false) != 0 || raw.len == 0 ||
      raw.len > sizeof s->acs_key) {
    snprintf(err, errcap, "acs.access_key is not base64 of 1..64 bytes");
    sg_buf_free(&raw);
    sg_free(b64);
    return SG_ERR_CONFIG;
  }
  memcpy(s->acs_key, raw.data, raw.len);
  s->acs_key_len = raw.len;
  s->acs_key_b64 = b64;
  sg_buf_free(&raw);
  return 0;
}

int sg_sbx__split_listen(const char *listen, char *host, size_t hcap, uint16_t *port) {
  const char *colon = strrchr(listen, ':');
  if (colon == NULL)
    return SG_ERR_CONFIG;
  const char *h = listen, *he = colon;
  if (*h == '[' && he > h && he[-1] == ']') {
    h++;
    he--;
  }
  if ((size_t)(he - h) >= hcap || he == h)
    return SG_ERR_CONFIG;
  memcpy(host, h, (size_t)(he - h));
  host[he - h] = '\0';
  char *end;
  long p = strtol(colon + 1, &end, 10);
  if (*end || p < 0 || p > 65535)
    return SG_ERR_CONFIG;
  *port = (uint16_t)p;
  return 0;
}

static void on_flush(uv_timer_t *t) {
  sg_sbx *s = t->data;
  if (s->record)
    fflush(s->record);
}

int sg_sbx_start(sg_sbx **out, uv_loop_t *loop, sg_sbx_cfg *cfg, char *err, size_t errcap) {
  sg_sbx *s = sg_xcalloc(1, sizeof *s);
  s->loop = loop;
  s->cfg = *cfg;
  memset(cfg, 0, sizeof *cfg);
  sg_list_init(&s->delayed);
  sg_sbx_drafts_init(&s->drafts, 0);
  s->rng = (uint64_t)s->cfg.fault_seed;
  if (RAND_bytes((unsigned char *)&s->id_rng, sizeof s->id_rng) != 1)
    s->id_rng = (uint64_t)sg_wall_ms();
  int rv = ensure_dir(s->cfg.state_dir, err, errcap);
  char host[256];
  uint16_t port = 0;
  if (rv == 0 && sg_sbx__split_listen(s->cfg.listen, host, sizeof host, &port) != 0) {
    snprintf(err, errcap, "server.listen: '%s' is not host:port", s->cfg.listen);
    rv = SG_ERR_CONFIG;
  }
  char cert[1100], key[1100];
  if (rv == 0 && s->cfg.cert_file[0]) {
    snprintf(cert, sizeof cert, "%s", s->cfg.cert_file);
    snprintf(key, sizeof key, "%s", s->cfg.key_file);
    snprintf(s->ca_path, sizeof s->ca_path, "%s", s->cfg.ca_file);
  } else if (rv == 0) {
    const char *names[] = {s->cfg.public_host, "localhost", "127.0.0.1", "::1"};
    size_t nn = strcmp(s->cfg.public_host, "localhost") == 0 ? 0 : 4;
    rv = sg_sbx_certgen_ensure(s->cfg.state_dir, nn ? names : NULL, nn, NULL);
    if (rv)
      snprintf(err, errcap, "cannot make certificates in %s: %s", s->cfg.state_dir,
               sg_strerror(rv));
    snprintf(cert, sizeof cert, "%s/server.pem", s->cfg.state_dir);
    snprintf(key, sizeof key, "%s/server-key.pem", s->cfg.state_dir);
    snprintf(s->ca_path, sizeof s->ca_path, "%s/ca.pem", s->cfg.state_dir);
  }
  if (rv == 0 && (rv = sg_tls_ctx_server_new(&s->ssl, cert, key)) != 0)
    snprintf(err, errcap, "cannot load the certificate %s / %s: %s", cert, key, sg_strerror(rv));
  if (rv == 0)
    rv = load_acs_key(s, err, errcap);
  if (rv == 0) {
    sg_sbx_tokens_config tc = {0};
    tc.lifetime_s = (uint32_t)s->cfg.token_lifetime_s;
    tc.token_len = (size_t)s->cfg.token_length;
    s->tokens = sg_sbx_tokens_new(&tc);
    if (sg_sbx_tokens_add_app(s->tokens, s->cfg.tenant_id, s->cfg.client_id,
                              s->cfg.client_secret)) {
      snprintf(err, errcap, "entra: bad tenant_id, client_id or client_secret");
      rv = SG_ERR_CONFIG;
    } else if (s->cfg.client_certificate_file[0]) {
      rv = register_certificate(s, err, errcap);
    }
  }
  if (rv == 0) {
    s->ops = sg_sbx_ops_new((uint64_t)s->cfg.acs_op_step_ms, 0);
    sg_sbx__limits_rebuild(s);
    sg_sbx_stats_init(&s->stats, (size_t)s->cfg.record_memory);
    s->inbox = sg_sbx_inbox_new();
    if (strcmp(s->cfg.record_file, "off") != 0) {
      char rp[1100];
      if (s->cfg.record_file[0])
        snprintf(rp, sizeof rp, "%s", s->cfg.record_file);
      else
        snprintf(rp, sizeof rp, "%s/messages.jsonl", s->cfg.state_dir);
      s->record = fopen(rp, "a");
      if (s->record == NULL) {
        snprintf(err, errcap, "cannot open %s: %s", rp, strerror(errno));
        rv = SG_ERR_IO;
      }
    }
  }
  if (rv == 0) {
    sg_httpd_settings hs;
    sg_httpd_settings_default(&hs);
    hs.max_concurrent_streams = (uint32_t)s->cfg.max_concurrent_streams;
    /* Bodies above the providers' caps must still arrive whole so the routes
     * can answer 413 in the provider's own words. */
    size_t cap = (size_t)(s->cfg.acs_max_request_bytes > s->cfg.graph_max_request_bytes
                              ? s->cfg.acs_max_request_bytes
                              : s->cfg.graph_max_request_bytes);
    if ((size_t)s->cfg.graph_upload_max_chunk > cap) /* upload ranges arrive whole too */
      cap = (size_t)s->cfg.graph_upload_max_chunk;
    hs.max_body = cap + cap / 2 + 1024 * 1024;
    rv = sg_httpd_new(&s->httpd, loop, host, port, s->ssl, &hs, on_request, s);
    if (rv)
      snprintf(err, errcap, "cannot listen on %s: %s", s->cfg.listen, sg_strerror(rv));
    else if ((rv = sg_sbx__imds_start(s, err, errcap)) != 0)
      sg_httpd_close(s->httpd, NULL);
  }
  if (rv) {
    if (s->record)
      fclose(s->record);
    if (s->ssl)
      SSL_CTX_free(s->ssl);
    limits_free(s);
    sg_sbx_drafts_free(&s->drafts);
    sg_sbx_tokens_free(s->tokens);
    sg_sbx_ops_free(s->ops);
    if (s->stats.keys)
      sg_sbx_stats_free(&s->stats);
    sg_sbx_inbox_del(s->inbox);
    sg_free(s->acs_key_b64);
    sg_settings_free(&sg_sbx_settings, &s->cfg);
    sg_free(s);
    return rv;
  }
  s->port = sg_httpd_port(s->httpd);
  if (s->cfg.smtp_exchange_listen[0] &&
      sg_sbx_smtp_srv_start(&s->smtp_exchange, s, SG_SBX_SMTP_EXCHANGE, s->cfg.smtp_exchange_listen,
                            err, errcap) != 0)
    return SG_ERR_CONFIG; /* the caller exits; nothing to tidy for a process about to end */
  if (s->cfg.smtp_hve_listen[0] && sg_sbx_smtp_srv_start(&s->smtp_hve, s, SG_SBX_SMTP_HVE,
                                                         s->cfg.smtp_hve_listen, err, errcap) != 0)
    return SG_ERR_CONFIG;
  uv_timer_init(loop, &s->flush_timer);
  s->flush_timer.data = s;
  uv_timer_start(&s->flush_timer, on_flush, SG_SBX_FLUSH_MS, SG_SBX_FLUSH_MS);
  *out = s;
  return 0;
}

uint16_t sg_sbx_port(const sg_sbx *s) {
  return s->port;
}

void sg_sbx_print_env(const sg_sbx *s, FILE *f) {
  /* Shell syntax (single-quoted values), so `. FILE` or `export $(...)` works;
   * the ACS connection string has a ';' in it. */
  char root[300];
  snprintf(root, sizeof root, "https://%s:%u", s->cfg.public_host, (unsigned)s->port);
  fprintf(f, "SENDGATE_TLS_CA_FILE='%s'\n", s->ca_path);
  fprintf(f, "SENDGATE_GRAPH_URL='%s'\n", root);
  fprintf(f, "SENDGATE_LOGIN_URL='%s'\n", root);
  fprintf(f, "SENDGATE_GRAPH_TENANT_ID='%s'\n", s->cfg.tenant_id);
  fprintf(f, "SENDGATE_GRAPH_CLIENT_ID='%s'\n", s->cfg.client_id);
  fprintf(f, "SENDGATE_GRAPH_CLIENT_SECRET='%s'\n", s->cfg.client_secret);
  fprintf(f, "SENDGATE_ACS_CONNECTION_STRING='endpoint=%s/;accesskey=%s'\n", root, s->acs_key_b64);
  fprintf(f, "SENDGATE_SANDBOX_URL='%s'\n", root);
  if (s->imds)
    fprintf(f, "SENDGATE_SANDBOX_IMDS_URL='http://%s:%u'\n", s->cfg.public_host,
            (unsigned)s->imds_port);
  /* The SMTP stand-ins, as the smtp_host of exchange_smtp and hve accounts. */
  if (s->smtp_exchange)
    fprintf(f, "SENDGATE_SANDBOX_SMTP_EXCHANGE='%s:%u'\n", s->cfg.public_host,
            (unsigned)sg_sbx_smtp_srv_port(s->smtp_exchange));
  if (s->smtp_hve)
    fprintf(f, "SENDGATE_SANDBOX_SMTP_HVE='%s:%u'\n", s->cfg.public_host,
            (unsigned)sg_sbx_smtp_srv_port(s->smtp_hve));
}

static void on_httpd_closed(void *ud) {
  sg_sbx *s = ud;
  if (s->record)
    fclose(s->record);
  SSL_CTX_free(s->ssl);
  limits_free(s);
  sg_sbx_drafts_free(&s->drafts);
  sg_sbx_tokens_free(s->tokens);
  sg_sbx_ops_free(s->ops);
  sg_sbx_stats_free(&s->stats);
  sg_sbx_inbox_del(s->inbox);
  sg_free(s->acs_key_b64);
  sg_settings_free(&sg_sbx_settings, &s->cfg);
  void (*done)(void *) = s->on_closed;
  void *dud = s->closed_ud;
  sg_free(s);
  if (done)
    done(dud);
}

static void close_httpd(sg_sbx *s) {
  sg_httpd_close(s->httpd, on_httpd_closed);
}

static void on_smtp_stopped(void *ud) {
  sg_sbx *s = ud;
  if (--s->smtp_stopping == 0)
    close_httpd(s);
}

/* The SMTP listeners before the HTTP server (their connections use the
 * record and the tokens). */
static void stop_smtp(sg_sbx *s) {
  s->smtp_stopping = 1;
  if (s->smtp_exchange) {
    s->smtp_stopping++;
    sg_sbx_smtp_srv_stop(s->smtp_exchange, on_smtp_stopped, s);
  }
  if (s->smtp_hve) {
    s->smtp_stopping++;
    sg_sbx_smtp_srv_stop(s->smtp_hve, on_smtp_stopped, s);
  }
  on_smtp_stopped(s);
}

static void on_flush_closed(uv_handle_t *h) {
  sg_sbx__imds_stop(h->data, stop_smtp);
}

void sg_sbx_stop(sg_sbx *s, void (*done)(void *ud), void *ud) {
  s->closing = 1;
  s->on_closed = done;
  s->closed_ud = ud;
  /* Replies still waiting go out now (their connections may be gone). */
  sg_list *n;
  while ((n = sg_list_pop_front(&s->delayed)) != NULL) {
    delayed_reply *d = sg_container_of(n, delayed_reply, link);
    uv_timer_stop(&d->timer);
    reply_now(s, d->req, &d->r);
    uv_close((uv_handle_t *)&d->timer, on_delay_closed);
  }
  if (s->record)
    fflush(s->record);
  uv_close((uv_handle_t *)&s->flush_timer, on_flush_closed);
}
