/* SPDX-License-Identifier: Apache-2.0 */
/* The SMTP users file (smtp/sg_smtp_users*.c) and password hashing (sg_smtp_passwd.c). */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "harness.h"
#include "smtp/sg_smtp_passwd.h"
#include "smtp/sg_smtp_users.h"

/* A real yescrypt hash of "secret", made once. */
static const char *hash_of_secret(void) {
  static char h[SG_SMTP_PASSWD_HASH_CAP];
  if (h[0] == '\0')
    ASSERT_OK(sg_smtp_passwd_hash("secret", 6, h, sizeof h));
  return h;
}

static sg_smtp_users *parse_ok(const char *text) {
  sg_smtp_users *u = NULL;
  char err[400] = "";
  int rv = sg_smtp_users_parse(text, strlen(text), &u, err, sizeof err);
  if (rv != 0)
    SG_FAIL_("parse failed: %s", err);
  return u;
}

static void t_parse_ok(void) {
  const char *h = hash_of_secret();
  char text[2048];
  snprintf(text, sizeof text,
           "# printers\n\nscanner:%s:Scan@Contoso.com,@Alerts.Contoso.com:\r\n"
           "# the ERP\nerp.app-1+x@contoso.com:%s:erp@contoso.com:billing_2\n# end\n",
           h, h);
  sg_smtp_users *u = parse_ok(text);
  ASSERT_EQ(2, sg_smtp_users_count(u));
  const sg_smtp_user *s = sg_smtp_users_find(u, "scanner");
  ASSERT_NOT_NULL(s);
  ASSERT_STR_EQ(h, s->hash);
  ASSERT_EQ(2, s->nallow);
  ASSERT_STR_EQ("scan@contoso.com", s->allow_from[0]);
  ASSERT_STR_EQ("@alerts.contoso.com", s->allow_from[1]);
  ASSERT_STR_EQ("", s->account);
  const sg_smtp_user *e = sg_smtp_users_find(u, "erp.app-1+x@contoso.com");
  ASSERT_NOT_NULL(e);
  ASSERT_STR_EQ("billing_2", e->account);
  ASSERT_NULL(sg_smtp_users_find(u, "Scanner")); /* names are case-sensitive */
  ASSERT_NULL(sg_smtp_users_find(u, "nobody"));
  ASSERT(sg_smtp_users_at(u, 0) == s && sg_smtp_users_at(u, 2) == NULL);

  /* Written back: comments kept, LF line ends, and it parses to the same. */
  size_t len;
  char *out = sg_smtp_users_format(u, &len);
  ASSERT_EQ(strlen(out), len);
  ASSERT(strncmp(out, "# printers\n\nscanner:", 20) == 0);
  ASSERT(strstr(out, "\r") == NULL);
  ASSERT(strstr(out, "# the ERP\nerp.app-1+x@contoso.com:") != NULL);
  ASSERT(strstr(out, ":scan@contoso.com,@alerts.contoso.com:\n") != NULL);
  ASSERT(len > 6 && strcmp(out + len - 6, "# end\n") == 0);
  sg_smtp_users *again = parse_ok(out);
  size_t len2;
  char *out2 = sg_smtp_users_format(again, &len2);
  ASSERT_STR_EQ(out, out2);
  sg_free(out);
  sg_free(out2);
  sg_smtp_users_free(again);
  sg_smtp_users_free(u);

  u = parse_ok(""); /* an empty file is an empty set */
  ASSERT_EQ(0, sg_smtp_users_count(u));
  sg_smtp_users_free(u);
  snprintf(text, sizeof text, "last:%s:a@b.com:", h); /* no final newline */
  u = parse_ok(text);
  ASSERT_EQ(1, sg_smtp_users_count(u));
  sg_smtp_users_free(u);
}

/* |fmt| with every "%H" replaced by |h|, into |b|. */
static void subst(sg_buf *b, const char *fmt, const char *h) {
  for (const char *p = fmt; *p; p++) {
    if (p[0] == '%' && p[1] == 'H') {
      sg_buf_append_str(b, h);
      p++;
    } else {
      sg_buf_append_char(b, *p);
    }
  }
}

