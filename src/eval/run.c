/* SPDX-License-Identifier: MIT */
/*
 * Running a suite: each task N times through the real harness
 * (bridle_agent_run, a journal of the eval's own in the out folder,
 * unattended: calls the policy asks about are refused), each run graded from
 * its events and its sandbox (kept for the grading, then destroyed), then the
 * results, the baseline comparison, results.json and report.html.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bridle/sandbox.h"
#include "eval/eval.h"
#include "runner/collect.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/fd.h"


static int64_t mono_ms(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sandbox_read(void *ud, const char *path, char **ret, size_t *ret_len)
{
        const char *id = ud;
        size_t len = 0;
        char *data = NULL;
        int r = bridle_sandbox_read(id, path, &data, &len, NULL);
        if (r < 0)
                return r;
        if (len > BRIDLE__EVAL_MAX_FILE)
                len = BRIDLE__EVAL_MAX_FILE;
        *ret = data;
        *ret_len = len;
        return 0;
}


/* What every run of the eval shares. */
struct ectx {
        const bridle_eval_suite *s;
        const bridle_eval_opts *o;
        const char *provider, *model, *base_url;
        char out[PATH_MAX];
        char journal[PATH_MAX + 16];
        char work[PATH_MAX + 16]; /* out/work: manifests, the judges' files */
};

/* The task's shared setup: its manifest and the before of must_not_modify. */
struct tctx {
        const eval_task *t;
        char *manifest;
        eval_before *before;
        size_t n_before;
        char setup_error[600];
};

static json_t *graded(const struct ectx *c, const struct tctx *tc, const json_t *events, const char *run_id,
                      int64_t ms, const char *error)
{
        eval_metrics m;
        eval_grade g = {0};
        (void)bridle__eval_metrics(events, &m);
        int r = 0;
        if (!error) {
                r = bridle__eval_grade(tc->t, events, &m, tc->before, tc->n_before, m.sandbox_id ? sandbox_read : NULL,
                                       (void *)m.sandbox_id, &g);
                if (r == 0)
                        r = bridle__eval_judge(tc->t->judge, tc->t->name, run_id, c->s->dir, c->work, events, c->o, &g);
        }
        json_t *j = r < 0 ? NULL : bridle__eval_run_json(run_id, ms, &m, &g, error);
        bridle__eval_grade_release(&g);
        return j;
}

static json_t *run_one(const struct ectx *c, const struct tctx *tc)
{
        if (tc->setup_error[0]) {
                _cleanup_evjson_ json_t *none = json_array();
                return none ? graded(c, tc, none, "", 0, tc->setup_error) : NULL;
        }
        bridle__collector col = {.events = json_array(), .max = BRIDLE__EVAL_MAX_EVENTS};
        if (!col.events)
                return NULL;
        bridle_agent_opts ao = {
                .agent_file = tc->t->agent ? tc->t->agent : c->s->agent,
                .provider = c->provider,
                .model = c->model,
                .base_url = c->base_url,
                .manifest_file = tc->manifest,
                .keep_sandbox = true,
                .journal_path = c->journal,
                .on_event = bridle__collect_event,
                .userdata = &col,
                .interrupt = c->o->interrupt,
                .policy_file = c->s->policy,
                .approvals = BRIDLE_APPROVALS_DENY,
                .no_checkpoints = true,
        };
        bridle_agent_result res = {0};
        bridle_error e = {0};
        int64_t t0 = mono_ms();
        int r = bridle_agent_run(&ao, tc->t->task, &res, &e);
        int64_t ms = mono_ms() - t0;
        const char *error = r < 0 ? (e.msg[0] ? e.msg : "the run could not start")
                            : col.full ? "the run's events could not all be kept"
                                       : NULL;
        json_t *j = graded(c, tc, col.events, r < 0 ? "" : res.run_id, ms, error);
        bridle_agent_result_release(&res);
        bridle__collected_destroy_sandboxes(col.events);
        json_decref(col.events);
        return j;
}

