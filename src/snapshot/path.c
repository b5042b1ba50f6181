/* SPDX-License-Identifier: MIT */
/* Paths inside a snapshot tree: name checks, symlink-free opens, removal. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "snapshot/internal.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

static bool no_openat2;

char *bridle__snap_join(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        char *s = bridle__malloc(la + lb + 2);
        if (!s)
                return NULL;
        (void)snprintf(s, la + lb + 2, "%s%s%s", a, la ? "/" : "", b);
        return s;
}

size_t bridle__snap_basename_off(const char *rel)
{
        const char *slash = strrchr(rel, '/');
        return slash ? (size_t)(slash - rel) + 1 : 0;
}

/* Without openat2: one component at a time, none of them a symlink. */
static int open_walk(int rootfd, const char *rel, int flags)
{
        _cleanup_free_ char *copy = bridle__strdup(rel);
        if (!copy)
                return -ENOMEM;
        _cleanup_close_ int cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return -errno;
        char *save = NULL;
        char *comp = strtok_r(copy, "/", &save);
        while (comp) {
                char *next = strtok_r(NULL, "/", &save);
                if (strcmp(comp, "..") == 0)
                        return -EXDEV;
                int f = next ? (O_PATH | O_DIRECTORY) : flags;
                int fd = openat(cur, comp, f | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return errno == ENOTDIR && next ? -ELOOP : -errno;
                bridle__close(cur);
                cur = fd;
                comp = next;
        }
        return TAKE_FD(cur);
}

int bridle__snap_open_beneath(int rootfd, const char *rel, int flags)
{
        if (rel[0] == '\0') {
                int fd = openat(rootfd, ".", flags | O_CLOEXEC);
                return fd < 0 ? -errno : fd;
        }
        if (!no_openat2) {
                struct open_how how = {
                        .flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
                        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
                };
                long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
                if (fd >= 0)
                        return (int)fd;
                if (errno != ENOSYS && errno != EPERM)
                        return -errno;
                no_openat2 = true; /* ENOSYS, or EPERM from a seccomp filter */
        }
        return open_walk(rootfd, rel, flags);
}

static int name_components_ok(const char *s, size_t len)
{
        size_t start = 0;
        for (size_t i = 0; i <= len; i++) {
                if (i < len && s[i] != '/')
                        continue;
                size_t n = i - start;
                if (n == 0 || (n == 1 && s[start] == '.') ||
                    (n == 2 && s[start] == '.' && s[start + 1] == '.'))
                        return -1;
                start = i + 1;
        }
        return 0;
}

int bridle__snap_check_name(const char *name, bool is_dir, char **ret, bridle_error *err)
{
        size_t len = strlen(name);
        if (len > BRIDLE__SNAPSHOT_MAX_PATH)
                return bridle__err(err, BRIDLE_E_LIMIT, "entry name longer than %u bytes",
                                   BRIDLE__SNAPSHOT_MAX_PATH);
        if (name[0] == '/')
                return bridle__err(err, BRIDLE_E_INVALID, "absolute entry name '%.200s'", name);
        if (is_dir && len > 1 && name[len - 1] == '/')
                len--;
        if (len == 0 || name_components_ok(name, len) < 0)
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "bad entry name '%.200s' (empty, '.' or '..')", name);
        char *s = bridle__strndup(name, len);
        if (!s)
                return bridle__err(err, -ENOMEM, "entry name");
        *ret = s;
        return 0;
}

void bridle__snap_names_release(struct snap_names *ns)
{
        for (size_t i = 0; i < ns->n; i++)
                free(ns->v[i]);
        free(ns->v);
        *ns = (struct snap_names){0};
}

static int names_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int names_add(struct snap_names *ns, const char *name)
{
        char **nv = bridle__realloc(ns->v, (ns->n + 1) * sizeof(*nv));
        if (!nv)
                return -ENOMEM;
        ns->v = nv;
        if (!(ns->v[ns->n] = bridle__strdup(name)))
                return -ENOMEM;
        ns->n++;
        return 0;
}

int bridle__snap_list(int fd, struct snap_names *ret)
{
        int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        DIR *d = fdopendir(dfd);
        if (!d) {
                bridle__close(dfd);
                return -errno;
        }
        struct snap_names ns = {0};
        int r = 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        r = names_add(&ns, de->d_name);
        (void)closedir(d);
        if (r < 0) {
                bridle__snap_names_release(&ns);
                return r;
        }
        if (ns.n > 1)
                qsort(ns.v, ns.n, sizeof(*ns.v), names_cmp);
        *ret = ns;
        return 0;
}
