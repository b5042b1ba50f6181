/* SPDX-License-Identifier: MIT */
/*
 * The registry: built-ins (their JSON Schemas are written here), command
 * tools, C function tools, native tools; tool definitions for the model; and
 * one call from JSON text to a capped result.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/internal.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/yaml.h"

/* clang-format off */
static const bridle__builtin builtins[] = {
        { "exec_command",
          "Run a shell command (bash -lc) in the sandbox's workspace. Returns its output once it exits, or "
          "after yield_time_ms with a session ID if it is still running: continue with write_stdin.",
          "{\"type\":\"object\",\"properties\":{"
          "\"cmd\":{\"type\":\"string\",\"minLength\":1,\"description\":\"The shell command to run.\"},"
          "\"workdir\":{\"type\":\"string\",\"description\":\"Working directory, relative to the workspace (default: the workspace).\"},"
          "\"tty\":{\"type\":\"boolean\",\"description\":\"Run in a terminal (for interactive programs). Default false.\"},"
          "\"yield_time_ms\":{\"type\":\"integer\",\"minimum\":0,\"description\":\"How long to wait for output before returning (default 10000, at most 300000).\"},"
          "\"max_output_tokens\":{\"type\":\"integer\",\"minimum\":0,\"description\":\"Cap on the output returned, in tokens of about 4 bytes (default 10000).\"}"
          "},\"required\":[\"cmd\"],\"additionalProperties\":false}",
          false, bridle__tool_exec_command },
        { "write_stdin",
          "Write characters to a running exec_command session and return its new output.",
          "{\"type\":\"object\",\"properties\":{"
          "\"session_id\":{\"type\":\"integer\",\"minimum\":0,\"description\":\"The session ID from exec_command.\"},"
          "\"chars\":{\"type\":\"string\",\"description\":\"Characters to write (may be empty: only read). Use \\\\u0003 for Ctrl-C in a tty.\"},"
          "\"yield_time_ms\":{\"type\":\"integer\",\"minimum\":0,\"description\":\"How long to wait for output (default 250).\"},"
          "\"max_output_tokens\":{\"type\":\"integer\",\"minimum\":0,\"description\":\"Cap on the output returned, in tokens of about 4 bytes.\"}"
          "},\"required\":[\"session_id\"],\"additionalProperties\":false}",
          false, bridle__tool_write_stdin },
        { "read_file",
          "Read a text file from the workspace. offset is the first line (1-based), limit the number of lines (default 2000).",
          "{\"type\":\"object\",\"properties\":{"
          "\"path\":{\"type\":\"string\",\"minLength\":1,\"description\":\"The file, relative to the workspace.\"},"
          "\"offset\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"First line to return, 1-based (default 1).\"},"
          "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"Number of lines to return (default 2000).\"}"
          "},\"required\":[\"path\"],\"additionalProperties\":false}",
          true, bridle__tool_read_file },
        { "write_file",
          "Create or replace a file in the workspace with the given content (parent directories are created).",
          "{\"type\":\"object\",\"properties\":{"
          "\"path\":{\"type\":\"string\",\"minLength\":1,\"description\":\"The file, relative to the workspace.\"},"
          "\"content\":{\"type\":\"string\",\"description\":\"The file's complete new content.\"}"
          "},\"required\":[\"path\",\"content\"],\"additionalProperties\":false}",
          false, bridle__tool_write_file },
        { "list_dir",
          "List a directory of the workspace as an indented tree: directories end in '/', symlinks in '@', files show their size.",
          "{\"type\":\"object\",\"properties\":{"
          "\"path\":{\"type\":\"string\",\"description\":\"The directory, relative to the workspace (default: the workspace).\"},"
          "\"depth\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":5,\"description\":\"Levels to descend (default 1).\"}"
          "},\"additionalProperties\":false}",
          true, bridle__tool_list_dir },
        { "search",
          "Search files for lines matching a POSIX extended regular expression. Returns path:line:text lines.",
          "{\"type\":\"object\",\"properties\":{"
          "\"pattern\":{\"type\":\"string\",\"minLength\":1,\"description\":\"A POSIX extended regular expression.\"},"
          "\"path\":{\"type\":\"string\",\"description\":\"File or directory to search, relative to the workspace (default: the workspace).\"},"
          "\"glob\":{\"type\":\"string\",\"description\":\"Only files whose name (or, if the glob has a '/', whose path) matches, e.g. '*.c'.\"}"
          "},\"required\":[\"pattern\"],\"additionalProperties\":false}",
          true, bridle__tool_search },
        { "apply_patch",
          "Edit files with a patch: '*** Begin Patch', then '*** Add File: path' (+ lines), '*** Delete File: path' or "
          "'*** Update File: path' (optional '*** Move to: path', then '@@' chunks of ' ', '-' and '+' lines), then '*** End Patch'.",
          "{\"type\":\"object\",\"properties\":{"
          "\"patch\":{\"type\":\"string\",\"minLength\":1,\"description\":\"The whole patch text.\"}"
          "},\"required\":[\"patch\"],\"additionalProperties\":false}",
          false, bridle__tool_apply_patch },
        { "load_skill",
          "Read a skill's instructions (.agents/skills/NAME/SKILL.md) by its name from the skills list.",
          "{\"type\":\"object\",\"properties\":{"
          "\"name\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64,\"description\":\"The skill's name.\"}"
          "},\"required\":[\"name\"],\"additionalProperties\":false}",
          true, bridle__tool_load_skill },
};
/* clang-format on */

