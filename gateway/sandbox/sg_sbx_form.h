/* SPDX-License-Identifier: Apache-2.0 */
/*
 * application/x-www-form-urlencoded parsing for the sandbox's token endpoint:
 * "a=1&b=x+y%21" into key/value pairs ('+' is a space, %XX a byte). Strict:
 * a bad escape, an escaped NUL or input over the bounds is an error rather
 * than something guessed at. Duplicate keys are kept in order. Pure.
 */
#ifndef SG_SBX_FORM_H
#define SG_SBX_FORM_H

#include <stddef.h>

#include "core/sg_mem.h"

/* Bounds: total input bytes and number of pairs. */
#define SG_SBX_FORM_MAX_BYTES (64 * 1024)
#define SG_SBX_FORM_MAX_PAIRS 64

typedef struct sg_sbx_form_pair {
  char *key; /* decoded, NUL-terminated (no NUL inside) */
  size_t key_len;
  char *value;
  size_t value_len;
} sg_sbx_form_pair;

typedef struct sg_sbx_form {
  sg_sbx_form_pair *pairs;
  size_t n;
} sg_sbx_form;

#define SG_SBX_FORM_INIT                                                                           \
  { NULL, 0 }

/*
 * Parses |n| bytes of |s| into |f| (which must be empty: SG_SBX_FORM_INIT or
 * freed). Empty segments ("a=1&&b=2") are skipped; a segment without '=' is
 * a key with an empty value. On error |f| is left empty.
 * Returns 0 or one of: SG_ERR_PARSE (bad %-escape, %00 or a raw NUL), SG_ERR_TOOBIG (over
 * SG_SBX_FORM_MAX_BYTES or SG_SBX_FORM_MAX_PAIRS).
 */
int sg_sbx_form_parse(sg_sbx_form *f, const char *s, size_t n);
/* Frees every pair; |f| is empty and reusable afterwards. */
void sg_sbx_form_free(sg_sbx_form *f);
/* The value of the first pair named |key|, or NULL (borrowed from |f|). */
const char *sg_sbx_form_get(const sg_sbx_form *f, const char *key);
/* How many pairs are named |key|. */
size_t sg_sbx_form_count(const sg_sbx_form *f, const char *key);
/*
 * Decodes one form component (|n| bytes of |s|) and appends it to |out|.
 * Returns 0 or SG_ERR_PARSE (bad escape, %00 or a raw NUL; |out| may hold partial data).
 */
int sg_sbx_form_decode(sg_buf *out, const char *s, size_t n);

#endif
