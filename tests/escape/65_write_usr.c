/* SPDX-License-Identifier: MIT */
/* Write to the read-only parts: create, unlink, rename, chmod, utimes on
 * /usr (a bind of the host's /usr), /etc, /attacks and the root. The
 * runner checks that the host's /usr/bin has no probe file. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include "attack.h"

int main(void)
{
        EXPECT_FAIL_ANY("creat(/usr/bin/.bridle-escape-probe)",
                        open("/usr/bin/.bridle-escape-probe", O_WRONLY | O_CREAT | O_CLOEXEC, 0755));
        EXPECT_FAIL_ANY("open(/usr/bin/true,O_WRONLY)", open("/usr/bin/true", O_WRONLY | O_CLOEXEC));
        EXPECT_FAIL_ANY("unlink(/usr/bin/true)", unlink("/usr/bin/true"));
        EXPECT_FAIL_ANY("rename(/usr/bin/true)", rename("/usr/bin/true", "/usr/bin/true2"));
        EXPECT_FAIL_ANY("chmod(/usr/bin/true,04755)", chmod("/usr/bin/true", 04755));
        EXPECT_FAIL_ANY("utimes(/usr/bin/true)", utimes("/usr/bin/true", NULL));
        EXPECT_FAIL_ANY("mkdir(/usr/lib/.bridle-escape)", mkdir("/usr/lib/.bridle-escape", 0700));
        EXPECT_FAIL_ANY("open(/etc/passwd,O_WRONLY)", open("/etc/passwd", O_WRONLY | O_APPEND | O_CLOEXEC));
        EXPECT_FAIL_ANY("creat(/bridle-escape)", open("/bridle-escape", O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        EXPECT_FAIL_ANY("creat(/attacks/probe)", open("/attacks/probe", O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        EXPECT_FAIL_ANY("creat(/etc/probe)", open("/etc/probe", O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        attack_finish();
}
