/* SPDX-License-Identifier: MIT */
/* The runner exports secrets (SECRET_TOKEN, OPENAI_API_KEY, ...) whose
 * values contain HOST_SECRET_MARKER and passes --env GIVEN=yes. The
 * environment must be exactly PATH, HOME, LANG, TERM, GIVEN, and no secret
 * may appear in our own or init's environ or cmdline. */
#include <fcntl.h>
#include "attack.h"

extern char **environ;

static void scan(const char *path)
{
        char buf[65536];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                note_ok("%s: %s", path, attack_errname(errno));
                return;
        }
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n < 0) {
                note_ok("%s read: %s", path, attack_errname(errno));
                return;
        }
        for (ssize_t i = 0; i < n; i++)
                if (!buf[i])
                        buf[i] = '\n';
        buf[n] = '\0';
        if (strstr(buf, HOST_SECRET_MARKER))
                note_hole("%s contains a host secret", path);
}

int main(void)
{
        const char *expected[] = { "PATH", "HOME", "LANG", "TERM", "GIVEN" };
        bool seen[5] = { false };
        for (char **e = environ; *e; e++) {
                if (strstr(*e, HOST_SECRET_MARKER)) {
                        note_hole("secret in environment: %.40s", *e);
                        continue;
                }
                size_t nl = strcspn(*e, "=");
                bool ok = false;
                for (int i = 0; i < 5; i++) {
                        if (strlen(expected[i]) == nl && !strncmp(*e, expected[i], nl)) {
                                seen[i] = ok = true;
                        }
                }
                if (!ok)
                        note_weak("unexpected variable %.*s", (int)nl, *e);
        }
        for (int i = 0; i < 5; i++)
                if (!seen[i])
                        note_weak("%s missing", expected[i]);
        const char *g = getenv("GIVEN");
        if (g && strcmp(g, "yes") != 0)
                note_weak("GIVEN=%s", g);
        scan("/proc/self/environ");
        scan("/proc/1/environ");
        scan("/proc/1/cmdline");
        note_ok("environment checked");
        attack_finish();
}
