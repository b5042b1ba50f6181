/* SPDX-License-Identifier: MIT */
/* The agent loop: pending calls, limits, one model call per turn, completion. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridle/manifest.h"
#include "bridle/sandbox.h"
#include "gateway/gateway.h"
#include "runner/runner.h"
#include "util/alloc.h"
#include "util/error.h"

#define RUN_RETRIES 16

int64_t bridle__now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void report(const bridle__run *R, const char *type, json_t *data)
{
        if (!R->opts->on_event)
                return;
        json_t *ev = bridle__journal_event_json(R->id, 0, bridle__now_ms(), type, data);
        char *s = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
        if (s)
                R->opts->on_event(s, R->opts->userdata);
        free(s);
        json_decref(ev);
}

/* Write the buffered events in one transaction. Their seqs were given when
 * they were made (last_seq + 1, ...); the journal must agree, or another
 * process wrote to this run meanwhile. */
int bridle__run_sync(bridle__run *R, bridle_error *err)
{
        size_t n = json_array_size(R->buf);
        if (n == 0)
                return 0;
        int r = bridle__journal_begin(R->j, err);
        if (r == 0 && R->new_run_agent[0] && (r = bridle__journal_add_run(R->j, R->id, R->new_run_agent, err)) == 0)
                R->new_run_agent[0] = '\0';
        for (size_t i = 0; r == 0 && i < n; i++) {
                json_t *ev = json_array_get(R->buf, i);
                const char *type = json_string_value(json_object_get(ev, "type"));
                int64_t want = json_integer_value(json_object_get(ev, "seq"));
                int64_t seq = bridle__journal_append(R->j, R->id, type, json_object_get(ev, "data"), NULL, err);
                if (seq < 0)
                        r = (int)seq;
                else if (seq != want)
                        r = bridle__err(err, BRIDLE_E_INVALID,
                                        "journal: run '%s' was written by another process (event %lld is not %lld)",
                                        R->id, (long long)seq, (long long)want);
        }
        if (r == 0)
                r = bridle__journal_commit(R->j, err);
        if (r < 0) {
                (void)bridle__journal_rollback(R->j);
                /* The state holds events the journal does not: write nothing
                 * more; the journal stays what it was, and resume goes on from it. */
                if (!R->broken.code) {
                        if (err)
                                R->broken = *err;
                        else
                                (void)bridle__err(&R->broken, r, "journal: a write failed");
                }
        }
        json_array_clear(R->buf);
        return r;
}

int bridle__run_emit_sync(bridle__run *R, const char *type, json_t *data, bool sync, bridle_error *err)
{
        if (R->broken.code) {
                json_decref(data);
                if (err)
                        *err = R->broken;
                return R->broken.code;
        }
        if (!data)
                return bridle__err(err, -ENOMEM, "event '%s'", type);
        if (R->egress && R->egress_queue && strcmp(type, "egress.connection") != 0)
                bridle__run_egress_flush(R);
        if (!R->buf && !(R->buf = json_array())) {
                json_decref(data);
                return bridle__err(err, -ENOMEM, "event '%s'", type);
        }
        json_t *ev = bridle__journal_event_json(R->id, R->st.last_seq + 1, bridle__now_ms(), type, data);
        json_decref(data);
        if (!ev || json_array_append(R->buf, ev) < 0) {
                json_decref(ev);
                return bridle__err(err, -ENOMEM, "event '%s'", type);
        }
        int r = bridle__run_state_apply(&R->st, ev, err);
        if (r == 0 && R->opts->on_event) {
                char *line = json_dumps(ev, JSON_COMPACT);
                if (line)
                        R->opts->on_event(line, R->opts->userdata);
                free(line);
        }
        json_decref(ev);
        if (r == 0 && sync)
                r = bridle__run_sync(R, err);
        return r;
}

int bridle__run_emit(bridle__run *R, const char *type, json_t *data, bridle_error *err)
{
        return bridle__run_emit_sync(R, type, data, true, err);
}

/* ---- per-agent runtime: model, tools, instructions -------------------------- */

static int c_tool(void *ud, const bridle__tool_env *env, const json_t *args, char **ret, bridle_error *err)
{
        const bridle_agent_tool *t = ud;
        char *s = json_dumps(args, JSON_COMPACT);
        if (!s)
                return bridle__err(err, -ENOMEM, "arguments");
        int r = t->fn(t->userdata, s, ret, err);
        free(s);
        return r;
}

static bool tool_uses_sandbox(const json_t *a)
{
        return json_array_size(json_object_get(a, "tools")) || json_array_size(json_object_get(a, "native_tools")) ||
               json_array_size(json_object_get(a, "command_tools"));
}

