/* SPDX-License-Identifier: MIT */
/*
 * The public entry points of traces (include/bridle/trace.h): a run's
 * events from the journal, its spans and summary, one renderer; and the
 * price table in use (bridle prices).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "bridle/trace.h"
#include "journal/journal.h"
#include "model/model.h"
#include "runner/runner.h"
#include "trace/trace.h"
#include "util/error.h"

static int render(const json_t *events, const bridle_trace_opts *o, char **ret, bridle_error *err)
{
        json_auto_t *spans = NULL;
        int r = bridle__trace_build(events, o->attr_cap, &spans, err);
        if (r < 0)
                return r;
        if (o->format == BRIDLE_TRACE_JSONL)
                return bridle__trace_jsonl(spans, ret, err);
        json_auto_t *summary = bridle__trace_summary(events, spans);
        if (!summary)
                return bridle__err(err, -ENOMEM, "trace: summary: out of memory");
        if (o->format == BRIDLE_TRACE_HTML)
                return bridle__trace_html(summary, spans, ret, err);
        return bridle__trace_text(summary, spans, o->width, ret, err);
}

int bridle_trace_render(const char *run_ref, const bridle_trace_opts *opts, char **ret_text, bridle_error *err)
{
        bridle_trace_opts o = opts ? *opts : (bridle_trace_opts){0};
        if (!run_ref || !ret_text)
                return bridle__err(err, -EINVAL, "trace: no run given");
        if (o.format != BRIDLE_TRACE_TEXT && o.format != BRIDLE_TRACE_JSONL && o.format != BRIDLE_TRACE_HTML)
                return bridle__err(err, -EINVAL, "trace: unknown format %d", (int)o.format);
        bridle__journal *j = NULL;
        int r = bridle__journal_open_existing(o.journal_path, &j, err);
        if (r < 0)
                return r;
        if (!j)
                return bridle__err(err, -ENOENT, "no run '%s' (there is no journal)", run_ref);
        json_auto_t *events = NULL;
        char id[33];
        r = bridle__journal_events(j, run_ref, id, &events, err);
        bridle__journal_close(j);
        if (r < 0)
                return r;
        char *text = NULL;
        r = render(events, &o, &text, err);
        if (r < 0)
                return r;
        *ret_text = text;
        return 0;
}

int bridle_prices(char **ret_json, bridle_error *err)
{
        if (!ret_json)
                return bridle__err(err, -EINVAL, "prices: no place for the result");
        json_auto_t *t = bridle__model_prices_table();
        char *text = t ? json_dumps(t, JSON_COMPACT) : NULL;
        if (!text)
                return bridle__err(err, -ENOMEM, "prices: out of memory");
        *ret_json = text;
        return 0;
}
