/* SPDX-License-Identifier: MIT */
/*
 * A run's state: a fold over its events (docs/harness.md, "Events"). The
 * only way anything learns a run's state: `runs`, `runs show` and resume.
 *
 * Ownership: the state owns its json members (bridle__run_state_clear()).
 * The items in items and pending (and started) are references to the objects
 * of the events folded (json_incref, not copies): read them, or
 * json_deep_copy() before changing one in place. The arrays themselves are the
 * state's own. A zeroed struct is an empty state: apply() may start from it.
 * The guarantees the fold gives are listed in docs/journal.md, "The fold".
 */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "bridle/run.h"

typedef struct bridle__run_state {
        char run_id[33];
        enum bridle_run_status status; /* RUNNING until a run.status says otherwise */
        char reason[512];
        char where[16];
        char agent[128];     /* the agent in charge now (after handoffs) */
        char sandbox_id[16]; /* "" when none was made */
        json_t *started;     /* run.started's data (new reference) */
        json_t *items;       /* the conversation: task message, response outputs, tool outputs */
        json_t *pending;     /* calls of the last response with no tool.finished, in order */
        json_t *approvals;     /* call_id -> approval.given data (a person's answer) */
        json_t *requested;     /* call_id -> approval.requested data, not yet answered */
        json_t *always_rules;  /* rule -> true: approved always for this run */
        json_t *denied;        /* call_id -> true: calls denied, by the policy or a person */
        unsigned denials;      /* how many (each call once) */
        /* Durability (docs/durability.md). */
        json_t *checkpoints;   /* checkpoint events' data, with "seq", oldest first (this timeline: rewinds drop later ones) */
        char base[65];         /* the checkpoint the sandbox's workspace was built on ("" the manifest) */
        json_t *writes;        /* [seq, call_id] of each writing call's tool.finished, in order:
                                * checkpoint C + those after C's seq = the workspace now */
        json_t *in_doubt;      /* call_id -> tool.started data: started, not finished */
        bool dirty;            /* a writing call started since base (a checkpoint is worth taking) */
        unsigned calls_since;  /* calls finished since the last checkpoint */
        char fail_tool[80];    /* the tool whose last calls failed in a row */
        unsigned fail_count;   /* how many in a row */
        json_t *fail_notes;    /* short notes of those attempts, oldest first (at most 8) */
        int64_t rewind_to;     /* set by a run.rewound just applied: the fold redoes the state (see fold) */
        int64_t trace_upto;    /* trace.exported: the events whose ended spans went to the collector */
        char *final_output;
        unsigned turns; /* model.response events */
        unsigned resumes;
        int64_t input_tokens, cached_tokens, output_tokens, reasoning_tokens;
        double cost_usd;
        int64_t started_at, updated_at; /* unix seconds */
        int64_t last_seq;
} bridle__run_state;

/* Is this output item a call the harness runs (function_call, shell_call,
 * apply_patch_call)? */
bool bridle__item_is_call(const json_t *item);

/* Fold an array of events (bridle__journal_events()) into st (zeroed first).
 * Events of unknown types are skipped; malformed known ones are BRIDLE_E_INVALID
 * naming the seq and the key ("event 7 (model.response): 'usage.input_tokens'
 * is not a non-negative integer"). Seqs must increase. On failure st holds the
 * fold of the events before the bad one (clear it all the same). */
int bridle__run_state_fold(const json_t *events, bridle__run_state *st, bridle_error *err);
/* Fold one more event into st. A malformed event leaves st unchanged
 * (-ENOMEM may leave items half appended). */
int bridle__run_state_apply(bridle__run_state *st, const json_t *event, bridle_error *err);
void bridle__run_state_clear(bridle__run_state *st);
/* "completed" -> BRIDLE_RUN_COMPLETED etc.; -EINVAL for an unknown name. */
int bridle__run_status_parse(const char *name, enum bridle_run_status *ret);
/* The public summary of a state. */
void bridle__run_state_info(const bridle__run_state *st, bridle_run_info *info);
