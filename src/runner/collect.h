/* SPDX-License-Identifier: MIT */
/*
 * A run's events kept as they happen, for the programs that grade runs
 * (bridle test: src/scenario/, bridle eval: src/eval/): the on_event
 * callback of bridle_agent_opts collects them; afterwards the sandboxes the
 * run made are destroyed from them.
 *
 * Ownership: the collector owns events (json_decref it when done).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct bridle__collector {
        json_t *events; /* journaled events (seq > 0), in order */
        size_t max;     /* keep at most this many */
        bool full;      /* some were not kept (max, or out of memory) */
} bridle__collector;

/* bridle_agent_opts.on_event with userdata a bridle__collector. */
void bridle__collect_event(const char *line, void *userdata);
/* Destroy every sandbox a sandbox.created of events names. */
void bridle__collected_destroy_sandboxes(const json_t *events);
