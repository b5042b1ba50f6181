/* SPDX-License-Identifier: MIT */
/*
 * Scenarios (include/bridle/scenario.h): the loaded form shared by the
 * loader (load.c), the runner and checks (run.c, check.c) and the recorder
 * (record.c).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "bridle/run.h"
#include "bridle/scenario.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

/* Caps: a scenario is small. */
#define BRIDLE__SCENARIO_MAX_CALLS 256 /* expect.tool_calls entries */
#define BRIDLE__SCENARIO_MAX_FILES 256 /* expect.files entries */
#define BRIDLE__SCENARIO_MAX_EVENTS 100000

struct bridle_scenario {
        char *path;     /* as given */
        char *agent;    /* absolute (or NULL: the built-in default agent) */
        char *policy;   /* absolute or NULL */
        char *manifest; /* absolute or NULL */
        char *task;
        unsigned max_turns;        /* 0: the agent's */
        bool approve;              /* approvals: approve */
        bool record;               /* record: true */
        json_t *model;             /* the expanded script (a list of turns), or NULL */
        json_t *expect;            /* checked: status, tool_calls, final_output, files */
        json_t *source;            /* the document as loaded (for a recording) */
};

#define _cleanup_jsonp_ _cleanup_json_ /* util/cleanup.h */

/* Checks (check.c): compare the expectations with the run's events (a list of
 * event objects) and read files from sandbox_id ("" when the run made none).
 * Appends to ret's checks. Returns 0 or -ENOMEM. */
int bridle__scenario_check(const bridle_scenario *s, const json_t *events, const char *sandbox_id,
                           bridle_scenario_result *ret);

/* The recording (record.c): the scenario's document with `model:` replaced by
 * the turns of the run's model.response events and `record:` left out, as
 * YAML text (malloc'd). */
int bridle__scenario_recorded(const bridle_scenario *s, const json_t *events, char **ret, bridle_error *err);
