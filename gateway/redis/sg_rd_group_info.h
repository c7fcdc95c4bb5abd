/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The job stream's consumer group as Redis sees it (XINFO GROUPS): how many
 * entries are pending and how far the group lags behind the stream, for the
 * status document and the gauges. One command on the stream's command
 * connection; the reply parser is pure.
 */
#ifndef SG_RD_GROUP_INFO_H
#define SG_RD_GROUP_INFO_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdint.h>

#include "redis/sg_rd_stream.h"

typedef struct sg_rd_group_info {
  bool known;      /* false: no such stream or group (yet) */
  int64_t pending; /* entries delivered and not acked */
  int64_t lag;     /* entries not delivered yet; -1 when Redis cannot tell */
} sg_rd_group_info;

/* |status| 0 with |info| set, or the command's error status (|info| NULL). */
typedef void (*sg_rd_group_info_cb)(int status, const sg_rd_group_info *info, void *ud);

/* Asks for the group of |s|'s stream; |cb| runs once (also when the
 * connection fails or |timeout_ms| passes). Returns 0 or the status of a
 * command that could not be sent (|cb| does not run then). */
int sg_rd_group_info_get(sg_rd_stream *s, uint32_t timeout_ms, sg_rd_group_info_cb cb, void *ud);

/*
 * Fills |out| with the group named |group| out of an XINFO GROUPS reply |r|
 * (borrowed): its pending count and its lag (-1 when Redis does not know it,
 * e.g. after XDEL or before 7.0). Pure. Returns |out->known|: false when |r|
 * is not such a reply or does not name the group.
 */
bool sg_rd_group_info_parse(sg_rd_group_info *out, const redisReply *r, const char *group);

#endif
