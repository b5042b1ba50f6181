/* SPDX-License-Identifier: MIT */
/*
 * The egress proxy: host lists ("*.x"), the address classes it refuses
 * (IPv4-mapped and other embedded forms included), request and response
 * heads, and the proxy end to end over its Unix socket: plain HTTP and
 * CONNECT to local servers through the test map, refusals (403 for hosts not
 * listed and for private addresses however they are spelled, 502 for a dead
 * origin, 400 for garbage), a restart in the same directory, and the reports.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "egress/egress.h"
#include "testutil.h"

/* ---- host lists ------------------------------------------------------------------- */

static void test_host_listed(void **state)
{
        (void)state;
        const char *const list[] = {"registry.example.org", "*.internal.example", "Mixed.Case",
                                    NULL};
        assert_true(bridle_egress_host_listed(list, "registry.example.org"));
        assert_true(bridle_egress_host_listed(list, "REGISTRY.example.org"));
        assert_true(bridle_egress_host_listed(list, "registry.example.org."));
        assert_true(bridle_egress_host_listed(list, "mixed.case"));
        assert_true(bridle_egress_host_listed(list, "a.internal.example"));
        assert_true(bridle_egress_host_listed(list, "b.a.internal.example"));
        assert_false(bridle_egress_host_listed(list, "internal.example")); /* "*.x" is not x */
        assert_false(
                bridle_egress_host_listed(list, "evilinternal.example")); /* a label boundary */
        assert_false(bridle_egress_host_listed(list, "example.org"));
        assert_false(bridle_egress_host_listed(list, "xregistry.example.org"));
        assert_false(bridle_egress_host_listed(list, "registry.example.org.evil"));
        assert_false(bridle_egress_host_listed(list, ""));
        assert_false(bridle_egress_host_listed(list, "bad host"));
        assert_false(bridle_egress_host_listed(NULL, "registry.example.org"));
        const char *const empty[] = {NULL};
        assert_false(bridle_egress_host_listed(empty, "registry.example.org"));
}

/* ---- addresses ---------------------------------------------------------------------- */

static bool blocked(const char *ip, char *why, size_t cap)
{
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof(ss));
        if (strchr(ip, ':')) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
                a->sin6_family = AF_INET6;
                assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *)&ss;
                a->sin_family = AF_INET;
                assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
        }
        return bridle__egress_addr_blocked((struct sockaddr *)&ss, why, cap);
}

static void test_addr_classes(void **state)
{
        (void)state;
        static const char *const bad[] = {
                "127.0.0.1",
                "127.255.255.254",
                "10.0.0.1",
                "10.255.255.255",
                "172.16.0.1",
                "172.31.255.255",
                "192.168.1.1",
                "100.64.0.1",
                "100.127.255.255",
                "169.254.169.254",
                "0.0.0.0",
                "0.1.2.3",
                "224.0.0.1",
                "239.255.255.250",
                "255.255.255.255",
                "240.0.0.1",
                "192.0.2.1",
                "198.18.0.1",
                "::1",
                "::",
                "fc00::1",
                "fdff:ffff::1",
                "fe80::1",
                "febf::1",
                "ff02::1",
                "fec0::1",
                "::ffff:127.0.0.1",
                "::ffff:10.1.2.3",
                "::ffff:192.168.0.1",
                "::ffff:169.254.169.254",
                "::ffff:0.0.0.0",
                "::127.0.0.1",
                "64:ff9b::7f00:1",
                "64:ff9b::a00:1",
                "2002:7f00:1::1",
                "2002:c0a8:101::",
                "::ffff:0:7f00:1",
                "2001:db8::1",
        };
        static const char *const good[] = {
                "8.8.8.8",          "1.1.1.1",         "172.15.255.255", "172.32.0.1",
                "100.63.255.255",   "100.128.0.1",     "192.169.0.1",    "169.253.0.1",
                "11.0.0.1",         "2606:4700::1111", "2a00:1450::1",   "::ffff:8.8.8.8",
                "64:ff9b::808:808", "2002:808:808::1",
        };
        char why[128];
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                why[0] = '\0';
                if (!blocked(bad[i], why, sizeof(why)))
                        fail_msg("%s should be refused", bad[i]);
                assert_non_null(strstr(why, "address"));
        }
        for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
                if (blocked(good[i], why, sizeof(why)))
                        fail_msg("%s should be allowed (%s)", good[i], why);
        assert_true(blocked("::ffff:127.0.0.1", why, sizeof(why)));
        assert_non_null(strstr(why, "loopback"));
        struct sockaddr_un un = {.sun_family = AF_UNIX};
        assert_true(bridle__egress_addr_blocked((struct sockaddr *)&un, NULL, 0));
}