static int add_tools(bridle__run *R, const json_t *a, struct bridle__agent_rt *rt, bool again, bridle_error *err)
{
        size_t i;
        json_t *v;
        int r = bridle__tools_new(&rt->tools, err);
        json_array_foreach(json_object_get(a, "tools"), i, v) if (r == 0) r =
                bridle__tools_add_builtin(rt->tools, json_string_value(v), err);
        json_array_foreach(json_object_get(a, "native_tools"), i, v) if (r == 0) r =
                bridle__tools_add_native(rt->tools, json_string_value(v), err);
        json_array_foreach(json_object_get(a, "command_tools"), i, v) if (r == 0) r =
                bridle__tools_add_command(rt->tools, v, err);
        for (size_t k = 0; r == 0 && k < R->opts->n_tools; k++) {
                const bridle_agent_tool *t = &R->opts->tools[k];
                json_error_t je;
                json_t *params = json_loads(t->parameters_json ? t->parameters_json : "{\"type\":\"object\"}", 0, &je);
                if (!params)
                        return bridle__err(err, BRIDLE_E_INVALID, "tool '%s': parameters: %s", t->name, je.text);
                r = bridle__tools_add_fn(rt->tools, t->name, t->description ? t->description : "", params, t->read_only,
                                         c_tool, (void *)t, err);
                json_decref(params);
        }
        if (r == 0)
                r = bridle__run_mcp_add_tools(rt, again, err);
        if (r < 0)
                return r;
        if (!(rt->defs = bridle__tools_defs(rt->tools)))
                return bridle__err(err, -ENOMEM, "tool definitions");
        json_t *agents = json_object_get(R->def, "agents");
        json_array_foreach(json_object_get(a, "handoffs"), i, v) {
                const char *to = json_string_value(v);
                const char *hd = json_string_value(json_object_get(json_object_get(agents, to), "handoff_description"));
                char name[96], desc[1024];
                (void)snprintf(name, sizeof(name), "transfer_to_%s", to);
                (void)snprintf(desc, sizeof(desc), "Hand the conversation over to the agent '%s'.%s%s", to,
                               hd && hd[0] ? " " : "", hd ? hd : "");
                (void)json_array_append_new(
                        rt->defs, json_pack("{s:s,s:s,s:s,s:{s:s,s:{},s:b},s:b}", "type", "function", "name", name,
                                            "description", desc, "parameters", "type", "object", "properties",
                                            "additionalProperties", 0, "strict", 0));
        }
        return 0;
}

/* An MCP server's tools changed: the registry is made again (the old one
 * first, then the bridges its tools pointed into). */
static int rebuild_tools(bridle__run *R, const json_t *a, struct bridle__agent_rt *rt, bridle_error *err)
{
        rt->tools = bridle__tools_free(rt->tools);
        json_decref(rt->defs);
        rt->defs = NULL;
        bridle__run_mcp_drop_tools(rt);
        return add_tools(R, a, rt, true, err);
}

int bridle__agents_check_keys(const json_t *def, bridle_error *err)
{
        const char *name;
        json_t *a;
        json_object_foreach(json_object_get(def, "agents"), name, a) {
                const char *key_env = json_string_value(json_object_get(a, "api_key_env"));
                const char *provider = json_string_value(json_object_get(a, "provider"));
                const char *key = key_env ? getenv(key_env) : NULL;
                if (provider && strcmp(provider, "scripted") != 0 && !json_is_string(json_object_get(a, "base_url")) &&
                    (!key || !key[0]))
                        return bridle__err(err, BRIDLE_E_INVALID,
                                           "agent '%s': %s is not set (the %s provider needs an API key; or use --provider scripted --script FILE, or --base-url for a local server)",
                                           name, key_env ? key_env : "the API key variable", provider);
        }
        return 0;
}

/* Where making an agent's runtime failed: its sandbox, an MCP server (the
 * client's codes), or elsewhere. */
static const char *rt_where(const bridle_error *err)
{
        int c = err ? err->code : 0;
        return c == BRIDLE_E_SANDBOX                                                    ? "sandbox"
               : c == BRIDLE_E_TOOL || c == BRIDLE_E_TIMEOUT || c == BRIDLE_E_PROTOCOL ? "mcp"
                                                                                        : "internal";
}

