/* SPDX-License-Identifier: MIT */
/*
 * Spans from a run's events (trace.h, docs/trace.md). One pass over the
 * events in seq order keeps the spans that are open (the run, the current
 * agent, turn and model request, each tool call by call_id, each sandbox by
 * id, each approval by call_id) and closes them as their ending events come.
 * What is still open at the end ends at the run's last event. Then every
 * string is put through the secret scanner and cut to the cap, and the spans
 * are sorted by start.
 *
 * A malformed event (data that is not an object, a missing call_id) is
 * skipped: a trace shows what can be shown.
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/guard.h"
#include "trace/trace.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

#define MAX_EVENTS ((size_t)1 << 22) /* events one trace reads */

typedef struct builder {
        char run_id[65];
        json_t *spans;      /* span objects, in creation order */
        json_t *calls;      /* call_id -> index of its open tool span */
        json_t *last_call;  /* call_id -> index of its latest tool span */
        json_t *execs;      /* call_id -> index of its open "sandbox exec" or "mcp call" */
        json_t *approvals;  /* call_id -> index of its open approval */
        json_t *sandboxes;  /* sandbox_id -> index of its open sandbox span */
        json_t *items;      /* call_id -> the call item of a model.response */
        const json_t *agents; /* name -> agent definition (run.started) */
        long run, agent, turn, chat, sandbox; /* open spans (-1: none) */
        int64_t first_ts, last_ts;
        int64_t in_tokens, out_tokens, responses;
        double cost;
        bool oom;
} builder;

/* ---- span ids ----------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
        const unsigned char *s = p;
        for (size_t i = 0; i < n; i++) {
                h ^= s[i];
                h *= 0x100000001b3ULL;
        }
        return h;
}

static uint64_t mix(uint64_t x)
{
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9ULL;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebULL;
        x ^= x >> 31;
        return x ? x : 1;
}

/* 16 hex digits from the run id, the seq of the opening event and a tag. */
static void span_id(const char *run_id, int64_t seq, const char *tag, char out[17])
{
        char buf[64];
        int n = snprintf(buf, sizeof(buf), ":%" PRId64 ":%s", seq, tag);
        uint64_t h = fnv(0xcbf29ce484222325ULL, run_id, strlen(run_id));
        h = fnv(h, buf, n > 0 ? (size_t)n : 0);
        (void)snprintf(out, 17, "%016" PRIx64, mix(h));
}

static bool is_hex32(const char *s)
{
        if (strlen(s) != 32)
                return false;
        for (size_t i = 0; i < 32; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

/* The run id when it is 32 lower-case hex digits (it always is in a
 * journal), else 32 hex digits derived from it. */
static void trace_id(const char *run_id, char out[33])
{
        if (is_hex32(run_id)) {
                memcpy(out, run_id, 33);
                return;
        }
        uint64_t a = mix(fnv(0xcbf29ce484222325ULL, run_id, strlen(run_id)));
        uint64_t b = mix(a ^ 0x9e3779b97f4a7c15ULL);
        (void)snprintf(out, 33, "%016" PRIx64 "%016" PRIx64, a, b);
}

/* ---- small helpers ------------------------------------------------------------- */

static json_t *at(const builder *b, long idx)
{
        return idx < 0 ? NULL : json_array_get(b->spans, (size_t)idx);
}

static long idx_of(const json_t *map, const char *key)
{
        const json_t *v = key ? json_object_get(map, key) : NULL;
        return json_is_integer(v) ? (long)json_integer_value(v) : -1;
}

static void map_set(builder *b, json_t *map, const char *key, long idx)
{
        if (key && json_object_set_new(map, key, json_integer(idx)) < 0)
                b->oom = true;
}

static void set(builder *b, json_t *obj, const char *key, json_t *v)
{
        if (!obj) {
                json_decref(v);
                return;
        }
        if (!v || json_object_set_new(obj, key, v) < 0)
                b->oom = true;
}

static json_t *attrs(json_t *span)
{
        return json_object_get(span, "attributes");
}

static void attr(builder *b, long idx, const char *key, json_t *v)
{
        set(b, attrs(at(b, idx)), key, v);
}

static void attr_str(builder *b, long idx, const char *key, const char *s)
{
        if (s)
                attr(b, idx, key, json_string(s));
}

/* A member of data copied as an attribute when it is there (any scalar). */
static void attr_copy(builder *b, long idx, const char *key, const json_t *data, const char *member)
{
        const json_t *v = json_object_get(data, member);
        if (json_is_string(v) || json_is_integer(v) || json_is_real(v) || json_is_boolean(v))
                attr(b, idx, key, json_copy((json_t *)v));
}

/* USD to the nano-dollar: prints short ("0.000636") and reads back the same. */
static json_t *usd(double v)
{
        return json_real(round(v * 1e9) / 1e9);
}

static const char *str(const json_t *data, const char *key)
{
        return json_string_value(json_object_get(data, key));
}

static long span_new(builder *b, long parent, int64_t seq, const char *tag, const char *name, int64_t start)
{
        char id[17];
        span_id(b->run_id, seq, tag, id);
        char tid[33];
        trace_id(b->run_id, tid);
        json_t *s = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:{}, s:[]}", "trace_id", tid, "span_id", id, "name",
                              name, "kind", "internal", "start_ms", (json_int_t)start, "status", "ok", "attributes",
                              "events");
        const json_t *p = at(b, parent);
        if (s && p)
                set(b, s, "parent_span_id", json_copy(json_object_get(p, "span_id")));
        if (!s || json_array_append_new(b->spans, s) < 0) {
                b->oom = true;
                return -1;
        }
        return (long)json_array_size(b->spans) - 1;
}

