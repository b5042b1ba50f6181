/* SPDX-License-Identifier: MIT */
/*
 * The summary at the top of a trace (trace.h): counts and sums from the
 * run's events; the task and final output from the run span, where they
 * have gone through the secret scanner and the cap.
 */
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

#include "trace/trace.h"

static const char *str(const json_t *o, const char *key)
{
        return json_string_value(json_object_get(o, key));
}

static int64_t num(const json_t *o, const char *key)
{
        const json_t *v = json_object_get(o, key);
        return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static double real(const json_t *o, const char *key)
{
        const json_t *v = json_object_get(o, key);
        return json_is_number(v) ? json_number_value(v) : 0.0;
}

/* obj[key] (made {} when missing), and counter += by in it. */
static json_t *bucket(json_t *obj, const char *key)
{
        json_t *b = json_object_get(obj, key);
        if (!b && json_object_set_new(obj, key, json_object()) == 0)
                b = json_object_get(obj, key);
        return b;
}

static bool add_int(json_t *o, const char *key, int64_t by)
{
        return o && json_object_set_new(o, key, json_integer((json_int_t)num(o, key) + (json_int_t)by)) == 0;
}

static bool add_real(json_t *o, const char *key, double by)
{
        return o && json_object_set_new(o, key, json_real(real(o, key) + by)) == 0;
}

struct acc {
        json_t *models, *open_sandboxes; /* sandbox_id -> created ts */
        const char *model;               /* of the last model.request */
        int64_t first_ts, last_ts, sandbox_ms, turns, in, out, cached, retries, checkpoints;
        double cost;
        const json_t *status;            /* the last run.status data */
        bool ok;
};

static void sandbox_close(struct acc *a, const char *id, int64_t ts)
{
        const json_t *t = id ? json_object_get(a->open_sandboxes, id) : NULL;
        if (!json_is_integer(t))
                return;
        int64_t d = ts - (int64_t)json_integer_value(t);
        a->sandbox_ms += d > 0 ? d : 0;
        (void)json_object_del(a->open_sandboxes, id);
}

static void on_response(struct acc *a, const json_t *d)
{
        const json_t *u = json_object_get(d, "usage");
        int64_t in = num(u, "input_tokens"), out = num(u, "output_tokens");
        double cost = real(d, "cost_usd");
        a->turns++;
        a->in += in;
        a->out += out;
        a->cached += num(u, "cached_tokens");
        a->retries += num(d, "retries");
        a->cost += cost;
        json_t *m = bucket(a->models, a->model ? a->model : "?");
        a->ok = a->ok && add_int(m, "requests", 1) && add_int(m, "input_tokens", in) &&
                add_int(m, "output_tokens", out) && add_real(m, "cost_usd", cost);
}

static void on_event(struct acc *a, const char *type, int64_t ts, const json_t *d)
{
        if (strcmp(type, "model.request") == 0) {
                a->model = str(d, "model");
        } else if (strcmp(type, "model.response") == 0) {
                on_response(a, d);
        } else if (strcmp(type, "run.status") == 0) {
                a->status = d;
        } else if (strcmp(type, "checkpoint") == 0) {
                a->checkpoints++;
        } else if (strcmp(type, "sandbox.created") == 0) {
                const char *id = str(d, "sandbox_id");
                sandbox_close(a, str(d, "replaces"), ts);
                sandbox_close(a, id, ts);
                if (id && json_object_set_new(a->open_sandboxes, id, json_integer((json_int_t)ts)) < 0)
                        a->ok = false;
        } else if (strcmp(type, "sandbox.destroyed") == 0) {
                sandbox_close(a, str(d, "sandbox_id"), ts);
        }
}

/* tools: name -> {calls, failed, denied}, from the tool spans. */
static bool tools_of(const json_t *spans, json_t *tools)
{
        size_t i;
        const json_t *s;
        json_array_foreach(spans, i, s)
        {
                const char *name = str(s, "name");
                const json_t *at = json_object_get(s, "attributes");
                if (!name || strncmp(name, "tool ", 5) != 0)
                        continue;
                const char *tool = str(at, "gen_ai.tool.name");
                bool denied = json_is_true(json_object_get(at, "bridle.tool.denied"));
                bool failed = !denied && json_is_false(json_object_get(at, "bridle.tool.ok"));
                json_t *t = bucket(tools, tool ? tool : name + 5);
                if (!add_int(t, "calls", 1) || !add_int(t, "failed", failed) || !add_int(t, "denied", denied))
                        return false;
        }
        return true;
}

static const json_t *run_span(const json_t *spans)
{
        size_t i;
        const json_t *s;
        json_array_foreach(spans, i, s) if (!json_object_get(s, "parent_span_id")) return s;
        return NULL;
}

static json_t *assemble(const struct acc *a, const json_t *events, const json_t *spans)
{
        const json_t *first = json_array_get(events, 0);
        const json_t *at = json_object_get(run_span(spans), "attributes");
        const json_t *started = NULL;
        size_t i;
        const json_t *ev;
        json_array_foreach(events, i, ev) if (!started && !strcmp(str(ev, "type") ?: "", "run.started")) started =
                json_object_get(ev, "data");
        json_t *tools = json_object();
        if (!tools || !tools_of(spans, tools)) {
                json_decref(tools);
                return NULL;
        }
        return json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:I, s:{s:I, s:I, s:I}, s:f, s:f, s:I, s:I, s:I, "
                         "s:I, s:I, s:O, s:o}",
                         "run_id", str(first, "run_id") ?: "", "agent", str(started, "agent") ?: "", "status",
                         a->status ? str(a->status, "status") ?: "unknown" : "running", "reason",
                         a->status ? str(at, "bridle.run.reason") : NULL, "where",
                         a->status ? str(a->status, "where") : NULL, "task", str(at, "bridle.task"),
                         "final_output", str(at, "bridle.final_output"), "turns", (json_int_t)a->turns, "tokens",
                         "input", (json_int_t)a->in, "output", (json_int_t)a->out, "cached", (json_int_t)a->cached,
                         "cost_usd", a->cost, "sandbox_seconds", (double)a->sandbox_ms / 1000.0, "started_ms",
                         (json_int_t)a->first_ts, "ended_ms", (json_int_t)a->last_ts, "duration_ms",
                         (json_int_t)(a->last_ts - a->first_ts), "retries", (json_int_t)a->retries, "checkpoints",
                         (json_int_t)a->checkpoints, "models", a->models, "tools", tools);
}

json_t *bridle__trace_summary(const json_t *events, const json_t *spans)
{
        struct acc a = {.models = json_object(), .open_sandboxes = json_object(), .ok = true};
        json_t *out = NULL;
        size_t i;
        const json_t *ev;
        if (!a.models || !a.open_sandboxes)
                goto done;
        json_array_foreach(events, i, ev)
        {
                const char *type = str(ev, "type");
                const json_t *d = json_object_get(ev, "data");
                int64_t ts = num(ev, "ts");
                if (!type || !json_is_object(d))
                        continue;
                if (i == 0 || ts < a.first_ts)
                        a.first_ts = ts;
                if (i == 0 || ts > a.last_ts)
                        a.last_ts = ts;
                on_event(&a, type, ts, d);
        }
        const char *id;
        json_t *t, *tmp;
        json_object_foreach_safe(a.open_sandboxes, tmp, id, t)
        {
                sandbox_close(&a, id, a.last_ts);
        }
        if (a.ok)
                out = assemble(&a, events, spans);
done:
        json_decref(a.models);
        json_decref(a.open_sandboxes);
        return out;
}
