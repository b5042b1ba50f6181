/* SPDX-License-Identifier: MIT */
/*
 * The runner: one run of the agent loop (docs/harness.md). run.c starts and
 * resumes runs (journal, agents, run.started / run.resumed); loop.c drives
 * turns: pending tool calls, limits, one model call, completion. Every step is
 * an event appended to the journal and folded into the state before the next
 * step, so the state is always what a resume would rebuild.
 *
 * Ownership: struct bridle__run owns the journal handle, the agents, the
 * per-agent models and tool registries and the state.
 */
#pragma once

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bridle/manifest.h"
#include "bridle/run.h"
#include "bridle/sandbox.h"
#include "gateway/gateway.h"
#include "guard/guard.h"
#include "journal/journal.h"
#include "model/model.h"
#include "runner/agent.h"
#include "runner/state.h"
#include "tools/tools.h"

struct bridle__agent_rt {
        char name[72];
        bridle__model *model;
        bridle__tools *tools;
        json_t *defs;       /* tool definitions sent to the model */
        char *instructions; /* assembled once per process */
        bool uses_sandbox;
        const char *provider; /* borrowed from the run's agents */
        struct bridle__run_mcp *mcp; /* the agent's MCP servers (mcp.c) */
        size_t n_mcp;
};

typedef struct bridle__run {
        const bridle_agent_opts *opts;
        bridle__journal *j;
        char id[33];
        json_t *def;  /* {"entry","agents"} from run.started */
        bridle__run_state st;
        struct bridle__agent_rt rt[BRIDLE__AGENT_MAX];
        size_t n_rt;
        bool sandbox_checked;     /* st.sandbox_id is known to be alive */
        unsigned retries_left;    /* model retries for this process's part of the run */
        unsigned max_turns;
        json_t *budget;           /* {"tokens","cost_usd","wall"} (nulls: none) */
        int64_t active_ms_before; /* wall time of earlier segments (resume) */
        int64_t segment_start_ms;
        bool last_had_calls;      /* the last model.response held tool calls */
        json_t *last_output;      /* resume: the last model.response's output (borrowed from events) */
        bridle__tool_env env;
        json_t *buf;              /* events made but not yet written (see bridle__run_emit) */
        char new_run_agent[128];
        bool keep_sandbox;        /* the run's own --keep-sandbox, or the caller's */
        bridle__policy *policy;   /* the gateway's policy (recorded in run.started) */
        bridle__secrets *secrets; /* redacts tool outputs; knows the run's API keys */
        bridle__guards *guards;   /* the entry agent's guardrails (NULL: none) */
        bridle_egress *egress;    /* the proxy, when the policy's network is an allowlist */
        char egress_dir[4200];
        pthread_mutex_t egress_mu; /* guards egress_queue (the proxy's threads report into it) */
        json_t *egress_queue;
        char output_dir[4096];    /* approvals mode end: where approved changes go ("" none) */
        const char *known[BRIDLE__AGENT_MAX]; /* the run's API keys (environment strings, borrowed) */
        unsigned ckpt_every;      /* checkpoints: every N calls at least (0: none; docs/durability.md) */
        unsigned rehydrations;    /* sandboxes remade in this process (a bound) */
        bool in_rehydrate;        /* replaying writes into a new sandbox: the sandbox callback does not check */
        json_t *manifests;        /* new run: path -> sha256 of the stored manifests */
        int64_t trace_last_ms;    /* the live OTLP export's last try (trace: {export: otlp}) */
        bool trace_warned;        /* a failed live export was said (once a process) */
        char mcp_lost[512];       /* an MCP server died under a call of this batch ("" none) */
        bridle_error broken;      /* a batch could not be written (disk full): the state is ahead of the
                                   * journal; nothing more is written, the run ends with this error */
        size_t n_known;  /* a new run's row, written with its first batch */
} bridle__run;

/*
 * Append an event (data is stolen), fold it into the state, report it.
 * Events are written in batches (one journal transaction); a batch is
 * committed at a sync point, an event that must be durable before the run
 * goes on: a model response that asks for tools (so resume never asks the
 * model again; a scripted model's answers are free and the same every time,
 * so they ride with the next sync point), tool.started and tool.finished of a tool that is not
 * read-only (so resume knows what ran), sandbox.created, run.status.
 * Everything else rides with the next sync point; a crash loses at most
 * events whose work is safe to do again. bridle__run_emit() syncs.
 */
int bridle__run_emit(bridle__run *R, const char *type, json_t *data, bridle_error *err);
int bridle__run_emit_sync(bridle__run *R, const char *type, json_t *data, bool sync, bridle_error *err);
int bridle__run_sync(bridle__run *R, bridle_error *err);
/* Run the loop until the run ends or stops; fills res. */
int bridle__run_loop(bridle__run *R, bridle_agent_result *res, bridle_error *err);
/* End the run with a status (emits run.status, destroys the sandbox when final). */
int bridle__run_finish(bridle__run *R, enum bridle_run_status s, const char *where, const char *reason,
                       const char *final_output, bridle_agent_result *res, bridle_error *err);
int64_t bridle__now_ms(void);
/* The gateway step for a batch of calls (gate.c): *ret_verdicts has one
 * object per call, {"run": bool, "refusal": text when not run}; *ret_defer
 * when some call waits for a person (the batch must not run yet). */
int bridle__run_gate(bridle__run *R, const json_t *pending, json_t **ret_verdicts, bool *ret_defer, bridle_error *err);
/* The output item refusing a call, in the shape its type needs. */
json_t *bridle__refusal_item(const json_t *call, const char *text);

/* The secret scanner and guardrails of a run (guard.c of the runner): made at
 * start and resume; the guardrails come from the entry agent. */
