/* SPDX-License-Identifier: MIT */
/*
 * bridle runs [--json] [--journal PATH]
 * bridle runs show RUN [--json] [--checkpoints | --manifest] [--journal PATH]
 * Runs in the journal, read back from their events (include/bridle/run.h).
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridle/bridle.h"
#include "commands.h"

#define SHORT_MAX 72 /* characters of one value in an event's line */

struct runs_opts {
        bool json;
        const char *journal;
        const char *run; /* show */
        bool checkpoints, manifest;
};

static int usage(FILE *f, int status)
{
        (void)fputs("usage: bridle runs [--json] [--journal PATH]\n"
                    "       bridle runs show RUN [--json] [--checkpoints | --manifest] [--journal PATH]\n"
                    "\n"
                    "Lists the runs in the journal, newest first, or shows one run (RUN: its id\n"
                    "or a unique prefix of at least 4 characters) and its events.\n"
                    "\n"
                    "  --json           runs: one JSON object per run and line;\n"
                    "                   show: the run's events as JSON lines\n"
                    "  --checkpoints    show: the run's checkpoints (snapshots of its workspace)\n"
                    "  --manifest       show: the manifest(s) stored with the run\n"
                    "  --journal PATH   the journal (default $BRIDLE_HOME/journal.db)\n",
                    f);
        return status;
}

/* 1: parsed, 0: --help printed, -2: usage error. */
static int parse(int argc, char **argv, bool show, struct runs_opts *o)
{
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (strcmp(a, "--json") == 0)
                        o->json = true;
                else if (strcmp(a, "--journal") == 0 && i + 1 < argc)
                        o->journal = argv[++i];
                else if (strncmp(a, "--journal=", 10) == 0)
                        o->journal = a + 10;
                else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
                        return 0;
                else if (show && strcmp(a, "--checkpoints") == 0)
                        o->checkpoints = true;
                else if (show && strcmp(a, "--manifest") == 0)
                        o->manifest = true;
                else if (show && !o->run && a[0] != '-')
                        o->run = a;
                else {
                        (void)fprintf(stderr, "bridle runs: unexpected argument '%s'\n", a);
                        return -2;
                }
        }
        if (show && !o->run) {
                (void)fputs("bridle runs show: which run?\n", stderr);
                return -2;
        }
        return 1;
}

/* Local time, "2024-05-01 12:00:00" (or only the time of day). */
static void local_time(int64_t t, char *out, size_t cap, bool time_only)
{
        time_t tt = (time_t)t;
        struct tm tm;
        if (!localtime_r(&tt, &tm) ||
            strftime(out, cap, time_only ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm) == 0)
                (void)snprintf(out, cap, "%lld", (long long)t);
}

static void utc_iso(int64_t t, char *out, size_t cap)
{
        time_t tt = (time_t)t;
        struct tm tm;
        if (!gmtime_r(&tt, &tm) || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                (void)snprintf(out, cap, "%lld", (long long)t);
}

static int print_info_json(const bridle_run_info *r)
{
        char started[32], updated[32];
        utc_iso(r->started_at, started, sizeof(started));
        utc_iso(r->updated_at, updated, sizeof(updated));
        json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:f, s:s, s:s}", "id",
                              r->id, "agent", r->agent, "status", r->status, "turns", (int)r->turns,
                              "input_tokens", (json_int_t)r->input_tokens, "output_tokens",
                              (json_int_t)r->output_tokens, "cached_tokens",
                              (json_int_t)r->cached_tokens, "reasoning_tokens",
                              (json_int_t)r->reasoning_tokens, "cost_usd", r->cost_usd,
                              "started_at", started, "updated_at", updated);
        int rc = o ? json_dumpf(o, stdout, JSON_COMPACT) : -1;
        json_decref(o);
        if (rc < 0)
                return -1;
        (void)putchar('\n');
        return 0;
}

static void print_table(const bridle_run_info *runs, size_t n)
{
        (void)printf("%-12s  %-16s  %-11s  %5s  %10s  %9s  %9s  %s\n", "ID", "AGENT", "STATUS",
                     "TURNS", "IN", "OUT", "COST", "STARTED");
        for (size_t i = 0; i < n; i++) {
                const bridle_run_info *r = &runs[i];
                char when[32];
                local_time(r->started_at, when, sizeof(when), false);
                (void)printf("%-12.12s  %-16.16s  %-11s  %5u  %10lld  %9lld  %9.4f  %s\n", r->id,
                             r->agent, r->status, r->turns, (long long)r->input_tokens,
                             (long long)r->output_tokens, r->cost_usd, when);
        }
}

