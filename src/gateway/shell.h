/* SPDX-License-Identifier: MIT */
/*
 * The shell splitter: a bash command string -> the simple commands it runs,
 * with a verdict "simple" or "not provably simple" and the reason
 * (docs/gateway.md, "The splitter").
 *
 * Ownership: a split owns every string in it; free with bridle__shell_free().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define BRIDLE__SHELL_MAX_LEN   ((size_t)1 << 20) /* longer: not simple */
#define BRIDLE__SHELL_MAX_WORDS 8192              /* per string */
#define BRIDLE__SHELL_MAX_WRAP  8                 /* nested wrappers unwrapped */

enum bridle__shword_flags {
        /* An unquoted expansion or glob: may become any number of words. */
        BRIDLE__SHW_SPLITS = 1u << 0,
        /* A quoted expansion: one word whose text is not known. */
        BRIDLE__SHW_UNKNOWN = 1u << 1,
};

typedef struct bridle__shword {
        const char *text; /* after quote removal; expansions kept as written */
        unsigned flags;
} bridle__shword;

typedef struct bridle__shcmd {
        bridle__shword *argv; /* argc words (assignments not included) */
        size_t argc;
        /* argv + start is the command after well-known wrappers (env, time,
         * nice, timeout, nohup, stdbuf, ionice, command, builtin). */
        size_t start;
        /* Assignments for this command: VAR=x prefixes, then env's NAME=x. */
        const char **assigns; /* "NAME=value" words */
        size_t n_assigns;
        size_t n_prefix; /* the first n_prefix assigns came before the command */
} bridle__shcmd;

#define BRIDLE__SHELL_MAX_WRITES 8

typedef struct bridle__shsplit {
        bridle__shcmd *cmds;
        size_t n;
        bool simple;
        char reason[128]; /* why not simple: "command substitution", ... */
        /* Files written by output redirections (> >> >| &> <>), as written;
         * the caller decides whether they are protected (gateway: paths.deny_write). */
        char writes[BRIDLE__SHELL_MAX_WRITES][256];
        size_t n_writes;
        /* Internal storage. */
        char *arena;
        bridle__shword *words;
        const char **names;
        size_t cap_cmds;
} bridle__shsplit;

/* Split cmd. Returns 0, or -ENOMEM. Input that is not provably simple is not
 * an error: split->simple is false and reason says why (the commands found
 * before the problem are still listed). */
int bridle__shell_split(const char *cmd, bridle__shsplit *ret);
void bridle__shell_free(bridle__shsplit *s);

/* For tests and messages: the commands as "a b | c 'd e'" (words with blanks
 * or specials quoted, commands joined by " ; "). Caller frees; NULL on ENOMEM. */
char *bridle__shell_describe(const bridle__shsplit *s);

/* Is name a variable harmless to set before a command (LANG, LC_*, TZ, lower case...)? */
bool bridle__shell_harmless_var(const char *name);
