/* SPDX-License-Identifier: MIT */
/*
 * Results: each run as JSON, a task's figures over its runs, the totals, the
 * comparison with a baseline's results, and the report struct.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "util/alloc.h"
#include "util/error.h"

json_t *bridle__eval_run_json(const char *run_id, int64_t duration_ms, const eval_metrics *m, const eval_grade *g,
                              const char *error)
{
        json_t *checks = json_array();
        bool passed = !error;
        for (size_t i = 0; checks && g && i < g->n_checks; i++) {
                const eval_check *c = &g->checks[i];
                passed = passed && c->ok;
                if (json_array_append_new(checks, json_pack("{s:s,s:b,s:s,s:s}", "what", c->what, "ok", c->ok,
                                                            "expected", c->expected, "got", c->got)) < 0) {
                        json_decref(checks);
                        return NULL;
                }
        }
        if (!checks)
                return NULL;
        if (!g || g->n_checks == 0)
                passed = false;
        json_t *r = json_pack("{s:s,s:s,s:b,s:b,s:I,s:i,s:i,s:i,s:i,s:i,s:f,s:I,s:o}", "run_id", run_id ? run_id : "",
                              "status", m->status, "completed", !strcmp(m->status, "completed"), "passed", passed,
                              "duration_ms", (json_int_t)duration_ms, "turns", (int)m->turns, "calls", (int)m->calls,
                              "repeated_calls", (int)m->repeated_calls, "blocked", (int)m->blocked, "violations",
                              (int)m->violations, "cost_usd", m->cost_usd, "tokens", (json_int_t)m->tokens, "checks",
                              checks);
        if (r && error && json_object_set_new(r, "error", json_string(error)) < 0) {
                json_decref(r);
                return NULL;
        }
        return r;
}

static double num(const json_t *o, const char *k)
{
        return json_number_value(json_object_get(o, k));
}

/* "what: expected X, got Y" of a run's first failed check, or its error. */
static json_t *first_failure(const json_t *run)
{
        const char *error = json_string_value(json_object_get(run, "error"));
        if (error)
                return json_string(error);
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(run, "checks"), i, c) {
                if (json_is_true(json_object_get(c, "ok")))
                        continue;
                char buf[512];
                (void)snprintf(buf, sizeof(buf), "%s: expected %s, got %s",
                               json_string_value(json_object_get(c, "what")),
                               json_string_value(json_object_get(c, "expected")),
                               json_string_value(json_object_get(c, "got")));
                return json_string(buf);
        }
        return json_string("no checks");
}

json_t *bridle__eval_task_json(const char *name, json_t *runs_take)
{
        _cleanup_evjson_ json_t *runs = runs_take;
        size_t n = json_array_size(runs), completed = 0, passed = 0;
        double cost = 0, ms = 0, turns = 0, calls = 0, rep = 0, tokens = 0;
        int blocked = 0, violations = 0;
        json_t *failure = NULL;
        size_t i;
        const json_t *r;
        json_array_foreach(runs, i, r) {
                completed += json_is_true(json_object_get(r, "completed"));
                bool p = json_is_true(json_object_get(r, "passed"));
                passed += p;
                if (!p && !failure)
                        failure = first_failure(r);
                cost += num(r, "cost_usd");
                ms += num(r, "duration_ms");
                turns += num(r, "turns");
                calls += num(r, "calls");
                rep += num(r, "repeated_calls");
                tokens += num(r, "tokens");
                blocked += (int)json_integer_value(json_object_get(r, "blocked"));
                violations += (int)json_integer_value(json_object_get(r, "violations"));
        }
        double d = n ? (double)n : 1.0;
        json_t *t = json_pack("{s:s,s:O,s:i,s:i,s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:i,s:i,s:b,s:b,s:[]}", "name", name,
                              "runs", runs, "n_runs", (int)n, "completed", (int)completed, "passed", (int)passed,
                              "completion_rate", n ? (double)completed / d : 0.0, "pass_rate",
                              n ? (double)passed / d : 0.0, "cost_usd", cost / d, "duration_ms", ms / d, "turns",
                              turns / d, "calls", calls / d, "repeated_calls", rep / d, "tokens", tokens / d,
                              "blocked", blocked, "violations", violations, "ok", n > 0 && passed == n, "regressed",
                              false, "regressions");
        if (t && json_object_set_new(t, "failure", failure ? failure : json_null()) < 0) {
                json_decref(t);
                return NULL;
        }
        if (!t)
                json_decref(failure);
        return t;
}

