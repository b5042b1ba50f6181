/* SPDX-License-Identifier: MIT */
/*
 * File operations of a living sandbox. They run as commands do (forked by
 * init, behind the nested user namespace, no capabilities, Landlock and
 * seccomp), so they can read and write exactly what a command could: path
 * limits are the kernel's, not string checks. Output goes to stdout; a
 * failure prints one line on stderr and exits with the errno (1..255).
 */
#include <dirent.h>
#include <ftw.h>
#include <regex.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bridle/patch.h"
#include "sandbox/init/init.h"

static int fail(const char *what, const char *path)
{
        int e = errno ? errno : EIO;
        dprintf(2, "%s '%s'\n", what, path); /* the client adds the errno's text */
        return e > 255 ? 255 : e;
}

/* A path rule (protect.c) names path: say which, exit EACCES. */
static int refused(const char *what, const char *path, bool write)
{
        bool rd = false;
        const char *g = init_protect_denied(path, write, &rd);
        if (!g)
                return 0;
        dprintf(2, "%s '%s': refused by the path rule '%s' (paths.%s)\n", what, path, g,
                rd ? "deny_read" : "deny_write");
        return EACCES;
}

static int write_all(int fd, const char *b, size_t n)
{
        while (n) {
                ssize_t k = write(fd, b, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -1;
                b += k;
                n -= (size_t)k;
        }
        return 0;
}

int init_builtin_read(char *const *argv, const void *data, size_t len)
{
        (void)data;
        (void)len;
        int rc = refused("read", argv[0], false);
        if (rc)
                return rc;
        int fd = open(argv[0], O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return fail("read", argv[0]);
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
                errno = EISDIR;
                return fail("read", argv[0]);
        }
        char buf[65536];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return fail("read", argv[0]);
                if (n == 0)
                        return 0;
                if (write_all(1, buf, (size_t)n) < 0)
                        return fail("send", argv[0]);
        }
}

int init_builtin_write(char *const *argv, const void *data, size_t len)
{
        int r = refused("write", argv[0], true);
        if (r)
                return r;
        r = init_mkparents(argv[0]);
        if (r < 0) {
                errno = -r;
                return fail("create the parents of", argv[0]);
        }
        int fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0)
                return fail("write", argv[0]);
        if (write_all(fd, data, len) < 0 || close(fd) < 0)
                return fail("write", argv[0]);
        return 0;
}

static char type_of(unsigned char t)
{
        return t == DT_DIR ? 'd' : t == DT_LNK ? 'l' : t == DT_REG ? 'f' : 'o';
}

/* One record per entry: "<type> <size> <mode octal> <name>\0", sorted by the caller. */
int init_builtin_list(char *const *argv, const void *data, size_t len)
{
        (void)data;
        (void)len;
        int rc = refused("list", argv[0], false);
        if (rc)
                return rc;
        DIR *d = opendir(argv[0]);
        if (!d)
                return fail("list", argv[0]);
        for (struct dirent *e; (e = readdir(d));) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                char rec[512];
                int n = snprintf(rec, sizeof(rec), "%c %lld %o %s", type_of(e->d_type),
                                 (long long)st.st_size, (unsigned)(st.st_mode & 07777), e->d_name);
                if (n < 0 || (size_t)n >= sizeof(rec) || write_all(1, rec, (size_t)n + 1) < 0)
                        continue;
        }
        closedir(d);
        return 0;
}

/* argv[0]: the directory to patch (the workspace unless told); data: the patch text.
 * A patch that does not apply exits with BUILTIN_INVALID, its reason on stderr. */
/* Every path a patch names (and its move target), under dir. */
static int patch_refused(const char *dir, const void *data, size_t len)
{
        bridle_patch *p = NULL;
        bridle_error err;
        bridle_error_clear(&err);
        if (bridle_patch_parse(data, len, &p, &err) < 0)
                return 0; /* apply reports it */
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < bridle_patch_count(p); i++) {
                enum bridle_patch_kind kind;
                const char *path = NULL, *move = NULL;
                if (bridle_patch_op(p, i, &kind, &path, &move) < 0)
                        continue;
                const char *names[2] = {path, move};
                for (int k = 0; rc == 0 && k < 2; k++) {
                        char full[2 * BRIDLE__INIT_MAX_STR + 2];
                        if (!names[k])
                                continue;
                        (void)snprintf(full, sizeof(full), "%s/%s", dir, names[k]);
                        rc = refused("patch", full, true);
                }
        }
        bridle_patch_free(p);
        return rc;
}