static int make_rt(bridle__run *R, const char *name, struct bridle__agent_rt **ret, bridle_error *err)
{
        for (size_t i = 0; i < R->n_rt; i++)
                if (!strcmp(R->rt[i].name, name)) {
                        *ret = &R->rt[i];
                        return 0;
                }
        json_t *a = json_object_get(json_object_get(R->def, "agents"), name);
        if (!a)
                return bridle__err(err, BRIDLE_E_INVALID, "the run has no agent '%s'", name);
        if (R->n_rt == BRIDLE__AGENT_MAX)
                return bridle__err(err, BRIDLE_E_LIMIT, "too many agents");
        struct bridle__agent_rt *rt = &R->rt[R->n_rt];
        memset(rt, 0, sizeof(*rt));
        (void)snprintf(rt->name, sizeof(rt->name), "%s", name);
        const char *key_env = json_string_value(json_object_get(a, "api_key_env"));
        const char *provider = json_string_value(json_object_get(a, "provider"));
        rt->provider = provider;
        const char *base_url = json_string_value(json_object_get(a, "base_url"));
        const char *key = key_env ? getenv(key_env) : NULL;
        if (strcmp(provider, "scripted") != 0 && !base_url && (!key || !key[0]))
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "agent '%s': %s is not set (the %s provider needs an API key; or use --provider scripted --script FILE, or --base-url for a local server)",
                                   name, key_env, provider);
        bridle__model_cfg cfg = {
                .provider = provider,
                .model = json_string_value(json_object_get(a, "model")),
                .base_url = base_url,
                .api_key = key && key[0] ? key : NULL,
                .script = json_object_get(a, "script"),
                .script_name = json_string_value(json_object_get(a, "script_name")),
                .cancel = R->opts->interrupt,
        };
        const char *bo = getenv("BRIDLE_MODEL_BACKOFF_MS");
        if (bo)
                cfg.backoff_ms = (unsigned)atoi(bo);
        int r = bridle__model_new(&cfg, &rt->model, err);
        if (r == 0)
                r = bridle__run_mcp_start(R, rt, a, err);
        if (r == 0)
                r = add_tools(R, a, rt, false, err);
        R->n_rt++; /* counted even on failure so that cleanup frees what was made */
        if (r < 0)
                return r;
        rt->uses_sandbox = tool_uses_sandbox(a);
        const char *text = json_string_value(json_object_get(a, "instructions"));
        if (rt->uses_sandbox) {
                r = bridle__instructions_build(&R->env, text ? text : "", "/workspace", &rt->instructions, err);
                /* The sandbox died as the files were read: the sandbox
                 * callback remakes it on the next try (bounded there). */
                for (int k = 0; k < 4 && r < 0 && R->st.sandbox_id[0] && bridle__run_sandbox_recheck(R); k++) {
                        if (err)
                                bridle_error_clear(err);
                        r = bridle__instructions_build(&R->env, text ? text : "", "/workspace", &rt->instructions,
                                                       err);
                }
        }
        else if (!(rt->instructions = bridle__strdup(text ? text : "")))
                r = bridle__err(err, -ENOMEM, "instructions");
        if (r < 0)
                return r;
        *ret = rt;
        return 0;
}

/* ---- tool calls --------------------------------------------------------------- */

const char *bridle__run_handoff_target(const bridle__run *R, const char *agent, const char *fn)
{
        if (!fn || strncmp(fn, "transfer_to_", 12) != 0)
                return NULL;
        json_t *a = json_object_get(json_object_get(R->def, "agents"), agent), *v;
        size_t i;
        json_array_foreach(json_object_get(a, "handoffs"), i, v) if (!strcmp(json_string_value(v), fn + 12)) return
                json_string_value(v);
        return NULL;
}

static json_t *fn_output(const char *call_id, const char *text)
{
        return json_pack("{s:s,s:s,s:s}", "type", "function_call_output", "call_id", call_id, "output", text);
}

/* Run one call; *ret_item is the output item. A failure of the run itself
 * (the sandbox died) is returned < 0 with *where set. */
static int run_call(bridle__run *R, struct bridle__agent_rt *rt, const json_t *call, json_t **ret_item, bool *ok,
                    const char **handoff, const char **where, bridle_error *err)
{
        const char *type = json_string_value(json_object_get(call, "type"));
        const char *call_id = json_string_value(json_object_get(call, "call_id"));
        *ok = true;
        *handoff = NULL;
        if (!call_id)
                call_id = "";
        if (strcmp(type, "function_call") != 0) {
                int r = bridle__tools_native(rt->tools, &R->env, call, ret_item, err);
                if (r >= 0 && bridle__secrets_redact_json(R->secrets, *ret_item, err) < 0) {
                        json_decref(*ret_item);
                        *ret_item = NULL;
                        *where = "internal";
                        return err && err->code ? err->code : -ENOMEM;
                }
                if (r < 0)
                        *where = "sandbox";
                else
                        *ok = strcmp(json_string_value(json_object_get(*ret_item, "status")) ?: "", "failed") != 0;
                return r;
        }
        const char *name = json_string_value(json_object_get(call, "name"));
        const char *args = json_string_value(json_object_get(call, "arguments"));
        const char *to = bridle__run_handoff_target(R, rt->name, name);
        if (to) {
                char text[160];
                (void)snprintf(text, sizeof(text), "{\"assistant\":\"%s\"}", to);
                *handoff = to;
                *ret_item = fn_output(call_id, text);
                return *ret_item ? 0 : bridle__err(err, -ENOMEM, "output");
        }
        bridle__tool_result res = { 0 };
        int r = bridle__tools_call(rt->tools, &R->env, name ? name : "", args ? args : "", &res, err);
        if (r < 0 || res.sandbox_failed) {
                if (r >= 0)
                        r = bridle__err(err, BRIDLE_E_SANDBOX, "tool '%s': the sandbox failed: %s", name,
                                        res.output ? res.output : "");
                bridle__tool_result_clear(&res);
                *where = "sandbox";
                return r;
        }
        *ok = res.ok;
        char *clean = bridle__run_redact(R, res.output ? res.output : "", err);
        bridle__tool_result_clear(&res);
        if (!clean) {
                *where = "internal";
                return err && err->code ? err->code : -ENOMEM;
        }
        *ret_item = fn_output(call_id, clean);
        free(clean);
        return *ret_item ? 0 : bridle__err(err, -ENOMEM, "output");
}

