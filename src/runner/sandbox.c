/* SPDX-License-Identifier: MIT */
/*
 * The run's sandbox (docs/durability.md): made on first use from the run's
 * manifest and policy; checkpoints (snapshots of its workspace) before calls
 * that write; rehydration, a new sandbox from the latest checkpoint (or the
 * manifest) brought up to date by running again the writing calls that
 * finished since, when the old one is lost or a writing call is in doubt.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bridle/manifest.h"
#include "bridle/sandbox.h"
#include "runner/runner.h"
#include "sandbox/living.h"
#include "snapshot/archive_dl.h"
#include "util/error.h"

/* Its processes are there and its init answers (a sandbox whose init died
 * may keep a process around for a moment: the socket says it). */
static bool sandbox_alive(const char *id)
{
        int fd = bridle__sandbox_connect(id, NULL);
        if (fd < 0)
                return false;
        close(fd);
        return true;
}

bool bridle__run_sandbox_lost(bridle__run *R)
{
        if (!R->st.sandbox_id[0] || R->sandbox_checked)
                return false;
        if (sandbox_alive(R->st.sandbox_id)) {
                R->sandbox_checked = true;
                return false;
        }
        return true;
}

static const char *agent_manifest(const bridle__run *R)
{
        json_t *agents = json_object_get(R->def, "agents");
        json_t *m = json_object_get(json_object_get(agents, R->st.agent), "manifest");
        if (!json_is_string(m))
                m = json_object_get(json_object_get(agents, json_string_value(json_object_get(R->def, "entry"))),
                                    "manifest");
        return json_is_string(m) ? json_string_value(m) : NULL;
}

/* What the run's sandboxes are made from: the manifest (the copy stored with
 * the run when there is one), the egress proxy, the policy's path rules. */
static int make_spec(bridle__run *R, const char *mpath, bridle_sandbox_spec **ret, bridle_error *err)
{
        bridle_sandbox_spec *spec = bridle_sandbox_spec_new();
        if (!spec)
                return bridle__err(err, -ENOMEM, "sandbox spec");
        int r = 0;
        if (mpath) {
                bridle_manifest *m = NULL;
                r = bridle__run_manifest_load(R, mpath, &m, err);
                if (r == 0)
                        r = bridle_manifest_apply(m, spec, err);
                bridle_manifest_free(m);
        }
        if (r == 0 && bridle__run_wants_egress(R) && (r = bridle__run_egress_start(R, err)) == 0)
                r = bridle_sandbox_spec_set_egress(spec, R->egress_dir, err);
        /* Path rules, enforced inside the sandbox (docs/sandbox.md, "Path rules"). */
        static const char *const default_deny_write[] = {".git/**", ".agents/**"};
        const bridle__policy_settings *ps = bridle__policy_settings_get(R->policy);
        size_t nw = ps ? ps->n_deny_write : 0;
        for (size_t i = 0; r == 0 && i < (nw ? nw : 2); i++)
                r = bridle_sandbox_spec_protect(spec, nw ? ps->deny_write[i] : default_deny_write[i], false, err);
        for (size_t i = 0; r == 0 && ps && i < ps->n_deny_read; i++)
                r = bridle_sandbox_spec_protect(spec, ps->deny_read[i], true, err);
        if (r < 0) {
                bridle_sandbox_spec_free(spec);
                return r;
        }
        *ret = spec;
        return 0;
}

static void *preload(void *arg)
{
        (void)arg;
        (void)bridle__archive_load(NULL);
        return NULL;
}

/* Checkpoints need libarchive, loaded on first use (a few milliseconds):
 * load it beside the run's first steps rather than in its first checkpoint. */
static void preload_archive(const bridle__run *R)
{
        static int started;
        pthread_t t;
        pthread_attr_t a;
        if (!R->ckpt_every || __atomic_exchange_n(&started, 1, __ATOMIC_SEQ_CST) || pthread_attr_init(&a) != 0)
                return;
        if (pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED) == 0)
                (void)pthread_create(&t, &a, preload, NULL);
        (void)pthread_attr_destroy(&a);
}

/* A new sandbox: restored from the snapshot `from`, or fresh ("" / NULL);
 * sandbox.created is journaled; the one it replaces is destroyed. */
