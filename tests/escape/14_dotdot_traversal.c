/* SPDX-License-Identifier: MIT */
/* `..` out of /workspace: /workspace/.. must be the sandbox's root, and a
 * host file placed next to the workspace directory by the runner
 * (secret-outside) must not be reachable by any number of `..`. */
#include <fcntl.h>
#include <sys/stat.h>
#include "attack.h"

int main(void)
{
        struct stat a, b;
        if (stat("/workspace/..", &a) == 0 && stat("/", &b) == 0) {
                if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
                        note_hole("/workspace/.. is not the sandbox root");
                else
                        note_ok("/workspace/.. == /");
        }
        if (chdir("/workspace") < 0)
                attack_skip("chdir(/workspace): %s", attack_errname(errno));
        char path[512] = "secret-outside";
        int found = 0;
        for (int depth = 1; depth <= 12; depth++) {
                char tmp[512];
                snprintf(tmp, sizeof(tmp), "../%s", path);
                strcpy(path, tmp);
                char buf[128];
                if (attack_read_file(path, buf, sizeof(buf)) >= 0 && strstr(buf, HOST_SECRET_MARKER)) {
                        note_hole("read host secret via %s", path);
                        found++;
                }
        }
        int dfd = open("/workspace", O_PATH | O_DIRECTORY | O_CLOEXEC);
        for (int i = 0; i < 12 && dfd >= 0; i++) {
                int up = openat(dfd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                close(dfd);
                dfd = up;
                if (dfd >= 0) {
                        int f = openat(dfd, "secret-outside", O_RDONLY | O_CLOEXEC);
                        if (f >= 0) {
                                note_hole("openat(.. x%d, secret-outside) opened", i + 1);
                                found++;
                                close(f);
                        }
                }
        }
        if (dfd >= 0)
                close(dfd);
        char cwd[512];
        if (getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/workspace") != 0)
                note_weak("getcwd()=%s", cwd);
        if (!found)
                note_ok("secret-outside unreachable via ../ (12 levels, path and openat)");
        attack_finish();
}