static void span_end(builder *b, long idx, int64_t ts)
{
        json_t *s = at(b, idx);
        if (!s || json_object_get(s, "end_ms"))
                return;
        int64_t start = json_integer_value(json_object_get(s, "start_ms"));
        set(b, s, "end_ms", json_integer(ts < start ? start : ts));
}

static void span_error(builder *b, long idx, const char *msg)
{
        json_t *s = at(b, idx);
        set(b, s, "status", json_string("error"));
        set(b, s, "status_message", json_string(msg && *msg ? msg : "error"));
}

/* A span event; attributes: the members of data named in keys (NULL-ended). */
static void span_event(builder *b, long idx, const char *name, int64_t ts, const json_t *data,
                       const char *const *keys)
{
        json_t *s = at(b, idx);
        if (!s)
                return;
        json_t *a = json_object();
        for (size_t i = 0; a && keys && keys[i]; i++) {
                const json_t *v = json_object_get(data, keys[i]);
                if (json_is_string(v) || json_is_integer(v) || json_is_real(v) || json_is_boolean(v))
                        set(b, a, keys[i], json_copy((json_t *)v));
        }
        json_t *e = a ? json_pack("{s:s, s:I, s:o}", "name", name, "time_ms", (json_int_t)ts, "attributes", a) : NULL;
        if (!e || json_array_append_new(json_object_get(s, "events"), e) < 0)
                b->oom = true;
}

static const json_t *agent_def(const builder *b, const char *name)
{
        return name ? json_object_get(b->agents, name) : NULL;
}

/* gen_ai.system: the provider's vendor ("openai" for both OpenAI wire
 * formats), else the provider's name. */
static const char *gen_ai_system(const char *provider)
{
        if (!provider)
                return NULL;
        return strncmp(provider, "openai", 6) == 0 ? "openai" : provider;
}

