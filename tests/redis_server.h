/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper: a private redis-server on a reserved loopback port, in its
 * own temporary directory, started with fork/exec and stopped by pid. Waiting
 * for it is a bounded loop until INFO shows our process answering. Header-only (static functions)
 * so any test can include it; uses hiredis's blocking API, which is fine in tests.
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
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct sg_test_redis_opts {
  const char *password; /* requirepass; NULL: none */
  bool appendonly;      /* appendonly yes + appendfsync always */
  bool unixsocket;      /* also listen on <dir>/redis.sock (sg_test_redis.sock) */
  /* Also listen with TLS on sg_test_redis.tls_port, with the ca.pem,
   * server.pem and server-key.pem of this directory (sg_sbx_certgen). */
  const char *tls_dir;
} sg_test_redis_opts;

typedef struct sg_test_redis {
  pid_t pid;
  int port;
  char dir[256];
  char password[128];
  bool appendonly;
  char sock[300]; /* unix socket path, "" when none */
  int tls_port;   /* 0 when none */
  char tls_cert[300], tls_key[300], tls_ca[300];
} sg_test_redis;

static inline void sg_test_redis_sleep_ms_(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/*
 * Ports. Tests run side by side (ctest -j), and a port that is merely free
 * now can be taken by another test's server, or by an outgoing connection,
 * before our server binds it; a client that then reaches the other server
 * mixes two tests' data. So a test port is picked below the kernel's
 * ephemeral range (outgoing connections never take it), reserved for this
 * process with an atomic mkdir under SG_TEST_PORT_DIR (a reservation whose
 * owner is gone is taken over), and checked to be bindable. The shell tests
 * (integration/lib.sh free_port) use the same directory and range.
 */
#define SG_TEST_PORT_DIR "/tmp/sg-test-ports"
#define SG_TEST_PORT_LO 20000
#define SG_TEST_PORT_HI 32000

static inline bool sg_test_port_bindable_(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return false;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* as servers bind */
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

/* Takes the reservation of |port| (or a stale one); true when it is ours. */
static inline bool sg_test_port_reserve_(int port) {
  char dir[64], pidf[96];
  snprintf(dir, sizeof dir, SG_TEST_PORT_DIR "/%d", port);
  snprintf(pidf, sizeof pidf, "%s/pid", dir);
  if (mkdir(dir, 0700) != 0) {
    if (errno != EEXIST)
      return false;
    FILE *f = fopen(pidf, "r");
    long owner = 0;
    if (f) {
      if (fscanf(f, "%ld", &owner) != 1)
        owner = 0;
      fclose(f);
    }
    if (owner <= 0 || (kill((pid_t)owner, 0) == 0 || errno != ESRCH))
      return false; /* held (or being written): pick another */
    unlink(pidf);
    if (rmdir(dir) != 0 || mkdir(dir, 0700) != 0)
      return false;
  }
  FILE *f = fopen(pidf, "w");
  if (f == NULL) {
    rmdir(dir);
    return false;
  }
  fprintf(f, "%ld\n", (long)getpid());
  fclose(f);
  return true;
}

static inline void sg_test_port_release(int port) {
  char dir[64], pidf[96];
  snprintf(dir, sizeof dir, SG_TEST_PORT_DIR "/%d", port);
  snprintf(pidf, sizeof pidf, "%s/pid", dir);
  unlink(pidf);
  rmdir(dir);
}

/* A port reserved for this process (release with sg_test_port_release), or -1. */
static inline int sg_test_free_port(void) {
  mkdir(SG_TEST_PORT_DIR, 01777);
  unsigned seed = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);
  for (int i = 0; i < 500; i++) {
    seed = seed * 1103515245u + 12345u;
    int port = SG_TEST_PORT_LO + (int)((seed >> 8) % (SG_TEST_PORT_HI - SG_TEST_PORT_LO));
    if (!sg_test_port_reserve_(port))
      continue;
    if (sg_test_port_bindable_(port))
      return port;
    sg_test_port_release(port);
  }
  return -1;
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
  const char *argv[48];
  char tls_port[16];
  snprintf(tls_port, sizeof tls_port, "%d", r->tls_port);
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
  if (r->tls_port > 0) {
    argv[n++] = "--tls-port";
    argv[n++] = tls_port;
    argv[n++] = "--tls-cert-file";
    argv[n++] = r->tls_cert;
    argv[n++] = "--tls-key-file";
    argv[n++] = r->tls_key;
    argv[n++] = "--tls-ca-cert-file";
    argv[n++] = r->tls_ca;
    argv[n++] = "--tls-auth-clients";
    argv[n++] = "no";
  }
  if (r->sock[0]) {
    argv[n++] = "--unixsocket";
    argv[n++] = r->sock;
    argv[n++] = "--unixsocketperm";
    argv[n++] = "700";
  }
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
      /* Ours (not another test's server on the same port), and loaded. */
      redisReply *x = redisCommand(c, "INFO");
      char want[32];
      snprintf(want, sizeof want, "\nprocess_id:%ld\r", (long)pid);
      bool ok = x && x->type == REDIS_REPLY_STRING && strstr(x->str, want) != NULL &&
                strstr(x->str, "\nloading:0\r") != NULL;
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
  if (o && o->unixsocket)
    snprintf(r->sock, sizeof r->sock, "%s/redis.sock", r->dir);
  if (o && o->tls_dir) {
    snprintf(r->tls_cert, sizeof r->tls_cert, "%s/server.pem", o->tls_dir);
    snprintf(r->tls_key, sizeof r->tls_key, "%s/server-key.pem", o->tls_dir);
    snprintf(r->tls_ca, sizeof r->tls_ca, "%s/ca.pem", o->tls_dir);
    r->tls_port = sg_test_free_port();
  }
  /* A picked port can be taken before redis binds it: try a few. */
  for (int attempt = 0; attempt < 5; attempt++) {
    r->port = sg_test_free_port();
    if (r->port > 0 && sg_test_redis_spawn_(r) == 0)
      return 0;
    if (r->port > 0)
      sg_test_port_release(r->port);
  }
  r->port = 0;
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
  if (r->port > 0)
    sg_test_port_release(r->port);
  if (r->tls_port > 0)
    sg_test_port_release(r->tls_port);
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