static void expect_error(const char *text, size_t len, const char *want) {
  sg_smtp_users *u = (sg_smtp_users *)1;
  char err[400] = "";
  ASSERT_EQ(SG_ERR_PARSE, sg_smtp_users_parse(text, len, &u, err, sizeof err));
  ASSERT_NULL(u);
  if (strstr(err, want) == NULL)
    SG_FAIL_("error \"%s\" does not contain \"%s\"", err, want);
}

static void t_parse_errors(void) {
  const char *h = hash_of_secret();
  struct {
    const char *fmt; /* %H = a valid hash */
    const char *want;
  } cases[] = {
      {"a:%H:a@b.com\n", "line 1: expected name:hash:allow-from:account, found 3 fields"},
      {"# c\na:%H:a@b.com::\n", "line 2: more than four"},
      {"a b:%H:a@b.com:\n", "line 1: user name: use letters"},
      {" a:%H:a@b.com:\n", "line 1: user name"},
      {"-a:%H:a@b.com:\n", "must not start with '-'"},
      {":%H:a@b.com:\n", "empty user name"},
      {"a:%H:a@b.com:\nb:%H:a@b.com:\na:%H:c@d.com:\n", "line 3: user a appears twice"},
      {"a:%H::\n", "line 1: user a: no allow-from"},
      {"a:%H:a@b.com,,c@d.com:\n", "empty allow-from entry"},
      {"a:%H:not-an-address:\n", "'not-an-address' is not an address or @domain"},
      {"a:%H:@localhost:\n", "'@localhost' is not a valid @domain"},
      {"a:%H:a@b.com :\n", "is not an address"},
      {"a:%H:a@b.com:bad.account\n", "account name: use letters"},
      {"a:$1$abc$def:a@b.com:\n%H", "too weak"},
      {"a:plain:a@b.com:\n%H", "not a crypt(3) string"},
      {"a::a@b.com:\n%H", "empty password hash"},
      {"a:$y$j9T$ab cd:a@b.com:\n%H", "a character crypt(3) never writes"},
  };
  for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
    sg_buf text = SG_BUF_INIT;
    subst(&text, cases[i].fmt, h);
    expect_error(text.data, text.len, cases[i].want);
    sg_buf_free(&text);
  }
  /* Bytes snprintf cannot carry: a NUL, a CR inside a line, a control character. */
  char text[1024];
  int n = snprintf(text, sizeof text, "a:%s:a@b.com:\n# x", h);
  text[n - 1] = '\0';
  expect_error(text, (size_t)n, "line 2: NUL or CR");
  n = snprintf(text, sizeof text, "a:%s:a@b.com:x\ry\n", h);
  expect_error(text, (size_t)n, "line 1: NUL or CR");
  n = snprintf(text, sizeof text, "a:%s:a@b.com:\x01\n", h);
  expect_error(text, (size_t)n, "control character");
  /* An over-long line. */
  sg_buf b = SG_BUF_INIT;
  sg_buf_printf(&b, "a:%s:", h);
  while (b.len <= SG_SMTP_USERS_LINE_MAX)
    sg_buf_append_str(&b, "someone@example.com,");
  sg_buf_append_str(&b, "x@y.com:\n");
  expect_error(b.data, b.len, "line 1: longer than");
  sg_buf_free(&b);
}

static void t_may_send_as(void) {
  const char *h = hash_of_secret();
  char text[2048];
  snprintf(text, sizeof text, "u:%s:Alice@Contoso.com,@alerts.contoso.com:\n", h);
  sg_smtp_users *u = parse_ok(text);
  const sg_smtp_user *x = sg_smtp_users_find(u, "u");
  ASSERT(sg_smtp_user_may_send_as(x, "alice@contoso.com"));
  ASSERT(sg_smtp_user_may_send_as(x, "ALICE@CONTOSO.COM"));
  ASSERT(sg_smtp_user_may_send_as(x, "nagios@alerts.contoso.com"));
  ASSERT(sg_smtp_user_may_send_as(x, "zabbix@Alerts.Contoso.COM"));
  ASSERT(!sg_smtp_user_may_send_as(x, "bob@contoso.com"));
  ASSERT(!sg_smtp_user_may_send_as(x, "x@sub.alerts.contoso.com")); /* no subdomains */
  ASSERT(!sg_smtp_user_may_send_as(x, "x@evilalerts.contoso.com"));
  ASSERT(!sg_smtp_user_may_send_as(x, "alice@contoso.com.evil.com"));
  ASSERT(!sg_smtp_user_may_send_as(x, "@alerts.contoso.com")); /* not an address */
  ASSERT(!sg_smtp_user_may_send_as(x, "alerts.contoso.com"));
  ASSERT(!sg_smtp_user_may_send_as(x, ""));
  ASSERT(!sg_smtp_user_may_send_as(x, NULL));
  ASSERT(!sg_smtp_user_may_send_as(x, "alice@contoso.com\r\nRCPT TO:<x@y.com>"));
  ASSERT(!sg_smtp_user_may_send_as(NULL, "alice@contoso.com"));
  sg_smtp_users_free(u);
}

