/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the fuzz targets under tests/fuzz/ share: the libFuzzer entry point's
 * prototype and CHECK, an invariant assertion that is never compiled out and
 * aborts (so libFuzzer and the replay runner both report it as a crash).
 * sg_fuzz_verbose() switches on a line per input.
 * The replay main() for every target but fuzz_json is fuzz_replay.c.
 */
#ifndef SG_FUZZ_COMMON_H
#define SG_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
  do {                                                                                             \
    if (!(c)) {                                                                                    \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                        \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

/* True when SG_FUZZ_VERBOSE=1: the targets then print each input's outcome
 * to stderr, to see what a corpus exercises. */
static inline int sg_fuzz_verbose(void) {
  static int v = -1;
  if (v < 0) {
    const char *e = getenv("SG_FUZZ_VERBOSE");
    v = e != NULL && e[0] == '1';
  }
  return v;
}

#endif
