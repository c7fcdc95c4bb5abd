/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper: a private redis-server on a free loopback port, in its own
 * temporary directory, started with fork/exec and stopped by pid. Waiting for
 * it is a bounded PING loop. Header-only (static functions) so any test can
 * include it; uses hiredis's blocking API, which is fine in tests.
 *
 *   sg_test_redis r;
 *   ASSERT_OK(sg_test_redis_start(&r, NULL));
 *   redisReply *x = sg_test_redis_cmd(&r, "XLEN %s", "k"); ... freeReplyObject(x);
 *   sg_test_redis_kill(&r); sg_test_redis_restart(&r);   // same port and dir (AOF kept)
 *   sg_test_redis_stop(&r);                               // also removes the dir
 *
 * The binary is $SG_REDIS_SERVER or redis-server from PATH.
 */
#ifndef SG_TEST_REDIS_SERVER_H
#define SG_TEST_REDIS_SERVER_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct sg_test_redis_opts {
  const char *password; /* requirepass; NULL: none */
  bool appendonly;      /* appendonly yes + appendfsync always */
} sg_test_redis_opts;

typedef struct sg_test_redis {
  pid_t pid;
  int port;
  char dir[256];
  char password[128];
  bool appendonly;
} sg_test_redis;

static inline void sg_test_redis_sleep_ms_(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* A port the kernel just handed out on 127.0.0.1 (closed again; tiny reuse race). */
static inline int sg_test_free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = -1;
  if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0)
    close(fd);
  return port;
}

/* Blocking connection (with AUTH) for test assertions; NULL if it fails. */
static inline redisContext *sg_test_redis_connect(const sg_test_redis *r) {
  struct timeval tv = {1, 0};
  redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
  if (c == NULL || c->err) {
    if (c)
      redisFree(c);
    return NULL;
  }
  redisSetTimeout(c, (struct timeval){10, 0});
  if (r->password[0]) {
    redisReply *x = redisCommand(c, "AUTH %s", r->password);
    bool ok = x && x->type == REDIS_REPLY_STATUS;
    if (x)
      freeReplyObject(x);
    if (!ok) {
      redisFree(c);
      return NULL;
    }
  }
  return c;
}

/* Runs one command on a fresh blocking connection; the caller frees the reply. */
static inline redisReply *sg_test_redis_cmd(const sg_test_redis *r, const char *fmt, ...) {
  redisContext *c = sg_test_redis_connect(r);
  if (c == NULL)
    return NULL;
  va_list ap;
  va_start(ap, fmt);
  redisReply *x = redisvCommand(c, fmt, ap);
  va_end(ap);
  redisFree(c);
  return x;
}

/* Same as sg_test_redis_cmd but returns an integer reply's value (or -1). */
static inline long long sg_test_redis_int(const sg_test_redis *r, const char *fmt, ...) {
  redisContext *c = sg_test_redis_connect(r);
  if (c == NULL)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  redisReply *x = redisvCommand(c, fmt, ap);
  va_end(ap);
  redisFree(c);
  long long v = x && x->type == REDIS_REPLY_INTEGER ? x->integer : -1;
  if (x)
    freeReplyObject(x);
  return v;
}

