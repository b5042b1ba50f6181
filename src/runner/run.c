/* SPDX-License-Identifier: MIT */
/* Starting, resuming and ending runs. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bridle/sandbox.h"
#include "runner/runner.h"
#include "trace/otlp.h"
#include "util/alloc.h"
#include "util/error.h"

/*
 * One journal handle per thread, kept open between runs: opening SQLite,
 * checking the schema and preparing statements costs more than a short run,
 * and the last close of a WAL database checkpoints and deletes the WAL. The
 * handle is reopened when the path or the file (its inode) changes.
 */
static __thread struct {
        bridle__journal *j;
        dev_t dev;
        ino_t ino;
} jcache;

static int journal_get(const char *path, bridle__journal **ret, bridle_error *err)
{
        char want[4096];
        int r = 0;
        if (!path && (r = bridle__journal_default_path(want, sizeof(want), err)) < 0)
                return r;
        const char *p = path ? path : want;
        struct stat st;
        if (jcache.j && strcmp(bridle__journal_path(jcache.j), p) == 0 && stat(p, &st) == 0 &&
            st.st_dev == jcache.dev && st.st_ino == jcache.ino) {
                *ret = jcache.j;
                return 0;
        }
        jcache.j = bridle__journal_close(jcache.j);
        if ((r = bridle__journal_open(path, &jcache.j, err)) < 0) /* NULL: makes $BRIDLE_HOME */
                return r;
        if (stat(bridle__journal_path(jcache.j), &st) == 0) {
                jcache.dev = st.st_dev;
                jcache.ino = st.st_ino;
        }
        *ret = jcache.j;
        return 0;
}

static void run_release(bridle__run *R)
{
        bridle__run_egress_flush(R);
        bridle__run_egress_stop(R);
        pthread_mutex_destroy(&R->egress_mu);
        for (size_t i = 0; i < R->n_rt; i++) {
                bridle__model_free(R->rt[i].model);
                bridle__tools_free(R->rt[i].tools);
                bridle__run_mcp_stop(&R->rt[i]);
                json_decref(R->rt[i].defs);
                free(R->rt[i].instructions);
        }
        (void)bridle__run_sync(R, NULL);
        json_decref(R->buf);
        bridle__run_state_clear(&R->st);
        json_decref(R->def);
        json_decref(R->budget);
        bridle__policy_free(R->policy);
        bridle__secrets_free(R->secrets);
        bridle__guards_free(R->guards);
        /* R->j stays open in jcache for the next run of this thread. */
}

int bridle__run_finish(bridle__run *R, enum bridle_run_status s, const char *where, const char *reason,
                       const char *final_output, bridle_agent_result *res, bridle_error *err)
{
        if (R->broken.code) {
                /* The journal could not be written: the run is as its last
                 * written event says (resumable); say why, nothing else. */
                memcpy(res->run_id, R->id, sizeof(res->run_id));
                if (err)
                        *err = R->broken;
                return R->broken.code;
        }
        /* A sandbox kept for the person (--keep-sandbox) holds the run's
         * workspace: one lost after the last call is remade first. */
        if (s == BRIDLE_RUN_COMPLETED && R->keep_sandbox && R->st.sandbox_id[0] && bridle__run_sandbox_recheck(R))
                (void)bridle__run_sandbox(R, NULL);
        json_t *d = json_pack("{s:s}", "status", bridle_run_status_name(s));
        if (d && where)
                (void)json_object_set_new(d, "where", json_string(where));
        if (d && reason)
                (void)json_object_set_new(d, "reason", json_string(reason));
        if (d && final_output)
                (void)json_object_set_new(d, "final_output", json_string(final_output));
        int r = bridle__run_emit(R, "run.status", d, err);
        bool final = s == BRIDLE_RUN_COMPLETED || s == BRIDLE_RUN_FAILED;
        if (final && R->st.sandbox_id[0] && !R->keep_sandbox &&
            bridle_sandbox_destroy(R->st.sandbox_id, NULL) == 0)
                (void)bridle__run_emit(R, "sandbox.destroyed", json_pack("{s:s}", "sandbox_id", R->st.sandbox_id), NULL);
        memcpy(res->run_id, R->id, sizeof(res->run_id));
        res->status = s;
        (void)snprintf(res->where, sizeof(res->where), "%s", where ? where : "");
        (void)snprintf(res->message, sizeof(res->message), "%s", reason ? reason : "");
        if (final_output && !(res->final_output = bridle__strdup(final_output)))
                return bridle__err(err, -ENOMEM, "final output");
        return r < 0 ? r : 0;
}

