/* SPDX-License-Identifier: MIT */
/*
 * The egress proxy: a listening Unix socket, an acceptor thread, one detached
 * worker thread per connection (at most max_connections). A worker reads the
 * request head, decides (allow predicate, then the addresses the name
 * resolves to), connects, and relays until both sides are done, the
 * connection is idle too long, or the proxy stops. Every connection ends in
 * one report.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "egress/egress.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fd.h"

#define RELAY_BUF          ((size_t)128 * 1024)
#define PIPE_BYTES         ((size_t)1024 * 1024)
#define CONNECT_TIMEOUT_MS 10000
#define HEAD_TIMEOUT_MS    30000

struct bridle_egress {
        char *dir;
        char *tmp_parent; /* a temporary directory we made (dir is inside it) */
        char sock_path[4096];
        dev_t sock_dev;
        ino_t sock_ino;
        int lfd;
        int stop_pipe[2];
        pthread_t acceptor;
        bool acceptor_started;
        pthread_mutex_t lock;
        pthread_cond_t idle;
        unsigned active;
        bridle_egress_allow_fn allow;
        void *allow_data;
        char **allow_hosts;
        bridle_egress_report_fn report;
        void *report_data;
        struct bridle__egress_map_entry *map;
        size_t n_map;
        uint64_t idle_ms;
        unsigned max_conn;
};

static uint64_t now_ms(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- one connection ---------------------------------------------------------- */

struct conn {
        bridle_egress *e;
        int cfd, ofd;
        uint64_t start;
        struct bridle__egress_req req;
        char head[BRIDLE__EGRESS_MAX_HEAD];
        size_t have; /* bytes read into head (may run past the head) */
        char address[INET6_ADDRSTRLEN + 8];
        bridle_egress_conn rep;
        char reason[320];
};

static void report(struct conn *c)
{
        c->rep.method = c->req.method;
        c->rep.host = c->req.host;
        c->rep.port = c->req.port;
        c->rep.address = c->address;
        c->rep.reason = c->reason;
        c->rep.ms = now_ms() - c->start;
        if (c->e->report)
                c->e->report(c->e->report_data, &c->rep);
}

/* Wait for fd (events) or the stop pipe; 1 ready, 0 timeout, -1 stopped/error. */
static int wait_fd(const bridle_egress *e, int fd, short events, int timeout_ms)
{
        struct pollfd p[2] = {{.fd = fd, .events = events},
                              {.fd = e->stop_pipe[0], .events = POLLIN}};
        int r;
        do
                r = poll(p, 2, timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r < 0 || p[1].revents)
                return -1;
        return r > 0 ? 1 : 0;
}

static void send_all(const bridle_egress *e, int fd, const char *b, size_t n)
{
        while (n > 0) {
                ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
                if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
                        if (wait_fd(e, fd, POLLOUT, CONNECT_TIMEOUT_MS) <= 0)
                                return;
                        continue;
                }
                if (w <= 0)
                        return;
                b += w;
                n -= (size_t)w;
        }
}

/* Answer the client ourselves and record why. */
static void refuse(struct conn *c, int status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void refuse(struct conn *c, int status, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
        va_end(ap);
        char out[1024];
        size_t n = bridle__egress_reply(out, sizeof(out), status, c->reason);
        send_all(c->e, c->cfd, out, n);
        c->rep.status = status;
}

/* Read until the head is complete. 0, or -1 after refusing. */
static int read_head(struct conn *c)
{
        uint64_t deadline = now_ms() + HEAD_TIMEOUT_MS;
        for (;;) {
                size_t end = bridle__egress_head_end(c->head, c->have);
                if (end) {
                        c->req.head_len = end;
                        return 0;
                }
                if (c->have == sizeof(c->head)) {
                        refuse(c, 431, "request head larger than %zu bytes",
                               BRIDLE__EGRESS_MAX_HEAD);
                        return -1;
                }
                uint64_t now = now_ms();
                int w = now >= deadline ? 0 : wait_fd(c->e, c->cfd, POLLIN, (int)(deadline - now));
                if (w == 0)
                        refuse(c, 400, "%s", "no complete request head within 30 s");
                if (w <= 0)
                        return -1;
                ssize_t n = read(c->cfd, c->head + c->have, sizeof(c->head) - c->have);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        continue;
                if (n <= 0) {
                        (void)snprintf(c->reason, sizeof(c->reason), "%s",
                                       "client closed before a complete request");
                        return -1;
                }
                c->have += (size_t)n;
        }
}

static void format_addr(const struct sockaddr *sa, char *out, size_t cap)
{
        char ip[INET6_ADDRSTRLEN] = "?";
        if (sa->sa_family == AF_INET)
                (void)inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip,
                                sizeof(ip));
        else if (sa->sa_family == AF_INET6)
                (void)inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip,
                                sizeof(ip));
        (void)snprintf(out, cap, "%s", ip);
}