/* A call the gateway refused: its refusal is the call's result. */
static int refuse(bridle__run *R, const json_t *call, const char *text, bridle_error *err)
{
        const char *call_id = json_string_value(json_object_get(call, "call_id"));
        const char *name = json_string_value(json_object_get(call, "name"));
        const char *type = json_string_value(json_object_get(call, "type"));
        json_int_t turn = R->st.turns ? (json_int_t)R->st.turns - 1 : 0;
        json_t *item = bridle__refusal_item(call, text);
        if (!item)
                return bridle__err(err, -ENOMEM, "refusal");
        return bridle__run_emit_sync(R, "tool.finished",
                                     json_pack("{s:I,s:s,s:s,s:b,s:b,s:o,s:I}", "turn", turn, "call_id",
                                               call_id ? call_id : "", "name", name ? name : type, "ok", 0, "denied", 1,
                                               "output_item", item, "duration_ms", (json_int_t)0),
                                     false, err);
}

int bridle__run_call_again(bridle__run *R, const json_t *call, json_t **ret_item, bool *ok, bridle_error *err)
{
        struct bridle__agent_rt *rt = NULL;
        const char *to = NULL, *where = NULL;
        int r = make_rt(R, R->st.agent, &rt, err);
        if (r == 0)
                r = run_call(R, rt, call, ret_item, ok, &to, &where, err);
        return r;
}

/* Does a call change the workspace? Tools the registry marks read-only and
 * commands the safe list vouches for do not; handoffs touch nothing. */
static bool call_writes(const bridle__run *R, struct bridle__agent_rt *rt, const json_t *call, const json_t *verdict,
                        const bridle__run_mcp_info *mcp)
{
        const char *type = json_string_value(json_object_get(call, "type"));
        const char *name = json_string_value(json_object_get(call, "name"));
        if (json_is_true(json_object_get(verdict, "read_only")))
                return false;
        if (strcmp(type, "function_call") != 0)
                return true;
        return !mcp->remote && !bridle__tools_read_only(rt->tools, name ? name : "") &&
               !bridle__run_handoff_target(R, R->st.agent, name);
}

#define IN_DOUBT_PREFIX "in-doubt:"

/* Calls of the batch that started and have no result (the process died
 * under them, docs/durability.md "In-doubt calls"): a read-only one runs
 * again; a writing one runs again on a sandbox restored to the state it
 * first saw (policy recovery.in_doubt: rerun), or after a person says so
 * (ask, and whenever there is no checkpoint to go back to). */
static int resolve_in_doubt(bridle__run *R, const char **where, bool *waiting, bridle_error *err)
{
        json_t *pending = json_deep_copy(R->st.pending);
        if (!pending)
                return bridle__err(err, -ENOMEM, "pending calls");
        bool restored = false;
        int r = 0;
        size_t i;
        json_t *call;
        json_array_foreach(pending, i, call) {
                const char *call_id = json_string_value(json_object_get(call, "call_id")) ?: "";
                json_t *started = json_object_get(R->st.in_doubt, call_id);
                if (!started)
                        continue;
                const char *name = json_string_value(json_object_get(started, "name")) ?: "";
                bool writes = json_is_true(json_object_get(started, "writes"));
                /* A call that may have changed something outside the sandbox
                 * (an MCP server on the host or over HTTP): no checkpoint can
                 * undo it, so a person decides, whatever recovery.in_doubt says. */
                bool outside = json_is_true(json_object_get(started, "outside"));
                const char *how = "read_only";
                char key[128];
                (void)snprintf(key, sizeof(key), IN_DOUBT_PREFIX "%s", call_id);
                json_t *given = json_object_get(R->st.approvals, key);
                bool ask = outside || (writes && (bridle__policy_settings_get(R->policy)->in_doubt ==
                                                          BRIDLE__IN_DOUBT_ASK ||
                                                  !R->ckpt_every));
                if (ask && !given) {
                        *waiting = true;
                        if (json_object_get(R->st.requested, key))
                                continue;
                        r = bridle__run_emit_sync(
                                R, "approval.requested",
                                json_pack("{s:s,s:s,s:O*,s:s,s:s,s:s,s:I}", "call_id", key, "name", name, "arguments",
                                          json_object_get(started, "arguments"), "rule", "recovery.in_doubt",
                                          "reason",
                                          outside ? "the call was running when the run stopped, and it may have "
                                                    "changed something outside the sandbox (an MCP server's tool): "
                                                    "approve to run it again, deny to go on without it"
                                                  : "the call was running when the run stopped: approve to restore "
                                                    "the workspace to before it and run it again, deny to go on "
                                                    "without it",
                                          "command", "", "asked_at", (json_int_t)(bridle__now_ms() / 1000)),
                                false, err);
                        if (r < 0)
                                break;
                        continue;
                }
                if ((writes || outside) && given &&
                    strcmp(json_string_value(json_object_get(given, "decision")) ?: "", "approve")) {
                        json_int_t turn = R->st.turns ? (json_int_t)R->st.turns - 1 : 0;
                        json_t *item = bridle__refusal_item(
                                call, outside ? "this call was interrupted when the run stopped; its effect is unknown, and "
                                                "it was not run again"
                                              : "this call was interrupted when the run stopped; its effect on the "
                                                "workspace is unknown, and it was not run again");
                        r = bridle__run_emit_sync(R, "tool.finished",
                                                  json_pack("{s:I,s:s,s:s,s:b,s:b,s:o,s:I}", "turn", turn, "call_id",
                                                            call_id, "name", name, "ok", 0, "denied", 1, "output_item",
                                                            item, "duration_ms", (json_int_t)0),
                                                  true, err);
                        if (r < 0)
                                break;
                        continue;
                }
                if (writes || outside)
                        how = "rerun";
                if (writes) { /* outside calls run again on the same sandbox */
                        if (!restored && (r = bridle__run_rehydrate(R, "in_doubt", err)) < 0) {
                                *where = "sandbox";
                                break;
                        }
                        restored = true;
                }
                r = bridle__run_emit_sync(R, "tool.in_doubt",
                                          json_pack("{s:s,s:s,s:s,s:s}", "call_id", call_id, "name", name, "resolution",
                                                    how, "checkpoint", R->st.base),
                                          false, err);
                if (r < 0)
                        break;
        }
        json_decref(pending);
        if (r < 0 && !strcmp(*where, "tool"))
                *where = "internal";
        return r;
}

