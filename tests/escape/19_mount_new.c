/* SPDX-License-Identifier: MIT */
/* Mount fresh filesystems: tmpfs, proc (a full /proc without the read-only
 * /proc/sys), sysfs, cgroup, devpts, bind of /. */
#include <sys/mount.h>
#include <sys/stat.h>
#include "attack.h"

int main(void)
{
        const char *dir = "/tmp/mnt-attack";
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                attack_skip("mkdir %s: %s", dir, attack_errname(errno));
        struct { const char *src, *type; unsigned long flags; } m[] = {
                { "none", "tmpfs", 0 }, { "proc", "proc", 0 }, { "sysfs", "sysfs", 0 },
                { "cgroup", "cgroup", 0 }, { "cgroup2", "cgroup2", 0 }, { "devpts", "devpts", 0 },
                { "/", NULL, MS_BIND | MS_REC }, { "/dev", NULL, MS_BIND },
        };
        for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
                char what[96];
                snprintf(what, sizeof(what), "mount(%s,%s)", m[i].src, m[i].type ? m[i].type : "bind");
                EXPECT_FAIL(what, mount(m[i].src, dir, m[i].type, m[i].flags, NULL), EPERM);
        }
        attack_finish();
}
