/* SPDX-License-Identifier: MIT */
/*
 * Checks for code running inside bridle_test_in_child(), where cmocka's
 * asserts must not run (they would unwind into the forked copy of the runner).
 * A failed check prints where and why and is counted; the child function ends
 * with `return CHILD_RESULT();` (0 pass, 1 fail).
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int child_failures;

static inline void child_check_at(bool ok, int saved_errno, const char *file, int line,
                                  const char *what)
{
        if (ok)
                return;
        (void)fprintf(stderr, "%s:%d: check failed: %s (errno %d %s)\n", file, line, what,
                      saved_errno, strerror(saved_errno));
        child_failures++;
}

/* cond holds. */
#define CHECK(cond)                                                                       \
        ({                                                                                \
                bool _ok = (cond);                                                        \
                child_check_at(_ok, errno, __FILE__, __LINE__, #cond);                    \
        })

/* call returns -1 with errno e. */
#define CHECK_ERRNO(call, e)                                                              \
        ({                                                                                \
                errno = 0;                                                                \
                long _r = (long)(call);                                                   \
                int _e = errno;                                                           \
                child_check_at(_r == -1 && _e == (e), _e, __FILE__, __LINE__,             \
                               #call " fails with " #e);                                  \
        })

#define CHILD_RESULT() (child_failures ? 1 : 0)