static int run_pending(bridle__run *R, const char **where, bool *waiting, bridle_error *err)
{
        *waiting = false;
        *where = "tool";
        int r = 0;
        /* The sandbox died while no one was looking (a resume after a reboot). */
        if (bridle__run_sandbox_lost(R) && !bridle__run_sandbox(R, err)) {
                *where = "sandbox";
                return err && err->code ? err->code : BRIDLE_E_SANDBOX;
        }
        if ((r = resolve_in_doubt(R, where, waiting, err)) < 0 || *waiting)
                return r;
        json_t *pending = json_deep_copy(R->st.pending), *verdicts = NULL;
        if (!pending)
                return bridle__err(err, -ENOMEM, "pending calls");
        r = bridle__run_gate(R, pending, &verdicts, waiting, err);
        if (r < 0 || *waiting) {
                json_decref(pending);
                json_decref(verdicts);
                if (r < 0)
                        *where = "internal";
                return r;
        }
        size_t i;
        json_t *call;
        json_array_foreach(pending, i, call) {
                if (R->opts->interrupt && *R->opts->interrupt)
                        break;
                json_t *verdict = json_array_get(verdicts, i);
                if (!json_is_true(json_object_get(verdict, "run"))) {
                        const char *text = json_string_value(json_object_get(verdict, "refusal"));
                        if ((r = refuse(R, call, text ? text : "denied", err)) < 0) {
                                *where = "internal";
                                break;
                        }
                        continue;
                }
                struct bridle__agent_rt *rt = NULL;
                if ((r = make_rt(R, R->st.agent, &rt, err)) < 0) {
                        *where = rt_where(err);
                        break;
                }
                const char *call_id = json_string_value(json_object_get(call, "call_id"));
                const char *name = json_string_value(json_object_get(call, "name"));
                const char *type = json_string_value(json_object_get(call, "type"));
                json_t *args = json_object_get(call, "arguments");
                if (!args)
                        args = json_object_get(call, !strcmp(type, "shell_call") ? "action" : "operation");
                json_int_t turn = R->st.turns ? (json_int_t)R->st.turns - 1 : 0;
                /* A call that may change the workspace: a checkpoint before it,
                 * and it is journaled before and after it runs. */
                bridle__run_mcp_info mcp;
                (void)bridle__run_mcp_tool(rt, name, &mcp);
                bool writes = call_writes(R, rt, call, verdict, &mcp), outside = mcp.outside;
                const char *server = mcp.server;
                if (bridle__run_checkpoint_due(R, writes) &&
                    (r = bridle__run_checkpoint(R, writes ? "before_call" : "interval", writes ? call_id : NULL,
                                                err)) < 0) {
                        *where = "checkpoint";
                        break;
                }
                r = bridle__run_emit_sync(R, "tool.started",
                                          json_pack("{s:I,s:s,s:s,s:O*,s:b,s:o*,s:o*}", "turn", turn, "call_id",
                                                    call_id ? call_id : "", "name", name ? name : type, "arguments",
                                                    args, "writes", writes, "outside", outside ? json_true() : NULL,
                                                    "mcp", server ? json_pack("{s:s,s:s}", "server", server,
                                                                              "where", mcp.where)
                                                                  : NULL),
                                          writes || outside, err);
                if (r < 0) {
                        *where = "internal";
                        break;
                }
                int64_t t0 = bridle__now_ms();
                json_t *item = NULL;
                bool ok = true;
                const char *to = NULL;
                R->env.timeout_ms = (uint64_t)json_integer_value(json_object_get(verdict, "timeout_ms"));
                r = run_call(R, rt, call, &item, &ok, &to, where, err);
                /* The sandbox died under the call: the sandbox callback makes a
                 * new one where the call had not run yet, and the call runs
                 * again (bounded by the callback's count). */
                for (int again = 0; again < 4 && (r < 0 ? !strcmp(*where, "sandbox") : !ok) && R->st.sandbox_id[0] &&
                                    bridle__run_sandbox_recheck(R);
                     again++) {
                        json_decref(item);
                        item = NULL;
                        if (err)
                                bridle_error_clear(err);
                        r = run_call(R, rt, call, &item, &ok, &to, where, err);
                }
                R->env.timeout_ms = 0;
                if (r < 0)
                        break;
                /* recovery.server_lost: stop (docs/mcp.md): the batch's end stops the run */
                if (server && !R->mcp_lost[0] && bridle__run_mcp_dead(rt, server)) {
                        const char *o = json_string_value(json_object_get(item, "output"));
                        (void)snprintf(R->mcp_lost, sizeof(R->mcp_lost), "mcp server '%s' died under '%s': %.400s",
                                       server, name ? name : "", o ? o : "");
                }
                char from[sizeof(R->st.agent)];
                (void)snprintf(from, sizeof(from), "%s", R->st.agent);
                r = bridle__run_emit_sync(R, "tool.finished",
                                          json_pack("{s:I,s:s,s:s,s:b,s:o,s:I}", "turn", turn, "call_id",
                                                    call_id ? call_id : "", "name", name ? name : type, "ok", ok,
                                                    "output_item", item, "duration_ms",
                                                    (json_int_t)(bridle__now_ms() - t0)),
                                          writes || outside, err);
                if (r == 0 && to)
                        r = bridle__run_emit_sync(R, "handoff",
                                                  json_pack("{s:s,s:s,s:s}", "from", from, "to", to, "call_id",
                                                            call_id ? call_id : ""),
                                                  false, err);
                if (r < 0) {
                        *where = "internal";
                        break;
                }
        }
        json_decref(pending);
        json_decref(verdicts);
        return r;
}

