/* SPDX-License-Identifier: Apache-2.0 */
/* The sandbox's Entra ID token endpoint and token store; see sg_sbx_tokens.h. */
#include "sandbox/sg_sbx_tokens.h"

#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "core/sg_base64.h"
#include "core/sg_clock.h"
#include "core/sg_err.h"
#include "core/sg_json_write.h"
#include "sandbox/sg_sbx_assert.h"
#include "sandbox/sg_sbx_table.h"

#define ACS_SCOPE "https://communication.azure.com//.default"
#define ACS_SCOPE_1 "https://communication.azure.com/.default"
/* Exchange Online's resource: SMTP XOAUTH2 and HVE OAuth (microsoft-apis.md 6.2). */
#define OUTLOOK_SCOPE "https://outlook.office365.com/.default"
#define JWT_BEARER "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
/* Expired tokens examined per issue (the incremental part of the lazy purge). */
#define PURGE_STEP 4

typedef struct app {
  struct app *next;
  char *tenant;
  char *client_id;
  char *secret;  /* NULL: certificate app */
  X509 *cert;    /* registered certificate: assertions are verified against it */
  bool identity; /* a managed identity: tokens only through sg_sbx_tokens_issue_identity */
} app;

typedef struct tok {
  sg_sbx_entry e;
  const app *app;
  sg_sbx_audience aud;
  int64_t expires_ms;
} tok;

struct sg_sbx_tokens {
  app *apps;
  char *graph_scope; /* "<root>/.default" */
  uint32_t lifetime_s;
  size_t token_len;
  size_t max_tokens;
  sg_sbx_table table; /* keyed by the SHA-256 of the token */
  sg_sbx_jtis *jtis;  /* assertion ids seen */
};

sg_sbx_tokens *sg_sbx_tokens_new(const sg_sbx_tokens_config *cfg) {
  sg_sbx_tokens *t = sg_xcalloc(1, sizeof(*t));
  const char *root = cfg && cfg->graph_root ? cfg->graph_root : "https://graph.microsoft.com";
  size_t rl = strlen(root);
  while (rl && root[rl - 1] == '/')
    rl--;
  sg_buf b = SG_BUF_INIT;
  sg_buf_append(&b, root, rl);
  sg_buf_append_str(&b, "/.default");
  t->graph_scope = sg_buf_steal(&b, NULL);
  t->lifetime_s = cfg ? cfg->lifetime_s : 0;
  sg_sbx_tokens_set_length(t, cfg ? cfg->token_len : 0);
  t->max_tokens = cfg && cfg->max_tokens ? cfg->max_tokens : SG_SBX_TOKENS_DEFAULT_MAX;
  sg_sbx_table_init(&t->table);
  t->jtis = sg_sbx_jtis_new(t->max_tokens);
  return t;
}

static void free_tok(sg_sbx_entry *e) {
  sg_free(sg_container_of(e, tok, e));
}

void sg_sbx_tokens_free(sg_sbx_tokens *t) {
  if (t == NULL)
    return;
  sg_sbx_table_free(&t->table, free_tok);
  while (t->apps) {
    app *a = t->apps;
    t->apps = a->next;
    if (a->secret)
      OPENSSL_cleanse(a->secret, strlen(a->secret));
    sg_free(a->secret);
    X509_free(a->cert);
    sg_free(a->tenant);
    sg_free(a->client_id);
    sg_free(a);
  }
  sg_sbx_jtis_free(t->jtis);
  sg_free(t->graph_scope);
  sg_free(t);
}

void sg_sbx_tokens_set_lifetime(sg_sbx_tokens *t, uint32_t lifetime_s) {
  t->lifetime_s = lifetime_s;
}

void sg_sbx_tokens_set_length(sg_sbx_tokens *t, size_t token_len) {
  t->token_len = token_len == 0                 ? SG_SBX_TOKEN_DEFAULT
                 : token_len < SG_SBX_TOKEN_MIN ? SG_SBX_TOKEN_MIN
                 : token_len > SG_SBX_TOKEN_MAX ? SG_SBX_TOKEN_MAX
                                                : token_len;
}