int bridle__run_guard_init(bridle__run *R, bridle_error *err);
/* Tool output text for the model, with secrets redacted (malloc'd); NULL and
 * an error when it cannot be redacted (the text must then be withheld). */
char *bridle__run_redact(const bridle__run *R, const char *text, bridle_error *err);
/* Check text against the input or output guardrails; true when it tripped
 * (a guardrail.tripped event is written and *why says which). */
bool bridle__run_guard_trips(bridle__run *R, enum bridle__guard_kind kind, const char *text, char *why, size_t cap);

/* Network egress (egress.c): does the policy ask for it; start the proxy
 * (idempotent); write the connections it reported as events; stop it. */
bool bridle__run_wants_egress(const bridle__run *R);
int bridle__run_egress_start(bridle__run *R, bridle_error *err);
void bridle__run_egress_flush(bridle__run *R);
void bridle__run_egress_stop(bridle__run *R);

/* approvals: {mode: end} (review.c): is it on; at completion, hold the run
 * for the person (*ret_waiting: approval.requested "export" written or still
 * unanswered) or act on the answer (export, note says what happened). */
bool bridle__run_review_at_end(const bridle__run *R);
int bridle__run_review(bridle__run *R, bool *ret_waiting, char *note, size_t cap, bridle_error *err);

/* The agent a transfer_to_<name> call of agent hands over to, if it is one of
 * that agent's handoffs; else NULL. */
const char *bridle__run_handoff_target(const bridle__run *R, const char *agent, const char *fn);

/* The run's sandbox (sandbox.c, docs/durability.md). The tools' sandbox
 * callback: made from the run's manifest on first use; NULL with
 * BRIDLE_E_SANDBOX when the run's sandbox is gone (the loop rehydrates). */
const char *bridle__run_sandbox(void *ud, bridle_error *err);
/* The run has a sandbox and it is gone (checked once per process; recheck
 * checks again, after a failure). */
bool bridle__run_sandbox_lost(bridle__run *R);
bool bridle__run_sandbox_recheck(bridle__run *R);
/* Is a checkpoint due before a call (writes: the call may change the workspace)? */
bool bridle__run_checkpoint_due(const bridle__run *R, bool writes);
/* Snapshot the sandbox; the checkpoint event is buffered (the call's
 * tool.started writes it). */
int bridle__run_checkpoint(bridle__run *R, const char *reason, const char *call_id, bridle_error *err);
/* A new sandbox from the latest checkpoint (or the manifest), the writing
 * calls finished since run again (tool.replayed); the old one destroyed. */
int bridle__run_rehydrate(bridle__run *R, const char *reason, bridle_error *err);
/* Run a recorded call again (rehydration): no events, output item discarded by the caller. */
int bridle__run_call_again(bridle__run *R, const json_t *call, json_t **ret_item, bool *ok, bridle_error *err);

/* Manifests stored with the run (manifest_store.c): store each agent's
 * manifest file in the journal (*ret: path -> hash, for run.started); load
 * one (the stored copy when the run has one); every stored one as text. */
int bridle__run_store_manifests(bridle__run *R, json_t **ret, bridle_error *err);
int bridle__run_manifest_load(bridle__run *R, const char *path, bridle_manifest **ret, bridle_error *err);
int bridle__run_manifests_text(bridle__journal *j, const json_t *started, char **ret, bridle_error *err);

/* The agent file's trace: {export: otlp} (run.c): the spans that ended go
 * to the collector, at most every `interval` seconds while the run goes on
 * (end false), and at the end of each part of the run (end true: all of
 * them once the run completed or failed). trace.exported records how far. */
void bridle__run_trace(bridle__run *R, bool end);

/* An agent's MCP servers (mcp.c, docs/mcp.md): start them all (a sandbox
 * server makes the run's sandbox; mcp.connected events); bridge their tools
 * into rt->tools (a dead server is started again first; tolerant: one that
 * cannot be listed is left out, with a run.warning); free the bridges
 * (after the registry that uses them); whether a server said its tools
 * changed (the caller rebuilds the registry); stop them. A dead server is
 * started again by the call that finds it so, at most 3 times a process. */
int bridle__run_mcp_start(bridle__run *R, struct bridle__agent_rt *rt, const json_t *agent, bridle_error *err);
int bridle__run_mcp_add_tools(struct bridle__agent_rt *rt, bool tolerant, bridle_error *err);
void bridle__run_mcp_drop_tools(struct bridle__agent_rt *rt);
bool bridle__run_mcp_changed(struct bridle__agent_rt *rt);
void bridle__run_mcp_stop(struct bridle__agent_rt *rt);
/* What a tool of an agent's MCP server is: its server and where it runs;
 * remote: on the host or over HTTP (it changes nothing in the sandbox, so it
 * is never replayed); outside: remote and neither readOnlyHint nor
 * idempotentHint (when a run stopped under it a person decides whether it
 * runs again). false (all zero) for tools that are not MCP tools. */
typedef struct bridle__run_mcp_info {
        const char *server, *where;
        bool remote, outside;
} bridle__run_mcp_info;
bool bridle__run_mcp_tool(const struct bridle__agent_rt *rt, const char *name, bridle__run_mcp_info *ret);
/* Whether the named server is dead now (its last call found it so). */
bool bridle__run_mcp_dead(const struct bridle__agent_rt *rt, const char *server);

/* Open an existing journal (NULL path: the default); 0 with *ret NULL when there is none. */
int bridle__journal_open_existing(const char *journal_path, bridle__journal **ret, bridle_error *err);
/* Every agent that talks to the official endpoint has its API key in the
 * environment (checked before a run starts or resumes). */
int bridle__agents_check_keys(const json_t *def, bridle_error *err);
