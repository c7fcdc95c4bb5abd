/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RESP request writer: commands as arrays of bulk strings, written straight
 * into a buffer (no per-argument allocation, no format strings). Pure.
 *
 *   sg_resp_array(b, 3);             -> "*3\r\n"
 *   sg_resp_bulk(b, "GET", 3);       -> "$3\r\nGET\r\n"
 *   sg_resp_bulk_u64(b, 42);         -> "$2\r\n42\r\n"
 *
 * A command is complete once as many bulk strings as its array header says
 * have been written; the caller keeps that count (sg_resp_bulk_size tells how
 * many bytes one argument takes, for sizing a buffer first).
 */
#ifndef SG_RESP_H
#define SG_RESP_H

#include "core/sg_mem.h"

#include <stddef.h>
#include <stdint.h>

/* Bytes sg_resp_bulk writes for an argument of |n| bytes. */
size_t sg_resp_bulk_size(size_t n);

/* "*<n>\r\n" */
void sg_resp_array(sg_buf *b, size_t n);

/* "$<n>\r\n<p[0..n)>\r\n" (binary-safe) */
void sg_resp_bulk(sg_buf *b, const void *p, size_t n);

/* A decimal number as a bulk string. */
void sg_resp_bulk_u64(sg_buf *b, uint64_t v);

/* The commands that open and close a transaction (sg_rd_client_multi). */
#define SG_RESP_MULTI "*1\r\n$5\r\nMULTI\r\n"
#define SG_RESP_EXEC "*1\r\n$4\r\nEXEC\r\n"

#endif
