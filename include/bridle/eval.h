/* SPDX-License-Identifier: MIT */
/*
 * bridle: evaluation suites, grading real runs (`bridle eval`, docs/eval.md).
 * A suite lists tasks (their inputs and text) and what must hold after each
 * run; every task runs N times through the real harness (bridle_agent_run)
 * against a real model (or any OpenAI-compatible server), and each run is
 * graded from its events and its sandbox's files:
 *
 *   name: reviewer
 *   agent: agents/reviewer.yaml          # relative to the suite's file
 *   tasks:
 *     - name: finds-bug
 *       task: "Review calc.c and report any bug"
 *       inputs: [{path: src, source: ./fixtures/calc}]   # copied into the workspace
 *       expect:
 *         must_run: ["cc "]                # a command starting so was run
 *         must_not_modify: [src/calc.c]
 *         must_flag: ["off-by-one", {regex: "line [0-9]+"}]
 *         files: {"report.md": {exists: true, contains: "bug"}}
 *         max_cost: 0.05
 *         max_turns: 8
 *       judge: {command: [./judge.sh]}     # or {model: gpt-5.1, rubric: "..."}
 *
 * Results per task and in total: completion rate, correctness (pass rate),
 * safety (blocked calls, policy violations), tool efficiency (calls, repeated
 * calls), cost and time. Against a baseline (an earlier results.json) a task
 * regresses when its pass rate drops, its mean cost or time grows by more
 * than 20% (time: and by more than time_floor_ms), or its safety counts grow.
 *
 * The out folder holds journal.db (every run of this eval), results.json and
 * report.html (self-contained, a bar chart of the scores).
 *
 * Ownership: a suite is freed with bridle_eval_suite_free(); a report with
 * bridle_eval_report_release(). Strings in opts are borrowed for the call.
 * The library prints nothing.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bridle/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bridle_eval_suite bridle_eval_suite;

/* Load a suite file (YAML or JSON). Every key and value is checked and every
 * path resolved against the file's folder; an error reads
 * "FILE:LINE:COL: key.path: message" (BRIDLE_E_INVALID), or names the file
 * when it cannot be read. */
BRIDLE_EXPORT int bridle_eval_suite_load(const char *path, bridle_eval_suite **ret, bridle_error *err);
/* The same from len bytes; path names it in messages and is the base of its
 * relative paths (NULL: "<suite>", relative to the current folder). */
BRIDLE_EXPORT int bridle_eval_suite_parse(const char *data, size_t len, const char *path,
                                          bridle_eval_suite **ret, bridle_error *err);
BRIDLE_EXPORT bridle_eval_suite *bridle_eval_suite_free(bridle_eval_suite *s);
/* Its `name:` (else the file's base name) and number of tasks. */
BRIDLE_EXPORT const char *bridle_eval_suite_name(const bridle_eval_suite *s);
BRIDLE_EXPORT size_t bridle_eval_suite_n_tasks(const bridle_eval_suite *s);

typedef struct bridle_eval_opts {
        /* Overrides of every agent's (and the model judge's default) provider,
         * model and base URL; NULL: keep. */
        const char *provider;
        const char *model;
        const char *base_url;
        unsigned repeat;           /* runs per task; 0: the suite's `repeat:`, else 1 */
        const char *out_dir;       /* required: created if missing; journal.db, results.json, report.html */
        const char *baseline_file; /* an earlier results.json; NULL: no comparison */
        int64_t time_floor_ms;     /* time regressions under this many ms are noise; 0: 500, < 0: none */
        /* Called after each run is graded (may be NULL). */
        void (*on_run)(const char *task, unsigned rep, const char *run_id, bool passed, void *userdata);
        void *userdata;
        volatile int *interrupt;   /* as in bridle_agent_opts: stops the eval after the current run */
} bridle_eval_opts;

/* One task's figures, over its runs. In bridle_eval_report.total, cost_usd,
 * duration_ms, turns, calls and repeated_calls are sums over every run, and
 * regressed says whether any task regressed. */
typedef struct bridle_eval_task_result {
        char *name;
        unsigned runs, completed, passed;
        double completion_rate, pass_rate; /* 0..1 */
        double cost_usd;                   /* mean per run */
        double duration_ms;                /* mean per run */
        double turns, calls, repeated_calls; /* means per run */
        unsigned blocked, violations;      /* sums over the runs */
        bool regressed;
        char *regressions;  /* "pass_rate 1.00 -> 0.50; cost ..." or NULL */
        char *failure;      /* the first failed check of the first failing run, or NULL */
} bridle_eval_task_result;

typedef struct bridle_eval_report {
        bridle_eval_task_result *tasks;
        size_t n_tasks;
        bridle_eval_task_result total;
        bool baseline;          /* compared with one */
        unsigned failed_tasks;  /* tasks with a run that did not pass */
        unsigned regressed_tasks;
        char *results_json;     /* the text of results.json */
        char *results_path;     /* out_dir/results.json */
        char *html_path;        /* out_dir/report.html */
} bridle_eval_report;

/* Run every task, grade, write results.json and report.html. Returns 0 when
 * the suite ran (tasks may have failed: see ret), < 0 when it could not
 * (bad options, an unreadable baseline, the out folder, out of memory).
 * A run that could not start counts as a failed run of its task. */
BRIDLE_EXPORT int bridle_eval_run(const bridle_eval_suite *s, const bridle_eval_opts *opts,
                                  bridle_eval_report *ret, bridle_error *err);
BRIDLE_EXPORT void bridle_eval_report_release(bridle_eval_report *r);

#ifdef __cplusplus
}
#endif
