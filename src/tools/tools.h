/* SPDX-License-Identifier: MIT */
/*
 * Tools: a registry of function tools the model may call, their JSON Schema
 * argument checks, and the built-ins, which run only through the sandbox
 * library (include/bridle/sandbox.h): the harness never touches the workspace.
 *
 * Built-ins (names and arguments are a contract, docs/harness.md):
 *   exec_command {cmd, workdir?, tty?, yield_time_ms?, max_output_tokens?}
 *   write_stdin  {session_id, chars?, yield_time_ms?, max_output_tokens?}
 *   read_file    {path, offset?, limit?}      offset/limit in lines (1-based offset)
 *   write_file   {path, content}
 *   list_dir     {path?, depth?}
 *   search       {pattern, path?, glob?}
 *   apply_patch  {patch}
 *   load_skill   {name}                       the body of .agents/skills/NAME/SKILL.md
 * Command tools (agent files' command_tools): {name, description, parameters,
 * command: [argv...]}: the command runs in the sandbox with the JSON arguments
 * on its stdin; its output (stdout, then stderr, and the exit status when not
 * 0) is the result. Native Responses items (shell_call, apply_patch_call) are
 * run by bridle__tools_native().
 *
 * A call never crashes the run: bad JSON, unknown tools and arguments that
 * fail the schema come back as a result the model can read (ok = false,
 * "error: ..." naming the argument), as do failures of the command itself.
 * Only a dead or unusable sandbox is an error of the run (BRIDLE_E_SANDBOX).
 *
 * Outputs sent to the model are capped (cap_bytes, default 16 KiB; head and
 * tail kept, "[... N bytes cut ...]" between them).
 *
 * Ownership: the registry copies names, descriptions and schemas.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "bridle/common.h"

typedef struct bridle__tools bridle__tools;

/* What a tool runs against. The sandbox is made on first use by the runner's
 * callback (so runs whose tools never touch it never pay for one). */
typedef struct bridle__tool_env {
        /* Returns the sandbox id to use (borrowed), creating it if needed. */
        const char *(*sandbox)(void *ud, bridle_error *err);
        void *ud;
        size_t cap_bytes; /* 0: 16384 */
        /* For the call being run: a time limit a policy rule gave it (0: none).
         * exec_command runs its cmd under `timeout` (TERM, then KILL 5 s later;
         * exit status 124); a native shell_call takes the smaller of its own. */
        uint64_t timeout_ms;
} bridle__tool_env;

/* A C function tool. args is the parsed, schema-checked object. On success
 * set *ret_output (malloc'd text) and return 0; return < 0 with err for a
 * failure the model should see as an error result; return > 0 with
 * *ret_output set for an error result with that text (an MCP tool's isError). */
typedef int (*bridle__tool_fn)(void *ud, const bridle__tool_env *env, const json_t *args, char **ret_output,
                               bridle_error *err);

typedef struct bridle__tool_result {
        bool ok;
        char *output;   /* capped text for the model (malloc'd) */
        bool sandbox_failed; /* the sandbox is gone: an error of the run */
} bridle__tool_result;

int bridle__tools_new(bridle__tools **ret, bridle_error *err);
bridle__tools *bridle__tools_free(bridle__tools *t);

/* Add the named built-in ("exec_command", ...). Unknown name: BRIDLE_E_INVALID. */
int bridle__tools_add_builtin(bridle__tools *t, const char *name, bridle_error *err);
/* Add a command tool from its agent-file definition (checked; errors name the key). */
int bridle__tools_add_command(bridle__tools *t, const json_t *def, bridle_error *err);
/* Add a C function tool. read_only: safe to run twice (resume). */
int bridle__tools_add_fn(bridle__tools *t, const char *name, const char *description, const json_t *parameters,
                         bool read_only, bridle__tool_fn fn, void *ud, bridle_error *err);
/* Offer a native Responses tool: "shell" ({"type":"shell"}) or "apply_patch"
 * ({"type":"apply_patch"}); their calls go to bridle__tools_native(). */
int bridle__tools_add_native(bridle__tools *t, const char *name, bridle_error *err);
bool bridle__tools_has(const bridle__tools *t, const char *name);
/* How many tools t holds; drop those added after the first n (a group of
 * tools added all or nothing, as an MCP server's). */
size_t bridle__tools_count(const bridle__tools *t);
void bridle__tools_truncate(bridle__tools *t, size_t n);
/* Whether a tool is safe to run twice (read_file, list_dir, search, load_skill,
 * and C tools added with read_only). Unknown names: false. */
bool bridle__tools_read_only(const bridle__tools *t, const char *name);

/* Responses tool definitions, {"type":"function","name",...} each (new reference). */
json_t *bridle__tools_defs(const bridle__tools *t);

/* Run one function call: arguments is the model's JSON text ("" counts as {}).
 * Returns 0 with *res filled (ok or not) for everything the model can act on;
 * BRIDLE_E_SANDBOX with *res filled (sandbox_failed set, an "error:" text) when
 * the sandbox cannot be made or has died (only for built-ins and command
 * tools); other negative codes (-ENOMEM) with *res empty. Clear *res with
 * bridle__tool_result_clear() in every case. */
int bridle__tools_call(bridle__tools *t, const bridle__tool_env *env, const char *name, const char *arguments,
                       bridle__tool_result *res, bridle_error *err);
/* Run a native shell_call or apply_patch_call item; *ret_item (new reference)
 * is the output item (shell_call_output / apply_patch_call_output, with
 * call_id), also when the commands failed or the patch did not apply. t may be
 * NULL. Returns -EINVAL for an item without type or call_id (nothing can
 * answer it), BRIDLE_E_SANDBOX for a dead sandbox (*ret_item untouched). */
int bridle__tools_native(bridle__tools *t, const bridle__tool_env *env, const json_t *call_item,
                         json_t **ret_item, bridle_error *err);
void bridle__tool_result_clear(bridle__tool_result *res);

/* Cap text for the model: head and tail kept. Returns malloc'd text. */
char *bridle__tools_cap(const char *s, size_t len, size_t cap);

/*
 * JSON Schema subset used for arguments: type (string, integer, number,
 * boolean, object, array, null, or a list of them), properties, required,
 * additionalProperties (boolean), enum, items, minimum, maximum, minLength,
 * maxLength, minItems, maxItems, description (ignored). Unknown keywords are
 * ignored. On failure err says where: "arguments.path: expected string".
 */
int bridle__schema_check(const json_t *schema, const json_t *value, bridle_error *err);
/* Check that a schema uses only what bridle__schema_check understands. */
int bridle__schema_valid(const json_t *schema, bridle_error *err);

/*
 * Instructions for an agent: its own text, then AGENTS.md files in the
 * workspace from the root down to workdir (AGENTS.override.md instead of
 * AGENTS.md where both exist; 32 KiB in all, cut with a note), then the index
 * of skills (.agents/skills/ * /SKILL.md front matter: name, description).
 * Read through the sandbox. *ret is malloc'd.
 */
int bridle__instructions_build(const bridle__tool_env *env, const char *agent_text, const char *workdir,
                               char **ret, bridle_error *err);
