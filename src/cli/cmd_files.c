/* SPDX-License-Identifier: MIT */
/*
 * File operations in a living sandbox:
 *   bridle sandbox read ID PATH        file bytes to stdout
 *   bridle sandbox write ID PATH       stdin to the file (parents created)
 *   bridle sandbox list ID [PATH]      a directory inside one
 *   bridle sandbox patch ID [PATCH]    apply_patch inside (argument or stdin)
 * Relative paths are relative to /workspace. Exit 0 done, 1 failed, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridle/bridle.h"
#include "commands.h"

#define STDIN_MAX (15u << 20) /* one write's limit */

static int usage(const char *what)
{
        (void)fprintf(stderr, "usage: bridle sandbox %s\n", what);
        return 2;
}

static int failed(const bridle_error *err)
{
        (void)fprintf(stderr, "bridle: %s\n", err->msg);
        return 1;
}

/* All of stdin, up to max bytes. */
static char *slurp_stdin(size_t max, size_t *ret_len)
{
        size_t cap = 65536, len = 0;
        char *buf = malloc(cap + 1);
        while (buf) {
                if (len == cap) {
                        if (cap > max)
                                break;
                        char *nb = realloc(buf, cap * 2 + 1);
                        if (!nb)
                                break;
                        buf = nb;
                        cap *= 2;
                }
                ssize_t n = read(0, buf + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                if (n == 0) {
                        if (len > max)
                                break;
                        buf[len] = '\0';
                        *ret_len = len;
                        return buf;
                }
                len += (size_t)n;
        }
        free(buf);
        return NULL;
}

int bridle_cmd_sandbox_read(int argc, char **argv)
{
        if (argc != 3)
                return usage("read ID PATH");
        char *data = NULL;
        size_t len = 0;
        bridle_error err;
        bridle_error_clear(&err);
        if (bridle_sandbox_read(argv[1], argv[2], &data, &len, &err) < 0)
                return failed(&err);
        int r = fwrite(data, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : 1;
        free(data);
        return r;
}

int bridle_cmd_sandbox_write(int argc, char **argv)
{
        if (argc != 3)
                return usage("write ID PATH   (the bytes come on stdin)");
        size_t len = 0;
        char *data = slurp_stdin(STDIN_MAX, &len);
        if (!data) {
                (void)fprintf(stderr, "bridle: could not read stdin (at most %u bytes per write)\n", STDIN_MAX);
                return 1;
        }
        bridle_error err;
        bridle_error_clear(&err);
        int r = bridle_sandbox_write(argv[1], argv[2], data, len, &err) < 0 ? failed(&err) : 0;
        free(data);
        return r;
}

int bridle_cmd_sandbox_list_dir(int argc, char **argv)
{
        if (argc < 2 || argc > 3)
                return usage("list ID [PATH]");
        bridle_dir_entry *v = NULL;
        size_t n = 0;
        bridle_error err;
        bridle_error_clear(&err);
        if (bridle_sandbox_list_dir(argv[1], argc == 3 ? argv[2] : ".", &v, &n, &err) < 0)
                return failed(&err);
        for (size_t i = 0; i < n; i++)
                printf("%c %04o %10llu %s%s\n", v[i].type, v[i].mode, (unsigned long long)v[i].size,
                       v[i].name, v[i].type == 'd' ? "/" : "");
        free(v);
        return fflush(stdout) == 0 ? 0 : 1;
}

int bridle_cmd_sandbox_patch(int argc, char **argv)
{
        if (argc < 2 || argc > 3)
                return usage("patch ID [PATCH]   (the patch as one argument, or on stdin)");
        size_t len = 0;
        char *text = argc == 3 ? strdup(argv[2]) : slurp_stdin(STDIN_MAX, &len);
        if (!text) {
                (void)fprintf(stderr, "bridle: could not read the patch\n");
                return 1;
        }
        if (argc == 3)
                len = strlen(text);
        char *summary = NULL;
        bridle_error err;
        bridle_error_clear(&err);
        int r = bridle_sandbox_patch(argv[1], text, len, &summary, &err);
        free(text);
        if (r < 0)
                return failed(&err);
        printf("Success. Updated the following files:\n%s", summary ? summary : "");
        free(summary);
        return fflush(stdout) == 0 ? 0 : 1;
}

int bridle_cmd_sandbox_search(int argc, char **argv)
{
        if (argc < 3 || argc > 4)
                return usage("search ID PATTERN [PATH]   (a POSIX extended regular expression)");
        char *hits = NULL;
        bridle_error err;
        bridle_error_clear(&err);
        if (bridle_sandbox_search(argv[1], argc == 4 ? argv[3] : ".", argv[2], &hits, &err) < 0)
                return failed(&err);
        (void)fputs(hits, stdout);
        int found = hits[0] != '\0';
        free(hits);
        return fflush(stdout) == 0 ? (found ? 0 : 1) : 1; /* like grep: 1 when nothing matched */
}
