/* SPDX-License-Identifier: MIT */
/* The runner puts symlinks into the host workspace that point at host paths
 * outside it: an absolute link to a secret file next to the workspace, a
 * relative ../ link to it, and links to /etc/shadow and /root. Following
 * them inside the sandbox must not reach the host files. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include "attack.h"

static void try_link(const char *name)
{
        char path[256], buf[256];
        snprintf(path, sizeof(path), "/workspace/%s", name);
        struct stat st;
        if (lstat(path, &st) < 0 || !S_ISLNK(st.st_mode)) {
                note_weak("%s is not the runner's symlink", path);
                return;
        }
        long n = attack_read_file(path, buf, sizeof(buf));
        if (n < 0) {
                note_ok("%s: %s", name, attack_errname((int)-n));
                return;
        }
        if (strstr(buf, HOST_SECRET_MARKER) || strstr(buf, "root:"))
                note_hole("%s leads to host data: %.40s", name, buf);
        else
                note_ok("%s opens a sandbox file, no host data", name);
}

int main(void)
{
        const char *links[] = { "abs-secret", "rel-secret", "deep-rel-secret", "shadow", "root-dir-file",
                                "proc-root-secret" };
        for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
                try_link(links[i]);
        /* a symlink created inside the sandbox pointing at the host path */
        const char *hp = getenv("HOST_SECRET_PATH");
        if (hp) {
                char buf[256];
                long n = attack_read_file(hp, buf, sizeof(buf));
                if (n >= 0 && strstr(buf, HOST_SECRET_MARKER))
                        note_hole("host path %s readable directly", hp);
                else
                        note_ok("%s: %s", hp, n < 0 ? attack_errname((int)-n) : "no secret");
        }
        attack_finish();
}