static unsigned entry_max_turns(const json_t *def)
{
        json_t *a = json_object_get(json_object_get(def, "agents"), json_string_value(json_object_get(def, "entry")));
        json_int_t n = json_integer_value(json_object_get(a, "max_turns"));
        return n > 0 ? (unsigned)n : BRIDLE__DEFAULT_MAX_TURNS;
}

static json_t *entry_budget(const json_t *def)
{
        json_t *a = json_object_get(json_object_get(def, "agents"), json_string_value(json_object_get(def, "entry")));
        json_t *b = json_object_get(a, "budget");
        return b ? json_deep_copy(b) : json_pack("{s:n,s:n,s:n}", "tokens", "cost_usd", "wall");
}

/* The policy: --policy, else the entry agent's `policy:`, else the built-in
 * default. Rules for tools no agent has are journaled as warnings later. */
static int load_policy(bridle__run *R, bridle_error *err)
{
        json_t *a = json_object_get(json_object_get(R->def, "agents"), json_string_value(json_object_get(R->def, "entry")));
        const char *path = R->opts->policy_file ? R->opts->policy_file : json_string_value(json_object_get(a, "policy"));
        if (path)
                return bridle__policy_load(path, &R->policy, err);
        if (!(R->policy = bridle__policy_default()))
                return bridle__err(err, -ENOMEM, "policy");
        return 0;
}

/* Warnings for policy rules no agent of the run can use, as run.warning events. */
static void policy_warnings(bridle__run *R)
{
        const char *name;
        json_t *a;
        json_object_foreach(json_object_get(R->def, "agents"), name, a) {
                const char *tools[96];
                char mcp[BRIDLE__AGENT_MCP_MAX][48];
                size_t n = 0, i;
                json_t *v;
                json_array_foreach(json_object_get(a, "tools"), i, v) if (n < 60) tools[n++] = json_string_value(v);
                json_array_foreach(json_object_get(a, "native_tools"), i, v) if (n < 62) tools[n++] = json_string_value(v);
                json_array_foreach(json_object_get(a, "mcp_servers"), i, v) if (i < BRIDLE__AGENT_MCP_MAX) {
                        (void)snprintf(mcp[i], sizeof(mcp[i]), "%s__*",
                                       json_string_value(json_object_get(v, "name")) ?: "");
                        tools[n++] = mcp[i];
                }
                char **w = NULL;
                if (bridle__policy_check_tools(R->policy, tools, n, &w, NULL) > 0)
                        for (char **p = w; *p; p++)
                                (void)bridle__run_emit_sync(R, "run.warning",
                                                            json_pack("{s:s,s:s}", "agent", name, "message", *p), false,
                                                            NULL);
                bridle__policy_warnings_free(w);
        }
}

/* trace: {export: otlp} (the entry agent): the trace so far goes to the
 * collector at the end of each part of the run, best effort: a failure is a
 * run.warning, never the run's. */
void bridle__run_trace(bridle__run *R, bool end)
{
        json_t *a = json_object_get(json_object_get(R->def, "agents"), json_string_value(json_object_get(R->def, "entry")));
        json_t *cfg = json_object_get(a, "trace");
        if (!json_is_object(cfg) || !R->id[0] || R->broken.code)
                return;
        int64_t now = bridle__now_ms();
        if (!R->trace_last_ms)
                R->trace_last_ms = R->segment_start_ms; /* the first export: an interval in */
        double every = json_is_number(json_object_get(cfg, "interval")) ? json_number_value(json_object_get(cfg, "interval")) : 10.0;
        if (!end && (double)(now - R->trace_last_ms) < every * 1000.0)
                return;
        R->trace_last_ms = now;
        if (bridle__run_sync(R, NULL) < 0) /* the export reads the journal */
                return;
        enum bridle__live_mode mode = !end ? BRIDLE__LIVE_TICK
                                      : R->st.status == BRIDLE_RUN_COMPLETED || R->st.status == BRIDLE_RUN_FAILED
                                              ? BRIDLE__LIVE_FINAL
                                              : BRIDLE__LIVE_SEGMENT;
        int64_t upto = R->st.trace_upto;
        bridle_error e = { 0 };
        int r = bridle__trace_export_live(cfg, R->j, R->id, R->secrets, mode, &upto, &e);
        if (r == 0 && upto != R->st.trace_upto)
                (void)bridle__run_emit_sync(R, "trace.exported", json_pack("{s:I}", "upto_seq", (json_int_t)upto), end,
                                            NULL);
        else if (r < 0 && (end || !R->trace_warned)) {
                /* During the run one warning; what was not sent goes with the next export. */
                R->trace_warned = true;
                (void)bridle__run_emit_sync(R, "run.warning",
                                            json_pack("{s:s,s:s}", "where", "trace", "message", e.msg), end, NULL);
        }
}

