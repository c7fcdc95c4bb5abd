/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SMTP AUTH checks for `sendgate smtpd`; see sg_smtp_auth.h. The loop side:
 * lockout and cache decisions (sg_smtp_lockout, sg_smtp_auth_cache), the
 * users file and its reload, and one request object per check that goes
 * through at most two steps: the hash on libuv's thread pool (uv_queue_work),
 * then a timer that delivers the answer (right away, or after fail_delay_ms
 * for a refusal). Every request owns a uv_timer_t, so it is freed in that
 * timer's close callback; the checker itself is freed when the last request
 * is. Only sg_smtp_passwd_verify runs on a worker; it touches nothing shared.
 */
#include "smtp/sg_smtp_auth.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/sg_err.h"
#include "core/sg_list.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "smtp/sg_smtp_auth_cache.h"
#include "smtp/sg_smtp_lockout.h"
#include "smtp/sg_smtp_passwd.h"

/* Entries in the success cache: more than the devices of one site. */
#define CACHE_MAX 4096

/* The users set a request was checked against stays alive (and its user
 * pointer valid) until the request is done, even if a reload replaces it. */
typedef struct users_ref {
  sg_smtp_users *u;
  unsigned refs;
} users_ref;

typedef struct file_sig {
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime, ctime;
} file_sig;

struct sg_smtp_auth {
  uv_loop_t *loop;
  sg_smtp_auth_opts o;
  char *path;
  users_ref *users;
  file_sig sig;
  uint64_t last_stat_ms;
  sg_smtp_lockout *by_ip, *by_user;
  sg_smtp_auth_cache *cache;
  char dummy[128]; /* salt setting hashed for unknown users */
  sg_list reqs;    /* requests not yet finished */
  size_t hashing;  /* queued or running on a worker */
  size_t live;     /* allocated requests, including those closing */
  bool closing;
  sg_smtp_auth_stats st;
};

typedef enum {
  REQ_WORK,  /* on the thread pool */
  REQ_TIMER, /* the answer is due when the timer fires */
  REQ_DONE,  /* delivered or cancelled; the timer is closing */
} req_state;

struct sg_smtp_auth_req {
  sg_smtp_auth *a;
  sg_list link;
  req_state state;
  bool cancelled;
  sg_smtp_auth_cb cb;
  void *ud;
  users_ref *users;
  const sg_smtp_user *user; /* NULL: no such user */
  const char *hash;         /* user->hash or a->dummy */
  char *pw;
  size_t plen;
  bool match; /* set by the worker */
  sg_smtp_auth_result res;
  uint8_t mac[SG_SMTP_AUTH_MAC_LEN];
  char ip_key[64];
  char user_key[SG_SMTP_USER_NAME_MAX + 8];
  uv_work_t work;
  uv_timer_t timer;
};

static users_ref *ref_new(sg_smtp_users *u) {
  users_ref *r = sg_xcalloc(1, sizeof *r);
  r->u = u;
  r->refs = 1;
  return r;
}

static void ref_drop(users_ref *r) {
  if (r != NULL && --r->refs == 0) {
    sg_smtp_users_free(r->u);
    sg_free(r);
  }
}

/* ---- the users file ---- */

static int stat_sig(const char *path, file_sig *s) {
  struct stat st;
  if (stat(path, &st) != 0)
    return SG_ERR_IO;
  memset(s, 0, sizeof *s);
  s->dev = st.st_dev;
  s->ino = st.st_ino;
  s->size = st.st_size;
  s->mtime = st.st_mtim;
  s->ctime = st.st_ctim;
  return 0;
}

static bool same_sig(const file_sig *x, const file_sig *y) {
  return x->dev == y->dev && x->ino == y->ino && x->size == y->size &&
         x->mtime.tv_sec == y->mtime.tv_sec && x->mtime.tv_nsec == y->mtime.tv_nsec &&
         x->ctime.tv_sec == y->ctime.tv_sec && x->ctime.tv_nsec == y->ctime.tv_nsec;
}

/* Blocking, on the loop: a stat, and a read of a small local file when it
 * changed (bounded by SG_SMTP_USERS_FILE_MAX), at most once per interval. */
