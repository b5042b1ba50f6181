/* SPDX-License-Identifier: MIT */
/* bridle patch [--dir DIR] [PATCH]: apply an apply_patch text to a local directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridle/bridle.h"
#include "commands.h"

static void patch_usage(FILE *f)
{
        (void)fputs("usage: bridle patch [--dir DIR] [PATCH]\n"
                    "\n"
                    "Apply an apply_patch text (*** Begin Patch ... *** End Patch) to DIR\n"
                    "(default: the current directory). PATCH is one argument; without it the\n"
                    "patch is read from stdin. Paths in the patch stay inside DIR.\n",
                    f);
}

/* Read stdin up to the patch cap (one byte more tells "too large"). */
static char *read_stdin(size_t *ret_len)
{
        size_t cap = 65536, len = 0;
        char *buf = malloc(cap);
        if (!buf)
                return NULL;
        for (;;) {
                if (len == cap) {
                        if (cap > BRIDLE_PATCH_MAX_TEXT)
                                break;
                        char *nb = realloc(buf, cap * 2);
                        if (!nb) {
                                free(buf);
                                return NULL;
                        }
                        buf = nb;
                        cap *= 2;
                }
                ssize_t r = read(STDIN_FILENO, buf + len, cap - len);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        free(buf);
                        return NULL;
                }
                if (r == 0)
                        break;
                len += (size_t)r;
        }
        *ret_len = len;
        return buf;
}

static int run_patch(const char *dir, const char *text, size_t len)
{
        int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                (void)fprintf(stderr, "bridle patch: cannot open directory '%s': %s\n", dir,
                              strerror(errno));
                return 1;
        }
        bridle_error err = {0};
        char *summary = NULL;
        int r = bridle_patch_apply(dfd, text, len, &summary, &err);
        (void)close(dfd);
        if (r < 0) {
                (void)fprintf(stderr, "bridle patch: %s\n", err.msg);
                return 1;
        }
        printf("Success. Updated the following files:\n%s", summary);
        free(summary);
        return fflush(stdout) == 0 ? 0 : 1;
}

int bridle_cmd_patch(int argc, char **argv)
{
        const char *dir = ".", *text = NULL;
        int i = 1;
        for (; i < argc; i++) {
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        patch_usage(stdout);
                        return 0;
                }
                if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
                        dir = argv[++i];
                } else if (strncmp(argv[i], "--dir=", 6) == 0) {
                        dir = argv[i] + 6;
                } else if (strcmp(argv[i], "--") == 0) {
                        i++;
                        break;
                } else if (argv[i][0] == '-' && argv[i][1] == '-') {
                        (void)fprintf(stderr, "bridle patch: unknown option '%s'\n", argv[i]);
                        patch_usage(stderr);
                        return 2;
                } else {
                        break;
                }
        }
        if (i < argc)
                text = argv[i++];
        if (i < argc) {
                (void)fprintf(stderr, "bridle patch: the patch must be one argument\n");
                patch_usage(stderr);
                return 2;
        }
        if (text)
                return run_patch(dir, text, strlen(text));
        size_t len = 0;
        char *buf = read_stdin(&len);
        if (!buf) {
                (void)fprintf(stderr, "bridle patch: cannot read the patch from stdin: %s\n",
                              strerror(errno));
                return 1;
        }
        int rc = run_patch(dir, buf, len);
        free(buf);
        return rc;
}