static void t_edit(void) {
  const char *h = hash_of_secret();
  char text[2048], err[300];
  snprintf(text, sizeof text, "# one\na:%s:a@b.com:\n# two\nb:%s:b@b.com:\n", h, h);
  sg_smtp_users *u = parse_ok(text);
  const char *allow[] = {"C@D.com", "@e.org"};
  ASSERT_EQ(SG_ERR_EXISTS, sg_smtp_users_put(u, "a", h, allow, 2, "", false, err, sizeof err));
  ASSERT_STR_EQ("user a exists", err);
  ASSERT_OK(sg_smtp_users_put(u, "c", h, allow, 2, "acct", false, err, sizeof err));
  ASSERT_EQ(SG_ERR_INVAL, sg_smtp_users_put(u, "d", h, allow, 0, "", false, err, sizeof err));
  ASSERT_EQ(SG_ERR_INVAL, sg_smtp_users_put(u, "d:x", h, allow, 2, "", false, err, sizeof err));
  ASSERT_EQ(SG_ERR_INVAL, sg_smtp_users_put(u, "d", "x", allow, 2, "", false, err, sizeof err));
  const char *bad[] = {"c@d.com", "x@y.com:z"};
  ASSERT_EQ(SG_ERR_INVAL, sg_smtp_users_put(u, "d", h, bad, 2, "", false, err, sizeof err));
  ASSERT_EQ(3, sg_smtp_users_count(u));
  ASSERT_OK(sg_smtp_users_put(u, "a", h, allow, 1, "", true, err, sizeof err)); /* replace */
  ASSERT_STR_EQ("c@d.com", sg_smtp_users_find(u, "a")->allow_from[0]);
  ASSERT_OK(sg_smtp_users_del(u, "b"));
  ASSERT_EQ(SG_ERR_NOTFOUND, sg_smtp_users_del(u, "b"));
  char h2[SG_SMTP_PASSWD_HASH_CAP];
  ASSERT_OK(sg_smtp_passwd_hash("other", 5, h2, sizeof h2));
  ASSERT_OK(sg_smtp_users_set_hash(u, "c", h2));
  ASSERT_EQ(SG_ERR_NOTFOUND, sg_smtp_users_set_hash(u, "zz", h2));
  ASSERT_EQ(SG_ERR_INVAL, sg_smtp_users_set_hash(u, "c", "nope"));
  size_t len;
  char *out = sg_smtp_users_format(u, &len);
  char want[1024];
  snprintf(want, sizeof want, "# one\na:%s:c@d.com:\nc:%s:c@d.com,@e.org:acct\n", h, h2);
  ASSERT_STR_EQ(want, out); /* b went with its comment; a kept its place and comment */
  sg_free(out);
  sg_smtp_users_free(u);
}

