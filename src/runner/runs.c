/* SPDX-License-Identifier: MIT */
/*
 * Runs in the journal, read back only through their events: `bridle runs`
 * and `bridle runs show` (include/bridle/run.h). Reading never creates a
 * journal: a missing file has no runs.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bridle/run.h"
#include "journal/journal.h"
#include "runner/runner.h"
#include "runner/state.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

#define JSONL_MAX ((size_t)512 * 1024 * 1024)

const char *bridle_run_status_name(enum bridle_run_status s)
{
        switch (s) {
        case BRIDLE_RUN_RUNNING:
                return "running";
        case BRIDLE_RUN_COMPLETED:
                return "completed";
        case BRIDLE_RUN_FAILED:
                return "failed";
        case BRIDLE_RUN_STOPPED:
                return "stopped";
        case BRIDLE_RUN_WAITING:
                return "awaiting_approval";
        case BRIDLE_RUN_INTERRUPTED:
                return "interrupted";
        }
        return "unknown";
}

/* Open an existing journal; 0 with *ret NULL when there is none. */
int bridle__journal_open_existing(const char *journal_path, bridle__journal **ret, bridle_error *err)
{
        char path[4096];
        if (journal_path) {
                if (strlen(journal_path) >= sizeof(path))
                        return bridle__err(err, -ENAMETOOLONG, "journal path is too long");
                memcpy(path, journal_path, strlen(journal_path) + 1);
        } else {
                int r = bridle__journal_default_path(path, sizeof(path), err);
                if (r < 0)
                        return r;
        }
        struct stat s;
        if (stat(path, &s) < 0) {
                if (errno != ENOENT)
                        return bridle__err(err, -errno, "journal '%s'", path);
                *ret = NULL;
                return 0;
        }
        return bridle__journal_open(path, ret, err);
}

/* A run's summary from its events; a malformed event ends the fold there
 * (logged) and the summary is of what came before it. agent and created_ms
 * (the runs row) fill in for a run with no events yet. */
static int summarize(const char *id, const json_t *events, const char *agent, int64_t created_ms,
                     bridle_run_info *info, bridle_error *err)
{
        bridle__run_state st;
        bridle_error ferr = {0};
        if (bridle__run_state_fold(events, &st, &ferr) < 0) {
                if (ferr.code == -ENOMEM) {
                        bridle__run_state_clear(&st);
                        return bridle__err(err, -ENOMEM, "out of memory");
                }
                bridle__log(4, "run '%s': %s", id, ferr.msg);
        }
        bridle__run_state_info(&st, info);
        bridle__run_state_clear(&st);
        (void)snprintf(info->id, sizeof(info->id), "%s", id);
        if (!info->agent[0])
                (void)snprintf(info->agent, sizeof(info->agent), "%s", agent ? agent : "");
        if (!info->started_at)
                info->started_at = created_ms / 1000;
        if (!info->updated_at)
                info->updated_at = info->started_at;
        return 0;
}

static int run_info(bridle__journal *j, const json_t *row, bridle_run_info *info, bridle_error *err)
{
        const char *id = json_string_value(json_object_get(row, "id"));
        json_auto_t *events = NULL;
        int r = bridle__journal_events(j, id, NULL, &events, err);
        if (r < 0)
                return r;
        return summarize(id, events, json_string_value(json_object_get(row, "agent")),
                         json_integer_value(json_object_get(row, "created_at")), info, err);
}