/* ---- limits ------------------------------------------------------------------- */

static int64_t active_ms(const bridle__run *R)
{
        return R->active_ms_before + (bridle__now_ms() - R->segment_start_ms);
}

/* A reason to stop before the next model call, or NULL. */
static const char *over_limit(const bridle__run *R, char *buf, size_t cap)
{
        if (R->st.turns >= R->max_turns) {
                (void)snprintf(buf, cap, "max_turns (%u) reached", R->max_turns);
                return buf;
        }
        json_t *t = json_object_get(R->budget, "tokens"), *c = json_object_get(R->budget, "cost_usd"),
               *w = json_object_get(R->budget, "wall");
        int64_t used = R->st.input_tokens + R->st.output_tokens;
        if (json_is_integer(t) && used >= json_integer_value(t)) {
                (void)snprintf(buf, cap, "token budget (%lld) reached: %lld used", (long long)json_integer_value(t),
                               (long long)used);
                return buf;
        }
        if (json_is_number(c) && R->st.cost_usd >= json_number_value(c)) {
                (void)snprintf(buf, cap, "cost budget ($%.4f) reached: $%.4f spent", json_number_value(c), R->st.cost_usd);
                return buf;
        }
        if (json_is_number(w) && (double)active_ms(R) >= json_number_value(w) * 1000.0) {
                (void)snprintf(buf, cap, "wall-time budget (%gs) reached", json_number_value(w));
                return buf;
        }
        return NULL;
}

/* ---- one model turn ------------------------------------------------------------ */

static void on_text(void *ud, const char *text, size_t len)
{
        bridle__run *R = ud;
        json_t *d = json_pack("{s:s%}", "text", text, len);
        if (d)
                report(R, "model.delta", d);
        json_decref(d);
}

static void on_retry(void *ud, unsigned attempt, const char *cls, const char *msg, unsigned delay_ms)
{
        bridle__run *R = ud;
        (void)bridle__run_emit_sync(R, "model.retry",
                               json_pack("{s:I,s:I,s:s,s:s,s:I}", "turn", (json_int_t)R->st.turns, "attempt",
                                         (json_int_t)attempt, "class", cls ? cls : "", "message", msg ? msg : "",
                                         "delay_ms", (json_int_t)delay_ms),
                               false, NULL);
}

/* The text of the message items of an output, joined. */
static char *final_text(const json_t *output)
{
        size_t len = 0, i, k;
        json_t *it, *part;
        char *s = bridle__strdup("");
        json_array_foreach(output, i, it) {
                if (strcmp(json_string_value(json_object_get(it, "type")) ?: "", "message") != 0)
                        continue;
                json_array_foreach(json_object_get(it, "content"), k, part) {
                        const char *t = json_string_value(json_object_get(part, "text"));
                        size_t n = t ? strlen(t) : 0;
                        char *ns = s ? bridle__realloc(s, len + n + 1) : NULL;
                        if (!ns) {
                                free(s);
                                return NULL;
                        }
                        s = ns;
                        memcpy(s + len, t ? t : "", n);
                        len += n;
                        s[len] = '\0';
                }
        }
        return s;
}

