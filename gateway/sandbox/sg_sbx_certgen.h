/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Certificate generation for local use: a private CA and server leaf
 * certificates signed by it (EC P-256 keys, X.509 v3, ECDSA-SHA256). The
 * sandbox makes its CA on first start and tests make one per run, so no private
 * key is ever committed. Not meant for production certificates: no revocation,
 * fixed ~2 year validity.
 *
 * Files written by sg_sbx_certgen_write into |dir|:
 *   ca.pem          the CA certificate (give it to clients as extra trust)
 *   ca-key.pem      the CA private key (mode 0600)
 *   server.pem      the leaf certificate followed by the CA certificate
 *   server-key.pem  the leaf private key (mode 0600)
 * Each file is written to a temporary name and renamed into place.
 */
#ifndef SG_SBX_CERTGEN_H
#define SG_SBX_CERTGEN_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Names used when the caller passes none: "localhost", "127.0.0.1", "::1".
 */
extern const char *const sg_sbx_certgen_default_names[];
extern const size_t sg_sbx_certgen_default_names_len;

/*
 * Makes a new CA and a server leaf for |names| (DNS names and IPv4/IPv6
 * literals, |n_names| of them; NULL/0 for the defaults) and writes the four
 * files above into |dir|, creating it (mode 0700) if missing and replacing
 * existing files. Strings are borrowed.
 * Returns 0 or one of: SG_ERR_INVAL (empty or malformed name, too many names),
 * SG_ERR_IO (directory or file could not be written), SG_ERR_CRYPTO.
 */
int sg_sbx_certgen_write(const char *dir, const char *const *names, size_t n_names);

/*
 * Like sg_sbx_certgen_write, but does nothing when all four files already exist
 * in |dir|. Sets *created (may be NULL) to whether files were written.
 * Returns 0 or one of the codes of sg_sbx_certgen_write.
 */
int sg_sbx_certgen_ensure(const char *dir, const char *const *names, size_t n_names, bool *created);

/*
 * Makes a server leaf for |names| (as above) signed by the CA in the PEM files
 * |ca_cert_file| and |ca_key_file|, and writes the chain (leaf then CA) to
 * |cert_out| and the key (mode 0600) to |key_out|. All strings are borrowed.
 * Returns 0 or one of: SG_ERR_INVAL, SG_ERR_CONFIG (CA files unreadable or
 * the key does not match), SG_ERR_IO, SG_ERR_CRYPTO.
 */
int sg_sbx_certgen_leaf(const char *ca_cert_file, const char *ca_key_file, const char *const *names,
                        size_t n_names, const char *cert_out, const char *key_out);

#endif
