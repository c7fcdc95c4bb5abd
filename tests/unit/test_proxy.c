/* SPDX-License-Identifier: Apache-2.0 */
/* net/sg_proxy: proxy URLs, NO_PROXY as curl reads it, the CONNECT exchange. */
#include "harness.h"

#include "core/sg_err.h"
#include "net/sg_proxy.h"

static void t_parse(void) {
  sg_proxy p;
  char err[200];
  ASSERT_OK(sg_proxy_parse("http://proxy.corp:3128", &p, err, sizeof err));
  ASSERT_STR_EQ("proxy.corp", p.host);
  ASSERT_EQ(3128, p.port);
  ASSERT_STR_EQ("", p.auth);
  ASSERT_OK(sg_proxy_parse("proxy.corp", &p, err, sizeof err));
  ASSERT_EQ(SG_PROXY_DEFAULT_PORT, p.port);
  ASSERT_OK(sg_proxy_parse("HTTP://us%40er:p%3Ass@[fd00::1]:8080/", &p, err, sizeof err));
  ASSERT_STR_EQ("fd00::1", p.host);
  ASSERT_EQ(8080, p.port);
  ASSERT_STR_EQ("dXNAZXI6cDpzcw==", p.auth); /* base64("us@er:p:ss") */
  ASSERT_EQ(SG_ERR_INVAL, sg_proxy_parse("https://proxy:443", &p, err, sizeof err));
  ASSERT(strstr(err, "only http://") != NULL);
  ASSERT_EQ(SG_ERR_INVAL, sg_proxy_parse("socks5://proxy:1080", &p, err, sizeof err));
  ASSERT_EQ(SG_ERR_INVAL, sg_proxy_parse("http://proxy:0", &p, err, sizeof err));
  ASSERT_EQ(SG_ERR_INVAL, sg_proxy_parse("http://proxy:99999", &p, err, sizeof err));
  ASSERT_EQ(SG_ERR_INVAL, sg_proxy_parse("http://:3128", &p, err, sizeof err));
  ASSERT_EQ(SG_ERR_INVAL, sg_proxy_parse("http://proxy/path", &p, err, sizeof err));
  ASSERT_EQ(SG_ERR_INVAL, sg_proxy_parse("http://u:%zz@proxy", &p, err, sizeof err));
}

static void t_bypass(void) {
  const char *list = "localhost, .internal.corp,example.com ,10.0.0.0/8,fd00::/8,192.168.1.5";
  ASSERT(sg_proxy_bypass(list, "localhost"));
  ASSERT(sg_proxy_bypass(list, "a.internal.corp"));
  ASSERT(sg_proxy_bypass(list, "internal.corp"));
  ASSERT(sg_proxy_bypass(list, "example.com"));
  ASSERT(sg_proxy_bypass(list, "www.Example.COM"));
  ASSERT(!sg_proxy_bypass(list, "badexample.com"));
  ASSERT(sg_proxy_bypass(list, "10.1.2.3"));
  ASSERT(!sg_proxy_bypass(list, "11.1.2.3"));
  ASSERT(sg_proxy_bypass(list, "fd00::abcd"));
  ASSERT(sg_proxy_bypass(list, "192.168.1.5"));
  ASSERT(!sg_proxy_bypass(list, "192.168.1.50"));
  ASSERT(!sg_proxy_bypass(list, "graph.microsoft.com"));
  ASSERT(sg_proxy_bypass("*", "graph.microsoft.com"));
  ASSERT(!sg_proxy_bypass("", "graph.microsoft.com"));
  ASSERT(!sg_proxy_bypass(NULL, "graph.microsoft.com"));
}