static int new_sandbox(bridle__run *R, const char *from, const char *reason, bridle_error *err)
{
        char old[sizeof(R->st.sandbox_id)];
        (void)snprintf(old, sizeof(old), "%s", R->st.sandbox_id);
        const char *mpath = agent_manifest(R);
        bridle_sandbox_spec *spec = NULL;
        char *id = NULL;
        int r = make_spec(R, mpath, &spec, err);
        if (r == 0)
                r = from && from[0] ? bridle_sandbox_restore_with(from, spec, NULL, &id, err)
                                    : bridle_sandbox_create(spec, NULL, &id, err);
        bridle_sandbox_spec_free(spec);
        if (r < 0) {
                if (err && err->code != BRIDLE_E_SANDBOX && from && from[0])
                        (void)bridle__err_prefix(err, "restoring checkpoint '%s'", from);
                return r;
        }
        json_t *data = json_pack("{s:s}", "sandbox_id", id);
        if (data && old[0])
                (void)json_object_set_new(data, "replaces", json_string(old));
        if (data && from && from[0])
                (void)json_object_set_new(data, "restored_from", json_string(from));
        if (data && reason)
                (void)json_object_set_new(data, "reason", json_string(reason));
        if (data && mpath)
                (void)json_object_set_new(data, "manifest", json_string(mpath));
        r = bridle__run_emit(R, "sandbox.created", data, err);
        if (r < 0) {
                (void)bridle_sandbox_destroy(id, NULL);
                free(id);
                return r;
        }
        free(id);
        R->sandbox_checked = true;
        preload_archive(R);
        if (old[0])
                (void)bridle_sandbox_destroy(old, NULL);
        return 0;
}

#define MAX_REHYDRATIONS 3

const char *bridle__run_sandbox(void *ud, bridle_error *err)
{
        bridle__run *R = ud;
        if (R->in_rehydrate || (R->st.sandbox_id[0] && (R->sandbox_checked || !bridle__run_sandbox_lost(R))))
                return R->st.sandbox_id;
        if (R->st.sandbox_id[0]) {
                /* Lost (its init killed, the machine rebooted): a new one where
                 * the run's recorded writes are done again. Bounded. */
                if (R->rehydrations >= MAX_REHYDRATIONS) {
                        (void)bridle__err(err, BRIDLE_E_SANDBOX,
                                          "the run's sandbox '%s' is gone, and it was remade %u times in this process",
                                          R->st.sandbox_id, R->rehydrations);
                        return NULL;
                }
                while (R->rehydrations < MAX_REHYDRATIONS) {
                        R->rehydrations++;
                        if (bridle__run_rehydrate(R, "lost", err) == 0)
                                return R->st.sandbox_id;
                        if (!bridle__run_sandbox_recheck(R))
                                return NULL; /* it failed for another reason */
                        if (err)
                                bridle_error_clear(err); /* the new one died too: again */
                }
                (void)bridle__err(err, BRIDLE_E_SANDBOX, "the run's sandbox '%s' is gone, and it was remade %u times in this process",
                                  R->st.sandbox_id, R->rehydrations);
                return NULL;
        }
        return new_sandbox(R, NULL, NULL, err) < 0 ? NULL : R->st.sandbox_id;
}

bool bridle__run_sandbox_recheck(bridle__run *R)
{
        R->sandbox_checked = false;
        return bridle__run_sandbox_lost(R);
}

/* ---- checkpoints ------------------------------------------------------------ */

bool bridle__run_checkpoint_due(const bridle__run *R, bool writes)
{
        if (!R->ckpt_every || !R->st.sandbox_id[0] || !R->st.dirty)
                return false;
        return writes || R->st.calls_since >= R->ckpt_every;
}

int bridle__run_checkpoint(bridle__run *R, const char *reason, const char *call_id, bridle_error *err)
{
        char label[64], *sid = NULL;
        (void)snprintf(label, sizeof(label), "bridle-run:%s", R->id);
        int64_t t0 = bridle__now_ms();
        int r = bridle_sandbox_checkpoint(R->st.sandbox_id, label, &sid, err);
        if (r < 0 && bridle__run_sandbox_recheck(R)) {
                /* It died since it was last used: remade, then checkpointed. */
                if (!bridle__run_sandbox(R, err))
                        return err && err->code ? err->code : BRIDLE_E_SANDBOX;
                if (!R->st.dirty)
                        return 0;
                r = bridle_sandbox_checkpoint(R->st.sandbox_id, label, &sid, err);
        }
        if (r < 0)
                return bridle__err_prefix(err, "checkpoint");
        int64_t ms = bridle__now_ms() - t0;
        json_int_t bytes = 0;
        char home[3072], path[3300];
        struct stat sb;
        if (bridle__home(home, sizeof(home), NULL) == 0) {
                (void)snprintf(path, sizeof(path), "%s/snapshots/%s.tar.zst", home, sid);
                if (stat(path, &sb) == 0)
                        bytes = (json_int_t)sb.st_size;
        }
        json_t *d = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I}", "snapshot_id", sid, "sandbox_id", R->st.sandbox_id,
                              "reason", reason, "calls", (json_int_t)R->st.calls_since, "ms", (json_int_t)ms, "bytes",
                              bytes);
        free(sid);
        if (d && call_id)
                (void)json_object_set_new(d, "call_id", json_string(call_id));
        /* Written with the call's tool.started, which follows at once. */
        return bridle__run_emit_sync(R, "checkpoint", d, false, err);
}

