/* SPDX-License-Identifier: MIT */
/*
 * Shared by the tools module's files: the registry's entries, the built-in
 * table, a capped text buffer, argument getters and the sandbox helpers.
 *
 * Internal tool functions (built-ins, command tools) follow bridle__tool_fn
 * with one addition: returning 1 means "*ret_output is set, but the call
 * failed" (a command tool's non-zero exit). BRIDLE_E_SANDBOX from them means
 * the sandbox is gone (see bridle__tools_sbfail()).
 */
#pragma once

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/tools.h"

#define BRIDLE__TOOLS_MAX         1024        /* tools in one registry (MCP servers bring many) */
#define BRIDLE__TOOLS_DEFAULT_CAP 16384       /* bytes of output for the model */
#define BRIDLE__TOOLS_MAX_ARGS    (32u << 20) /* bytes of a call's JSON arguments */
#define BRIDLE__SCHEMA_MAX_DEPTH  32

static inline void bridle__tools_json_decrefp(json_t **p)
{
        if (*p)
                json_decref(*p);
}
#define _tools_json_ __attribute__((cleanup(bridle__tools_json_decrefp)))

/* A growable text buffer with a hard cap: past it, text is dropped and
 * truncated is set; an allocation failure sets oom (take then fails). */
typedef struct bridle__tbuf {
        char *p;
        size_t len, alloc, max;
        bool truncated, oom;
} bridle__tbuf;

void bridle__tbuf_init(bridle__tbuf *b, size_t max);
void bridle__tbuf_add(bridle__tbuf *b, const char *s, size_t n);
void bridle__tbuf_puts(bridle__tbuf *b, const char *s);
void bridle__tbuf_printf(bridle__tbuf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* The text (malloc'd, NUL-terminated), or NULL after an allocation failure. */
char *bridle__tbuf_take(bridle__tbuf *b);
void bridle__tbuf_release(bridle__tbuf *b);

/* Valid UTF-8 for the model: NUL bytes and invalid sequences become U+FFFD. */
char *bridle__tools_utf8(const char *s, size_t len, size_t *ret_len);
/* Length of the longest prefix of s[0..n) that does not end inside a UTF-8
 * sequence. */
size_t bridle__utf8_floor(const char *s, size_t n);

/* Argument getters: args passed the schema, so a present key has its type. */
const char *bridle__arg_str(const json_t *args, const char *key, const char *def);
int64_t bridle__arg_int(const json_t *args, const char *key, int64_t def);
bool bridle__arg_bool(const json_t *args, const char *key, bool def);

/* The sandbox to use: env->sandbox(); its failure is BRIDLE_E_SANDBOX. */
int bridle__tools_sandbox(const bridle__tool_env *env, const char **ret_id, bridle_error *err);
/* After a sandbox call on id failed with r: if the sandbox is dead or gone,
 * BRIDLE_E_SANDBOX (err says so); otherwise r, except that BRIDLE_E_SANDBOX
 * (a command that could not start) becomes BRIDLE_E_TOOL. */
int bridle__tools_sbfail(const char *id, int r, bridle_error *err);
/* The workspace's path inside the sandbox ("/workspace" if unknown). */
void bridle__tools_sandbox_root(const char *id, char *out, size_t size);

size_t bridle__tools_cap_of(const bridle__tool_env *env);

/* Built-ins. */
typedef struct bridle__builtin {
        const char *name;
        const char *description;
        const char *parameters; /* JSON Schema text */
        bool read_only;
        bridle__tool_fn fn;
} bridle__builtin;

const bridle__builtin *bridle__builtin_find(const char *name);

int bridle__tool_exec_command(void *ud, const bridle__tool_env *env, const json_t *args,
                              char **ret_output, bridle_error *err);
int bridle__tool_write_stdin(void *ud, const bridle__tool_env *env, const json_t *args,
                             char **ret_output, bridle_error *err);
int bridle__tool_read_file(void *ud, const bridle__tool_env *env, const json_t *args,
                           char **ret_output, bridle_error *err);
int bridle__tool_write_file(void *ud, const bridle__tool_env *env, const json_t *args,
                            char **ret_output, bridle_error *err);
int bridle__tool_list_dir(void *ud, const bridle__tool_env *env, const json_t *args,
                          char **ret_output, bridle_error *err);
int bridle__tool_search(void *ud, const bridle__tool_env *env, const json_t *args,
                        char **ret_output, bridle_error *err);
int bridle__tool_apply_patch(void *ud, const bridle__tool_env *env, const json_t *args,
                             char **ret_output, bridle_error *err);
int bridle__tool_load_skill(void *ud, const bridle__tool_env *env, const json_t *args,
                            char **ret_output, bridle_error *err);

/* Command tools (command.c). */
typedef struct bridle__command_tool {
        char *name;
        char **argv; /* NULL-terminated */
        uint64_t timeout_ms;
} bridle__command_tool;

/* Check def and build the tool; *ret_params is the schema to register. */
int bridle__command_parse(const json_t *def, bridle__command_tool **ret, json_t **ret_params,
                          const char **ret_desc, bridle_error *err);
bridle__command_tool *bridle__command_free(bridle__command_tool *c);
int bridle__command_run(void *ud, const bridle__tool_env *env, const json_t *args,
                        char **ret_output, bridle_error *err);

/* Skills (builtin_patch.c, instructions.c): split SKILL.md into its front
 * matter (name, description) and body. */
int bridle__skill_parse(const char *text, size_t len, const char *where, char **ret_name,
                        char **ret_desc, const char **ret_body, bridle_error *err);
bool bridle__skill_name_ok(const char *name);
