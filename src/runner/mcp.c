/* SPDX-License-Identifier: MIT */
/*
 * An agent's MCP servers in a run (docs/mcp.md, "Agents using MCP
 * servers"): started with the agent's runtime, their tools bridged into its
 * registry as <server>__<tool>, listed again on list_changed, started again
 * (a few times) when one dies, closed with the run's process.
 */
#include "runner/runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/client.h"
#include "util/alloc.h"
#include "util/envexpand.h"
#include "util/error.h"

#define MCP_RESTARTS_MAX 3 /* a dead server is started again at most this often per process */
#define MCP_ARGV_MAX     256
#define MCP_ENV_MAX      256

extern char **environ;

struct bridle__run_mcp {
        bridle__run *R;
        const char *agent;
        const json_t *def; /* borrowed from R->def */
        const char *name, *where;
        bridle__mcp_client *c;
        bridle__mcp_bridge *b;
        unsigned starts;
};

static void free_strv(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

/* The def's mapping key (env, headers) as lines "NAME<sep>VALUE" after the
 * lines of base (may be NULL), ${VAR}s filled in when expand. */
static int kv_lines(const struct bridle__run_mcp *s, const char *key, const char *sep, char **base, bool expand,
                    char ***ret, bridle_error *err)
{
        size_t nb = 0;
        while (base && base[nb])
                nb++;
        const json_t *map = json_object_get(s->def, key);
        if (json_object_size(map) > MCP_ENV_MAX)
                return bridle__err(err, BRIDLE_E_LIMIT, "mcp server '%s': too many %s entries", s->name, key);
        char **v = bridle__calloc(nb + json_object_size(map) + 1, sizeof(char *));
        if (!v)
                return bridle__err(err, -ENOMEM, "mcp");
        size_t k = 0;
        for (size_t i = 0; i < nb; i++)
                if (!(v[k++] = bridle__strdup(base[i]))) {
                        free_strv(v);
                        return bridle__err(err, -ENOMEM, "mcp");
                }
        const char *name;
        json_t *val;
        json_object_foreach((json_t *)map, name, val) {
                char *x = NULL, what[160];
                (void)snprintf(what, sizeof(what), "mcp server '%s': %s.%s", s->name, key, name);
                int r = expand ? bridle__env_expand(what, json_string_value(val), &x, err)
                               : ((x = bridle__strdup(json_string_value(val))) ? 0 : -ENOMEM);
                if (r < 0 || asprintf(&v[k], "%s%s%s", name, sep, x) < 0) {
                        v[k] = NULL;
                        free(x);
                        free_strv(v);
                        return r < 0 ? r : bridle__err(err, -ENOMEM, "mcp");
                }
                k++;
                free(x);
        }
        *ret = v;
        return 0;
}

static int transport(struct bridle__run_mcp *s, bridle__mcp_transport **t, bridle_error *err)
{
        if (!strcmp(s->where, "http")) {
                char **headers = NULL;
                int r = kv_lines(s, "headers", ": ", NULL, true, &headers, err);
                if (r == 0)
                        r = bridle__mcp_http_new(json_string_value(json_object_get(s->def, "url")),
                                                 (const char *const *)headers, t, err);
                free_strv(headers);
                return r;
        }
        const json_t *cmd = json_object_get(s->def, "command");
        const char *argv[MCP_ARGV_MAX + 1];
        size_t n = 0, i;
        json_t *a;
        json_array_foreach(cmd, i, a) if (n < MCP_ARGV_MAX) argv[n++] = json_string_value(a);
        argv[n] = NULL;
        const char *cwd = json_string_value(json_object_get(s->def, "cwd"));
        char **env = NULL;
        int r;
        if (!strcmp(s->where, "host")) {
                /* trusted: the harness's own environment, as any tool it runs */
                if ((r = kv_lines(s, "env", "=", environ, true, &env, err)) == 0)
                        r = bridle__mcp_stdio_new(argv, (const char *const *)env, cwd, t, err);
        } else {
                const char *sandbox = bridle__run_sandbox(s->R, err);
                if (!sandbox)
                        return err && err->code ? err->code : BRIDLE_E_SANDBOX;
                if ((r = kv_lines(s, "env", "=", NULL, false, &env, err)) == 0)
                        r = bridle__mcp_session_new(sandbox, argv, (const char *const *)env, cwd, t, err);
        }
        free_strv(env);
        return r;
}

/* The first half of a start: the process (or the HTTP transport) made. */
static int launch(struct bridle__run_mcp *s, bridle__mcp_transport **t, bridle_error *err)
{
        int r = transport(s, t, err);
        if (r < 0) {
                s->starts++;
                /* a server that cannot be reached or started, a variable not
                 * set: the run stops (resumable) where an MCP server failed */
                if (r != -ENOMEM && r != BRIDLE_E_SANDBOX && err)
                        err->code = r = BRIDLE_E_TOOL;
                return bridle__err_prefix(err, "mcp server '%s' (%s)", s->name, s->where);
        }
        return 0;
}

/* The second half: initialize over t (stolen). */
static int connect_over(struct bridle__run_mcp *s, bridle__mcp_transport *t, bridle_error *err)
{
        bridle__mcp_client_opts o = {
                .name = s->name,
                .startup_timeout_ms = (int)json_integer_value(json_object_get(s->def, "startup_timeout_ms")),
                .request_timeout_ms = (int)json_integer_value(json_object_get(s->def, "timeout_ms")),
        };
        int r = bridle__mcp_client_connect(t, &o, &s->c, err);
        s->starts++;
        if (r < 0)
                return r; /* the client's errors name the server */
        const json_t *info = bridle__mcp_client_server_info(s->c);
        return bridle__run_emit_sync(
                s->R, "mcp.connected",
                json_pack("{s:s,s:s,s:s,s:s,s:s?,s:I}", "agent", s->agent, "server", s->name, "where", s->where,
                          "version", bridle__mcp_client_version(s->c), "server_name",
                          json_string_value(json_object_get(info, "name")), "start", (json_int_t)s->starts),
                false, err);
}

static int start(struct bridle__run_mcp *s, bridle_error *err)
{
        bridle__mcp_transport *t = NULL;
        int r = launch(s, &t, err);
        return r < 0 ? r : connect_over(s, t, err);
}

/* The bridge's way back when a call finds the server dead. */
static int revive(void *ud, bridle__mcp_client **c, bridle_error *err)
{
        struct bridle__run_mcp *s = ud;
        if (s->c && bridle__policy_settings_get(s->R->policy)->server_lost == BRIDLE__SERVER_LOST_STOP)
                return bridle__err(err, BRIDLE_E_TOOL,
                                   "mcp server '%s' is gone and is not started again (recovery.server_lost: stop)",
                                   s->name);
        if (s->starts > MCP_RESTARTS_MAX)
                return bridle__err(err, BRIDLE_E_TOOL,
                                   "mcp server '%s' stopped; it was started %u times in this process and is not "
                                   "started again until the run resumes",
                                   s->name, s->starts);
        s->c = bridle__mcp_client_free(s->c);
        *c = NULL;
        int r = start(s, err);
        *c = s->c;
        return r;
}

int bridle__run_mcp_start(bridle__run *R, struct bridle__agent_rt *rt, const json_t *agent, bridle_error *err)
{
        const json_t *list = json_object_get(agent, "mcp_servers");
        size_t n = json_array_size(list);
        if (!n)
                return 0;
        if (!(rt->mcp = bridle__calloc(n, sizeof(*rt->mcp))))
                return bridle__err(err, -ENOMEM, "mcp");
        /* Every process is launched first, then each is initialized: the
         * servers boot side by side (node takes a few hundred ms). */
        bridle__mcp_transport *t[BRIDLE__AGENT_MCP_MAX] = {0};
        int r = 0;
        for (size_t i = 0; r == 0 && i < n && i < BRIDLE__AGENT_MCP_MAX; i++) {
                struct bridle__run_mcp *s = &rt->mcp[i];
                s->R = R;
                s->agent = rt->name;
                s->def = json_array_get(list, i);
                s->name = json_string_value(json_object_get(s->def, "name"));
                s->where = json_string_value(json_object_get(s->def, "where"));
                rt->n_mcp++;
                if (!s->name || !s->where)
                        r = bridle__err(err, BRIDLE_E_INVALID, "agent '%s': mcp_servers[%zu] is not recorded whole",
                                        rt->name, i);
                else
                        r = launch(s, &t[i], err);
        }
        for (size_t i = 0; i < rt->n_mcp; i++) {
                if (r == 0 && t[i])
                        r = connect_over(&rt->mcp[i], t[i], err); /* t[i] is the client's now */
                else if (t[i])
                        t[i]->ops->close(t[i]);
                t[i] = NULL;
        }
        return r;
}

/* Names in the server's tools: list that it does not offer (a typo, or a
 * tool it dropped): said once per listing, as a run.warning. */
static void warn_unknown(struct bridle__agent_rt *rt, const struct bridle__run_mcp *s)
{
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(s->def, "tools"), i, v) {
                char full[200];
                (void)snprintf(full, sizeof(full), "%s__%s", s->name, json_string_value(v) ?: "");
                if (bridle__mcp_bridge_has(s->b, full, NULL))
                        continue;
                char msg[300];
                (void)snprintf(msg, sizeof(msg), "mcp server '%s' has no tool '%.100s' (named in its tools:)",
                               s->name, json_string_value(v) ?: "");
                (void)bridle__run_emit_sync(s->R, "run.warning", json_pack("{s:s,s:s}", "agent", rt->name, "message", msg),
                                            false, NULL);
        }
}

