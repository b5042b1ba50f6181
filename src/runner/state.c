/* SPDX-License-Identifier: MIT */
/*
 * The fold of a run's events into its state (docs/harness.md, "Events";
 * docs/journal.md, "The fold"). Each handler checks its event's data fully
 * before it changes the state, so a malformed event leaves the state as it
 * was after the event before it.
 */
#include "runner/state.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"

typedef struct evctx {
        long long seq;
        const char *type;
        const json_t *data;
} evctx;

static int bad(bridle_error *err, const evctx *e, const char *key, const char *what)
{
        return bridle__err(err, BRIDLE_E_INVALID, "event %lld (%s): '%s' %s", e->seq, e->type, key,
                           what);
}

static int oom(bridle_error *err)
{
        return bridle__err(err, -ENOMEM, "out of memory");
}

/* A string member: required, or optional (absent or null gives NULL). */
static int get_str(const evctx *e, const char *key, bool required, const char **ret,
                   bridle_error *err)
{
        const json_t *v = json_object_get(e->data, key);
        if ((!v || json_is_null(v)) && !required) {
                *ret = NULL;
                return 0;
        }
        if (!json_is_string(v))
                return bad(err, e, key, v ? "is not a string" : "is missing");
        *ret = json_string_value(v);
        return 0;
}

/* A string member copied into a fixed buffer; too long is malformed. */
static int get_name(const evctx *e, const char *key, char *out, size_t cap, bridle_error *err)
{
        const char *s;
        int r = get_str(e, key, true, &s, err);
        if (r < 0)
                return r;
        if (!*s || strlen(s) >= cap)
                return bad(err, e, key, "is empty or too long");
        memcpy(out, s, strlen(s) + 1);
        return 0;
}

int bridle__run_status_parse(const char *name, enum bridle_run_status *ret)
{
        static const enum bridle_run_status all[] = {
                BRIDLE_RUN_RUNNING, BRIDLE_RUN_COMPLETED, BRIDLE_RUN_FAILED,
                BRIDLE_RUN_STOPPED, BRIDLE_RUN_WAITING,   BRIDLE_RUN_INTERRUPTED,
        };
        for (size_t i = 0; name && i < sizeof(all) / sizeof(all[0]); i++)
                if (strcmp(name, bridle_run_status_name(all[i])) == 0) {
                        *ret = all[i];
                        return 0;
                }
        return -EINVAL;
}

static json_t *task_message(const char *task)
{
        return json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "type", "message", "role", "user", "content",
                         "type", "input_text", "text", task);
}

static int on_run_started(bridle__run_state *st, const evctx *e, bridle_error *err)
{
        const char *task;
        char agent[sizeof(st->agent)];
        int r = get_str(e, "task", true, &task, err);
        if (r >= 0)
                r = get_name(e, "agent", agent, sizeof(agent), err);
        if (r < 0)
                return r;
        if (st->started)
                return bad(err, e, "type", "repeats run.started");
        json_t *msg = task_message(task);
        if (!msg || json_array_insert_new(st->items, 0, msg) < 0)
                return oom(err);
        st->started = json_incref((json_t *)e->data);
        memcpy(st->agent, agent, sizeof(agent));
        return 0;
}

/* sandbox.created {sandbox_id, replaces?, restored_from?}: a fresh sandbox
 * is the manifest's state, a restored one its snapshot's; what ran in the
 * old one is gone from it (tool.replayed events bring it back). */
static int on_sandbox_created(bridle__run_state *st, const evctx *e, bridle_error *err)
{
        const char *from;
        int r = get_str(e, "restored_from", false, &from, err);
        if (r < 0)
                return r;
        if (from && (!*from || strlen(from) >= sizeof(st->base)))
                return bad(err, e, "restored_from", "is empty or too long");
        if ((r = get_name(e, "sandbox_id", st->sandbox_id, sizeof(st->sandbox_id), err)) < 0)
                return r;
        (void)snprintf(st->base, sizeof(st->base), "%s", from ? from : "");
        st->dirty = false;
        return 0;
}