/* Model failures worth asking again later: the run stops, resumable. */
static bool transient_class(const char *cls)
{
        static const char *const t[] = {"rate_limit", "server", "network", "stall", "truncated"};
        for (size_t i = 0; cls && i < sizeof(t) / sizeof(t[0]); i++)
                if (!strcmp(cls, t[i]))
                        return true;
        return false;
}

static int model_turn(bridle__run *R, char **ret_final, const char **where, bool *transient, bridle_error *err)
{
        struct bridle__agent_rt *rt = NULL;
        int r = make_rt(R, R->st.agent, &rt, err);
        if (r < 0) {
                *where = rt_where(err);
                return r;
        }
        json_t *agent = json_object_get(json_object_get(R->def, "agents"), R->st.agent);
        if (bridle__run_mcp_changed(rt) && (r = rebuild_tools(R, agent, rt, err)) < 0) {
                *where = "mcp";
                return r;
        }
        const char *model = json_string_value(json_object_get(agent, "model"));
        unsigned turn = R->st.turns;
        if ((r = bridle__run_emit_sync(R, "model.request",
                                  json_pack("{s:I,s:s,s:s,s:I}", "turn", (json_int_t)turn, "agent", R->st.agent, "model",
                                            model, "items", (json_int_t)json_array_size(R->st.items)),
                                  false, err)) < 0) {
                *where = "internal";
                return r;
        }
        bridle__model_req req = { .instructions = rt->instructions, .input = R->st.items, .tools = rt->defs,
                                  .turn_index = turn, .run_retries_left = &R->retries_left };
        bridle__model_events ev = { .text_delta = on_text, .retry = on_retry, .ud = R };
        bridle__model_resp resp = { 0 };
        r = bridle__model_call(rt->model, &req, &ev, &resp, err);
        if (r < 0 && err && err->code == BRIDLE_E_INTERRUPTED) {
                bridle__model_resp_clear(&resp);
                return r;
        }
        if (r < 0) {
                *where = "model";
                *transient = transient_class(resp.error_class);
                (void)bridle__run_emit_sync(R, "model.error",
                                       json_pack("{s:I,s:s,s:s}", "turn", (json_int_t)turn, "class", resp.error_class,
                                                 "message", err ? err->msg : ""),
                                       false, NULL);
                bridle__model_resp_clear(&resp);
                return r;
        }
        bool known = false;
        double cost = bridle__model_cost(model, &resp.usage, &known);
        size_t i;
        json_t *it;
        R->last_had_calls = false;
        json_array_foreach(resp.output, i, it) if (bridle__item_is_call(it)) R->last_had_calls = true;
        char *text = R->last_had_calls ? NULL : final_text(resp.output);
        r = bridle__run_emit_sync(
                R, "model.response",
                json_pack("{s:I,s:s,s:s*,s:O,s:{s:I,s:I,s:I,s:I},s:f,s:I}", "turn", (json_int_t)turn, "agent",
                          R->st.agent, "response_id", resp.response_id, "output", resp.output, "usage", "input_tokens",
                          (json_int_t)resp.usage.input_tokens, "cached_tokens", (json_int_t)resp.usage.cached_tokens,
                          "output_tokens", (json_int_t)resp.usage.output_tokens, "reasoning_tokens",
                          (json_int_t)resp.usage.reasoning_tokens, "cost_usd", cost, "retries",
                          (json_int_t)resp.retries),
                R->last_had_calls && strcmp(rt->provider, "scripted") != 0, err);
        bridle__model_resp_clear(&resp);
        if (r < 0) {
                free(text);
                *where = "internal";
                return r;
        }
        *ret_final = text;
        return 0;
}

/* ---- the loop ------------------------------------------------------------------ */

/* A failure worth a resume (docs/durability.md, "Faults"): a checkpoint that
 * could not be written, a sandbox that kept dying, a full disk, an MCP server
 * that did not start (it may be down for a while). */
static bool resumable(const bridle__run *R, const char *where, const bridle_error *e)
{
        return !strcmp(where, "checkpoint") || !strcmp(where, "mcp") ||
               ((!strcmp(where, "sandbox") || e->code == BRIDLE_E_SANDBOX) && R->rehydrations > 0) ||
               e->code == -ENOSPC || e->code == -EDQUOT;
}

/* The model answered: the output guardrails, the end-of-run review (approvals
 * mode end), then completed. */
