/* SPDX-License-Identifier: MIT */
/*
 * `bridle mcp serve` (server.h): the lifecycle (initialize, initialized,
 * ping), tools/list and tools/call over a living sandbox, each call decided
 * by the gateway; "ask" becomes an elicitation/create request to the client.
 * Single-threaded: one message at a time; while an approval is pending, the
 * client's other requests wait in a bounded queue.
 */
#include "mcp/server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridle/manifest.h"
#include "bridle/sandbox.h"
#include "gateway/gateway.h"
#include "mcp/jsonrpc.h"
#include "tools/tools.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/error.h"

const char *const bridle__mcp_versions[3] = {"2025-11-25", "2025-06-18", "2025-03-26"};

static const char *const builtin_names[] = {"exec_command", "write_stdin", "read_file",  "write_file",
                                            "list_dir",     "search",      "apply_patch"};

typedef struct srv {
        int out_fd;
        uint32_t elicit_ms;
        const volatile int *stop;
        bridle__rpc_reader *rd;
        bridle__policy *policy;
        bridle_manifest *manifest;
        bridle__tools *tools;
        json_t *defs;       /* the registry's definitions: schemas for checks */
        char *sandbox_id;   /* NULL until the first call */
        bridle_egress *egress; /* the proxy, when the policy's network is an allowlist */
        json_t *structured; /* structuredContent a C tool left for its result */
        bool initialized, elicit;
        bool eof;
        json_int_t next_id;
        char *queue[BRIDLE__MCP_QUEUE_MAX];
        size_t queue_len[BRIDLE__MCP_QUEUE_MAX];
        size_t nq;
        bridle_error werr; /* a failed write ends the server */
        bool write_failed;
} srv;

#define STOP_POLL_MS 250

static bool stopped(const srv *s)
{
        /* set by a signal handler or another thread (mcp serve --http) */
        return s->stop && __atomic_load_n(s->stop, __ATOMIC_RELAXED);
}

