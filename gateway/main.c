/* SPDX-License-Identifier: Apache-2.0 */
/* sendgate: command-line entry point. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    printf("usage: sendgate run|send ... (see README.md)\n");
    return 0;
  }
  fprintf(stderr, "sendgate: not built yet\n");
  return 2;
}
