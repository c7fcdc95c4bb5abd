/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `sendgate status` and `sendgate explain` share: the settings they read
 * (the gateway's config file and SENDGATE_* environment, without the checks
 * only `run` needs), the admin address they ask by default, and one bounded
 * plain-HTTP GET of a gateway's JSON endpoint on a private loop.
 */
#ifndef SG_STATUS_CLIENT_H
#define SG_STATUS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "conf/sg_config.h"
#include "core/sg_mem.h"

/* How long a GET of the admin endpoint may take (ms), connect included. */
#define SG_STATUS_GET_TIMEOUT_MS 5000

/*
 * Fills |cfg| with the defaults, then |config| (NULL: none), then the
 * environment |envp|. Returns 0, or -1 with a one-line reason in |err|
 * (naming the setting); free |cfg| with sg_settings_free either way.
 */
int sg_status_load_settings(sg_config *cfg, const char *config, char *const *envp, char *err,
                            size_t errcap);

/*
 * Splits |url| ("http://HOST:PORT[/...]" or "HOST:PORT") into |host| (|cap|
 * bytes) and |port|; a listen address such as ":9464" or "0.0.0.0:9464" is
 * turned into the loopback address. Pure. Returns 0 or -1 (https:// is
 * refused: the admin listener speaks plain HTTP).
 */
int sg_status_parse_url(const char *url, char *host, size_t cap, uint16_t *port);

/*
 * GETs |target| from |host|:|port| within SG_STATUS_GET_TIMEOUT_MS into
 * |body| (appended). Returns the HTTP status, or -1 with a reason in |err|.
 */
int sg_status_get(const char *host, uint16_t port, const char *target, sg_buf *body, char *err,
                  size_t errcap);

#endif
