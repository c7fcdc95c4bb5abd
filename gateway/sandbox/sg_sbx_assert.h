/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's check of a client assertion (RFC 7523) against the
 * certificate registered on an application, as Entra does it
 * (microsoft-apis.md §3.2): a compact JWT whose header names the certificate
 * by its thumbprint ("x5t#S256": SHA-256, or "x5t": SHA-1) and is signed with
 * its key (PS256 or RS256); aud = the token URL the request went to; iss =
 * sub = the client id; now within [nbf - 5 min, exp); a jti never seen before
 * (a replayed assertion is refused while it could still be valid).
 *
 * Answers, with Entra's AADSTS numbers: 50027 malformed (400
 * invalid_request); 700027 unknown thumbprint, bad signature, or a replayed
 * jti (the last is the sandbox's choice: Entra's number for it is not
 * documented); 50012 wrong audience; 50048 subject and issuer differ from the
 * client id; 700024 outside its valid time range (all 401 invalid_client).
 * Pure apart from OpenSSL: "now" is an argument.
 */
#ifndef SG_SBX_ASSERT_H
#define SG_SBX_ASSERT_H

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#define SG_SBX_ASSERT_SKEW_S 300
#define SG_SBX_JTI_DEFAULT_MAX 100000

/* The jti values seen, kept until their assertion expires (at most |max|:
 * when full, the oldest go first). */
typedef struct sg_sbx_jtis sg_sbx_jtis;
sg_sbx_jtis *sg_sbx_jtis_new(size_t max);
void sg_sbx_jtis_free(sg_sbx_jtis *j);
size_t sg_sbx_jtis_count(const sg_sbx_jtis *j);

/* The verdict; |message| is Entra's wording (without the "AADSTSnnnn: "). */
typedef struct sg_sbx_assert_verdict {
  int aadsts; /* 0: accepted */
  int status; /* 400 or 401 when refused */
  const char *error;
  char message[300];
} sg_sbx_assert_verdict;

/*
 * Checks |jwt| (NUL-terminated, borrowed) for |client_id| against |cert|, for
 * a request to |token_url|, at |now_ms|; an accepted jti is remembered in
 * |seen|. Returns 0 (accepted) or the AADSTS number, with |out| filled.
 */
int sg_sbx_assert_check(sg_sbx_jtis *seen, const char *jwt, X509 *cert, const char *token_url,
                        const char *client_id, int64_t now_ms, sg_sbx_assert_verdict *out);

#endif