size_t sg_sbx_tokens_count(const sg_sbx_tokens *t) {
  return t->table.count;
}

static bool tenant_known(const sg_sbx_tokens *t, const char *tenant) {
  for (const app *a = t->apps; a; a = a->next)
    if (strcasecmp(a->tenant, tenant) == 0)
      return true;
  return false;
}

static const app *find_app(const sg_sbx_tokens *t, const char *tenant, const char *client_id) {
  for (const app *a = t->apps; a; a = a->next)
    if (strcasecmp(a->tenant, tenant) == 0 && strcasecmp(a->client_id, client_id) == 0)
      return a;
  return NULL;
}

int sg_sbx_tokens_add_app(sg_sbx_tokens *t, const char *tenant, const char *client_id,
                          const char *secret) {
  if (tenant == NULL || client_id == NULL || !*tenant || !*client_id)
    return SG_ERR_INVAL;
  if (find_app(t, tenant, client_id))
    return SG_ERR_EXISTS;
  app *a = sg_xcalloc(1, sizeof(*a));
  a->tenant = sg_xstrdup(tenant);
  a->client_id = sg_xstrdup(client_id);
  a->secret = secret ? sg_xstrdup(secret) : NULL;
  a->next = t->apps;
  t->apps = a;
  return 0;
}

int sg_sbx_tokens_add_cert(sg_sbx_tokens *t, const char *tenant, const char *client_id,
                           X509 *cert) {
  if (cert == NULL)
    return SG_ERR_INVAL;
  app *a = (app *)find_app(t, tenant ? tenant : "", client_id ? client_id : "");
  if (a == NULL) {
    int rv = sg_sbx_tokens_add_app(t, tenant, client_id, NULL);
    if (rv)
      return rv;
    a = t->apps;
  }
  X509_up_ref(cert);
  X509_free(a->cert);
  a->cert = cert;
  return 0;
}

/* ---- responses ------------------------------------------------------------------------ */

static void uuid4(char out[37]) {
  unsigned char r[16];
  if (RAND_bytes(r, sizeof r) != 1)
    abort(); /* no randomness: nothing sensible to hand out */
  r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
  r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (size_t i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out[o++] = '-';
    out[o++] = hex[r[i] >> 4];
    out[o++] = hex[r[i] & 15];
  }
  out[o] = '\0';
}

/* "2024-01-01 00:00:00Z", Entra's error timestamp. */
static void entra_time(int64_t now_ms, char out[32]) {
  sg_time_rfc3339(now_ms, out);
  out[10] = ' ';
  out[19] = 'Z';
  out[20] = '\0';
}

static void fail(sg_sbx_token_resp *out, const sg_sbx_token_req *req, int64_t now_ms, int status,
                 const char *error, int code, const sg_buf *text) {
  char trace[37], corr[37], ts[32];
  uuid4(trace);
  if (req->correlation_id == NULL || !*req->correlation_id)
    uuid4(corr);
  const char *cid = req->correlation_id && *req->correlation_id ? req->correlation_id : corr;
  entra_time(now_ms, ts);
  sg_buf d = SG_BUF_INIT;
  sg_buf_printf(&d, "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", code,
                text->data, trace, cid, ts);
  sg_buf *b = &out->body;
  sg_buf_reset(b);
  sg_buf_append_str(b, "{\"error\":");
  sg_jw_cstr(b, error);
  sg_buf_append_str(b, ",\"error_description\":");
  sg_jw_str(b, d.data, d.len);
  sg_buf_printf(b, ",\"error_codes\":[%d],\"timestamp\":", code);
  sg_jw_cstr(b, ts);
  sg_buf_append_str(b, ",\"trace_id\":");
  sg_jw_cstr(b, trace);
  sg_buf_append_str(b, ",\"correlation_id\":");
  sg_jw_cstr(b, cid);
  sg_buf_printf(b, ",\"error_uri\":\"https://login.microsoftonline.com/error?code=%d\"}", code);
  sg_buf_free(&d);
  out->status = status;
  out->error = error;
  out->aadsts = code;
}

/* ---- the store ------------------------------------------------------------------------ */

