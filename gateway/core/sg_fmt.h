/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Number and string formatting for the per-message paths, where snprintf's
 * format parsing showed up in the profile (several thousand instructions a
 * message). Each writes a NUL after what it wrote and returns the length.
 */
#ifndef SG_FMT_H
#define SG_FMT_H

#include <stddef.h>
#include <stdint.h>

#define SG_FMT_U64_MAX 21 /* 20 digits and NUL */

/* |v| in decimal into |out| (at least SG_FMT_U64_MAX bytes). */
size_t sg_fmt_u64(char *out, uint64_t v);
/* |v| in decimal, '-' first when negative, into |out| (at least 21 bytes). */
size_t sg_fmt_i64(char *out, int64_t v);
/* The low |digits| (1..16) hex digits of |v|, lower case, zero-padded. */
size_t sg_fmt_hex(char *out, uint64_t v, unsigned digits);
/* Copies |src| into |dst| of |cap| bytes (cap >= 1), cut at cap - 1 bytes. */
size_t sg_fmt_copy(char *dst, size_t cap, const char *src);
/*
 * Copies |n| bytes of UTF-8 text |src| into |dst| of |cap| bytes (cap >= 1,
 * NUL included), cutting at a character boundary when it does not fit and
 * turning control characters (NUL and DEL included) into spaces, so the copy
 * of a peer's string is safe in logs and results.
 */
size_t sg_fmt_copy_utf8(char *dst, size_t cap, const char *src, size_t n);
/*
 * Copies |n| bytes of |src| into |dst| of |cap| bytes (cap >= 1), cut at
 * cap - 1, with every byte that is not visible ASCII (0x20..0x7e) turned into
 * '?' (for header values, which may hold any bytes).
 */
size_t sg_fmt_copy_ascii(char *dst, size_t cap, const char *src, size_t n);
/* A random-looking version 4 GUID (8-4-4-4-12 lower-case hex) from two
 * 64-bit random values, into |out| (37 bytes). */
size_t sg_fmt_guid(char out[37], uint64_t x, uint64_t y);

#endif