const bridle__builtin *bridle__builtin_find(const char *name)
{
        for (size_t i = 0; name && i < ELEMENTSOF(builtins); i++)
                if (!strcmp(builtins[i].name, name))
                        return &builtins[i];
        return NULL;
}

enum tool_kind { KIND_BUILTIN, KIND_COMMAND, KIND_FN };

struct tool {
        char *name;
        char *description;
        json_t *params;
        bool read_only;
        enum tool_kind kind;
        bridle__tool_fn fn;
        void *ud;
        bridle__command_tool *cmd; /* KIND_COMMAND: owned, also ud */
};

struct bridle__tools {
        struct tool v[BRIDLE__TOOLS_MAX];
        size_t n;
        bool native_shell, native_patch;
};

int bridle__tools_new(bridle__tools **ret, bridle_error *err)
{
        bridle__tools *t = bridle__calloc(1, sizeof(*t));
        if (!t)
                return bridle__err(err, -ENOMEM, "tools");
        *ret = t;
        return 0;
}

size_t bridle__tools_count(const bridle__tools *t)
{
        return t ? t->n : 0;
}

void bridle__tools_truncate(bridle__tools *t, size_t n)
{
        while (t && t->n > n) {
                struct tool *x = &t->v[--t->n];
                free(x->name);
                free(x->description);
                json_decref(x->params);
                bridle__command_free(x->cmd);
                memset(x, 0, sizeof(*x));
        }
}

bridle__tools *bridle__tools_free(bridle__tools *t)
{
        if (!t)
                return NULL;
        bridle__tools_truncate(t, 0);
        free(t);
        return NULL;
}

static struct tool *find(const bridle__tools *t, const char *name)
{
        for (size_t i = 0; t && name && i < t->n; i++)
                if (!strcmp(t->v[i].name, name))
                        return (struct tool *)&t->v[i];
        return NULL;
}

bool bridle__tools_has(const bridle__tools *t, const char *name)
{
        return find(t, name) != NULL;
}

bool bridle__tools_read_only(const bridle__tools *t, const char *name)
{
        const struct tool *x = find(t, name);
        return x && x->read_only;
}

static bool name_ok(const char *name)
{
        size_t n = name ? strlen(name) : 0;
        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
                            name[i]))
                        return false;
        return true;
}

