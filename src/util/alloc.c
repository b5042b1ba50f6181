/* SPDX-License-Identifier: MIT */
#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>

static unsigned long fail_countdown;

static int should_fail(void)
{
        if (fail_countdown == 0)
                return 0;
        return --fail_countdown == 0;
}

void bridle__alloc_fail_at(unsigned long n)
{
        fail_countdown = n;
}

void *bridle__malloc(size_t n)
{
        return should_fail() ? NULL : malloc(n ? n : 1);
}

void *bridle__calloc(size_t n, size_t size)
{
        return should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *bridle__realloc(void *p, size_t n)
{
        return should_fail() ? NULL : realloc(p, n ? n : 1);
}

char *bridle__strndup(const char *s, size_t n)
{
        size_t len = strnlen(s, n);
        char *r = bridle__malloc(len + 1);
        if (!r)
                return NULL;
        memcpy(r, s, len);
        r[len] = '\0';
        return r;
}

char *bridle__strdup(const char *s)
{
        return bridle__strndup(s, strlen(s));
}
