/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACS access-key authentication (HMAC-SHA256), both sides: the gateway signs
 * its requests, the sandbox verifies them.
 *
 *   StringToSign  = VERB "\n" pathAndQuery "\n" x-ms-date ";" host ";" contentHash
 *   Authorization = "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=" b64
 *
 * where contentHash = base64(SHA-256(body)) (the x-ms-content-sha256 header),
 * host is the authority exactly as the Host / :authority header carries it
 * (":port" only for a non-default port) and the HMAC key is the
 * base64-decoded access key. Also parses the connection string
 * "endpoint=https://host[:port]/[path];accesskey=<base64>". Pure: no clock is
 * read, "now" is an argument.
 */
#ifndef SG_ACS_HMAC_H
#define SG_ACS_HMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_http.h"
#include "core/sg_mem.h"

/* Length of base64(SHA-256 digest) and of base64(HMAC-SHA256). */
#define SG_ACS_B64_SHA256_LEN 44
/* Default x-ms-date tolerance of the verifier (Azure App Configuration allows 15 min). */
#define SG_ACS_DEFAULT_SKEW_MS (15 * 60 * 1000)

/* A parsed connection string. Every pointer is owned; free with sg_acs_conn_free. */
typedef struct sg_acs_conn {
  char *scheme;       /* "https" or "http", lower case */
  char *host;         /* host name or IP literal (IPv6 keeps its brackets) */
  uint16_t port;      /* the explicit port, else 443 / 80 */
  char *authority;    /* "host" or "host:port" (port only when not the scheme's default) */
  char *base_path;    /* "" or "/path" without a trailing slash */
  char *endpoint;     /* scheme://authority + base_path, no trailing slash */
  unsigned char *key; /* decoded access key */
  size_t key_len;
} sg_acs_conn;

/*
 * Parses |s| ("endpoint=...;accesskey=..."; keys case-insensitive, any order,
 * empty parts and unknown keys ignored; the endpoint's trailing slash is
 * optional). |out| is filled only on success and then owns its strings.
 * Returns 0 or one of: SG_ERR_PARSE (malformed, a key missing or repeated,
 * bad URL or base64, empty key).
 */
int sg_acs_conn_parse(const char *s, sg_acs_conn *out);
/* Frees what sg_acs_conn_parse allocated; |c| is zeroed. NULL-safe. */
void sg_acs_conn_free(sg_acs_conn *c);

/* Writes base64(SHA-256(|body|)) NUL-terminated into |out|. Returns 0 or SG_ERR_CRYPTO. */
int sg_acs_content_hash(const void *body, size_t len, char out[SG_ACS_B64_SHA256_LEN + 1]);

/*
 * Appends the string to sign to |out|. |verb| is upper-cased; the other
 * strings go in verbatim (borrowed).
 */
void sg_acs_string_to_sign(sg_buf *out, const char *verb, const char *path_and_query,
                           const char *date, const char *host, const char *content_hash);

/* What the gateway puts on the wire for one request. */
typedef struct sg_acs_signed {
  char content_hash[SG_ACS_B64_SHA256_LEN + 1]; /* x-ms-content-sha256 */
  char signature[SG_ACS_B64_SHA256_LEN + 1];
  char authorization[128]; /* Authorization header value */
} sg_acs_signed;

/*
 * Signs one request. |key| is the decoded access key; |date| the x-ms-date
 * value the request carries (format it with sg_time_imf); |host| the
 * authority (sg_acs_conn.authority); |path_and_query| exactly as sent
 * ("/emails:send?api-version=2023-03-31"). All borrowed.
 * Returns 0 or one of: SG_ERR_INVAL (empty key, NULL strings), SG_ERR_CRYPTO.
 */
int sg_acs_sign(const unsigned char *key, size_t key_len, const char *verb,
                const char *path_and_query, const char *host, const char *date, const void *body,
                size_t body_len, sg_acs_signed *out);

/* Verifier outcome. Everything but OK is answered with 401 code "Denied". */
typedef enum {
  SG_ACS_VERIFY_OK = 0,
  SG_ACS_VERIFY_MALFORMED,    /* no/unparseable Authorization, missing date or hash header */
  SG_ACS_VERIFY_CONTENT_HASH, /* x-ms-content-sha256 is not the body's hash */
  SG_ACS_VERIFY_SIGNATURE,    /* signature does not match */
  SG_ACS_VERIFY_DATE_SKEW     /* signature fine, but x-ms-date too far from now */
} sg_acs_verify_result;

/* A byte range (not necessarily NUL-terminated); {NULL, 0} means absent. */
typedef struct sg_acs_str {
  const char *p;
  size_t n;
} sg_acs_str;

/* The parts of a request the verifier needs; all borrowed. */
typedef struct sg_acs_verify_req {
  sg_acs_str method;         /* ":method" */
  sg_acs_str path_and_query; /* ":path" */
  sg_acs_str host;           /* ":authority" or Host */
  sg_acs_str authorization;  /* Authorization header value */
  sg_acs_str date;           /* x-ms-date (or Date when x-ms-date is absent) */
  sg_acs_str content_hash;   /* x-ms-content-sha256 */
  const void *body;
  size_t body_len;
} sg_acs_verify_req;

/*
 * Verifies |req| against |key| (decoded). Checks, in order: the header is
 * well formed, the content hash matches the body, the signature matches
 * (CRYPTO_memcmp), x-ms-date is within |max_skew_ms| of |now_ms| (Unix ms;
 * max_skew_ms < 0 disables the check).
 */
sg_acs_verify_result sg_acs_verify(const unsigned char *key, size_t key_len,
                                   const sg_acs_verify_req *req, int64_t now_ms,
                                   int64_t max_skew_ms);

/*
 * Same, taking the headers from |hdrs| (names lower case: authorization,
 * x-ms-date or date, x-ms-content-sha256); |method|, |path_and_query| and
 * |host| are the pseudo-headers. All borrowed.
 */
sg_acs_verify_result sg_acs_verify_headers(const unsigned char *key, size_t key_len,
                                           const char *method, const char *path_and_query,
                                           const char *host, const sg_http_header *hdrs,
                                           size_t nhdrs, const void *body, size_t body_len,
                                           int64_t now_ms, int64_t max_skew_ms);

/*
 * The error message ACS answers with (code "Denied", status 401):
 * "Request 'x-ms-content-sha256' differs from generated content hash." for
 * CONTENT_HASH, "Denied by the resource provider." otherwise; NULL for OK.
 */
const char *sg_acs_verify_message(sg_acs_verify_result r);
/* Short name for logs and metrics ("ok", "malformed", "content_hash", ...). */
const char *sg_acs_verify_name(sg_acs_verify_result r);

/*
 * Parses an Authorization value "HMAC-SHA256 SignedHeaders=..&Signature=.."
 * (parameters in any order). SignedHeaders must be
 * "x-ms-date;host;x-ms-content-sha256" or "date;host;x-ms-content-sha256"
 * (case-insensitive). |sig| receives the signature range (borrowed from |v|).
 * Returns 0 or SG_ERR_PARSE.
 */
int sg_acs_auth_parse(const char *v, size_t n, sg_acs_str *sig);

/*
 * Parses an IMF-fixdate ("Mon, 01 Jan 2024 00:00:00 GMT") into Unix seconds.
 * The weekday must be a valid name (it is not cross-checked against the date).
 * Returns 0 or SG_ERR_PARSE.
 */
int sg_acs_parse_date(const char *s, size_t n, int64_t *unix_s);

#endif
