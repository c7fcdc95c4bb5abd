/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for what Graph's answers and Redis give the draft route
 * (svc/sg_graph_upload.h) and for the sandbox's Content-Range parser: the
 * same input goes to the draft id, uploadUrl and nextExpectedRanges parsers,
 * the URL splitter, the draft record (recall) and sg_sbx_range_parse.
 * Besides "no crash, no over-read": a parsed id is printable, without '/'
 * and within its cap; an upload URL is https with a path and no spaces; a
 * recalled record leads to CREATE, DISCARD (with an old id) or SEND (with a
 * draft id and send_maybe); a parsed range has first <= last.
 *
 * Linked with fuzz_replay.c it runs every file of the corpus once.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/sg_sbx_drafts.h"
#include "svc/sg_graph_upload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
  do {                                                                                             \
    if (!(c)) {                                                                                    \
      fprintf(stderr, "fuzz_graph_upload: check failed: %s (line %d)\n", #c, __LINE__);            \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

static void check_id(const char *id) {
  size_t n = strlen(id);
  CHECK(n > 0 && n < SG_GRAPH_ID_MAX);
  for (size_t i = 0; i < n; i++)
    CHECK((unsigned char)id[i] > 0x20 && (unsigned char)id[i] < 0x7f && id[i] != '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *body = (const char *)data;
  char id[SG_GRAPH_ID_MAX], url[SG_GRAPH_URL_MAX], origin[600];
  if (sg_graph_parse_id(body, size, id, sizeof id) == 0)
    check_id(id);
  if (sg_graph_parse_upload_url(body, size, url, sizeof url) == 0) {
    const char *path;
    CHECK(strncmp(url, "https://", 8) == 0);
    CHECK(strchr(url, ' ') == NULL);
    CHECK(sg_graph_url_split(url, origin, sizeof origin, &path) == 0);
    CHECK(path[0] == '/' && strlen(origin) > 8);
  }
  uint64_t next;
  (void)sg_graph_parse_next(body, size, &next);

  /* The same bytes as a NUL-terminated string: URL split and Content-Range. */
  char *s = malloc(size + 1);
  if (s == NULL)
    return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  const char *path;
  if (sg_graph_url_split(s, origin, sizeof origin, &path) == 0)
    CHECK(path[0] == '/' && strncmp(origin, "https://", 8) == 0);
  uint64_t a, b, t;
  if (sg_sbx_range_parse(s, &a, &b, &t) == 0)
    CHECK(a <= b);
  free(s);

  /* As a recalled record. */
  sg_graph_seq q;
  memset(&q, 0, sizeof q);
  q.step = SG_GSTEP_RECALL;
  sg_graph_seq_recall(&q, body, size);
  if (q.step == SG_GSTEP_DISCARD) {
    check_id(q.old_id);
  } else if (q.step == SG_GSTEP_SEND) {
    check_id(q.draft_id);
    CHECK(q.send_maybe);
  } else {
    CHECK(q.step == SG_GSTEP_CREATE && q.draft_id[0] == '\0');
  }
  return 0;
}
