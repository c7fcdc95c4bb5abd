/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The C client library (proto/c) without a gateway: URLs, the job builder and
 * its local checks (decoded back with protobuf-c), and send / wait /
 * read_results against a private redis-server, where the test plays the
 * gateway by publishing MailResults itself.
 */
#include "harness.h"
#include "redis_server.h"

#include "sendgate/v1/mail.pb-c.h"
#include "sgc_int.h"

static void t_url(void) {
  sgc_url u;
  ASSERT_OK(sgc_url_parse("redis://127.0.0.1:6380/2", &u));
  ASSERT_STR_EQ("127.0.0.1", u.host);
  ASSERT_EQ(6380, u.port);
  ASSERT_EQ(2, u.db);
  ASSERT_NULL(u.password);
  ASSERT_OK(sgc_url_parse("redis://:s3cr@t@redis.local", &u));
  ASSERT_STR_EQ("redis.local", u.host);
  ASSERT_STR_EQ("s3cr@t", u.password); /* the last @ ends the user info */
  ASSERT_NULL(u.user);
  ASSERT_EQ(6379, u.port);
  ASSERT_EQ(0, u.db);
  ASSERT_OK(sgc_url_parse("redis://app:pw@[::1]:7000/1", &u));
  ASSERT_STR_EQ("app", u.user);
  ASSERT_STR_EQ("pw", u.password);
  ASSERT_STR_EQ("::1", u.host);
  ASSERT_EQ(7000, u.port);
  ASSERT_EQ(SGC_ERR_ARG, sgc_url_parse("rediss://h:6379", &u));
  ASSERT_EQ(SGC_ERR_ARG, sgc_url_parse("redis://h:99999", &u));
  ASSERT_EQ(SGC_ERR_ARG, sgc_url_parse("redis://h:6379/x", &u));
  ASSERT_EQ(SGC_ERR_ARG, sgc_url_parse("http://h", &u));
}

static Sendgate__V1__MailJob *encode_decode(sgc_job *j) {
  uint8_t *buf;
  size_t len;
  ASSERT_OK(sgc_job_encode(j, &buf, &len, NULL));
  Sendgate__V1__MailJob *m = sendgate__v1__mail_job__unpack(NULL, len, buf);
  free(buf);
  ASSERT_NOT_NULL(m);
  return m;
}

static void t_job(void) {
  sgc_job *j = sgc_job_new();
  ASSERT_OK(sgc_job_set_id(j, "order-1"));
  ASSERT_OK(sgc_job_set_sender(j, "a@contoso.com"));
  ASSERT_OK(sgc_job_add_recipient(j, SGC_TO, "b@example.com", "B"));
  ASSERT_OK(sgc_job_add_recipient(j, SGC_BCC, "c@example.com", NULL));
  ASSERT_OK(sgc_job_set_subject(j, "s"));
  ASSERT_OK(sgc_job_set_subject(j, "subject")); /* replaced, the old copy freed */
  ASSERT_OK(sgc_job_set_html(j, "<p>x</p>"));
  ASSERT_OK(sgc_job_add_header(j, "X-A", "1"));
  ASSERT_OK(sgc_job_add_metadata(j, "k", "v"));
  ASSERT_OK(sgc_job_add_attachment(j, "a.bin", NULL, "\0\1\2", 3, "cid1", 1));
  ASSERT_OK(sgc_job_set_account(j, "second"));
  sgc_job_set_backend(j, SGC_BACKEND_ACS);
  sgc_job_set_max_attempts(j, 3);
  sgc_job_set_priority(j, SGC_PRIORITY_BULK);
  Sendgate__V1__MailJob *m = encode_decode(j);
  ASSERT_STR_EQ("order-1", m->id);
  ASSERT_STR_EQ("a@contoso.com", m->sender);
  ASSERT_EQ(1, m->n_to);
  ASSERT_STR_EQ("B", m->to[0]->name);
  ASSERT_EQ(1, m->n_bcc);
  ASSERT_STR_EQ("subject", m->subject);
  ASSERT_STR_EQ("<p>x</p>", m->html_body);
  ASSERT_STR_EQ("X-A", m->headers[0]->name);
  ASSERT_STR_EQ("v", m->metadata[0]->value);
  ASSERT_EQ(3, m->attachments[0]->content.len);
  ASSERT_MEM_EQ("\0\1\2", m->attachments[0]->content.data, 3);
  ASSERT_STR_EQ("application/octet-stream", m->attachments[0]->content_type);
  ASSERT(m->attachments[0]->inline_);
  ASSERT_STR_EQ("second", m->account);
  ASSERT_EQ(SENDGATE__V1__BACKEND__BACKEND_ACS, m->backend);
  ASSERT_EQ(3, m->max_attempts);
  ASSERT_EQ(SENDGATE__V1__PRIORITY__PRIORITY_BULK, m->priority);
  ASSERT_GT(m->created_unix_ms, 1700000000000);
  sendgate__v1__mail_job__free_unpacked(m, NULL);
  sgc_job_free(j);
}

