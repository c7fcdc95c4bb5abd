/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTPS proxies, the parts without I/O: which proxy (network.https_proxy, else
 * https_proxy / HTTPS_PROXY from the environment, as curl reads them), which
 * hosts bypass it (NO_PROXY / no_proxy: "*", host names matching as
 * themselves or as a domain suffix, with or without a leading dot, IP
 * literals and CIDR ranges), the HTTP CONNECT request (with Basic proxy
 * authorization when the proxy URL has credentials) and the proxy's answer.
 * Only http:// proxies: the tunnel then carries our own TLS to the provider,
 * whose certificate and host name are checked as without a proxy.
 */
#ifndef SG_PROXY_H
#define SG_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"

#define SG_PROXY_DEFAULT_PORT 1080 /* curl's default for a proxy URL without a port */
#define SG_PROXY_MAX_RESPONSE (16u * 1024u)

typedef struct sg_proxy {
  char host[256]; /* without brackets for IPv6 */
  uint16_t port;
  char auth[512]; /* base64("user:password") for Proxy-Authorization, "" = none */
} sg_proxy;

/*
 * Parses "[http://][user:password@]host[:port][/]" (user and password
 * percent-decoded) into |out|. Returns 0, or SG_ERR_INVAL with a reason in
 * |err| (another scheme, no host, a bad port, a path).
 */
int sg_proxy_parse(const char *url, sg_proxy *out, char *err, size_t errcap);

/* Whether |host| (a name or an IP literal) is in the NO_PROXY list |list|. */
bool sg_proxy_bypass(const char *list, const char *host);

/* |lower| from |envp|, else |upper| (curl's order: https_proxy, HTTPS_PROXY);
 * NULL when neither is set and non-empty. */
const char *sg_proxy_env(char *const *envp, const char *lower, const char *upper);

/*
 * The proxy for connections to |host|: |setting| when non-empty, else
 * https_proxy or HTTPS_PROXY from |envp|; none when the host is in
 * no_proxy / NO_PROXY. Returns 1 (|out| filled), 0 (direct), or SG_ERR_INVAL
 * with a reason in |err|.
 */
int sg_proxy_for(const char *setting, char *const *envp, const char *host, sg_proxy *out, char *err,
                 size_t errcap);

/* Appends "CONNECT host:port HTTP/1.1" with Host (and Proxy-Authorization). */
void sg_proxy_connect_request(const sg_proxy *p, const char *host, uint16_t port, sg_buf *out);

/*
 * Reads the proxy's answer to CONNECT in |p| (|n| bytes so far): 0 with the
 * status in |*status| and the head's length in |*head_len| once the head is
 * complete (bytes after it belong to the tunnel), SG_ERR_AGAIN for more, or
 * SG_ERR_PARSE (not HTTP/1.x, or a head over SG_PROXY_MAX_RESPONSE).
 */
int sg_proxy_connect_response(const char *p, size_t n, int *status, size_t *head_len);

#endif