static int list_runs(bridle__journal *j, bridle_run_info **ret, size_t *ret_n, bridle_error *err)
{
        json_auto_t *rows = NULL;
        int r = bridle__journal_runs(j, 0, &rows, err);
        if (r < 0)
                return r;
        size_t n = json_array_size(rows);
        _cleanup_free_ bridle_run_info *infos = bridle__calloc(n ? n : 1, sizeof(*infos));
        if (!infos)
                return bridle__err(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                r = run_info(j, json_array_get(rows, i), &infos[i], err);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(infos);
        *ret_n = n;
        return 0;
}

int bridle_runs_list(const char *journal_path, bridle_run_info **ret, size_t *ret_n,
                     bridle_error *err)
{
        if (!ret || !ret_n)
                return bridle__err(err, -EINVAL, "runs list: no place for the result");
        bridle__journal *j = NULL;
        int r = bridle__journal_open_existing(journal_path, &j, err);
        if (r < 0)
                return r;
        if (!j) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        r = list_runs(j, ret, ret_n, err);
        bridle__journal_close(j);
        return r;
}

/* The events as JSON lines, each "\n"-terminated. */
static char *events_jsonl(const json_t *events)
{
        size_t len = 0, cap = 0, i;
        _cleanup_free_ char *buf = NULL;
        const json_t *ev;
        json_array_foreach(events, i, ev)
        {
                for (;;) {
                        size_t room = cap - len;
                        size_t n = json_dumpb(ev, buf ? buf + len : NULL, room ? room - 1 : 0,
                                              JSON_COMPACT);
                        if (n == 0 || n > JSONL_MAX || len + n + 2 > JSONL_MAX)
                                return NULL;
                        if (len + n + 2 <= cap) {
                                len += n;
                                buf[len++] = '\n';
                                break;
                        }
                        size_t ncap = (len + n + 2) * 2;
                        char *b = bridle__realloc(buf, ncap);
                        if (!b)
                                return NULL;
                        buf = b;
                        cap = ncap;
                }
        }
        if (!buf && !(buf = bridle__malloc(1)))
                return NULL;
        buf[len] = '\0';
        return TAKE_PTR(buf);
}

static int show(bridle__journal *j, const char *run_ref, bridle_run_info *info,
                char **ret_events_jsonl, bridle_error *err)
{
        json_auto_t *events = NULL;
        char id[33];
        int r = bridle__journal_events(j, run_ref, id, &events, err);
        if (r < 0)
                return r;
        bridle_run_info tmp;
        r = summarize(id, events, NULL, 0, &tmp, err);
        if (r < 0)
                return r;
        char *jsonl = NULL;
        if (ret_events_jsonl && !(jsonl = events_jsonl(events)))
                return bridle__err(err, -ENOMEM, "run '%s': cannot write its events as JSON lines",
                                   id);
        if (info)
                *info = tmp;
        if (ret_events_jsonl)
                *ret_events_jsonl = jsonl;
        return 0;
}

int bridle_runs_show(const char *journal_path, const char *run_ref, bridle_run_info *info,
                     char **ret_events_jsonl, bridle_error *err)
{
        if (!run_ref)
                return bridle__err(err, -EINVAL, "runs show: no run given");
        bridle__journal *j = NULL;
        int r = bridle__journal_open_existing(journal_path, &j, err);
        if (r < 0)
                return r;
        if (!j)
                return bridle__err(err, -ENOENT, "no run '%s'", run_ref);
        r = show(j, run_ref, info, ret_events_jsonl, err);
        bridle__journal_close(j);
        return r;
}

int bridle_run_manifest(const char *journal_path, const char *run_ref, char **ret_text, bridle_error *err)
{
        if (!run_ref || !ret_text)
                return bridle__err(err, -EINVAL, "run manifest: no run given");
        bridle__journal *j = NULL;
        int r = bridle__journal_open_existing(journal_path, &j, err);
        if (r < 0)
                return r;
        if (!j)
                return bridle__err(err, -ENOENT, "no run '%s'", run_ref);
        json_t *events = NULL;
        char id[33];
        r = bridle__journal_events(j, run_ref, id, &events, err);
        const json_t *started = NULL;
        size_t i;
        json_t *ev;
        json_array_foreach(events, i, ev) if (!started && !strcmp(json_string_value(json_object_get(ev, "type")) ?: "",
                                                                  "run.started")) started = json_object_get(ev, "data");
        if (r == 0)
                r = bridle__run_manifests_text(j, started, ret_text, err);
        json_decref(events);
        bridle__journal_close(j);
        return r;
}
