/* SPDX-License-Identifier: MIT */
/* Connect helpers for the network attacks. */
#ifndef BRIDLE_ESCAPE_NET_H
#define BRIDLE_ESCAPE_NET_H
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include "attack.h"

/* Connect with a 2 s bound; returns 0 on success or -errno. */
static inline int net_try_connect(int family, const char *addr, int port)
{
        struct sockaddr_storage ss;
        socklen_t len;
        memset(&ss, 0, sizeof(ss));
        if (family == AF_INET) {
                struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
                s4->sin_family = AF_INET;
                s4->sin_port = htons((uint16_t)port);
                if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
                        return -EINVAL;
                len = sizeof(*s4);
        } else {
                struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
                s6->sin6_family = AF_INET6;
                s6->sin6_port = htons((uint16_t)port);
                if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
                        return -EINVAL;
                len = sizeof(*s6);
        }
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        int r = connect(fd, (struct sockaddr *)&ss, len);
        if (r < 0 && errno == EINPROGRESS) {
                struct pollfd p = { .fd = fd, .events = POLLOUT };
                if (poll(&p, 1, 2000) <= 0) {
                        close(fd);
                        return -ETIMEDOUT;
                }
                int err = 0;
                socklen_t el = sizeof(err);
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
                r = err ? -1 : 0;
                errno = err;
        }
        int e = r < 0 ? errno : 0;
        close(fd);
        return r < 0 ? -e : 0;
}

/* Try every address in $TARGET_ADDRS (space separated) on $TARGET_PORT. */
static inline void net_attack_targets(void)
{
        const char *ps = getenv("TARGET_PORT");
        const char *as = getenv("TARGET_ADDRS");
        if (!ps || !as)
                attack_skip("runner did not pass TARGET_PORT/TARGET_ADDRS");
        int port = atoi(ps);
        char addrs[1024];
        snprintf(addrs, sizeof(addrs), "%s", as);
        char *save = NULL;
        for (char *a = strtok_r(addrs, " ", &save); a; a = strtok_r(NULL, " ", &save)) {
                int fam = strchr(a, ':') ? AF_INET6 : AF_INET;
                int r = net_try_connect(fam, a, port);
                if (r == 0)
                        note_hole("connected to host listener %s port %d", a, port);
                else
                        note_ok("connect(%s:%d): %s", a, port, attack_errname(-r));
        }
}
#endif
