/* SPDX-License-Identifier: MIT */
/* Connectionless escape: send UDP datagrams to a host listener on
 * 127.0.0.1, ::1 and the host's addresses (TARGET_PORT/TARGET_ADDRS). The
 * runner checks that none arrived; with --net none sendto must fail. */
#include "net.h"

int main(void)
{
        const char *ps = getenv("TARGET_PORT"), *as = getenv("TARGET_ADDRS");
        if (!ps || !as)
                attack_skip("runner did not pass TARGET_PORT/TARGET_ADDRS");
        char addrs[1024];
        snprintf(addrs, sizeof(addrs), "%s", as);
        char *save = NULL;
        for (char *a = strtok_r(addrs, " ", &save); a; a = strtok_r(NULL, " ", &save)) {
                struct sockaddr_storage ss;
                memset(&ss, 0, sizeof(ss));
                socklen_t len;
                int fam = strchr(a, ':') ? AF_INET6 : AF_INET;
                if (fam == AF_INET) {
                        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
                        s4->sin_family = AF_INET;
                        s4->sin_port = htons((uint16_t)atoi(ps));
                        inet_pton(AF_INET, a, &s4->sin_addr);
                        len = sizeof(*s4);
                } else {
                        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
                        s6->sin6_family = AF_INET6;
                        s6->sin6_port = htons((uint16_t)atoi(ps));
                        inet_pton(AF_INET6, a, &s6->sin6_addr);
                        len = sizeof(*s6);
                }
                int fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                char what[96];
                snprintf(what, sizeof(what), "sendto(udp %s)", a);
                EXPECT_FAIL(what, sendto(fd, "escape", 6, 0, (struct sockaddr *)&ss, len), ENETUNREACH,
                            EADDRNOTAVAIL);
                close(fd);
        }
        attack_finish();
}
