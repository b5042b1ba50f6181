/* SPDX-License-Identifier: MIT */
/* /sys must not exist: it exposes host devices, firmware, kernel knobs
 * (uevent_helper, module parameters) and the cgroup tree. */
#include <fcntl.h>
#include <sys/stat.h>
#include "attack.h"

int main(void)
{
        const char *paths[] = { "/sys", "/sys/kernel/uevent_helper", "/sys/class/net", "/sys/firmware",
                                "/sys/kernel/debug", "/sys/kernel/security" };
        int found = 0;
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                struct stat st;
                if (stat(paths[i], &st) == 0) {
                        note_hole("%s exists", paths[i]);
                        found++;
                }
        }
        if (!found)
                note_ok("/sys and its knobs absent");
        attack_finish();
}