static void test_host_norm_and_map(void **state)
{
        (void)state;
        char h[256];
        assert_int_equal(bridle__egress_host_norm("Example.ORG.", 12, h, sizeof(h)), 0);
        assert_string_equal(h, "example.org");
        assert_int_equal(bridle__egress_host_norm("[::1]", 5, h, sizeof(h)), 0);
        assert_string_equal(h, "::1");
        assert_true(bridle__egress_host_norm("a b", 3, h, sizeof(h)) < 0);
        assert_true(bridle__egress_host_norm("a%00", 4, h, sizeof(h)) < 0);
        assert_true(bridle__egress_host_norm("[zz::1]", 7, h, sizeof(h)) < 0);
        assert_true(bridle__egress_host_norm("::1", 3, h, sizeof(h)) < 0); /* v6 needs brackets */
        assert_true(bridle__egress_host_norm("", 0, h, sizeof(h)) < 0);

        struct bridle__egress_map_entry *m = NULL;
        size_t n = 0;
        bridle_error err;
        assert_int_equal(
                bridle__egress_map_parse("a.test=127.0.0.1:8080,B.test=[::1]:443", &m, &n, &err),
                0);
        assert_int_equal(n, 2);
        assert_string_equal(m[0].host, "a.test");
        assert_string_equal(m[1].host, "b.test");
        assert_int_equal(m[1].addr.ss_family, AF_INET6);
        free(m);
        static const char *const bad[] = {"a.test",
                                          "a.test=127.0.0.1",
                                          "a.test=127.0.0.1:0",
                                          "a.test=127.0.0.1:70000",
                                          "a.test=localhost:80",
                                          "=1.2.3.4:5"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                m = NULL;
                assert_int_equal(bridle__egress_map_parse(bad[i], &m, &n, &err), BRIDLE_E_INVALID);
                assert_null(m);
        }
        assert_int_equal(bridle__egress_map_parse(NULL, &m, &n, &err), 0);
        assert_int_equal(n, 0);
        free(m);
}

/* ---- heads ----------------------------------------------------------------------------- */

static int parse(const char *head, struct bridle__egress_req *req, int *status)
{
        char why[256];
        size_t end = bridle__egress_head_end(head, strlen(head));
        assert_true(end > 0);
        return bridle__egress_req_parse(head, end, req, status, why, sizeof(why));
}

static void test_request_parse(void **state)
{
        (void)state;
        struct bridle__egress_req r;
        int st = 0;
        assert_int_equal(
                parse("CONNECT Registry.Example.org:443 HTTP/1.1\r\nHost: x\r\n\r\n", &r, &st), 0);
        assert_true(r.connect);
        assert_string_equal(r.host, "registry.example.org");
        assert_int_equal(r.port, 443);
        assert_int_equal(parse("CONNECT [::1]:8443 HTTP/1.1\r\n\r\n", &r, &st), 0);
        assert_string_equal(r.host, "::1");
        assert_int_equal(r.port, 8443);
        assert_int_equal(parse("GET http://a.test/x/y?z=1 HTTP/1.1\r\n\r\n", &r, &st), 0);
        assert_false(r.connect);
        assert_string_equal(r.host, "a.test");
        assert_int_equal(r.port, 80);
        assert_int_equal(r.path_len, 8);
        assert_memory_equal(r.path, "/x/y?z=1", 8);
        assert_int_equal(parse("POST HTTP://a.test:8080 HTTP/1.0\r\n\r\n", &r, &st), 0);
        assert_int_equal(r.port, 8080);
        assert_int_equal(r.path_len, 0);
        assert_int_equal(parse("GET http://2130706433/ HTTP/1.1\r\n\r\n", &r, &st), 0);
        assert_string_equal(r.host, "2130706433");

        static const struct {
                const char *head;
                int status;
        } bad[] = {
                {"CONNECT a.test HTTP/1.1\r\n\r\n", 400},
                {"CONNECT a.test:0 HTTP/1.1\r\n\r\n", 400},
                {"CONNECT a.test:65536 HTTP/1.1\r\n\r\n", 400},
                {"CONNECT a.test:44x HTTP/1.1\r\n\r\n", 400},
                {"CONNECT a:b:c HTTP/1.1\r\n\r\n", 400},
                {"GET /relative HTTP/1.1\r\n\r\n", 400},
                {"GET https://a.test/ HTTP/1.1\r\n\r\n", 400},
                {"GET ftp://a.test/ HTTP/1.1\r\n\r\n", 400},
                {"GET http://user:pw@a.test/ HTTP/1.1\r\n\r\n", 400},
                {"GET http://a b/ HTTP/1.1\r\n\r\n", 400},
                {"GET http://a.test/ HTTP/2.0\r\n\r\n", 505},
                {"GET http://a.test/\r\n\r\n", 400},
                {"GARBAGE\r\n\r\n", 400},
                {"G(T http://a.test/ HTTP/1.1\r\n\r\n", 400},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                st = 0;
                if (parse(bad[i].head, &r, &st) == 0)
                        fail_msg("accepted: %s", bad[i].head);
                assert_int_equal(st, bad[i].status);
        }
}