/* Non-blocking connect bounded in time. The fd, or -errno. */
static int connect_to(const bridle_egress *e, const struct sockaddr *sa, socklen_t len)
{
        int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, sa, len) < 0 && errno != EINPROGRESS) {
                int r = -errno;
                bridle__close(fd);
                return r;
        }
        int w = wait_fd(e, fd, POLLOUT, CONNECT_TIMEOUT_MS);
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (w <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
                bridle__close(fd);
                return w == 0 ? -ETIMEDOUT : w < 0 ? -ECANCELED : -(soerr ? soerr : EIO);
        }
        return fd;
}

static const struct bridle__egress_map_entry *map_find(const bridle_egress *e, const char *host)
{
        for (size_t i = 0; i < e->n_map; i++)
                if (strcmp(e->map[i].host, host) == 0)
                        return &e->map[i];
        return NULL;
}

/* Resolve, check every address, connect. 0 (c->ofd set), or -1 after refusing. */
static int open_origin(struct conn *c)
{
        const bridle_egress *e = c->e;
        const struct bridle__egress_map_entry *m = map_find(e, c->req.host);
        if (m) {
                format_addr((const struct sockaddr *)&m->addr, c->address, sizeof(c->address));
                int fd = connect_to(e, (const struct sockaddr *)&m->addr, m->addrlen);
                if (fd < 0) {
                        refuse(c, 502, "cannot connect to '%s' (test map: %s): %s", c->req.host,
                               c->address, strerror(-fd));
                        return -1;
                }
                c->ofd = fd;
                return 0;
        }
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
        struct addrinfo *ai = NULL;
        char port[8];
        (void)snprintf(port, sizeof(port), "%u", c->req.port);
        int g = getaddrinfo(c->req.host, port, &hints, &ai);
        if (g != 0) {
                refuse(c, 502, "cannot resolve '%s': %s", c->req.host, gai_strerror(g));
                return -1;
        }
        char why[128];
        for (const struct addrinfo *a = ai; a; a = a->ai_next)
                if (bridle__egress_addr_blocked(a->ai_addr, why, sizeof(why))) {
                        freeaddrinfo(ai);
                        refuse(c, 403, "'%s' resolves to a %s: the sandbox may not reach it",
                               c->req.host, why);
                        return -1;
                }
        int last = -EHOSTUNREACH;
        for (const struct addrinfo *a = ai; a && c->ofd < 0; a = a->ai_next) {
                format_addr(a->ai_addr, c->address, sizeof(c->address));
                last = connect_to(e, a->ai_addr, a->ai_addrlen);
                if (last >= 0)
                        c->ofd = last;
        }
        freeaddrinfo(ai);
        if (c->ofd < 0) {
                refuse(c, 502, "cannot connect to '%s' port %u (%s): %s", c->req.host, c->req.port,
                       c->address, strerror(-last));
                return -1;
        }
        return 0;
}

