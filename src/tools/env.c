/* SPDX-License-Identifier: MIT */
/* What tools run against: the sandbox (made lazily by the runner's callback),
 * telling a dead sandbox from a failed operation, and argument getters. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/living.h"
#include "tools/internal.h"
#include "util/error.h"

size_t bridle__tools_cap_of(const bridle__tool_env *env)
{
        return env && env->cap_bytes ? env->cap_bytes : BRIDLE__TOOLS_DEFAULT_CAP;
}

int bridle__tools_sandbox(const bridle__tool_env *env, const char **ret_id, bridle_error *err)
{
        if (!env || !env->sandbox)
                return bridle__err(err, BRIDLE_E_SANDBOX, "no sandbox for tools");
        bridle_error e = {0};
        const char *id = env->sandbox(env->ud, &e);
        if (!id)
                return bridle__err(err, BRIDLE_E_SANDBOX, "no sandbox: %s",
                                   e.msg[0] ? e.msg : "not made");
        *ret_id = id;
        return 0;
}

/* Whether the sandbox can still serve requests: known, its init alive, and
 * its socket taking connections. */
static bool sandbox_alive(const char *ref)
{
        char id[16];
        if (bridle__sandbox_resolve(ref, id, NULL) < 0)
                return false;
        int fd = bridle__sandbox_connect(id, NULL);
        if (fd < 0)
                return false;
        close(fd);
        return true;
}

/* The connection broke: what an init that was killed looks like. */
static bool conn_error(int r)
{
        return r == -ECONNRESET || r == -EPIPE || r == -ECONNREFUSED || r == -ECONNABORTED || r == -ENOTCONN;
}

#define DEATH_WAIT_MS 1000

int bridle__tools_sbfail(const char *id, int r, bridle_error *err)
{
        if (r >= 0 || r == -ENOMEM)
                return r;
        /* A killed init closes its socket a moment before it is seen to be
         * dead (its process, or the zygote's copy of the socket, lingers):
         * after a broken connection, wait a bounded time for the death. */
        bool alive = sandbox_alive(id);
        for (int i = 0; alive && conn_error(r) && i < DEATH_WAIT_MS / 5; i++) {
                (void)usleep(5000);
                alive = sandbox_alive(id);
        }
        if (!alive) {
                char msg[sizeof(err->msg)];
                (void)snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
                return bridle__err(err, BRIDLE_E_SANDBOX, "sandbox '%s' is gone: %s", id, msg);
        }
        if (r == BRIDLE_E_SANDBOX && err)
                err->code = r = BRIDLE_E_TOOL;
        return r;
}

void bridle__tools_sandbox_root(const char *ref, char *out, size_t size)
{
        char id[16];
        struct bridle__sb_state st;
        (void)snprintf(out, size, "/workspace");
        if (bridle__sandbox_resolve(ref, id, NULL) >= 0 &&
            bridle__sandbox_state_read(id, &st, NULL) >= 0 && st.root[0] == '/')
                (void)snprintf(out, size, "%s", st.root);
}

const char *bridle__arg_str(const json_t *args, const char *key, const char *def)
{
        const json_t *v = json_object_get(args, key);
        return json_is_string(v) ? json_string_value(v) : def;
}

int64_t bridle__arg_int(const json_t *args, const char *key, int64_t def)
{
        const json_t *v = json_object_get(args, key);
        if (json_is_integer(v))
                return (int64_t)json_integer_value(v);
        if (json_is_real(v)) {
                double d = json_real_value(v);
                if (d >= -9.0e18 && d <= 9.0e18)
                        return (int64_t)d;
                return d < 0 ? INT64_MIN : INT64_MAX;
        }
        return def;
}

bool bridle__arg_bool(const json_t *args, const char *key, bool def)
{
        const json_t *v = json_object_get(args, key);
        return json_is_boolean(v) ? json_is_true(v) : def;
}
