/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox's record of one accepted message, shared by the Graph and ACS
 * validators (sg_sbx_graph.h, sg_sbx_acs.h), plus the verdict type they fill
 * and the address syntax check they both apply. Pure: no I/O. The record is
 * written as one JSON line to the file the sandbox keeps; it never holds a
 * body or attachment content, only their sizes.
 *
 * Message key: lowercase hex SHA-256 over  api NUL mailbox NUL body-bytes,
 * where api is "graph" or "acs", mailbox is the Graph mailbox from the URL or
 * the ACS senderAddress, and body-bytes are the exact request body. Equal
 * requests to the same mailbox give equal keys, so the sandbox can count
 * duplicate deliveries.
 */
#ifndef SG_SBX_MSG_H
#define SG_SBX_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/sg_mem.h"
#include "json/sg_json.h"

/* Why a request was refused. status 0 means accepted (code and message empty). */
typedef struct sg_sbx_verdict {
  int status;        /* HTTP status, 0 when accepted */
  const char *code;  /* static string: the provider's error code, "" when accepted */
  char message[320]; /* provider-style message (truncated if longer) */
  bool no_inner;     /* Graph: this error carries no innerError object */
} sg_sbx_verdict;

typedef struct sg_sbx_addr {
  char *address;      /* as given */
  char *name;         /* display name, NULL when absent */
  const char *domain; /* points into |address|, after the '@' */
} sg_sbx_addr;

typedef struct sg_sbx_addr_list {
  sg_sbx_addr *v;
  size_t n;
} sg_sbx_addr_list;

typedef struct sg_sbx_att {
  char *name;
  char *content_type; /* NULL when absent */
  char *content_id;   /* NULL when absent */
  bool is_inline;
  size_t size;     /* decoded bytes */
  char sha256[65]; /* lowercase hex SHA-256 of the decoded bytes, "" when not known */
} sg_sbx_att;

typedef struct sg_sbx_hdr {
  char *name;
  char *value;
} sg_sbx_hdr;

typedef enum {
  SG_SBX_BODY_NONE,
  SG_SBX_BODY_TEXT,
  SG_SBX_BODY_HTML,
  SG_SBX_BODY_BOTH, /* ACS plainText and html */
  SG_SBX_BODY_MIME  /* Graph text/plain MIME: the whole decoded message */
} sg_sbx_body_kind;

typedef struct sg_sbx_msg {
  const char *api; /* "graph" or "acs" (static), NULL before a validator ran */
  char *mailbox;   /* Graph mailbox from the URL / ACS senderAddress */
  char *from;      /* Graph message.from address, NULL when absent */
  sg_sbx_addr_list to, cc, bcc, reply_to;
  size_t recipient_count; /* to + cc + bcc */
  char *subject;          /* NULL when absent */
  sg_sbx_body_kind body_kind;
  size_t body_len; /* bytes of text + html content, or of the decoded MIME */
  sg_sbx_att *atts;
  size_t n_atts;
  sg_sbx_hdr *hdrs; /* custom headers (Graph x- headers, ACS headers object) */
  size_t n_hdrs;
  bool mime;
  bool save_to_sent_items;   /* Graph; true unless the request said false */
  bool tracking_disabled;    /* ACS userEngagementTrackingDisabled */
  unsigned char key_bin[32]; /* message key, raw SHA-256 */
  char key[65];              /* message key, lowercase hex, NUL-terminated */
} sg_sbx_msg;

/* Empties |m| (all pointers NULL, counts 0, save_to_sent_items true). */
void sg_sbx_msg_init(sg_sbx_msg *m);
/* Frees everything |m| owns and re-initializes it. */
void sg_sbx_msg_free(sg_sbx_msg *m);

/*
 * Appends a copy of |address| (and of |name|, which may be NULL) to |l|.
 * |address| must contain '@' (sg_sbx_addr_valid); the domain pointer is set
 * to the byte after the last '@'.
 */
void sg_sbx_addr_list_add(sg_sbx_addr_list *l, const char *address, const char *name);
/* Appends a header (copies both strings) to |m|. */
void sg_sbx_msg_add_hdr(sg_sbx_msg *m, const char *name, const char *value);
/* Appends an attachment record (copies the strings; NULL allowed except name). */
sg_sbx_att *sg_sbx_msg_add_att(sg_sbx_msg *m, const char *name, const char *content_type,
                               const char *content_id, bool is_inline, size_t size);

/* Lowercase hex SHA-256 of |n| bytes at |p| into |out|. */
void sg_sbx_sha256_hex(const void *p, size_t n, char out[65]);
/* Lowercase hex of a raw 32-byte digest into |out|. */
void sg_sbx_hex32(const unsigned char md[32], char out[65]);

/*
 * Computes m->key and m->key_bin from m->api, m->mailbox (NULL counts as "") and the |len|
 * request body bytes at |body|. |m->api| must be set.
 */
void sg_sbx_msg_set_key(sg_sbx_msg *m, const char *body, size_t len);

/*
 * True when any To/Cc/Bcc recipient's domain equals |domain| (ASCII case
 * insensitive). Used by the sandbox to bounce configured domains.
 */
bool sg_sbx_msg_has_domain(const sg_sbx_msg *m, const char *domain);

/*
 * Appends |m| as one JSON object (no trailing newline) to |out|:
 * {"api","key","mailbox","from","to":[..],"cc","bcc","reply_to","recipients",
 *  "domains":[distinct lowercase recipient domains],"subject","body_kind",
 *  "body_len","mime","save_to_sent_items","tracking_disabled",
 *  "attachments":[{"name","content_type","content_id","inline","size","sha256"}],
 *  "headers":[{"name","value"}]}. Absent strings are written as null.
 */
void sg_sbx_msg_to_json(const sg_sbx_msg *m, sg_buf *out);

/*
 * The address syntax both validators accept (a subset of RFC 5321, stricter
 * than Microsoft so anything passing here passes there):
 *   - 3..254 bytes, exactly one '@', printable ASCII only (no spaces, CR, LF,
 *     no quoted local parts, no address literals, no UTF-8);
 *   - local part 1..64 bytes of RFC 5322 atext and dots, no leading,
 *     trailing or doubled dot;
 *   - domain of 2 or more dot-separated labels (so "localhost" and bare hosts
 *     are refused), each 1..63 of [A-Za-z0-9-] not starting or ending with
 *     '-'; the last label is not all digits.
 * |s| is |n| bytes (may contain NUL, which is refused).
 */
bool sg_sbx_addr_valid(const char *s, size_t n);

/*
 * Checks the member names of JSON object |obj| against the NULL-terminated
 * list |names| (at most 32 entries). Returns NULL when every member is listed
 * and none repeats; otherwise the first offending member name (borrowed from
 * |obj|), with |*dup| set when it offends by repeating a listed name.
 */
const char *sg_sbx_json_bad_key(const sg_json *obj, const char *const *names, bool *dup);

/* Sets |v| to a rejection with |status|, static |code| and a printf message. */
void sg_sbx_verdict_set(sg_sbx_verdict *v, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sets |v| to "accepted". */
void sg_sbx_verdict_ok(sg_sbx_verdict *v);

#endif
