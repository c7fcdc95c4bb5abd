/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one screen `sendgate status` prints, made from the gateway's /status
 * document (app/sg_status.h describes it). Pure: parsed JSON in, text out,
 * so the layout is unit-tested without a gateway. Members the screen does
 * not know are ignored and missing ones are shown as "-", so an older or
 * newer gateway still gives a readable screen.
 */
#ifndef SG_STATUS_SCREEN_H
#define SG_STATUS_SCREEN_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"
#include "json/sg_json.h"

/* Lanes shown at most; the document lists the busiest first. */
#define SG_STATUS_SCREEN_LANES 20

/*
 * Appends the screen for document |doc| (borrowed) to |out|. Relative times
 * ("in 42s") are taken against the document's own "now_ms". Returns 0, or -1
 * when |doc| is not a status document (nothing written).
 */
int sg_status_screen(sg_buf *out, const sg_json *doc);

/* Writes a duration such as "850ms", "42s", "3m10s", "2h05m", "3d04h" into |out|. */
void sg_status_fmt_dur(char out[32], int64_t ms);

#endif