/* An item's text: a string "output" as is, anything else as compact JSON. */
static char *item_text(const json_t *v)
{
        if (json_is_string(v))
                return bridle__strdup(json_string_value(v));
        return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

/* A call item's arguments: function_call's string, else the native item's
 * action or operation as JSON. */
static char *call_arguments(const json_t *item)
{
        const json_t *a = json_object_get(item, "arguments");
        if (!a)
                a = json_object_get(item, "action");
        if (!a)
                a = json_object_get(item, "operation");
        return item_text(a);
}

static const char *call_name(const json_t *item)
{
        const char *n = str(item, "name");
        const char *t = str(item, "type");
        if (n)
                return n;
        if (t && strcmp(t, "shell_call") == 0)
                return "shell";
        if (t && strcmp(t, "apply_patch_call") == 0)
                return "apply_patch";
        return t ? t : "call";
}

/* ---- the run and its agents --------------------------------------------------- */

static void open_agent(builder *b, int64_t seq, int64_t ts, const char *name)
{
        char label[160];
        (void)snprintf(label, sizeof(label), "agent %s", name ? name : "?");
        long a = span_new(b, b->run, seq, "agent", label, ts);
        const json_t *def = agent_def(b, name);
        attr_str(b, a, "gen_ai.agent.name", name);
        attr_str(b, a, "gen_ai.request.model", str(def, "model"));
        attr_str(b, a, "gen_ai.system", gen_ai_system(str(def, "provider")));
        attr_str(b, a, "bridle.provider", str(def, "provider"));
        attr_str(b, a, "bridle.base_url", str(def, "base_url"));
        attr_str(b, a, "bridle.agent.instructions", str(def, "instructions"));
        const json_t *tools = json_object_get(def, "tools");
        if (json_is_array(tools))
                attr(b, a, "bridle.agent.tools", json_deep_copy(tools));
        b->agent = a;
}

static void on_run_started(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        if (b->run >= 0)
                return;
        b->run = span_new(b, -1, seq, "run", "run", ts);
        attr_str(b, b->run, "bridle.run.id", b->run_id);
        attr_str(b, b->run, "bridle.task", str(d, "task"));
        attr_str(b, b->run, "gen_ai.agent.name", str(d, "agent"));
        attr_str(b, b->run, "bridle.agent_file", str(d, "agent_file"));
        const json_t *ag = json_object_get(d, "agents");
        b->agents = json_is_object(json_object_get(ag, "agents")) ? json_object_get(ag, "agents") : ag;
        const json_t *pol = json_object_get(d, "policy");
        if (pol && !json_is_null(pol)) {
                char *t = item_text(pol);
                attr_str(b, b->run, "bridle.policy", t ? t : "");
                free(t);
        }
        json_t *paths = json_array();
        const char *p;
        const json_t *h;
        json_object_foreach((json_t *)json_object_get(d, "manifests"), p, h)
        {
                if (paths && json_array_append_new(paths, json_string(p)) < 0)
                        b->oom = true;
        }
        attr(b, b->run, "bridle.manifests", paths);
        const json_t *opt = json_object_get(d, "options");
        attr_copy(b, b->run, "bridle.max_turns", opt, "max_turns");
        open_agent(b, seq, ts, str(d, "agent"));
}

static void on_handoff(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        long h = span_new(b, b->run, seq, "handoff", "handoff", ts);
        span_end(b, h, ts);
        attr_str(b, h, "bridle.handoff.from", str(d, "from"));
        attr_str(b, h, "bridle.handoff.to", str(d, "to"));
        attr_str(b, h, "gen_ai.tool.call.id", str(d, "call_id"));
        span_end(b, b->chat, ts);
        span_end(b, b->turn, ts);
        span_end(b, b->agent, ts);
        b->chat = b->turn = -1;
        open_agent(b, seq, ts, str(d, "to"));
}

static void on_run_status(builder *b, int64_t ts, const json_t *d)
{
        static const char *const keys[] = {"status", "reason", "where", NULL};
        span_event(b, b->run, "status", ts, d, keys);
        const char *s = str(d, "status");
        attr_str(b, b->run, "bridle.run.status", s);
        json_t *run = at(b, b->run);
        if (s && strcmp(s, "failed") == 0) {
                span_error(b, b->run, str(d, "reason"));
        } else if (run) {
                set(b, run, "status", json_string("ok"));
                (void)json_object_del(run, "status_message");
        }
        attr_str(b, b->run, "bridle.final_output", str(d, "final_output"));
        attr_str(b, b->run, "bridle.run.where", str(d, "where"));
        attr_str(b, b->run, "bridle.run.reason", str(d, "reason"));
}

static void on_guardrail(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        long g = span_new(b, b->run, seq, "guardrail", "guardrail", ts);
        span_end(b, g, ts);
        attr_copy(b, g, "bridle.guardrail.kind", d, "kind");
        attr_copy(b, g, "bridle.guardrail.index", d, "index");
        attr_copy(b, g, "bridle.guardrail.type", d, "type");
        attr_copy(b, g, "bridle.guardrail.reason", d, "reason");
        span_error(b, g, str(d, "reason"));
}

static void on_checkpoint(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        const json_t *ms = json_object_get(d, "ms");
        int64_t start = ts - (json_is_integer(ms) && json_integer_value(ms) > 0 ? json_integer_value(ms) : 0);
        if (start < b->first_ts)
                start = b->first_ts;
        long c = span_new(b, b->run, seq, "checkpoint", "checkpoint", start);
        span_end(b, c, ts);
        attr_copy(b, c, "bridle.snapshot.id", d, "snapshot_id");
        attr_copy(b, c, "bridle.sandbox.id", d, "sandbox_id");
        attr_copy(b, c, "bridle.checkpoint.reason", d, "reason");
        attr_copy(b, c, "gen_ai.tool.call.id", d, "call_id");
        attr_copy(b, c, "bridle.checkpoint.calls", d, "calls");
        attr_copy(b, c, "bridle.checkpoint.ms", d, "ms");
        attr_copy(b, c, "bridle.checkpoint.bytes", d, "bytes");
}

/* ---- sandboxes ------------------------------------------------------------------ */

static void on_sandbox_created(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        const char *id = str(d, "sandbox_id"), *old = str(d, "replaces");
        if (!id)
                return;
        long prev = idx_of(b->sandboxes, old);
        if (prev >= 0) {
                span_end(b, prev, ts);
                attr_str(b, prev, "bridle.sandbox.replaced_by", id);
                (void)json_object_del(b->sandboxes, old);
        }
        span_end(b, idx_of(b->sandboxes, id), ts);
        long s = span_new(b, b->run, seq, "sandbox", "sandbox", ts);
        attr_str(b, s, "bridle.sandbox.id", id);
        attr_copy(b, s, "bridle.sandbox.manifest", d, "manifest");
        attr_str(b, s, "bridle.sandbox.replaces", old);
        attr_copy(b, s, "bridle.sandbox.reason", d, "reason");
        attr_copy(b, s, "bridle.snapshot.id", d, "restored_from");
        map_set(b, b->sandboxes, id, s);
        b->sandbox = s;
}

static void on_sandbox_destroyed(builder *b, int64_t ts, const json_t *d)
{
        const char *id = str(d, "sandbox_id");
        long s = idx_of(b->sandboxes, id);
        if (s < 0)
                return;
        span_end(b, s, ts);
        attr(b, s, "bridle.sandbox.destroyed", json_true());
        (void)json_object_del(b->sandboxes, id);
        if (b->sandbox == s)
                b->sandbox = -1;
}

static void on_egress(builder *b, int64_t ts, const json_t *d)
{
        static const char *const keys[] = {"method", "host", "port", "address", "bytes_up", "bytes_down",
                                           "allowed", "status", "reason", "ms", NULL};
        span_event(b, b->sandbox >= 0 ? b->sandbox : b->run, "egress", ts, d, keys);
}

/* ---- the model ------------------------------------------------------------------ */

static void on_model_request(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        const json_t *turn = json_object_get(d, "turn");
        const char *model = str(d, "model"), *agent = str(d, "agent");
        if (b->chat >= 0 && !json_object_get(at(b, b->chat), "end_ms")) {
                span_end(b, b->chat, ts);
                attr(b, b->chat, "bridle.incomplete", json_true());
        }
        span_end(b, b->turn, ts);
        char label[160];
        long n = json_is_integer(turn) ? (long)json_integer_value(turn) + 1 : (long)b->responses + 1;
        (void)snprintf(label, sizeof(label), "turn %ld", n);
        b->turn = span_new(b, b->agent >= 0 ? b->agent : b->run, seq, "turn", label, ts);
        attr_copy(b, b->turn, "bridle.turn", d, "turn");
        attr_str(b, b->turn, "gen_ai.agent.name", agent);
        (void)snprintf(label, sizeof(label), "chat %s", model ? model : "?");
        b->chat = span_new(b, b->turn, seq, "chat", label, ts);
        set(b, at(b, b->chat), "kind", json_string("client"));
        const json_t *def = agent_def(b, agent);
        attr_str(b, b->chat, "gen_ai.operation.name", "chat");
        attr_str(b, b->chat, "gen_ai.system", gen_ai_system(str(def, "provider")));
        attr_str(b, b->chat, "gen_ai.request.model", model);
        attr_str(b, b->chat, "gen_ai.agent.name", agent);
        attr_copy(b, b->chat, "bridle.request.items", d, "items");
}

/* text += "\n" + t (the first without the line break). */
static void append_text(builder *b, char **text, size_t *len, const char *t)
{
        if (!t)
                return;
        size_t tl = strlen(t);
        char *nt = bridle__realloc(*text, *len + tl + 2);
        if (!nt) {
                b->oom = true;
                return;
        }
        if (*len)
                nt[(*len)++] = '\n';
        memcpy(nt + *len, t, tl);
        *len += tl;
        nt[*len] = '\0';
        *text = nt;
}

/* The response's message text and the names of the calls it asks for;
 * the call items are kept by call_id (a denied call has no tool.started). */
static void response_output(builder *b, long chat, const json_t *output)
{
        size_t i, j;
        const json_t *it, *c;
        json_t *calls = json_array();
        char *text = NULL;
        size_t len = 0;
        json_array_foreach(output, i, it)
        {
                const char *cid = str(it, "call_id");
                if (!cid) {
                        json_array_foreach(json_object_get(it, "content"), j, c)
                        {
                                append_text(b, &text, &len, str(c, "text"));
                        }
                        continue;
                }
                if (json_object_set(b->items, cid, (json_t *)it) < 0 ||
                    (calls && json_array_append_new(calls, json_string(call_name(it))) < 0))
                        b->oom = true;
        }
        attr_str(b, chat, "bridle.response.text", text);
        free(text);
        if (calls && json_array_size(calls))
                attr(b, chat, "bridle.response.calls", calls);
        else
                json_decref(calls);
}

static void on_model_response(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        if (b->chat < 0 || json_object_get(at(b, b->chat), "end_ms"))
                on_model_request(b, seq, ts, d);
        long c = b->chat;
        span_end(b, c, ts);
        const json_t *u = json_object_get(d, "usage");
        attr_copy(b, c, "gen_ai.response.id", d, "response_id");
        attr_copy(b, c, "gen_ai.usage.input_tokens", u, "input_tokens");
        attr_copy(b, c, "gen_ai.usage.output_tokens", u, "output_tokens");
        attr_copy(b, c, "bridle.usage.cached_tokens", u, "cached_tokens");
        attr_copy(b, c, "bridle.usage.reasoning_tokens", u, "reasoning_tokens");
        attr_copy(b, c, "bridle.retries", d, "retries");
        const json_t *cost = json_object_get(d, "cost_usd");
        attr(b, c, "bridle.cost_usd", usd(json_is_number(cost) ? json_number_value(cost) : 0.0));
        b->in_tokens += json_integer_value(json_object_get(u, "input_tokens"));
        b->out_tokens += json_integer_value(json_object_get(u, "output_tokens"));
        b->cost += json_is_number(cost) ? json_number_value(cost) : 0.0;
        b->responses++;
        response_output(b, c, json_object_get(d, "output"));
}

static void on_model_retry(builder *b, int64_t ts, const json_t *d)
{
        static const char *const keys[] = {"attempt", "class", "message", "delay_ms", NULL};
        span_event(b, b->chat >= 0 ? b->chat : b->run, "retry", ts, d, keys);
}

static void on_model_error(builder *b, int64_t ts, const json_t *d)
{
        long c = b->chat >= 0 ? b->chat : b->run;
        json_t *ev = json_pack("{s:s?, s:s?}", "exception.type", str(d, "class"), "exception.message",
                               str(d, "message"));
        static const char *const keys[] = {"exception.type", "exception.message", NULL};
        span_event(b, c, "exception", ts, ev, keys);
        json_decref(ev);
        char msg[512];
        (void)snprintf(msg, sizeof(msg), "%s: %s", str(d, "class") ?: "error", str(d, "message") ?: "");
        span_error(b, c, msg);
        if (c == b->chat)
                span_end(b, c, ts);
}

/* ---- tool calls ------------------------------------------------------------------ */

/* The open tool span of call_id, made (with the arguments of the model's
 * call item) when there is none. */
static long tool_span(builder *b, int64_t seq, int64_t ts, const char *cid, const char *name)
{
        long t = idx_of(b->calls, cid);
        if (t >= 0)
                return t;
        const json_t *item = json_object_get(b->items, cid);
        if (!name)
                name = item ? call_name(item) : "?";
        char label[160];
        (void)snprintf(label, sizeof(label), "tool %s", name);
        t = span_new(b, b->agent >= 0 ? b->agent : b->run, seq, "tool", label, ts);
        attr_str(b, t, "gen_ai.operation.name", "execute_tool");
        attr_str(b, t, "gen_ai.tool.name", name);
        attr_str(b, t, "gen_ai.tool.call.id", cid);
        char *args = item ? call_arguments(item) : NULL;
        attr_str(b, t, "bridle.tool.arguments", args);
        free(args);
        map_set(b, b->calls, cid, t);
        map_set(b, b->last_call, cid, t);
        return t;
}

static void on_gateway(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        const char *cid = str(d, "call_id");
        if (!cid)
                return;
        long t = tool_span(b, seq, ts, cid, str(d, "name"));
        long g = span_new(b, t, seq, "gateway", "gateway", ts);
        span_end(b, g, ts);
        attr_copy(b, g, "bridle.decision", d, "decision");
        attr_copy(b, g, "bridle.rule", d, "rule");
        attr_copy(b, g, "bridle.reason", d, "reason");
        attr_copy(b, g, "bridle.command", d, "command");
        attr_copy(b, t, "bridle.decision", d, "decision");
        attr_copy(b, t, "bridle.rule", d, "rule");
}

static void on_tool_started(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        const char *cid = str(d, "call_id"), *name = str(d, "name");
        if (!cid)
                return;
        long t = tool_span(b, seq, ts, cid, name);
        attr_copy(b, t, "bridle.tool.arguments", d, "arguments");
        attr_copy(b, t, "bridle.tool.writes", d, "writes");
        attr_copy(b, t, "bridle.turn", d, "turn");
        long old = idx_of(b->execs, cid);
        if (old >= 0) { /* started again (in doubt, rerun) */
                span_end(b, old, ts);
                attr(b, old, "bridle.incomplete", json_true());
                span_event(b, t, "restarted", ts, d, NULL);
        }
        if (name && strncmp(name, "transfer_to_", 12) == 0)
                return;
        /* An MCP server's tool (docs/mcp.md): on the host or over HTTP it
         * does not run in the sandbox. */
        const json_t *mcp = json_object_get(d, "mcp");
        attr_copy(b, t, "bridle.mcp.server", mcp, "server");
        attr_copy(b, t, "bridle.mcp.where", mcp, "where");
        const char *where = str(mcp, "where");
        if (where && strcmp(where, "sandbox") != 0) {
                map_set(b, b->execs, cid, span_new(b, t, seq, "exec", "mcp call", ts));
                return;
        }
        long x = span_new(b, t, seq, "exec", "sandbox exec", ts);
        attr_copy(b, x, "bridle.sandbox.id", json_object_get(at(b, b->sandbox), "attributes"),
                  "bridle.sandbox.id");
        map_set(b, b->execs, cid, x);
}

static void tool_output(builder *b, long t, const json_t *d, bool ok, bool denied)
{
        const json_t *item = json_object_get(d, "output_item");
        const json_t *o = json_object_get(item, "output");
        char *text = item_text(o ? o : item);
        attr_str(b, t, "bridle.tool.output", text);
        if (!ok) {
                char msg[200];
                const char *src = text ? text : "";
                size_t n = strcspn(src, "\n");
                if (denied)
                        (void)snprintf(msg, sizeof(msg), "denied: %.*s", (int)(n > 180 ? 180 : n), src);
                else
                        (void)snprintf(msg, sizeof(msg), "%.*s", (int)(n > 190 ? 190 : n), src);
                span_error(b, t, msg);
        }
        free(text);
}

static void on_tool_finished(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        const char *cid = str(d, "call_id");
        if (!cid)
                return;
        long t = tool_span(b, seq, ts, cid, str(d, "name"));
        bool ok = json_is_true(json_object_get(d, "ok"));
        bool denied = json_is_true(json_object_get(d, "denied"));
        long x = idx_of(b->execs, cid);
        if (x >= 0) {
                span_end(b, x, ts);
                attr(b, x, "bridle.tool.ok", json_boolean(ok));
                attr_copy(b, x, "bridle.duration_ms", d, "duration_ms");
                if (!ok)
                        span_error(b, x, "the tool failed");
                (void)json_object_del(b->execs, cid);
        }
        span_end(b, t, ts);
        attr(b, t, "bridle.tool.ok", json_boolean(ok));
        if (denied)
                attr(b, t, "bridle.tool.denied", json_true());
        attr_copy(b, t, "bridle.duration_ms", d, "duration_ms");
        attr_copy(b, t, "bridle.turn", d, "turn");
        tool_output(b, t, d, ok, denied);
        (void)json_object_del(b->calls, cid);
}

static void on_tool_note(builder *b, int64_t ts, const json_t *d, const char *name)
{
        static const char *const doubt[] = {"resolution", "checkpoint", NULL};
        static const char *const replay[] = {"call_id", "name", "ok", "duration_ms", NULL};
        const char *cid = str(d, "call_id");
        long t = idx_of(b->last_call, cid);
        span_event(b, t >= 0 ? t : b->run, name, ts, d, strcmp(name, "in_doubt") == 0 ? doubt : replay);
}

/* ---- approvals -------------------------------------------------------------------- */

static void on_approval_requested(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        const char *cid = str(d, "call_id");
        if (!cid)
                return;
        const char *real = strncmp(cid, "in-doubt:", 9) == 0 ? cid + 9 : cid;
        long parent = idx_of(b->calls, real);
        if (parent < 0)
                parent = idx_of(b->last_call, real);
        if (parent < 0 && json_object_get(b->items, real))
                parent = tool_span(b, seq, ts, real, str(d, "name"));
        if (parent < 0)
                parent = b->agent >= 0 ? b->agent : b->run;
        span_end(b, idx_of(b->approvals, cid), ts);
        long a = span_new(b, parent, seq, "approval", "approval", ts);
        attr_str(b, a, "gen_ai.tool.call.id", cid);
        attr_copy(b, a, "gen_ai.tool.name", d, "name");
        attr_copy(b, a, "bridle.rule", d, "rule");
        attr_copy(b, a, "bridle.reason", d, "reason");
        attr_copy(b, a, "bridle.command", d, "command");
        const json_t *args = json_object_get(d, "arguments");
        if (args) {
                char *t = item_text(args);
                attr_str(b, a, "bridle.tool.arguments", t);
                free(t);
        }
        attr_str(b, a, "bridle.approval.decision", "pending");
        map_set(b, b->approvals, cid, a);
}

static void on_approval_given(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        const char *cid = str(d, "call_id");
        if (!cid)
                return;
        long a = idx_of(b->approvals, cid);
        if (a < 0) {
                a = span_new(b, b->agent >= 0 ? b->agent : b->run, seq, "approval", "approval", ts);
                attr_str(b, a, "gen_ai.tool.call.id", cid);
        }
        span_end(b, a, ts);
        attr_copy(b, a, "bridle.approval.decision", d, "decision");
        attr_copy(b, a, "bridle.approval.always", d, "always");
        attr_copy(b, a, "bridle.approval.by", d, "by");
        attr_copy(b, a, "bridle.approval.reason", d, "reason");
        if (!json_object_get(attrs(at(b, a)), "bridle.rule"))
                attr_copy(b, a, "bridle.rule", d, "rule");
        (void)json_object_del(b->approvals, cid);
}

/* ---- the pass ---------------------------------------------------------------------- */

typedef void (*handler)(builder *b, int64_t seq, int64_t ts, const json_t *d);

static void h_destroyed(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        (void)seq;
        on_sandbox_destroyed(b, ts, d);
}

static void h_retry(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        (void)seq;
        on_model_retry(b, ts, d);
}

static void h_error(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        (void)seq;
        on_model_error(b, ts, d);
}

static void h_in_doubt(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        (void)seq;
        on_tool_note(b, ts, d, "in_doubt");
}

static void h_replayed(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        (void)seq;
        on_tool_note(b, ts, d, "replayed");
}

static void h_egress(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        (void)seq;
        on_egress(b, ts, d);
}

static void h_status(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        (void)seq;
        on_run_status(b, ts, d);
}

static void h_resumed(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        static const char *const keys[] = {"attempt", "max_turns", NULL};
        (void)seq;
        span_event(b, b->run, "resumed", ts, d, keys);
}

static void h_warning(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        static const char *const keys[] = {"agent", "message", NULL};
        (void)seq;
        span_event(b, b->run, "warning", ts, d, keys);
}

static void h_mcp(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        static const char *const keys[] = {"agent", "server", "where", "version", "server_name", "start", NULL};
        (void)seq;
        span_event(b, b->run, json_object_get(d, "where") ? "mcp connected" : "mcp tools changed", ts, d, keys);
}

static void h_rewound(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        static const char *const keys[] = {"checkpoint", "to_seq", NULL};
        (void)seq;
        span_event(b, b->run, "rewound", ts, d, keys);
}

static void h_exported(builder *b, int64_t seq, int64_t ts, const json_t *d)
{
        (void)seq;
        span_event(b, b->run, "exported", ts, d, NULL);
}

static const struct {
        const char *type;
        handler fn;
} handlers[] = {
        {"sandbox.created", on_sandbox_created}, {"sandbox.destroyed", h_destroyed},
        {"model.request", on_model_request},     {"model.response", on_model_response},
        {"model.retry", h_retry},                {"model.error", h_error},
        {"gateway.decision", on_gateway},        {"tool.started", on_tool_started},
        {"tool.finished", on_tool_finished},     {"tool.in_doubt", h_in_doubt},
        {"tool.replayed", h_replayed},           {"approval.requested", on_approval_requested},
        {"approval.given", on_approval_given},   {"handoff", on_handoff},
        {"checkpoint", on_checkpoint},           {"guardrail.tripped", on_guardrail},
        {"egress.connection", h_egress},         {"run.status", h_status},
        {"run.resumed", h_resumed},              {"run.warning", h_warning},
        {"run.rewound", h_rewound},              {"workspace.exported", h_exported},
        {"mcp.connected", h_mcp},                {"mcp.tools_changed", h_mcp},
};

static void dispatch(builder *b, int64_t seq, int64_t ts, const char *type, const json_t *d)
{
        if (strcmp(type, "run.started") == 0) {
                on_run_started(b, seq, ts, d);
                return;
        }
        if (b->run < 0) /* nothing before the run */
                return;
        for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
                if (strcmp(type, handlers[i].type) == 0) {
                        handlers[i].fn(b, seq, ts, d);
                        return;
                }
}

/* ---- finishing: open spans, run totals, redaction, the cap, the order --------------- */

static void finish_open(builder *b)
{
        size_t i;
        json_t *s;
        json_array_foreach(b->spans, i, s)
        {
                if (json_object_get(s, "end_ms"))
                        continue;
                const char *name = json_string_value(json_object_get(s, "name"));
                if (strncmp(name, "tool ", 5) == 0 || strcmp(name, "sandbox exec") == 0 ||
                    strcmp(name, "mcp call") == 0 || strncmp(name, "chat ", 5) == 0)
                        attr(b, (long)i, "bridle.incomplete", json_true());
                span_end(b, (long)i, b->last_ts);
        }
        attr(b, b->run, "gen_ai.usage.input_tokens", json_integer((json_int_t)b->in_tokens));
        attr(b, b->run, "gen_ai.usage.output_tokens", json_integer((json_int_t)b->out_tokens));
        attr(b, b->run, "bridle.cost_usd", usd(b->cost));
        attr(b, b->run, "bridle.turns", json_integer((json_int_t)b->responses));
}

/* Cut at most cap bytes, on a UTF-8 character boundary. */
static size_t utf8_cut(const char *s, size_t len, size_t cap)
{
        if (len <= cap)
                return len;
        size_t n = cap;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
                n--;
        return n;
}

/* A string through the scanner, then cut: a new json string (NULL: ENOMEM). */
static json_t *clean(const bridle__secrets *sec, const json_t *v, size_t cap, bool *cut)
{
        _cleanup_free_ char *red = NULL;
        size_t len = 0;
        if (bridle__secrets_redact(sec, json_string_value(v), json_string_length(v), &red, &len, NULL, NULL) < 0)
                return NULL;
        size_t n = utf8_cut(red, len, cap);
        *cut = n < len;
        return json_stringn_nocheck(red, n);
}

/* Each string of an array through clean(); *cut when one was cut. */
static int clean_array(const bridle__secrets *sec, json_t *v, size_t cap, bool *cut)
{
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
                bool one = false;
                json_t *c = json_is_string(e) ? clean(sec, e, cap, &one) : json_string("");
                if (!c || json_array_set_new(v, i, c) < 0)
                        return -ENOMEM;
                *cut |= one;
        }
        return 0;
}

