/* SPDX-License-Identifier: Apache-2.0 */
/* EVALSHA with an EVAL fallback; see sg_rd_script.h. */
#include "redis/sg_rd_script.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"

#define MAX_ARGS 16

void sg_rd_script_init(sg_rd_script *s, const char *text) {
  memset(s, 0, sizeof *s);
  s->text = text;
  s->len = strlen(text);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  EVP_Digest(text, s->len, md, &mdlen, EVP_sha1(), NULL);
  for (unsigned i = 0; i < 20 && i < mdlen; i++)
    snprintf(s->sha + 2 * i, 3, "%02x", md[i]);
}

/* One run in flight: what the EVAL retry needs (a copy of the script's
 * handle, not a pointer to it: its owner may be gone when the reply comes). */
typedef struct run {
  sg_rd_script s;
  sg_rd_client *c;
  sg_rd_reply_cb cb;
  void *ud;
  uint32_t timeout_ms;
  int nkeys, nargs;
  char *args[MAX_ARGS];
  size_t lens[MAX_ARGS];
} run;

static void run_free(run *r) {
  for (int i = 0; i < r->nargs; i++)
    sg_free(r->args[i]);
  sg_free(r);
}

static int run_send(run *r, bool eval, sg_rd_reply_cb on_reply);

static void on_eval(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  run *r = ud;
  r->cb(c, status, reply, r->ud);
  run_free(r);
}

static void on_evalsha(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  run *r = ud;
  if (status == SG_ERR_REDIS && reply && reply->str && strncmp(reply->str, "NOSCRIPT", 8) == 0) {
    int rv = run_send(r, true, on_eval);
    if (rv == 0)
      return;
    status = rv;
    reply = NULL;
  }
  r->cb(c, status, reply, r->ud);
  run_free(r);
}

static int run_send(run *r, bool eval, sg_rd_reply_cb on_reply) {
  const char *argv[3 + MAX_ARGS];
  size_t lens[3 + MAX_ARGS];
  char nk[12];
  argv[0] = eval ? "EVAL" : "EVALSHA";
  lens[0] = strlen(argv[0]);
  argv[1] = eval ? r->s.text : r->s.sha;
  lens[1] = eval ? r->s.len : 40;
  lens[2] = (size_t)snprintf(nk, sizeof nk, "%d", r->nkeys);
  argv[2] = nk;
  for (int i = 0; i < r->nargs; i++) {
    argv[3 + i] = r->args[i];
    lens[3 + i] = r->lens[i];
  }
  return sg_rd_client_cmd(r->c, 3 + r->nargs, argv, lens, r->timeout_ms, on_reply, r);
}

int sg_rd_script_run(sg_rd_script *s, sg_rd_client *c, int nkeys, int nargs, const char **args,
                     const size_t *lens, uint32_t timeout_ms, sg_rd_reply_cb cb, void *ud) {
  if (!s || !c || !cb || nargs < 0 || nargs > MAX_ARGS || nkeys < 0 || nkeys > nargs)
    return SG_ERR_INVAL;
  run *r = sg_xcalloc(1, sizeof *r);
  r->s = *s;
  r->c = c;
  r->cb = cb;
  r->ud = ud;
  r->timeout_ms = timeout_ms;
  r->nkeys = nkeys;
  r->nargs = nargs;
  for (int i = 0; i < nargs; i++) {
    r->args[i] = sg_xmalloc(lens[i] + 1);
    memcpy(r->args[i], args[i], lens[i]);
    r->args[i][lens[i]] = '\0';
    r->lens[i] = lens[i];
  }
  int rv = run_send(r, false, on_evalsha);
  if (rv != 0)
    run_free(r);
  return rv;
}
