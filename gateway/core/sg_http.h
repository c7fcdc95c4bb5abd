/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP types shared by the client pool and the server: a header is a
 * name/value pair of borrowed byte ranges (names lower case, as HTTP/2 has them).
 */
#ifndef SG_HTTP_H
#define SG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

typedef struct sg_http_header {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
} sg_http_header;

/* Builds a header from two NUL-terminated strings. */
static inline sg_http_header sg_http_hdr(const char *name, const char *value) {
  sg_http_header h = {name, strlen(name), value, strlen(value)};
  return h;
}

/* Finds header |name| (case-insensitive) in |h|; returns NULL when absent. */
static inline const sg_http_header *sg_http_find(const sg_http_header *h, size_t n,
                                                 const char *name) {
  size_t len = strlen(name);
  for (size_t i = 0; i < n; i++)
    if (h[i].name_len == len && strncasecmp(h[i].name, name, len) == 0)
      return &h[i];
  return NULL;
}

#endif
