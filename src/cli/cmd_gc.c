/* SPDX-License-Identifier: MIT */
/*
 * bridle gc [--dry-run] [--older-than DAYS] [--keep-last N] [--max-size SIZE]
 *           [--json] [--journal PATH]
 * Retention (docs/durability.md, "Retention"): removes what runs no longer
 * need and says what, one line per item, then the total. $BRIDLE_GC_NOW
 * (unix seconds) stands in for the clock in tests.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridle/bridle.h"
#include "commands.h"

struct gc_cli {
        bridle_gc_opts o;
        bool json;
};

static int usage(FILE *f, int status)
{
        (void)fputs("usage: bridle gc [--dry-run] [--older-than DAYS] [--keep-last N] [--max-size "
                    "SIZE]\n"
                    "                 [--json] [--journal PATH]\n"
                    "\n"
                    "Removes what runs no longer need: checkpoints of old runs (a resumable run\n"
                    "keeps its latest one and those its pending calls need), checkpoint snapshots\n"
                    "no event names (older than an hour), sandboxes and egress directories of old\n"
                    "completed and failed runs. A snapshot something builds on is kept.\n"
                    "\n"
                    "  --dry-run          say what would go, remove nothing\n"
                    "  --older-than DAYS  keep what is younger (default 7)\n"
                    "  --keep-last N      the newest N runs keep everything (default 20)\n"
                    "  --max-size SIZE    then remove the oldest checkpoints until the snapshots\n"
                    "                     total at most SIZE (like 500M, 10G; 'none': no cap)\n"
                    "  --json             one JSON object\n"
                    "  --journal PATH     the journal (default $BRIDLE_HOME/journal.db)\n"
                    "\n"
                    "Defaults may be set in $BRIDLE_HOME/retention.yaml (older_than_days,\n"
                    "keep_last, max_size).\n",
                    f);
        return status;
}

static int parse_count(const char *opt, const char *s, long max, int *ret)
{
        char *end = NULL;
        errno = 0;
        long v = s ? strtol(s, &end, 10) : -1;
        if (!s || !*s || errno || *end || v < 0 || v > max) {
                (void)fprintf(stderr, "bridle gc: %s wants a number from 0 to %ld, not '%s'\n", opt,
                              max, s ? s : "");
                return -1;
        }
        *ret = (int)v;
        return 0;
}

static int parse_max_size(const char *s, uint64_t *ret)
{
        bridle_error err = {0};
        if (s && strcmp(s, "none") == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        if (!s || bridle_parse_size(s, ret, &err) < 0 || *ret == 0) {
                (void)fprintf(stderr,
                              "bridle gc: --max-size wants a size like 500M or 10G, not '%s'%s%s\n",
                              s ? s : "", err.msg[0] ? ": " : "", err.msg);
                return -1;
        }
        return 0;
}

/* 1: parsed, 0: --help, -1: usage error. */
static int parse(int argc, char **argv, struct gc_cli *c)
{
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                int r = 0;
                if (strcmp(a, "--dry-run") == 0 || strcmp(a, "-n") == 0)
                        c->o.dry_run = true;
                else if (strcmp(a, "--json") == 0)
                        c->json = true;
                else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
                        return 0;
                else if (strcmp(a, "--older-than") == 0 && ++i)
                        r = parse_count(a, v, 36500, &c->o.older_than_days);
                else if (strcmp(a, "--keep-last") == 0 && ++i)
                        r = parse_count(a, v, 1000000, &c->o.keep_last);
                else if (strcmp(a, "--max-size") == 0 && ++i)
                        r = parse_max_size(v, &c->o.max_size);
                else if (strcmp(a, "--journal") == 0 && v && ++i)
                        c->o.journal_path = v;
                else {
                        (void)fprintf(stderr, "bridle gc: unexpected argument '%s'\n", a);
                        return -1;
                }
                if (r < 0)
                        return -1;
        }
        const char *now = getenv("BRIDLE_GC_NOW");
        if (now && *now)
                c->o.now = strtoll(now, NULL, 10);
        return 1;
}

static void human(uint64_t b, char *out, size_t cap)
{
        if (b >= (uint64_t)1 << 30)
                (void)snprintf(out, cap, "%.1f GiB", (double)b / (double)(1u << 30));
        else if (b >= (uint64_t)1 << 20)
                (void)snprintf(out, cap, "%.1f MiB", (double)b / (double)(1u << 20));
        else if (b >= 1024)
                (void)snprintf(out, cap, "%.1f KiB", (double)b / 1024.0);
        else
                (void)snprintf(out, cap, "%llu B", (unsigned long long)b);
}

