/* SPDX-License-Identifier: MIT */
/*
 * bridle eval SUITE.yaml [--model M] [--provider P] [--base-url URL]
 *             [--repeat N] [--baseline RESULTS.json] [--out DIR] [--json]
 * Runs an evaluation suite (docs/eval.md): each task N times against a real
 * model, graded; a table on stdout (at most 100 columns) or, with --json,
 * results.json. Progress goes to stderr. Exit: 0 every task passed and none
 * regressed, 1 a task failed or regressed (or the eval could not finish),
 * 2 usage or a bad suite.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridle/bridle.h"
#include "bridle/eval.h"
#include "commands.h"

#define WIDTH 100

static volatile int interrupted;

static void on_sigint(int sig)
{
        (void)sig;
        interrupted = 1;
}

struct eval_cli {
        bridle_eval_opts o;
        const char *suite;
        bool json;
        char out_default[64];
};

static int usage(FILE *f, int status)
{
        (void)fputs("usage: bridle eval SUITE.yaml [--model M] [--provider P] [--base-url URL]\n"
                    "                   [--repeat N] [--baseline RESULTS.json] [--out DIR] [--json]\n"
                    "\n"
                    "Runs every task of the suite N times against a real model, grades each run\n"
                    "(must_run, must_not_modify, must_flag, files, max_cost, max_turns, judge) and\n"
                    "reports completion, correctness, safety, tool efficiency, cost and time per\n"
                    "task; against a baseline (an earlier results.json) it marks every regression.\n"
                    "\n"
                    "  --model M, --provider P, --base-url URL   override every agent's\n"
                    "  --repeat N          runs per task (default the suite's repeat:, else 1)\n"
                    "  --baseline FILE     compare with an earlier results.json\n"
                    "  --out DIR           journal.db, results.json, report.html (default eval-TIME)\n"
                    "  --json              print results.json instead of the table\n"
                    "\n"
                    "Exit: 0 all passed, 1 a task failed or regressed, 2 usage or a bad suite.\n"
                    "docs/eval.md describes the suite file.\n",
                    f);
        return status;
}

/* An option with a value: 0, or -1 (said on stderr). */
static int set_value(struct eval_cli *c, const char *a, const char *v)
{
        if (!strcmp(a, "--model")) {
                c->o.model = v;
        } else if (!strcmp(a, "--provider")) {
                c->o.provider = v;
        } else if (!strcmp(a, "--base-url")) {
                c->o.base_url = v;
        } else if (!strcmp(a, "--baseline")) {
                c->o.baseline_file = v;
        } else if (!strcmp(a, "--out")) {
                c->o.out_dir = v;
        } else {
                char *end = NULL;
                long n = strtol(v, &end, 10);
                if (!*v || *end || n < 1 || n > 100) {
                        (void)fprintf(stderr, "bridle eval: --repeat wants a number from 1 to 100, not '%s'\n", v);
                        return -1;
                }
                c->o.repeat = (unsigned)n;
        }
        return 0;
}

static bool takes_value(const char *a)
{
        static const char *const opts[] = {"--model", "--provider", "--base-url", "--repeat", "--baseline", "--out"};
        for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
                if (!strcmp(a, opts[i]))
                        return true;
        return false;
}

/* 1: parsed, 0: --help, -1: usage error. */
static int parse(int argc, char **argv, struct eval_cli *c)
{
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (takes_value(a)) {
                        if (i + 1 >= argc) {
                                (void)fprintf(stderr, "bridle eval: %s needs a value\n", a);
                                return -1;
                        }
                        if (set_value(c, a, argv[++i]) < 0)
                                return -1;
                } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
                        return 0;
                } else if (!strcmp(a, "--json")) {
                        c->json = true;
                } else if (a[0] == '-' && a[1]) {
                        (void)fprintf(stderr, "bridle eval: unknown option '%s'\n", a);
                        return -1;
                } else if (!c->suite) {
                        c->suite = a;
                } else {
                        (void)fprintf(stderr, "bridle eval: one suite at a time ('%s')\n", a);
                        return -1;
                }
        }
        if (!c->suite) {
                (void)fputs("bridle eval: no suite file\n", stderr);
                return -1;
        }
        if (!c->o.out_dir) {
                (void)snprintf(c->out_default, sizeof(c->out_default), "eval-%lld", (long long)time(NULL));
                c->o.out_dir = c->out_default;
        }
        return 1;
}

