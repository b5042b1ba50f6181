/* SPDX-License-Identifier: MIT */
/* Shared helpers for the cmocka unit tests. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* Run fn in a forked child (for tests that change process state: seccomp,
 * namespaces, rlimits, uid). The child's return value is its exit status:
 * 0 pass, 77 skip (with a reason printed to stderr), anything else fails.
 * Returns the child's exit status, or 128+signal. */
int bridle_test_in_child(int (*fn)(void *), void *arg);

/* Assert helper: run in a child and map 77 to cmocka's skip(). */
#define BRIDLE_ASSERT_CHILD(fn, arg)                                  \
        do {                                                          \
                int _st = bridle_test_in_child((fn), (arg));          \
                if (_st == 77)                                        \
                        skip();                                       \
                assert_int_equal(_st, 0);                             \
        } while (0)

/* Make a fresh temporary directory (mkdtemp under $TMPDIR or /tmp); caller frees. */
char *bridle_test_tmpdir(void);
/* rm -rf for a test directory. */
void bridle_test_rmrf(const char *path);
