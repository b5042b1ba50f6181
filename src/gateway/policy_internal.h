/* SPDX-License-Identifier: MIT */
/* The policy object, shared by policy.c (loading), policy_json.c, match.c and safe.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/gateway.h"
#include "gateway/shell.h"

#define BRIDLE__POLICY_MAX_RULES   10000
#define BRIDLE__POLICY_MAX_PREFIX  32
#define BRIDLE__POLICY_MAX_ALTS    256
#define BRIDLE__POLICY_MAX_TIMEOUT 86400 /* seconds */

/* One element of a prefix: a word, or alternatives. */
struct pelem {
        char **alts;
        size_t n;
};

struct crule {
        struct pelem *prefix;
        size_t n;
        enum bridle__decision decision;
        char *reason;     /* NULL: none given */
        unsigned timeout; /* seconds; 0: none given */
        char desc[160];   /* "commands[3] prefix [rm -rf]" */
};

struct trule {
        char *name;
        enum bridle__decision decision;
        int line, col; /* 0 when unknown */
};

/* The index on a rule's first word: key -> rule numbers (ascending). */
struct bucket {
        const char *key; /* NULL: empty slot */
        size_t *rules;
        size_t n;
};

struct bridle__policy {
        char *name;
        bridle__policy_settings set;
        bool has_default;    /* `default` was written (else ask) */
        struct trule *tools; /* sorted by name */
        size_t n_tools;
        struct crule *cmds;
        size_t n_cmds;
        int cmds_line, cmds_col;
        struct bucket *index;
        size_t index_cap; /* a power of two */
        /* Owned storage behind set's arrays. */
        char **deny_write, **deny_read, **allow_hosts;
};

/* Precompile the index on first words (after cmds are final). 0 or -ENOMEM. */
int bridle__policy_index(bridle__policy *p);
/* The rules whose first word can be word (ascending numbers); NULL with *n = 0 if none. */
const size_t *bridle__policy_rules_for(const bridle__policy *p, const char *word, size_t *n);
const struct trule *bridle__policy_tool(const bridle__policy *p, const char *name);
/* An empty policy (everything at its default) named name; NULL on ENOMEM. */
bridle__policy *bridle__policy_new(const char *name);

/* Is this command (argv from c->start) on the built-in safe list? name gets
 * what to call it ("ls", "git status", "sed -n"). */
bool bridle__safe_command(const bridle__shcmd *c, char *name, size_t size);