static void task_setup(const struct ectx *c, size_t index, struct tctx *tc)
{
        bridle_error e = {0};
        if (bridle__eval_manifest_write(c->s, tc->t, index, c->work, &tc->manifest, &e) < 0 ||
            bridle__eval_before(tc->t, &tc->before, &tc->n_before, &e) < 0)
                (void)snprintf(tc->setup_error, sizeof(tc->setup_error), "inputs: %s", e.msg);
}

static int run_task(const struct ectx *c, size_t index, unsigned repeat, json_t *tasks, bridle_error *err)
{
        struct tctx tc = {.t = &c->s->tasks[index]};
        task_setup(c, index, &tc);
        json_t *runs = json_array();
        int r = runs ? 0 : -ENOMEM;
        for (unsigned k = 0; r == 0 && k < repeat; k++) {
                if (c->o->interrupt && *c->o->interrupt)
                        break;
                json_t *one = run_one(c, &tc);
                if (!one || json_array_append_new(runs, one) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (c->o->on_run)
                        c->o->on_run(tc.t->name, k + 1, json_string_value(json_object_get(one, "run_id")),
                                     json_is_true(json_object_get(one, "passed")), c->o->userdata);
        }
        free(tc.manifest);
        bridle__eval_before_free(tc.before, tc.n_before);
        if (r < 0) {
                json_decref(runs);
                return bridle__err(err, r, "eval");
        }
        json_t *t = bridle__eval_task_json(tc.t->name, runs);
        if (!t || json_array_append_new(tasks, t) < 0)
                return bridle__err(err, -ENOMEM, "eval");
        return 0;
}

static int mkdir_p(const char *path)
{
        char buf[PATH_MAX];
        int n = snprintf(buf, sizeof(buf), "%s", path);
        if (n < 0 || (size_t)n >= sizeof(buf))
                return -ENAMETOOLONG;
        for (char *p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int setup(struct ectx *c, bridle_error *err)
{
        int r = mkdir_p(c->o->out_dir);
        if (r < 0)
                return bridle__err(err, r, "out folder '%s'", c->o->out_dir);
        if (!realpath(c->o->out_dir, c->out))
                return bridle__err(err, -errno, "out folder '%s'", c->o->out_dir);
        (void)snprintf(c->journal, sizeof(c->journal), "%s/journal.db", c->out);
        (void)snprintf(c->work, sizeof(c->work), "%s/work", c->out);
        if (mkdir(c->work, 0755) < 0 && errno != EEXIST)
                return bridle__err(err, -errno, "'%s'", c->work);
        return 0;
}

/* Write text to dir/name through a temporary file and a rename. */
static int write_out(const char *dir, const char *name, const char *text, char **ret_path, bridle_error *err)
{
        char path[PATH_MAX + 64], tmp[PATH_MAX + 80];
        (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
        (void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return bridle__err(err, -errno, "'%s'", tmp);
        size_t len = strlen(text);
        int r = bridle__write_full(fd, text, len);
        /* A text file ends with a newline. */
        if (r == 0 && (len == 0 || text[len - 1] != '\n'))
                r = bridle__write_full(fd, "\n", 1);
        if (r < 0)
                return bridle__err(err, r, "'%s'", tmp);
        if (rename(tmp, path) < 0)
                return bridle__err(err, -errno, "'%s'", path);
        *ret_path = bridle__strdup(path);
        return *ret_path ? 0 : bridle__err(err, -ENOMEM, "eval");
}

static json_t *results_new(const struct ectx *c, unsigned repeat)
{
        json_t *res = json_pack("{s:i,s:s,s:s,s:i,s:I,s:[],s:n}", "version", 1, "suite", c->s->name, "suite_file",
                                c->s->path, "repeat", (int)repeat, "started_at", (json_int_t)time(NULL), "tasks",
                                "baseline");
        if (!res)
                return NULL;
        const char *keys[] = {"provider", "model", "base_url"};
        const char *vals[] = {c->provider, c->model, c->base_url};
        for (size_t i = 0; i < 3; i++)
                if (json_object_set_new(res, keys[i], vals[i] ? json_string(vals[i]) : json_null()) < 0) {
                        json_decref(res);
                        return NULL;
                }
        return res;
}

static int finish(const struct ectx *c, json_t *res, const json_t *baseline, bridle_eval_report *ret,
                  bridle_error *err)
{
        json_t *totals = bridle__eval_totals_json(json_object_get(res, "tasks"));
        if (!totals || json_object_set_new(res, "totals", totals) < 0)
                return bridle__err(err, -ENOMEM, "eval");
        if (baseline) {
                int r = bridle__eval_compare(res, baseline, c->o->time_floor_ms ? c->o->time_floor_ms : 500);
                if (r < 0)
                        return bridle__err(err, r, "comparing with the baseline");
                if (json_object_set_new(res, "baseline", json_pack("{s:s}", "file", c->o->baseline_file)) < 0)
                        return bridle__err(err, -ENOMEM, "eval");
        }
        _cleanup_free_ char *html = bridle__eval_html(res);
        ret->results_json = json_dumps(res, JSON_INDENT(2));
        if (!html || !ret->results_json)
                return bridle__err(err, -ENOMEM, "eval");
        int r = write_out(c->out, "results.json", ret->results_json, &ret->results_path, err);
        if (r < 0 || (r = write_out(c->out, "report.html", html, &ret->html_path, err)) < 0)
                return r;
        return bridle__eval_report_fill(res, ret) < 0 ? bridle__err(err, -ENOMEM, "eval") : 0;
}

static int load_baseline(const char *path, json_t **ret, bridle_error *err)
{
        *ret = NULL;
        if (!path)
                return 0;
        json_error_t je;
        json_t *b = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
        if (!b)
                return bridle__err(err, BRIDLE_E_INVALID, "baseline '%s':%d:%d: %s", path, je.line, je.column, je.text);
        if (!json_is_array(json_object_get(b, "tasks"))) {
                json_decref(b);
                return bridle__err(err, BRIDLE_E_INVALID, "baseline '%s': not a results.json (no 'tasks' list)", path);
        }
        *ret = b;
        return 0;
}

int bridle_eval_run(const bridle_eval_suite *s, const bridle_eval_opts *opts, bridle_eval_report *ret,
                    bridle_error *err)
{
        if (!s || !opts || !opts->out_dir || !opts->out_dir[0] || !ret || opts->repeat > BRIDLE__EVAL_MAX_REPEAT)
                return bridle__err(err, -EINVAL, "bridle_eval_run: invalid arguments");
        struct ectx c = {.s = s, .o = opts};
        c.provider = opts->provider ? opts->provider : s->provider;
        c.model = opts->model ? opts->model : s->model;
        c.base_url = opts->base_url ? opts->base_url : s->base_url;
        unsigned repeat = opts->repeat ? opts->repeat : s->repeat ? s->repeat : 1;
        _cleanup_evjson_ json_t *baseline = NULL;
        int r = load_baseline(opts->baseline_file, &baseline, err);
        if (r < 0 || (r = setup(&c, err)) < 0)
                return r;
        *ret = (bridle_eval_report){0};
        int64_t t0 = mono_ms();
        _cleanup_evjson_ json_t *res = results_new(&c, repeat);
        if (!res)
                return bridle__err(err, -ENOMEM, "eval");
        for (size_t i = 0; i < s->n_tasks; i++) {
                if (opts->interrupt && *opts->interrupt)
                        break;
                if ((r = run_task(&c, i, repeat, json_object_get(res, "tasks"), err)) < 0)
                        return r;
        }
        if (json_object_set_new(res, "duration_ms", json_integer(mono_ms() - t0)) < 0)
                return bridle__err(err, -ENOMEM, "eval");
        r = finish(&c, res, baseline, ret, err);
        if (r < 0)
                bridle_eval_report_release(ret);
        return r;
}