static void drop(sg_sbx_tokens *t, tok *k) {
  sg_sbx_table_remove(&t->table, &k->e);
  sg_free(k);
}

/* Purges up to |budget| expired tokens from the oldest end, or all when budget is 0. */
static void purge(sg_sbx_tokens *t, int64_t now_ms, size_t budget) {
  size_t seen = 0;
  sg_sbx_entry *e = sg_sbx_table_oldest(&t->table);
  while (e && (budget == 0 || seen < budget)) {
    sg_sbx_entry *next = sg_sbx_table_next_newer(&t->table, e);
    tok *k = sg_container_of(e, tok, e);
    if (k->expires_ms <= now_ms)
      drop(t, k);
    seen++;
    e = next;
  }
}

static uint32_t lifetime(const sg_sbx_tokens *t) {
  if (t->lifetime_s)
    return t->lifetime_s;
  uint32_t r;
  if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
    abort();
  return 3600 + r % 1801;
}

/*
 * A new token of |n| characters into |b|: random base64url (six bits of
 * entropy a character) in a JWT's shape from JWT_MIN characters on, a fixed
 * {"typ":"JWT","alg":"RS256"} header, the claims and an RS256 signature's 342
 * characters, as Entra's are; one opaque segment when shorter. Only its
 * length and alphabet matter to a client, which never reads it.
 */
#define JWT_HEAD "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9."
#define JWT_SIG 342
#define JWT_MIN (sizeof JWT_HEAD - 1 + SG_SBX_TOKEN_MIN + 1 + JWT_SIG)

static void make_token(sg_buf *b, size_t n) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char r[SG_SBX_TOKEN_MAX];
  if (RAND_bytes(r, (int)n) != 1)
    abort(); /* no randomness: nothing sensible to hand out */
  sg_buf_reset(b);
  sg_buf_reserve(b, n + 1);
  size_t i = 0;
  if (n >= JWT_MIN) {
    sg_buf_append(b, JWT_HEAD, sizeof JWT_HEAD - 1);
    i = sizeof JWT_HEAD - 1;
  }
  for (; i < n; i++) {
    char c = alphabet[r[i] & 63]; /* 256 is a multiple of 64: uniform */
    if (n >= JWT_MIN && i == n - JWT_SIG - 1)
      c = '.';
    sg_buf_append(b, &c, 1);
  }
  OPENSSL_cleanse(r, n);
}

static void store(sg_sbx_tokens *t, const app *a, sg_sbx_audience aud, int64_t now_ms,
                  sg_sbx_token_resp *out) {
  purge(t, now_ms, PURGE_STEP);
  if (t->table.count >= t->max_tokens)
    purge(t, now_ms, 0);
  while (t->table.count >= t->max_tokens)
    drop(t, sg_container_of(sg_sbx_table_oldest(&t->table), tok, e));

  sg_buf b = SG_BUF_INIT;
  unsigned char key[SHA256_DIGEST_LENGTH];
  do {
    make_token(&b, t->token_len);
    SHA256((const unsigned char *)b.data, b.len, key);
  } while (sg_sbx_table_find(&t->table, (const char *)key, sizeof key)); /* never in practice */
  tok *k = sg_xcalloc(1, sizeof(*k));
  k->app = a;
  k->aud = aud;
  uint32_t life = lifetime(t);
  k->expires_ms = now_ms + (int64_t)life * 1000;
  sg_sbx_table_insert(&t->table, &k->e, (const char *)key, sizeof key);
  out->token_len = b.len;
  out->token = sg_buf_steal(&b, NULL);

  out->status = 200;
  out->error = NULL;
  out->aadsts = 0;
  out->audience = aud;
  out->expires_in = life;
  sg_buf_reset(&out->body);
  sg_buf_printf(&out->body,
                "{\"token_type\":\"Bearer\",\"expires_in\":%u,\"ext_expires_in\":%u,"
                "\"access_token\":\"%s\"}",
                life, life, out->token);
}

