/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Entra ID client-credentials token requests (microsoft-apis.md §3): the
 * request path and form body, and parsing of the success response. Pure: the
 * HTTP call is the glue's, error responses are classified by
 * sg_classify_entra() (svc/sg_classify.h), caching is svc/sg_token_cache.
 * Client assertions (§3.2) are made by svc/sg_cred (certificates, workload
 * identity token files); this file only puts one in the form body.
 */
#ifndef SG_ENTRA_H
#define SG_ENTRA_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"

#define SG_ENTRA_CONTENT_TYPE "application/x-www-form-urlencoded"

/* Responses above this are not parsed (a token response is a few KB). */
#define SG_ENTRA_MAX_RESPONSE_BYTES (64u * 1024u)
/* Access tokens above this are refused (app-only tokens are 1-3 KB). */
#define SG_ENTRA_MAX_TOKEN_BYTES (16u * 1024u)
/* expires_in above this is clamped (CAE tokens live up to 28 h). */
#define SG_ENTRA_MAX_EXPIRES_S (7 * 24 * 3600)

typedef struct sg_entra_token {
  char *access_token; /* owned, NUL-terminated, visible ASCII only */
  size_t access_token_len;
  int64_t expires_in_s; /* > 0; count it from the local receive time */
} sg_entra_token;

/*
 * Appends "/{tenant}/oauth2/v2.0/token" to |out| (|tenant| borrowed,
 * percent-encoded). App-only flows must not use the multi-tenant aliases, so
 * "common", "consumers" and "organizations" are refused (AADSTS9001023).
 * Returns 0 or one of: SG_ERR_INVAL (NULL/empty tenant or an alias).
 */
int sg_entra_token_path(sg_buf *out, const char *tenant);

/*
 * Appends the form body
 * "grant_type=client_credentials&client_id=..&client_secret=..&scope=.." to
 * |out|, every value percent-encoded (all but RFC 3986 unreserved
 * characters). All strings are borrowed. The body holds the secret: the
 * caller must not log it and should wipe the buffer after use.
 * Returns 0 or one of: SG_ERR_INVAL (a NULL or empty argument).
 */
int sg_entra_token_body(sg_buf *out, const char *client_id, const char *client_secret,
                        const char *scope);

#define SG_ENTRA_ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

/*
 * The same form body with a client assertion instead of a secret:
 * "grant_type=client_credentials&client_id=..&client_assertion_type=urn..
 * jwt-bearer&client_assertion=<jwt>&scope=..". |assertion| (|assertion_len|
 * bytes, borrowed) must be a compact JWT (base64url and dots: sent as is).
 * Returns 0 or SG_ERR_INVAL (a NULL or empty argument).
 */
int sg_entra_token_body_assertion(sg_buf *out, const char *client_id, const char *assertion,
                                  size_t assertion_len, const char *scope);

/*
 * Parses a successful token response
 * {"token_type":"Bearer","expires_in":3599,"access_token":"eyJ..."} (|body|
 * borrowed). expires_in may be a number or a digit string; a token_type
 * other than Bearer is refused. On success fills |*out|, which the caller
 * releases with sg_entra_token_free(); on failure |*out| is left empty.
 * Returns 0 or one of: SG_ERR_TOOBIG (body or token over the caps),
 * SG_ERR_PARSE (not JSON, fields missing, wrong types, a token with
 * characters not allowed in a header, expires_in <= 0), SG_ERR_INVAL.
 */
int sg_entra_parse_token(const char *body, size_t len, sg_entra_token *out);

/* Wipes and frees the token inside |t| (not |t| itself); safe on an empty one. */
void sg_entra_token_free(sg_entra_token *t);

#endif
