/* SPDX-License-Identifier: MIT */
/*
 * bridle: agent runs (the harness). A run is an agent working on a task: the
 * model loop over HTTP (or a script), tools that run in a sandbox, every step
 * an event in the journal (docs/harness.md). Runs survive the process: a run
 * that stopped (crash, interrupt, budget) continues with bridle_agent_resume(),
 * without asking the model again for turns it has, or re-running calls whose
 * results are recorded.
 *
 * Ownership: strings in opts are borrowed for the call; results are released
 * with bridle_agent_result_release() / free().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bridle/common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum bridle_run_status {
        BRIDLE_RUN_RUNNING = 0,
        BRIDLE_RUN_COMPLETED = 1,
        BRIDLE_RUN_FAILED = 2,
        BRIDLE_RUN_STOPPED = 3,     /* max_turns or a budget: resumable */
        BRIDLE_RUN_WAITING = 4,     /* an approval is pending: resumable */
        BRIDLE_RUN_INTERRUPTED = 5, /* a signal: resumable */
};

/* A C function tool. args_json is the call's arguments, already checked
 * against parameters_json. Return 0 and a malloc'd *ret_output, or < 0 with
 * err set: the model then sees the message as the tool's error. */
typedef int (*bridle_tool_fn)(void *userdata, const char *args_json, char **ret_output, bridle_error *err);

typedef struct bridle_agent_tool {
        const char *name;            /* [A-Za-z0-9_-]{1,64} */
        const char *description;
        const char *parameters_json; /* a JSON Schema object */
        bool read_only;              /* safe to run twice (resume) */
        bridle_tool_fn fn;
        void *userdata;
} bridle_agent_tool;

/* What happens to a call the policy says to ask about (docs/gateway.md). */
enum bridle_approvals {
        BRIDLE_APPROVALS_DEFAULT = 0, /* ASK when opts.approve is set, else DEFER */
        BRIDLE_APPROVALS_ASK = 1,     /* call opts.approve and wait for the answer */
        BRIDLE_APPROVALS_DEFER = 2,   /* stop the run (awaiting_approval); answer later with
                                         bridle_approval_answer(), then resume */
        BRIDLE_APPROVALS_DENY = 3,    /* refuse it, as if a person had said no */
};

/* A call waiting for a person. Strings are borrowed for the callback's duration. */
typedef struct bridle_approval_request {
        const char *run_id;
        const char *call_id;
        const char *tool;      /* "exec_command", "shell", "apply_patch", ... */
        const char *arguments; /* the call's arguments as JSON text */
        const char *rule;      /* what matched: "commands[2] prefix [npm install]", "default" */
        const char *reason;    /* the rule's reason; may be "" */
        const char *command;   /* the simple command that decided; may be "" */
} bridle_approval_request;

enum bridle_approval_decision {
        BRIDLE_APPROVE = 1,        /* run this call */
        BRIDLE_APPROVE_ALWAYS = 2, /* run it, and every later call this rule asks about in this run */
        BRIDLE_DENY = 3,           /* refuse it; the reason goes back to the model */
        BRIDLE_DEFER = 4,          /* no one can answer now: stop the run awaiting approval */
};

/* Answer one request: return a decision; for BRIDLE_DENY, write a reason
 * (NUL-terminated, at most reason_cap bytes) or leave it empty. */
typedef enum bridle_approval_decision (*bridle_approve_fn)(const bridle_approval_request *req, char *reason,
                                                          size_t reason_cap, void *userdata);

