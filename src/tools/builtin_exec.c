/* SPDX-License-Identifier: MIT */
/*
 * exec_command and write_stdin: sessions in the sandbox
 * (bridle_sandbox_exec_command / bridle_sandbox_write_stdin). The text for the
 * model reads:
 *   Wall time: 0.0123 seconds
 *   Process exited with code 0          (or: Process running with session ID 3)
 *   Output:
 *   ...
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bridle/sandbox.h"
#include "tools/internal.h"
#include "util/error.h"

#define YIELD_MAX_MS 300000

static int render(const bridle_session_result *r, char **ret_output)
{
        bridle__tbuf b;
        bridle__tbuf_init(&b, 0);
        bridle__tbuf_printf(&b, "Wall time: %.4f seconds\n", (double)r->wall_ms / 1000.0);
        if (r->exited)
                bridle__tbuf_printf(&b, "Process exited with code %d\n", r->status);
        else
                bridle__tbuf_printf(&b, "Process running with session ID %d\n", r->session_id);
        if (r->output_truncated)
                bridle__tbuf_puts(
                        &b, "Output was cut in the middle (raise max_output_tokens for more)\n");
        bridle__tbuf_puts(&b, "Output:\n");
        bridle__tbuf_add(&b, r->output ? r->output : "", r->output ? r->output_len : 0);
        char *s = bridle__tbuf_take(&b);
        if (!s)
                return -ENOMEM;
        *ret_output = s;
        return 0;
}

static uint64_t yield_arg(const json_t *args, uint64_t def)
{
        int64_t v = bridle__arg_int(args, "yield_time_ms", (int64_t)def);
        if (v <= 0)
                return def;
        return v > YIELD_MAX_MS ? YIELD_MAX_MS : (uint64_t)v;
}

static size_t tokens_arg(const json_t *args)
{
        int64_t v = bridle__arg_int(args, "max_output_tokens", 0);
        return v > 0 && v < (int64_t)(1 << 24) ? (size_t)v : v > 0 ? (size_t)1 << 24 : 0;
}

int bridle__tool_exec_command(void *ud, const bridle__tool_env *env, const json_t *args,
                              char **ret_output, bridle_error *err)
{
        const char *id = NULL;
        int r = bridle__tools_sandbox(env, &id, err);
        if (r < 0)
                return r;
        bridle_command_opts o = {
                .cmd = bridle__arg_str(args, "cmd", ""),
                .workdir = bridle__arg_str(args, "workdir", NULL),
                .tty = bridle__arg_bool(args, "tty", false),
                .yield_time_ms = yield_arg(args, 10000),
                .max_output_tokens = tokens_arg(args),
        };
        if (o.workdir && !*o.workdir)
                o.workdir = NULL;
        /* A policy rule's time limit: the command runs under coreutils' timeout. */
        char secs[32];
        const char *argv[] = { "timeout", "-k", "5", secs, "/bin/bash", "-lc", o.cmd, NULL };
        if (env->timeout_ms) {
                (void)snprintf(secs, sizeof(secs), "%.3f", (double)env->timeout_ms / 1000.0);
                o.argv = argv;
                o.cmd = NULL;
        }
        bridle_session_result res;
        r = bridle_sandbox_exec_command(id, &o, &res, err);
        if (r < 0)
                return bridle__tools_sbfail(id, r, err);
        r = render(&res, ret_output);
        bridle_session_result_release(&res);
        return r;
}

int bridle__tool_write_stdin(void *ud, const bridle__tool_env *env, const json_t *args,
                             char **ret_output, bridle_error *err)
{
        const char *id = NULL;
        int r = bridle__tools_sandbox(env, &id, err);
        if (r < 0)
                return r;
        int64_t sid = bridle__arg_int(args, "session_id", -1);
        if (sid < 0 || sid > 0x7fffffff)
                return bridle__err(err, BRIDLE_E_INVALID, "arguments.session_id: no session %lld",
                                   (long long)sid);
        const json_t *cv = json_object_get(args, "chars");
        const char *chars = json_is_string(cv) ? json_string_value(cv) : "";
        size_t len = json_is_string(cv) ? json_string_length(cv) : 0;
        bridle_session_result res;
        r = bridle_sandbox_write_stdin(id, (int)sid, chars, len, yield_arg(args, 250),
                                       tokens_arg(args), &res, err);
        if (r == -ENOENT && bridle__tools_sbfail(id, r, NULL) != BRIDLE_E_SANDBOX)
                return bridle__err(
                        err, r,
                        "arguments.session_id: no running session %lld (it may have exited and "
                        "been reported already)",
                        (long long)sid);
        if (r < 0)
                return bridle__tools_sbfail(id, r, err);
        r = render(&res, ret_output);
        bridle_session_result_release(&res);
        return r;
}