/* One direction of the relay. */
struct flow {
        int from, to;
        char *buf;
        size_t off, len;
        bool eof;
        uint64_t *count; /* bytes read from `from` (down) or written to `to` (up) */
        bool count_writes;
        /* down, plain HTTP: rewrite response heads until a final one */
        bool head_mode;
        char *hbuf;
        size_t hlen;
        /* CONNECT tunnels, once buf is empty: splice through a pipe (no copy
         * through user space); len then counts the bytes in the pipe */
        int pipe[2];
        bool spliced;
};

/* Head mode: move complete heads (rewritten) and, after the final one, the
 * rest into the output buffer. */
static void flow_heads(struct flow *f)
{
        while (f->head_mode) {
                size_t end = bridle__egress_head_end(f->hbuf, f->hlen);
                if (!end && f->hlen < BRIDLE__EGRESS_MAX_RHEAD)
                        return;
                char *out = NULL;
                size_t olen = 0;
                int status = 0;
                if (!end || bridle__egress_resp_rewrite(f->hbuf, end, &out, &olen, &status) < 0) {
                        f->head_mode = false; /* not HTTP as we know it: pass it on as it is */
                        break;
                }
                memcpy(f->buf + f->len, out, olen);
                f->len += olen;
                free(out);
                memmove(f->hbuf, f->hbuf + end, f->hlen - end);
                f->hlen -= end;
                if (status >= 200)
                        f->head_mode = false;
        }
        memcpy(f->buf + f->len, f->hbuf, f->hlen);
        f->len += f->hlen;
        f->hlen = 0;
}

static int again(void)
{
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
}

/* The flow's source said EOF and everything is out: pass the EOF on. */
static int flow_idle(struct flow *f)
{
        if (f->eof)
                (void)shutdown(f->to, SHUT_WR);
        return 0;
}

/* Fill the pipe from the source. 0 or -1. */
static int splice_in(struct flow *f)
{
        ssize_t n = splice(f->from, NULL, f->pipe[1], NULL, PIPE_BYTES,
                           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n < 0)
                return again();
        if (!f->count_writes)
                *f->count += (uint64_t)n;
        f->eof = n == 0;
        f->len = (size_t)n;
        return 0;
}

