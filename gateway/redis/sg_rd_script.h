/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Lua script the gateway runs now and then on a command connection:
 * EVALSHA with its SHA-1, and EVAL once more when Redis answers NOSCRIPT
 * (after a restart or SCRIPT FLUSH), so the script's text crosses the wire
 * only when it has to. The caller's callback sees the script's reply (or
 * the error of the EVAL retry), never NOSCRIPT.
 */
#ifndef SG_RD_SCRIPT_H
#define SG_RD_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "redis/sg_rd_client.h"

typedef struct sg_rd_script {
  const char *text; /* borrowed: a static string */
  size_t len;
  char sha[41];
} sg_rd_script;

/* Sets |s| up for |text| (static, borrowed) and computes its SHA-1. */
void sg_rd_script_init(sg_rd_script *s, const char *text);

/*
 * Runs |s| on |c| with |nkeys| keys and then the other arguments in |args|
 * (|nargs| in all, keys first; borrowed, copied before return), bounded by
 * |timeout_ms|. |cb| is called once with the script's reply. Returns as
 * sg_rd_client_cmd (at most 16 arguments: SG_ERR_INVAL otherwise). The run
 * keeps what it needs of |s|: its owner may free |s| while the run is out
 * (a stage that closes before the connection it sends on).
 */
int sg_rd_script_run(sg_rd_script *s, sg_rd_client *c, int nkeys, int nargs, const char **args,
                     const size_t *lens, uint32_t timeout_ms, sg_rd_reply_cb cb, void *ud);

#endif
