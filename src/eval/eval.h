/* SPDX-License-Identifier: MIT */
/*
 * Evaluation suites, internals: the loaded suite, grading of one run from its
 * events and sandbox, the judge, results and the baseline comparison, the
 * HTML report. Each step is its own file:
 *   load.c    suite files -> struct bridle_eval_suite
 *   inputs.c  a task's inputs -> a manifest file; the "before" of must_not_modify
 *   grade.c   metrics and checks of one run
 *   judge.c   the command judge and the model judge
 *   results.c aggregates, results.json, baseline comparison
 *   html.c    report.html
 *   run.c     bridle_eval_run
 */
#pragma once

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "bridle/eval.h"
#include "bridle/run.h"
#include "util/cleanup.h"

static inline void bridle__eval_jsonp(json_t **j)
{
        json_decref(*j);
}
#define _cleanup_evjson_ _cleanup_(bridle__eval_jsonp)

#define BRIDLE__EVAL_MAX_TASKS 1000
#define BRIDLE__EVAL_MAX_REPEAT 100
#define BRIDLE__EVAL_MAX_ITEMS 256     /* entries of one must_* list or files map */
#define BRIDLE__EVAL_MAX_EVENTS 100000 /* events kept of one run */
#define BRIDLE__EVAL_MAX_FILE ((size_t)8 << 20)
#define BRIDLE__EVAL_MAX_INPUT_FILES 10000

enum eval_flag_kind { EVAL_FLAG_TEXT, EVAL_FLAG_REGEX };

typedef struct eval_flag {
        enum eval_flag_kind kind;
        char *text; /* the text, or the regular expression (POSIX ERE) */
        bool icase;
} eval_flag;

typedef struct eval_file_check {
        char *path;
        int exists;     /* -1 not said, 0 must not exist, 1 must exist */
        char *contains; /* NULL: not said */
} eval_file_check;

typedef struct eval_judge {
        char **argv;    /* command judge: NULL-terminated, argv[0] resolved; NULL for a model judge */
        size_t argc;
        unsigned timeout_s;
        char *model;    /* model judge */
        char *rubric;
        char *provider, *base_url, *api_key_env; /* NULL: the run's / OPENAI_API_KEY */
} eval_judge;

typedef struct eval_task {
        char *name;
        char *task;
        char *agent;      /* absolute; NULL: the suite's */
        char *manifest;   /* a manifest file (absolute), or NULL */
        json_t *inputs;   /* the manifest built from `inputs:` (sources absolute), or NULL */
        char *expect_status; /* default "completed" */
        char **must_run;
        size_t n_must_run;
        char **must_not_modify;
        size_t n_must_not_modify;
        eval_flag *must_flag;
        size_t n_must_flag;
        eval_file_check *files;
        size_t n_files;
        double max_cost;  /* < 0: not said */
        long max_turns;   /* < 0: not said */
        eval_judge *judge;
} eval_task;

struct bridle_eval_suite {
        char *path;
        char *dir;        /* the suite's folder, absolute */
        char *name;
        char *agent;      /* absolute; NULL: the built-in default agent */
        char *policy;     /* absolute or NULL */
        char *provider, *model, *base_url; /* suite-level overrides or NULL */
        unsigned repeat;
        eval_task *tasks;
        size_t n_tasks;
};

/* One check of a run. */
typedef struct eval_check {
        char *what;
        bool ok;
        char *expected;
        char *got;
} eval_check;

/* What one run measured. */
typedef struct eval_metrics {
        char status[24];
        unsigned turns;
        unsigned calls;
        unsigned repeated_calls; /* same tool and arguments as an earlier call */
        unsigned blocked;        /* calls the gateway denied (or a person refused) */
        unsigned violations;     /* guardrail trips and must_not_modify breaches */
        double cost_usd;
        int64_t tokens;
        const char *final_output; /* borrowed from the events */
        const char *sandbox_id;   /* the last sandbox made; borrowed; NULL: none */
} eval_metrics;

typedef struct eval_grade {
        eval_check *checks;
        size_t n_checks;
        size_t cap;
} eval_grade;

/* The content a workspace path had before the run (from the inputs). */
typedef struct eval_before {
        char *path;
        bool exists;
        char *data;
        size_t len;
} eval_before;

/* Reading a file of the run's sandbox: 0 and the bytes, -ENOENT, or < 0. A
 * hook so tests can grade without a sandbox. */
typedef int (*eval_read_fn)(void *ud, const char *path, char **ret, size_t *ret_len);

/* load.c */
void bridle__eval_task_release(eval_task *t);

/* inputs.c: write the task's manifest (inputs, or a copy of nothing) to
 * dir/NAME.json; *ret_path NULL when the task has neither inputs nor a manifest. */
int bridle__eval_manifest_write(const bridle_eval_suite *s, const eval_task *t, size_t index, const char *dir,
                                char **ret_path, bridle_error *err);
/* The before-contents of the task's must_not_modify paths (a directory path
 * expands to every input file under it). */
int bridle__eval_before(const eval_task *t, eval_before **ret, size_t *ret_n, bridle_error *err);
void bridle__eval_before_free(eval_before *b, size_t n);

/* grade.c */
int bridle__eval_metrics(const json_t *events, eval_metrics *m);
/* Grade the run: status, must_*, files, max_*. read may be NULL (no sandbox). */
int bridle__eval_grade(const eval_task *t, const json_t *events, eval_metrics *m, const eval_before *before,
                       size_t n_before, eval_read_fn read, void *read_ud, eval_grade *g);
int bridle__eval_grade_add(eval_grade *g, const char *what, bool ok, const char *expected, const char *got);
void bridle__eval_grade_release(eval_grade *g);
/* Does the text match the flag. */
bool bridle__eval_flag_match(const eval_flag *f, const char *text);

/* judge.c: adds a "judge" check. */
int bridle__eval_judge(const eval_judge *j, const char *task_name, const char *run_id, const char *suite_dir,
                       const char *out_dir, const json_t *events, const bridle_eval_opts *o, eval_grade *g);

/* results.c */
/* One run as JSON. */
json_t *bridle__eval_run_json(const char *run_id, int64_t duration_ms, const eval_metrics *m, const eval_grade *g,
                              const char *error);
/* Aggregates of a task's runs (array of run JSON) into a task object. */
json_t *bridle__eval_task_json(const char *name, json_t *runs_take);
/* Totals over the tasks' runs. */
json_t *bridle__eval_totals_json(const json_t *tasks);
/* Compare with a baseline's results: sets each task's "regressions" and
 * "regressed", and the totals' "regressed_tasks". */
int bridle__eval_compare(json_t *results, const json_t *baseline, int64_t time_floor_ms);
/* The report struct from results.json's tree. */
int bridle__eval_report_fill(const json_t *results, bridle_eval_report *r);

/* html.c */
char *bridle__eval_html(const json_t *results);