int bridle__run_mcp_add_tools(struct bridle__agent_rt *rt, bool tolerant, bridle_error *err)
{
        for (size_t i = 0; i < rt->n_mcp; i++) {
                struct bridle__run_mcp *s = &rt->mcp[i];
                s->b = bridle__mcp_bridge_free(s->b);
                bridle_error e = {0};
                int r = 0;
                /* a server found dead (also while listing) is started again once */
                for (int k = 0; k < 2; k++) {
                        r = 0;
                        if (bridle__mcp_client_dead(s->c)) {
                                bridle_error_clear(&e);
                                r = revive(s, &s->c, &e);
                        }
                        if (r == 0)
                                r = bridle__mcp_bridge_add_only(s->c, s->name, json_object_get(s->def, "tools"),
                                                                rt->tools, &s->b, &e);
                        if (r == 0 || r == -ENOMEM || !bridle__mcp_client_dead(s->c))
                                break;
                }
                if (r < 0 && (!tolerant || r == -ENOMEM)) {
                        if (err)
                                *err = e;
                        return r;
                }
                if (r < 0) {
                        /* listing again after list_changed: a server that is gone
                         * now offers nothing until the next listing */
                        s->b = bridle__mcp_bridge_free(s->b);
                        (void)bridle__run_emit_sync(
                                s->R, "run.warning",
                                json_pack("{s:s,s:s}", "agent", rt->name, "message", e.msg), false, NULL);
                        continue;
                }
                bridle__mcp_bridge_on_dead(s->b, revive, s);
                warn_unknown(rt, s);
        }
        return 0;
}

