/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The options of `sendgate send`, parsed from one table (name, whether it
 * takes a value, the field it sets or the function that sets it) into an
 * sg_job and the command's own settings. Numbers are checked whole (digits
 * only, in range); a bad value is one line naming the option. Files named by
 * --text-file, --html-file, --attach, --inline and --mime are read here.
 * Does no Redis and no printing: sg_cmd_send does both.
 */
#ifndef SG_SEND_OPTS_H
#define SG_SEND_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "job/sg_job.h"

#define SG_SEND_MAX_LIST 512 /* per recipient kind */

typedef struct sg_send_opts {
  sg_job job; /* the message; its arrays point into this struct */
  sg_job_addr to[SG_SEND_MAX_LIST], cc[SG_SEND_MAX_LIST], bcc[SG_SEND_MAX_LIST],
      reply[SG_SEND_MAX_LIST];
  sg_job_attachment att[64];
  sg_job_header hdr[16];
  sg_job_kv meta[32];
  char **owned; /* copies and file contents, freed by sg_send_opts_free */
  size_t nowned, owned_cap;
  const char *config;    /* --config, or NULL */
  const char *redis_url; /* --redis-url, or NULL */
  bool wait;             /* --wait */
  bool help;             /* --help: print the usage, do nothing else */
  unsigned timeout_s;    /* --timeout; 120 when not given or 0 */
} sg_send_opts;

/* The text `sendgate send --help` prints. */
extern const char sg_send_opts_usage[];

/*
 * Parses |argv| (argv[0] is the command name; |argc| entries) into |o|, which
 * must be zeroed or emptied by sg_send_opts_free, and is reset first. Strings in o->job borrow
 * |argv| or are owned by |o|. Job id stays NULL when --id is not given. Returns 0 (check o->help)
 * or SG_ERR_INVAL with a one-line reason (no prefix, no newline) in |err|
 * (|errcap| bytes): an unknown option, a missing value, a bad number, a
 * malformed --header/--meta/--backend, too many of a repeatable option, an
 * unreadable file, a stray argument, or no --from. Call sg_send_opts_free
 * afterwards in every case.
 */
int sg_send_opts_parse(sg_send_opts *o, int argc, char **argv, char *err, size_t errcap);

/* Frees what |o| owns (not |o|). */
void sg_send_opts_free(sg_send_opts *o);

/*
 * Parses |s| as a whole decimal number in [|min|, |max|] into |*out|: digits
 * only (no sign, no spaces, no suffix). Returns 0 or SG_ERR_INVAL.
 */
int sg_send_opts_number(const char *s, unsigned long long min, unsigned long long max,
                        unsigned long long *out);

#endif
