/* SPDX-License-Identifier: MIT */
/*
 * Native Responses items: shell_call (each of action.commands run with
 * /bin/bash -c in the workspace) -> shell_call_output, and apply_patch_call
 * (an operation turned into an apply_patch text) -> apply_patch_call_output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridle/sandbox.h"
#include "tools/internal.h"
#include "util/cleanup.h"
#include "util/error.h"

#define SHELL_DEFAULT_TIMEOUT_MS 120000
#define SHELL_MAX_TIMEOUT_MS     600000
#define SHELL_MAX_COMMANDS       64

static json_t *capped_string(const char *s, size_t len, size_t cap)
{
        _cleanup_free_ char *c = bridle__tools_cap(s ? s : "", s ? len : 0, cap);
        return c ? json_string(c) : NULL;
}

/* One {stdout, stderr, outcome} entry. */
static json_t *shell_entry(const char *out, size_t out_len, const char *err_text, size_t err_len,
                           bool timeout, int code, size_t cap)
{
        json_t *outcome = timeout ? json_pack("{s:s}", "type", "timeout")
                                  : json_pack("{s:s,s:i}", "type", "exit", "exit_code", code);
        return json_pack("{s:o,s:o,s:o}", "stdout", capped_string(out, out_len, cap), "stderr",
                         capped_string(err_text, err_len, cap), "outcome", outcome);
}

static json_t *shell_error_entry(const char *msg, size_t cap)
{
        char text[600];
        int n = snprintf(text, sizeof(text), "error: %s\n", msg);
        return shell_entry("", 0, text, (size_t)n, false, 1, cap);
}

/* Run one command; a failure the model should see becomes an entry, only a
 * dead sandbox is returned. */
static int shell_one(const char *id, const char *cmd, uint64_t timeout_ms, size_t cap, json_t **ret,
                     bridle_error *err)
{
        const char *argv[] = {"/bin/bash", "-c", cmd, NULL};
        bridle_exec_opts o = {
                .argv = argv, .timeout_ms = timeout_ms, .capture = true, .max_output = 4 * cap};
        bridle_run_result res;
        bridle_error e = {0};
        int r = bridle_sandbox_exec(id, &o, &res, &e);
        if (r < 0) {
                r = bridle__tools_sbfail(id, r, &e);
                if (r == BRIDLE_E_SANDBOX || r == -ENOMEM) {
                        *err = e;
                        return r;
                }
                *ret = shell_error_entry(e.msg, cap);
                return *ret ? 0 : -ENOMEM;
        }
        int code = res.exit_code >= 0 ? res.exit_code : res.status;
        *ret = shell_entry(res.stdout_buf, res.stdout_len, res.stderr_buf, res.stderr_len,
                           res.timed_out, code, cap);
        bridle_run_result_release(&res);
        return *ret ? 0 : -ENOMEM;
}

static size_t shell_cap(const json_t *action, size_t cap)
{
        const json_t *m = json_object_get(action, "max_output_length");
        if (json_is_integer(m) && json_integer_value(m) > 0 &&
            (uint64_t)json_integer_value(m) < cap)
                return (size_t)json_integer_value(m);
        return cap;
}