void bridle__run_mcp_drop_tools(struct bridle__agent_rt *rt)
{
        for (size_t i = 0; i < rt->n_mcp; i++)
                rt->mcp[i].b = bridle__mcp_bridge_free(rt->mcp[i].b);
}

bool bridle__run_mcp_changed(struct bridle__agent_rt *rt)
{
        bool changed = false;
        for (size_t i = 0; i < rt->n_mcp; i++) {
                struct bridle__run_mcp *s = &rt->mcp[i];
                if (bridle__mcp_client_dead(s->c))
                        continue;
                (void)bridle__mcp_client_poll(s->c, 0, NULL);
                if (bridle__mcp_client_tools_changed(s->c)) {
                        changed = true;
                        (void)bridle__run_emit_sync(s->R, "mcp.tools_changed",
                                                    json_pack("{s:s,s:s}", "agent", rt->name, "server", s->name),
                                                    false, NULL);
                }
        }
        return changed;
}

bool bridle__run_mcp_dead(const struct bridle__agent_rt *rt, const char *server)
{
        for (size_t i = 0; server && i < rt->n_mcp; i++)
                if (!strcmp(rt->mcp[i].name, server))
                        return bridle__mcp_client_dead(rt->mcp[i].c);
        return false;
}

bool bridle__run_mcp_tool(const struct bridle__agent_rt *rt, const char *name, bridle__run_mcp_info *ret)
{
        *ret = (bridle__run_mcp_info){0};
        for (size_t i = 0; name && i < rt->n_mcp; i++) {
                const struct bridle__run_mcp *s = &rt->mcp[i];
                bool idempotent = false;
                if (!bridle__mcp_bridge_has(s->b, name, &idempotent))
                        continue;
                ret->server = s->name;
                ret->where = s->where;
                ret->remote = strcmp(s->where, "sandbox") != 0;
                ret->outside = ret->remote && !bridle__tools_read_only(rt->tools, name) && !idempotent;
                return true;
        }
        return false;
}

void bridle__run_mcp_stop(struct bridle__agent_rt *rt)
{
        for (size_t i = 0; i < rt->n_mcp; i++) {
                rt->mcp[i].b = bridle__mcp_bridge_free(rt->mcp[i].b);
                rt->mcp[i].c = bridle__mcp_client_free(rt->mcp[i].c);
        }
        free(rt->mcp);
        rt->mcp = NULL;
        rt->n_mcp = 0;
}
