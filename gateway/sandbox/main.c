/* SPDX-License-Identifier: Apache-2.0 */
/* sendgate-sandbox: command-line entry point. */
#include <stdio.h>

int main(void) {
  fprintf(stderr, "sendgate-sandbox: not built yet\n");
  return 2;
}
