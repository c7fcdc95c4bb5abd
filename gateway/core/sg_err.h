/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error codes. Every fallible function returns int: 0 on success or a negative
 * code. Our own codes live in [-2999, -2000] so one int can also carry a libuv
 * code (negative errno, -3000/-4000 ranges) or an nghttp2 code ([-999, -500])
 * unchanged; sg_strerror() dispatches on the range.
 */
#ifndef SG_ERR_H
#define SG_ERR_H

#define SG_ERR_MAP(XX)                                                                             \
  XX(AGAIN, -2000, "operation would block; try again")                                             \
  XX(INVAL, -2001, "invalid argument")                                                             \
  XX(TOOBIG, -2002, "over a size limit")                                                           \
  XX(PARSE, -2003, "malformed input")                                                              \
  XX(NOTFOUND, -2004, "not found")                                                                 \
  XX(EOF, -2005, "end of stream")                                                                  \
  XX(TIMEOUT, -2006, "timed out")                                                                  \
  XX(CLOSED, -2007, "connection closed")                                                           \
  XX(TLS, -2008, "TLS failure")                                                                    \
  XX(TLS_VERIFY, -2009, "TLS peer certificate did not verify")                                     \
  XX(ALPN, -2010, "peer did not select HTTP/2 over ALPN")                                          \
  XX(H2, -2011, "HTTP/2 protocol error")                                                           \
  XX(REFUSED, -2012, "request refused before processing (safe to retry)")                          \
  XX(RESET, -2013, "stream reset by peer")                                                         \
  XX(GOAWAY, -2014, "connection going away")                                                       \
  XX(REDIS, -2015, "Redis error")                                                                  \
  XX(CONFIG, -2016, "bad configuration")                                                           \
  XX(CRYPTO, -2017, "cryptographic failure")                                                       \
  XX(SHUTDOWN, -2018, "shutting down")                                                             \
  XX(RANGE, -2019, "value out of range")                                                           \
  XX(EXISTS, -2020, "already exists")                                                              \
  XX(IO, -2021, "I/O error")                                                                       \
  XX(BUSY, -2022, "at capacity")                                                                   \
  XX(AUTH, -2023, "no access token could be obtained")                                             \
  XX(PROXY, -2024, "the HTTPS proxy refused the tunnel")

typedef enum {
#define XX(name, value, text) SG_ERR_##name = (value),
  SG_ERR_MAP(XX)
#undef XX
} sg_err;

/*
 * Returns a static description of |rv|, which may be one of ours, a libuv
 * code or an nghttp2 code. Never NULL.
 */
const char *sg_strerror(int rv);

/* Returns the symbolic name ("SG_ERR_TIMEOUT", "ECONNRESET", ...). Never NULL. */
const char *sg_err_name(int rv);

#endif