void sg_sbx_tokens_issue_identity(sg_sbx_tokens *t, const char *tenant, const char *client_id,
                                  sg_sbx_audience aud, const char *resource, int64_t now_ms,
                                  sg_sbx_token_resp *out) {
  memset(out, 0, sizeof *out);
  sg_buf_init(&out->body);
  app *a = (app *)find_app(t, tenant, client_id);
  if (a == NULL && sg_sbx_tokens_add_app(t, tenant, client_id, NULL) == 0) {
    a = t->apps;
    a->identity = true;
  }
  if (a == NULL || !a->identity) {
    out->status = 400;
    out->error = "invalid_request";
    sg_buf_append_str(&out->body, "{\"error\":\"invalid_request\",\"error_description\":"
                                  "\"Identity not found\"}");
    return;
  }
  store(t, a, aud, now_ms, out);
  int64_t now_s = now_ms / 1000;
  sg_buf_reset(&out->body);
  sg_buf_printf(&out->body,
                "{\"access_token\":\"%s\",\"client_id\":\"%s\",\"expires_in\":\"%u\","
                "\"expires_on\":\"%lld\",\"ext_expires_in\":\"%u\",\"not_before\":\"%lld\","
                "\"resource\":",
                out->token, a->client_id, out->expires_in, (long long)(now_s + out->expires_in),
                out->expires_in, (long long)now_s);
  sg_jw_cstr(&out->body, resource);
  sg_buf_append_str(&out->body, ",\"token_type\":\"Bearer\"}");
}

/* ---- request checks ------------------------------------------------------------------- */

/* Splits "Basic base64(urlenc(id):urlenc(secret))" into |id| and |secret|; 0 or SG_ERR_PARSE. */
static int parse_basic(const char *v, sg_buf *id, sg_buf *secret) {
  if (strncasecmp(v, "Basic ", 6) != 0)
    return SG_ERR_NOTFOUND;
  v += 6;
  while (*v == ' ')
    v++;
  sg_buf raw = SG_BUF_INIT;
  int rv = sg_base64_decode(&raw, v, strlen(v), false);
  const char *colon = rv == 0 && raw.len ? memchr(raw.data, ':', raw.len) : NULL;
  if (colon == NULL || colon == raw.data)
    rv = SG_ERR_PARSE;
  if (rv == 0)
    rv = sg_sbx_form_decode(id, raw.data, (size_t)(colon - raw.data));
  if (rv == 0)
    rv = sg_sbx_form_decode(secret, colon + 1, raw.len - (size_t)(colon - raw.data) - 1);
  if (raw.data)
    OPENSSL_cleanse(raw.data, raw.cap);
  sg_buf_free(&raw);
  return rv == 0 ? 0 : SG_ERR_PARSE;
}

static bool secret_eq(const char *want, const char *got) {
  size_t wl = strlen(want), gl = strlen(got);
  return wl == gl && CRYPTO_memcmp(want, got, wl) == 0;
}

/* Three non-empty base64url segments separated by dots. */
static bool jwt_shaped(const char *s) {
  int dots = 0;
  size_t seg = 0;
  for (; *s; s++) {
    if (*s == '.') {
      if (seg == 0)
        return false;
      dots++;
      seg = 0;
    } else if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
               *s == '-' || *s == '_') {
      seg++;
    } else {
      return false;
    }
  }
  return dots == 2 && seg > 0;
}

/* The audience |scope| asks for, or NONE (also for several space-separated scopes). */
static sg_sbx_audience scope_audience(const sg_sbx_tokens *t, const char *scope) {
  while (*scope == ' ')
    scope++;
  size_t n = strlen(scope);
  while (n && scope[n - 1] == ' ')
    n--;
  if (n == 0 || memchr(scope, ' ', n))
    return SG_SBX_AUD_NONE;
  if (n == strlen(t->graph_scope) && strncasecmp(scope, t->graph_scope, n) == 0)
    return SG_SBX_AUD_GRAPH;
  if ((n == strlen(ACS_SCOPE) && strncasecmp(scope, ACS_SCOPE, n) == 0) ||
      (n == strlen(ACS_SCOPE_1) && strncasecmp(scope, ACS_SCOPE_1, n) == 0))
    return SG_SBX_AUD_ACS;
  if (n == strlen(OUTLOOK_SCOPE) && strncasecmp(scope, OUTLOOK_SCOPE, n) == 0)
    return SG_SBX_AUD_OUTLOOK;
  return SG_SBX_AUD_NONE;
}

