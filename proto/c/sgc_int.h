/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the client library's files (not installed): the URL
 * reader, the id generator and the string helpers. Public API: client.h.
 */
#ifndef SGC_INT_H
#define SGC_INT_H

#include <stddef.h>

#include "sendgate/client.h"

/* A parsed redis:// URL; strings point into |buf|. */
typedef struct sgc_url {
  char buf[512];
  const char *host, *user, *password; /* user and password: NULL when absent */
  int port, db;
} sgc_url;

/* Reads redis://[[user]:password@]host[:port][/db]. Returns 0 or SGC_ERR_ARG. */
int sgc_url_parse(const char *url, sgc_url *out);

/* Writes a random job id ("c-" and 32 hex digits) into |out|. */
void sgc_random_id(char out[40]);

/* 1 when |id| is 1..SGC_ID_MAX printable ASCII characters. */
int sgc_id_ok(const char *id);

/* The job's reply stream ("" when none). */
const char *sgc_job_reply_stream_(const sgc_job *j);

#endif
