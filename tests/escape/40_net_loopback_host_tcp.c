/* SPDX-License-Identifier: MIT */
/* --net loopback: the sandbox has its own lo; the host's 127.0.0.1
 * listener must still be unreachable (connection refused), while the
 * sandbox's own loopback works. */
#include "net.h"

int main(void)
{
        net_attack_targets();
        /* our own loopback: a listener here is reachable (sanity, not an escape) */
        int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t al = sizeof(a);
        if (l >= 0 && bind(l, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(l, 1) == 0 &&
            getsockname(l, (struct sockaddr *)&a, &al) == 0) {
                int r = net_try_connect(AF_INET, "127.0.0.1", ntohs(a.sin_port));
                if (r == 0)
                        note_ok("own loopback works");
                else
                        note_weak("own loopback listener unreachable: %s", attack_errname(-r));
        } else {
                note_weak("no loopback listener possible: %s", attack_errname(errno));
        }
        attack_finish();
}
