/* SPDX-License-Identifier: MIT */
/* --isolation landlock shares the host network: TCP connect/bind must be
 * refused by Landlock (ABI 4+), and abstract unix sockets of the host by
 * Landlock scoping (ABI 6+). The runner listens on both and checks that
 * nothing arrived. */
#include <stddef.h>
#include <sys/un.h>
#include "net.h"

int main(void)
{
        net_attack_targets();
        const char *name = getenv("ABSTRACT_NAME");
        if (name) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                size_t n = strlen(name);
                memcpy(sa.sun_path + 1, name, n);
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                EXPECT_FAIL("connect(host @abstract)",
                            connect(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)),
                            EPERM);
                close(fd);
        }
        int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (l < 0) {
                note_ok("socket(AF_INET,SOCK_STREAM): %s", attack_errname(errno));
        } else {
                struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
                EXPECT_FAIL("bind(0.0.0.0:0) TCP", bind(l, (struct sockaddr *)&a, sizeof(a)), EACCES);
                close(l);
        }
        attack_finish();
}