int bridle_agent_run(const bridle_agent_opts *opts, const char *task, bridle_agent_result *res, bridle_error *err)
{
        if (!opts || !task || !res)
                return bridle__err(err, -EINVAL, "no options, task or result");
        memset(res, 0, sizeof(*res));
        if (!task[0])
                return bridle__err(err, BRIDLE_E_INVALID, "the task is empty");
        bridle__run R = { .opts = opts };
        pthread_mutex_init(&R.egress_mu, NULL);
        int r = bridle__agents_load(opts->agent_file, opts, &R.def, err);
        if (r == 0)
                r = bridle__agents_check_keys(R.def, err);
        R.keep_sandbox = opts->keep_sandbox;
        if (r == 0)
                r = load_policy(&R, err);
        if (r == 0)
                r = bridle__run_guard_init(&R, err);
        if (r == 0)
                r = journal_get(opts->journal_path, &R.j, err);
        const char *entry = json_string_value(json_object_get(R.def, "entry"));
        if (r == 0)
                r = bridle__journal_make_id(R.id, err);
        if (r == 0)
                (void)snprintf(R.new_run_agent, sizeof(R.new_run_agent), "%s", entry); /* its row goes with the first batch */
        if (r < 0) {
                run_release(&R);
                return r;
        }
        R.max_turns = entry_max_turns(R.def);
        R.budget = entry_budget(R.def);
        R.segment_start_ms = bridle__now_ms();
        json_t *a = json_object_get(json_object_get(R.def, "agents"), entry);
        const char *outdir = opts->output_dir ? opts->output_dir : json_string_value(json_object_get(a, "outputs"));
        char absout[4096];
        if (outdir && !realpath(outdir, absout))
                (void)snprintf(absout, sizeof(absout), "%s", outdir);
        (void)snprintf(R.output_dir, sizeof(R.output_dir), "%s", outdir ? absout : "");
        json_t *ce = json_object_get(a, "checkpoint_every");
        R.ckpt_every = json_is_integer(ce) ? (unsigned)json_integer_value(ce) : BRIDLE__DEFAULT_CHECKPOINT_EVERY;
        if (opts->checkpoint_every)
                R.ckpt_every = opts->checkpoint_every;
        if (opts->no_checkpoints)
                R.ckpt_every = 0;
        json_t *manifests = NULL;
        if ((r = bridle__run_store_manifests(&R, &manifests, err)) < 0) {
                run_release(&R);
                return r;
        }
        json_t *data = json_pack("{s:s,s:s,s:s*,s:O,s:{s:I,s:O,s:b,s:s*,s:o},s:o,s:o}", "task", task, "agent", entry,
                                 "agent_file", json_string_value(json_object_get(a, "file")), "agents", R.def,
                                 "options", "max_turns", (json_int_t)R.max_turns, "budget", R.budget, "keep_sandbox",
                                 opts->keep_sandbox, "output_dir", outdir ? absout : NULL, "checkpoints",
                                 R.ckpt_every ? json_pack("{s:I}", "every", (json_int_t)R.ckpt_every) : json_false(),
                                 "policy", bridle__policy_to_json(R.policy), "manifests", manifests);
        /* Synced: the run's id is shown from here on, and whatever happens
         * next, `bridle resume` finds the run. */
        r = bridle__run_emit_sync(&R, "run.started", data, true, err);
        if (r == 0)
                policy_warnings(&R);
        char why[700];
        if (r == 0 && bridle__run_guard_trips(&R, BRIDLE__GUARD_INPUT, task, why, sizeof(why))) {
                r = bridle__run_finish(&R, BRIDLE_RUN_FAILED, "guardrail", why, NULL, res, err);
                memcpy(res->run_id, R.id, sizeof(res->run_id));
                run_release(&R);
                return r;
        }
        if (r == 0)
                r = bridle__run_loop(&R, res, err);
        bridle__run_trace(&R, true);
        memcpy(res->run_id, R.id, sizeof(res->run_id));
        run_release(&R);
        return r;
}