static int cmd_list(const struct runs_opts *o)
{
        bridle_run_info *runs = NULL;
        size_t n = 0;
        bridle_error err = {0};
        if (bridle_runs_list(o->journal, &runs, &n, &err) < 0) {
                (void)fprintf(stderr, "bridle runs: %s\n", err.msg);
                return 1;
        }
        int rc = 0;
        if (o->json) {
                for (size_t i = 0; i < n && rc == 0; i++)
                        rc = print_info_json(&runs[i]);
        } else
                print_table(runs, n);
        free(runs);
        return rc < 0 || fflush(stdout) != 0 ? 1 : 0;
}

/* ---- one run ---- */

/* s, on one line, cut to SHORT_MAX characters (at a UTF-8 boundary). */
static void put_short(FILE *f, const char *s)
{
        size_t chars = 0;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if ((*p & 0xc0) != 0x80 && ++chars > SHORT_MAX) {
                        (void)fputs("...", f);
                        return;
                }
                (void)fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, f);
        }
}

static void put_json_short(FILE *f, const json_t *v)
{
        if (json_is_string(v)) {
                put_short(f, json_string_value(v));
                return;
        }
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        put_short(f, s ? s : "?");
        free(s);
}

/* An output item in a word or two: the text, the call, the kind. */
static void put_item(FILE *f, const json_t *it)
{
        const char *type = json_string_value(json_object_get(it, "type"));
        type = type ? type : "?";
        if (strcmp(type, "message") == 0) {
                const json_t *c = json_array_get(json_object_get(it, "content"), 0);
                (void)fputs("message \"", f);
                put_short(f, json_string_value(json_object_get(c, "text")) ?: "");
                (void)fputc('"', f);
        } else if (strcmp(type, "function_call") == 0) {
                (void)fprintf(f, "%s(", json_string_value(json_object_get(it, "name")) ?: "?");
                put_short(f, json_string_value(json_object_get(it, "arguments")) ?: "");
                (void)fputc(')', f);
        } else if (strcmp(type, "shell_call") == 0) {
                (void)fputs("shell ", f);
                put_json_short(f, json_object_get(json_object_get(it, "action"), "commands"));
        } else if (strcmp(type, "apply_patch_call") == 0) {
                const json_t *op = json_object_get(it, "operation");
                (void)fprintf(f, "apply_patch %s %s",
                              json_string_value(json_object_get(op, "type")) ?: "?",
                              json_string_value(json_object_get(op, "path")) ?: "?");
        } else
                (void)fputs(type, f);
}

static void put_value(FILE *f, const char *key, const json_t *v)
{
        if (strcmp(key, "output") == 0 && json_is_array(v)) {
                size_t i;
                const json_t *it;
                json_array_foreach(v, i, it)
                {
                        (void)fputs(i ? ", " : "[", f);
                        put_item(f, it);
                }
                (void)fputs(json_array_size(v) ? "]" : "[]", f);
        } else if (strcmp(key, "usage") == 0 && json_is_object(v)) {
                (void)fprintf(f, "%lld/%lld",
                              (long long)json_integer_value(json_object_get(v, "input_tokens")),
                              (long long)json_integer_value(json_object_get(v, "output_tokens")));
        } else if (strcmp(key, "output_item") == 0 && json_is_object(v) &&
                   json_is_string(json_object_get(v, "output"))) {
                put_short(f, json_string_value(json_object_get(v, "output")));
        } else
                put_json_short(f, v);
}

/* The data keys worth a glance, per event type. */
static const struct {
        const char *type;
        const char *keys[5];
} shown[] = {
        {"run.started", {"agent", "task"}},
        {"sandbox.created", {"sandbox_id"}},
        {"model.request", {"turn", "agent", "model", "items"}},
        {"model.response", {"turn", "output", "usage", "cost_usd"}},
        {"model.retry", {"turn", "attempt", "class", "delay_ms", "message"}},
        {"model.error", {"turn", "class", "message"}},
        {"tool.started", {"turn", "name", "arguments"}},
        {"tool.finished", {"name", "ok", "duration_ms", "output_item"}},
        {"handoff", {"from", "to"}},
        {"run.status", {"status", "where", "reason", "final_output"}},
        {"run.resumed", {"attempt"}},
};

static void put_data(FILE *f, const char *type, const json_t *data)
{
        for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
                if (strcmp(shown[i].type, type) != 0)
                        continue;
                for (size_t k = 0; k < 5 && shown[i].keys[k]; k++) {
                        const json_t *v = json_object_get(data, shown[i].keys[k]);
                        if (!v || json_is_null(v))
                                continue;
                        (void)fprintf(f, " %s=", shown[i].keys[k]);
                        put_value(f, shown[i].keys[k], v);
                }
                return;
        }
        (void)fputc(' ', f);
        put_json_short(f, data);
}

