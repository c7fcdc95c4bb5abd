/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The service extensions an EHLO reply announces (RFC 5321 4.1.1.1; one
 * keyword per line after the first): what the client may use on this
 * session. Pure. Unknown keywords are ignored.
 */
#ifndef SG_SMTPC_EHLO_H
#define SG_SMTPC_EHLO_H

#include <stdbool.h>
#include <stdint.h>

#include "smtpc/sg_smtpc_reply.h"

/* SASL mechanisms the client knows (bit set). */
enum {
  SG_SMTPC_MECH_PLAIN = 1u << 0,
  SG_SMTPC_MECH_LOGIN = 1u << 1,
  SG_SMTPC_MECH_XOAUTH2 = 1u << 2,
};

typedef struct sg_smtpc_ext {
  bool starttls;     /* RFC 3207 */
  bool pipelining;   /* RFC 2920 */
  bool eightbitmime; /* RFC 6152 */
  bool smtputf8;     /* RFC 6531 */
  bool enhanced;     /* ENHANCEDSTATUSCODES, RFC 2034 */
  bool size;         /* RFC 1870 */
  uint64_t size_max; /* SIZE's argument; 0 = no limit announced */
  unsigned mechs;    /* AUTH mechanisms (SG_SMTPC_MECH_*), also from "AUTH=" */
} sg_smtpc_ext;

/* Reads the extensions of the 250 reply |r| into |*out| (cleared first). */
void sg_smtpc_ehlo_parse(const sg_smtpc_reply *r, sg_smtpc_ext *out);

#endif