static void test_request_rewrite(void **state)
{
        (void)state;
        const char *head =
                "GET http://A.test:8080/p?q HTTP/1.1\r\nHost: evil.test\r\nUser-Agent: t\r\n"
                "Proxy-Connection: keep-alive\r\nConnection: keep-alive, X-Secret\r\n"
                "X-Secret: 1\r\nProxy-Authorization: Basic eA==\r\nKeep-Alive: 5\r\n"
                "TE: trailers\r\nUpgrade: h2c\r\nContent-Length: 3\r\n\r\n";
        struct bridle__egress_req r;
        int st;
        assert_int_equal(parse(head, &r, &st), 0);
        char *out = NULL;
        size_t n = 0;
        assert_int_equal(bridle__egress_req_rewrite(head, &r, &out, &n), 0);
        assert_int_equal(strlen(out), n);
        assert_string_equal(out, "GET /p?q HTTP/1.1\r\nUser-Agent: t\r\nContent-Length: 3\r\n"
                                 "Host: a.test:8080\r\nConnection: close\r\n\r\n");
        free(out);
        const char *h2 = "GET http://a.test HTTP/1.0\r\n\r\n";
        assert_int_equal(parse(h2, &r, &st), 0);
        assert_int_equal(bridle__egress_req_rewrite(h2, &r, &out, &n), 0);
        assert_string_equal(out, "GET / HTTP/1.0\r\nHost: a.test\r\nConnection: close\r\n\r\n");
        free(out);
}

