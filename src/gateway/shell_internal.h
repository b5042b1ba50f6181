/* SPDX-License-Identifier: MIT */
/* The splitter's working state, shared by shell.c (the lexer) and shell_cmd.c
 * (wrappers, per-command checks, the final arrays). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "gateway/shell.h"

struct wrec {
        size_t off; /* text in the arena */
        unsigned flags;
        size_t cmd;
        bool assign; /* NAME=value before the command */
};

struct sh {
        char *arena;
        size_t ao, acap;
        struct wrec *w;
        size_t nw, capw;
        size_t ncmds; /* commands opened so far (ids 0..ncmds-1) */
        bool simple, stop, oom;
        bool assigns_any;   /* something in the string sets a variable */
        bool var_sensitive; /* arithmetic on names, ${!x} */
        char reason[128];
        char writes[BRIDLE__SHELL_MAX_WRITES][256];
        size_t n_writes;
};

/* Mark the string not simple (the first reason is kept). */
void bridle__sh_flag(struct sh *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Build ret from st: commands, wrappers, command checks. 0 or -ENOMEM. */
int bridle__sh_finish(struct sh *st, bridle__shsplit *ret);
