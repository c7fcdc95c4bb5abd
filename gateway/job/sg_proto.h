/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The generated protobuf-c header, included only by the job/ codecs so the
 * rest of the gateway never sees protobuf-c types.
 */
#ifndef SG_PROTO_H
#define SG_PROTO_H

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include "sendgate/v1/mail.pb-c.h"
#pragma GCC diagnostic pop

#endif
