/* SPDX-License-Identifier: Apache-2.0 */
/* MULTI ... EXEC over sg_rd_client_cmd_resp (see sg_rd_client.h); its own
 * file so that a fake client (the fuzz targets') gets it too. */
#include "redis/sg_rd_client.h"

#include "core/sg_err.h"

int sg_rd_client_multi(sg_rd_client *c, const char *cmds, const size_t *ends, size_t n,
                       uint32_t timeout_ms, sg_rd_reply_cb cb, void *ud) {
  static const char multi[] = "*1\r\n$5\r\nMULTI\r\n", exec[] = "*1\r\n$4\r\nEXEC\r\n";
  if (n == 0 || cb == NULL)
    return SG_ERR_INVAL;
  int rv = sg_rd_client_cmd_resp(c, multi, sizeof multi - 1, timeout_ms, NULL, NULL);
  for (size_t i = 0, at = 0; rv == 0 && i < n; at = ends[i++])
    rv = sg_rd_client_cmd_resp(c, cmds + at, ends[i] - at, timeout_ms, NULL, NULL);
  if (rv == 0)
    rv = sg_rd_client_cmd_resp(c, exec, sizeof exec - 1, timeout_ms, cb, ud);
  return rv;
}