/* checkpoint {snapshot_id, sandbox_id, reason, call_id?, ...}: the sandbox's
 * workspace as it is now. */
static int on_checkpoint(bridle__run_state *st, const evctx *e, bridle_error *err)
{
        const char *sid;
        int r = get_str(e, "snapshot_id", true, &sid, err);
        if (r < 0)
                return r;
        if (!*sid || strlen(sid) >= sizeof(st->base))
                return bad(err, e, "snapshot_id", "is empty or too long");
        json_t *d = json_deep_copy(e->data);
        if (!d || json_object_set_new(d, "seq", json_integer(e->seq)) < 0 ||
            json_array_append_new(st->checkpoints, d) < 0)
                return oom(err);
        (void)snprintf(st->base, sizeof(st->base), "%s", sid);
        st->dirty = false;
        st->calls_since = 0;
        return 0;
}

/* tool.started {call_id, name, writes?}: in doubt until it finishes. */
static int on_tool_started(bridle__run_state *st, const evctx *e, bridle_error *err)
{
        const char *call_id;
        int r = get_str(e, "call_id", true, &call_id, err);
        if (r < 0)
                return r;
        if (json_object_set(st->in_doubt, call_id, (json_t *)e->data) < 0)
                return oom(err);
        if (json_is_true(json_object_get(e->data, "writes")))
                st->dirty = true;
        return 0;
}

/* tool.replayed {call_id}: a writing call run again in a new sandbox. */
static int on_tool_replayed(bridle__run_state *st, const evctx *e, bridle_error *err)
{
        const char *call_id;
        int r = get_str(e, "call_id", true, &call_id, err);
        if (r < 0)
                return r;
        st->dirty = true;
        return 0;
}

/* run.rewound {checkpoint, to_seq}: the fold redoes the state from the
 * events up to to_seq (bridle__run_state_fold). */
static int on_run_rewound(bridle__run_state *st, const evctx *e, bridle_error *err)
{
        const json_t *to = json_object_get(e->data, "to_seq");
        if (!json_is_integer(to) || json_integer_value(to) <= 0 || json_integer_value(to) >= e->seq)
                return bad(err, e, "to_seq", "is not an earlier event");
        st->rewind_to = (int64_t)json_integer_value(to);
        return 0;
}

/* trace.exported {upto_seq}: the live OTLP export got this far. */
static int on_trace_exported(bridle__run_state *st, const evctx *e, bridle_error *err)
{
        const json_t *u = json_object_get(e->data, "upto_seq");
        if (!json_is_integer(u) || json_integer_value(u) < 0 || json_integer_value(u) >= e->seq)
                return bad(err, e, "upto_seq", "is not an earlier event");
        st->trace_upto = (int64_t)json_integer_value(u);
        return 0;
}

/* Consecutive failures of one tool (recovery.max_tool_failures). */
static int count_failure(bridle__run_state *st, const evctx *e, const char *call_id)
{
        const char *name = json_string_value(json_object_get(e->data, "name"));
        bool ok = json_is_true(json_object_get(e->data, "ok"));
        bool denied = json_is_true(json_object_get(e->data, "denied"));
        if (denied || !name)
                return 0;
        if (ok) {
                if (!strcmp(st->fail_tool, name))
                        st->fail_count = 0;
                return 0;
        }
        if (strcmp(st->fail_tool, name) != 0) {
                (void)snprintf(st->fail_tool, sizeof(st->fail_tool), "%s", name);
                st->fail_count = 0;
                json_array_clear(st->fail_notes);
        }
        if (st->fail_count == 0)
                json_array_clear(st->fail_notes);
        st->fail_count++;
        const json_t *item = json_object_get(e->data, "output_item");
        const json_t *o = json_object_get(item, "output");
        char *text = json_is_string(o) ? NULL : json_dumps(o ? o : item, JSON_COMPACT | JSON_ENCODE_ANY);
        const char *t = json_is_string(o) ? json_string_value(o) : text ? text : "";
        json_t *note = json_sprintf("%s: %.160s", call_id, t);
        free(text);
        if (!note || json_array_append_new(st->fail_notes, note) < 0)
                return -ENOMEM;
        while (json_array_size(st->fail_notes) > 8)
                (void)json_array_remove(st->fail_notes, 0);
        return 0;
}

