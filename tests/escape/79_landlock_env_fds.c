/* SPDX-License-Identifier: MIT */
/* --isolation landlock: the environment is still built from scratch (no
 * secrets from the caller), no caller fd leaks (the runner opens 7, 8, 9),
 * capabilities are empty and no_new_privs is set. */
#include <fcntl.h>
#include <sys/prctl.h>
#include "attack.h"

extern char **environ;

int main(void)
{
        for (char **e = environ; *e; e++)
                if (strstr(*e, HOST_SECRET_MARKER))
                        note_hole("secret in environment: %.40s", *e);
        int leaked = 0;
        for (int fd = 3; fd < 1024; fd++) {
                if (fcntl(fd, F_GETFD) >= 0) {
                        char p[64], t[256];
                        snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
                        ssize_t n = readlink(p, t, sizeof(t) - 1);
                        t[n > 0 ? n : 0] = '\0';
                        note_hole("fd %d open -> %s", fd, t);
                        leaked++;
                }
        }
        if (!leaked)
                note_ok("no fd beyond 0-2");
        if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
                note_hole("no_new_privs not set");
        char st[4096];
        if (attack_read_file("/proc/self/status", st, sizeof(st)) > 0) {
                const char *keys[] = { "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:" };
                for (int i = 0; i < 4; i++) {
                        char *k = strstr(st, keys[i]);
                        if (k && strtoull(k + strlen(keys[i]), NULL, 16) != 0)
                                note_hole("%.30s", k);
                }
                char *s = strstr(st, "Seccomp:");
                if (!s || atoi(s + 8) != 2)
                        note_hole("seccomp not active");
        }
        note_ok("env, fds, caps, nnp, seccomp checked");
        attack_finish();
}
