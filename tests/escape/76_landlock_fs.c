/* SPDX-License-Identifier: MIT */
/* --isolation landlock (no namespaces, runs as the caller): the host
 * filesystem outside the granted paths must stay unreadable/unwritable:
 * /etc/shadow, /root, a host secret next to the workspace, the host's
 * /tmp, /usr and the bridle binaries, and the host-wide /proc knobs (only
 * open(O_WRONLY) is tried; nothing is ever written). */
#include <fcntl.h>
#include <sys/stat.h>
#include "attack.h"

static void no_read(const char *path)
{
        if (!path)
                return;
        char buf[256];
        long n = attack_read_file(path, buf, sizeof(buf));
        if (n >= 0)
                note_hole("read %s (%ld bytes)", path, n);
        else
                note_ok("read %s: %s", path, attack_errname((int)-n));
}

static void no_write_open(const char *path)
{
        if (!path)
                return;
        errno = 0;
        int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd >= 0) {
                note_hole("open(%s,O_WRONLY) succeeded (nothing written)", path);
                close(fd);
        } else {
                note_ok("open(%s,O_WRONLY): %s", path, attack_errname(errno));
        }
}

int main(void)
{
        no_read("/etc/shadow");
        no_read("/root/.bashrc");
        no_read("/root/.profile");
        no_read(getenv("HOST_SECRET_PATH"));
        no_write_open("/proc/sys/kernel/core_pattern");
        no_write_open("/proc/sysrq-trigger");
        no_write_open("/proc/sys/kernel/modprobe");
        no_write_open("/usr/bin/true");
        no_write_open("/etc/passwd");
        no_write_open(getenv("HOST_BRIDLE"));
        no_write_open(getenv("HOST_BRIDLE_INIT"));
        EXPECT_FAIL_ANY("creat(/tmp/bridle-escape-ll-probe)",
                        open("/tmp/bridle-escape-ll-probe", O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        EXPECT_FAIL_ANY("creat(/usr/bin/.bridle-escape-probe)",
                        open("/usr/bin/.bridle-escape-probe", O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        EXPECT_FAIL_ANY("mkdir(/var/tmp/bridle-escape-ll)", mkdir("/var/tmp/bridle-escape-ll", 0700));
        attack_finish();
}
