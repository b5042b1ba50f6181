/* SPDX-License-Identifier: MIT */
/* Abstract unix sockets live in the network namespace: the runner listens
 * on the host at @$ABSTRACT_NAME; connecting must fail (ECONNREFUSED). */
#include <sys/socket.h>
#include <sys/un.h>
#include <stddef.h>
#include "attack.h"

int main(void)
{
        const char *name = getenv("ABSTRACT_NAME");
        if (!name)
                attack_skip("runner did not pass ABSTRACT_NAME");
        const char *names[] = { name, "/org/freedesktop/systemd1/notify", "/tmp/.X11-unix/X0" };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                size_t n = strlen(names[i]);
                if (n > sizeof(sa.sun_path) - 2)
                        n = sizeof(sa.sun_path) - 2;
                memcpy(sa.sun_path + 1, names[i], n);
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        attack_skip("socket(AF_UNIX): %s", attack_errname(errno));
                char what[160];
                snprintf(what, sizeof(what), "connect(@%s)", names[i]);
                EXPECT_FAIL(what, connect(fd, (struct sockaddr *)&sa,
                                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)),
                            ECONNREFUSED);
                close(fd);
        }
        attack_finish();
}