static int splice_step(struct flow *f)
{
        for (int round = 0; round < 8; round++) {
                if (f->len == 0 && !f->eof && splice_in(f) < 0)
                        return -1;
                if (f->len == 0)
                        return flow_idle(f);
                ssize_t w = splice(f->pipe[0], NULL, f->to, NULL, f->len,
                                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                if (w < 0)
                        return again();
                if (f->count_writes)
                        *f->count += (uint64_t)w;
                f->len -= (size_t)w;
                if (f->len)
                        return 0;
        }
        return 0;
}

/* Read from the source into buf (or, in head mode, into hbuf). 0 or -1. */
static int read_in(struct flow *f)
{
        f->off = 0;
        char *dst = f->head_mode ? f->hbuf + f->hlen : f->buf;
        size_t cap = f->head_mode ? BRIDLE__EGRESS_MAX_RHEAD - f->hlen : RELAY_BUF;
        ssize_t n = read(f->from, dst, cap);
        if (n < 0)
                return again();
        if (!f->count_writes)
                *f->count += (uint64_t)n;
        if (n == 0) {
                f->eof = true;
                if (f->head_mode) {
                        f->head_mode = false;
                        flow_heads(f); /* whatever came: as it is */
                }
        } else if (f->head_mode) {
                f->hlen += (size_t)n;
                flow_heads(f);
        } else {
                f->len = (size_t)n;
        }
        return 0;
}

/* Move what can move now. -1: broken. */
static int flow_step(struct flow *f)
{
        if (f->len == 0 && f->pipe[0] >= 0)
                f->spliced = true;
        if (f->spliced)
                return splice_step(f);
        for (int round = 0; round < 8; round++) {
                if (f->len == 0 && !f->eof && read_in(f) < 0)
                        return -1;
                if (f->len == 0)
                        return flow_idle(f);
                ssize_t w = send(f->to, f->buf + f->off, f->len, MSG_NOSIGNAL);
                if (w < 0)
                        return again();
                if (f->count_writes)
                        *f->count += (uint64_t)w;
                f->off += (size_t)w;
                f->len -= (size_t)w;
                if (f->len)
                        return 0;
        }
        return 0;
}

static short want(const struct flow *f, int fd)
{
        short ev = 0;
        if (f->from == fd && f->len == 0 && !f->eof)
                ev |= POLLIN;
        if (f->to == fd && f->len > 0)
                ev |= POLLOUT;
        return ev;
}

static bool flow_done(const struct flow *f)
{
        return f->eof && f->len == 0;
}

static void close_pipes(struct flow *a, struct flow *b)
{
        for (int i = 0; i < 2; i++) {
                if (a->pipe[i] >= 0)
                        bridle__close(a->pipe[i]);
                if (b->pipe[i] >= 0)
                        bridle__close(b->pipe[i]);
                a->pipe[i] = b->pipe[i] = -1;
        }
}

static void relay_loop(struct conn *c, struct flow *upp, struct flow *downp, bool rewrite_response);

/* Relay until both directions are done. `pending` goes to the origin first. */
static void relay(struct conn *c, const char *pending, size_t plen, bool rewrite_response)
{
        _cleanup_free_ char *ubuf = bridle__malloc(RELAY_BUF + BRIDLE__EGRESS_MAX_HEAD * 3);
        _cleanup_free_ char *dbuf = bridle__malloc(RELAY_BUF + BRIDLE__EGRESS_MAX_RHEAD * 3);
        _cleanup_free_ char *hbuf =
                rewrite_response ? bridle__malloc(BRIDLE__EGRESS_MAX_RHEAD) : NULL;
        if (!ubuf || !dbuf || (rewrite_response && !hbuf)) {
                (void)snprintf(c->reason, sizeof(c->reason), "%s", "out of memory");
                return;
        }
        struct flow up = {.from = c->cfd,
                          .to = c->ofd,
                          .buf = ubuf,
                          .count = &c->rep.bytes_up,
                          .count_writes = true};
        struct flow down = {.from = c->ofd,
                            .to = c->cfd,
                            .buf = dbuf,
                            .count = &c->rep.bytes_down,
                            .head_mode = rewrite_response,
                            .hbuf = hbuf};
        memcpy(up.buf, pending, plen);
        up.len = plen;
        up.pipe[0] = up.pipe[1] = down.pipe[0] = down.pipe[1] = -1;
        if (!rewrite_response) {
                if (pipe2(up.pipe, O_CLOEXEC | O_NONBLOCK) == 0 &&
                    pipe2(down.pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
                        (void)fcntl(up.pipe[1], F_SETPIPE_SZ, PIPE_BYTES);
                        (void)fcntl(down.pipe[1], F_SETPIPE_SZ, PIPE_BYTES);
                } else {
                        close_pipes(&up, &down);
                }
        }
        relay_loop(c, &up, &down, rewrite_response);
        close_pipes(&up, &down);
}

static void relay_loop(struct conn *c, struct flow *upp, struct flow *downp, bool rewrite_response)
{
        struct flow *up = upp, *down = downp;
        int idle = c->e->idle_ms > (uint64_t)INT32_MAX ? INT32_MAX : (int)c->e->idle_ms;
        (void)fcntl(c->cfd, F_SETFL, O_NONBLOCK | O_RDWR);
        for (;;) {
                if (flow_step(up) < 0 || flow_step(down) < 0)
                        return;
                if (flow_done(up) && flow_done(down))
                        return;
                /* The origin is done and flushed: the client's leftovers have nowhere to go. */
                if (flow_done(down) && !rewrite_response && up->eof)
                        return;
                if (flow_done(down) && rewrite_response)
                        return; /* one request per connection: the response is complete */
                struct pollfd p[3] = {
                        {.fd = c->cfd, .events = (short)(want(up, c->cfd) | want(down, c->cfd))},
                        {.fd = c->ofd, .events = (short)(want(up, c->ofd) | want(down, c->ofd))},
                        {.fd = c->e->stop_pipe[0], .events = POLLIN},
                };
                int r;
                do
                        r = poll(p, 3, idle);
                while (r < 0 && errno == EINTR);
                if (r == 0) {
                        (void)snprintf(c->reason, sizeof(c->reason), "idle for %d ms: closed",
                                       idle);
                        return;
                }
                if (r < 0 || p[2].revents)
                        return;
        }
}

static void handle(struct conn *c)
{
        if (read_head(c) < 0)
                return;
        int status = 0;
        if (bridle__egress_req_parse(c->head, c->req.head_len, &c->req, &status, c->reason,
                                     sizeof(c->reason)) < 0) {
                char why[320];
                (void)snprintf(why, sizeof(why), "%s", c->reason);
                refuse(c, status, "%s", why);
                return;
        }
        const bridle_egress *e = c->e;
        bool ok = e->allow ? e->allow(e->allow_data, c->req.host)
                           : bridle_egress_host_listed((const char *const *)e->allow_hosts,
                                                       c->req.host);
        if (!ok) {
                refuse(c, 403, "host '%s' is not in the allowlist", c->req.host);
                return;
        }
        if (open_origin(c) < 0)
                return;
        c->rep.allowed = true;
        const char *rest = c->head + c->req.head_len;
        size_t nrest = c->have - c->req.head_len;
        if (c->req.connect) {
                char out[64];
                size_t n = bridle__egress_reply(out, sizeof(out), 200, "");
                send_all(e, c->cfd, out, n);
                c->rep.status = 200;
                relay(c, rest, nrest, false);
                return;
        }
        char *head = NULL;
        size_t hl = 0;
        if (bridle__egress_req_rewrite(c->head, &c->req, &head, &hl) < 0) {
                refuse(c, 502, "%s", "out of memory");
                return;
        }
        _cleanup_free_ char *pending = bridle__malloc(hl + nrest + 1);
        if (!pending) {
                free(head);
                refuse(c, 502, "%s", "out of memory");
                return;
        }
        memcpy(pending, head, hl);
        memcpy(pending + hl, rest, nrest);
        free(head);
        relay(c, pending, hl + nrest, true);
}

struct work {
        bridle_egress *e;
        int cfd;
};

static void conn_done(bridle_egress *e)
{
        pthread_mutex_lock(&e->lock);
        e->active--;
        pthread_cond_broadcast(&e->idle);
        pthread_mutex_unlock(&e->lock);
}

static void *worker(void *arg)
{
        struct work *w = arg;
        bridle_egress *e = w->e;
        struct conn *c = bridle__calloc(1, sizeof(*c));
        if (c) {
                c->e = e;
                c->cfd = w->cfd;
                c->ofd = -1;
                c->start = now_ms();
                handle(c);
                report(c);
                if (c->ofd >= 0)
                        bridle__close(c->ofd);
                free(c);
        }
        bridle__close(w->cfd);
        free(w);
        conn_done(e);
        return NULL;
}

static void busy(bridle_egress *e, int cfd)
{
        char out[512];
        size_t n = bridle__egress_reply(out, sizeof(out), 503, "too many connections at once");
        (void)send(cfd, out, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        bridle_egress_conn r = {.method = "",
                                .host = "",
                                .address = "",
                                .status = 503,
                                .reason = "too many connections at once"};
        if (e->report)
                e->report(e->report_data, &r);
        bridle__close(cfd);
}

static void spawn_worker(bridle_egress *e, int cfd)
{
        pthread_mutex_lock(&e->lock);
        bool full = e->active >= e->max_conn;
        if (!full)
                e->active++;
        pthread_mutex_unlock(&e->lock);
        if (full) {
                busy(e, cfd);
                return;
        }
        struct work *w = bridle__malloc(sizeof(*w));
        pthread_attr_t attr;
        pthread_t t;
        bool started = false;
        if (w && pthread_attr_init(&attr) == 0) {
                (void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                *w = (struct work){.e = e, .cfd = cfd};
                started = pthread_create(&t, &attr, worker, w) == 0;
                (void)pthread_attr_destroy(&attr);
        }
        if (!started) {
                free(w);
                conn_done(e);
                busy(e, cfd);
        }
}

static void *acceptor(void *arg)
{
        bridle_egress *e = arg;
        for (;;) {
                int w = wait_fd(e, e->lfd, POLLIN, -1);
                if (w < 0)
                        return NULL;
                int cfd = accept4(e->lfd, NULL, NULL, SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                            errno == ENOMEM)
                                (void)poll(NULL, 0, 50); /* let connections finish */
                        continue;
                }
                spawn_worker(e, cfd);
        }
}

/* ---- start and stop ---------------------------------------------------------------- */

static int make_dir(bridle_egress *e, const char *dir, bridle_error *err)
{
        if (!dir) {
                const char *t = getenv("TMPDIR");
                char tmpl[4096];
                (void)snprintf(tmpl, sizeof(tmpl), "%s/bridle-egress-XXXXXX",
                               t && *t == '/' ? t : "/tmp");
                if (!mkdtemp(tmpl))
                        return bridle__err(err, -errno, "egress: make a directory in '%s'", tmpl);
                if (!(e->tmp_parent = bridle__strdup(tmpl)))
                        return bridle__err(err, -ENOMEM, "egress");
                /* The parent is private (0700); the sandbox's bridge reaches the
                 * inner directory through an fd, so it needs search permission there. */
                (void)snprintf(tmpl + strlen(tmpl), sizeof(tmpl) - strlen(tmpl), "/egress");
                if (mkdir(tmpl, 0711) < 0 || chmod(tmpl, 0711) < 0)
                        return bridle__err(err, -errno, "egress: make '%s'", tmpl);
                dir = tmpl;
                if (!(e->dir = bridle__strdup(dir)))
                        return bridle__err(err, -ENOMEM, "egress");
                return 0;
        }
        if (dir[0] != '/')
                return bridle__err(err, -EINVAL, "egress: '%s' is not an absolute path", dir);
        if (mkdir(dir, 0711) == 0)
                (void)chmod(dir, 0711); /* whatever the umask */
        else if (errno != EEXIST)
                return bridle__err(err, -errno, "egress: make '%s'", dir);
        if (!(e->dir = bridle__strdup(dir)))
                return bridle__err(err, -ENOMEM, "egress");
        return 0;
}

static int listen_sock(bridle_egress *e, bridle_error *err)
{
        int n = snprintf(e->sock_path, sizeof(e->sock_path), "%s/%s", e->dir, BRIDLE_EGRESS_SOCKET);
        if (n < 0 || (size_t)n >= sizeof(e->sock_path))
                return bridle__err(err, -ENAMETOOLONG, "egress: directory path too long");
        _cleanup_close_ int dfd = open(e->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return bridle__err(err, -errno, "egress: open '%s'", e->dir);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        /* A long path is bound through the directory's fd. */
        if ((size_t)n < sizeof(a.sun_path))
                memcpy(a.sun_path, e->sock_path, (size_t)n + 1);
        else
                (void)snprintf(a.sun_path, sizeof(a.sun_path), "/proc/self/fd/%d/%s", dfd,
                               BRIDLE_EGRESS_SOCKET);
        struct stat st;
        if (fstatat(dfd, BRIDLE_EGRESS_SOCKET, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return bridle__err(err, -EEXIST, "egress: '%s' exists and is not a socket",
                                           e->sock_path);
                (void)unlinkat(dfd, BRIDLE_EGRESS_SOCKET, 0); /* a proxy before us died */
        }
        e->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (e->lfd < 0)
                return bridle__err(err, -errno, "egress: socket");
        if (bind(e->lfd, (struct sockaddr *)&a, sizeof(a)) < 0)
                return bridle__err(err, -errno, "egress: bind '%s'", e->sock_path);
        /* Anyone who can reach the directory may connect: the sandbox's uid is not ours. */
        if (fchmodat(dfd, BRIDLE_EGRESS_SOCKET, 0666, 0) < 0 ||
            fstatat(dfd, BRIDLE_EGRESS_SOCKET, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return bridle__err(err, -errno, "egress: chmod '%s'", e->sock_path);
        e->sock_dev = st.st_dev;
        e->sock_ino = st.st_ino;
        if (listen(e->lfd, 128) < 0)
                return bridle__err(err, -errno, "egress: listen on '%s'", e->sock_path);
        return 0;
}

static int copy_hosts(bridle_egress *e, const char *const *hosts)
{
        size_t n = 0;
        while (hosts && hosts[n])
                n++;
        e->allow_hosts = bridle__calloc(n + 1, sizeof(char *));
        if (!e->allow_hosts)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!(e->allow_hosts[i] = bridle__strdup(hosts[i])))
                        return -ENOMEM;
        return 0;
}

static void egress_free(bridle_egress *e)
{
        if (e->lfd >= 0)
                bridle__close(e->lfd);
        if (e->sock_ino) {
                struct stat st;
                /* Only our own socket: a proxy started after us may own the path now. */
                if (lstat(e->sock_path, &st) == 0 && st.st_ino == e->sock_ino &&
                    st.st_dev == e->sock_dev)
                        (void)unlink(e->sock_path);
        }
        if (e->tmp_parent) {
                (void)rmdir(e->dir);
                (void)rmdir(e->tmp_parent);
        }
        for (int i = 0; i < 2; i++)
                if (e->stop_pipe[i] >= 0)
                        bridle__close(e->stop_pipe[i]);
        for (size_t i = 0; e->allow_hosts && e->allow_hosts[i]; i++)
                free(e->allow_hosts[i]);
        free(e->allow_hosts);
        free(e->map);
        free(e->dir);
        free(e->tmp_parent);
        pthread_mutex_destroy(&e->lock);
        pthread_cond_destroy(&e->idle);
        free(e);
}

int bridle_egress_start(const bridle_egress_opts *o, bridle_egress **ret, bridle_error *err)
{
        if (!o || !ret)
                return bridle__err(err, -EINVAL, "egress: no options");
        bridle_egress *e = bridle__calloc(1, sizeof(*e));
        if (!e)
                return bridle__err(err, -ENOMEM, "egress");
        e->lfd = e->stop_pipe[0] = e->stop_pipe[1] = -1;
        pthread_mutex_init(&e->lock, NULL);
        pthread_cond_init(&e->idle, NULL);
        e->allow = o->allow;
        e->allow_data = o->allow_data;
        e->report = o->report;
        e->report_data = o->report_data;
        e->idle_ms = o->idle_timeout_ms ? o->idle_timeout_ms : 300000;
        e->max_conn = o->max_connections ? o->max_connections : 256;
        int r = copy_hosts(e, o->allow_hosts) < 0 ? bridle__err(err, -ENOMEM, "egress") : 0;
        if (r == 0)
                r = bridle__egress_map_parse(o->test_map, &e->map, &e->n_map, err);
        if (r == 0 && pipe2(e->stop_pipe, O_CLOEXEC) < 0)
                r = bridle__err(err, -errno, "egress: pipe");
        if (r == 0)
                r = make_dir(e, o->dir, err);
        if (r == 0)
                r = listen_sock(e, err);
        if (r == 0 && (r = -pthread_create(&e->acceptor, NULL, acceptor, e)) < 0)
                bridle__err(err, r, "egress: start the proxy thread");
        if (r < 0) {
                egress_free(e);
                return r;
        }
        e->acceptor_started = true;
        *ret = e;
        return 0;
}

const char *bridle_egress_dir(const bridle_egress *e)
{
        return e ? e->dir : NULL;
}

bridle_egress *bridle_egress_stop(bridle_egress *e)
{
        if (!e)
                return NULL;
        char b = 1;
        (void)bridle__write_full(e->stop_pipe[1], &b, 1);
        if (e->acceptor_started)
                (void)pthread_join(e->acceptor, NULL);
        pthread_mutex_lock(&e->lock);
        while (e->active > 0)
                pthread_cond_wait(&e->idle, &e->lock);
        pthread_mutex_unlock(&e->lock);
        egress_free(e);
        return NULL;
}