static void test_response_rewrite(void **state)
{
        (void)state;
        const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive, "
                        "X-Hop\r\nX-Hop: 1\r\n"
                        "Keep-Alive: timeout=5\r\nServer: s\r\n\r\n";
        char *out = NULL;
        size_t n = 0;
        int status = 0;
        assert_int_equal(bridle__egress_resp_rewrite(h, strlen(h), &out, &n, &status), 0);
        assert_int_equal(status, 200);
        assert_string_equal(
                out,
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: s\r\nConnection: close\r\n\r\n");
        free(out);
        const char *c = "HTTP/1.1 100 Continue\r\n\r\n";
        assert_int_equal(bridle__egress_resp_rewrite(c, strlen(c), &out, &n, &status), 0);
        assert_int_equal(status, 100);
        assert_string_equal(out, "HTTP/1.1 100 Continue\r\n\r\n");
        free(out);
        assert_true(bridle__egress_resp_rewrite("SSH-2.0\r\n\r\n", 11, &out, &n, &status) < 0);
        char buf[512];
        size_t l = bridle__egress_reply(buf, sizeof(buf), 403, "host 'x' is not in the allowlist");
        assert_int_equal(strlen(buf), l);
        assert_non_null(strstr(buf, "HTTP/1.1 403 Forbidden\r\n"));
        const char *body = strstr(buf, "\r\n\r\n") + 4;
        char cl[64];
        (void)snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", strlen(body));
        assert_non_null(strstr(buf, cl));
}

/* ---- the proxy end to end -------------------------------------------------------------- */

#define MAX_RECORDS 64

struct records {
        pthread_mutex_t lock;
        bridle_egress_conn r[MAX_RECORDS];
        char host[MAX_RECORDS][256];
        char reason[MAX_RECORDS][320];
        char method[MAX_RECORDS][24];
        size_t n;
};

static void record(void *data, const bridle_egress_conn *c)
{
        struct records *rs = data;
        pthread_mutex_lock(&rs->lock);
        if (rs->n < MAX_RECORDS) {
                size_t i = rs->n++;
                rs->r[i] = *c;
                (void)snprintf(rs->host[i], sizeof(rs->host[i]), "%s", c->host);
                (void)snprintf(rs->reason[i], sizeof(rs->reason[i]), "%s", c->reason);
                (void)snprintf(rs->method[i], sizeof(rs->method[i]), "%s", c->method);
        }
        pthread_mutex_unlock(&rs->lock);
}

/* The client sees EOF before the worker reports: wait for the nth report (bounded). */
static void wait_records(struct records *rs, size_t n)
{
        for (int i = 0; i < 2000; i++) {
                pthread_mutex_lock(&rs->lock);
                size_t have = rs->n;
                pthread_mutex_unlock(&rs->lock);
                if (have >= n)
                        return;
                usleep(5000);
        }
        fail_msg("%zu reports, wanted %zu", rs->n, n);
}

static bool allow_all(void *data, const char *host)
{
        (void)data;
        (void)host;
        return true;
}

/* Local origins: an HTTP server answering with what it received, an echo server. */
struct origin {
        int lfd;
        int port;
        bool echo;
        int conns; /* how many to serve */
        pthread_t t;
        char last_head[4096];
};

static void *origin_main(void *arg)
{
        struct origin *o = arg;
        for (int i = 0; i < o->conns; i++) {
                struct pollfd p = {.fd = o->lfd, .events = POLLIN};
                if (poll(&p, 1, 20000) <= 0)
                        return NULL;
                int fd = accept(o->lfd, NULL, NULL);
                if (fd < 0)
                        return NULL;
                static char buf[65536];
                if (o->echo) {
                        for (int k = 0; k < 1000000; k++) {
                                ssize_t n = read(fd, buf, sizeof(buf));
                                if (n <= 0 || write(fd, buf, (size_t)n) != n)
                                        break;
                        }
                } else {
                        size_t have = 0;
                        while (have < sizeof(o->last_head) - 1) {
                                ssize_t n = read(fd, o->last_head + have,
                                                 sizeof(o->last_head) - 1 - have);
                                if (n <= 0)
                                        break;
                                have += (size_t)n;
                                o->last_head[have] = '\0';
                                if (strstr(o->last_head, "\r\n\r\n"))
                                        break;
                        }
                        char resp[8192];
                        int l = snprintf(resp, sizeof(resp),
                                         "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: "
                                         "keep-alive\r\n"
                                         "Keep-Alive: timeout=5\r\n\r\n%s",
                                         strlen(o->last_head), o->last_head);
                        (void)!write(fd, resp, (size_t)l);
                }
                close(fd);
        }
        return NULL;
}

static void origin_start(struct origin *o, bool echo, int conns)
{
        o->echo = echo;
        o->conns = conns;
        o->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(o->lfd >= 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        assert_int_equal(bind(o->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(listen(o->lfd, 16), 0);
        socklen_t sl = sizeof(a);
        assert_int_equal(getsockname(o->lfd, (struct sockaddr *)&a, &sl), 0);
        o->port = ntohs(a.sin_port);
        assert_int_equal(pthread_create(&o->t, NULL, origin_main, o), 0);
}

static void origin_stop(struct origin *o)
{
        shutdown(o->lfd, SHUT_RDWR);
        pthread_join(o->t, NULL);
        close(o->lfd);
}

static int proxy_connect(const bridle_egress *e)
{
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        (void)snprintf(a.sun_path, sizeof(a.sun_path), "%s/%s", bridle_egress_dir(e),
                       BRIDLE_EGRESS_SOCKET);
        assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        struct timeval tv = {.tv_sec = 20};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        return fd;
}

/* Send req, read until EOF (bounded). Returns the reply (static). */
static const char *exchange(const bridle_egress *e, const char *req)
{
        static char buf[65536];
        int fd = proxy_connect(e);
        assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
        size_t have = 0;
        while (have < sizeof(buf) - 1) {
                ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
                if (n <= 0)
                        break;
                have += (size_t)n;
        }
        buf[have] = '\0';
        close(fd);
        return buf;
}

struct fixture {
        char *tmp;
        char dir[4096];
        struct records rec;
        struct origin http, echo;
        char map[256];
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        f->tmp = bridle_test_tmpdir();
        (void)snprintf(f->dir, sizeof(f->dir), "%s/egress", f->tmp);
        pthread_mutex_init(&f->rec.lock, NULL);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        bridle_test_rmrf(f->tmp);
        free(f->tmp);
        pthread_mutex_destroy(&f->rec.lock);
        free(f);
        return 0;
}

static bridle_egress *start(struct fixture *f, const char *const *hosts, bool all)
{
        bridle_egress_opts o = {.dir = f->dir,
                                .allow_hosts = hosts,
                                .allow = all ? allow_all : NULL,
                                .report = record,
                                .report_data = &f->rec,
                                .test_map = f->map};
        bridle_egress *e = NULL;
        bridle_error err;
        int r = bridle_egress_start(&o, &e, &err);
        if (r < 0)
                fail_msg("start: %s", err.msg);
        return e;
}

static void test_proxy_http_and_refusals(void **state)
{
        struct fixture *f = *state;
        origin_start(&f->http, false, 1);
        (void)snprintf(f->map, sizeof(f->map), "allowed.test=127.0.0.1:%d,dead.test=127.0.0.1:1",
                       f->http.port);
        const char *const hosts[] = {"allowed.test", "*.sub.test", "dead.test", NULL};
        bridle_egress *e = start(f, hosts, false);
        struct stat st;
        assert_int_equal(stat(f->dir, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0711);

        const char *r = exchange(e, "GET http://Allowed.test/hello?x=1 HTTP/1.1\r\nHost: other\r\n"
                                    "Proxy-Connection: keep-alive\r\nUser-Agent: unit\r\n\r\n");
        wait_records(&f->rec, 1);
        assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
        assert_non_null(strstr(r, "Connection: close\r\n"));
        assert_null(strstr(r, "Keep-Alive"));
        assert_null(strstr(r, "keep-alive"));
        /* what the origin saw: origin-form, our Host, no proxy headers */
        assert_non_null(strstr(r, "GET /hello?x=1 HTTP/1.1\r\n"));
        assert_non_null(strstr(r, "Host: allowed.test\r\n"));
        assert_non_null(strstr(r, "User-Agent: unit\r\n"));
        assert_null(strstr(r, "Proxy-Connection"));
        assert_null(strstr(r, "Host: other"));
        origin_stop(&f->http);

        r = exchange(e, "GET http://other.test/ HTTP/1.1\r\n\r\n");
        wait_records(&f->rec, 2);
        assert_non_null(strstr(r, "HTTP/1.1 403 Forbidden\r\n"));
        assert_non_null(strstr(r, "host 'other.test' is not in the allowlist"));
        r = exchange(e, "CONNECT sub.test:443 HTTP/1.1\r\n\r\n"); /* "*.sub.test" is not sub.test */
        assert_non_null(strstr(r, "HTTP/1.1 403 "));
        wait_records(&f->rec, 3);
        r = exchange(e, "CONNECT dead.test:443 HTTP/1.1\r\n\r\n");
        wait_records(&f->rec, 4);
        assert_non_null(strstr(r, "HTTP/1.1 502 Bad Gateway\r\n"));
        r = exchange(e, "HELLO\r\n\r\n");
        wait_records(&f->rec, 5);
        assert_non_null(strstr(r, "HTTP/1.1 400 "));
        r = exchange(e, "GET https://allowed.test/ HTTP/1.1\r\n\r\n");
        wait_records(&f->rec, 6);
        assert_non_null(strstr(r, "CONNECT"));
        e = bridle_egress_stop(e);
        assert_null(e);
        assert_int_equal(stat(f->dir, &st), 0); /* a caller's directory stays */
        char sock[4200];
        (void)snprintf(sock, sizeof(sock), "%s/%s", f->dir, BRIDLE_EGRESS_SOCKET);
        assert_true(stat(sock, &st) < 0); /* the socket goes */

        /* one report per connection, in the order they ended (sequential here) */
        assert_int_equal(f->rec.n, 6);
        assert_string_equal(f->rec.method[0], "GET");
        assert_string_equal(f->rec.host[0], "allowed.test");
        assert_int_equal(f->rec.r[0].port, 80);
        assert_true(f->rec.r[0].allowed);
        assert_string_equal(f->rec.reason[0], "");
        assert_true(f->rec.r[0].bytes_up > 40);
        assert_true(f->rec.r[0].bytes_down > 100);
        assert_false(f->rec.r[1].allowed);
        assert_int_equal(f->rec.r[1].status, 403);
        assert_string_equal(f->rec.host[1], "other.test");
        assert_non_null(strstr(f->rec.reason[1], "not in the allowlist"));
        assert_int_equal(f->rec.r[1].bytes_up, 0);
        assert_string_equal(f->rec.method[2], "CONNECT");
        assert_int_equal(f->rec.r[2].port, 443);
        assert_int_equal(f->rec.r[2].status, 403);
        assert_int_equal(f->rec.r[3].status, 502);
        assert_false(f->rec.r[3].allowed);
        assert_non_null(strstr(f->rec.reason[3], "cannot connect"));
        assert_int_equal(f->rec.r[4].status, 400);
        assert_int_equal(f->rec.r[5].status, 400);
}

static void test_proxy_connect_tunnel(void **state)
{
        struct fixture *f = *state;
        origin_start(&f->echo, true, 1);
        (void)snprintf(f->map, sizeof(f->map), "tls.sub.test=127.0.0.1:%d", f->echo.port);
        const char *const hosts[] = {"*.sub.test", NULL};
        bridle_egress *e = start(f, hosts, false);
        int fd = proxy_connect(e);
        /* The first bytes of the tunnel ride with the CONNECT head. */
        const char *req =
                "CONNECT tls.sub.test:443 HTTP/1.1\r\nHost: tls.sub.test:443\r\n\r\nEARLY";
        assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
        char buf[8192];
        size_t have = 0;
        const char *est = "HTTP/1.1 200 Connection established\r\n\r\nEARLY";
        while (have < strlen(est)) {
                ssize_t n = read(fd, buf + have, strlen(est) - have);
                assert_true(n > 0);
                have += (size_t)n;
        }
        assert_memory_equal(buf, est, strlen(est));
        /* 4 MiB each way, interleaved (the echo sends it back) */
        size_t total = 4u << 20, sent = 0, got = 0;
        static char out[65536], in[65536];
        for (size_t i = 0; i < sizeof(out); i++)
                out[i] = (char)(i * 7 + 3);
        size_t rounds = 0;
        while (got < total && rounds++ < 1000000) {
                struct pollfd p = {.fd = fd, .events = POLLIN | (sent < total ? POLLOUT : 0)};
                assert_true(poll(&p, 1, 20000) > 0);
                if ((p.revents & POLLOUT) && sent < total) {
                        size_t k = total - sent < sizeof(out) ? total - sent : sizeof(out);
                        ssize_t n = send(fd, out, k, MSG_DONTWAIT);
                        if (n > 0)
                                sent += (size_t)n;
                }
                if (p.revents & POLLIN) {
                        ssize_t n = read(fd, in, sizeof(in));
                        assert_true(n > 0);
                        for (ssize_t i = 0; i < n; i++)
                                assert_int_equal(in[i], out[(got + (size_t)i) % sizeof(out)]);
                        got += (size_t)n;
                }
        }
        assert_int_equal(got, total);
        shutdown(fd, SHUT_WR);
        assert_int_equal(read(fd, in, sizeof(in)), 0); /* the origin's EOF comes through */
        close(fd);
        origin_stop(&f->echo);
        bridle_egress_stop(e);
        assert_int_equal(f->rec.n, 1);
        assert_true(f->rec.r[0].allowed);
        assert_int_equal(f->rec.r[0].status, 200);
        assert_string_equal(f->rec.host[0], "tls.sub.test");
        assert_string_equal(f->rec.method[0], "CONNECT");
        assert_int_equal(f->rec.r[0].bytes_up, total + 5);
        assert_int_equal(f->rec.r[0].bytes_down, total + 5);
}

/* Allowed by the predicate, refused by the address however it is spelled. */
static void test_proxy_private_ranges(void **state)
{
        struct fixture *f = *state;
        f->map[0] = '\0';
        bridle_egress *e = start(f, NULL, true);
        static const char *const reqs[] = {
                "GET http://127.0.0.1/ HTTP/1.1\r\n\r\n",
                "GET http://2130706433/ HTTP/1.1\r\n\r\n", /* 127.0.0.1 as one number */
                "GET http://0x7f.1/ HTTP/1.1\r\n\r\n",     /* 127.0.0.1 in hex, short form */
                "GET http://0177.0.0.1/ HTTP/1.1\r\n\r\n", /* octal */
                "GET http://localhost/ HTTP/1.1\r\n\r\n",
                "GET http://10.1.2.3:8080/ HTTP/1.1\r\n\r\n",
                "GET http://169.254.169.254/latest/meta-data HTTP/1.1\r\n\r\n",
                "GET http://100.64.0.1/ HTTP/1.1\r\n\r\n",
                "GET http://[::1]/ HTTP/1.1\r\n\r\n",
                "GET http://[::ffff:127.0.0.1]/ HTTP/1.1\r\n\r\n",
                "CONNECT [::ffff:7f00:1]:443 HTTP/1.1\r\n\r\n",
                "CONNECT [fe80::1]:443 HTTP/1.1\r\n\r\n",
                "CONNECT [fd00::1]:443 HTTP/1.1\r\n\r\n",
                "CONNECT 192.168.0.1:22 HTTP/1.1\r\n\r\n",
                "CONNECT 0.0.0.0:80 HTTP/1.1\r\n\r\n",
                "CONNECT 224.0.0.1:80 HTTP/1.1\r\n\r\n",
        };
        for (size_t i = 0; i < sizeof(reqs) / sizeof(*reqs); i++) {
                const char *r = exchange(e, reqs[i]);
                wait_records(&f->rec, i + 1);
                if (!strstr(r, "HTTP/1.1 403 Forbidden\r\n") || !strstr(r, "may not reach"))
                        fail_msg("not refused: %s -> %s", reqs[i], r);
        }
        bridle_egress_stop(e);
        assert_int_equal(f->rec.n, sizeof(reqs) / sizeof(*reqs));
        for (size_t i = 0; i < f->rec.n; i++) {
                assert_false(f->rec.r[i].allowed);
                assert_int_equal(f->rec.r[i].status, 403);
                assert_int_equal(f->rec.r[i].bytes_up + f->rec.r[i].bytes_down, 0);
        }
        assert_non_null(strstr(f->rec.reason[1], "loopback address 127.0.0.1"));
        assert_non_null(strstr(f->rec.reason[2], "loopback address 127.0.0.1"));
        assert_non_null(strstr(f->rec.reason[9], "loopback"));
}

/* A proxy killed without cleaning up leaves its socket: the next one takes the path. */
static void test_proxy_restart_same_dir(void **state)
{
        struct fixture *f = *state;
        assert_int_equal(mkdir(f->dir, 0711), 0);
        char sock[4200];
        (void)snprintf(sock, sizeof(sock), "%s/%s", f->dir, BRIDLE_EGRESS_SOCKET);
        int stale = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        assert_true(strlen(sock) < sizeof(a.sun_path));
        memcpy(a.sun_path, sock, strlen(sock) + 1);
        assert_int_equal(bind(stale, (struct sockaddr *)&a, sizeof(a)), 0);
        close(stale);
        bridle_egress *e = start(f, NULL, false);
        const char *r = exchange(e, "GET http://x.test/ HTTP/1.1\r\n\r\n");
        assert_non_null(strstr(r, "HTTP/1.1 403 "));
        bridle_egress_stop(e);
        e = start(f, NULL, false);
        r = exchange(e, "GET http://y.test/ HTTP/1.1\r\n\r\n");
        assert_non_null(strstr(r, "'y.test' is not in the allowlist"));
        bridle_egress_stop(e);
        /* a non-socket in the way is not removed */
        int fd = open(sock, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);
        bridle_egress_opts o = {.dir = f->dir};
        bridle_error err;
        assert_int_equal(bridle_egress_start(&o, &e, &err), -EEXIST);
        assert_int_equal(unlink(sock), 0);
}

static void test_proxy_temp_dir(void **state)
{
        (void)state;
        bridle_egress_opts o = {.test_map = "bad"};
        bridle_egress *e = NULL;
        bridle_error err;
        assert_int_equal(bridle_egress_start(&o, &e, &err), BRIDLE_E_INVALID);
        assert_null(e);
        o.test_map = NULL;
        assert_int_equal(bridle_egress_start(&o, &e, &err), 0);
        char dir[4096];
        (void)snprintf(dir, sizeof(dir), "%s", bridle_egress_dir(e));
        struct stat st;
        assert_int_equal(stat(dir, &st), 0);
        const char *r =
                exchange(e, "CONNECT example.org:443 HTTP/1.1\r\n\r\n"); /* no list: nothing */
        assert_non_null(strstr(r, "HTTP/1.1 403 "));
        bridle_egress_stop(e);
        assert_true(stat(dir, &st) < 0); /* a temporary directory goes */
}

/* The spec: allowlist needs a directory and namespaces. */
static void test_spec_egress(void **state)
{
        (void)state;
        bridle_sandbox_spec *s = bridle_sandbox_spec_new();
        bridle_error err;
        assert_true(bridle_sandbox_spec_set_egress(s, "relative", &err) < 0);
        assert_int_equal(bridle_sandbox_spec_set_egress(s, "/tmp", &err), 0);
        assert_int_equal(bridle_sandbox_spec_set_egress(s, NULL, &err), 0);
        bridle_sandbox_spec_set_net(s, BRIDLE_NET_ALLOWLIST);
        bridle_run_opts ro = {
                .argv = (const char *const[]){"true", NULL}, .capture = true, .stdin_fd = -1};
        bridle_run_result res;
        assert_true(bridle_sandbox_run(s, &ro, &res, &err) < 0);
        if (!strstr(err.msg, "egress"))
                fail_msg("%s", err.msg);
        assert_int_equal(bridle_sandbox_spec_set_egress(s, "/tmp", &err), 0);
        bridle_sandbox_spec_set_isolation(s, BRIDLE_ISOLATION_LANDLOCK);
        assert_true(bridle_sandbox_run(s, &ro, &res, &err) < 0);
        assert_non_null(strstr(err.msg, "namespaces"));
        bridle_sandbox_spec_free(s);
}

static int exec_in(const char *id, const char *const *argv, bridle_run_result *res)
{
        bridle_exec_opts o = {.argv = argv, .capture = true, .timeout_ms = 30000};
        bridle_error err;
        int r = bridle_sandbox_exec(id, &o, res, &err);
        if (r < 0)
                fail_msg("exec: %s", err.msg);
        return r;
}

/* A living sandbox's bridge connects per connection, to the socket in the
 * directory: a proxy killed with SIGKILL and started again in the same
 * directory is used by the next connection, the sandbox untouched. */
static void test_living_bridge_survives_proxy_restart(void **state)
{
        struct fixture *f = *state;
        char home[4200];
        (void)snprintf(home, sizeof(home), "%s/home", f->tmp);
        assert_int_equal(setenv("BRIDLE_HOME", home, 1), 0);
        int port_pipe[2], ready[2];
        assert_int_equal(pipe(port_pipe), 0);
        assert_int_equal(pipe(ready), 0);
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                /* The first proxy, in a process of its own (no threads were running at the fork).
                 */
                int port = 0;
                if (read(port_pipe[0], &port, sizeof(port)) != sizeof(port))
                        _exit(1);
                char map[128];
                (void)snprintf(map, sizeof(map), "allowed.test=127.0.0.1:%d", port);
                const char *const hosts[] = {"allowed.test", NULL};
                bridle_egress_opts o = {.dir = f->dir, .allow_hosts = hosts, .test_map = map};
                bridle_egress *e = NULL;
                if (bridle_egress_start(&o, &e, NULL) < 0 || write(ready[1], "r", 1) != 1)
                        _exit(1);
                for (;;)
                        pause();
        }
        origin_start(&f->http, false, 2);
        assert_int_equal(write(port_pipe[1], &f->http.port, sizeof(f->http.port)),
                         sizeof(f->http.port));
        char c;
        assert_int_equal(read(ready[0], &c, 1), 1);

        bridle_sandbox_spec *s = bridle_sandbox_spec_new();
        bridle_error err;
        assert_int_equal(bridle_sandbox_spec_set_egress(s, f->dir, &err), 0);
        char *id = NULL;
        if (bridle_sandbox_create(s, NULL, &id, &err) < 0) {
                kill(child, SIGKILL);
                waitpid(child, NULL, 0);
                bridle_sandbox_spec_free(s);
                origin_stop(&f->http);
                fail_msg("create: %s", err.msg);
        }
        bridle_sandbox_spec_free(s);
        const char *const curl[] = {"curl", "-sS", "-m", "10", "http://allowed.test/first", NULL};
        bridle_run_result res;
        exec_in(id, curl, &res);
        bool have_curl = res.status != 127;
        if (have_curl) {
                assert_int_equal(res.status, 0);
                assert_non_null(strstr(res.stdout_buf, "GET /first HTTP/1.1"));
        }
        bridle_run_result_release(&res);

        assert_int_equal(kill(child, SIGKILL), 0);
        assert_int_equal(waitpid(child, NULL, 0), child);
        if (have_curl) {
                exec_in(id, curl, &res);
                assert_non_null(strstr(res.stdout_buf, "the egress proxy is not reachable"));
                bridle_run_result_release(&res);
        }

        char map[128];
        (void)snprintf(map, sizeof(map), "allowed.test=127.0.0.1:%d", f->http.port);
        (void)snprintf(f->map, sizeof(f->map), "%s", map);
        const char *const hosts[] = {"allowed.test", NULL};
        bridle_egress *e = start(f, hosts, false); /* over the dead proxy's socket */
        const char *const curl2[] = {"curl", "-sS", "-m", "10", "http://allowed.test/second", NULL};
        if (have_curl) {
                exec_in(id, curl2, &res);
                assert_int_equal(res.status, 0);
                assert_non_null(strstr(res.stdout_buf, "GET /second HTTP/1.1"));
                bridle_run_result_release(&res);
        }
        assert_int_equal(bridle_sandbox_destroy(id, &err), 0);
        free(id);
        bridle_egress_stop(e);
        origin_stop(&f->http); /* shutdown() wakes its accept if fewer connections came */
        close(port_pipe[0]);
        close(port_pipe[1]);
        close(ready[0]);
        close(ready[1]);
        if (!have_curl)
                skip();
        assert_int_equal(f->rec.n, 1);
        assert_true(f->rec.r[0].allowed);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_host_listed),
                cmocka_unit_test(test_addr_classes),
                cmocka_unit_test(test_host_norm_and_map),
                cmocka_unit_test(test_request_parse),
                cmocka_unit_test(test_request_rewrite),
                cmocka_unit_test(test_response_rewrite),
                cmocka_unit_test_setup_teardown(test_proxy_http_and_refusals, setup, teardown),
                cmocka_unit_test_setup_teardown(test_proxy_connect_tunnel, setup, teardown),
                cmocka_unit_test_setup_teardown(test_proxy_private_ranges, setup, teardown),
                cmocka_unit_test_setup_teardown(test_proxy_restart_same_dir, setup, teardown),
                cmocka_unit_test(test_proxy_temp_dir),
                cmocka_unit_test(test_spec_egress),
                cmocka_unit_test_setup_teardown(test_living_bridge_survives_proxy_restart, setup,
                                                teardown),
        };
        return cmocka_run_group_tests_name("egress", tests, NULL, NULL);
}
