/* SPDX-License-Identifier: MIT */
/*
 * The egress bridge: TCP on 127.0.0.1:3128 inside the sandbox -> the egress
 * proxy's Unix socket in the harness. One process, one poll loop, at most
 * BRIDGE_MAX connections, a 64 KiB buffer each way. The proxy's socket is
 * connected afresh for every connection, relative to the directory the bridge
 * has as its cwd, so a proxy restarted in the same directory (after kill -9,
 * say) is picked up by the next connection. The bridge keeps no capability,
 * sets no_new_privs, and is not dumpable (a fork of init, never exec'd), so
 * commands can neither trace it nor read its cwd through /proc.
 * It enforces nothing: the proxy decides every connection.
 */
#include "sandbox/init/egress_bridge.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "bridle/sandbox.h"

#define BRIDGE_MAX 128
#define BRIDGE_BUF ((size_t)64 * 1024)

static int dir_fd = -1;
static unsigned bridge_port;

int init_egress_collect(bridle__cursor *c, int *fds, int nfds)
{
        uint32_t idx, port;
        if (bridle__rec_u32(c, &idx) < 0 || bridle__rec_u32(c, &port) < 0 || (int32_t)idx < 0 ||
            (int32_t)idx >= nfds || port == 0 || port > 65535 || fds[idx] < 0)
                return -EBADMSG;
        if (dir_fd >= 0)
                close(dir_fd);
        dir_fd = fds[idx];
        fds[idx] = -1;
        bridge_port = port;
        return 0;
}

struct flow {
        int from, to;
        char *buf;
        size_t off, len;
        bool eof; /* from said EOF; to was shut down for writing once buf emptied */
};

struct conn {
        int tcp, ux;
        struct flow up, down; /* up: tcp -> ux; down: ux -> tcp */
};

static struct conn conns[BRIDGE_MAX];
static size_t nconns;

static void conn_close(size_t i)
{
        close(conns[i].tcp);
        close(conns[i].ux);
        free(conns[i].up.buf);
        free(conns[i].down.buf);
        conns[i] = conns[--nconns];
}

static const char no_proxy_reply[] =
        "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n"
        "Content-Length: 42\r\n\r\nbridle: the egress proxy is not reachable\n";

/* A new TCP client: connect to the proxy. Non-blocking: a local Unix socket
 * connects at once, or fails at once (no proxy, or its backlog is full), so a
 * stopped proxy cannot stall the loop. */
