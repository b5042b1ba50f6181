/* SPDX-License-Identifier: MIT */
/* The cgroup v1 release_agent escape: needs a writable cgroup hierarchy.
 * /sys/fs/cgroup must be absent, mounting any cgroup fs must fail, and
 * /proc/self/cgroup must not expose host cgroup paths. */
#include <sys/mount.h>
#include <sys/stat.h>
#include "attack.h"

int main(void)
{
        struct stat st;
        if (stat("/sys/fs/cgroup", &st) == 0)
                note_hole("/sys/fs/cgroup exists");
        else
                note_ok("/sys/fs/cgroup: %s", attack_errname(errno));
        mkdir("/tmp/cg", 0700);
        EXPECT_FAIL("mount(cgroup,memory)", mount("cgroup", "/tmp/cg", "cgroup", 0, "memory"), EPERM);
        EXPECT_FAIL("mount(cgroup,rdma)", mount("cgroup", "/tmp/cg", "cgroup", 0, "rdma"), EPERM);
        EXPECT_FAIL("mount(cgroup2)", mount("cgroup2", "/tmp/cg", "cgroup2", 0, NULL), EPERM);
        if (access("/tmp/cg/release_agent", F_OK) == 0)
                note_hole("release_agent reachable");
        char buf[4096];
        long n = attack_read_file("/proc/self/cgroup", buf, sizeof(buf));
        if (n > 0) {
                int hostpaths = 0;
                for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
                        char *p = strrchr(line, ':');
                        if (p && strcmp(p + 1, "/") != 0)
                                hostpaths++;
                }
                if (hostpaths)
                        note_weak("/proc/self/cgroup shows %d non-root paths (no cgroup namespace?)", hostpaths);
                else
                        note_ok("/proc/self/cgroup paths are all /");
        }
        attack_finish();
}
