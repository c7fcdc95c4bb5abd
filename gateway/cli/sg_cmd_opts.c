/* SPDX-License-Identifier: Apache-2.0 */
/* Options the long-running commands share; see sg_cmd_opts.h. */
#include "cli/sg_cmd_opts.h"

#include <getopt.h>
#include <stdio.h>

int sg_cmd_config_opts(int argc, char **argv, const char *cmd, const char *usage,
                       const char **config, int *check) {
  static const struct option opts[] = {
      {"config", 1, 0, 'c'}, {"check", 0, 0, 'k'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  *config = NULL;
  *check = 0;
  int o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case 'c':
      *config = optarg;
      break;
    case 'k':
      *check = 1;
      break;
    case 'h':
      fputs(usage, stdout);
      return 0;
    default:
      fprintf(stderr, "sendgate %s: unknown option (see sendgate %s --help)\n", cmd, cmd);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "sendgate %s: unexpected argument %s\n", cmd, argv[optind]);
    return 2;
  }
  return -1;
}
