/* SPDX-License-Identifier: MIT */
/*
 * Running a scenario: the real harness (bridle_agent_run) with the
 * scenario's turns as the script, its events collected as they come, then
 * the checks, then the run's sandbox destroyed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridle/sandbox.h"
#include "scenario/internal.h"
#include "runner/collect.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/fd.h"


static enum bridle_approval_decision approve_all(const bridle_approval_request *req, char *reason, size_t cap,
                                                 void *userdata)
{
        (void)req;
        (void)reason;
        (void)cap;
        (void)userdata;
        return BRIDLE_APPROVE;
}

static int64_t now_ms(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The script in a fresh folder of its own (the agent loader caches by path). */
struct tmpscript {
        char dir[PATH_MAX];
        char file[PATH_MAX + 16];
};

static int script_write(const json_t *model, struct tmpscript *t, bridle_error *err)
{
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !tmp[0])
                tmp = "/tmp";
        int n = snprintf(t->dir, sizeof(t->dir), "%s/bridle-scenario-XXXXXX", tmp);
        if (n < 0 || (size_t)n >= sizeof(t->dir))
                return bridle__err(err, -ENAMETOOLONG, "TMPDIR");
        if (!mkdtemp(t->dir)) {
                t->dir[0] = '\0';
                return bridle__err(err, -errno, "a folder for the script in '%s'", tmp);
        }
        (void)snprintf(t->file, sizeof(t->file), "%s/script.json", t->dir);
        char *text = json_dumps(model, JSON_COMPACT);
        if (!text)
                return bridle__err(err, -ENOMEM, "script");
        int fd = open(t->file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        int r = fd < 0 ? -errno : bridle__write_full(fd, text, strlen(text));
        if (fd >= 0)
                bridle__close(fd);
        free(text);
        return r < 0 ? bridle__err(err, r, "script '%s'", t->file) : 0;
}

static void script_remove(struct tmpscript *t)
{
        if (!t->dir[0])
                return;
        (void)unlink(t->file);
        (void)rmdir(t->dir);
        t->dir[0] = '\0';
}

/* Every sandbox the run made (a run may replace a lost one). */

static const char *last_sandbox(const json_t *events)
{
        const char *id = "";
        size_t i;
        const json_t *e;
        json_array_foreach(events, i, e) {
                const char *t = json_string_value(json_object_get(e, "type"));
                const char *sid = json_string_value(json_object_get(json_object_get(e, "data"), "sandbox_id"));
                if (t && sid && !strcmp(t, "sandbox.created"))
                        id = sid;
        }
        return id;
}

static void set_error(bridle_scenario_result *ret, const char *msg)
{
        free(ret->error);
        ret->error = bridle__strdup(msg && msg[0] ? msg : "the run could not be made");
}

static void fill_opts(const bridle_scenario *s, const bridle_scenario_opts *o, const char *script,
                      bridle__collector *col, bridle_agent_opts *ao)
{
        *ao = (bridle_agent_opts){
                .agent_file = s->agent,
                .script_file = script,
                .manifest_file = s->manifest,
                .policy_file = s->policy,
                .max_turns = s->max_turns,
                .keep_sandbox = true,
                .journal_path = o->journal_path,
                .on_event = bridle__collect_event,
                .userdata = col,
                .interrupt = o->interrupt,
                .approvals = s->approve ? BRIDLE_APPROVALS_ASK : BRIDLE_APPROVALS_DENY,
                .approve = s->approve ? approve_all : NULL,
                .no_checkpoints = true,
        };
        if (o->record) {
                ao->provider = o->provider;
                ao->base_url = o->base_url;
                ao->model = o->model;
        }
}

static int run_checked(const bridle_scenario *s, const bridle_scenario_opts *o, bridle__collector *col,
                       bridle_scenario_result *ret, bridle_error *err)
{
        struct tmpscript ts = {0};
        bridle_error e = {0};
        int r = 0;
        if (!o->record && !s->model) {
                set_error(ret, "the scenario has no model turns: record them with 'bridle test --record'");
                return ret->error ? 0 : bridle__err(err, -ENOMEM, "scenario");
        }
        if (!o->record && (r = script_write(s->model, &ts, &e)) < 0) {
                script_remove(&ts);
                set_error(ret, e.msg);
                return ret->error ? 0 : bridle__err(err, -ENOMEM, "scenario");
        }
        bridle_agent_opts ao;
        fill_opts(s, o, o->record ? NULL : ts.file, col, &ao);
        bridle_agent_result res = {0};
        r = bridle_agent_run(&ao, s->task, &res, &e);
        script_remove(&ts);
        if (r < 0) {
                set_error(ret, e.msg);
                return ret->error ? 0 : bridle__err(err, -ENOMEM, "scenario");
        }
        (void)snprintf(ret->run_id, sizeof(ret->run_id), "%s", res.run_id);
        (void)snprintf(ret->status, sizeof(ret->status), "%s", bridle_run_status_name(res.status));
        bridle_agent_result_release(&res);
        if (!col->events)
                return bridle__err(err, -ENOMEM, "events");
        if (col->full)
                set_error(ret, "the run's events could not all be kept (too many)");
        r = bridle__scenario_check(s, col->events, last_sandbox(col->events), ret);
        if (r < 0)
                return bridle__err(err, r, "checking the scenario");
        if (o->record && (r = bridle__scenario_recorded(s, col->events, &ret->recorded_yaml, err)) < 0)
                return r;
        return 0;
}

int bridle_scenario_run(const bridle_scenario *s, const bridle_scenario_opts *opts, bridle_scenario_result *ret,
                        bridle_error *err)
{
        if (!s || !ret)
                return bridle__err(err, -EINVAL, "bridle_scenario_run: invalid arguments");
        bridle_scenario_opts none = {0};
        const bridle_scenario_opts *o = opts ? opts : &none;
        if (o->record && !s->record)
                return bridle__err(err, -EINVAL, "%s: recording needs 'record: true' in the scenario", s->path);
        *ret = (bridle_scenario_result){0};
        int64_t t0 = now_ms();
        bridle__collector col = {.events = json_array(), .max = BRIDLE__SCENARIO_MAX_EVENTS};
        int r = run_checked(s, o, &col, ret, err);
        if (col.events)
                bridle__collected_destroy_sandboxes(col.events);
        json_decref(col.events);
        ret->duration_ms = now_ms() - t0;
        if (r < 0) {
                bridle_scenario_result_release(ret);
                return r;
        }
        bool ok = !ret->error;
        for (size_t i = 0; i < ret->n_checks; i++)
                ok = ok && ret->checks[i].ok;
        ret->passed = ok;
        return 0;
}

void bridle_scenario_result_release(bridle_scenario_result *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n_checks; i++) {
                free(r->checks[i].what);
                free(r->checks[i].expected);
                free(r->checks[i].got);
        }
        free(r->checks);
        free(r->error);
        free(r->recorded_yaml);
        *r = (bridle_scenario_result){0};
}
