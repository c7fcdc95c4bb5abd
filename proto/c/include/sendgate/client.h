/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sendgate client for C and C++ apps: build a MailJob, queue it on the
 * gateway's Redis stream (XADD sendgate:jobs * job <bytes>), and wait for or
 * read its MailResult. A thin layer over protobuf-c and hiredis's blocking
 * API, as `sendgate send` does it; no threads, no event loop. One sgc_client
 * is one Redis connection: use it from one thread at a time.
 *
 *   sgc_client *c;
 *   char err[256];
 *   if (sgc_connect(&c, NULL, err, sizeof err) != 0) { fputs(err, stderr); ... }
 *   sgc_job *j = sgc_job_new();
 *   sgc_job_set_sender(j, "alerts@contoso.com");
 *   sgc_job_add_recipient(j, SGC_TO, "oncall@contoso.com", NULL);
 *   sgc_job_set_subject(j, "Backup failed");
 *   sgc_job_set_text(j, "see the log");
 *   sgc_result *r;
 *   if (sgc_send_and_wait(c, j, 30000, &r) == 0) {
 *     printf("%s %s %s\n", r->job_id, sgc_status_name(r->status), r->error_code);
 *     sgc_result_free(r);
 *   }
 *   sgc_job_free(j);
 *   sgc_close(c);
 *
 * Errors: functions return 0 or a negative SGC_ERR_*; sgc_errstr() has the
 * detail of a client's last error. A result that is not SENT is not an error
 * of these functions: look at result->status and result->error_code.
 */
#ifndef SENDGATE_CLIENT_H
#define SENDGATE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  SGC_OK = 0,
  SGC_ERR_ARG = -1,     /* a bad argument or job: nothing was queued */
  SGC_ERR_NOMEM = -2,   /* out of memory */
  SGC_ERR_REDIS = -3,   /* connecting or a Redis command failed (sgc_errstr) */
  SGC_ERR_TIMEOUT = -4, /* no result in time; the job stays queued */
  SGC_ERR_DECODE = -5,  /* bytes that are not a MailResult */
};

/* The schema's enums (proto/sendgate/v1/mail.proto), same values. */
typedef enum {
  SGC_BACKEND_DEFAULT = 0,
  SGC_BACKEND_GRAPH = 1,
  SGC_BACKEND_ACS = 2,
  SGC_BACKEND_SMTP = 3
} sgc_backend;
typedef enum {
  SGC_STATUS_UNSPECIFIED = 0,
  SGC_STATUS_SENT = 1,    /* the provider accepted the message */
  SGC_STATUS_FAILED = 2,  /* the provider refused it for good */
  SGC_STATUS_INVALID = 3, /* the gateway refused the job; nothing was sent */
  SGC_STATUS_EXPIRED = 4, /* transient failures until max_attempts or the deadline */
} sgc_status;
typedef enum { SGC_TO, SGC_CC, SGC_BCC, SGC_REPLY_TO } sgc_rcpt_kind;

/* Job ids are 1..SGC_ID_MAX printable ASCII characters. */
#define SGC_ID_MAX 128
/* A stream entry id ("1700000000000-0") fits with its NUL. */
#define SGC_CURSOR_MAX 48

/* A static string for an SGC_ERR_* value. */
const char *sgc_strerror(int err);
/* "SENT", "FAILED", "INVALID", "EXPIRED" or "UNSPECIFIED". */
const char *sgc_status_name(int status);

/* ---- jobs ---- */

typedef struct sgc_job sgc_job;

/* A new empty job, or NULL when out of memory. Setters copy their arguments. */
sgc_job *sgc_job_new(void);
void sgc_job_free(sgc_job *j);

/*
 * Setters and adders. Each returns 0, SGC_ERR_ARG (NULL where text is needed,
 * an id that is not 1..128 printable ASCII) or SGC_ERR_NOMEM. A name or
 * content id may be NULL (empty).
 */
int sgc_job_set_id(sgc_job *j, const char *id);
int sgc_job_set_sender(sgc_job *j, const char *sender);
int sgc_job_set_subject(sgc_job *j, const char *subject);
int sgc_job_set_text(sgc_job *j, const char *text);
int sgc_job_set_html(sgc_job *j, const char *html);
int sgc_job_set_account(sgc_job *j, const char *account);
int sgc_job_set_reply_stream(sgc_job *j, const char *stream);
int sgc_job_set_campaign_id(sgc_job *j, const char *campaign_id);
/* A complete RFC 5322 message (Graph; ACS gets it taken apart); recipients
 * added beside it are its envelope. */
int sgc_job_set_mime(sgc_job *j, const void *data, size_t len);
void sgc_job_set_backend(sgc_job *j, sgc_backend backend);
void sgc_job_set_max_attempts(sgc_job *j, uint32_t max_attempts);
void sgc_job_set_deadline_unix_ms(sgc_job *j, int64_t deadline_unix_ms);
void sgc_job_set_save_to_sent_items(sgc_job *j, int save);
int sgc_job_add_recipient(sgc_job *j, sgc_rcpt_kind kind, const char *address, const char *name);
int sgc_job_add_header(sgc_job *j, const char *name, const char *value);
int sgc_job_add_metadata(sgc_job *j, const char *key, const char *value);
int sgc_job_add_attachment(sgc_job *j, const char *name, const char *content_type, const void *data,
                           size_t len, const char *content_id, int is_inline);

