/* SPDX-License-Identifier: MIT */
/* Raw IP sockets (CAP_NET_RAW): forge packets, sniff. */
#include <sys/socket.h>
#include <netinet/in.h>
#include "attack.h"

int main(void)
{
        EXPECT_FAIL("socket(AF_INET,SOCK_RAW,IPPROTO_RAW)", socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW),
                    EPERM, EACCES);
        EXPECT_FAIL("socket(AF_INET,SOCK_RAW,ICMP)", socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP),
                    EPERM, EACCES);
        EXPECT_FAIL("socket(AF_INET,SOCK_RAW,TCP)", socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP),
                    EPERM, EACCES);
        EXPECT_FAIL("socket(AF_INET6,SOCK_RAW,ICMPV6)",
                    socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6), EPERM, EACCES);
        EXPECT_FAIL("socket(AF_INET,SOCK_PACKET)", socket(AF_INET, SOCK_PACKET | SOCK_CLOEXEC, 0),
                    EPERM, EACCES, EINVAL, ESOCKTNOSUPPORT);
        attack_finish();
}
