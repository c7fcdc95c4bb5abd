/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Password hashing for SMTP users: yescrypt through libcrypt (libxcrypt),
 * with a random salt from the kernel, and verification that compares the
 * recomputed hash in constant time. Slow by design (tens of milliseconds):
 * call it from the command line or from a worker thread, never on the loop.
 * Thread-safe (crypt_rn with a per-call buffer, wiped afterwards).
 */
#ifndef SG_SMTP_PASSWD_H
#define SG_SMTP_PASSWD_H

#include <stdbool.h>
#include <stddef.h>

/* Longest password taken (libcrypt's CRYPT_MAX_PASSPHRASE_SIZE less the NUL). */
#define SG_SMTP_PASSWD_MAX 511
/* Room for any hash sg_smtp_passwd_hash writes. */
#define SG_SMTP_PASSWD_HASH_CAP 384

/*
 * Hashes |pw| (|n| bytes, 1..SG_SMTP_PASSWD_MAX, no NUL byte) with yescrypt
 * and a fresh random salt into |out| (|cap| >= SG_SMTP_PASSWD_HASH_CAP).
 * Returns 0, SG_ERR_INVAL (empty, too long, NUL byte) or SG_ERR_CRYPTO.
 */
int sg_smtp_passwd_hash(const char *pw, size_t n, char *out, size_t cap);

/*
 * True when |pw| (|n| bytes) hashes to |hash| (a crypt(3) string). False for
 * an empty, over-long or NUL-holding password and for an unusable hash.
 * With a salt setting instead of a hash ("$y$j9T$<salt>"), it does the same
 * work and returns false: the dummy check for unknown users.
 */
bool sg_smtp_passwd_verify(const char *pw, size_t n, const char *hash);

/*
 * Writes a yescrypt setting with a random salt into |out| (|cap| bytes), to
 * give sg_smtp_passwd_verify for a user that does not exist, so that "no such
 * user" costs as long as "wrong password". Returns 0 or SG_ERR_CRYPTO.
 */
int sg_smtp_passwd_dummy(char *out, size_t cap);

#endif