static void print_event(const json_t *ev)
{
        json_int_t ts = json_integer_value(json_object_get(ev, "ts"));
        char when[32];
        local_time((int64_t)(ts / 1000), when, sizeof(when), true);
        const char *type = json_string_value(json_object_get(ev, "type"));
        (void)printf("%5lld  %s.%03d  %-16s",
                     (long long)json_integer_value(json_object_get(ev, "seq")), when,
                     (int)(ts % 1000), type ? type : "?");
        put_data(stdout, type ? type : "", json_object_get(ev, "data"));
        (void)putchar('\n');
}

static void print_summary(const bridle_run_info *r)
{
        char started[32], updated[32];
        local_time(r->started_at, started, sizeof(started), false);
        local_time(r->updated_at, updated, sizeof(updated), false);
        (void)printf("run      %s\nagent    %s\nstatus   %s\nturns    %u\n"
                     "tokens   %lld in (%lld cached), %lld out (%lld reasoning)\ncost     $%.4f\n"
                     "started  %s\nupdated  %s\n\n",
                     r->id, r->agent, r->status, r->turns, (long long)r->input_tokens,
                     (long long)r->cached_tokens, (long long)r->output_tokens,
                     (long long)r->reasoning_tokens, r->cost_usd, started, updated);
}

static void print_events(const char *jsonl)
{
        for (const char *line = jsonl; *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                json_t *ev = json_loadb(line, len, 0, NULL);
                if (ev)
                        print_event(ev);
                json_decref(ev);
                line += len + (nl ? 1 : 0);
        }
}

/* One line per checkpoint event (text), or its data with "seq" (--json). */
static void print_checkpoints(const char *jsonl, bool json)
{
        if (!json)
                (void)printf("%-5s %-14s %-12s %-24s %6s %10s  %s\n", "SEQ", "CHECKPOINT", "REASON", "BEFORE CALL",
                             "MS", "BYTES", "TAKEN");
        for (const char *line = jsonl; *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                json_t *ev = json_loadb(line, len, 0, NULL);
                line += len + (nl ? 1 : 0);
                if (!ev || strcmp(json_string_value(json_object_get(ev, "type")) ?: "", "checkpoint") != 0) {
                        json_decref(ev);
                        continue;
                }
                json_t *d = json_object_get(ev, "data");
                json_int_t seq = json_integer_value(json_object_get(ev, "seq"));
                if (json) {
                        json_t *c = json_deep_copy(d);
                        (void)json_object_set_new(c, "seq", json_integer(seq));
                        char *s = c ? json_dumps(c, JSON_COMPACT) : NULL;
                        if (s)
                                (void)printf("%s\n", s);
                        free(s);
                        json_decref(c);
                } else {
                        char when[32];
                        local_time(json_integer_value(json_object_get(ev, "ts")) / 1000, when, sizeof(when), false);
                        (void)printf("%-5lld %-14s %-12s %-24s %6lld %10lld  %s\n", (long long)seq,
                                     json_string_value(json_object_get(d, "snapshot_id")) ?: "?",
                                     json_string_value(json_object_get(d, "reason")) ?: "",
                                     json_string_value(json_object_get(d, "call_id")) ?: "-",
                                     (long long)json_integer_value(json_object_get(d, "ms")),
                                     (long long)json_integer_value(json_object_get(d, "bytes")), when);
                }
                json_decref(ev);
        }
}

static int cmd_manifest(const struct runs_opts *o)
{
        char *text = NULL;
        bridle_error err = {0};
        if (bridle_run_manifest(o->journal, o->run, &text, &err) < 0) {
                (void)fprintf(stderr, "bridle runs show: %s\n", err.msg);
                return 1;
        }
        if (!text[0])
                (void)fprintf(stderr, "bridle runs show: run '%s' stored no manifest (its agents name none)\n", o->run);
        (void)fputs(text, stdout);
        free(text);
        return fflush(stdout) != 0 ? 1 : 0;
}

static int cmd_show(const struct runs_opts *o)
{
        bridle_run_info info;
        char *jsonl = NULL;
        bridle_error err = {0};
        if (o->manifest)
                return cmd_manifest(o);
        if (bridle_runs_show(o->journal, o->run, &info, &jsonl, &err) < 0) {
                (void)fprintf(stderr, "bridle runs show: %s\n", err.msg);
                return 1;
        }
        if (o->checkpoints)
                print_checkpoints(jsonl, o->json);
        else if (o->json)
                (void)fputs(jsonl, stdout);
        else {
                print_summary(&info);
                print_events(jsonl);
        }
        free(jsonl);
        return fflush(stdout) != 0 ? 1 : 0;
}

int bridle_cmd_runs(int argc, char **argv)
{
        bool show = argc > 1 && strcmp(argv[1], "show") == 0;
        struct runs_opts o = {0};
        int r = show ? parse(argc - 1, argv + 1, true, &o) : parse(argc, argv, false, &o);
        if (r <= 0)
                return r == 0 ? usage(stdout, 0) : usage(stderr, 2);
        return show ? cmd_show(&o) : cmd_list(&o);
}
