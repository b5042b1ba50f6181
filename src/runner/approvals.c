/* SPDX-License-Identifier: MIT */
/*
 * Approvals from outside a run: list the calls a run waits for, answer them.
 * Both read the run's state from its events only; an answer is an
 * approval.given event appended to a run that is awaiting approval (it is
 * stopped, so nothing else writes to it), and resume acts on it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridle/run.h"
#include "runner/runner.h"
#include "util/alloc.h"
#include "util/error.h"

static int fold_run(bridle__journal *j, const char *ref, char id[33], bridle__run_state *st, bridle_error *err)
{
        json_t *events = NULL;
        int r = bridle__journal_events(j, ref, id, &events, err);
        if (r == 0)
                r = bridle__run_state_fold(events, st, err);
        json_decref(events);
        return r;
}

static int add_pending(const bridle__run_state *st, bridle_pending_approval **v, size_t *n, bridle_error *err)
{
        const char *call_id;
        json_t *d;
        json_object_foreach(st->requested, call_id, d) {
                bridle_pending_approval *nv = bridle__realloc(*v, (*n + 1) * sizeof(**v));
                if (!nv)
                        return bridle__err(err, -ENOMEM, "approvals");
                *v = nv;
                bridle_pending_approval *p = &nv[*n];
                memset(p, 0, sizeof(*p));
                (void)snprintf(p->run_id, sizeof(p->run_id), "%s", st->run_id);
                (void)snprintf(p->call_id, sizeof(p->call_id), "%s", call_id);
                (void)snprintf(p->tool, sizeof(p->tool), "%s", json_string_value(json_object_get(d, "name")) ?: "");
                (void)snprintf(p->rule, sizeof(p->rule), "%s", json_string_value(json_object_get(d, "rule")) ?: "");
                (void)snprintf(p->reason, sizeof(p->reason), "%s",
                               json_string_value(json_object_get(d, "reason")) ?: "");
                p->asked_at = json_integer_value(json_object_get(d, "asked_at"));
                json_t *a = json_object_get(d, "arguments");
                p->arguments = json_is_string(a) ? bridle__strdup(json_string_value(a))
                                                 : json_dumps(a ? a : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
                (*n)++;
                if (!p->arguments)
                        return bridle__err(err, -ENOMEM, "approvals");
        }
        return 0;
}

int bridle_approvals_list(const char *journal_path, const char *run_ref, bridle_pending_approval **ret,
                          size_t *ret_n, bridle_error *err)
{
        if (!ret || !ret_n)
                return bridle__err(err, -EINVAL, "no result");
        *ret = NULL;
        *ret_n = 0;
        bridle__journal *j = NULL;
        int r = bridle__journal_open_existing(journal_path, &j, err);
        if (r < 0 || !j)
                return r < 0 ? r : (run_ref ? bridle__err(err, -ENOENT, "no run '%s'", run_ref) : 0);
        json_t *runs = NULL;
        if (run_ref) {
                runs = json_pack("[{s:s}]", "id", run_ref);
        } else if ((r = bridle__journal_runs(j, 0, &runs, err)) < 0) {
                bridle__journal_close(j);
                return r;
        }
        size_t i;
        json_t *row;
        /* runs are newest first: walk them backwards for oldest first */
        for (i = json_array_size(runs); r == 0 && i-- > 0;) {
                row = json_array_get(runs, i);
                char id[33];
                bridle__run_state st = { 0 };
                r = fold_run(j, json_string_value(json_object_get(row, "id")), id, &st, err);
                if (r == 0 && st.status == BRIDLE_RUN_WAITING)
                        r = add_pending(&st, ret, ret_n, err);
                bridle__run_state_clear(&st);
        }
        json_decref(runs);
        bridle__journal_close(j);
        if (r < 0) {
                bridle_approvals_release(*ret, *ret_n);
                *ret = NULL;
                *ret_n = 0;
        }
        return r < 0 ? r : (int)*ret_n;
}

void bridle_approvals_release(bridle_pending_approval *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i].arguments);
        free(v);
}

int bridle_approval_answer(const char *journal_path, const char *run_ref, const char *call_id, bool approve,
                           const char *reason, bridle_error *err)
{
        if (!run_ref)
                return bridle__err(err, -EINVAL, "no run");
        bridle__journal *j = NULL;
        int r = bridle__journal_open_existing(journal_path, &j, err);
        if (r < 0)
                return r;
        if (!j)
                return bridle__err(err, -ENOENT, "no run '%s'", run_ref);
        char id[33];
        bridle__run_state st = { 0 };
        r = fold_run(j, run_ref, id, &st, err);
        if (r == 0 && st.status != BRIDLE_RUN_WAITING)
                r = bridle__err(err, BRIDLE_E_INVALID, "run '%s' is %s, not awaiting approval", id,
                                bridle_run_status_name(st.status));
        if (r == 0 && call_id && !json_object_get(st.requested, call_id))
                r = bridle__err(err, -ENOENT, "run '%s' has no call '%s' awaiting approval", id, call_id);
        if (r == 0 && json_object_size(st.requested) == 0)
                r = bridle__err(err, -ENOENT, "run '%s' has no call awaiting approval", id);
        if (r == 0)
                r = bridle__journal_begin(j, err);
        const char *cid;
        json_t *d;
        json_object_foreach(st.requested, cid, d) {
                if (r < 0)
                        break;
                if (call_id && strcmp(cid, call_id) != 0)
                        continue;
                json_t *data = json_pack("{s:s,s:s,s:b,s:s,s:s,s:s}", "call_id", cid, "decision",
                                         approve ? "approve" : "deny", "always", 0, "rule",
                                         json_string_value(json_object_get(d, "rule")) ?: "", "reason",
                                         reason ? reason : "", "by", "cli");
                int64_t seq = data ? bridle__journal_append(j, id, "approval.given", data, NULL, err)
                                   : bridle__err(err, -ENOMEM, "approval");
                json_decref(data);
                if (seq < 0)
                        r = (int)seq;
        }
        if (r == 0)
                r = bridle__journal_commit(j, err);
        else
                (void)bridle__journal_rollback(j);
        bridle__run_state_clear(&st);
        bridle__journal_close(j);
        return r;
}