static void t_for(void) {
  sg_proxy p;
  char err[200];
  char a[] = "HTTPS_PROXY=http://upper:1", b[] = "https_proxy=http://lower:2",
       c[] = "NO_PROXY=.corp", d[] = "no_proxy=";
  char *both[] = {a, b, NULL};
  ASSERT_EQ(1, sg_proxy_for("", both, "graph.microsoft.com", &p, err, sizeof err));
  ASSERT_STR_EQ("lower", p.host); /* curl prefers the lower-case one */
  char *upper[] = {a, c, NULL};
  ASSERT_EQ(1, sg_proxy_for(NULL, upper, "graph.microsoft.com", &p, err, sizeof err));
  ASSERT_STR_EQ("upper", p.host);
  ASSERT_EQ(0, sg_proxy_for(NULL, upper, "mail.corp", &p, err, sizeof err));
  char *empty_lower[] = {d, c, a, NULL}; /* an empty no_proxy falls back to NO_PROXY */
  ASSERT_EQ(0, sg_proxy_for(NULL, empty_lower, "x.corp", &p, err, sizeof err));
  ASSERT_EQ(1, sg_proxy_for("http://setting:3", upper, "graph.microsoft.com", &p, err, sizeof err));
  ASSERT_STR_EQ("setting", p.host);
  char *none[] = {NULL};
  ASSERT_EQ(0, sg_proxy_for("", none, "graph.microsoft.com", &p, err, sizeof err));
  ASSERT_EQ(SG_ERR_INVAL, sg_proxy_for("ftp://x", none, "h", &p, err, sizeof err));
}

static void t_connect(void) {
  sg_proxy p;
  char err[200];
  ASSERT_OK(sg_proxy_parse("http://u:pw@proxy:3128", &p, err, sizeof err));
  sg_buf b = SG_BUF_INIT;
  sg_proxy_connect_request(&p, "graph.microsoft.com", 443, &b);
  ASSERT_STR_EQ("CONNECT graph.microsoft.com:443 HTTP/1.1\r\nHost: graph.microsoft.com:443\r\n"
                "User-Agent: sendgate\r\nProxy-Authorization: Basic dTpwdw==\r\n\r\n",
                b.data);
  sg_buf_reset(&b);
  ASSERT_OK(sg_proxy_parse("http://proxy:3128", &p, err, sizeof err));
  sg_proxy_connect_request(&p, "::1", 8443, &b);
  ASSERT_STR_EQ("CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\nUser-Agent: sendgate\r\n\r\n",
                b.data);
  sg_buf_free(&b);

  int status;
  size_t head;
  const char ok[] = "HTTP/1.1 200 Connection established\r\nVia: x\r\n\r\n\x16\x03";
  for (size_t i = 0; i < sizeof ok - 3; i++)
    ASSERT_EQ(SG_ERR_AGAIN, sg_proxy_connect_response(ok, i, &status, &head));
  ASSERT_OK(sg_proxy_connect_response(ok, sizeof ok - 1, &status, &head));
  ASSERT_EQ(200, status);
  ASSERT_EQ(sizeof ok - 3, head);
  const char denied[] = "HTTP/1.0 407 Proxy Authentication Required\r\n\r\n";
  ASSERT_OK(sg_proxy_connect_response(denied, sizeof denied - 1, &status, &head));
  ASSERT_EQ(407, status);
  ASSERT_EQ(SG_ERR_PARSE, sg_proxy_connect_response("SSH-2.0-OpenSSH\r\n\r\n", 19, &status, &head));
  char *big = malloc(SG_PROXY_MAX_RESPONSE + 10);
  ASSERT_NOT_NULL(big);
  memset(big, 'a', SG_PROXY_MAX_RESPONSE + 10);
  memcpy(big, "HTTP/1.1 200 OK\r\n", 17);
  ASSERT_EQ(SG_ERR_PARSE,
            sg_proxy_connect_response(big, SG_PROXY_MAX_RESPONSE + 10, &status, &head));
  free(big);
}

SG_TESTS({"parse", t_parse}, {"bypass", t_bypass}, {"for", t_for}, {"connect", t_connect})