/* The wall time of earlier segments: from each run.started / run.resumed to the
 * last event before the next one. Also the last response's output. */
static void scan_events(bridle__run *R, const json_t *events)
{
        int64_t seg = -1, last = 0;
        size_t i;
        json_t *ev;
        json_array_foreach(events, i, ev) {
                const char *type = json_string_value(json_object_get(ev, "type"));
                int64_t ts = json_integer_value(json_object_get(ev, "ts"));
                json_t *d = json_object_get(ev, "data");
                if (!strcmp(type, "run.started") || !strcmp(type, "run.resumed")) {
                        if (seg >= 0)
                                R->active_ms_before += last - seg;
                        seg = ts;
                        json_t *mt = json_object_get(d, "max_turns"), *b = json_object_get(d, "budget");
                        if (json_is_integer(mt))
                                R->max_turns = (unsigned)json_integer_value(mt);
                        if (json_is_object(b))
                                (void)json_object_update(R->budget, b);
                } else if (!strcmp(type, "model.response")) {
                        R->last_output = json_object_get(d, "output");
                        R->last_had_calls = false;
                        size_t k;
                        json_t *it;
                        json_array_foreach(R->last_output, k, it) if (bridle__item_is_call(it)) R->last_had_calls =
                                true;
                }
                last = ts;
        }
        if (seg >= 0)
                R->active_ms_before += last - seg;
}

/* resume --from-checkpoint: run.rewound, the state refolded from the
 * journal (the fold goes back to the checkpoint), then the sandbox restored
 * from it. The call the checkpoint preceded is pending again. */
static int rewind_to(bridle__run *R, const char *sid, bridle_error *err)
{
        json_int_t seq = 0;
        size_t i;
        json_t *ev, *events = NULL;
        int r = bridle__journal_events(R->j, R->id, R->id, &events, err);
        if (r < 0)
                return r;
        json_array_foreach(events, i, ev) if (!strcmp(json_string_value(json_object_get(ev, "type")) ?: "", "checkpoint") &&
                                              !strcmp(json_string_value(json_object_get(json_object_get(ev, "data"),
                                                                                        "snapshot_id")) ?: "",
                                                      sid)) seq = json_integer_value(json_object_get(ev, "seq"));
        json_decref(events);
        events = NULL;
        if (!seq)
                return bridle__err(err, BRIDLE_E_INVALID, "run '%s' has no checkpoint '%s' (bridle runs show %s --checkpoints)",
                                   R->id, sid, R->id);
        r = bridle__run_emit(R, "run.rewound", json_pack("{s:s,s:I}", "checkpoint", sid, "to_seq", seq), err);
        if (r == 0)
                r = bridle__journal_events(R->j, R->id, R->id, &events, err);
        char current[sizeof(R->st.sandbox_id)];
        (void)snprintf(current, sizeof(current), "%s", R->st.sandbox_id);
        if (r == 0) {
                bridle__run_state_clear(&R->st);
                r = bridle__run_state_fold(events, &R->st, err);
        }
        if (r == 0) {
                /* A checkpoint comes before a call of a response that asked for calls. */
                R->last_output = NULL;
                R->last_had_calls = true;
                R->sandbox_checked = false;
                r = bridle__run_rehydrate(R, "from_checkpoint", err);
        }
        /* The sandbox the run had before the rewind (the fold names an older one). */
        if (r == 0 && current[0] && strcmp(current, R->st.sandbox_id) != 0)
                (void)bridle_sandbox_destroy(current, NULL);
        json_decref(events);
        return r;
}

