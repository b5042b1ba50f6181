/* SPDX-License-Identifier: MIT */
/* AF_NETLINK (route, audit, uevent, netfilter, xfrm) and AF_PACKET sockets:
 * only unix/inet/inet6 are allowed. */
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/if_ether.h>
#include <arpa/inet.h>
#include "attack.h"

int main(void)
{
        struct { int proto; const char *name; } nl[] = {
                { NETLINK_ROUTE, "ROUTE" }, { NETLINK_AUDIT, "AUDIT" }, { NETLINK_KOBJECT_UEVENT, "UEVENT" },
                { NETLINK_NETFILTER, "NETFILTER" }, { NETLINK_XFRM, "XFRM" }, { NETLINK_SOCK_DIAG, "SOCK_DIAG" },
                { NETLINK_GENERIC, "GENERIC" },
        };
        for (size_t i = 0; i < sizeof(nl) / sizeof(nl[0]); i++) {
                char what[64];
                snprintf(what, sizeof(what), "socket(AF_NETLINK,%s)", nl[i].name);
                EXPECT_FAIL(what, socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, nl[i].proto), EPERM, EAFNOSUPPORT);
        }
        EXPECT_FAIL("socket(AF_PACKET,SOCK_RAW)", socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)),
                    EPERM, EAFNOSUPPORT);
        EXPECT_FAIL("socket(AF_PACKET,SOCK_DGRAM)", socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL)),
                    EPERM, EAFNOSUPPORT);
        /* family is an int for the kernel: high bits must not fool the filter */
        EXPECT_FAIL("socket(1<<32|AF_NETLINK)", syscall(SYS_socket, (1UL << 32) | AF_NETLINK, SOCK_RAW, 0),
                    EPERM, EAFNOSUPPORT);
        EXPECT_FAIL("socket(1<<32|AF_PACKET)", syscall(SYS_socket, (1UL << 32) | AF_PACKET, SOCK_RAW, 0),
                    EPERM, EAFNOSUPPORT);
        attack_finish();
}
