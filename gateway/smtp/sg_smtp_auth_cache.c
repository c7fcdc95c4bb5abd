/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cache of successful checks; see sg_smtp_auth_cache.h. A flat array
 * searched linearly: it holds at most a few thousand 40-byte entries, and a
 * look-up happens once per AUTH command, so a scan of it costs microseconds.
 */
#include "smtp/sg_smtp_auth_cache.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

#include "core/sg_mem.h"

typedef struct entry {
  uint8_t mac[SG_SMTP_AUTH_MAC_LEN];
  uint64_t expires_ms;
} entry;

struct sg_smtp_auth_cache {
  uint8_t key[32];
  uint32_t ttl_ms;
  size_t max, n;
  entry *v;
};

sg_smtp_auth_cache *sg_smtp_auth_cache_new(size_t max, uint32_t ttl_ms) {
  sg_smtp_auth_cache *c = sg_xcalloc(1, sizeof *c);
  if (RAND_bytes(c->key, sizeof c->key) != 1) {
    /* No CSPRNG: a cache keyed by a guessable key would still not hold the
     * password, but the entries would become offline-guessable; keep it empty. */
    c->max = 0;
  } else {
    c->max = max ? max : 1;
  }
  c->ttl_ms = ttl_ms;
  c->v = sg_xcalloc(c->max ? c->max : 1, sizeof *c->v);
  return c;
}

void sg_smtp_auth_cache_del(sg_smtp_auth_cache *c) {
  if (c == NULL)
    return;
  OPENSSL_cleanse(c->key, sizeof c->key);
  OPENSSL_cleanse(c->v, (c->max ? c->max : 1) * sizeof *c->v);
  sg_free(c->v);
  sg_free(c);
}

void sg_smtp_auth_cache_mac(const sg_smtp_auth_cache *c, const char *name, const char *pw,
                            size_t plen, uint8_t mac[SG_SMTP_AUTH_MAC_LEN]) {
  /* The name's length first, so no (name, password) pair runs into another. */
  size_t nl = strlen(name);
  size_t total = 8 + nl + plen;
  uint8_t *msg = sg_xmalloc(total);
  for (int i = 0; i < 8; i++)
    msg[i] = (uint8_t)((uint64_t)nl >> (8 * i));
  memcpy(msg + 8, name, nl);
  memcpy(msg + 8 + nl, pw, plen);
  unsigned int len = SG_SMTP_AUTH_MAC_LEN;
  if (HMAC(EVP_sha256(), c->key, sizeof c->key, msg, total, mac, &len) == NULL)
    memset(mac, 0, SG_SMTP_AUTH_MAC_LEN); /* put/hit refuse an all-zero mac */
  OPENSSL_cleanse(msg, total);
  sg_free(msg);
}

static bool zero(const uint8_t *mac) {
  uint8_t acc = 0;
  for (size_t i = 0; i < SG_SMTP_AUTH_MAC_LEN; i++)
    acc |= mac[i];
  return acc == 0;
}

bool sg_smtp_auth_cache_hit(const sg_smtp_auth_cache *c, const uint8_t *mac, uint64_t now_ms) {
  if (zero(mac))
    return false;
  for (size_t i = 0; i < c->n; i++)
    if (c->v[i].expires_ms > now_ms && CRYPTO_memcmp(c->v[i].mac, mac, SG_SMTP_AUTH_MAC_LEN) == 0)
      return true;
  return false;
}

void sg_smtp_auth_cache_put(sg_smtp_auth_cache *c, const uint8_t *mac, uint64_t now_ms) {
  if (c->max == 0 || c->ttl_ms == 0 || zero(mac))
    return;
  size_t slot = c->n, oldest = 0;
  for (size_t i = 0; i < c->n; i++) {
    if (memcmp(c->v[i].mac, mac, SG_SMTP_AUTH_MAC_LEN) == 0 || c->v[i].expires_ms <= now_ms) {
      slot = i; /* the same entry again, or an expired one */
      break;
    }
    if (c->v[i].expires_ms < c->v[oldest].expires_ms)
      oldest = i;
  }
  if (slot == c->n) {
    if (c->n < c->max)
      c->n++;
    else
      slot = oldest;
  }
  memcpy(c->v[slot].mac, mac, SG_SMTP_AUTH_MAC_LEN);
  c->v[slot].expires_ms = now_ms + c->ttl_ms;
}

void sg_smtp_auth_cache_clear(sg_smtp_auth_cache *c) {
  OPENSSL_cleanse(c->v, (c->max ? c->max : 1) * sizeof *c->v);
  c->n = 0;
}

size_t sg_smtp_auth_cache_size(const sg_smtp_auth_cache *c) {
  return c->n;
}
