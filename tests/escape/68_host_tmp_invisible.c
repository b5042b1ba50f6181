/* SPDX-License-Identifier: MIT */
/* The runner creates marker files in the host's /tmp, /dev/shm and
 * /var/tmp; the sandbox's /tmp and /dev/shm are fresh and must not
 * show them. */
#include <dirent.h>
#include "attack.h"

static int scan(const char *dir)
{
        DIR *d = opendir(dir);
        if (!d)
                return 0;
        int found = 0, n = 0;
        struct dirent *de;
        while ((de = readdir(d)) && n++ < 10000) {
                if (!strncmp(de->d_name, "bridle-escape-hostfile", 22)) {
                        note_hole("host file %s/%s visible", dir, de->d_name);
                        found++;
                }
        }
        closedir(d);
        return found;
}

int main(void)
{
        int found = scan("/tmp") + scan("/dev/shm") + scan("/var/tmp");
        if (!found)
                note_ok("no host marker in /tmp, /dev/shm, /var/tmp");
        attack_finish();
}