static void t_job_checks(void) {
  char id[SGC_ID_MAX + 2];
  memset(id, 'x', sizeof id - 1);
  id[sizeof id - 1] = '\0';
  sgc_job *j = sgc_job_new();
  ASSERT_EQ(SGC_ERR_ARG, sgc_job_set_id(j, id));
  ASSERT_EQ(SGC_ERR_ARG, sgc_job_set_id(j, "tab\there"));
  ASSERT_EQ(SGC_ERR_ARG, sgc_job_set_id(j, ""));
  ASSERT_EQ(SGC_ERR_ARG, sgc_job_set_sender(j, NULL));
  uint8_t *buf;
  size_t len;
  const char *why;
  ASSERT_EQ(SGC_ERR_ARG, sgc_job_encode(j, &buf, &len, &why));
  ASSERT_STR_EQ("a sender is required", why);
  /* No id: a random one, "c-" and 32 hex digits. */
  ASSERT_EQ(34, strlen(sgc_job_id(j)));
  ASSERT_OK(strncmp(sgc_job_id(j), "c-", 2));
  sgc_job_set_sender(j, "a@contoso.com");
  sgc_job_set_text(j, "t");
  ASSERT_EQ(SGC_ERR_ARG, sgc_job_encode(j, &buf, &len, &why));
  ASSERT_STR_EQ("at least one recipient is required", why);
  sgc_job_set_mime(j, "From: a\r\n\r\nx", 11);
  ASSERT_EQ(SGC_ERR_ARG, sgc_job_encode(j, &buf, &len, &why)); /* mime beside a body */
  sgc_job_free(j);
  /* A MIME job needs no recipients (its header fields decide). */
  j = sgc_job_new();
  sgc_job_set_sender(j, "a@contoso.com");
  sgc_job_set_mime(j, "From: a\r\n\r\nx", 11);
  Sendgate__V1__MailJob *m = encode_decode(j);
  ASSERT_EQ(11, m->mime.len);
  sendgate__v1__mail_job__free_unpacked(m, NULL);
  sgc_job_free(j);
}

/* Publishes a result for |job_id| on |stream|, as the gateway does. */
static void publish(sg_test_redis *r, const char *stream, const char *job_id, int status,
                    const char *code) {
  Sendgate__V1__MailResult m = SENDGATE__V1__MAIL_RESULT__INIT;
  Sendgate__V1__MailResult__MetadataEntry e = SENDGATE__V1__MAIL_RESULT__METADATA_ENTRY__INIT;
  Sendgate__V1__MailResult__MetadataEntry *es[] = {&e};
  char k[] = "k", v[] = "v";
  e.key = k;
  e.value = v;
  m.job_id = (char *)job_id;
  m.status = (Sendgate__V1__Status)status;
  m.error_code = (char *)code;
  m.n_metadata = 1;
  m.metadata = es;
  uint8_t buf[512];
  size_t len = sendgate__v1__mail_result__pack(&m, buf);
  freeReplyObject(sg_test_redis_cmd(r, "XADD %s * result %b", stream, buf, len));
}

static void count_cb(sgc_result *res, void *user) {
  (*(int *)user)++;
  sgc_result_free(res);
}

