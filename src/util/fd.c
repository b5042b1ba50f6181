/* SPDX-License-Identifier: MIT */
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/cleanup.h"

void bridle__close(int fd)
{
        if (fd < 0)
                return;
        int saved = errno;
        (void)close(fd); /* EINTR counts as closed: never retry */
        errno = saved;
}

ssize_t bridle__read_full(int fd, void *buf, size_t n)
{
        size_t done = 0;
        while (done < n) {
                ssize_t r = read(fd, (char *)buf + done, n - done);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (r == 0)
                        break;
                done += (size_t)r;
        }
        return (ssize_t)done;
}

int bridle__write_full(int fd, const void *buf, size_t n)
{
        size_t done = 0;
        while (done < n) {
                ssize_t r = write(fd, (const char *)buf + done, n - done);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (r == 0)
                        return -ENOSPC;
                done += (size_t)r;
        }
        return 0;
}

int bridle__read_file(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        size_t cap = 4096, len = 0;
        _cleanup_free_ char *buf = bridle__malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len == cap) {
                        /* Room for one byte past max, to tell "exactly max" from "more". */
                        if (cap > max)
                                return -EFBIG;
                        size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
                        char *nb = bridle__realloc(buf, ncap + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        cap = ncap;
                }
                ssize_t r = read(fd, buf + len, cap - len);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (r == 0)
                        break;
                len += (size_t)r;
        }
        if (len > max)
                return -EFBIG;
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

int bridle__write_file(int dirfd, const char *path, const char *s)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return bridle__write_full(fd, s, strlen(s));
}
