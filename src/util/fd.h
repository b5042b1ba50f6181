/* SPDX-License-Identifier: MIT */
/* fd and I/O helpers: retry on EINTR and short counts. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

void bridle__close(int fd);
/* Read exactly n bytes; returns n, a smaller count at EOF, or -errno. */
ssize_t bridle__read_full(int fd, void *buf, size_t n);
/* Write all n bytes; 0 on success or -errno (a 0-byte write is -ENOSPC). */
int bridle__write_full(int fd, const void *buf, size_t n);
/* Read a whole (small) file at dirfd/path up to max bytes into a NUL-terminated buffer. */
int bridle__read_file(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);
/* Write a string to dirfd/path (O_WRONLY, no create). */
int bridle__write_file(int dirfd, const char *path, const char *s);
