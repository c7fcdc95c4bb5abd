/* SPDX-License-Identifier: Apache-2.0 */
/* yescrypt hashing and constant-time verification; see sg_smtp_passwd.h. */
#include "smtp/sg_smtp_passwd.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"

/* libxcrypt's default yescrypt cost (0 = its default, "j9T"): about 25 ms on
 * the 2-core test machine, the cost Debian's passwd uses. */
#define YESCRYPT_COST 0

static bool usable(const char *pw, size_t n) {
  return n > 0 && n <= SG_SMTP_PASSWD_MAX && memchr(pw, '\0', n) == NULL;
}

/* crypt_rn into a heap crypt_data (32 KB, too big for a worker's stack
 * budget), the result copied to |out|; the scratch is wiped. */
static int run_crypt(const char *pw, size_t n, const char *setting, char *out, size_t cap) {
  char phrase[SG_SMTP_PASSWD_MAX + 1];
  memcpy(phrase, pw, n);
  phrase[n] = '\0';
  struct crypt_data *cd = sg_xcalloc(1, sizeof *cd);
  const char *h = crypt_rn(phrase, setting, cd, (int)sizeof *cd);
  int rv = SG_ERR_CRYPTO;
  if (h != NULL && h[0] != '*' && strlen(h) < cap) {
    memcpy(out, h, strlen(h) + 1);
    rv = 0;
  }
  OPENSSL_cleanse(phrase, sizeof phrase);
  OPENSSL_cleanse(cd, sizeof *cd);
  sg_free(cd);
  return rv;
}

int sg_smtp_passwd_hash(const char *pw, size_t n, char *out, size_t cap) {
  if (!usable(pw, n))
    return SG_ERR_INVAL;
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  /* NULL random bytes: libcrypt takes them from getrandom(2). */
  if (crypt_gensalt_rn("$y$", YESCRYPT_COST, NULL, 0, setting, sizeof setting) == NULL)
    return SG_ERR_CRYPTO;
  return run_crypt(pw, n, setting, out, cap);
}

int sg_smtp_passwd_dummy(char *out, size_t cap) {
  if (crypt_gensalt_rn("$y$", YESCRYPT_COST, NULL, 0, out, (int)cap) == NULL)
    return SG_ERR_CRYPTO;
  return 0;
}

bool sg_smtp_passwd_verify(const char *pw, size_t n, const char *hash) {
  if (!usable(pw, n) || hash == NULL || hash[0] != '$')
    return false;
  char got[CRYPT_OUTPUT_SIZE];
  if (run_crypt(pw, n, hash, got, sizeof got) != 0)
    return false;
  size_t hl = strlen(hash);
  bool same = strlen(got) == hl && CRYPTO_memcmp(got, hash, hl) == 0;
  OPENSSL_cleanse(got, sizeof got);
  return same;
}