static int complete(bridle__run *R, const char *text, bridle_agent_result *res, bridle_error *err)
{
        char why[700];
        if (bridle__run_guard_trips(R, BRIDLE__GUARD_OUTPUT, text, why, sizeof(why)))
                return bridle__run_finish(R, BRIDLE_RUN_FAILED, "guardrail", why, NULL, res, err);
        bool waiting = false;
        bridle_error e = { 0 };
        /* The review reads the workspace: a sandbox lost since the last call is remade. */
        if (bridle__run_review_at_end(R) && R->st.sandbox_id[0] && bridle__run_sandbox_recheck(R) &&
            !bridle__run_sandbox(R, &e))
                return bridle__run_finish(R, BRIDLE_RUN_STOPPED, "sandbox", e.msg, NULL, res, err);
        if (bridle__run_review(R, &waiting, why, sizeof(why), &e) < 0)
                return bridle__run_finish(R, BRIDLE_RUN_FAILED, "sandbox", e.msg, NULL, res, err);
        if (waiting)
                return bridle__run_finish(R, BRIDLE_RUN_WAITING, NULL,
                                          "the workspace's changes await approval (call 'export')", NULL, res, err);
        return bridle__run_finish(R, BRIDLE_RUN_COMPLETED, NULL, why[0] ? why : NULL, text, res, err);
}

int bridle__run_loop(bridle__run *R, bridle_agent_result *res, bridle_error *err)
{
        R->env.sandbox = bridle__run_sandbox;
        R->env.ud = R;
        R->retries_left = RUN_RETRIES;
        for (;;) {
                const char *where = "internal";
                if (R->opts->interrupt && *R->opts->interrupt)
                        return bridle__run_finish(R, BRIDLE_RUN_INTERRUPTED, NULL, "interrupted", NULL, res, err);
                if (json_array_size(R->st.pending)) {
                        bridle_error e = { 0 };
                        bool waiting = false;
                        if (run_pending(R, &where, &waiting, &e) < 0) {
                                /* Resumable: a checkpoint that could not be written, a
                                 * sandbox that kept dying, a full disk. */
                                if (e.code == BRIDLE_E_SANDBOX)
                                        where = "sandbox";
                                return bridle__run_finish(R, resumable(R, where, &e) ? BRIDLE_RUN_STOPPED : BRIDLE_RUN_FAILED,
                                                          where, e.msg, NULL, res, err);
                        }
                        if (waiting) {
                                char why[128];
                                (void)snprintf(why, sizeof(why), "%zu call(s) await approval",
                                               json_object_size(R->st.requested));
                                return bridle__run_finish(R, BRIDLE_RUN_WAITING, NULL, why, NULL, res, err);
                        }
                        bridle__run_trace(R, false);
                        unsigned stop = bridle__policy_settings_get(R->policy)->stop_on_deny;
                        if (stop && R->st.denials >= stop) {
                                char why[128];
                                (void)snprintf(why, sizeof(why), "stopped after %u denied call(s) (stop_on_deny)",
                                               R->st.denials);
                                return bridle__run_finish(R, BRIDLE_RUN_STOPPED, NULL, why, NULL, res, err);
                        }
                        if (R->mcp_lost[0] &&
                            bridle__policy_settings_get(R->policy)->server_lost == BRIDLE__SERVER_LOST_STOP) {
                                char why[600];
                                (void)snprintf(why, sizeof(why), "%s (recovery.server_lost: stop)", R->mcp_lost);
                                R->mcp_lost[0] = '\0';
                                return bridle__run_finish(R, BRIDLE_RUN_STOPPED, "mcp", why, NULL, res, err);
                        }
                        R->mcp_lost[0] = '\0';
                        unsigned most = bridle__policy_settings_get(R->policy)->max_tool_failures;
                        if (most && R->st.fail_count >= most) {
                                char why[1500];
                                int n = snprintf(why, sizeof(why),
                                                 "'%s' failed %u times in a row (recovery.max_tool_failures):",
                                                 R->st.fail_tool, R->st.fail_count);
                                size_t k;
                                json_t *note;
                                json_array_foreach(R->st.fail_notes, k, note) if (n > 0 && (size_t)n < sizeof(why)) n +=
                                        snprintf(why + n, sizeof(why) - (size_t)n, " [%zu] %s", k + 1,
                                                 json_string_value(note));
                                return bridle__run_finish(R, BRIDLE_RUN_STOPPED, "tool", why, NULL, res, err);
                        }
                        continue;
                }
                if (!R->last_had_calls && R->st.turns > 0) {
                        /* The last response answered without calls: the run is done
                         * (also when a crash came between that response and its status). */
                        char *text = final_text(R->last_output);
                        int r = complete(R, text ? text : "", res, err);
                        free(text);
                        return r;
                }
                char why[256];
                if (over_limit(R, why, sizeof(why)))
                        return bridle__run_finish(R, BRIDLE_RUN_STOPPED, NULL, why, NULL, res, err);
                char *text = NULL;
                bridle_error e = { 0 };
                bool transient = false;
                if (model_turn(R, &text, &where, &transient, &e) < 0)
                        return e.code == BRIDLE_E_INTERRUPTED
                                       ? bridle__run_finish(R, BRIDLE_RUN_INTERRUPTED, NULL, "interrupted", NULL, res, err)
                                       : bridle__run_finish(R,
                                                            transient || resumable(R, where, &e) ? BRIDLE_RUN_STOPPED
                                                                                                 : BRIDLE_RUN_FAILED,
                                                            where, e.msg, NULL, res, err);
                bridle__run_trace(R, false);
                if (text) {
                        int r = complete(R, text, res, err);
                        free(text);
                        return r;
                }
        }
}