/* Register a tool; takes params (a new reference) in all cases. */
static int add(bridle__tools *t, const char *name, const char *description, json_t *params,
               bool read_only, enum tool_kind kind, bridle__tool_fn fn, void *ud, bridle_error *err)
{
        _tools_json_ json_t *p = params;
        if (!t || !name_ok(name))
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "tool name '%.80s' is not [A-Za-z0-9_-]{1,64}",
                                   name ? name : "");
        if (find(t, name))
                return bridle__err(err, BRIDLE_E_INVALID, "tool '%s' is defined twice", name);
        if (t->n == BRIDLE__TOOLS_MAX)
                return bridle__err(err, BRIDLE_E_LIMIT, "more than %d tools", BRIDLE__TOOLS_MAX);
        if (!p)
                return bridle__err(err, -ENOMEM, "tool '%s'", name);
        struct tool *x = &t->v[t->n];
        memset(x, 0, sizeof(*x));
        x->name = bridle__strdup(name);
        x->description = bridle__strdup(description ? description : "");
        if (!x->name || !x->description) {
                free(x->name);
                free(x->description);
                return bridle__err(err, -ENOMEM, "tool '%s'", name);
        }
        x->params = TAKE_PTR(p);
        x->read_only = read_only;
        x->kind = kind;
        x->fn = fn;
        x->ud = ud;
        t->n++;
        return 0;
}

int bridle__tools_add_builtin(bridle__tools *t, const char *name, bridle_error *err)
{
        const bridle__builtin *b = bridle__builtin_find(name);
        if (!b)
                return bridle__err(err, BRIDLE_E_INVALID, "no built-in tool '%.80s'",
                                   name ? name : "");
        json_error_t je;
        json_t *p = json_loads(b->parameters, 0, &je);
        if (!p)
                return bridle__err(err, -ENOMEM, "built-in '%s': %s", name, je.text);
        return add(t, b->name, b->description, p, b->read_only, KIND_BUILTIN, b->fn, NULL, err);
}

int bridle__tools_add_native(bridle__tools *t, const char *name, bridle_error *err)
{
        if (t && name && !strcmp(name, "shell"))
                t->native_shell = true;
        else if (t && name && !strcmp(name, "apply_patch"))
                t->native_patch = true;
        else
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "no native tool '%.80s' (shell, apply_patch)", name ? name : "");
        return 0;
}

int bridle__tools_add_command(bridle__tools *t, const json_t *def, bridle_error *err)
{
        bridle__command_tool *c = NULL;
        json_t *params = NULL;
        const char *desc = NULL;
        int r = bridle__command_parse(def, &c, &params, &desc, err);
        if (r < 0)
                return r;
        if ((r = add(t, c->name, desc, params, false, KIND_COMMAND, bridle__command_run, c, err)) <
            0) {
                bridle__command_free(c);
                return r;
        }
        t->v[t->n - 1].cmd = c;
        return 0;
}

int bridle__tools_add_fn(bridle__tools *t, const char *name, const char *description,
                         const json_t *parameters, bool read_only, bridle__tool_fn fn, void *ud,
                         bridle_error *err)
{
        if (!fn)
                return bridle__err(err, -EINVAL, "tool '%.80s': no function", name ? name : "");
        int r = bridle__schema_valid(parameters, err);
        if (r < 0)
                return bridle__err_prefix(err, "tool '%.80s'", name ? name : "");
        return add(t, name, description, json_deep_copy(parameters), read_only, KIND_FN, fn, ud,
                   err);
}

json_t *bridle__tools_defs(const bridle__tools *t)
{
        _tools_json_ json_t *a = json_array();
        if (!a || !t)
                return NULL;
        for (size_t i = 0; i < t->n; i++) {
                json_t *d = json_pack("{s:s,s:s,s:s,s:O,s:b}", "type", "function", "name",
                                      t->v[i].name, "description", t->v[i].description,
                                      "parameters", t->v[i].params, "strict", 0);
                if (json_array_append_new(a, d) < 0)
                        return NULL;
        }
        if (t->native_shell && json_array_append_new(a, json_pack("{s:s}", "type", "shell")) < 0)
                return NULL;
        if (t->native_patch &&
            json_array_append_new(a, json_pack("{s:s}", "type", "apply_patch")) < 0)
                return NULL;
        return TAKE_PTR(a);
}

void bridle__tool_result_clear(bridle__tool_result *res)
{
        if (!res)
                return;
        free(res->output);
        memset(res, 0, sizeof(*res));
}

