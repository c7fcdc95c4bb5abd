/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON writing straight into an sg_buf: strings with every character escaped
 * as RFC 8259 requires. Structure (braces, commas) is the caller's; this file
 * only makes values safe. Invalid UTF-8 is written as U+FFFD, so the output is
 * always valid JSON whatever the input bytes.
 */
#ifndef SG_JSON_WRITE_H
#define SG_JSON_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"

/* Appends |s| (|n| bytes) as a quoted, escaped JSON string. */
void sg_jw_str(sg_buf *b, const char *s, size_t n);
/* Same for a NUL-terminated string; NULL writes "". */
void sg_jw_cstr(sg_buf *b, const char *s);
/* Appends the escaped contents of |s| without the quotes. */
void sg_jw_escape(sg_buf *b, const char *s, size_t n);
/* Appends "key": for a key the caller knows needs no escaping. */
void sg_jw_key(sg_buf *b, const char *key);
void sg_jw_int(sg_buf *b, int64_t v);
void sg_jw_bool(sg_buf *b, bool v);

/*
 * Object members, for documents written member by member: each appends
 * ,"key":value, leaving the comma out right after '{' or '[' (so the first
 * member of an object needs no special case). |key| needs no escaping.
 */
void sg_jw_member(sg_buf *b, const char *key);
/* "key":"value"; NULL writes null. */
void sg_jw_mstr(sg_buf *b, const char *key, const char *v);
void sg_jw_mint(sg_buf *b, const char *key, int64_t v);
void sg_jw_mbool(sg_buf *b, const char *key, bool v);
/* "key":null */
void sg_jw_mnull(sg_buf *b, const char *key);
/*
 * A time given in Unix ms, twice: "key":"<RFC 3339>","key_ms":N, or both
 * null when |unix_ms| is 0 ("none"). |key| at most 60 bytes.
 */
void sg_jw_mtime(sg_buf *b, const char *key, int64_t unix_ms);

/* Number of bytes sg_jw_escape writes for |s| (|n| bytes), for exact size
 * estimates made without writing. */
size_t sg_jw_escaped_len(const char *s, size_t n);

#endif