static void conn_open(int tcp)
{
        int one = 1;
        (void)setsockopt(tcp, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        int ux = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        memcpy(a.sun_path, BRIDLE_EGRESS_SOCKET, sizeof(BRIDLE_EGRESS_SOCKET));
        int r;
        do
                r = ux < 0 ? -1 : connect(ux, (struct sockaddr *)&a, sizeof(a));
        while (r < 0 && errno == EINTR);
        char *b1 = r == 0 ? malloc(BRIDGE_BUF) : NULL;
        char *b2 = b1 ? malloc(BRIDGE_BUF) : NULL;
        if (!b2) {
                /* tcp is non-blocking and fresh: the short reply fits its buffer. */
                (void)send(tcp, no_proxy_reply, sizeof(no_proxy_reply) - 1, MSG_NOSIGNAL);
                free(b1);
                if (ux >= 0)
                        close(ux);
                close(tcp);
                return;
        }
        struct conn *c = &conns[nconns++];
        *c = (struct conn){.tcp = tcp, .ux = ux};
        c->up = (struct flow){.from = tcp, .to = ux, .buf = b1};
        c->down = (struct flow){.from = ux, .to = tcp, .buf = b2};
}

/* Move what can be moved without blocking. -1: the connection is broken. */
static int flow_step(struct flow *f)
{
        for (int round = 0; round < 16; round++) {
                if (f->len == 0 && !f->eof) {
                        ssize_t n = read(f->from, f->buf, BRIDGE_BUF);
                        if (n < 0)
                                return errno == EAGAIN || errno == EINTR ? 0 : -1;
                        if (n == 0) {
                                f->eof = true;
                                (void)shutdown(f->to, SHUT_WR);
                                return 0;
                        }
                        f->off = 0;
                        f->len = (size_t)n;
                }
                if (f->len == 0)
                        return 0;
                ssize_t w = send(f->to, f->buf + f->off, f->len, MSG_NOSIGNAL);
                if (w < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -1;
                f->off += (size_t)w;
                f->len -= (size_t)w;
                if (f->len)
                        return 0;
        }
        return 0;
}

static short events_for(const struct conn *c, int fd)
{
        short ev = 0;
        const struct flow *fl[2] = {&c->up, &c->down};
        for (int k = 0; k < 2; k++) {
                if (fl[k]->from == fd && fl[k]->len == 0 && !fl[k]->eof)
                        ev |= POLLIN;
                if (fl[k]->to == fd && fl[k]->len > 0)
                        ev |= POLLOUT;
        }
        return ev;
}

static _Noreturn void bridge_loop(int lfd)
{
        static struct pollfd pfd[1 + 2 * BRIDGE_MAX];
        for (;;) {
                pfd[0] = (struct pollfd){.fd = nconns < BRIDGE_MAX ? lfd : -1, .events = POLLIN};
                for (size_t i = 0; i < nconns; i++) {
                        pfd[1 + 2 * i] = (struct pollfd){
                                .fd = conns[i].tcp, .events = events_for(&conns[i], conns[i].tcp)};
                        pfd[2 + 2 * i] = (struct pollfd){
                                .fd = conns[i].ux, .events = events_for(&conns[i], conns[i].ux)};
                }
                if (poll(pfd, 1 + 2 * nconns, -1) < 0)
                        continue;
                for (size_t i = nconns; i-- > 0;) {
                        if (!pfd[1 + 2 * i].revents && !pfd[2 + 2 * i].revents)
                                continue;
                        struct conn *c = &conns[i];
                        if (flow_step(&c->up) < 0 || flow_step(&c->down) < 0 ||
                            (c->up.eof && !c->up.len && c->down.eof && !c->down.len))
                                conn_close(i);
                }
                if (pfd[0].revents & POLLIN) {
                        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                        if (fd >= 0)
                                conn_open(fd);
                }
        }
}

/* In the bridge: no capability, no_new_privs, only its two fds. */
static int bridge_drop(int lfd)
{
        (void)prctl(PR_SET_NAME, "bridle-egress", 0, 0, 0);
        if (fchdir(dir_fd) < 0)
                return -errno;
        if ((lfd > 3 && syscall(SYS_close_range, 3, lfd - 1, 0) < 0) ||
            syscall(SYS_close_range, lfd + 1, ~0U, 0) < 0)
                return -errno;
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int fd = 0; devnull >= 0 && fd < 3; fd++)
                (void)dup2(devnull, fd);
        if (devnull > 2)
                close(devnull);
        for (int cap = 0; cap <= 63; cap++)
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL)
                        break;
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        struct __user_cap_data_struct d[2];
        memset(d, 0, sizeof(d));
        if (syscall(SYS_capset, &h, d) < 0)
                return -errno;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        return 0;
}

int init_egress_start(void)
{
        if (dir_fd < 0)
                return 0;
        int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (lfd < 0)
                return -errno;
        int one = 1;
        (void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)bridge_port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 128) < 0) {
                int r = -errno;
                close(lfd);
                return r;
        }
        /* Listening before the fork: the first command cannot race the bridge. */
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(lfd);
                return r;
        }
        if (pid == 0) {
                if (bridge_drop(lfd) < 0)
                        _exit(125);
                bridge_loop(lfd);
        }
        close(lfd);
        close(dir_fd);
        dir_fd = -1;
        return 0;
}