static int clean_attrs(const bridle__secrets *sec, json_t *a, size_t cap)
{
        const char *k;
        json_t *v;
        void *tmp;
        json_auto_t *cuts = json_array();
        if (!cuts)
                return -ENOMEM;
        json_object_foreach_safe(a, tmp, k, v)
        {
                bool cut = false;
                if (json_is_string(v)) {
                        json_t *c = clean(sec, v, cap, &cut);
                        if (!c || json_object_set_new(a, k, c) < 0)
                                return -ENOMEM;
                } else if (json_is_array(v) && clean_array(sec, v, cap, &cut) < 0) {
                        return -ENOMEM;
                }
                if (cut && json_array_append_new(cuts, json_sprintf("%s.truncated", k)) < 0)
                        return -ENOMEM;
        }
        size_t i;
        json_t *c;
        json_array_foreach(cuts, i, c) if (json_object_set_new(a, json_string_value(c), json_true()) < 0) return -ENOMEM;
        return 0;
}

static int clean_span(const bridle__secrets *sec, json_t *s, size_t cap)
{
        int r = clean_attrs(sec, attrs(s), cap);
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(s, "events"), i, e) if (r >= 0) r = clean_attrs(sec, attrs(e), cap);
        const json_t *m = json_object_get(s, "status_message");
        if (r >= 0 && m) {
                bool cut;
                json_t *c = clean(sec, m, cap, &cut);
                if (!c || json_object_set_new(s, "status_message", c) < 0)
                        r = -ENOMEM;
        }
        return r;
}

