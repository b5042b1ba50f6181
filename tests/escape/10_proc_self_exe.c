/* SPDX-License-Identifier: MIT */
/* Overwrite the binary behind /proc/self/exe (CVE-2019-5736 style). Opening
 * it for writing must fail; the runner also checksums the host binaries. */
#include <fcntl.h>
#include "attack.h"

int main(void)
{
        EXPECT_FAIL_ANY("open(/proc/self/exe,O_WRONLY)", open("/proc/self/exe", O_WRONLY | O_CLOEXEC));
        EXPECT_FAIL_ANY("open(/proc/self/exe,O_RDWR)", open("/proc/self/exe", O_RDWR | O_CLOEXEC));
        int ro = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (ro >= 0) {
                char p[64];
                snprintf(p, sizeof(p), "/proc/self/fd/%d", ro);
                EXPECT_FAIL_ANY("reopen(/proc/self/fd/N,O_WRONLY)", open(p, O_WRONLY | O_CLOEXEC));
                close(ro);
        }
        /* the same through the bind mount */
        char self[512];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
                self[n] = '\0';
                EXPECT_FAIL_ANY("open(own binary,O_WRONLY)", open(self, O_WRONLY | O_CLOEXEC));
                EXPECT_FAIL_ANY("truncate(own binary)", truncate(self, 0));
        }
        attack_finish();
}