static void age_text(int64_t s, char *out, size_t cap)
{
        long long n = s >= 86400 ? s / 86400 : s >= 3600 ? s / 3600 : s / 60;
        const char *unit = s >= 86400 ? "day" : s >= 3600 ? "hour" : "minute";
        (void)snprintf(out, cap, "%lld %s%s", n, unit, n == 1 ? "" : "s");
}

static const char *kind_text(const char *kind)
{
        if (strcmp(kind, "orphan_snapshot") == 0)
                return "orphan snapshot";
        if (strcmp(kind, "egress_dir") == 0)
                return "egress directory";
        if (strcmp(kind, "partial") == 0)
                return "half-written snapshot";
        return kind;
}

static void print_item(const bridle_gc_item *it, bool dry_run)
{
        char size[32], age[32], what[160];
        human(it->bytes, size, sizeof(size));
        age_text(it->age_s, age, sizeof(age));
        if (!it->run_id[0]) /* no run's: a half-written archive */
                (void)snprintf(what, sizeof(what), "%s %s", kind_text(it->kind), it->id);
        else if (strcmp(it->kind, "egress_dir") == 0)
                (void)snprintf(what, sizeof(what), "%s of run %.12s", kind_text(it->kind),
                               it->run_id);
        else
                (void)snprintf(what, sizeof(what), "%s %s of run %.12s", kind_text(it->kind),
                               it->id, it->run_id);
        if (it->error)
                (void)fprintf(stderr, "bridle gc: could not remove %s: %s\n", what, it->why);
        else if (it->kept)
                (void)printf("kept %s (%s, %s): %s\n", what, it->run_status, age, it->why);
        else if (!it->run_id[0])
                (void)printf("%s %s (%s) %s\n", dry_run ? "would free" : "freed", what, age, size);
        else
                (void)printf("%s %s (%s, %s) %s\n", dry_run ? "would free" : "freed", what,
                             it->run_status, age, size);
}

static int print_json(const bridle_gc_report *rep, bool dry_run)
{
        json_t *items = json_array();
        for (size_t i = 0; items && i < rep->n_items; i++) {
                const bridle_gc_item *it = &rep->items[i];
                const char *action = it->error  ? "failed"
                                     : it->kept ? "kept"
                                     : dry_run  ? "would_free"
                                                : "freed";
                json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "kind", it->kind,
                                      "id", it->id, "run_id", it->run_id, "run_status",
                                      it->run_status, "bytes", (json_int_t)it->bytes, "age_s",
                                      (json_int_t)it->age_s, "action", action, "why", it->why);
                if (!o || json_array_append_new(items, o) < 0) {
                        json_decref(items);
                        items = NULL;
                }
        }
        json_t *top =
                items ? json_pack("{s:b, s:i, s:i, s:I, s:o, s:I, s:I, s:I, s:I}", "dry_run",
                                  dry_run, "older_than_days", rep->older_than_days, "keep_last",
                                  rep->keep_last, "max_size", (json_int_t)rep->max_size, "items",
                                  items, "count", (json_int_t)rep->count, "bytes",
                                  (json_int_t)rep->bytes, "failed", (json_int_t)rep->failed,
                                  "snapshots_bytes", (json_int_t)rep->snapshots_bytes)
                      : NULL;
        int rc = top ? json_dumpf(top, stdout, JSON_COMPACT) : -1;
        json_decref(top);
        if (rc < 0) {
                (void)fputs("bridle gc: out of memory\n", stderr);
                return -1;
        }
        (void)putchar('\n');
        return 0;
}

int bridle_cmd_gc(int argc, char **argv)
{
        struct gc_cli c = {.o = {.older_than_days = -1, .keep_last = -1}};
        int p = parse(argc, argv, &c);
        if (p <= 0)
                return p == 0 ? usage(stdout, 0) : usage(stderr, 2);
        bridle_gc_report rep;
        bridle_error err = {0};
        if (bridle_gc(&c.o, &rep, &err) < 0) {
                (void)fprintf(stderr, "bridle gc: %s\n", err.msg);
                return 1;
        }
        int rc = 0;
        if (c.json)
                rc = print_json(&rep, c.o.dry_run);
        else {
                char size[32];
                for (size_t i = 0; i < rep.n_items; i++)
                        print_item(&rep.items[i], c.o.dry_run);
                human(rep.bytes, size, sizeof(size));
                (void)printf("%s %zu item%s, %s\n", c.o.dry_run ? "would free" : "freed", rep.count,
                             rep.count == 1 ? "" : "s", size);
        }
        if (rep.failed)
                (void)fprintf(stderr, "bridle gc: %zu item%s could not be removed\n", rep.failed,
                              rep.failed == 1 ? "" : "s");
        size_t failed = rep.failed;
        bridle_gc_report_release(&rep);
        return rc < 0 || failed || fflush(stdout) != 0 ? 1 : 0;
}