static void t_redis(void) {
  sg_test_redis r;
  ASSERT_OK(sg_test_redis_start(&r, NULL));
  char url[64], err[256];
  snprintf(url, sizeof url, "redis://127.0.0.1:%d", r.port);
  sgc_client *c;
  ASSERT_OK(sgc_connect(&c, url, err, sizeof err));
  sgc_job *j = sgc_job_new();
  sgc_job_set_id(j, "j1");
  sgc_job_set_sender(j, "a@contoso.com");
  sgc_job_add_recipient(j, SGC_TO, "b@example.com", NULL);
  sgc_job_set_text(j, "t");
  sgc_job_set_reply_stream(j, "sendgate:results:app");
  ASSERT_OK(sgc_send(c, j));
  /* The entry has one field "job", which decodes to the job. */
  redisReply *x = sg_test_redis_cmd(&r, "XRANGE sendgate:jobs - +");
  ASSERT_EQ(1, x->elements);
  ASSERT_STR_EQ("job", x->element[0]->element[1]->element[0]->str);
  const redisReply *v = x->element[0]->element[1]->element[1];
  Sendgate__V1__MailJob *m = sendgate__v1__mail_job__unpack(NULL, v->len, (const uint8_t *)v->str);
  ASSERT_STR_EQ("sendgate:results:app", m->reply_stream);
  sendgate__v1__mail_job__free_unpacked(m, NULL);
  freeReplyObject(x);
  /* Results: others and non-results are skipped; ours is found. */
  freeReplyObject(sg_test_redis_cmd(&r, "XADD sendgate:results:app * other x"));
  publish(&r, "sendgate:results:app", "someone-else", SGC_STATUS_SENT, "");
  publish(&r, "sendgate:results:app", "j1", SGC_STATUS_INVALID, "SENDGATE_BAD_ADDRESS");
  sgc_result *res;
  ASSERT_OK(sgc_wait(c, "sendgate:results:app", "j1", "0", 5000, &res));
  ASSERT_EQ(SGC_STATUS_INVALID, res->status);
  ASSERT_STR_EQ("SENDGATE_BAD_ADDRESS", res->error_code);
  ASSERT_STR_EQ("v", sgc_result_metadata(res, "k"));
  ASSERT_NULL(sgc_result_metadata(res, "nope"));
  ASSERT_NE(0, strlen(res->entry_id));
  sgc_result_free(res);
  /* No result: a timeout after about the time asked. */
  ASSERT_EQ(SGC_ERR_TIMEOUT, sgc_wait(c, "sendgate:results:app", "j2", "0", 200, &res));
  ASSERT_NE(NULL, strstr(sgc_errstr(c), "j2"));
  /* A cursor: "$" sees only what comes later; each result is read once. */
  char cursor[SGC_CURSOR_MAX] = "$";
  int n = 0;
  ASSERT_EQ(0, sgc_read_results(c, "sendgate:results:app", cursor, 10, count_cb, &n));
  publish(&r, "sendgate:results:app", "j3", SGC_STATUS_SENT, "");
  publish(&r, "sendgate:results:app", "j4", SGC_STATUS_SENT, "");
  ASSERT_EQ(2, sgc_read_results(c, "sendgate:results:app", cursor, 10, count_cb, &n));
  ASSERT_EQ(0, sgc_read_results(c, "sendgate:results:app", cursor, 10, count_cb, &n));
  ASSERT_EQ(2, n);
  /* A reply stream outside the prefix is refused before anything is queued. */
  sgc_job_set_reply_stream(j, "elsewhere");
  ASSERT_EQ(SGC_ERR_ARG, sgc_send(c, j));
  ASSERT_EQ(1, sg_test_redis_int(&r, "XLEN sendgate:jobs"));
  sgc_close(c);
  /* The database of the URL. */
  snprintf(url, sizeof url, "redis://127.0.0.1:%d/3", r.port);
  ASSERT_OK(sgc_connect(&c, url, err, sizeof err));
  sgc_job_set_reply_stream(j, "");
  ASSERT_OK(sgc_send(c, j));
  sgc_close(c);
  sgc_job_free(j);
  ASSERT_EQ(1, sg_test_redis_int(&r, "XLEN sendgate:jobs"));
  redisContext *db3 = sg_test_redis_connect(&r);
  freeReplyObject(redisCommand(db3, "SELECT 3"));
  x = redisCommand(db3, "XLEN sendgate:jobs");
  ASSERT_EQ(1, x->integer);
  freeReplyObject(x);
  redisFree(db3);
  /* A server that is gone: an error naming the address. */
  sg_test_redis_stop(&r);
  ASSERT_EQ(SGC_ERR_REDIS, sgc_connect(&c, url, err, sizeof err));
  ASSERT_NE(NULL, strstr(err, "cannot connect"));
}

SG_TESTS({"url", t_url}, {"job", t_job}, {"job_checks", t_job_checks}, {"redis", t_redis})
