/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cache of successful SMTP AUTH checks. An entry is an HMAC-SHA256, under
 * a random key made for this process, of the user name and the password, and
 * an expiry: the password is never kept, and the entries are useless outside
 * this process. Bounded (|max| entries; when full, expired ones go first, then
 * the one closest to expiry). Pure apart from the random key: "now" is an
 * argument.
 */
#ifndef SG_SMTP_AUTH_CACHE_H
#define SG_SMTP_AUTH_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SG_SMTP_AUTH_MAC_LEN 32

typedef struct sg_smtp_auth_cache sg_smtp_auth_cache;

/* A cache of at most |max| (>= 1) entries living |ttl_ms| each. */
sg_smtp_auth_cache *sg_smtp_auth_cache_new(size_t max, uint32_t ttl_ms);
void sg_smtp_auth_cache_del(sg_smtp_auth_cache *c);

/* The keyed hash of |name| and |pw| (|plen| bytes) into |mac|. */
void sg_smtp_auth_cache_mac(const sg_smtp_auth_cache *c, const char *name, const char *pw,
                            size_t plen, uint8_t mac[SG_SMTP_AUTH_MAC_LEN]);

/* True when |mac| was put less than ttl_ms before |now_ms|. */
bool sg_smtp_auth_cache_hit(const sg_smtp_auth_cache *c, const uint8_t *mac, uint64_t now_ms);

/* Remembers |mac| (a successful check) from |now_ms|. */
void sg_smtp_auth_cache_put(sg_smtp_auth_cache *c, const uint8_t *mac, uint64_t now_ms);

/* Forgets everything (the users file changed). */
void sg_smtp_auth_cache_clear(sg_smtp_auth_cache *c);

/* Entries held now (expired ones included until they are replaced). */
size_t sg_smtp_auth_cache_size(const sg_smtp_auth_cache *c);

#endif