static int run_shell(const bridle__tool_env *env, const json_t *call, json_t *output,
                     bridle_error *err)
{
        const json_t *action = json_object_get(call, "action");
        const json_t *cmds = json_object_get(action, "commands");
        size_t cap = shell_cap(action, bridle__tools_cap_of(env));
        if (!json_is_array(cmds) || !json_array_size(cmds) ||
            json_array_size(cmds) > SHELL_MAX_COMMANDS) {
                char msg[128];
                (void)snprintf(msg, sizeof(msg),
                               "action.commands: expected a list of 1 to %d commands",
                               SHELL_MAX_COMMANDS);
                return json_array_append_new(output, shell_error_entry(msg, cap)) < 0 ? -ENOMEM : 0;
        }
        const json_t *tm = json_object_get(action, "timeout_ms");
        uint64_t timeout = SHELL_DEFAULT_TIMEOUT_MS;
        if (json_is_integer(tm) && json_integer_value(tm) > 0)
                timeout = json_integer_value(tm) > SHELL_MAX_TIMEOUT_MS
                                  ? SHELL_MAX_TIMEOUT_MS
                                  : (uint64_t)json_integer_value(tm);
        if (env->timeout_ms && env->timeout_ms < timeout)
                timeout = env->timeout_ms; /* a policy rule's limit */
        const char *id = NULL;
        int r = bridle__tools_sandbox(env, &id, err);
        if (r < 0)
                return r;
        size_t i;
        const json_t *c;
        json_array_foreach(cmds, i, c)
        {
                json_t *entry = NULL;
                if (!json_is_string(c) || strlen(json_string_value(c)) != json_string_length(c)) {
                        char msg[64];
                        (void)snprintf(msg, sizeof(msg), "action.commands[%zu]: expected a string",
                                       i);
                        entry = shell_error_entry(msg, cap);
                } else if ((r = shell_one(id, json_string_value(c), timeout, cap, &entry, err)) <
                           0) {
                        return r;
                }
                if (json_array_append_new(output, entry) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int native_shell(const bridle__tool_env *env, const json_t *call, const char *call_id,
                        json_t **ret, bridle_error *err)
{
        _tools_json_ json_t *output = json_array();
        if (!output)
                return bridle__err(err, -ENOMEM, "shell_call_output");
        int r = run_shell(env, call, output, err);
        if (r < 0)
                return r == -ENOMEM ? bridle__err(err, r, "shell_call_output") : r;
        json_t *item = json_pack("{s:s,s:s,s:O,s:s}", "type", "shell_call_output", "call_id",
                                 call_id, "output", output, "status", "completed");
        const json_t *m = json_object_get(json_object_get(call, "action"), "max_output_length");
        if (item && json_is_integer(m) &&
            json_object_set(item, "max_output_length", (json_t *)m) < 0)
                item = (json_decref(item), NULL);
        if (!item)
                return bridle__err(err, -ENOMEM, "shell_call_output");
        *ret = item;
        return 0;
}

/* The lines of a create_file diff, each with its '+' (added to every line if
 * the model left them out). */
static void add_lines(bridle__tbuf *b, const char *diff)
{
        bool all_plus = true;
        for (const char *s = diff; *s;) {
                const char *nl = strchr(s, '\n');
                if (*s != '+' && *s != '\n')
                        all_plus = false;
                s = nl ? nl + 1 : s + strlen(s);
        }
        for (const char *s = diff; *s;) {
                const char *nl = strchr(s, '\n');
                size_t l = nl ? (size_t)(nl - s) : strlen(s);
                if (!all_plus || l == 0)
                        bridle__tbuf_add(b, "+", 1);
                bridle__tbuf_add(b, s, l);
                bridle__tbuf_add(b, "\n", 1);
                s += l + (nl ? 1 : 0);
        }
}

/* operation -> apply_patch text, or a reason it cannot be one. */
static char *patch_text(const json_t *op, char *why, size_t size)
{
        const char *type = json_string_value(json_object_get(op, "type"));
        const char *path = json_string_value(json_object_get(op, "path"));
        const char *diff = json_string_value(json_object_get(op, "diff"));
        if (!type || !path || !*path) {
                (void)snprintf(why, size, "operation: expected {type, path, diff}");
                return NULL;
        }
        bridle__tbuf b;
        bridle__tbuf_init(&b, 0);
        bridle__tbuf_puts(&b, "*** Begin Patch\n");
        if (!strcmp(type, "create_file")) {
                bridle__tbuf_printf(&b, "*** Add File: %s\n", path);
                add_lines(&b, diff ? diff : "");
        } else if (!strcmp(type, "update_file") && diff) {
                bridle__tbuf_printf(&b, "*** Update File: %s\n", path);
                bridle__tbuf_puts(&b, diff);
                if (*diff && diff[strlen(diff) - 1] != '\n')
                        bridle__tbuf_add(&b, "\n", 1);
        } else if (!strcmp(type, "delete_file")) {
                bridle__tbuf_printf(&b, "*** Delete File: %s\n", path);
        } else {
                bridle__tbuf_release(&b);
                (void)snprintf(
                        why, size,
                        "operation.type: '%.40s' is not create_file, update_file or delete_file%s",
                        type, !strcmp(type, "update_file") ? " (or update_file has no diff)" : "");
                return NULL;
        }
        bridle__tbuf_puts(&b, "*** End Patch\n");
        char *s = bridle__tbuf_take(&b);
        if (!s)
                (void)snprintf(why, size, "out of memory");
        return s;
}

static int native_patch(const bridle__tool_env *env, const json_t *call, const char *call_id,
                        json_t **ret, bridle_error *err)
{
        char why[sizeof(err->msg)] = "";
        _cleanup_free_ char *text =
                patch_text(json_object_get(call, "operation"), why, sizeof(why));
        _cleanup_free_ char *summary = NULL;
        bool ok = false;
        if (text) {
                const char *id = NULL;
                int r = bridle__tools_sandbox(env, &id, err);
                if (r < 0)
                        return r;
                bridle_error e = {0};
                r = bridle_sandbox_patch(id, text, strlen(text), &summary, &e);
                if (r < 0 && (r = bridle__tools_sbfail(id, r, &e)) == BRIDLE_E_SANDBOX) {
                        *err = e;
                        return r;
                }
                ok = r >= 0;
                if (!ok)
                        (void)snprintf(why, sizeof(why), "%s", e.msg);
        }
        bridle__tbuf b;
        bridle__tbuf_init(&b, 0);
        if (ok)
                bridle__tbuf_printf(&b, "Done:\n%s", summary ? summary : "");
        else
                bridle__tbuf_printf(&b, "error: %s", why);
        _cleanup_free_ char *out = bridle__tbuf_take(&b);
        json_t *msg = out ? capped_string(out, strlen(out), bridle__tools_cap_of(env)) : NULL;
        json_t *item =
                msg ? json_pack("{s:s,s:s,s:s,s:o}", "type", "apply_patch_call_output", "call_id",
                                call_id, "status", ok ? "completed" : "failed", "output", msg)
                    : NULL;
        if (!item)
                return bridle__err(err, -ENOMEM, "apply_patch_call_output");
        *ret = item;
        return 0;
}

int bridle__tools_native(bridle__tools *t, const bridle__tool_env *env, const json_t *call_item,
                         json_t **ret_item, bridle_error *err)
{
        const char *type = json_string_value(json_object_get(call_item, "type"));
        const char *call_id = json_string_value(json_object_get(call_item, "call_id"));
        if (!type || !call_id || !ret_item)
                return bridle__err(err, -EINVAL, "a native call item needs a type and a call_id");
        if (!strcmp(type, "shell_call"))
                return native_shell(env, call_item, call_id, ret_item, err);
        if (!strcmp(type, "apply_patch_call"))
                return native_patch(env, call_item, call_id, ret_item, err);
        return bridle__err(err, -EINVAL,
                           "'%.64s' is not a native call item (shell_call, apply_patch_call)",
                           type);
}
