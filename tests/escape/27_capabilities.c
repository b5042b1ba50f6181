/* SPDX-License-Identifier: MIT */
/* All capability sets must be empty (effective, permitted, inheritable,
 * bounding, ambient), capset cannot raise them, and CAP_* operations fail. */
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <fcntl.h>
#include "attack.h"

int main(void)
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[2];
        memset(data, 0, sizeof(data));
        if (syscall(SYS_capget, &hdr, data) < 0) {
                note_weak("capget: %s", attack_errname(errno));
        } else {
                for (int i = 0; i < 2; i++)
                        if (data[i].effective || data[i].permitted || data[i].inheritable)
                                note_hole("capget[%d]: eff=%#x perm=%#x inh=%#x", i, data[i].effective,
                                          data[i].permitted, data[i].inheritable);
                if (!(data[0].effective | data[0].permitted | data[0].inheritable |
                      data[1].effective | data[1].permitted | data[1].inheritable))
                        note_ok("capget: all zero");
        }
        int bnd = 0;
        for (int c = 0; c <= 63; c++) {
                int r = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
                if (r < 0)
                        break;
                if (r == 1)
                        bnd++;
        }
        if (bnd)
                note_hole("%d capabilities in the bounding set", bnd);
        else
                note_ok("bounding set empty");
        char status[4096];
        if (attack_read_file("/proc/self/status", status, sizeof(status)) > 0) {
                char *a = strstr(status, "CapAmb:");
                if (a && strtoull(a + 7, NULL, 16) != 0)
                        note_hole("ambient caps %.24s", a);
        }
        data[0].effective = data[0].permitted = 1u << CAP_SYS_ADMIN;
        data[1].effective = data[1].permitted = 0;
        EXPECT_FAIL("capset(CAP_SYS_ADMIN)", syscall(SYS_capset, &hdr, data), EPERM);
        EXPECT_FAIL("sethostname (CAP_SYS_ADMIN)", sethostname("x", 1), EPERM);
        int fd = creat("/tmp/capfile", 0000);
        if (fd >= 0)
                close(fd);
        EXPECT_FAIL("chown(uid 1) (CAP_CHOWN)", chown("/tmp/capfile", 1, 1), EPERM, EINVAL);
        EXPECT_FAIL("setresuid(1000) or regaining uid 0", (setresuid(1000, 1000, 1000) < 0 ? -2 : setuid(0)), EPERM, EINVAL);
        attack_finish();
}