/* Fill res with capped text; -ENOMEM if that fails. */
static int set_output(bridle__tool_result *res, const bridle__tool_env *env, bool ok,
                      const char *prefix, const char *text)
{
        bridle__tbuf b;
        bridle__tbuf_init(&b, 0);
        bridle__tbuf_puts(&b, prefix);
        bridle__tbuf_puts(&b, text ? text : "");
        _cleanup_free_ char *s = bridle__tbuf_take(&b);
        if (!s)
                return -ENOMEM;
        res->output = bridle__tools_cap(s, strlen(s), bridle__tools_cap_of(env));
        res->ok = ok;
        return res->output ? 0 : -ENOMEM;
}

static int unknown_tool(const bridle__tools *t, const bridle__tool_env *env, const char *name,
                        bridle__tool_result *res)
{
        bridle__tbuf b;
        bridle__tbuf_init(&b, 4096);
        char q[100];
        bridle__tbuf_printf(
                &b, "unknown tool '%s'; the tools are:",
                bridle__doc_quote(name ? name : "", name ? strlen(name) : 0, q, sizeof(q)));
        for (size_t i = 0; t && i < t->n; i++)
                bridle__tbuf_printf(&b, "%s %s", i ? "," : "", t->v[i].name);
        _cleanup_free_ char *s = bridle__tbuf_take(&b);
        return s ? set_output(res, env, false, "error: ", s) : -ENOMEM;
}

/* Parse the model's argument text into an object, or explain why not. */
static int parse_args(const char *arguments, json_t **ret, char *why, size_t size)
{
        const char *text = arguments && *arguments ? arguments : "{}";
        size_t len = strlen(text);
        if (len > BRIDLE__TOOLS_MAX_ARGS) {
                (void)snprintf(why, size, "arguments: %zu bytes is more than the limit of %u", len,
                               BRIDLE__TOOLS_MAX_ARGS);
                return BRIDLE_E_LIMIT;
        }
        json_error_t je;
        json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
        if (!v) {
                (void)snprintf(why, size, "arguments are not valid JSON: %s (line %d, column %d)",
                               je.text, je.line, je.column);
                return BRIDLE_E_INVALID;
        }
        if (!json_is_object(v)) {
                (void)snprintf(why, size, "arguments: expected a JSON object, got %s",
                               json_is_array(v) ? "an array" : "a scalar");
                json_decref(v);
                return BRIDLE_E_INVALID;
        }
        *ret = v;
        return 0;
}

int bridle__tools_call(bridle__tools *t, const bridle__tool_env *env, const char *name,
                       const char *arguments, bridle__tool_result *res, bridle_error *err)
{
        if (!res)
                return bridle__err(err, -EINVAL, "tools_call: no result");
        memset(res, 0, sizeof(*res));
        struct tool *x = find(t, name);
        if (!x) {
                int r = unknown_tool(t, env, name, res);
                return r < 0 ? bridle__err(err, r, "tool result") : 0;
        }
        _tools_json_ json_t *args = NULL;
        char why[512];
        int r = parse_args(arguments, &args, why, sizeof(why));
        bridle_error e = {0};
        if (r == 0 && (r = bridle__schema_check(x->params, args, &e)) < 0)
                (void)snprintf(why, sizeof(why), "%s", e.msg);
        if (r < 0) {
                r = set_output(res, env, false, "error: ", why);
                return r < 0 ? bridle__err(err, r, "tool result") : 0;
        }
        _cleanup_free_ char *out = NULL;
        bridle_error_clear(&e);
        r = x->fn(x->ud, env, args, &out, &e);
        if (r == -ENOMEM)
                return bridle__err(err, r, "tool '%s': out of memory", x->name);
        if (r == BRIDLE_E_SANDBOX && x->kind != KIND_FN) {
                res->sandbox_failed = true;
                if (set_output(res, env, false, "error: ", e.msg) < 0)
                        return bridle__err(err, -ENOMEM, "tool result");
                return bridle__err(err, BRIDLE_E_SANDBOX, "tool '%s': %s", x->name, e.msg);
        }
        if (r < 0)
                r = set_output(res, env, false, "error: ", e.msg[0] ? e.msg : bridle_strerror(r));
        else
                r = set_output(res, env, r == 0, "", out);
        return r < 0 ? bridle__err(err, r, "tool result") : 0;
}
