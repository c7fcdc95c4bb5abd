/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Validation of an Azure Communication Services `POST /emails:send` request
 * body (microsoft-apis.md §4.2, §4.6) and the ACS error body. Pure: no I/O;
 * HMAC/bearer auth, Operation-Id handling and rate limits belong to the
 * sandbox's HTTP glue.
 *
 * Member names are matched case-sensitively (stricter than the service).
 * Codes produced; Microsoft documents only InvalidEmailAddress among them, the
 * others are the sandbox's choice of Azure's usual names (unverified):
 *   RequestBodyTooLarge (413)   body over limits->max_body (checked first)
 *   MissingApiVersionParameter  api-version absent or empty (400)
 *   UnsupportedApiVersion       api-version not in the known list (the
 *                               2021-10-01-preview schema is not served) (400)
 *   BadRequest                  not JSON, unknown or repeated member, wrong
 *                               type, a required member missing or empty,
 *                               recipients outside 1..max_recipients, bad header,
 *                               bad attachment, duplicate contentId (400)
 *   InvalidEmailAddress         an address failing sg_sbx_addr_valid (400)
 * The caller sends the code also as the x-ms-error-code response header.
 */
#ifndef SG_SBX_ACS_H
#define SG_SBX_ACS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/sg_mem.h"
#include "sandbox/sg_sbx_msg.h"

/* 10 MiB: the documented cap on the whole request, base64 included (§4.6). */
#define SG_SBX_ACS_MAX_BODY (10u * 1024u * 1024u)
/* Documented default cap on To + Cc + Bcc (§4.6). */
#define SG_SBX_ACS_MAX_RECIPIENTS 50

typedef struct sg_sbx_acs_limits {
  size_t max_body;       /* bytes of request body */
  size_t max_recipients; /* To + Cc + Bcc */
  /* Drop an attachment with a type off the allow-list or invalid base64
   * instead of refusing the request, as the custom header
   * x-ms-acsemail-suppress-invalid-attachment: true does (the body's header
   * is honoured too). */
  bool suppress_invalid_attachment;
} sg_sbx_acs_limits;

/* Fills |l| with the defaults above (suppression off). */
void sg_sbx_acs_limits_default(sg_sbx_acs_limits *l);

/*
 * Validates one emails:send request: |body| is |len| bytes (need not be
 * NUL-terminated), |api_version| the api-version query value (NULL when
 * absent), |limits| NULL for the defaults. All are borrowed.
 *
 * Known api-versions (others are refused): 2023-01-15-preview, 2023-03-31,
 * 2024-07-01-preview, 2025-01-01-preview, 2025-01-15-preview, 2025-09-01.
 * Attachment contentId is accepted only for versions dated 2024-07-01 or
 * later (microsoft-apis.md §4.2 marks the previews as probable (?)).
 *
 * Initializes |*msg| and |*verdict| first. On acceptance fills |*msg| (api
 * "acs", mailbox = senderAddress, key over the exact body) and sets
 * verdict->status to 0; the caller frees |*msg| with sg_sbx_msg_free. On
 * rejection |*msg| is left empty and |*verdict| holds status, code, message.
 *
 * Returns 0 when accepted, or SG_ERR_INVAL when rejected.
 */
int sg_sbx_acs_validate(const char *body, size_t len, const char *api_version,
                        const sg_sbx_acs_limits *limits, sg_sbx_msg *msg, sg_sbx_verdict *verdict);

/*
 * True when |content_type| (parameters after ';' ignored, case-insensitive)
 * is on the sandbox's attachment allow-list (about 60 common types: Office,
 * PDF, images, audio, video, archives, text, calendar, JSON, XML, HTML).
 */
bool sg_sbx_acs_type_allowed(const char *content_type);

/* Appends {"error":{"code":..,"message":..}} to |out| (NULL written as ""). */
void sg_sbx_acs_error_json(sg_buf *out, const char *code, const char *message);

/* Same for a verdict. */
void sg_sbx_acs_verdict_json(sg_buf *out, const sg_sbx_verdict *v);

#endif