static int reload(sg_smtp_auth *a) {
  file_sig now;
  if (stat_sig(a->path, &now) != 0) {
    if (a->sig.ino != 0)
      sg_log(SG_LOG_ERROR, "smtp", "users file %s is gone; keeping the %zu users loaded", a->path,
             sg_smtp_users_count(a->users->u));
    memset(&a->sig, 0, sizeof a->sig); /* logged once; a new file is read when it appears */
    return SG_ERR_IO;
  }
  if (same_sig(&now, &a->sig))
    return 0;
  a->sig = now; /* a bad file is reported once, and read again when it changes */
  char err[512];
  sg_smtp_users *u;
  int rv = sg_smtp_users_load(a->path, &u, err, sizeof err);
  if (rv != 0) {
    sg_log(SG_LOG_ERROR, "smtp", "users file not reloaded, keeping the users loaded: %s", err);
    return rv;
  }
  ref_drop(a->users);
  a->users = ref_new(u);
  sg_smtp_auth_cache_clear(a->cache); /* a changed password must not stay valid */
  a->st.reloads++;
  sg_log(SG_LOG_INFO, "smtp", "users file reloaded: %zu users", sg_smtp_users_count(u));
  return 0;
}

static void maybe_reload(sg_smtp_auth *a) {
  uint64_t now = uv_now(a->loop);
  if (a->last_stat_ms != 0 && now - a->last_stat_ms < a->o.reload_check_ms)
    return;
  a->last_stat_ms = now ? now : 1;
  reload(a);
}

int sg_smtp_auth_reload(sg_smtp_auth *a) {
  a->last_stat_ms = uv_now(a->loop);
  return reload(a);
}

/* ---- lifecycle ---- */

#define DEFAULT(field, value)                                                                      \
  if (a->o.field == 0)                                                                             \
  a->o.field = (value)

int sg_smtp_auth_new(uv_loop_t *loop, const sg_smtp_auth_opts *o, sg_smtp_auth **out) {
  *out = NULL;
  if (loop == NULL || o == NULL || o->users_file == NULL || o->users_file[0] == '\0')
    return SG_ERR_INVAL;
  sg_smtp_auth *a = sg_xcalloc(1, sizeof *a);
  a->loop = loop;
  a->o = *o;
  DEFAULT(cache_ms, 60000);
  DEFAULT(fail_delay_ms, 1000);
  DEFAULT(lockout_failures, 10);
  DEFAULT(lockout_window_ms, 600000);
  DEFAULT(lockout_ms, 900000);
  DEFAULT(max_pending, 64);
  DEFAULT(max_tracked, 10000);
  DEFAULT(reload_check_ms, 1000);
  a->path = sg_xstrdup(o->users_file);
  a->o.users_file = a->path;
  sg_list_init(&a->reqs);
  char err[512] = "";
  sg_smtp_users *u = NULL;
  int rv = stat_sig(a->path, &a->sig) == 0 ? sg_smtp_users_load(a->path, &u, err, sizeof err)
                                           : SG_ERR_IO;
  if (rv == SG_ERR_IO && err[0] == '\0')
    snprintf(err, sizeof err, "%s: cannot stat", a->path);
  if (rv == 0 && sg_smtp_passwd_dummy(a->dummy, sizeof a->dummy) != 0) {
    sg_smtp_users_free(u);
    snprintf(err, sizeof err, "libcrypt has no yescrypt");
    rv = SG_ERR_CRYPTO;
  }
  if (rv != 0) {
    sg_log(SG_LOG_ERROR, "smtp", "%s", err);
    sg_free(a->path);
    sg_free(a);
    return rv;
  }
  a->users = ref_new(u);
  a->last_stat_ms = uv_now(loop) ? uv_now(loop) : 1;
  sg_smtp_lockout_opts lo = {a->o.lockout_failures, a->o.lockout_window_ms, a->o.lockout_ms,
                             a->o.max_tracked};
  a->by_ip = sg_smtp_lockout_new(&lo);
  a->by_user = sg_smtp_lockout_new(&lo);
  a->cache = sg_smtp_auth_cache_new(CACHE_MAX, a->o.cache_ms);
  *out = a;
  return 0;
}

