/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the Redis URL parser (redis/sg_rd_url.c).
 *
 * Input: the URL text (cut at the first NUL).
 * Checked: an error leaves the result zeroed; a parsed URL has every field
 * NUL-terminated within its cap, a port, a db >= 0, a unix path that starts
 * with '/', and a TCP host without the characters that end it; the URL
 * written back from the fields (user and password percent-encoded, an IPv6
 * host in brackets) parses to the same fields; sg_rd_url_describe always
 * NUL-terminates, even when cut short, and never prints the password.
 */
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "fuzz_common.h"
#include "redis/sg_rd_url.h"

static bool terminated(const char *s, size_t cap) {
  return memchr(s, '\0', cap) != NULL;
}

static bool all_zero(const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    if (b[i])
      return false;
  return true;
}

static void append_encoded(sg_buf *b, const char *s, const char *keep) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        strchr(keep, *p) != NULL)
      sg_buf_append_char(b, (char)*p);
    else
      sg_buf_printf(b, "%%%02X", *p);
  }
}

static void rebuild(const sg_rd_url *u, sg_buf *b) {
  if (u->is_unix) {
    sg_buf_append_str(b, "unix://");
    append_encoded(b, u->path, "/-._~");
    sg_buf_printf(b, "?db=%d", u->db);
    return;
  }
  sg_buf_append_str(b, "redis://");
  if (u->user[0] || u->password[0]) {
    append_encoded(b, u->user, "-._~");
    sg_buf_append_char(b, ':');
    append_encoded(b, u->password, "-._~");
    sg_buf_append_char(b, '@');
  }
  if (strchr(u->host, ':'))
    sg_buf_printf(b, "[%s]", u->host);
  else
    sg_buf_append_str(b, u->host);
  sg_buf_printf(b, ":%u/%d", (unsigned)u->port, u->db);
}

static void check_fields(const sg_rd_url *u) {
  CHECK(terminated(u->host, sizeof u->host) && terminated(u->path, sizeof u->path));
  CHECK(terminated(u->user, sizeof u->user) && terminated(u->password, sizeof u->password));
  CHECK(u->db >= 0);
  if (u->is_unix) {
    CHECK(u->path[0] == '/' && u->host[0] == '\0');
  } else {
    CHECK(u->port > 0 && u->host[0] != '\0' && u->path[0] == '\0');
    CHECK(strpbrk(u->host, "/@?[]") == NULL);
    for (const char *p = u->host; *p; p++)
      CHECK((unsigned char)*p > ' ');
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = sg_xmalloc(size + 1);
  memcpy(s, data, size);
  s[size] = '\0';

  sg_rd_url u;
  int rv = sg_rd_url_parse(s, &u);
  CHECK(rv == 0 || rv == SG_ERR_PARSE || rv == SG_ERR_TOOBIG);
  if (sg_fuzz_verbose())
    fprintf(stderr, "rd_url: %d\n", rv);
  if (rv != 0) {
    CHECK(all_zero(&u, sizeof u));
    sg_free(s);
    return 0;
  }
  check_fields(&u);

  sg_buf b = SG_BUF_INIT;
  rebuild(&u, &b);
  sg_rd_url again;
  CHECK(sg_rd_url_parse(b.data, &again) == 0);
  CHECK(again.is_unix == u.is_unix && again.port == u.port && again.db == u.db);
  CHECK(strcmp(again.host, u.host) == 0 && strcmp(again.path, u.path) == 0);
  CHECK(strcmp(again.user, u.user) == 0 && strcmp(again.password, u.password) == 0);
  sg_buf_free(&b);

  char full[2048], cut[16];
  int want = sg_rd_url_describe(&u, full, sizeof full);
  CHECK(want >= 0 && (size_t)want < sizeof full && strlen(full) == (size_t)want);
  CHECK(u.password[0] == '\0' || strstr(full, "***") != NULL);
  memset(cut, 'x', sizeof cut);
  CHECK(sg_rd_url_describe(&u, cut, sizeof cut) == want);
  CHECK(terminated(cut, sizeof cut) && strncmp(cut, full, strlen(cut)) == 0);
  sg_free(s);
  return 0;
}
