/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's Entra ID: a registry of applications (tenant, client id,
 * client secret) and the tokens issued to them. sg_sbx_tokens_issue answers a
 * client-credentials request (POST /{tenant}/oauth2/v2.0/token) the way Entra
 * does, success and error JSON included; sg_sbx_tokens_validate checks a
 * bearer token presented to the Graph or ACS stand-in.
 *
 * Tokens are opaque: 43 base64url characters of 32 random bytes. The store is
 * a hash table keyed by token, bounded by max_tokens: expired tokens are
 * purged lazily (a few on each issue, all of them when the store is full),
 * and when it is still full the oldest token is dropped. Pure apart from
 * RAND_bytes: "now" (Unix milliseconds) is always an argument.
 */
#ifndef SG_SBX_TOKENS_H
#define SG_SBX_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "core/sg_mem.h"
#include "sandbox/sg_sbx_form.h"

typedef enum {
  SG_SBX_AUD_NONE = 0,
  SG_SBX_AUD_GRAPH = 1,
  SG_SBX_AUD_ACS = 2,
  SG_SBX_AUD_OUTLOOK = 3 /* https://outlook.office365.com: the SMTP stand-in */
} sg_sbx_audience;

/*
 * An access token's length in characters. Entra's app-only access tokens are
 * JWTs of about 1,300 characters (some twenty claims and an RS256 signature),
 * more with many roles; the default is that, so that what a token's size
 * costs (HPACK codes the authorization header in every request, the XOAUTH2
 * line) shows here as it will against Entra. The minimum is 32 random bytes.
 */
#define SG_SBX_TOKEN_MIN 43
#define SG_SBX_TOKEN_MAX 4096
#define SG_SBX_TOKEN_DEFAULT 1300
#define SG_SBX_TOKENS_DEFAULT_MAX 100000

typedef struct sg_sbx_tokens_config {
  /* Graph resource root; scope must be "<root>/.default". NULL: https://graph.microsoft.com */
  const char *graph_root;
  /* Fixed token lifetime in seconds; 0: random 3600..5400 (Entra's 60-90 min). */
  uint32_t lifetime_s;
  /* Bound on stored tokens; 0: SG_SBX_TOKENS_DEFAULT_MAX. */
  size_t max_tokens;
  /* Length of the tokens issued, SG_SBX_TOKEN_MIN..MAX; 0: SG_SBX_TOKEN_DEFAULT. */
  size_t token_len;
} sg_sbx_tokens_config;

typedef struct sg_sbx_tokens sg_sbx_tokens;

/* Creates a store; |cfg| (may be NULL for defaults) is copied. */
sg_sbx_tokens *sg_sbx_tokens_new(const sg_sbx_tokens_config *cfg);
void sg_sbx_tokens_free(sg_sbx_tokens *t);
/* Changes the lifetime of tokens issued from now on (0: random 3600..5400 s). */
void sg_sbx_tokens_set_lifetime(sg_sbx_tokens *t, uint32_t lifetime_s);
/* Changes the length of tokens issued from now on (0: SG_SBX_TOKEN_DEFAULT;
 * clamped to SG_SBX_TOKEN_MIN..MAX). */
void sg_sbx_tokens_set_length(sg_sbx_tokens *t, size_t token_len);

/*
 * Registers application |client_id| in |tenant| (GUID or domain; matched
 * case-insensitively) with |secret|. A NULL |secret| registers a certificate
 * app: until a certificate is registered on it (sg_sbx_tokens_add_cert) it
 * accepts any client_assertion shaped like a JWT (the signature is NOT
 * verified) and refuses secrets. Strings are copied.
 * Returns 0 or one of: SG_ERR_INVAL (empty tenant/client id), SG_ERR_EXISTS.
 */
int sg_sbx_tokens_add_app(sg_sbx_tokens *t, const char *tenant, const char *client_id,
                          const char *secret);

/*
 * Registers certificate |cert| (a reference is taken) on application
 * |client_id| of |tenant|, creating a certificate-only application when there
 * is none: its client assertions are then verified exactly
 * (sandbox/sg_sbx_assert.h). Returns 0 or SG_ERR_INVAL.
 */
int sg_sbx_tokens_add_cert(sg_sbx_tokens *t, const char *tenant, const char *client_id, X509 *cert);