static void t_save_load(void) {
  char dir[] = "/tmp/sg-users-test.XXXXXX";
  ASSERT_NOT_NULL(mkdtemp(dir));
  char path[256], err[400];
  snprintf(path, sizeof path, "%s/users", dir);
  sg_smtp_users *u = NULL;
  ASSERT_EQ(SG_ERR_IO, sg_smtp_users_load(path, &u, err, sizeof err));
  ASSERT(strstr(err, "No such file") != NULL);
  u = sg_smtp_users_new();
  const char *allow[] = {"a@b.com"};
  ASSERT_OK(sg_smtp_users_put(u, "a", hash_of_secret(), allow, 1, "", false, err, sizeof err));
  umask(022);
  ASSERT_OK(sg_smtp_users_save(u, path, err, sizeof err));
  struct stat st;
  ASSERT_OK(stat(path, &st));
  ASSERT_EQ(0600, st.st_mode & 0777);
  sg_smtp_users *back = NULL;
  ASSERT_OK(sg_smtp_users_load(path, &back, err, sizeof err));
  ASSERT_EQ(1, sg_smtp_users_count(back));
  ASSERT_STR_EQ(hash_of_secret(), sg_smtp_users_find(back, "a")->hash);
  sg_smtp_users_free(back);
  /* Saved again over the old one: still one file, no temporary left behind. */
  ASSERT_OK(sg_smtp_users_del(u, "a"));
  ASSERT_OK(sg_smtp_users_save(u, path, err, sizeof err));
  DIR *d = opendir(dir);
  int files = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    files += e->d_name[0] != '.';
  closedir(d);
  ASSERT_EQ(1, files);
  /* A parse error names the file and the line. */
  FILE *f = fopen(path, "w");
  fputs("# x\nbroken\n", f);
  fclose(f);
  ASSERT_EQ(SG_ERR_PARSE, sg_smtp_users_load(path, &back, err, sizeof err));
  char want[400];
  snprintf(want, sizeof want, "%s: line 2: expected name:hash:allow-from:account", path);
  ASSERT(strncmp(err, want, strlen(want)) == 0);
  ASSERT_EQ(SG_ERR_IO, sg_smtp_users_save(u, "/nonexistent-dir/users", err, sizeof err));
  sg_smtp_users_free(u);
  unlink(path);
  rmdir(dir);
}

static void t_passwd(void) {
  char a[SG_SMTP_PASSWD_HASH_CAP], b[SG_SMTP_PASSWD_HASH_CAP];
  ASSERT_OK(sg_smtp_passwd_hash("correct horse", 13, a, sizeof a));
  ASSERT_OK(sg_smtp_passwd_hash("correct horse", 13, b, sizeof b));
  ASSERT(strncmp(a, "$y$", 3) == 0);
  ASSERT(strcmp(a, b) != 0); /* a fresh salt each time */
  ASSERT_OK(sg_smtp_users_check_hash(a, NULL, 0));
  ASSERT(sg_smtp_passwd_verify("correct horse", 13, a));
  ASSERT(sg_smtp_passwd_verify("correct horse", 13, b));
  ASSERT(!sg_smtp_passwd_verify("correct horsE", 13, a));
  ASSERT(!sg_smtp_passwd_verify("correct hors", 12, a));
  ASSERT(!sg_smtp_passwd_verify("correct horse\0x", 15, a)); /* crypt would stop at the NUL */
  ASSERT(!sg_smtp_passwd_verify("", 0, a));
  ASSERT(!sg_smtp_passwd_verify("x", 1, "*"));
  ASSERT(!sg_smtp_passwd_verify("x", 1, NULL));
  ASSERT_EQ(SG_ERR_INVAL, sg_smtp_passwd_hash("", 0, a, sizeof a));
  ASSERT_EQ(SG_ERR_INVAL, sg_smtp_passwd_hash("a\0b", 3, a, sizeof a));
  char longpw[SG_SMTP_PASSWD_MAX + 2];
  memset(longpw, 'p', sizeof longpw);
  ASSERT_EQ(SG_ERR_INVAL, sg_smtp_passwd_hash(longpw, sizeof longpw, a, sizeof a));
  ASSERT_OK(sg_smtp_passwd_hash(longpw, SG_SMTP_PASSWD_MAX, a, sizeof a));
  ASSERT(sg_smtp_passwd_verify(longpw, SG_SMTP_PASSWD_MAX, a));
  char dummy[128];
  ASSERT_OK(sg_smtp_passwd_dummy(dummy, sizeof dummy));
  ASSERT(strncmp(dummy, "$y$", 3) == 0);
  ASSERT(!sg_smtp_passwd_verify("anything", 8, dummy));
}

SG_TESTS({"parse_ok", t_parse_ok}, {"parse_errors", t_parse_errors}, {"may_send_as", t_may_send_as},
         {"edit", t_edit}, {"save_load", t_save_load}, {"passwd", t_passwd})