/* The job's id ("" until set or until sgc_send generated one). */
const char *sgc_job_id(const sgc_job *j);

/*
 * Checks what the gateway would refuse for sure (id, sender, content,
 * recipients, mime beside content), gives the job a random id if it has none
 * and sets created_unix_ms, and serializes it into a malloc'd buffer the
 * caller frees (*out, *len). Returns 0, SGC_ERR_ARG or SGC_ERR_NOMEM; on
 * SGC_ERR_ARG, |why| (may be NULL) names the problem.
 */
int sgc_job_encode(sgc_job *j, uint8_t **out, size_t *len, const char **why);

/* ---- results ---- */

typedef struct sgc_result {
  const char *job_id;
  sgc_status status;
  sgc_backend backend;
  uint32_t attempts;
  int32_t http_status;
  const char *error_code; /* provider code or SENDGATE_*; "" when none */
  const char *error_message;
  const char *provider_request_id;
  const char *operation_id;
  const char *campaign_id;
  int64_t created_unix_ms;
  int64_t completed_unix_ms;
  const char *stream_entry_id;   /* the job entry's Redis id */
  char entry_id[SGC_CURSOR_MAX]; /* the result entry's Redis id */
  void *priv_;                   /* the decoded message; do not touch */
} sgc_result;

/* Decodes a serialized MailResult into *out (free with sgc_result_free).
 * Returns 0, SGC_ERR_DECODE or SGC_ERR_NOMEM. */
int sgc_result_decode(const uint8_t *data, size_t len, sgc_result **out);
void sgc_result_free(sgc_result *r);
/* The echoed metadata: its size, the i-th pair, or a key's value (NULL). */
size_t sgc_result_metadata_count(const sgc_result *r);
void sgc_result_metadata_at(const sgc_result *r, size_t i, const char **key, const char **value);
const char *sgc_result_metadata(const sgc_result *r, const char *key);

/* ---- the client ---- */

typedef struct sgc_client sgc_client;

/*
 * Connects to Redis at |url| (redis://[[user]:password@]host[:port][/db]);
 * NULL: $SENDGATE_REDIS_URL, else redis://127.0.0.1:6379/0. Returns 0,
 * SGC_ERR_ARG (a URL it cannot read), SGC_ERR_REDIS or SGC_ERR_NOMEM, with
 * the reason in |err| (may be NULL).
 */
int sgc_connect(sgc_client **out, const char *url, char *err, size_t errlen);
void sgc_close(sgc_client *c);
/* The detail of the client's last error ("" when none). */
const char *sgc_errstr(const sgc_client *c);
/* Stream names (copied): defaults "sendgate:jobs", "sendgate:results", and
 * the gateway's reply_stream_prefix "sendgate:results". */
int sgc_set_streams(sgc_client *c, const char *jobs, const char *results, const char *reply_prefix);

/* Queues |j| (see sgc_job_encode); its id is then sgc_job_id(j). Returns 0,
 * SGC_ERR_ARG (also: a reply stream outside the prefix), SGC_ERR_REDIS or
 * SGC_ERR_NOMEM. */
int sgc_send(sgc_client *c, sgc_job *j);

/*
 * Queues |j| and waits up to |timeout_ms| for its result, on the job's
 * reply stream or, when it has none, on a stream of its own
 * (<prefix>:reply:<id>, deleted afterwards). *out receives the result,
 * whatever its status. Returns 0, SGC_ERR_TIMEOUT, or an error of sgc_send.
 */
int sgc_send_and_wait(sgc_client *c, sgc_job *j, int timeout_ms, sgc_result **out);

/* The result of |job_id| on |stream| (NULL: the results stream) after entry
 * id |after| ("0": from the start). Returns 0, SGC_ERR_TIMEOUT or SGC_ERR_REDIS. */
int sgc_wait(sgc_client *c, const char *stream, const char *job_id, const char *after,
             int timeout_ms, sgc_result **out);

/*
 * Reads the next results on |stream| (NULL: the results stream) after
 * |cursor| ("$" is first replaced by the stream's last id, "0" reads from the
 * start), blocking up to |block_ms| for the first one (XREAD BLOCK; no
 * consumer group). Each result is handed to |cb|, which owns it (free it with
 * sgc_result_free); |cursor| advances past what was read, so a loop of calls
 * sees every result once. Returns the number of results (0 when none came),
 * or SGC_ERR_REDIS.
 */
typedef void (*sgc_result_cb)(sgc_result *r, void *user);
int sgc_read_results(sgc_client *c, const char *stream, char cursor[SGC_CURSOR_MAX], int block_ms,
                     sgc_result_cb cb, void *user);

#ifdef __cplusplus
}
#endif
#endif
