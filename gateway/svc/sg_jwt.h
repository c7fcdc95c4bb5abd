/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Client assertion JWTs (RFC 7523, microsoft-apis.md §3.2): signing one with
 * an application certificate's RSA key, and the parts a verifier needs
 * (splitting, checking the signature). Only what Entra takes: PS256 with the
 * certificate's SHA-256 thumbprint in "x5t#S256" (the current documentation)
 * or RS256 with its SHA-1 thumbprint in "x5t" (the older one). Compact
 * serialisation, base64url without padding. No I/O: keys and certificates are
 * the caller's (svc/sg_cred.c loads them).
 */
#ifndef SG_JWT_H
#define SG_JWT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"

typedef enum { SG_JWT_PS256 = 0, SG_JWT_RS256 = 1 } sg_jwt_alg;

/* Longest thumbprint, base64url of a SHA-256 digest (43) plus NUL. */
#define SG_JWT_THUMB_MAX 48
/* Assertions longer than this are refused by verifiers (a few KB in practice). */
#define SG_JWT_MAX_BYTES (16u * 1024u)

/* "ps256" / "rs256" (any case) -> |*out|. Returns 0 or SG_ERR_INVAL. */
int sg_jwt_alg_parse(const char *s, sg_jwt_alg *out);
const char *sg_jwt_alg_name(sg_jwt_alg alg); /* "PS256", "RS256" */

/* The header member naming the certificate for |alg|: "x5t#S256" or "x5t". */
const char *sg_jwt_thumb_member(sg_jwt_alg alg);

/* Base64url (no padding) of the DER certificate's SHA-256 (|sha256|) or SHA-1
 * digest into |out|. Returns 0 or SG_ERR_INVAL. */
int sg_jwt_thumbprint(const X509 *cert, bool sha256, char out[SG_JWT_THUMB_MAX]);

typedef struct sg_jwt_claims {
  const char *aud; /* the token endpoint URL */
  const char *iss; /* = sub = client id */
  const char *sub;
  const char *jti;       /* unique per assertion (a GUID) */
  int64_t nbf, iat, exp; /* Unix seconds */
} sg_jwt_claims;

/*
 * Appends a signed compact JWT to |out|: header {"alg","typ":"JWT",<thumb
 * member>:<thumb>}, the claims, the signature with |key| (RSA; PS256: PSS,
 * MGF1-SHA-256, salt of the digest length, as RFC 7518 §3.5 requires).
 * Returns 0 or one of: SG_ERR_INVAL (not an RSA key, missing claims),
 * SG_ERR_CRYPTO (OpenSSL refused to sign).
 */
int sg_jwt_sign(sg_buf *out, sg_jwt_alg alg, const char *thumb, const sg_jwt_claims *c,
                EVP_PKEY *key);

/* A compact JWT split into its parts (pointers into the text, borrowed). */
typedef struct sg_jwt_parts {
  const char *header_b64, *claims_b64, *sig_b64;
  size_t header_len, claims_len, sig_len;
  size_t signed_len; /* header "." claims: the bytes the signature covers */
} sg_jwt_parts;

/* Splits |jwt|; each part non-empty base64url. Returns 0 or SG_ERR_PARSE. */
int sg_jwt_split(const char *jwt, size_t len, sg_jwt_parts *out);

/* Decodes one base64url part (no padding) into |out|. Returns 0 or SG_ERR_PARSE. */
int sg_jwt_b64url_decode(sg_buf *out, const char *s, size_t n);

/* Whether the signature of |p| verifies with |pub| for |alg|. */
bool sg_jwt_verify(const sg_jwt_parts *p, sg_jwt_alg alg, EVP_PKEY *pub);

/* A fresh random GUID (version 4, lower case) into |out|. */
void sg_jwt_guid(char out[37]);

#endif
