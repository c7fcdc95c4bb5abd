/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The nghttp2 names the client pool uses, in one place. We build against
 * nghttp2 1.52 (Debian 12), whose API is the ssize_t one; 1.60 added the
 * *_2 variants (nghttp2_ssize, nghttp2_data_provider2) and deprecated the old
 * ones. A later move to the new API changes only this file.
 */
#ifndef SG_NGHTTP2_COMPAT_H
#define SG_NGHTTP2_COMPAT_H

#include <nghttp2/nghttp2.h>

#if NGHTTP2_VERSION_NUM >= 0x013c00
typedef nghttp2_ssize sg_ng_ssize;
typedef nghttp2_data_provider2 sg_ng_data_provider;
#define sg_ng_mem_send nghttp2_session_mem_send2
#define sg_ng_mem_recv nghttp2_session_mem_recv2
#define sg_ng_submit_request nghttp2_submit_request2
#define sg_ng_callbacks_set_send_data nghttp2_session_callbacks_set_send_data_callback
#else
typedef ssize_t sg_ng_ssize;
typedef nghttp2_data_provider sg_ng_data_provider;
#define sg_ng_mem_send nghttp2_session_mem_send
#define sg_ng_mem_recv nghttp2_session_mem_recv
#define sg_ng_submit_request nghttp2_submit_request
#define sg_ng_callbacks_set_send_data nghttp2_session_callbacks_set_send_data_callback
#endif

#endif