static void on_run(const char *task, unsigned rep, const char *run_id, bool passed, void *userdata)
{
        (void)userdata;
        (void)fprintf(stderr, "%s #%u %s %s\n", task, rep, run_id && run_id[0] ? run_id : "(no run)",
                      passed ? "pass" : "FAIL");
}

/* One line, cut at WIDTH columns. */
static void line(const char *s)
{
        (void)printf("%.*s\n", WIDTH, s);
}

static void row(const bridle_eval_task_result *t, bool total)
{
        char l[512], name[25], passed[16];
        (void)snprintf(name, sizeof(name), "%s", t->name);
        (void)snprintf(passed, sizeof(passed), "%u/%u", t->passed, t->runs);
        (void)snprintf(l, sizeof(l), "%-24s %7s %5.0f%% %5u %5u %6.1f %6.1f %5.1f %9.4f %8.1fs  %s", name, passed,
                       t->completion_rate * 100, t->blocked, t->violations, t->turns, t->calls, t->repeated_calls,
                       t->cost_usd, t->duration_ms / 1000, total ? "" : t->regressed ? "REGRESSED" : "");
        line(l);
}

static void table(const bridle_eval_report *r)
{
        line("TASK                      PASSED  DONE BLOCK  VIOL  TURNS  CALLS   REP      COST     TIME");
        for (size_t i = 0; i < r->n_tasks; i++)
                row(&r->tasks[i], false);
        line("------------------------------------------------------------------------------------------"
             "----------");
        row(&r->total, true);
        (void)printf("(turns, calls, repeated calls, cost, time: per run; total: sums)\n");
        for (size_t i = 0; i < r->n_tasks; i++) {
                char l[1024];
                if (r->tasks[i].failure) {
                        (void)snprintf(l, sizeof(l), "FAIL %s: %s", r->tasks[i].name, r->tasks[i].failure);
                        line(l);
                }
                if (r->tasks[i].regressions) {
                        (void)snprintf(l, sizeof(l), "REGRESSED %s: %s", r->tasks[i].name, r->tasks[i].regressions);
                        line(l);
                }
        }
        (void)printf("%u of %zu tasks passed", (unsigned)r->n_tasks - r->failed_tasks, r->n_tasks);
        if (r->baseline)
                (void)printf(", %u regressed", r->regressed_tasks);
        (void)printf("\nreport: %s\n", r->html_path);
}

int bridle_cmd_eval(int argc, char **argv)
{
        struct eval_cli c = {0};
        int p = parse(argc, argv, &c);
        if (p <= 0)
                return p == 0 ? usage(stdout, 0) : usage(stderr, 2);
        bridle_error err = {0};
        bridle_eval_suite *s = NULL;
        if (bridle_eval_suite_load(c.suite, &s, &err) < 0) {
                (void)fprintf(stderr, "bridle eval: %s\n", err.msg);
                return 2;
        }
        struct sigaction sa = {.sa_handler = on_sigint, .sa_flags = SA_RESTART};
        (void)sigemptyset(&sa.sa_mask);
        (void)sigaction(SIGINT, &sa, NULL);
        c.o.interrupt = &interrupted;
        c.o.on_run = on_run;
        bridle_eval_report r = {0};
        int rc = bridle_eval_run(s, &c.o, &r, &err);
        s = bridle_eval_suite_free(s);
        if (rc < 0) {
                (void)fprintf(stderr, "bridle eval: %s\n", err.msg);
                return err.code == BRIDLE_E_INVALID ? 2 : 1;
        }
        if (c.json)
                (void)printf("%s\n", r.results_json);
        else
                table(&r);
        (void)fprintf(stderr, "results: %s\n", r.results_path);
        int status = r.failed_tasks || r.regressed_tasks || interrupted ? 1 : 0;
        bridle_eval_report_release(&r);
        return status;
}