void sg_sbx_tokens_issue(sg_sbx_tokens *t, const sg_sbx_token_req *req, int64_t now_ms,
                         sg_sbx_token_resp *out) {
  memset(out, 0, sizeof *out);
  sg_buf_init(&out->body);
  sg_buf m = SG_BUF_INIT, bid = SG_BUF_INIT, bsecret = SG_BUF_INIT;
  static const sg_sbx_form empty = SG_SBX_FORM_INIT;
  const sg_sbx_form *f = req->form ? req->form : &empty;
  const char *tenant = req->tenant ? req->tenant : "";
  const char *grant = sg_sbx_form_get(f, "grant_type");
  const char *client_id = sg_sbx_form_get(f, "client_id");
  const char *secret = sg_sbx_form_get(f, "client_secret");
  const char *assertion = sg_sbx_form_get(f, "client_assertion");
  const char *scope = sg_sbx_form_get(f, "scope");
  bool basic = req->authorization && parse_basic(req->authorization, &bid, &bsecret) == 0;
  const app *a = NULL;
  sg_sbx_audience aud = SG_SBX_AUD_NONE;
  sg_sbx_assert_verdict verdict;

  if (strcasecmp(tenant, "common") == 0 || strcasecmp(tenant, "consumers") == 0) {
    sg_buf_append_str(&m, "The grant type is not supported over the /common or /consumers "
                          "endpoints. Please use the /organizations or tenant-specific endpoint.");
    fail(out, req, now_ms, 400, "invalid_request", 9001023, &m);
  } else if (!tenant_known(t, tenant)) {
    sg_buf_printf(&m,
                  "Tenant '%s' not found. Check to make sure you have the correct tenant ID "
                  "and are signing into the correct cloud. Check with your subscription "
                  "administrator, this may happen if there are no active subscriptions for "
                  "the tenant.",
                  tenant);
    fail(out, req, now_ms, 400, "invalid_request", 90002, &m);
  } else if (grant == NULL) {
    sg_buf_append_str(&m, "The request body must contain the following parameter: 'grant_type'.");
    fail(out, req, now_ms, 400, "invalid_request", 900144, &m);
  } else if (strcmp(grant, "client_credentials") != 0) {
    sg_buf_printf(&m,
                  "The provided value for the input parameter 'grant_type' is not valid. "
                  "The grant type '%s' is not supported.",
                  grant);
    fail(out, req, now_ms, 400, "unsupported_grant_type", 70003, &m);
  } else if (client_id == NULL && !basic) {
    sg_buf_append_str(&m, "The request body must contain the following parameter: 'client_id'.");
    fail(out, req, now_ms, 400, "invalid_request", 900144, &m);
  } else if ((client_id && basic && strcmp(client_id, bid.data) != 0) ||
             (a = find_app(t, tenant, client_id ? client_id : bid.data)) == NULL || a->identity) {
    sg_buf_printf(&m,
                  "Application with identifier '%s' was not found in the directory '%s'. "
                  "This can happen if the application has not been installed by the "
                  "administrator of the tenant or consented to by any user in the tenant. "
                  "You may have sent your authentication request to the wrong tenant.",
                  client_id ? client_id : bid.data, tenant);
    fail(out, req, now_ms, 400, "unauthorized_client", 700016, &m);
  } else if (secret == NULL && !basic && assertion == NULL) {
    sg_buf_append_str(&m, "The request body must contain the following parameter: "
                          "'client_assertion' or 'client_secret'.");
    fail(out, req, now_ms, 400, "invalid_request", 7000218, &m);
  } else if ((secret || basic) &&
             (a->secret == NULL || !secret_eq(a->secret, secret ? secret : bsecret.data))) {
    sg_buf_printf(&m,
                  "Invalid client secret provided. Ensure the secret being sent in the "
                  "request is the client secret value, not the client secret ID, for a "
                  "secret added to app '%s'.",
                  a->client_id);
    fail(out, req, now_ms, 401, "invalid_client", 7000215, &m);
  } else if (!(secret || basic) && !sg_sbx_form_get(f, "client_assertion_type")) {
    sg_buf_append_str(&m, "The request body must contain the following parameter: "
                          "'client_assertion_type'.");
    fail(out, req, now_ms, 400, "invalid_request", 900144, &m);
  } else if (!(secret || basic) &&
             strcmp(sg_sbx_form_get(f, "client_assertion_type"), JWT_BEARER) != 0) {
    sg_buf_printf(&m, "Client assertion failed signature validation. Client id '%s'.",
                  a->client_id);
    fail(out, req, now_ms, 401, "invalid_client", 700027, &m);
  } else if (!(secret || basic) && a->cert &&
             sg_sbx_assert_check(t->jtis, assertion, a->cert, req->token_url ? req->token_url : "",
                                 a->client_id, now_ms, &verdict) != 0) {
    sg_buf_append_str(&m, verdict.message);
    fail(out, req, now_ms, verdict.status, verdict.error, verdict.aadsts, &m);
  } else if (!(secret || basic) && !a->cert && (a->secret != NULL || !jwt_shaped(assertion))) {
    sg_buf_printf(&m, "Client assertion failed signature validation. Client id '%s'.",
                  a->client_id);
    fail(out, req, now_ms, 401, "invalid_client", 700027, &m);
  } else if (scope == NULL) {
    sg_buf_append_str(&m, "The provided request must include a 'scope' input parameter.");
    fail(out, req, now_ms, 400, "invalid_scope", 70011, &m);
  } else if ((aud = scope_audience(t, scope)) == SG_SBX_AUD_NONE) {
    sg_buf_printf(&m,
                  "The provided value for the input parameter 'scope' is not valid. "
                  "The scope %s is not valid.",
                  scope);
    fail(out, req, now_ms, 400, "invalid_scope", 70011, &m);
  } else {
    store(t, a, aud, now_ms, out);
  }
  if (bsecret.data)
    OPENSSL_cleanse(bsecret.data, bsecret.cap);
  sg_buf_free(&bsecret);
  sg_buf_free(&bid);
  sg_buf_free(&m);
}