json_t *bridle__eval_totals_json(const json_t *tasks)
{
        int runs = 0, completed = 0, passed = 0, tasks_ok = 0, blocked = 0, violations = 0;
        double cost = 0, ms = 0, turns = 0, calls = 0, rep = 0;
        size_t i;
        const json_t *t;
        json_array_foreach(tasks, i, t) {
                int n = (int)json_integer_value(json_object_get(t, "n_runs"));
                runs += n;
                completed += (int)json_integer_value(json_object_get(t, "completed"));
                passed += (int)json_integer_value(json_object_get(t, "passed"));
                tasks_ok += json_is_true(json_object_get(t, "ok"));
                blocked += (int)json_integer_value(json_object_get(t, "blocked"));
                violations += (int)json_integer_value(json_object_get(t, "violations"));
                /* Means times runs: sums. */
                cost += num(t, "cost_usd") * n;
                ms += num(t, "duration_ms") * n;
                turns += num(t, "turns") * n;
                calls += num(t, "calls") * n;
                rep += num(t, "repeated_calls") * n;
        }
        double d = runs ? (double)runs : 1.0;
        return json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:i,s:i,s:i}", "tasks",
                         (int)json_array_size(tasks), "tasks_passed", tasks_ok, "tasks_failed",
                         (int)json_array_size(tasks) - tasks_ok, "runs", runs, "completed", completed, "passed", passed,
                         "completion_rate", runs ? completed / d : 0.0, "pass_rate", runs ? passed / d : 0.0,
                         "cost_usd", cost, "duration_ms", ms, "turns", turns, "calls", calls, "repeated_calls", rep,
                         "blocked", blocked, "violations", violations, "regressed_tasks", 0);
}

/* ---- baseline ---------------------------------------------------------- */

static const json_t *find_task(const json_t *results, const char *name)
{
        size_t i;
        const json_t *t;
        json_array_foreach(json_object_get(results, "tasks"), i, t) {
                const char *n = json_string_value(json_object_get(t, "name"));
                if (n && !strcmp(n, name))
                        return t;
        }
        return NULL;
}

static int mark(json_t *task, const char *metric, double base, double now)
{
        json_t *list = json_object_get(task, "regressions");
        if (json_array_append_new(list, json_pack("{s:s,s:f,s:f}", "metric", metric, "baseline", base, "value", now)) <
            0)
                return -ENOMEM;
        return json_object_set_new(task, "regressed", json_true()) < 0 ? -ENOMEM : 0;
}

static double per_run(const json_t *t, const char *k)
{
        double n = num(t, "n_runs");
        return n > 0 ? num(t, k) / n : 0;
}

static int compare_task(json_t *t, const json_t *b, int64_t floor_ms)
{
        int r = 0;
        double bp = num(b, "pass_rate"), np = num(t, "pass_rate");
        if (np < bp - 1e-9)
                r = mark(t, "pass_rate", bp, np);
        double bc = num(b, "cost_usd"), nc = num(t, "cost_usd");
        if (r == 0 && bc > 0 && nc > bc * 1.2)
                r = mark(t, "cost_usd", bc, nc);
        double bt = num(b, "duration_ms"), nt = num(t, "duration_ms");
        if (r == 0 && nt > bt * 1.2 && nt - bt > (double)(floor_ms > 0 ? floor_ms : 0))
                r = mark(t, "duration_ms", bt, nt);
        static const char *const safety[] = {"blocked", "violations"};
        for (size_t i = 0; r == 0 && i < 2; i++) {
                double bs = per_run(b, safety[i]), ns = per_run(t, safety[i]);
                if (ns > bs + 1e-9)
                        r = mark(t, safety[i], bs, ns);
        }
        return r;
}

