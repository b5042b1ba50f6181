/* SPDX-License-Identifier: MIT */
/* A growable text buffer for the trace renderers (text.c, html.c), capped. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define BRIDLE__TRACEBUF_MAX ((size_t)256 << 20) /* bytes of one rendered trace */

typedef struct bridle__tracebuf {
        char *data;
        size_t len, cap;
        bool failed; /* out of memory or past the cap: the text is incomplete */
} bridle__tracebuf;

void bridle__tracebuf_add(bridle__tracebuf *b, const char *s, size_t n);
void bridle__tracebuf_puts(bridle__tracebuf *b, const char *s);
void bridle__tracebuf_printf(bridle__tracebuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text (NUL-terminated, the caller's) or NULL when it failed; the buffer is emptied either way. */
char *bridle__tracebuf_take(bridle__tracebuf *b);
