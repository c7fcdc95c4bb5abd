/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Redis endpoint URLs. Parses `redis://[[user]:password@]host[:port][/db]`
 * (host may be a bracketed IPv6 literal; user and password may be
 * percent-encoded), the same with `rediss://` (TLS, always verified: the
 * host is the name, or IP literal, the certificate must match; the port
 * defaults to 6379 as with redis-cli, Azure Cache for Redis needs :6380) and
 * `unix:///path/to/socket[?db=N]`. Defaults: 127.0.0.1, 6379, db 0.
 * Sentinel: `redis-sentinel://[[user]:password@]host[:port][,host[:port]...]/master[/db]`
 * (`rediss-sentinel://` for TLS to the sentinels and the primary; sentinel
 * port default 26379; the credentials are the data nodes', sentinels are
 * asked without AUTH). Pure: no I/O, no allocation.
 */
#ifndef SG_RD_URL_H
#define SG_RD_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fixed caps keep the struct copyable and free-less; longer inputs are errors. */
#define SG_RD_URL_HOST_MAX 256
#define SG_RD_URL_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path) */
#define SG_RD_URL_USER_MAX 128
#define SG_RD_URL_PASS_MAX 512
#define SG_RD_URL_MASTER_MAX 128
#define SG_RD_URL_SENTINELS_MAX 5

typedef struct sg_rd_url_node {
  char host[SG_RD_URL_HOST_MAX];
  uint16_t port;
} sg_rd_url_node;

typedef struct sg_rd_url {
  bool is_unix;
  bool tls;                          /* rediss://: TLS with certificate + host checks */
  char host[SG_RD_URL_HOST_MAX];     /* TCP host, IPv6 without brackets */
  char path[SG_RD_URL_PATH_MAX];     /* unix socket path */
  uint16_t port;                     /* TCP port */
  int db;                            /* SELECT index, >= 0 */
  char user[SG_RD_URL_USER_MAX];     /* "" when none (AUTH with password only) */
  char password[SG_RD_URL_PASS_MAX]; /* "" when none (no AUTH) */
  /* redis-sentinel://: the primary of |master| is found through the
   * sentinels; host and port are the first sentinel's. */
  bool sentinel;
  char master[SG_RD_URL_MASTER_MAX];
  size_t nsentinels;
  sg_rd_url_node sentinels[SG_RD_URL_SENTINELS_MAX];
} sg_rd_url;

/*
 * Parses |s| (NUL-terminated, borrowed) into |out|. On error |out| is left
 * zeroed. A NULL or empty |s| yields the defaults (redis://127.0.0.1:6379/0).
 *
 * Returns 0 or one of: SG_ERR_PARSE (unknown scheme, bad port or db, stray
 * characters, bad percent escape), SG_ERR_TOOBIG (a part is over its cap).
 */
int sg_rd_url_parse(const char *s, sg_rd_url *out);

/* True when |s| parses and carries a password: such a URL must not be given
 * on a command line (ps shows it); the commands refuse it there. */
bool sg_rd_url_has_password(const char *s);

/* The one-line reason the commands give when they refuse such a URL. */
#define SG_RD_URL_PASSWORD_REFUSED                                                                 \
  "--redis-url: a password on the command line shows in ps; put the URL in SENDGATE_REDIS_URL "    \
  "or in a file named by SENDGATE_REDIS_URL_FILE"

/*
 * Writes a loggable form of |u| into |out| (cap bytes, always NUL-terminated):
 * the password is replaced by "***". Returns the length it wanted to write
 * (snprintf style).
 */
int sg_rd_url_describe(const sg_rd_url *u, char *out, size_t cap);

#endif
