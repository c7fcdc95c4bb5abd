/* SPDX-License-Identifier: Apache-2.0 */
/* MULTI ... EXEC over sg_rd_client_pipeline_resp (see sg_rd_client.h); its
 * own file so that a fake client (the fuzz targets') gets it too. */
#include "redis/sg_rd_client.h"

#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "redis/sg_resp.h"

/* The transaction's one pending record: +OK, the +QUEUED replies, EXEC's. */
typedef struct multi_call {
  sg_rd_reply_cb cb;
  void *ud;
  uint32_t left; /* replies still due */
  bool fired;
} multi_call;

static void on_reply(sg_rd_client *c, int status, const redisReply *reply, void *ud) {
  multi_call *m = ud;
  bool last = --m->left == 0;
  /* EXEC's reply, or the first sign that the connection went: once. A
   * command refused while queued needs no look: EXEC then answers
   * EXECABORT. */
  if (!m->fired && (last || reply == NULL)) {
    m->fired = true;
    m->cb(c, status, reply, m->ud);
  }
  if (last)
    sg_free(m);
}

int sg_rd_client_multi(sg_rd_client *c, const char *txn, size_t len, uint32_t n,
                       uint32_t timeout_ms, sg_rd_reply_cb cb, void *ud) {
  static const char multi[] = SG_RESP_MULTI, exec[] = SG_RESP_EXEC;
  size_t ml = sizeof multi - 1, el = sizeof exec - 1;
  if (n == 0 || n > UINT32_MAX - 2 || cb == NULL || txn == NULL || len <= ml + el ||
      memcmp(txn, multi, ml) != 0 || memcmp(txn + len - el, exec, el) != 0)
    return SG_ERR_INVAL;
  multi_call *m = sg_xmalloc(sizeof *m);
  *m = (multi_call){cb, ud, n + 2, false};
  int rv = sg_rd_client_pipeline_resp(c, txn, len, n + 2, timeout_ms, on_reply, m);
  if (rv != 0)
    sg_free(m);
  return rv;
}
