/* SPDX-License-Identifier: MIT */
/*
 * File operations that never leave the root: every path is resolved from the
 * root fd with openat2(RESOLVE_BENEATH), so '..' and symlinks that point out
 * fail with EXDEV while symlinks that stay inside are followed. Where openat2
 * is missing (old kernel, or a seccomp filter answering ENOSYS/EPERM), a
 * component walk with O_NOFOLLOW is used instead: stricter, no symlinks at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "patch/patch.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/fd.h"

const char *bridle__patch_path_check(const char *path)
{
        size_t len = strlen(path);
        if (len == 0)
                return "is empty";
        if (path[0] == '/')
                return "is absolute (paths are relative to the directory)";
        if (path[len - 1] == '/')
                return "ends with '/'";
        bool named = false;
        for (const char *c = path; *c;) {
                size_t l = strcspn(c, "/");
                if (l == 2 && c[0] == '.' && c[1] == '.')
                        return "leaves the directory ('..')";
                if (l > 0 && !(l == 1 && c[0] == '.'))
                        named = true;
                else if (c[l] == '\0')
                        return "names no file";
                c += l;
                while (*c == '/')
                        c++;
        }
        return named ? NULL : "names no file";
}

/* The fallback: walk component by component, refusing every symlink. */
static int open_walk(int rootfd, const char *path, int flags, unsigned mode)
{
        _cleanup_free_ char *buf = bridle__strdup(path);
        if (!buf)
                return -ENOMEM;
        _cleanup_close_ int cur = -EBADF;
        char *save = NULL;
        char *comp = strtok_r(buf, "/", &save);
        while (comp) {
                char *next = strtok_r(NULL, "/", &save);
                int at = cur >= 0 ? cur : rootfd;
                int fd = next ? openat(at, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                              : openat(at, comp, flags | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
                if (fd < 0)
                        return errno == ELOOP ? -EXDEV : -errno;
                bridle__close(cur);
                cur = fd;
                comp = next;
        }
        if (cur < 0) /* "." or "" */
                return openat(rootfd, ".", flags | O_CLOEXEC, (mode_t)mode) < 0 ? -errno : -EINVAL;
        return TAKE_FD(cur);
}

int bridle__patch_open_beneath(int rootfd, const char *path, int flags, unsigned mode)
{
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC),
                .mode = (flags & O_CREAT) ? mode : 0,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        for (int tries = 0; tries < 16; tries++) {
                long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
                if (fd >= 0)
                        return (int)fd;
                if (errno == EAGAIN) /* a rename raced the lookup */
                        continue;
                if (errno == ENOSYS || errno == EPERM)
                        return open_walk(rootfd, path, flags, mode);
                return errno == ELOOP ? -EXDEV : -errno;
        }
        return -EAGAIN;
}

/* Split "a/b/c" into a directory fd for "a/b" and the name "c". */
static int open_parent(int rootfd, const char *path, char **ret_name)
{
        const char *slash = strrchr(path, '/');
        _cleanup_free_ char *dir = bridle__strndup(path, slash ? (size_t)(slash - path) : 0);
        _cleanup_free_ char *name = bridle__strdup(slash ? slash + 1 : path);
        if (!dir || !name)
                return -ENOMEM;
        int fd = bridle__patch_open_beneath(rootfd, dir[0] ? dir : ".", O_PATH | O_DIRECTORY, 0);
        if (fd < 0)
                return fd;
        *ret_name = TAKE_PTR(name);
        return fd;
}

int bridle__patch_mkdir_parents(int rootfd, const char *path)
{
        _cleanup_free_ char *buf = bridle__strdup(path);
        if (!buf)
                return -ENOMEM;
        for (char *s = strchr(buf, '/'); s; s = strchr(s + 1, '/')) {
                *s = '\0';
                int fd = bridle__patch_open_beneath(rootfd, buf, O_PATH | O_DIRECTORY, 0);
                if (fd == -ENOENT) {
                        _cleanup_free_ char *name = NULL;
                        _cleanup_close_ int pfd = open_parent(rootfd, buf, &name);
                        if (pfd < 0)
                                return pfd;
                        if (mkdirat(pfd, name, 0777) < 0 && errno != EEXIST)
                                return -errno;
                        fd = bridle__patch_open_beneath(rootfd, buf, O_PATH | O_DIRECTORY, 0);
                }
                if (fd < 0)
                        return fd;
                bridle__close(fd);
                *s = '/';
        }
        return 0;
}

int bridle__patch_unlink(int rootfd, const char *path)
{
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int pfd = open_parent(rootfd, path, &name);
        if (pfd < 0)
                return pfd;
        if (unlinkat(pfd, name, 0) < 0)
                return -errno;
        return 0;
}

int bridle__patch_read(int rootfd, const char *path, char **ret, size_t *ret_len, dev_t *ret_dev,
                       ino_t *ret_ino)
{
        _cleanup_close_ int fd =
                bridle__patch_open_beneath(rootfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
        if (fd < 0)
                return fd;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((size_t)st.st_size > BRIDLE_PATCH_MAX_FILE)
                return -EFBIG;
        _cleanup_free_ char *buf = bridle__malloc((size_t)st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        ssize_t n = bridle__read_full(fd, buf, (size_t)st.st_size);
        if (n < 0)
                return (int)n;
        buf[n] = '\0';
        *ret_len = (size_t)n;
        *ret_dev = st.st_dev;
        *ret_ino = st.st_ino;
        *ret = TAKE_PTR(buf);
        return 0;
}

int bridle__patch_write(int rootfd, const char *path, bool create, const char *buf, size_t len,
                        dev_t *ret_dev, ino_t *ret_ino)
{
        int flags = O_WRONLY | O_NOCTTY | O_NONBLOCK | (create ? O_CREAT : 0);
        _cleanup_close_ int fd = bridle__patch_open_beneath(rootfd, path, flags, 0666);
        if (fd < 0)
                return fd;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode)) /* a FIFO or device inside the tree: never write to it */
                return -EINVAL;
        if (ftruncate(fd, 0) < 0)
                return -errno;
        int r = bridle__write_full(fd, buf, len);
        if (r < 0)
                return r;
        *ret_dev = st.st_dev;
        *ret_ino = st.st_ino;
        return 0;
}
