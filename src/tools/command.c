/* SPDX-License-Identifier: MIT */
/*
 * Command tools: {name, description, parameters, command: [argv], timeout_ms}
 * from agent files. bridle_sandbox_exec() has no stdin, so the JSON arguments
 * are written to a file under /tmp in the sandbox (bridle_sandbox_write), and
 * the command runs as
 *   /bin/sh -c 'exec 3<"$1" && rm -f "$1" && shift && exec "$@" <&3 3<&-' sh FILE ARGV...
 * so it reads them on stdin and the file is gone before it starts. They are
 * also in $BRIDLE_TOOL_ARGS (when under 64 KiB) and the tool's name in
 * $BRIDLE_TOOL_NAME.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "bridle/sandbox.h"
#include "tools/internal.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

#define COMMAND_MAX_ARGV           256
#define COMMAND_DEFAULT_TIMEOUT_MS 120000u
#define COMMAND_MAX_TIMEOUT_MS     3600000u
#define ENV_ARGS_MAX               (64u << 10)

static const char *const def_keys[] = {"name",    "description", "parameters",
                                       "command", "timeout_ms",  NULL};

bridle__command_tool *bridle__command_free(bridle__command_tool *c)
{
        if (!c)
                return NULL;
        for (size_t i = 0; c->argv && c->argv[i]; i++)
                free(c->argv[i]);
        free(c->argv);
        free(c->name);
        free(c);
        return NULL;
}

static int check_keys(const json_t *def, bridle_error *err)
{
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)def, key, v)
        {
                bool known = false;
                for (size_t i = 0; def_keys[i]; i++)
                        known = known || !strcmp(def_keys[i], key);
                if (!known)
                        return bridle__err(
                                err, BRIDLE_E_INVALID,
                                "%.64s: unknown key (name, description, parameters, command, "
                                "timeout_ms)",
                                key);
        }
        return 0;
}

static int parse_argv(const json_t *cmd, bridle__command_tool *c, bridle_error *err)
{
        size_t n = json_array_size(cmd);
        if (!json_is_array(cmd) || n == 0)
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "command: expected a non-empty list of strings");
        if (n > COMMAND_MAX_ARGV)
                return bridle__err(err, BRIDLE_E_LIMIT, "command: more than %d words",
                                   COMMAND_MAX_ARGV);
        if (!(c->argv = bridle__calloc(n + 1, sizeof(char *))))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const json_t *w = json_array_get(cmd, i);
                if (!json_is_string(w) || (i == 0 && !json_string_length(w)))
                        return bridle__err(err, BRIDLE_E_INVALID,
                                           "command[%zu]: expected a%s string", i,
                                           i == 0 ? " non-empty" : "");
                if (strlen(json_string_value(w)) != json_string_length(w))
                        return bridle__err(err, BRIDLE_E_INVALID, "command[%zu]: holds a NUL byte",
                                           i);
                if (!(c->argv[i] = bridle__strdup(json_string_value(w))))
                        return -ENOMEM;
        }
        return 0;
}

static int parse_timeout(const json_t *def, bridle__command_tool *c, bridle_error *err)
{
        const json_t *t = json_object_get(def, "timeout_ms");
        c->timeout_ms = COMMAND_DEFAULT_TIMEOUT_MS;
        if (!t || json_is_null(t))
                return 0;
        if (!json_is_integer(t) || json_integer_value(t) <= 0 ||
            json_integer_value(t) > COMMAND_MAX_TIMEOUT_MS)
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "timeout_ms: expected an integer from 1 to %u",
                                   COMMAND_MAX_TIMEOUT_MS);
        c->timeout_ms = (uint64_t)json_integer_value(t);
        return 0;
}

int bridle__command_parse(const json_t *def, bridle__command_tool **ret, json_t **ret_params,
                          const char **ret_desc, bridle_error *err)
{
        if (!json_is_object(def))
                return bridle__err(err, BRIDLE_E_INVALID, "a command tool must be a mapping");
        int r = check_keys(def, err);
        if (r < 0)
                return r;
        const json_t *name = json_object_get(def, "name"),
                     *desc = json_object_get(def, "description");
        const json_t *params = json_object_get(def, "parameters");
        if (!json_is_string(name))
                return bridle__err(err, BRIDLE_E_INVALID, "name: expected a string");
        if (desc && !json_is_string(desc))
                return bridle__err(err, BRIDLE_E_INVALID, "description: expected a string");
        if (params && (r = bridle__schema_valid(params, err)) < 0)
                return r;
        bridle__command_tool *c = bridle__calloc(1, sizeof(*c));
        if (!c)
                return bridle__err(err, -ENOMEM, "command tool");
        if (!(c->name = bridle__strdup(json_string_value(name))))
                r = -ENOMEM;
        if (r >= 0)
                r = parse_argv(json_object_get(def, "command"), c, err);
        if (r >= 0)
                r = parse_timeout(def, c, err);
        json_t *p = NULL;
        if (r >= 0 && !(p = params ? json_deep_copy(params)
                                   : json_pack("{s:s,s:{},s:b}", "type", "object", "properties",
                                               "additionalProperties", 0)))
                r = -ENOMEM;
        if (r < 0) {
                bridle__command_free(c);
                return r == -ENOMEM ? bridle__err(err, r, "command tool") : r;
        }
        *ret = c;
        *ret_params = p;
        *ret_desc = desc ? json_string_value(desc) : "";
        return 0;
}

static int render(const bridle_run_result *res, const bridle__command_tool *c, char **ret_output)
{
        bridle__tbuf b;
        bridle__tbuf_init(&b, 0);
        bridle__tbuf_add(&b, res->stdout_buf ? res->stdout_buf : "", res->stdout_len);
        if (res->stderr_len) {
                if (b.len && b.p[b.len - 1] != '\n')
                        bridle__tbuf_add(&b, "\n", 1);
                bridle__tbuf_add(&b, res->stderr_buf, res->stderr_len);
        }
        if (b.len && b.p[b.len - 1] != '\n' && (res->timed_out || res->status != 0))
                bridle__tbuf_add(&b, "\n", 1);
        if (res->timed_out)
                bridle__tbuf_printf(&b, "[timed out after %llu ms]",
                                    (unsigned long long)c->timeout_ms);
        else if (res->exec_error)
                bridle__tbuf_printf(&b, "[could not start: %s]", res->exec_error);
        else if (res->status != 0)
                bridle__tbuf_printf(&b, "[exit status %d]", res->status);
        char *s = bridle__tbuf_take(&b);
        if (!s)
                return -ENOMEM;
        *ret_output = s;
        return res->status == 0 && !res->timed_out ? 0 : 1;
}

static int args_file(char path[64])
{
        unsigned char rnd[8];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
                return -errno;
        int l = snprintf(path, 64, "/tmp/.bridle-tool-args-");
        for (size_t i = 0; i < sizeof(rnd); i++)
                l += snprintf(path + l, (size_t)(64 - l), "%02x", rnd[i]);
        return 0;
}

static int run_with_args(const char *id, const bridle__command_tool *c, const char *json,
                         const char *file, bridle_run_result *res, bridle_error *err)
{
        size_t n = 0;
        while (c->argv[n])
                n++;
        _cleanup_free_ const char **argv = bridle__calloc(n + 6, sizeof(char *));
        _cleanup_free_ char *env_args = NULL, *env_name = NULL;
        if (!argv || asprintf(&env_name, "BRIDLE_TOOL_NAME=%s", c->name) < 0)
                return bridle__err(err, -ENOMEM, "command tool");
        if (strlen(json) < ENV_ARGS_MAX && asprintf(&env_args, "BRIDLE_TOOL_ARGS=%s", json) < 0) {
                env_args = NULL;
                return bridle__err(err, -ENOMEM, "command tool");
        }
        argv[0] = "/bin/sh";
        argv[1] = "-c";
        argv[2] = "exec 3<\"$1\" && rm -f \"$1\" && shift && exec \"$@\" <&3 3<&-";
        argv[3] = "sh";
        argv[4] = file;
        for (size_t i = 0; i < n; i++)
                argv[5 + i] = c->argv[i];
        const char *env[] = {env_name, env_args, NULL};
        bridle_exec_opts o = {
                .argv = argv, .env = env, .timeout_ms = c->timeout_ms, .capture = true};
        return bridle_sandbox_exec(id, &o, res, err);
}

int bridle__command_run(void *ud, const bridle__tool_env *env, const json_t *args,
                        char **ret_output, bridle_error *err)
{
        const bridle__command_tool *c = ud;
        const char *id = NULL;
        int r = bridle__tools_sandbox(env, &id, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *json = json_dumps(args, JSON_COMPACT);
        if (!json)
                return bridle__err(err, -ENOMEM, "command tool '%s'", c->name);
        char file[64];
        if ((r = args_file(file)) < 0)
                return bridle__err(err, r, "command tool '%s': random name", c->name);
        if ((r = bridle_sandbox_write(id, file, json, strlen(json), err)) < 0)
                return bridle__tools_sbfail(id, r, err);
        bridle_run_result res = { 0 };
        if ((r = run_with_args(id, c, json, file, &res, err)) < 0)
                return bridle__tools_sbfail(id, r, err);
        r = render(&res, c, ret_output);
        bridle_run_result_release(&res);
        return r;
}