static bool is_call(const char *type)
{
        return type && (strcmp(type, "function_call") == 0 || strcmp(type, "shell_call") == 0 ||
                        strcmp(type, "apply_patch_call") == 0);
}

bool bridle__item_is_call(const json_t *item)
{
        return is_call(json_string_value(json_object_get(item, "type")));
}

/* Every output item is an object with a "type"; calls carry a "call_id". */
static int check_output(const evctx *e, const json_t *output, bridle_error *err)
{
        size_t i;
        const json_t *it;
        char key[64];
        json_array_foreach(output, i, it)
        {
                const json_t *t = json_object_get(it, "type");
                (void)snprintf(key, sizeof(key), "output[%zu].type", i);
                if (!json_is_object(it) || !json_is_string(t))
                        return bad(err, e, key, "is missing or not a string");
                (void)snprintf(key, sizeof(key), "output[%zu].call_id", i);
                if (is_call(json_string_value(t)) &&
                    !json_is_string(json_object_get(it, "call_id")))
                        return bad(err, e, key, "is missing or not a string");
        }
        return 0;
}

static const char *const usage_keys[4] = {"input_tokens", "cached_tokens", "output_tokens",
                                          "reasoning_tokens"};

/* usage (absent or null: zeros) and cost_usd (absent or null: 0). */
static int get_usage(const evctx *e, int64_t out[4], double *cost, bridle_error *err)
{
        const json_t *u = json_object_get(e->data, "usage");
        if (u && !json_is_null(u) && !json_is_object(u))
                return bad(err, e, "usage", "is not an object");
        for (int k = 0; k < 4; k++) {
                const json_t *v = json_is_object(u) ? json_object_get(u, usage_keys[k]) : NULL;
                char key[64];
                (void)snprintf(key, sizeof(key), "usage.%s", usage_keys[k]);
                if (v && !json_is_null(v) && (!json_is_integer(v) || json_integer_value(v) < 0))
                        return bad(err, e, key, "is not a non-negative integer");
                out[k] = json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
        }
        const json_t *c = json_object_get(e->data, "cost_usd");
        if (c && !json_is_null(c) && (!json_is_number(c) || json_number_value(c) < 0))
                return bad(err, e, "cost_usd", "is not a non-negative number");
        *cost = json_is_number(c) ? json_number_value(c) : 0.0;
        return 0;
}

static int on_model_response(bridle__run_state *st, const evctx *e, bridle_error *err)
{
        const json_t *output = json_object_get(e->data, "output");
        if (!json_is_array(output))
                return bad(err, e, "output", output ? "is not an array" : "is missing");
        int64_t u[4] = {0};
        double cost = 0;
        int r = check_output(e, output, err);
        if (r >= 0)
                r = get_usage(e, u, &cost, err);
        if (r < 0)
                return r;
        json_t *pending = json_array();
        if (!pending)
                return oom(err);
        size_t i;
        json_t *it;
        json_array_foreach(output, i,
                           it) if (is_call(json_string_value(json_object_get(it, "type"))) &&
                                   json_array_append(pending, it) < 0)
        {
                json_decref(pending);
                return oom(err);
        }
        json_array_foreach(output, i, it) if (json_array_append(st->items, it) < 0)
        {
                json_decref(pending);
                return oom(err);
        }
        json_decref(st->pending);
        st->pending = pending;
        st->turns++;
        st->input_tokens += u[0];
        st->cached_tokens += u[1];
        st->output_tokens += u[2];
        st->reasoning_tokens += u[3];
        st->cost_usd += cost;
        return 0;
}