/* One token request. All borrowed. */
typedef struct sg_sbx_token_req {
  const char *tenant;         /* from the path */
  const sg_sbx_form *form;    /* the parsed body */
  const char *authorization;  /* Authorization header value or NULL (HTTP Basic accepted) */
  const char *correlation_id; /* client-request-id header or NULL (a random one is made) */
  const char *token_url;      /* "https://<authority><path>": an assertion's audience */
} sg_sbx_token_req;

/* The answer to write back. Free with sg_sbx_token_resp_free. */
typedef struct sg_sbx_token_resp {
  int status;        /* 200, 400 or 401 */
  sg_buf body;       /* JSON, Content-Type: application/json; charset=utf-8 */
  const char *error; /* NULL on success, else "invalid_client", ... (static) */
  int aadsts;        /* 0 on success, else the AADSTS number */
  /* On success: */
  char *token; /* NUL-terminated, |token_len| characters; NULL on an error */
  size_t token_len;
  sg_sbx_audience audience;
  uint32_t expires_in; /* seconds */
} sg_sbx_token_resp;

/*
 * Issues a token to managed identity |client_id| of |tenant| for |aud| (the
 * identity is registered on first use; it cannot ask with client
 * credentials), with the body the instance metadata service answers:
 * {"access_token","client_id","expires_in" (a string),"expires_on",
 * "ext_expires_in","not_before","resource","token_type"}.
 */
void sg_sbx_tokens_issue_identity(sg_sbx_tokens *t, const char *tenant, const char *client_id,
                                  sg_sbx_audience aud, const char *resource, int64_t now_ms,
                                  sg_sbx_token_resp *out);

/*
 * Answers a client-credentials request. Checks, in order: tenant known
 * ("common"/"consumers": 400 AADSTS9001023; unknown: 400 invalid_request
 * 90002), grant_type (missing: 400 invalid_request 900144; other than
 * client_credentials: 400 unsupported_grant_type 70003), client_id (missing:
 * 400 invalid_request 900144; unknown in that tenant, or differing between
 * Basic and body: 400 unauthorized_client 700016), a credential present
 * (400 invalid_request 7000218), secret right (401 invalid_client 7000215;
 * assertion refused: 401 invalid_client 700027, or with a registered
 * certificate what sg_sbx_assert_check says), scope exactly one
 * "<graph root>/.default", "https://communication.azure.com//.default",
 * "https://communication.azure.com/.default" or
 * "https://outlook.office365.com/.default" (else 400 invalid_scope 70011).
 * |now_ms| is Unix milliseconds (expiry and the error timestamp).
 * |out| is always filled (free it even when the answer is an error).
 */
void sg_sbx_tokens_issue(sg_sbx_tokens *t, const sg_sbx_token_req *req, int64_t now_ms,
                         sg_sbx_token_resp *out);
void sg_sbx_token_resp_free(sg_sbx_token_resp *r);

typedef enum {
  SG_SBX_TOKEN_OK = 0,
  SG_SBX_TOKEN_UNKNOWN,       /* never issued, purged, or malformed */
  SG_SBX_TOKEN_EXPIRED,       /* issued, past its expiry */
  SG_SBX_TOKEN_WRONG_AUDIENCE /* valid, but for the other resource */
} sg_sbx_token_status;

/* What a valid token stands for (borrowed from the store until the next call). */
typedef struct sg_sbx_token_info {
  const char *tenant;
  const char *client_id;
  sg_sbx_audience audience;
  int64_t expires_ms;
} sg_sbx_token_info;

/*
 * Checks |bearer| (|len| bytes; the part after "Bearer ") for |aud| at
 * |now_ms|. |info| (may be NULL) is filled for OK and WRONG_AUDIENCE.
 * An expired token keeps answering EXPIRED until a purge drops it (UNKNOWN).
 */
sg_sbx_token_status sg_sbx_tokens_validate(sg_sbx_tokens *t, const char *bearer, size_t len,
                                           sg_sbx_audience aud, int64_t now_ms,
                                           sg_sbx_token_info *info);

/*
 * The Graph 401 InvalidAuthenticationToken message for |s|: "Access token has
 * expired or is not yet valid." (EXPIRED), "Access token validation failure.
 * Invalid audience." (WRONG_AUDIENCE), "Access token validation failure."
 * (UNKNOWN); NULL for OK.
 */
const char *sg_sbx_token_status_message(sg_sbx_token_status s);

/* Number of tokens stored (expired ones not yet purged included). */
size_t sg_sbx_tokens_count(const sg_sbx_tokens *t);

#endif
