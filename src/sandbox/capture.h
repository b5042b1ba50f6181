/* SPDX-License-Identifier: MIT */
/* A capped output buffer that keeps the head and the tail. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bridle__capture {
        size_t cap;        /* total bytes kept: cap/2 head, cap - cap/2 tail */
        char *head;
        size_t head_len;
        char *tail;        /* ring */
        size_t tail_len, tail_pos;
        uint64_t total;
};

int bridle__capture_init(struct bridle__capture *c, size_t cap);
void bridle__capture_release(struct bridle__capture *c);
void bridle__capture_add(struct bridle__capture *c, const char *d, size_t n);
/* Head, a marker naming the cut, tail: a NUL-terminated buffer the caller frees. */
int bridle__capture_take(struct bridle__capture *c, char **ret, size_t *ret_len, bool *ret_cut);