static void auth_free(sg_smtp_auth *a) {
  ref_drop(a->users);
  sg_smtp_lockout_del(a->by_ip);
  sg_smtp_lockout_del(a->by_user);
  sg_smtp_auth_cache_del(a->cache);
  sg_free(a->path);
  sg_free(a);
}

static void on_req_close(uv_handle_t *h) {
  sg_smtp_auth_req *r = h->data;
  sg_smtp_auth *a = r->a;
  sg_free(r);
  if (--a->live == 0 && a->closing)
    auth_free(a);
}

static void wipe_password(sg_smtp_auth_req *r) {
  if (r->pw != NULL) {
    OPENSSL_cleanse(r->pw, r->plen);
    sg_free(r->pw);
    r->pw = NULL;
  }
}

/* The request leaves the checker: no more callbacks; freed once its timer closes. */
static void finish(sg_smtp_auth_req *r) {
  r->state = REQ_DONE;
  sg_list_remove(&r->link);
  wipe_password(r);
  OPENSSL_cleanse(r->mac, sizeof r->mac);
  uv_timer_stop(&r->timer);
  uv_close((uv_handle_t *)&r->timer, on_req_close);
}

static void deliver(sg_smtp_auth_req *r) {
  r->state = REQ_DONE; /* a cancel from inside the callback does nothing */
  if (!r->cancelled && r->cb != NULL)
    r->cb(r->res, r->res == SG_SMTP_AUTH_OK ? r->user : NULL, r->ud);
  ref_drop(r->users);
  r->users = NULL;
  finish(r);
}

static void on_timer(uv_timer_t *t) {
  deliver(t->data);
}

/* Answers |res| after |delay_ms| (0: on the next loop iteration). */
static void answer_later(sg_smtp_auth_req *r, sg_smtp_auth_result res, uint64_t delay_ms) {
  r->res = res;
  r->state = REQ_TIMER;
  uv_timer_start(&r->timer, on_timer, delay_ms, 0);
}

/* ---- the check ---- */

/* The lockout key of a client address: IPv4 as is (also when v4-mapped), and
 * IPv6 by its /64, which one client usually holds whole. */
static void ip_key(const char *ip, char out[64]) {
  unsigned char b[16];
  char txt[INET6_ADDRSTRLEN];
  static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (ip != NULL && inet_pton(AF_INET6, ip, b) == 1) {
    if (memcmp(b, mapped, sizeof mapped) == 0) {
      inet_ntop(AF_INET, b + 12, txt, sizeof txt);
      snprintf(out, 64, "%s", txt);
    } else {
      memset(b + 8, 0, 8);
      inet_ntop(AF_INET6, b, txt, sizeof txt);
      snprintf(out, 64, "%s/64", txt);
    }
    return;
  }
  snprintf(out, 64, "%.45s", ip && ip[0] ? ip : "?");
}

static void work_cb(uv_work_t *w) {
  sg_smtp_auth_req *r = w->data;
  r->match = sg_smtp_passwd_verify(r->pw, r->plen, r->hash);
}

static void after_work_cb(uv_work_t *w, int status) {
  sg_smtp_auth_req *r = w->data;
  sg_smtp_auth *a = r->a;
  a->hashing--;
  wipe_password(r);
  if (status == UV_ECANCELED || r->cancelled) {
    ref_drop(r->users);
    r->users = NULL;
    finish(r);
    return;
  }
  a->st.hashed++;
  uint64_t now = uv_now(a->loop);
  if (r->match && r->user != NULL) {
    a->st.ok++;
    sg_smtp_auth_cache_put(a->cache, r->mac, now);
    sg_smtp_lockout_clear(a->by_user, r->user_key);
    r->res = SG_SMTP_AUTH_OK;
    deliver(r); /* not inside sg_smtp_auth_check: the callback may fire now */
    return;
  }
  a->st.bad++;
  bool locked = sg_smtp_lockout_fail(a->by_ip, r->ip_key, now);
  locked |= sg_smtp_lockout_fail(a->by_user, r->user_key, now);
  if (locked)
    sg_log_kv(SG_LOG_WARN, "smtp", "auth lockout", "client", r->ip_key, NULL);
  answer_later(r, SG_SMTP_AUTH_BAD, a->o.fail_delay_ms);
}

