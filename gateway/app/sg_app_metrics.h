/* SPDX-License-Identifier: Apache-2.0 */
/* The runtime's metrics and admin endpoint; internal to app/ (see sg_app_metrics.c). */
#ifndef SG_APP_METRICS_H
#define SG_APP_METRICS_H

#include "app/sg_app_int.h"

/* Registers the families, looks the children up, starts /metrics. Returns 0 or an error. */
int sg_app__metrics_start(sg_app *a, char *err, size_t errcap);

/* Counts one finished HTTP request to |origin| ("graph", "acs", "entra"; |status| 0
 * for none) and its duration into |dur| (that origin's histogram child). */
void sg_app__http_done(sg_app *a, const char *origin, sg_metric *dur, int status, uint64_t sent_at);

#endif
