/* SPDX-License-Identifier: Apache-2.0 */
/* MULTI ... EXEC over sg_rd_client_pipeline_resp (see sg_rd_client.h); its
 * own file so that a fake client (the fuzz targets') gets it too. */
#include "redis/sg_rd_client.h"

#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"

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

int sg_rd_client_multi(sg_rd_client *c, const char *cmds, size_t len, uint32_t n,
                       uint32_t timeout_ms, sg_rd_reply_cb cb, void *ud) {
  static const char multi[] = "*1\r\n$5\r\nMULTI\r\n", exec[] = "*1\r\n$4\r\nEXEC\r\n";
  if (n == 0 || cb == NULL || len == 0 || n > UINT32_MAX - 2)
    return SG_ERR_INVAL;
  size_t total = sizeof multi - 1 + len + sizeof exec - 1;
  char *buf = sg_xmalloc(total);
  memcpy(buf, multi, sizeof multi - 1);
  memcpy(buf + sizeof multi - 1, cmds, len);
  memcpy(buf + sizeof multi - 1 + len, exec, sizeof exec - 1);
  multi_call *m = sg_xmalloc(sizeof *m);
  *m = (multi_call){cb, ud, n + 2, false};
  int rv = sg_rd_client_pipeline_resp(c, buf, total, n + 2, timeout_ms, on_reply, m);
  sg_free(buf);
  if (rv != 0)
    sg_free(m);
  return rv;
}
