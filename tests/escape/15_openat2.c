/* SPDX-License-Identifier: MIT */
/* openat2 and magic-link tricks: /proc/1/root, /proc/self/root/.., and
 * /proc/1/cwd must all stay inside the sandbox; host-only files
 * (/etc/shadow, secret-outside) stay unreachable. */
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "attack.h"

static int try_open(const char *p, unsigned long long resolve)
{
        struct open_how how = { .flags = O_RDONLY | O_CLOEXEC, .resolve = resolve };
        return (int)syscall(SYS_openat2, AT_FDCWD, p, &how, sizeof(how));
}

int main(void)
{
        const char *paths[] = {
                "/proc/1/root/etc/shadow", "/proc/self/root/../../../etc/shadow",
                "/proc/1/root/../../secret-outside", "/proc/1/cwd/../../../etc/shadow",
                "/proc/self/cwd/../../../../secret-outside", "/proc/1/root/root/.bashrc",
        };
        const unsigned long long modes[] = { 0, RESOLVE_NO_XDEV, RESOLVE_BENEATH, RESOLVE_IN_ROOT };
        int opened = 0, enosys = 0;
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
                        int fd = try_open(paths[i], modes[m]);
                        if (fd >= 0) {
                                char buf[64] = "";
                                ssize_t n = read(fd, buf, sizeof(buf) - 1);
                                buf[n > 0 ? n : 0] = '\0';
                                note_hole("openat2(%s, resolve=%#llx) opened: %.20s", paths[i], modes[m], buf);
                                opened++;
                                close(fd);
                        } else if (errno == ENOSYS) {
                                enosys++;
                        }
                }
        }
        struct stat a, b;
        if (stat("/proc/1/root/..", &a) == 0 && stat("/", &b) == 0) {
                if (a.st_ino != b.st_ino || a.st_dev != b.st_dev)
                        note_hole("/proc/1/root/.. is not the sandbox root");
                else
                        note_ok("/proc/1/root/.. == /");
        } else {
                note_ok("stat(/proc/1/root/..): %s", attack_errname(errno));
        }
        if (!opened)
                note_ok("24 openat2 magic-link paths failed%s", enosys ? " (openat2 ENOSYS)" : "");
        attack_finish();
}