int init_builtin_patch(char *const *argv, const void *data, size_t len)
{
        int rc = refused("patch", argv[0], true);
        if (!rc)
                rc = patch_refused(argv[0], data, len);
        if (rc)
                return rc;
        int dfd = open(argv[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return fail("patch", argv[0]);
        char *summary = NULL;
        bridle_error err;
        bridle_error_clear(&err);
        int r = bridle_patch_apply(dfd, data, len, &summary, &err);
        close(dfd);
        if (r < 0) {
                dprintf(2, "%s\n", err.msg);
                free(summary);
                return BUILTIN_INVALID;
        }
        if (summary && write_all(1, summary, strlen(summary)) < 0)
                r = -EIO;
        free(summary);
        return r < 0 ? EIO : 0;
}

/* search: argv[0] is a file or directory, data a POSIX extended regular expression.
 * Prints "path:line:text" for each matching line, like grep -rn, skipping binary
 * files (a NUL in the first 8 KiB) and files over 8 MiB; at most SEARCH_MAX_HITS
 * lines, then a final "[... more matches ...]" line. */
#define SEARCH_MAX_HITS 1000
#define SEARCH_MAX_FILE (8u << 20)
#define SEARCH_MAX_FILES 100000

struct search {
        regex_t re;
        int hits, files;
        bool more;
};

static struct search *SR;

static void search_file(const char *path, const struct stat *st)
{
        if (!S_ISREG(st->st_mode) || st->st_size > SEARCH_MAX_FILE || SR->more ||
            init_protect_denied(path, false, NULL))
                return;
        FILE *f = fopen(path, "re");
        if (!f)
                return;
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        long no = 0;
        char head[8192];
        size_t hl = fread(head, 1, sizeof(head), f);
        if (memchr(head, 0, hl) || fseek(f, 0, SEEK_SET) < 0) {
                fclose(f);
                return;
        }
        while ((n = getline(&line, &cap, f)) > 0) {
                no++;
                if (line[n - 1] == '\n')
                        line[n - 1] = '\0';
                if (regexec(&SR->re, line, 0, NULL, 0) != 0)
                        continue;
                if (SR->hits++ >= SEARCH_MAX_HITS) {
                        SR->more = true;
                        break;
                }
                dprintf(1, "%s:%ld:%.500s\n", path[0] == '.' && path[1] == '/' ? path + 2 : path, no, line);
        }
        free(line);
        fclose(f);
}

static int search_visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)ftw;
        if (flag == FTW_F && ++SR->files <= SEARCH_MAX_FILES)
                search_file(path, st);
        return SR->more || SR->files > SEARCH_MAX_FILES ? 1 : 0;
}

int init_builtin_search(char *const *argv, const void *data, size_t len)
{
        char pattern[4096];
        if (len == 0 || len >= sizeof(pattern)) {
                errno = EINVAL;
                return fail("search in", argv[0]);
        }
        memcpy(pattern, data, len);
        pattern[len] = '\0';
        struct search s = { .hits = 0 };
        int rc = regcomp(&s.re, pattern, REG_EXTENDED | REG_NOSUB | REG_NEWLINE);
        if (rc != 0) {
                char msg[256];
                regerror(rc, &s.re, msg, sizeof(msg));
                dprintf(2, "search: bad pattern '%s': %s\n", pattern, msg);
                return BUILTIN_INVALID;
        }
        int rf = refused("search in", argv[0], false);
        if (rf) {
                regfree(&s.re);
                return rf;
        }
        SR = &s;
        struct stat st;
        if (stat(argv[0], &st) < 0) {
                regfree(&s.re);
                return fail("search in", argv[0]);
        }
        if (S_ISDIR(st.st_mode))
                (void)nftw(argv[0], search_visit, 32, FTW_PHYS);
        else
                search_file(argv[0], &st);
        if (s.more)
                dprintf(1, "[... more than %d matches ...]\n", SEARCH_MAX_HITS);
        regfree(&s.re);
        return 0;
}
