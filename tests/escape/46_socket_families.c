/* SPDX-License-Identifier: MIT */
/* Rarely used socket families with a history of kernel bugs: AF_ALG
 * (crypto API), AF_XDP, AF_TIPC, AF_RDS, AF_CAN, AF_BLUETOOTH, AF_KEY, ... */
#include <sys/socket.h>
#include "attack.h"

int main(void)
{
        struct { int fam, type; const char *name; } f[] = {
                { AF_ALG, SOCK_SEQPACKET, "AF_ALG" }, { AF_XDP, SOCK_RAW, "AF_XDP" },
                { AF_TIPC, SOCK_RDM, "AF_TIPC" }, { AF_RDS, SOCK_SEQPACKET, "AF_RDS" },
                { AF_CAN, SOCK_RAW, "AF_CAN" }, { AF_BLUETOOTH, SOCK_RAW, "AF_BLUETOOTH" },
                { AF_KEY, SOCK_RAW, "AF_KEY" }, { AF_APPLETALK, SOCK_DGRAM, "AF_APPLETALK" },
                { AF_X25, SOCK_SEQPACKET, "AF_X25" }, { AF_LLC, SOCK_DGRAM, "AF_LLC" },
                { AF_NFC, SOCK_RAW, "AF_NFC" }, { AF_QIPCRTR, SOCK_DGRAM, "AF_QIPCRTR" },
                { AF_SMC, SOCK_STREAM, "AF_SMC" }, { AF_MCTP, SOCK_DGRAM, "AF_MCTP" },
        };
        for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
                char what[64];
                snprintf(what, sizeof(what), "socket(%s)", f[i].name);
                EXPECT_FAIL(what, socket(f[i].fam, f[i].type | SOCK_CLOEXEC, 0), EPERM, EAFNOSUPPORT);
        }
        attack_finish();
}