typedef struct bridle_agent_opts {
        const char *agent_file;    /* YAML/JSON agent; NULL: a built-in default agent */
        /* Overrides of the agent file (NULL / 0: keep). */
        const char *provider;      /* "openai-responses" | "openai-chat" | "scripted" */
        const char *model;
        const char *base_url;
        const char *script_file;   /* scripted provider's turns */
        const char *manifest_file; /* the sandbox's manifest */
        unsigned max_turns;
        bool keep_sandbox;         /* do not destroy the run's sandbox at the end */
        const char *journal_path;  /* NULL: $BRIDLE_HOME/journal.db */
        const bridle_agent_tool *tools; /* C function tools offered to every agent */
        size_t n_tools;
        /* Every journaled event as one JSON line (no newline), in order, plus
         * transient ones that are not journaled (seq 0): "model.delta" {"text"}
         * as the model's text streams, "model.waiting" {"turn"}. */
        void (*on_event)(const char *event_json, void *userdata);
        void *userdata;
        /* Set non-zero (e.g. from a SIGINT handler) to stop the run at the next
         * step; it ends as BRIDLE_RUN_INTERRUPTED. */
        volatile int *interrupt;
        /* The gateway (docs/gateway.md): a policy file (overrides the agent
         * file's `policy:`; NULL: the agent's, else the built-in default), what
         * to do with calls it asks about, and who answers. */
        const char *policy_file;
        /* With a policy's `approvals: {mode: end}`: the host folder the
         * workspace's changes are exported to once a person approves them
         * (overrides the agent file's `outputs:`; NULL: none, they stay in the
         * sandbox). */
        const char *output_dir;
        enum bridle_approvals approvals;
        bridle_approve_fn approve;
        void *approve_userdata;
        /* Checkpoints (docs/durability.md): every N calls at least, and before
         * each call that writes; 0 keeps the agent file's (default 10);
         * no_checkpoints turns them off. A new run only. */
        unsigned checkpoint_every;
        bool no_checkpoints;
        /* Resume: raise the budget (0: keep), and rewind to a checkpoint
         * (its snapshot id; NULL: continue where the run stopped). */
        int64_t budget_tokens;
        double budget_cost_usd;
        double budget_wall_s;
        const char *from_checkpoint;
} bridle_agent_opts;

typedef struct bridle_agent_result {
        char run_id[33];
        enum bridle_run_status status;
        char *final_output;   /* completed: the final answer (malloc'd) */
        char where[16];       /* failed: "model", "tool", "sandbox", "internal" */
        char message[512];    /* failed or stopped: why */
} bridle_agent_result;

/* Start a run of task. Returns 0 once the run has ended in any status (see
 * res->status); < 0 when no run could be started (bad agent file, journal). */
BRIDLE_EXPORT int bridle_agent_run(const bridle_agent_opts *opts, const char *task, bridle_agent_result *res,
                                   bridle_error *err);
/* Continue a run that stopped. opts->agent_file and overrides are ignored
 * except max_turns (raise it to continue a run stopped by max_turns), the
 * journal path, tools and callbacks. */
BRIDLE_EXPORT int bridle_agent_resume(const char *run_ref, const bridle_agent_opts *opts, bridle_agent_result *res,
                                      bridle_error *err);
BRIDLE_EXPORT void bridle_agent_result_release(bridle_agent_result *res);

/* Runs in the journal, read only from their events. */
typedef struct bridle_run_info {
        char id[33];
        char agent[128];
        char status[24];      /* "running", "completed", "failed", "stopped", "awaiting_approval", "interrupted" */
        unsigned turns;       /* model responses */
        int64_t input_tokens, cached_tokens, output_tokens, reasoning_tokens;
        double cost_usd;
        int64_t started_at;   /* unix seconds */
        int64_t updated_at;
} bridle_run_info;

/* Newest first. */
BRIDLE_EXPORT int bridle_runs_list(const char *journal_path, bridle_run_info **ret, size_t *ret_n, bridle_error *err);
/* One run: its summary and its events as JSON lines ("\n"-terminated, malloc'd). */
BRIDLE_EXPORT int bridle_runs_show(const char *journal_path, const char *run_ref, bridle_run_info *info,
                                   char **ret_events_jsonl, bridle_error *err);
/* Calls waiting for a person, in runs that are awaiting approval (run_ref
 * NULL: every run), oldest first. *ret is released with
 * bridle_approvals_release(). */
typedef struct bridle_pending_approval {
        char run_id[33];
        char call_id[80];
        char tool[80];
        char *arguments;     /* JSON text */
        char rule[192];
        char reason[256];
        int64_t asked_at;    /* unix seconds */
} bridle_pending_approval;
BRIDLE_EXPORT int bridle_approvals_list(const char *journal_path, const char *run_ref, bridle_pending_approval **ret,
                                        size_t *ret_n, bridle_error *err);
