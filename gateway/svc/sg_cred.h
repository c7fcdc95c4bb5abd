/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An application's credential for Entra token requests, one of:
 *  - a client secret;
 *  - a certificate (client_certificate_file: PEM with the private key and
 *    the certificate chain, the key optionally encrypted): every token
 *    request carries a fresh client assertion JWT signed with the key
 *    (svc/sg_jwt: PS256 with x5t#S256, or RS256 with x5t), aud = the token
 *    URL, iss = sub = client id, nbf = iat = now, exp = now + 10 minutes,
 *    a random jti;
 *  - an assertion file kept fresh by the platform (workload identity
 *    federation: AKS writes AZURE_FEDERATED_TOKEN_FILE), read again for
 *    every token request;
 *  - a managed identity (system-assigned, or user-assigned by client id): no
 *    Entra request at all; tokens come from the instance metadata service
 *    (GET http://169.254.169.254/metadata/identity/oauth2/token with
 *    "Metadata: true", api-version 2018-02-01) or, where IDENTITY_ENDPOINT
 *    and IDENTITY_HEADER are set (App Service, Functions, Container Apps),
 *    from that endpoint (api-version 2019-08-01, "X-IDENTITY-HEADER"). Both
 *    are plain HTTP/1.1 (net/sg_h1_get); the resource is the scope without
 *    "/.default".
 * Loading reads the files named (at start, so a bad certificate or password
 * stops the gateway with a clear message); building a body reads the
 * assertion file. Neither logs a secret.
 */
#ifndef SG_CRED_H
#define SG_CRED_H

#include <stddef.h>
#include <stdint.h>

#include "conf/sg_config.h"
#include "core/sg_http.h"
#include "core/sg_mem.h"

typedef enum {
  SG_CRED_SECRET,
  SG_CRED_CERTIFICATE,
  SG_CRED_ASSERTION_FILE,
  SG_CRED_MANAGED_IDENTITY
} sg_cred_kind;

/* Where a managed identity's tokens come from, and how to ask. */
typedef struct sg_cred_mi_req {
  char host[256];
  uint16_t port;
  sg_buf target;         /* path and query */
  sg_http_header header; /* Metadata: true, or X-IDENTITY-HEADER: <secret> */
} sg_cred_mi_req;

/* Assertion files over this are refused (a federated token is a few KB). */
#define SG_CRED_ASSERTION_FILE_MAX (64u * 1024u)
/* Lifetime of the assertions we sign. */
#define SG_CRED_ASSERTION_LIFETIME_S 600

typedef struct sg_cred sg_cred;

/*
 * The credential of |acct| (borrowed for the credential's life): the
 * certificate is loaded and checked (its key must be RSA and match it).
 * Returns 0, or SG_ERR_CONFIG with a one-line reason in |err|.
 */
int sg_cred_new(sg_cred **out, const sg_account *acct, char *err, size_t errcap);
void sg_cred_free(sg_cred *c);
sg_cred_kind sg_cred_kind_of(const sg_cred *c);
/* "secret", "certificate", "assertion_file" (logs, metrics). */
const char *sg_cred_kind_name(sg_cred_kind k);

/*
 * Appends the form body of a token request for |scope| to |out|, the
 * assertion (if any) made for the token endpoint |token_url| at |now_s|.
 * The body holds a secret or an assertion: the caller must not log it and
 * should wipe it. Returns 0, or SG_ERR_IO / SG_ERR_TOOBIG / SG_ERR_PARSE /
 * SG_ERR_CRYPTO / SG_ERR_INVAL with a one-line reason in |err|.
 */
int sg_cred_token_body(const sg_cred *c, sg_buf *out, const char *token_url, const char *scope,
                       int64_t now_s, char *err, size_t errcap);

/*
 * The token request of a managed identity for |scope| into |out| (free its
 * target with sg_buf_free; the header borrows from |c|). Returns 0 or
 * SG_ERR_INVAL (not a managed identity, or an empty scope).
 */
int sg_cred_mi_request(const sg_cred *c, const char *scope, sg_cred_mi_req *out);

#endif
