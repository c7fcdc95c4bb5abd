/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UTF-8 validation (RFC 3629): the one validator of the code base, used by
 * the job codec, the JSON writer and parser, and the classifiers. Rejects
 * overlong forms, surrogates and code points above U+10FFFF. Pure.
 */
#ifndef SG_UTF8_H
#define SG_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1 to 4) of the valid UTF-8 sequence at |p| (at most |n| bytes, n >= 1), or 0. */
size_t sg_utf8_seq(const unsigned char *p, size_t n);

/* Returns true when |s| (|n| bytes) is valid UTF-8 (no overlongs, no surrogates). */
bool sg_utf8_valid(const char *s, size_t n);

#endif