BRIDLE_EXPORT void bridle_approvals_release(bridle_pending_approval *v, size_t n);
/* Answer pending calls of a run that is awaiting approval: call_id NULL
 * answers all of them. approve false denies, with reason (may be NULL) sent
 * to the model. Records the answer in the journal; bridle_agent_resume()
 * then continues the run. -ENOENT when the call is not pending. */
BRIDLE_EXPORT int bridle_approval_answer(const char *journal_path, const char *run_ref, const char *call_id,
                                         bool approve, const char *reason, bridle_error *err);

/* The manifests a run's sandboxes are made from, as stored with the run
 * (docs/durability.md): each as "# PATH (sha256 HASH)" and its text;
 * "" when the run stored none. *ret_text is the caller's to free. */
BRIDLE_EXPORT int bridle_run_manifest(const char *journal_path, const char *run_ref, char **ret_text,
                                      bridle_error *err);

/* Status names, "completed" etc. */
BRIDLE_EXPORT const char *bridle_run_status_name(enum bridle_run_status s);

/*
 * Retention: bridle gc (docs/durability.md, "Retention"). Removes what runs no
 * longer need: checkpoint snapshots (labelled "bridle-run:<run id>") of old
 * runs, checkpoint snapshots no event names (older than one hour), and the
 * sandboxes and egress directories of old completed and failed runs. A
 * resumable run keeps its latest checkpoint, the snapshot its sandbox is built
 * on and the checkpoints of its pending calls; a snapshot another snapshot or
 * a living sandbox builds on is kept (reported with kept set). Snapshots
 * labelled for a run the journal does not hold are left alone (they may be
 * another journal's).
 */
typedef struct bridle_gc_opts {
        const char *journal_path; /* NULL: $BRIDLE_HOME/journal.db */
        bool dry_run;             /* report only, remove nothing */
        int older_than_days;      /* -1: $BRIDLE_HOME/retention.yaml's, else 7 */
        int keep_last;            /* the newest N runs keep everything; -1: retention.yaml's, else 20 */
        uint64_t max_size;        /* snapshots' total cap in bytes; 0: retention.yaml's, else none;
                                     UINT64_MAX: none */
        int64_t now;              /* unix seconds; 0: time(NULL) (tests set it) */
} bridle_gc_opts;

typedef struct bridle_gc_item {
        char kind[16];       /* "checkpoint", "orphan_snapshot", "sandbox", "egress_dir", "partial" (a
                              * snapshot archive left half-written, <id>.tar.zst.tmp, its id) */
        char id[65];         /* snapshot id, sandbox id, or the run id for egress_dir */
        char run_id[33];
        char run_status[24]; /* bridle_run_status_name(), or "" */
        uint64_t bytes;      /* archive size, or bytes on disk of a directory */
        int64_t age_s;       /* snapshot: since it was made; sandbox, egress_dir: since the run's last event */
        bool kept;           /* chosen, but something builds on it: not removed (why says what) */
        int error;           /* 0, or why removing it failed (why holds the message) */
        char why[512];
} bridle_gc_item;

typedef struct bridle_gc_report {
        bridle_gc_item *items; /* in the order they were removed */
        size_t n_items;
        size_t count;          /* items removed (dry run: that would be) */
        uint64_t bytes;        /* bytes freed (dry run: that would be) */
        size_t failed;         /* items that could not be removed */
        /* The settings used. */
        int older_than_days;
        int keep_last;
        uint64_t max_size;     /* 0: none */
        uint64_t snapshots_bytes; /* every snapshot's archive, after (dry run: as it would be) */
} bridle_gc_report;

/* Collect. Returns 0 (items that could not be removed are counted in
 * ret->failed, with their message) or < 0 when nothing could be decided: the
 * journal or retention.yaml unreadable, bad options. *ret is released with
 * bridle_gc_report_release(). */
BRIDLE_EXPORT int bridle_gc(const bridle_gc_opts *opts, bridle_gc_report *ret, bridle_error *err);
BRIDLE_EXPORT void bridle_gc_report_release(bridle_gc_report *ret);

#ifdef __cplusplus
}
#endif