/* ---- rehydration -------------------------------------------------------------- */

static const json_t *find_call(const bridle__run *R, const char *call_id)
{
        size_t i;
        json_t *it;
        json_array_foreach(R->st.items, i, it) if (bridle__item_is_call(it) &&
                                                   !strcmp(json_string_value(json_object_get(it, "call_id")) ?: "",
                                                           call_id)) return it;
        return NULL;
}

static json_int_t checkpoint_seq(const bridle__run *R, const char *sid)
{
        size_t i;
        json_t *c;
        json_array_foreach(R->st.checkpoints, i, c) if (!strcmp(json_string_value(json_object_get(c, "snapshot_id")) ?: "",
                                                                sid)) return json_integer_value(json_object_get(c, "seq"));
        return -1;
}

/* Run again, in order, the writing calls that finished after event seq. */
static int replay_after(bridle__run *R, json_int_t seq, bridle_error *err)
{
        json_t *todo = json_array();
        size_t i;
        json_t *w;
        if (!todo)
                return bridle__err(err, -ENOMEM, "rehydrate");
        json_array_foreach(R->st.writes, i, w) if (json_integer_value(json_array_get(w, 0)) > seq)
                (void)json_array_append(todo, json_array_get(w, 1));
        int r = 0;
        R->in_rehydrate = true;
        json_array_foreach(todo, i, w) {
                const char *call_id = json_string_value(w);
                const json_t *call = find_call(R, call_id);
                if (!call) {
                        r = bridle__err(err, BRIDLE_E_INVALID, "rehydrate: the call '%s' is not in the run", call_id);
                        break;
                }
                int64_t t0 = bridle__now_ms();
                json_t *item = NULL;
                bool ok = false;
                r = bridle__run_call_again(R, call, &item, &ok, err);
                json_decref(item);
                /* A new sandbox that died under its replay is not up to date:
                 * it must not be used (nor checkpointed). */
                if ((r < 0 || !ok) && (R->in_rehydrate = false, bridle__run_sandbox_recheck(R))) {
                        r = bridle__err(err, BRIDLE_E_SANDBOX, "the new sandbox '%s' died while it was brought up to date",
                                        R->st.sandbox_id);
                        break;
                }
                R->in_rehydrate = true;
                if (r < 0)
                        break;
                const char *name = json_string_value(json_object_get(call, "name"));
                r = bridle__run_emit(R, "tool.replayed",
                                     json_pack("{s:s,s:s,s:b,s:I}", "call_id", call_id, "name",
                                               name ? name : json_string_value(json_object_get(call, "type")), "ok",
                                               ok, "duration_ms", (json_int_t)(bridle__now_ms() - t0)),
                                     err);
                if (r < 0)
                        break;
        }
        R->in_rehydrate = false;
        json_decref(todo);
        return r;
}

int bridle__run_rehydrate(bridle__run *R, const char *reason, bridle_error *err)
{
        /* Where to start: the checkpoint the sandbox was built on, else an
         * earlier one (an archive lost with the machine, or corrupt), else
         * the manifest; then the writing calls since. */
        char from[sizeof(R->st.base)];
        (void)snprintf(from, sizeof(from), "%s", R->st.base);
        json_int_t seq = from[0] ? checkpoint_seq(R, from) : 0;
        if (seq < 0) {
                from[0] = '\0';
                seq = 0;
        }
        for (size_t tries = 0; tries <= json_array_size(R->st.checkpoints) + 1; tries++) {
                bridle_error e = { 0 };
                int r = new_sandbox(R, from, reason, &e);
                if (r == 0)
                        return replay_after(R, seq, err);
                if (!from[0]) {
                        if (err)
                                *err = e;
                        return r;
                }
                /* The newest checkpoint before this one, or the manifest. */
                json_int_t best = 0;
                const char *next = "";
                size_t i;
                json_t *c;
                json_array_foreach(R->st.checkpoints, i, c) {
                        json_int_t s2 = json_integer_value(json_object_get(c, "seq"));
                        if (s2 < seq && s2 > best) {
                                best = s2;
                                next = json_string_value(json_object_get(c, "snapshot_id")) ?: "";
                        }
                }
                (void)bridle__run_emit_sync(R, "run.warning",
                                            json_pack("{s:s,s:s}", "agent", R->st.agent, "message", e.msg), false,
                                            NULL);
                (void)snprintf(from, sizeof(from), "%s", next);
                seq = best;
        }
        return bridle__err(err, BRIDLE_E_SANDBOX, "rehydrate: no checkpoint could be restored");
}