static int on_tool_finished(bridle__run_state *st, const evctx *e, bridle_error *err)
{
        const char *call_id;
        int r = get_str(e, "call_id", true, &call_id, err);
        if (r < 0)
                return r;
        json_t *item = json_object_get(e->data, "output_item");
        if (!json_is_object(item))
                return bad(err, e, "output_item", item ? "is not an object" : "is missing");
        if (json_array_append(st->items, item) < 0)
                return oom(err);
        const json_t *started = json_object_get(st->in_doubt, call_id);
        if (started && json_is_true(json_object_get(started, "writes"))) {
                if (json_array_append_new(st->writes, json_pack("[I,s]", (json_int_t)e->seq, call_id)) < 0)
                        return oom(err);
                st->dirty = true;
        }
        (void)json_object_del(st->in_doubt, call_id);
        st->calls_since++;
        if (count_failure(st, e, call_id) < 0)
                return oom(err);
        for (size_t i = json_array_size(st->pending); i-- > 0;) {
                const char *c = json_string_value(
                        json_object_get(json_array_get(st->pending, i), "call_id"));
                if (c && strcmp(c, call_id) == 0)
                        (void)json_array_remove(st->pending, i);
        }
        return 0;
}

static int on_handoff(bridle__run_state *st, const evctx *e, bridle_error *err)
{
        return get_name(e, "to", st->agent, sizeof(st->agent), err);
}

static int on_run_status(bridle__run_state *st, const evctx *e, bridle_error *err)
{
        const char *status = NULL, *reason = NULL, *where = NULL, *final = NULL;
        enum bridle_run_status s = BRIDLE_RUN_RUNNING;
        int r = get_str(e, "status", true, &status, err);
        if (r >= 0 && bridle__run_status_parse(status, &s) < 0)
                r = bad(err, e, "status", "is not a run status");
        if (r >= 0)
                r = get_str(e, "reason", false, &reason, err);
        if (r >= 0)
                r = get_str(e, "where", false, &where, err);
        if (r >= 0)
                r = get_str(e, "final_output", false, &final, err);
        if (r < 0)
                return r;
        if (where && strlen(where) >= sizeof(st->where))
                return bad(err, e, "where", "is too long");
        char *fo = NULL;
        if (s == BRIDLE_RUN_COMPLETED && final && !(fo = bridle__strdup(final)))
                return oom(err);
        free(st->final_output);
        st->final_output = fo;
        st->status = s;
        (void)snprintf(st->reason, sizeof(st->reason), "%s", reason ? reason : "");
        (void)snprintf(st->where, sizeof(st->where), "%s", where ? where : "");
        return 0;
}

static int on_run_resumed(bridle__run_state *st, const evctx *e, bridle_error *err)
{
        st->resumes++;
        return 0;
}

/* gateway.decision {call_id, name, decision, rule, reason}: a deny counts. */
static int on_gateway_decision(bridle__run_state *st, const evctx *e, bridle_error *err)
{
        const char *call_id, *decision;
        int r = get_str(e, "call_id", true, &call_id, err);
        if (r >= 0)
                r = get_str(e, "decision", true, &decision, err);
        if (r < 0)
                return r;
        if (strcmp(decision, "allow") != 0 && strcmp(decision, "ask") != 0 && strcmp(decision, "deny") != 0)
                return bad(err, e, "decision", "is not allow, ask or deny");
        if (!strcmp(decision, "deny")) {
                if (json_object_set_new(st->denied, call_id, json_true()) < 0)
                        return oom(err);
                st->denials = (unsigned)json_object_size(st->denied);
        }
        return 0;
}

/* approval.requested {call_id, name, arguments, rule, reason}: waits for a person. */
static int on_approval_requested(bridle__run_state *st, const evctx *e, bridle_error *err)
{
        const char *call_id;
        int r = get_str(e, "call_id", true, &call_id, err);
        if (r < 0)
                return r;
        json_t *d = json_deep_copy(e->data);
        if (!d || json_object_set_new(d, "seq", json_integer(e->seq)) < 0 ||
            json_object_set_new(st->requested, call_id, d) < 0)
                return oom(err);
        return 0;
}

