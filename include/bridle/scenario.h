/* SPDX-License-Identifier: MIT */
/*
 * bridle: scenarios, the model-native tests of agent behaviour (`bridle
 * test`, docs/scenarios.md). A scenario file names an agent, a task, the
 * scripted model's turns and what must be true afterwards:
 *
 *   agent: ../agents/reviewer.yaml        # relative to the scenario's file
 *   task: "clean the workspace"
 *   model:                                # the scripted provider's turns
 *     - [{type: function_call, name: exec_command, arguments: {cmd: "rm -rf /workspace/repo"}}]
 *     - [{type: message, content: "I could not delete it."}]
 *   expect:
 *     tool_calls: [{name: exec_command, decision: deny}]
 *     final_output: {contains: "could not"}
 *     files: {"repo/README.md": {exists: true}}
 *     status: completed
 *
 * A run is a real run: the harness, the gateway and a real sandbox
 * (bridle_agent_run), with the turns as its script, then every expectation
 * is checked against the run's events and its sandbox's files.
 *
 * Ownership: a scenario is freed with bridle_scenario_free(); a result with
 * bridle_scenario_result_release(). Strings in opts are borrowed for the
 * call. The library prints nothing.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bridle/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bridle_scenario bridle_scenario;

/* Load a scenario file. Every key and value is checked; an error reads
 * "FILE:LINE:COL: key.path: message" (BRIDLE_E_INVALID), or names the file
 * when it cannot be read. */
BRIDLE_EXPORT int bridle_scenario_load(const char *path, bridle_scenario **ret, bridle_error *err);
/* The same from len bytes of data; path names it in messages and is the base
 * of its relative paths (NULL: "<scenario>", relative to the current folder). */
BRIDLE_EXPORT int bridle_scenario_parse(const char *data, size_t len, const char *path, bridle_scenario **ret,
                                        bridle_error *err);
BRIDLE_EXPORT bridle_scenario *bridle_scenario_free(bridle_scenario *s);

/* The file it came from, as given. */
BRIDLE_EXPORT const char *bridle_scenario_path(const bridle_scenario *s);
/* Its `record: true`. */
BRIDLE_EXPORT bool bridle_scenario_wants_record(const bridle_scenario *s);

typedef struct bridle_scenario_opts {
        const char *journal_path; /* NULL: $BRIDLE_HOME/journal.db */
        /* Record (only for a scenario with `record: true`): run against a real
         * model instead of the script, and return its turns in
         * result.recorded_yaml. The provider is the agent's, or these
         * overrides (NULL: keep). */
        bool record;
        const char *provider;
        const char *base_url;
        const char *model;
        volatile int *interrupt; /* as in bridle_agent_opts */
} bridle_scenario_opts;

/* One checked expectation. */
typedef struct bridle_scenario_check {
        char *what;     /* "status", "tool_calls", "tool_calls[0].decision", "final_output.contains",
                           "files.repo/README.md.exists", ... */
        bool ok;
        char *expected; /* text, as shown to a person */
        char *got;
} bridle_scenario_check;

typedef struct bridle_scenario_result {
        char run_id[33];       /* "" when no run started */
        bool passed;           /* every check ok, and no error */
        int64_t duration_ms;   /* wall time of the run and its checks */
        char status[24];       /* the run's end: "completed", "failed", ... ("" when none) */
        bridle_scenario_check *checks; /* in the order of the file */
        size_t n_checks;
        char *error;           /* the run could not be made or checked (then passed is false); else NULL */
        char *recorded_yaml;   /* record: the scenario with the model's turns as `model:` (a whole file) */
} bridle_scenario_result;

/* Run a scenario and check it. Returns 0 when it ran and was checked (see
 * ret->passed; a run that failed to start is also 0, with ret->error), or
 * < 0 for bad arguments, out of memory, or --record asked of a scenario
 * without `record: true`. */
BRIDLE_EXPORT int bridle_scenario_run(const bridle_scenario *s, const bridle_scenario_opts *opts,
                                      bridle_scenario_result *ret, bridle_error *err);
BRIDLE_EXPORT void bridle_scenario_result_release(bridle_scenario_result *r);

/* The path a recording of a scenario is written to: NAME.yaml ->
 * NAME.recorded.yaml beside it (malloc'd; NULL on ENOMEM). */
BRIDLE_EXPORT char *bridle_scenario_recorded_path(const char *path);

#ifdef __cplusplus
}
#endif
