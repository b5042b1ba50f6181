/* SPDX-License-Identifier: MIT */
#include "trace/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

void bridle__tracebuf_add(bridle__tracebuf *b, const char *s, size_t n)
{
        if (b->failed)
                return;
        if (n > BRIDLE__TRACEBUF_MAX - b->len - 1) {
                b->failed = true;
                return;
        }
        if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                while (cap < b->len + n + 1)
                        cap *= 2;
                char *d = bridle__realloc(b->data, cap);
                if (!d) {
                        b->failed = true;
                        return;
                }
                b->data = d;
                b->cap = cap;
        }
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
}

void bridle__tracebuf_puts(bridle__tracebuf *b, const char *s)
{
        bridle__tracebuf_add(b, s, strlen(s));
}

void bridle__tracebuf_printf(bridle__tracebuf *b, const char *fmt, ...)
{
        char tmp[1024];
        va_list ap;
        va_start(ap, fmt);
        /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is right above */
        int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
        va_end(ap);
        if (n < 0) {
                b->failed = true;
                return;
        }
        if ((size_t)n < sizeof(tmp)) {
                bridle__tracebuf_add(b, tmp, (size_t)n);
                return;
        }
        char *big = bridle__malloc((size_t)n + 1);
        if (!big) {
                b->failed = true;
                return;
        }
        va_start(ap, fmt);
        /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is right above */
        int m = vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        if (m == n)
                bridle__tracebuf_add(b, big, (size_t)n);
        else
                b->failed = true;
        free(big);
}

char *bridle__tracebuf_take(bridle__tracebuf *b)
{
        char *d = b->data;
        bool failed = b->failed;
        *b = (bridle__tracebuf){0};
        if (failed) {
                free(d);
                return NULL;
        }
        if (!d)
                d = bridle__strdup("");
        return d;
}
