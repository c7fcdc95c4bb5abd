/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redis:// URLs as the gateway reads SENDGATE_REDIS_URL, and random job ids.
 * Not here: rediss:// (TLS to Redis), which this library does not speak yet.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "sgc_int.h"

/* A decimal number in [0, max] spanning all of |s|, or -1. */
static int number(const char *s, int max) {
  if (*s == '\0')
    return -1;
  long v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return -1;
    v = v * 10 + (*s - '0');
    if (v > max)
      return -1;
  }
  return (int)v;
}

int sgc_url_parse(const char *url, sgc_url *out) {
  static const char scheme[] = "redis://";
  memset(out, 0, sizeof *out);
  out->port = 6379;
  if (url == NULL || strncmp(url, scheme, sizeof scheme - 1) != 0 || strlen(url) >= sizeof out->buf)
    return SGC_ERR_ARG;
  char *p = strcpy(out->buf, url + sizeof scheme - 1);
  char *slash = strchr(p, '/');
  if (slash) {
    *slash = '\0';
    if (slash[1] && (out->db = number(slash + 1, 1 << 20)) < 0)
      return SGC_ERR_ARG;
  }
  char *at = strrchr(p, '@');
  if (at) {
    *at = '\0';
    char *colon = strchr(p, ':');
    if (colon) {
      *colon = '\0';
      out->password = colon + 1;
    }
    out->user = *p ? p : NULL;
    p = at + 1;
  }
  if (*p == '[') { /* [IPv6]:port */
    char *end = strchr(p, ']');
    if (end == NULL)
      return SGC_ERR_ARG;
    *end = '\0';
    out->host = p + 1;
    p = end + 1;
    if (*p == ':' && (out->port = number(p + 1, 65535)) <= 0)
      return SGC_ERR_ARG;
    return *p == '\0' || *p == ':' ? 0 : SGC_ERR_ARG;
  }
  char *colon = strrchr(p, ':');
  if (colon) {
    *colon = '\0';
    if ((out->port = number(colon + 1, 65535)) <= 0)
      return SGC_ERR_ARG;
  }
  out->host = *p ? p : "127.0.0.1";
  return 0;
}

void sgc_random_id(char out[40]) {
  unsigned char r[16];
  if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
    /* No entropy source: time and address bits still make a collision unlikely. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long x = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)ts.tv_sec << 30) ^
                           (unsigned long long)(size_t)out;
    for (size_t i = 0; i < sizeof r; i++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
      r[i] = (unsigned char)(x >> 56);
  }
  char *p = out + sprintf(out, "c-");
  for (size_t i = 0; i < sizeof r; i++)
    p += sprintf(p, "%02x", r[i]);
}