/* The scanner knows the API keys of the run's agents (their environment
 * variables, when this process has them). */
static int scanner(const builder *b, bridle__secrets **ret, bridle_error *err)
{
        bridle__secrets *s = NULL;
        int r = bridle__secrets_new(&s, err);
        if (r < 0)
                return r;
        const char *name;
        const json_t *a;
        json_object_foreach((json_t *)b->agents, name, a)
        {
                const char *env = str(a, "api_key_env");
                const char *key = env ? getenv(env) : NULL;
                if (key && strlen(key) >= BRIDLE__SECRETS_MIN_KNOWN_LEN &&
                    strlen(key) <= BRIDLE__SECRETS_MAX_KNOWN_LEN)
                        (void)bridle__secrets_add_known(s, key, strlen(key), NULL);
        }
        *ret = s;
        return 0;
}

struct ordered {
        json_t *span;
        size_t idx;
};

static int by_start(const void *x, const void *y)
{
        const struct ordered *a = x, *b = y;
        json_int_t sa = json_integer_value(json_object_get(a->span, "start_ms"));
        json_int_t sb = json_integer_value(json_object_get(b->span, "start_ms"));
        if (sa != sb)
                return sa < sb ? -1 : 1;
        return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static json_t *sorted(const json_t *spans)
{
        size_t n = json_array_size(spans);
        _cleanup_free_ struct ordered *v = bridle__calloc(n ? n : 1, sizeof(*v));
        json_t *out = json_array();
        if (!v || !out) {
                json_decref(out);
                return NULL;
        }
        for (size_t i = 0; i < n; i++)
                v[i] = (struct ordered){json_array_get(spans, i), i};
        qsort(v, n, sizeof(*v), by_start);
        for (size_t i = 0; i < n; i++)
                if (json_array_append(out, v[i].span) < 0) {
                        json_decref(out);
                        return NULL;
                }
        return out;
}

static void builder_release(builder *b)
{
        json_decref(b->spans);
        json_decref(b->calls);
        json_decref(b->last_call);
        json_decref(b->execs);
        json_decref(b->approvals);
        json_decref(b->sandboxes);
        json_decref(b->items);
}

static int pass(builder *b, const json_t *events, bridle_error *err)
{
        size_t i;
        const json_t *ev;
        json_array_foreach(events, i, ev)
        {
                if (i >= MAX_EVENTS)
                        return bridle__err(err, BRIDLE_E_LIMIT, "trace: more than %zu events", MAX_EVENTS);
                const char *type = str(ev, "type");
                const json_t *d = json_object_get(ev, "data");
                const json_t *ts = json_object_get(ev, "ts");
                if (!type || !json_is_integer(ts))
                        continue;
                int64_t t = (int64_t)json_integer_value(ts);
                if (b->run < 0)
                        b->first_ts = t;
                if (t > b->last_ts || b->run < 0)
                        b->last_ts = t;
                if (!json_is_object(d))
                        continue;
                dispatch(b, (int64_t)json_integer_value(json_object_get(ev, "seq")), t, type, d);
                if (b->oom)
                        return bridle__err(err, -ENOMEM, "trace: out of memory");
        }
        if (b->run < 0)
                return bridle__err(err, BRIDLE_E_INVALID, "trace: the run has no run.started event");
        return 0;
}

int bridle__trace_build(const json_t *events, size_t attr_cap, json_t **ret, bridle_error *err)
{
        if (!ret)
                return bridle__err(err, -EINVAL, "trace: no place for the spans");
        if (!json_is_array(events) || json_array_size(events) == 0)
                return bridle__err(err, BRIDLE_E_INVALID, "trace: the run has no events");
        builder b = {.run = -1, .agent = -1, .turn = -1, .chat = -1, .sandbox = -1};
        const char *rid = str(json_array_get(events, 0), "run_id");
        (void)snprintf(b.run_id, sizeof(b.run_id), "%s", rid ? rid : "");
        b.spans = json_array();
        b.calls = json_object();
        b.last_call = json_object();
        b.execs = json_object();
        b.approvals = json_object();
        b.sandboxes = json_object();
        b.items = json_object();
        int r = 0;
        if (!b.spans || !b.calls || !b.last_call || !b.execs || !b.approvals || !b.sandboxes || !b.items)
                r = bridle__err(err, -ENOMEM, "trace: out of memory");
        if (r >= 0)
                r = pass(&b, events, err);
        if (r >= 0) {
                finish_open(&b);
                if (b.oom)
                        r = bridle__err(err, -ENOMEM, "trace: out of memory");
        }
        bridle__secrets *sec = NULL;
        if (r >= 0)
                r = scanner(&b, &sec, err);
        size_t i;
        json_t *s;
        size_t cap = attr_cap ? attr_cap : BRIDLE__TRACE_ATTR_CAP;
        json_array_foreach(b.spans, i, s) if (r >= 0 && clean_span(sec, s, cap) < 0) r =
                bridle__err(err, -ENOMEM, "trace: redacting the spans: out of memory");
        bridle__secrets_free(sec);
        json_t *out = r >= 0 ? sorted(b.spans) : NULL;
        if (r >= 0 && !out)
                r = bridle__err(err, -ENOMEM, "trace: out of memory");
        builder_release(&b);
        if (r < 0)
                return r;
        *ret = out;
        return 0;
}