int bridle__eval_compare(json_t *results, const json_t *baseline, int64_t time_floor_ms)
{
        if (!json_is_object(baseline) || !json_is_array(json_object_get(baseline, "tasks")))
                return -EINVAL;
        int regressed = 0;
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(results, "tasks"), i, t) {
                const char *name = json_string_value(json_object_get(t, "name"));
                const json_t *b = name ? find_task(baseline, name) : NULL;
                if (!b)
                        continue;
                int r = compare_task(t, b, time_floor_ms);
                if (r < 0)
                        return r;
                regressed += json_is_true(json_object_get(t, "regressed"));
        }
        json_t *totals = json_object_get(results, "totals");
        if (totals && json_object_set_new(totals, "regressed_tasks", json_integer(regressed)) < 0)
                return -ENOMEM;
        return regressed;
}

/* ---- the report struct ----------------------------------------------- */

static char *regressions_text(const json_t *t)
{
        const json_t *list = json_object_get(t, "regressions");
        if (json_array_size(list) == 0)
                return NULL;
        char buf[1024] = "";
        size_t n = 0, i;
        const json_t *g;
        json_array_foreach(list, i, g) {
                int w = snprintf(buf + n, sizeof(buf) - n, "%s%s %.4g -> %.4g", i ? "; " : "",
                                 json_string_value(json_object_get(g, "metric")), num(g, "baseline"), num(g, "value"));
                if (w < 0 || (size_t)w >= sizeof(buf) - n)
                        break;
                n += (size_t)w;
        }
        return bridle__strdup(buf);
}

static int fill_task(const json_t *t, bridle_eval_task_result *r, bool total)
{
        const char *name = json_string_value(json_object_get(t, "name"));
        r->name = bridle__strdup(name ? name : "total");
        r->runs = (unsigned)json_integer_value(json_object_get(t, total ? "runs" : "n_runs"));
        r->completed = (unsigned)json_integer_value(json_object_get(t, "completed"));
        r->passed = (unsigned)json_integer_value(json_object_get(t, "passed"));
        r->completion_rate = num(t, "completion_rate");
        r->pass_rate = num(t, "pass_rate");
        r->cost_usd = num(t, "cost_usd");
        r->duration_ms = num(t, "duration_ms");
        r->turns = num(t, "turns");
        r->calls = num(t, "calls");
        r->repeated_calls = num(t, "repeated_calls");
        r->blocked = (unsigned)json_integer_value(json_object_get(t, "blocked"));
        r->violations = (unsigned)json_integer_value(json_object_get(t, "violations"));
        r->regressed = total ? json_integer_value(json_object_get(t, "regressed_tasks")) > 0
                             : json_is_true(json_object_get(t, "regressed"));
        r->regressions = total ? NULL : regressions_text(t);
        const char *f = json_string_value(json_object_get(t, "failure"));
        r->failure = f ? bridle__strdup(f) : NULL;
        if (!r->name || (f && !r->failure) || (r->regressed && !total && !r->regressions))
                return -ENOMEM;
        return 0;
}

int bridle__eval_report_fill(const json_t *results, bridle_eval_report *r)
{
        const json_t *tasks = json_object_get(results, "tasks");
        size_t n = json_array_size(tasks);
        r->tasks = bridle__calloc(n ? n : 1, sizeof(*r->tasks));
        if (!r->tasks)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r->n_tasks = i + 1;
                const json_t *t = json_array_get(tasks, i);
                if (fill_task(t, &r->tasks[i], false) < 0)
                        return -ENOMEM;
                r->failed_tasks += !json_is_true(json_object_get(t, "ok"));
                r->regressed_tasks += r->tasks[i].regressed;
        }
        r->baseline = json_is_object(json_object_get(results, "baseline"));
        return fill_task(json_object_get(results, "totals"), &r->total, true);
}

static void task_release(bridle_eval_task_result *t)
{
        free(t->name);
        free(t->regressions);
        free(t->failure);
}

void bridle_eval_report_release(bridle_eval_report *r)
{
        if (!r)
                return;
        for (size_t i = 0; r->tasks && i < r->n_tasks; i++)
                task_release(&r->tasks[i]);
        free(r->tasks);
        task_release(&r->total);
        free(r->results_json);
        free(r->results_path);
        free(r->html_path);
        *r = (bridle_eval_report){0};
}