int sg_smtp_auth_check(sg_smtp_auth *a, const char *peer_ip, const char *name, const char *password,
                       size_t plen, sg_smtp_auth_cb cb, void *ud, sg_smtp_auth_req **req) {
  if (req != NULL)
    *req = NULL;
  if (a->closing)
    return SG_ERR_SHUTDOWN;
  maybe_reload(a);
  if (name == NULL)
    name = "";
  sg_smtp_auth_req *r = sg_xcalloc(1, sizeof *r);
  r->a = a;
  r->cb = cb;
  r->ud = ud;
  r->work.data = r;
  r->timer.data = r;
  uv_timer_init(a->loop, &r->timer);
  sg_list_push_back(&a->reqs, &r->link);
  a->live++;
  if (req != NULL)
    *req = r;

  ip_key(peer_ip, r->ip_key);
  /* Names longer than any user's are cut for the key: they all fail anyway. */
  snprintf(r->user_key, sizeof r->user_key, "%.*s", SG_SMTP_USER_NAME_MAX, name);
  uint64_t now = uv_now(a->loop);
  if (sg_smtp_lockout_locked(a->by_ip, r->ip_key, now) ||
      sg_smtp_lockout_locked(a->by_user, r->user_key, now)) {
    a->st.locked++;
    answer_later(r, SG_SMTP_AUTH_LOCKED, a->o.fail_delay_ms);
    return 0;
  }
  r->users = a->users;
  r->users->refs++;
  r->user = sg_smtp_users_find(r->users->u, name);
  if (r->user != NULL) {
    sg_smtp_auth_cache_mac(a->cache, name, password, plen, r->mac);
    if (sg_smtp_auth_cache_hit(a->cache, r->mac, now)) {
      a->st.ok++;
      a->st.cache_hits++;
      answer_later(r, SG_SMTP_AUTH_OK, 0);
      return 0;
    }
  }
  if (a->hashing >= a->o.max_pending) {
    a->st.tempfail++;
    answer_later(r, SG_SMTP_AUTH_TEMPFAIL, 0);
    return 0;
  }
  r->hash = r->user ? r->user->hash : a->dummy; /* unknown users cost the same time */
  r->pw = sg_xmalloc(plen ? plen : 1);
  if (plen)
    memcpy(r->pw, password, plen);
  r->plen = plen;
  if (uv_queue_work(a->loop, &r->work, work_cb, after_work_cb) != 0) {
    wipe_password(r);
    a->st.tempfail++;
    answer_later(r, SG_SMTP_AUTH_TEMPFAIL, 0);
    return 0;
  }
  r->state = REQ_WORK;
  a->hashing++;
  return 0;
}

void sg_smtp_auth_cancel(sg_smtp_auth_req *r) {
  if (r == NULL || r->state == REQ_DONE || r->cancelled)
    return;
  r->cancelled = true;
  r->cb = NULL;
  if (r->state == REQ_TIMER) {
    ref_drop(r->users);
    r->users = NULL;
    finish(r);
    return;
  }
  /* REQ_WORK: not started yet, after_work_cb gets UV_ECANCELED; running, it
   * sees |cancelled|. Either way it finishes the request. */
  uv_cancel((uv_req_t *)&r->work);
}

void sg_smtp_auth_get_stats(const sg_smtp_auth *a, sg_smtp_auth_stats *out) {
  *out = a->st;
}

void sg_smtp_auth_close(sg_smtp_auth *a) {
  if (a == NULL || a->closing)
    return;
  a->closing = true;
  sg_list *pos, *tmp;
  sg_list_foreach_safe(pos, tmp, &a->reqs) {
    sg_smtp_auth_cancel(sg_container_of(pos, sg_smtp_auth_req, link));
  }
  if (a->live == 0)
    auth_free(a);
}
