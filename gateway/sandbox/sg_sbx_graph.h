/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Validation of a Microsoft Graph `POST /users/{id}/sendMail` request body, as
 * strict as Graph itself (docs/microsoft-apis.md §1), and the Graph error body.
 * Pure: no I/O, no clock (the caller passes the date for innerError). Auth,
 * throttling and fault injection belong to the sandbox's HTTP glue.
 *
 * Codes produced (status 400 unless noted; messages follow Graph's where known):
 *   RequestEntityTooLarge (413)  body over limits->max_body (checked first)
 *   UnsupportedMediaType (415)   Content-Type neither application/json nor
 *                                text/plain, or a charset other than utf-8
 *                                (sandbox choice; Graph's exact reply unverified)
 *   BadRequest                   empty JSON body, or not valid JSON / not an object
 *   RequestBodyRead              unknown property, wrong JSON type, bad enum value,
 *                                bad @odata.type, attachment contentBytes not base64
 *   ErrorInvalidRequest          "message" missing; attachment without name or
 *                                contentBytes, or not a fileAttachment; contentLocation set
 *   ErrorInvalidRecipients       no recipients, more than limits->max_recipients,
 *                                a recipient without emailAddress.address, or an
 *                                address failing sg_sbx_addr_valid (also replyTo, from,
 *                                sender and MIME From/To/Cc/Bcc)
 *   InvalidInternetMessageHeaderCollection  internetMessageHeaders empty or > max_headers
 *   InvalidInternetMessageHeader            name not x-/X-, bad characters, CR/LF, missing
 *   ErrorMimeContentInvalidBase64String     MIME body not valid base64 (no innerError)
 *   ErrorMimeContentInvalid                 MIME empty, or no header section
 */
#ifndef SG_SBX_GRAPH_H
#define SG_SBX_GRAPH_H

#include <stddef.h>
#include <time.h>

#include "core/sg_mem.h"
#include "sandbox/sg_sbx_msg.h"

/* 4 MiB: the request cap users hit as 413 (microsoft-apis.md §1.3, §1.5). */
#define SG_SBX_GRAPH_MAX_BODY (4u * 1024u * 1024u)
/* Exchange Online default To+Cc+Bcc cap per message (§1.2, §2.3). */
#define SG_SBX_GRAPH_MAX_RECIPIENTS 500
/* Graph's cap on internetMessageHeaders entries (§1.4). */
#define SG_SBX_GRAPH_MAX_HEADERS 5

typedef struct sg_sbx_graph_limits {
  size_t max_body;       /* bytes of request body */
  size_t max_recipients; /* To + Cc + Bcc */
  size_t max_headers;    /* internetMessageHeaders entries */
} sg_sbx_graph_limits;

/* Fills |l| with the SG_SBX_GRAPH_* defaults above. */
void sg_sbx_graph_limits_default(sg_sbx_graph_limits *l);

/*
 * Validates one sendMail request. |content_type| is the request's
 * Content-Type header (NULL when absent), |body| its |len| bytes (need not be
 * NUL-terminated), |mailbox| the {id | userPrincipalName} from the URL,
 * |limits| NULL for the defaults. All are borrowed.
 *
 * Initializes |*msg| and |*verdict| first. On acceptance fills |*msg| (api
 * "graph", key computed over the exact body) and sets verdict->status to 0;
 * the caller frees |*msg| with sg_sbx_msg_free. On rejection |*msg| is left
 * empty and |*verdict| holds the status, code and message.
 *
 * Returns 0 when accepted, or SG_ERR_INVAL when rejected.
 */
int sg_sbx_graph_validate(const char *content_type, const char *body, size_t len,
                          const char *mailbox, const sg_sbx_graph_limits *limits, sg_sbx_msg *msg,
                          sg_sbx_verdict *verdict);

/* What goes in a Graph error's innerError object. All borrowed. */
typedef struct sg_sbx_graph_inner {
  const char *date;              /* "YYYY-MM-DDTHH:MM:SS", UTC, no zone suffix */
  const char *request_id;        /* GUID */
  const char *client_request_id; /* echoed, or equal to request_id */
} sg_sbx_graph_inner;

/*
 * Appends the Graph error body
 * {"error":{"code":..,"message":..,"innerError":{"date":..,"request-id":..,
 * "client-request-id":..}}} to |out|; without "innerError" when |inner| is NULL.
 * Strings are escaped; NULL fields are written as "".
 */
void sg_sbx_graph_error_json(sg_buf *out, const char *code, const char *message,
                             const sg_sbx_graph_inner *inner);

/* Same for a verdict: innerError is left out when |v->no_inner| is set. */
void sg_sbx_graph_verdict_json(sg_buf *out, const sg_sbx_verdict *v,
                               const sg_sbx_graph_inner *inner);

/* Writes |t| as Graph's innerError date ("2023-02-20T05:06:48", UTC) into |out|. */
void sg_sbx_graph_date(time_t t, char out[20]);

#endif