void sg_sbx_token_resp_free(sg_sbx_token_resp *r) {
  sg_buf_free(&r->body);
  if (r->token)
    OPENSSL_cleanse(r->token, r->token_len);
  sg_free(r->token);
  r->token = NULL;
  r->token_len = 0;
}

sg_sbx_token_status sg_sbx_tokens_validate(sg_sbx_tokens *t, const char *bearer, size_t len,
                                           sg_sbx_audience aud, int64_t now_ms,
                                           sg_sbx_token_info *info) {
  if (bearer == NULL || len < SG_SBX_TOKEN_MIN || len > SG_SBX_TOKEN_MAX)
    return SG_SBX_TOKEN_UNKNOWN;
  unsigned char key[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)bearer, len, key);
  sg_sbx_entry *e = sg_sbx_table_find(&t->table, (const char *)key, sizeof key);
  if (e == NULL)
    return SG_SBX_TOKEN_UNKNOWN;
  tok *k = sg_container_of(e, tok, e);
  if (k->expires_ms <= now_ms)
    return SG_SBX_TOKEN_EXPIRED;
  if (info) {
    info->tenant = k->app->tenant;
    info->client_id = k->app->client_id;
    info->audience = k->aud;
    info->expires_ms = k->expires_ms;
  }
  return k->aud == aud ? SG_SBX_TOKEN_OK : SG_SBX_TOKEN_WRONG_AUDIENCE;
}

const char *sg_sbx_token_status_message(sg_sbx_token_status s) {
  switch (s) {
  case SG_SBX_TOKEN_OK:
    return NULL;
  case SG_SBX_TOKEN_EXPIRED:
    return "Access token has expired or is not yet valid.";
  case SG_SBX_TOKEN_WRONG_AUDIENCE:
    return "Access token validation failure. Invalid audience.";
  case SG_SBX_TOKEN_UNKNOWN:
    break;
  }
  return "Access token validation failure.";
}
