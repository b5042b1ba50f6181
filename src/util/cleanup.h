/* SPDX-License-Identifier: MIT */
/* Scope-bound cleanup helpers (see CONVENTIONS.md). */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

void bridle__close(int fd);

static inline void bridle__freep(void *p)
{
        free(*(void **)p);
}
static inline void bridle__closep(const int *fd)
{
        if (*fd >= 0)
                bridle__close(*fd);
}
static inline void bridle__fclosep(FILE **f)
{
        if (*f)
                (void)fclose(*f);
}

#define _cleanup_free_ _cleanup_(bridle__freep)
#define _cleanup_close_ _cleanup_(bridle__closep)
#define _cleanup_fclose_ _cleanup_(bridle__fclosep)

#define TAKE_PTR(p)                                  \
        ({                                           \
                __typeof__(p) *_pp = &(p);           \
                __typeof__(p) _tmp = *_pp;           \
                *_pp = NULL;                         \
                _tmp;                                \
        })
#define TAKE_FD(fd)                                  \
        ({                                           \
                int *_fdp = &(fd);                   \
                int _tmpfd = *_fdp;                  \
                *_fdp = -EBADF;                      \
                _tmpfd;                              \
        })

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

