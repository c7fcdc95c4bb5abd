/* SPDX-License-Identifier: Apache-2.0 */
/* Error code names and texts for sg_err.h, with dispatch to libuv and nghttp2. */
#include "core/sg_err.h"

#include <nghttp2/nghttp2.h>
#include <uv.h>

const char *sg_strerror(int rv) {
  if (rv == 0)
    return "success";
  if (rv <= -2000 && rv > -3000) {
    switch (rv) {
#define XX(name, value, text)                                                                      \
  case value:                                                                                      \
    return text;
      SG_ERR_MAP(XX)
#undef XX
    default:
      return "unknown sendgate error";
    }
  }
  if (rv <= -500 && rv >= -999)
    return nghttp2_strerror(rv);
  return uv_strerror(rv);
}

const char *sg_err_name(int rv) {
  if (rv == 0)
    return "OK";
  if (rv <= -2000 && rv > -3000) {
    switch (rv) {
#define XX(name, value, text)                                                                      \
  case value:                                                                                      \
    return "SG_ERR_" #name;
      SG_ERR_MAP(XX)
#undef XX
    default:
      return "SG_ERR_UNKNOWN";
    }
  }
  if (rv <= -500 && rv >= -999)
    return "NGHTTP2_ERR";
  return uv_err_name(rv);
}