int bridle_agent_resume(const char *run_ref, const bridle_agent_opts *opts, bridle_agent_result *res, bridle_error *err)
{
        if (!run_ref || !opts || !res)
                return bridle__err(err, -EINVAL, "no run, options or result");
        memset(res, 0, sizeof(*res));
        bridle__run R = { .opts = opts };
        pthread_mutex_init(&R.egress_mu, NULL);
        json_t *events = NULL;
        int r = journal_get(opts->journal_path, &R.j, err);
        if (r == 0)
                r = bridle__journal_events(R.j, run_ref, R.id, &events, err);
        if (r == 0)
                r = bridle__run_state_fold(events, &R.st, err);
        if (r == 0 && !opts->from_checkpoint &&
            (R.st.status == BRIDLE_RUN_COMPLETED || R.st.status == BRIDLE_RUN_FAILED))
                r = bridle__err(err, BRIDLE_E_INVALID, "run '%s' has %s: there is nothing to resume", R.id,
                                bridle_run_status_name(R.st.status));
        if (r == 0 && !(R.def = json_deep_copy(json_object_get(R.st.started, "agents"))))
                r = bridle__err(err, BRIDLE_E_INVALID, "run '%s': run.started has no agents", R.id);
        if (r == 0)
                r = bridle__agents_check_keys(R.def, err);
        json_t *pj = json_object_get(R.st.started, "policy");
        if (r == 0 && pj)
                r = bridle__policy_from_json(pj, &R.policy, err);
        else if (r == 0 && !(R.policy = bridle__policy_default()))
                r = bridle__err(err, -ENOMEM, "policy");
        if (r == 0)
                r = bridle__run_guard_init(&R, err);
        /* The sandbox's bridge looks for the proxy in the run's egress directory. */
        if (r == 0 && R.st.sandbox_id[0])
                r = bridle__run_egress_start(&R, err);
        if (r < 0) {
                json_decref(events);
                run_release(&R);
                return r;
        }
        R.max_turns = entry_max_turns(R.def);
        R.budget = entry_budget(R.def);
        json_t *o = json_object_get(R.st.started, "options");
        R.keep_sandbox = opts->keep_sandbox || json_is_true(json_object_get(o, "keep_sandbox"));
        const char *od = opts->output_dir ? opts->output_dir : json_string_value(json_object_get(o, "output_dir"));
        (void)snprintf(R.output_dir, sizeof(R.output_dir), "%s", od ? od : "");
        if (json_is_integer(json_object_get(o, "max_turns")))
                R.max_turns = (unsigned)json_integer_value(json_object_get(o, "max_turns"));
        json_t *cp = json_object_get(o, "checkpoints");
        R.ckpt_every = json_is_integer(json_object_get(cp, "every"))
                               ? (unsigned)json_integer_value(json_object_get(cp, "every"))
                               : json_is_false(cp) ? 0 : BRIDLE__DEFAULT_CHECKPOINT_EVERY;
        scan_events(&R, events);
        json_t *keep_last = R.last_output ? json_deep_copy(R.last_output) : NULL;
        R.last_output = keep_last;
        json_decref(events);
        R.segment_start_ms = bridle__now_ms();
        json_t *data = json_pack("{s:I}", "attempt", (json_int_t)R.st.resumes + 1);
        if (data && opts->max_turns) {
                R.max_turns = opts->max_turns;
                (void)json_object_set_new(data, "max_turns", json_integer(opts->max_turns));
        }
        json_t *raise = json_object();
        if (raise && opts->budget_tokens > 0)
                (void)json_object_set_new(raise, "tokens", json_integer(opts->budget_tokens));
        if (raise && opts->budget_cost_usd > 0)
                (void)json_object_set_new(raise, "cost_usd", json_real(opts->budget_cost_usd));
        if (raise && opts->budget_wall_s > 0)
                (void)json_object_set_new(raise, "wall", json_real(opts->budget_wall_s));
        if (data && raise && json_object_size(raise)) {
                (void)json_object_update(R.budget, raise);
                (void)json_object_set(data, "budget", raise);
        }
        json_decref(raise);
        r = bridle__run_emit(&R, "run.resumed", data, err);
        if (r == 0 && opts->from_checkpoint)
                r = rewind_to(&R, opts->from_checkpoint, err);
        if (r == 0)
                r = bridle__run_loop(&R, res, err);
        bridle__run_trace(&R, true);
        memcpy(res->run_id, R.id, sizeof(res->run_id));
        json_decref(keep_last);
        run_release(&R);
        return r;
}

void bridle_agent_result_release(bridle_agent_result *res)
{
        if (!res)
                return;
        free(res->final_output);
        res->final_output = NULL;
}