/* approval.given {call_id, decision: approve|deny, always, rule, reason, by}. */
static int on_approval_given(bridle__run_state *st, const evctx *e, bridle_error *err)
{
        const char *call_id, *decision, *rule;
        int r = get_str(e, "call_id", true, &call_id, err);
        if (r >= 0)
                r = get_str(e, "decision", true, &decision, err);
        if (r >= 0)
                r = get_str(e, "rule", false, &rule, err);
        if (r < 0)
                return r;
        if (strcmp(decision, "approve") != 0 && strcmp(decision, "deny") != 0)
                return bad(err, e, "decision", "is not approve or deny");
        if (json_object_set(st->approvals, call_id, (json_t *)e->data) < 0)
                return oom(err);
        (void)json_object_del(st->requested, call_id);
        if (!strcmp(decision, "deny")) {
                if (json_object_set_new(st->denied, call_id, json_true()) < 0)
                        return oom(err);
                st->denials = (unsigned)json_object_size(st->denied);
        } else if (json_is_true(json_object_get(e->data, "always")) && rule &&
                 json_object_set_new(st->always_rules, rule, json_true()) < 0)
                return oom(err);
        return 0;
}

static int on_ignored(bridle__run_state *st, const evctx *e, bridle_error *err)
{
        return 0;
}

static const struct {
        const char *type;
        int (*fn)(bridle__run_state *st, const evctx *e, bridle_error *err);
} handlers[] = {
        {"run.started", on_run_started}, {"sandbox.created", on_sandbox_created},
        {"model.request", on_ignored},   {"model.response", on_model_response},
        {"model.retry", on_ignored},     {"model.error", on_ignored},
        {"tool.started", on_tool_started}, {"tool.finished", on_tool_finished},
        {"checkpoint", on_checkpoint},   {"tool.replayed", on_tool_replayed},
        {"run.rewound", on_run_rewound}, {"trace.exported", on_trace_exported},
        {"handoff", on_handoff},         {"run.status", on_run_status},
        {"run.resumed", on_run_resumed},
        {"gateway.decision", on_gateway_decision},
        {"approval.requested", on_approval_requested},
        {"approval.given", on_approval_given},
};

/* The envelope: {"run_id","seq","ts","type","data"}. */
static int check_event(const bridle__run_state *st, const json_t *ev, evctx *e, int64_t *ts,
                       bridle_error *err)
{
        const json_t *seq = json_object_get(ev, "seq");
        if (!json_is_object(ev) || !json_is_integer(seq) || json_integer_value(seq) <= 0)
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "event after %lld: 'seq' is missing or not positive",
                                   (long long)st->last_seq);
        e->seq = (long long)json_integer_value(seq);
        e->type = "?";
        const json_t *t = json_object_get(ev, "type"), *when = json_object_get(ev, "ts");
        if (!json_is_string(t))
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "event %lld: 'type' is missing or not a string", e->seq);
        e->type = json_string_value(t);
        e->data = json_object_get(ev, "data");
        if (!json_is_object(e->data))
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "event %lld (%s): 'data' is not an object", e->seq, e->type);
        if (!json_is_integer(when))
                return bridle__err(err, BRIDLE_E_INVALID, "event %lld (%s): 'ts' is not an integer",
                                   e->seq, e->type);
        if (e->seq <= st->last_seq)
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "event %lld (%s): 'seq' is not after %lld", e->seq, e->type,
                                   (long long)st->last_seq);
        const json_t *id = json_object_get(ev, "run_id");
        if (id && (!json_is_string(id) || strlen(json_string_value(id)) >= sizeof(st->run_id) ||
                   (st->run_id[0] && strcmp(st->run_id, json_string_value(id)) != 0)))
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "event %lld (%s): 'run_id' is not this run's", e->seq, e->type);
        *ts = (int64_t)json_integer_value(when);
        return 0;
}

static int ensure(bridle__run_state *st)
{
        if ((!st->items && !(st->items = json_array())) || (!st->pending && !(st->pending = json_array())) ||
            (!st->approvals && !(st->approvals = json_object())) ||
            (!st->requested && !(st->requested = json_object())) ||
            (!st->always_rules && !(st->always_rules = json_object())) ||
            (!st->denied && !(st->denied = json_object())) ||
            (!st->checkpoints && !(st->checkpoints = json_array())) ||
            (!st->writes && !(st->writes = json_array())) ||
            (!st->in_doubt && !(st->in_doubt = json_object())) ||
            (!st->fail_notes && !(st->fail_notes = json_array())))
                return -ENOMEM;
        return 0;
}