static int64_t mono_ms(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- sending ---------------------------------------------------------------- */

static void send_msg(srv *s, json_t *msg)
{
        if (!msg) {
                s->write_failed = true;
                (void)bridle__err(&s->werr, -ENOMEM, "mcp message");
                return;
        }
        if (!s->write_failed && bridle__rpc_write(s->out_fd, msg, BRIDLE__MCP_WRITE_MS, &s->werr) < 0)
                s->write_failed = true;
        json_decref(msg);
}

static int send_error(srv *s, const json_t *id, int code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int send_error(srv *s, const json_t *id, int code, const char *fmt, ...)
{
        char text[768];
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        send_msg(s, bridle__rpc_error(id, code, text));
        return 0;
}

/* A tools/call result: one text item, isError, structuredContent (stolen, may be NULL). */
static int send_tool_result(srv *s, const json_t *id, const char *text, bool is_error, json_t *structured)
{
        json_t *res = json_pack("{s:[{s:s,s:s}],s:b}", "content", "type", "text", "text", text ?: "", "isError",
                                is_error);
        if (res && structured)
                (void)json_object_set(res, "structuredContent", structured);
        json_decref(structured);
        send_msg(s, res ? bridle__rpc_result(id, res) : NULL);
        return 0;
}

/* ---- the sandbox -------------------------------------------------------------- */

static bool allow_host(void *ud, const char *host)
{
        const srv *s = ud;
        return bridle__policy_host_allowed(s->policy, host);
}

/* The manifest, the policy's network and path rules, as the runner makes its sandboxes. */
static int make_spec(srv *s, bridle_sandbox_spec **ret, bridle_error *err)
{
        bridle_sandbox_spec *spec = bridle_sandbox_spec_new();
        if (!spec)
                return bridle__err(err, -ENOMEM, "sandbox spec");
        int r = s->manifest ? bridle_manifest_apply(s->manifest, spec, err) : 0;
        /* network: {mode: allowlist}: the sandbox reaches the listed hosts
         * through a proxy of this process (docs/egress.md), as a run's does */
        if (r == 0 && bridle__policy_settings_get(s->policy)->network == BRIDLE__NETWORK_ALLOWLIST) {
                if (!s->egress) {
                        const char *tm = getenv("BRIDLE_TESTING") && !strcmp(getenv("BRIDLE_TESTING"), "1")
                                                 ? getenv("BRIDLE_EGRESS_TEST_MAP")
                                                 : NULL;
                        bridle_egress_opts o = {.allow = allow_host, .allow_data = s, .test_map = tm};
                        r = bridle_egress_start(&o, &s->egress, err);
                }
                if (r == 0)
                        r = bridle_sandbox_spec_set_egress(spec, bridle_egress_dir(s->egress), err);
        }
        static const char *const default_deny_write[] = {".git/**", ".agents/**"};
        const bridle__policy_settings *ps = bridle__policy_settings_get(s->policy);
        size_t nw = ps ? ps->n_deny_write : 0;
        for (size_t i = 0; r == 0 && i < (nw ? nw : ELEMENTSOF(default_deny_write)); i++)
                r = bridle_sandbox_spec_protect(spec, nw ? ps->deny_write[i] : default_deny_write[i], false, err);
        for (size_t i = 0; r == 0 && ps && i < ps->n_deny_read; i++)
                r = bridle_sandbox_spec_protect(spec, ps->deny_read[i], true, err);
        if (r < 0) {
                bridle_sandbox_spec_free(spec);
                return r;
        }
        *ret = spec;
        return 0;
}

static const char *env_sandbox(void *ud, bridle_error *err)
{
        srv *s = ud;
        if (s->sandbox_id)
                return s->sandbox_id;
        bridle_sandbox_spec *spec = NULL;
        if (make_spec(s, &spec, err) < 0)
                return NULL;
        int r = bridle_sandbox_create(spec, NULL, &s->sandbox_id, err);
        bridle_sandbox_spec_free(spec);
        if (r < 0) {
                s->sandbox_id = NULL;
                return NULL;
        }
        bridle__log(6, "mcp: sandbox %s made", s->sandbox_id);
        return s->sandbox_id;
}

static void drop_sandbox(srv *s)
{
        if (!s->sandbox_id)
                return;
        (void)bridle_sandbox_destroy(s->sandbox_id, NULL);
        free(s->sandbox_id);
        s->sandbox_id = NULL;
}

static int tool_snapshot(void *ud, const bridle__tool_env *env, const json_t *args, char **ret_output,
                         bridle_error *err)
{
        srv *s = ud;
        const char *id = env->sandbox(env->ud, err);
        if (!id)
                return err && err->code ? err->code : BRIDLE_E_SANDBOX;
        char *snap = NULL;
        int r = bridle_sandbox_snapshot(id, json_string_value(json_object_get(args, "label")), &snap, err);
        if (r < 0)
                return r;
        json_decref(s->structured);
        s->structured = json_pack("{s:s}", "snapshot_id", snap);
        r = asprintf(ret_output, "snapshot %s", snap);
        free(snap);
        return r < 0 ? bridle__err(err, -ENOMEM, "snapshot") : 0;
}

static int tool_restore(void *ud, const bridle__tool_env *env, const json_t *args, char **ret_output,
                        bridle_error *err)
{
        srv *s = ud;
        (void)env;
        const char *snap = json_string_value(json_object_get(args, "snapshot_id"));
        bridle_sandbox_spec *spec = NULL;
        char *id = NULL;
        int r = make_spec(s, &spec, err);
        if (r == 0)
                r = bridle_sandbox_restore_with(snap, spec, NULL, &id, err);
        bridle_sandbox_spec_free(spec);
        if (r < 0)
                return r;
        drop_sandbox(s);
        s->sandbox_id = id;
        json_decref(s->structured);
        s->structured = json_pack("{s:s,s:s}", "sandbox_id", id, "restored_from", snap);
        r = asprintf(ret_output, "the workspace is now snapshot %s (sandbox %s)", snap, id);
        return r < 0 ? bridle__err(err, -ENOMEM, "restore") : 0;
}

static int add_tools(srv *s, bridle_error *err)
{
        int r = bridle__tools_new(&s->tools, err);
        for (size_t i = 0; r == 0 && i < ELEMENTSOF(builtin_names); i++)
                r = bridle__tools_add_builtin(s->tools, builtin_names[i], err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *snap_params = json_loads(
                "{\"type\":\"object\",\"properties\":{\"label\":{\"type\":\"string\",\"maxLength\":200,"
                "\"description\":\"A label kept with the snapshot.\"}},\"additionalProperties\":false}",
                0, NULL);
        _cleanup_json_ json_t *restore_params = json_loads(
                "{\"type\":\"object\",\"properties\":{\"snapshot_id\":{\"type\":\"string\",\"minLength\":1,"
                "\"maxLength\":128,\"description\":\"A snapshot's id, as snapshot returned it.\"}},"
                "\"required\":[\"snapshot_id\"],\"additionalProperties\":false}",
                0, NULL);
        if (!snap_params || !restore_params)
                return bridle__err(err, -ENOMEM, "tools");
        r = bridle__tools_add_fn(s->tools, "snapshot",
                                 "Save the workspace as it is now; returns a snapshot id for restore.", snap_params,
                                 false, tool_snapshot, s, err);
        if (r == 0)
                r = bridle__tools_add_fn(s->tools, "restore",
                                         "Replace the workspace (and end its running sessions) with a snapshot "
                                         "taken earlier.",
                                         restore_params, false, tool_restore, s, err);
        if (r < 0)
                return r;
        s->defs = bridle__tools_defs(s->tools);
        return s->defs ? 0 : bridle__err(err, -ENOMEM, "tools");
}

static const json_t *tool_def(const srv *s, const char *name)
{
        size_t i;
        const json_t *d;
        json_array_foreach(s->defs, i, d)
        {
                if (!strcmp(json_string_value(json_object_get(d, "name")) ?: "", name))
                        return d;
        }
        return NULL;
}

/* ---- methods ------------------------------------------------------------------ */

static int do_initialize(srv *s, const bridle__rpc_msg *m)
{
        if (s->initialized)
                return send_error(s, m->id, BRIDLE__RPC_INVALID_REQUEST, "already initialized");
        const json_t *p = m->params;
        const char *v = json_string_value(json_object_get(p, "protocolVersion"));
        const json_t *caps = json_object_get(p, "capabilities");
        if (!json_is_object(p) || !v || (caps && !json_is_object(caps)))
                return send_error(s, m->id, BRIDLE__RPC_INVALID_PARAMS,
                                  "initialize needs params {protocolVersion: string, capabilities: object}");
        const char *answer = bridle__mcp_versions[0];
        for (size_t i = 0; i < ELEMENTSOF(bridle__mcp_versions); i++)
                if (!strcmp(v, bridle__mcp_versions[i]))
                        answer = bridle__mcp_versions[i];
        /* Form-mode elicitation: {} (before 2025-11-25, and its default) or {form: ...}. */
        const json_t *el = json_object_get(caps, "elicitation");
        s->elicit = json_is_object(el) && (json_object_size(el) == 0 || json_object_get(el, "form"));
        json_t *res = json_pack("{s:s,s:{s:{s:b}},s:{s:s,s:s},s:s}", "protocolVersion", answer, "capabilities",
                                "tools", "listChanged", 0, "serverInfo", "name", "bridle", "version",
                                bridle_version(), "instructions",
                                "Tools over one bridle sandbox (a workspace at /workspace). Each call passes "
                                "the gateway's policy first: some may be refused or need your approval.");
        s->initialized = true;
        send_msg(s, res ? bridle__rpc_result(m->id, res) : NULL);
        return 0;
}

static int do_tools_list(srv *s, const bridle__rpc_msg *m)
{
        const json_t *cursor = json_object_get(m->params, "cursor");
        if (cursor)
                return send_error(s, m->id, BRIDLE__RPC_INVALID_PARAMS, "unknown cursor: the list is one page");
        json_t *tools = json_array();
        size_t i;
        const json_t *d;
        json_array_foreach(s->defs, i, d)
        {
                const char *name = json_string_value(json_object_get(d, "name"));
                bool ro = bridle__tools_read_only(s->tools, name);
                json_t *t = json_pack("{s:s,s:O,s:O,s:{s:b,s:b,s:b}}", "name", name, "description",
                                      json_object_get(d, "description"), "inputSchema",
                                      json_object_get(d, "parameters"), "annotations", "readOnlyHint", ro,
                                      "destructiveHint", !ro, "openWorldHint", 0);
                if (!t || json_array_append_new(tools, t) < 0) {
                        json_decref(tools);
                        return send_error(s, m->id, BRIDLE__RPC_INTERNAL_ERROR, "out of memory");
                }
        }
        json_t *res = tools ? json_pack("{s:o}", "tools", tools) : NULL;
        send_msg(s, res ? bridle__rpc_result(m->id, res) : NULL);
        return 0;
}

static int enqueue(srv *s, const char *line, size_t len, const bridle__rpc_msg *m)
{
        char *copy = s->nq < BRIDLE__MCP_QUEUE_MAX ? bridle__malloc(len + 1) : NULL;
        if (!copy)
                return send_error(s, m->id, BRIDLE__RPC_INTERNAL_ERROR,
                                  "too many requests while an approval is pending");
        memcpy(copy, line, len);
        copy[len] = '\0';
        s->queue[s->nq] = copy;
        s->queue_len[s->nq++] = len;
        return 0;
}

static void handle_line(srv *s, const char *line, size_t len);

enum approval { APPROVED, REFUSED, CANCELLED };

/* Ask the client. why (cap bytes) says what happened when not approved. */
static enum approval elicit(srv *s, const json_t *call_id, const char *name, const json_t *args,
                            const bridle__verdict *v, char *why, size_t cap)
{
        _cleanup_free_ char *a = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);
        char message[2048];
        (void)snprintf(message, sizeof(message), "bridle's policy asks before this call (%s%s%s): %s %.600s", v->rule,
                       v->reason[0] ? ": " : "", v->reason, name, a ?: "{}");
        json_int_t id = ++s->next_id;
        json_t *params = json_pack(
                "{s:s,s:{s:s,s:{s:{s:s,s:s,s:s,s:b}},s:[s]}}", "message", message, "requestedSchema", "type",
                "object", "properties", "approve", "type", "boolean", "title", "Approve", "description",
                "Run this call in the sandbox", "default", 0, "required", "approve");
        send_msg(s, params ? bridle__rpc_request(id, "elicitation/create", params) : NULL);
        int64_t deadline = mono_ms() + s->elicit_ms;
        /* Bounded by the deadline and by the messages one can send in it. */
        for (unsigned n = 0; n < 1000000 && !s->write_failed; n++) {
                int64_t left = deadline - mono_ms();
                if (left <= 0)
                        break;
                if (stopped(s)) {
                        s->eof = true;
                        (void)snprintf(why, cap, "the server is stopping");
                        return CANCELLED;
                }
                char *line = NULL;
                size_t len = 0;
                int r = bridle__rpc_read_line(s->rd, (int)(left > STOP_POLL_MS ? STOP_POLL_MS : left), &line, &len);
                if (r == -ETIMEDOUT)
                        continue;
                if (r == -EMSGSIZE) {
                        send_error(s, NULL, BRIDLE__RPC_INVALID_REQUEST, "message too large");
                        continue;
                }
                if (r < 0 || !line) {
                        s->eof = true;
                        (void)snprintf(why, cap, "the client went away before answering");
                        return CANCELLED;
                }
                bridle__rpc_msg m;
                int code = 0;
                char reason[160];
                if (bridle__rpc_parse(line, len, &m, &code, reason, sizeof(reason)) == 0) {
                        bool mine = m.id && json_is_integer(m.id) && json_integer_value(m.id) == id;
                        if ((m.kind == BRIDLE__RPC_RESULT || m.kind == BRIDLE__RPC_ERROR) && mine) {
                                enum approval out = REFUSED;
                                const char *action = json_string_value(json_object_get(m.result, "action"));
                                const json_t *ok = json_object_get(json_object_get(m.result, "content"), "approve");
                                if (m.kind == BRIDLE__RPC_ERROR)
                                        (void)snprintf(why, cap, "the approval request failed: %s",
                                                       m.error_message ?: "error");
                                else if (action && !strcmp(action, "accept") && json_is_true(ok))
                                        out = APPROVED;
                                else if (action && !strcmp(action, "accept"))
                                        (void)snprintf(why, cap, "the user did not approve it");
                                else
                                        (void)snprintf(why, cap, "the user answered '%s'", action ?: "?");
                                bridle__rpc_msg_clear(&m);
                                free(line);
                                return out;
                        }
                        if (m.kind == BRIDLE__RPC_NOTIFICATION && !strcmp(m.method, "notifications/cancelled") &&
                            call_id && json_equal(json_object_get(m.params, "requestId"), call_id)) {
                                bridle__rpc_msg_clear(&m);
                                free(line);
                                return CANCELLED;
                        }
                        if (m.kind == BRIDLE__RPC_REQUEST && strcmp(m.method, "ping") != 0)
                                (void)enqueue(s, line, len, &m);
                        else
                                handle_line(s, line, len);
                } else {
                        handle_line(s, line, len); /* its error answer */
                }
                bridle__rpc_msg_clear(&m);
                free(line);
        }
        (void)snprintf(why, cap, "no answer to the approval request in time");
        return REFUSED;
}

static int do_tools_call(srv *s, const bridle__rpc_msg *m)
{
        const json_t *p = m->params;
        const char *name = json_string_value(json_object_get(p, "name"));
        const json_t *args = json_object_get(p, "arguments");
        if (!json_is_object(p) || !name)
                return send_error(s, m->id, BRIDLE__RPC_INVALID_PARAMS, "tools/call needs params {name, arguments}");
        const json_t *def = tool_def(s, name);
        if (!def)
                return send_error(s, m->id, BRIDLE__RPC_INVALID_PARAMS, "unknown tool '%.200s'", name);
        _cleanup_json_ json_t *empty = json_object();
        if (!args || json_is_null(args))
                args = empty;
        if (!json_is_object(args))
                return send_error(s, m->id, BRIDLE__RPC_INVALID_PARAMS, "'arguments' is not an object");
        bridle_error e = {0};
        if (bridle__schema_check(json_object_get(def, "parameters"), args, &e) < 0)
                return send_error(s, m->id, BRIDLE__RPC_INVALID_PARAMS, "%s: %s", name, e.msg);

        bridle__verdict v;
        if (bridle__gateway_decide_args(s->policy, name, args, &v, &e) < 0)
                return send_error(s, m->id, BRIDLE__RPC_INTERNAL_ERROR, "gateway: %s", e.msg);
        char text[1024];
        if (v.decision == BRIDLE__DENY) {
                (void)snprintf(text, sizeof(text), "denied by policy (%s)%s%s", v.rule, v.reason[0] ? ": " : "",
                               v.reason);
                return send_tool_result(s, m->id, text, true, NULL);
        }
        if (v.decision == BRIDLE__ASK) {
                if (!s->elicit) {
                        (void)snprintf(text, sizeof(text),
                                       "refused: the policy asks for an approval (%s)%s%s and this client cannot "
                                       "be asked (no elicitation capability)",
                                       v.rule, v.reason[0] ? ": " : "", v.reason);
                        return send_tool_result(s, m->id, text, true, NULL);
                }
                char why[256] = "";
                enum approval a = elicit(s, m->id, name, args, &v, why, sizeof(why));
                if (a == CANCELLED || s->write_failed)
                        return 0; /* a cancelled request is not answered */
                if (a == REFUSED) {
                        (void)snprintf(text, sizeof(text), "refused: not approved (%s): %s", v.rule, why);
                        return send_tool_result(s, m->id, text, true, NULL);
                }
        }

        _cleanup_free_ char *atext = json_dumps(args, JSON_COMPACT);
        if (!atext)
                return send_error(s, m->id, BRIDLE__RPC_INTERNAL_ERROR, "out of memory");
        bridle__tool_env env = {.sandbox = env_sandbox, .ud = s, .timeout_ms = v.timeout_ms};
        bridle__tool_result res = {0};
        json_decref(s->structured);
        s->structured = NULL;
        int r = bridle__tools_call(s->tools, &env, name, atext, &res, &e);
        if (r < 0 && r != BRIDLE_E_SANDBOX) {
                bridle__tool_result_clear(&res);
                return send_error(s, m->id, BRIDLE__RPC_INTERNAL_ERROR, "%s: %s", name, e.msg);
        }
        if (res.sandbox_failed)
                drop_sandbox(s); /* the next call makes a new one */
        json_t *st = res.ok ? s->structured : NULL;
        if (!res.ok)
                json_decref(s->structured);
        s->structured = NULL;
        send_tool_result(s, m->id, res.output, !res.ok, st);
        bridle__tool_result_clear(&res);
        return 0;
}

static void handle_line(srv *s, const char *line, size_t len)
{
        bridle__rpc_msg m;
        int code = 0;
        char why[160];
        if (bridle__rpc_parse(line, len, &m, &code, why, sizeof(why)) < 0) {
                send_error(s, code == BRIDLE__RPC_PARSE_ERROR ? NULL : m.id, code, "%s", why);
                bridle__rpc_msg_clear(&m);
                return;
        }
        switch (m.kind) {
        case BRIDLE__RPC_REQUEST:
                if (!strcmp(m.method, "ping"))
                        send_msg(s, bridle__rpc_result(m.id, json_object()));
                else if (!strcmp(m.method, "initialize"))
                        (void)do_initialize(s, &m);
                else if (!s->initialized)
                        send_error(s, m.id, BRIDLE__RPC_INVALID_REQUEST,
                                   "not initialized: send 'initialize' first");
                else if (!strcmp(m.method, "tools/list"))
                        (void)do_tools_list(s, &m);
                else if (!strcmp(m.method, "tools/call"))
                        (void)do_tools_call(s, &m);
                else
                        send_error(s, m.id, BRIDLE__RPC_METHOD_NOT_FOUND, "method '%.200s' not found", m.method);
                break;
        case BRIDLE__RPC_NOTIFICATION: /* never answered: initialized, cancelled, ... */
                bridle__log(7, "mcp: notification %s", m.method);
                break;
        case BRIDLE__RPC_RESULT:
        case BRIDLE__RPC_ERROR:
        default: /* a response to no request of ours that is pending */
                bridle__log(7, "mcp: unexpected response dropped");
                break;
        }
        bridle__rpc_msg_clear(&m);
}

int bridle_mcp_serve(const bridle_mcp_serve_opts *o, bridle_error *err)
{
        if (!o || o->in_fd < 0 || o->out_fd < 0)
                return bridle__err(err, -EINVAL, "mcp serve: no input or output");
        srv s = {.out_fd = o->out_fd, .elicit_ms = o->elicit_timeout_ms ?: BRIDLE__MCP_ELICIT_MS, .stop = o->stop};
        int r = 0;
        if (o->policy_path)
                r = bridle__policy_load(o->policy_path, &s.policy, err);
        else if (!(s.policy = bridle__policy_default()))
                r = bridle__err(err, -ENOMEM, "policy");
        if (r == 0 && o->manifest_path)
                r = bridle_manifest_load(o->manifest_path, &s.manifest, err);
        if (r == 0)
                r = add_tools(&s, err);
        if (r == 0 && !(s.rd = bridle__rpc_reader_new(o->in_fd)))
                r = bridle__err(err, -ENOMEM, "mcp reader");
        while (r == 0 && !s.eof && !s.write_failed && !stopped(&s)) {
                if (s.nq > 0) {
                        char *line = s.queue[0];
                        size_t len = s.queue_len[0];
                        memmove(s.queue, s.queue + 1, --s.nq * sizeof(s.queue[0]));
                        memmove(s.queue_len, s.queue_len + 1, s.nq * sizeof(s.queue_len[0]));
                        handle_line(&s, line, len);
                        free(line);
                        continue;
                }
                char *line = NULL;
                size_t len = 0;
                int rr = bridle__rpc_read_line(s.rd, s.stop ? STOP_POLL_MS : -1, &line, &len);
                if (rr == -ETIMEDOUT)
                        continue;
                if (rr == -EMSGSIZE) {
                        send_error(&s, NULL, BRIDLE__RPC_INVALID_REQUEST, "message too large");
                        continue;
                }
                if (rr < 0) {
                        r = bridle__err(err, rr, "reading the client's messages");
                        break;
                }
                if (!line) {
                        s.eof = true;
                        break;
                }
                handle_line(&s, line, len);
                free(line);
        }
        if (r == 0 && s.write_failed) {
                r = s.werr.code ?: -EIO;
                (void)bridle__err(err, r, "writing to the client: %s", s.werr.msg);
        }
        for (size_t i = 0; i < s.nq; i++)
                free(s.queue[i]);
        drop_sandbox(&s);
        s.egress = bridle_egress_stop(s.egress);
        json_decref(s.structured);
        json_decref(s.defs);
        bridle__tools_free(s.tools);
        bridle_manifest_free(s.manifest);
        bridle__policy_free(s.policy);
        bridle__rpc_reader_free(s.rd);
        return r;
}