static inline int sg_test_redis_spawn_(sg_test_redis *r) {
  char port[16];
  snprintf(port, sizeof port, "%d", r->port);
  const char *bin = getenv("SG_REDIS_SERVER");
  if (bin == NULL || bin[0] == '\0')
    bin = "redis-server";
  const char *argv[32];
  int n = 0;
  argv[n++] = bin;
  argv[n++] = "--port";
  argv[n++] = port;
  argv[n++] = "--bind";
  argv[n++] = "127.0.0.1";
  argv[n++] = "--dir";
  argv[n++] = r->dir;
  argv[n++] = "--save";
  argv[n++] = "";
  argv[n++] = "--daemonize";
  argv[n++] = "no";
  argv[n++] = "--logfile";
  argv[n++] = "redis.log";
  argv[n++] = "--appendonly";
  argv[n++] = r->appendonly ? "yes" : "no";
  argv[n++] = "--enable-debug-command"; /* DEBUG SLEEP forces command timeouts */
  argv[n++] = "local";
  argv[n++] = "--appendfsync";
  argv[n++] = "always"; /* a SIGKILL must not lose acknowledged writes */
  if (r->password[0]) {
    argv[n++] = "--requirepass";
    argv[n++] = r->password;
  }
  argv[n] = NULL;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return -errno;
  if (pid == 0) {
    execvp(bin, (char *const *)argv);
    _exit(127);
  }
  r->pid = pid;
  /* Wait for PING: 200 x 25 ms = 5 s at most. */
  for (int i = 0; i < 200; i++) {
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      r->pid = 0;
      fprintf(stderr, "redis-server exited early (see %s/redis.log)\n", r->dir);
      return -1;
    }
    redisContext *c = sg_test_redis_connect(r);
    if (c) {
      redisReply *x = redisCommand(c, "PING");
      bool ok = x && x->type == REDIS_REPLY_STATUS && strcmp(x->str, "PONG") == 0;
      if (x)
        freeReplyObject(x);
      redisFree(c);
      if (ok)
        return 0;
    }
    sg_test_redis_sleep_ms_(25);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  r->pid = 0;
  return -1;
}

/* Starts a server; |o| may be NULL. Returns 0 or -1 (with a message on stderr). */
static inline int sg_test_redis_start(sg_test_redis *r, const sg_test_redis_opts *o) {
  memset(r, 0, sizeof *r);
  const char *tmp = getenv("TMPDIR");
  snprintf(r->dir, sizeof r->dir, "%s/sg-redis-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
  if (mkdtemp(r->dir) == NULL)
    return -1;
  if (o && o->password)
    snprintf(r->password, sizeof r->password, "%s", o->password);
  r->appendonly = o && o->appendonly;
  /* A picked port can be taken before redis binds it: try a few. */
  for (int attempt = 0; attempt < 5; attempt++) {
    r->port = sg_test_free_port();
    if (r->port > 0 && sg_test_redis_spawn_(r) == 0)
      return 0;
  }
  return -1;
}

/* Waits (bounded, 10 s) for the server process to exit after |sig|. */
static inline void sg_test_redis_signal_(sg_test_redis *r, int sig) {
  if (r->pid <= 0)
    return;
  kill(r->pid, sig);
  for (int i = 0; i < 1000; i++) {
    if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
      r->pid = 0;
      return;
    }
    sg_test_redis_sleep_ms_(10);
  }
  kill(r->pid, SIGKILL);
  waitpid(r->pid, NULL, 0);
  r->pid = 0;
}

/* Crashes the server (SIGKILL); data dir and port are kept for a restart. */
static inline void sg_test_redis_kill(sg_test_redis *r) {
  sg_test_redis_signal_(r, SIGKILL);
}

/* Starts it again on the same port and directory. Returns 0 or -1. */
static inline int sg_test_redis_restart(sg_test_redis *r) {
  for (int attempt = 0; attempt < 20; attempt++) { /* the port may linger briefly */
    if (sg_test_redis_spawn_(r) == 0)
      return 0;
    sg_test_redis_sleep_ms_(50);
  }
  return -1;
}

/* Stops the server (SIGTERM) and removes its directory. */
static inline void sg_test_redis_stop(sg_test_redis *r) {
  sg_test_redis_signal_(r, SIGTERM);
  DIR *d = opendir(r->dir);
  if (d) {
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
        continue;
      snprintf(path, sizeof path, "%s/%s", r->dir, e->d_name);
      DIR *sub = opendir(path); /* Redis 7 keeps the AOF in appendonlydir/ */
      if (sub) {
        struct dirent *f;
        char p2[800];
        while ((f = readdir(sub)) != NULL) {
          snprintf(p2, sizeof p2, "%s/%s", path, f->d_name);
          if (strcmp(f->d_name, ".") && strcmp(f->d_name, ".."))
            unlink(p2);
        }
        closedir(sub);
        rmdir(path);
      } else {
        unlink(path);
      }
    }
    closedir(d);
    rmdir(r->dir);
  }
}

#endif