int bridle__run_state_apply(bridle__run_state *st, const json_t *event, bridle_error *err)
{
        if (ensure(st) < 0)
                return oom(err);
        evctx e = {0};
        int64_t ts = 0;
        int r = check_event(st, event, &e, &ts, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
                if (e.type && strcmp(handlers[i].type, e.type) == 0) {
                        r = handlers[i].fn(st, &e, err);
                        break;
                }
        if (r < 0)
                return r;
        const char *id = json_string_value(json_object_get(event, "run_id"));
        if (!st->run_id[0] && id)
                memcpy(st->run_id, id, strlen(id) + 1);
        if (st->last_seq == 0)
                st->started_at = ts / 1000;
        st->updated_at = ts / 1000;
        st->last_seq = e.seq;
        return 0;
}

/* The first n events. A run.rewound makes the state the fold of the events
 * up to its to_seq again (each rewound event refolds a shorter prefix: the
 * recursion ends), keeping what was spent (tokens, cost) and the counters. */
static int fold_prefix(const json_t *events, size_t n, bridle__run_state *st, bridle_error *err)
{
        memset(st, 0, sizeof(*st));
        for (size_t i = 0; i < n; i++) {
                const json_t *ev = json_array_get(events, i);
                int r = bridle__run_state_apply(st, ev, err);
                if (r < 0)
                        return r;
                if (!st->rewind_to)
                        continue;
                size_t k = 0;
                while (k < i && json_integer_value(json_object_get(json_array_get(events, k), "seq")) <= st->rewind_to)
                        k++;
                bridle__run_state keep = *st;
                bridle__run_state redo;
                r = fold_prefix(events, k, &redo, err);
                if (r < 0) {
                        bridle__run_state_clear(&redo);
                        return r;
                }
                redo.input_tokens = keep.input_tokens;
                redo.cached_tokens = keep.cached_tokens;
                redo.output_tokens = keep.output_tokens;
                redo.reasoning_tokens = keep.reasoning_tokens;
                redo.cost_usd = keep.cost_usd;
                redo.resumes = keep.resumes;
                redo.started_at = keep.started_at;
                redo.updated_at = keep.updated_at;
                redo.last_seq = keep.last_seq;
                redo.rewind_to = 0;
                bridle__run_state_clear(st);
                *st = redo;
        }
        return ensure(st) < 0 ? oom(err) : 0;
}

int bridle__run_state_fold(const json_t *events, bridle__run_state *st, bridle_error *err)
{
        memset(st, 0, sizeof(*st));
        if (!json_is_array(events))
                return bridle__err(err, -EINVAL, "events are not an array");
        return fold_prefix(events, json_array_size(events), st, err);
}

void bridle__run_state_clear(bridle__run_state *st)
{
        if (!st)
                return;
        json_decref(st->started);
        json_decref(st->items);
        json_decref(st->pending);
        json_decref(st->approvals);
        json_decref(st->requested);
        json_decref(st->always_rules);
        json_decref(st->denied);
        json_decref(st->checkpoints);
        json_decref(st->writes);
        json_decref(st->in_doubt);
        json_decref(st->fail_notes);
        free(st->final_output);
        memset(st, 0, sizeof(*st));
}

void bridle__run_state_info(const bridle__run_state *st, bridle_run_info *info)
{
        memset(info, 0, sizeof(*info));
        (void)snprintf(info->id, sizeof(info->id), "%s", st->run_id);
        (void)snprintf(info->agent, sizeof(info->agent), "%s", st->agent);
        (void)snprintf(info->status, sizeof(info->status), "%s",
                       bridle_run_status_name(st->status));
        info->turns = st->turns;
        info->input_tokens = st->input_tokens;
        info->cached_tokens = st->cached_tokens;
        info->output_tokens = st->output_tokens;
        info->reasoning_tokens = st->reasoning_tokens;
        info->cost_usd = st->cost_usd;
        info->started_at = st->started_at;
        info->updated_at = st->updated_at;
}
