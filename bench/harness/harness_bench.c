/* SPDX-License-Identifier: MIT */
/*
 * bridle's side of the harness benchmark (bench/harness/run puts it beside
 * @openai/agents doing the same work): N runs in sequence through the public
 * API (bridle_agent_run), each 3 model turns (add {a:1,b:2}, add {a:3,b:4}, a
 * final message) with the C function tool `add`, the journal on (a fresh
 * journal.db in a temporary BRIDLE_HOME under $TMPDIR, default /tmp: a disk,
 * so the journal's fsyncs count). Prints one line:
 *   bridle MODE runs=N secs=S runs_per_s=R peak_rss_kib=K
 *
 *   harness-bench inproc AGENT SCRIPT [N]   the scripted provider reads SCRIPT
 *   harness-bench http AGENT PORT [N]       streaming Responses API to
 *                                           tests/server/fake-openai.mjs --loop
 * Every run must complete with the expected answer and two tool calls.
 */
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "bridle/run.h"

#define EXPECTED "1+2 is 3 and 3+4 is 7."
#define MAX_RUNS 1000000

static const char add_schema[] =
        "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},"
        "\"b\":{\"type\":\"integer\"}},\"required\":[\"a\",\"b\"],"
        "\"additionalProperties\":false}";

static int tool_add(void *userdata, const char *args_json, char **ret_output, bridle_error *err)
{
        unsigned long *calls = userdata;
        json_int_t a = 0, b = 0;
        json_t *args = json_loads(args_json, 0, NULL);
        int r = args ? json_unpack(args, "{s:I,s:I}", "a", &a, "b", &b) : -1;
        json_decref(args);
        if (r < 0) {
                err->code = -EINVAL;
                (void)snprintf(err->msg, sizeof(err->msg), "add: want {\"a\": int, \"b\": int}");
                return -EINVAL;
        }
        char *out = malloc(32);
        if (!out)
                return -ENOMEM;
        (void)snprintf(out, 32, "%lld", (long long)(a + b));
        (*calls)++;
        *ret_output = out;
        return 0;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void)st;
        (void)type;
        (void)ftw;
        return remove(path) < 0 ? -1 : 0;
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
        (void)fprintf(stderr, "usage: harness-bench inproc AGENT SCRIPT [N]\n"
                              "       harness-bench http AGENT PORT [N]\n");
        return 2;
}

static long parse_count(const char *s, long min, long max)
{
        char *end = NULL;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < min || v > max)
                return -1;
        return v;
}

/* Runs n times; returns 0 when every run completed as expected. */
static int bench(const bridle_agent_opts *opts, long n, const unsigned long *calls)
{
        for (long i = 0; i < n; i++) {
                bridle_agent_result res = {0};
                bridle_error err = {0};
                if (bridle_agent_run(opts, "Add 1 and 2, then 3 and 4, with the add tool.", &res,
                                     &err) < 0) {
                        (void)fprintf(stderr, "harness-bench: run %ld: %s\n", i, err.msg);
                        return -1;
                }
                bool ok = res.status == BRIDLE_RUN_COMPLETED && res.final_output &&
                          !strcmp(res.final_output, EXPECTED);
                if (!ok)
                        (void)fprintf(stderr, "harness-bench: run %ld: %s (%s%s%s) output '%s'\n",
                                      i, bridle_run_status_name(res.status), res.where,
                                      res.where[0] ? ": " : "", res.message,
                                      res.final_output ? res.final_output : "");
                bridle_agent_result_release(&res);
                if (!ok)
                        return -1;
        }
        if (*calls != 2 * (unsigned long)n) {
                (void)fprintf(stderr, "harness-bench: the tool ran %lu times, not %ld\n", *calls,
                              2 * n);
                return -1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        if (argc < 4 || argc > 5)
                return usage();
        const char *mode = argv[1];
        long n = argc > 4 ? parse_count(argv[4], 1, MAX_RUNS) : 1000;
        if (n < 0)
                return usage();
        unsigned long calls = 0;
        bridle_agent_tool add = {
                .name = "add",
                .description = "Add two integers.",
                .parameters_json = add_schema,
                .read_only = true,
                .fn = tool_add,
                .userdata = &calls,
        };
        const char *tmpdir = getenv("TMPDIR");
        char home[512];
        if ((size_t)snprintf(home, sizeof(home), "%s/bridle-harness-bench-XXXXXX",
                             tmpdir && tmpdir[0] ? tmpdir : "/tmp") >= sizeof(home)) {
                (void)fprintf(stderr, "harness-bench: TMPDIR is too long\n");
                return 1;
        }
        if (!mkdtemp(home) || setenv("BRIDLE_HOME", home, 1) < 0) {
                perror("harness-bench: temporary BRIDLE_HOME");
                return 1;
        }
        char journal[sizeof(home) + 16];
        (void)snprintf(journal, sizeof(journal), "%s/journal.db", home);
        char base_url[64];
        bridle_agent_opts opts = {
                .agent_file = argv[2],
                .max_turns = 10,
                .journal_path = journal,
                .tools = &add,
                .n_tools = 1,
        };
        if (!strcmp(mode, "inproc")) {
                opts.provider = "scripted";
                opts.script_file = argv[3];
        } else if (!strcmp(mode, "http")) {
                long port = parse_count(argv[3], 1, 65535);
                if (port < 0)
                        return usage();
                (void)snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%ld/v1", port);
                opts.provider = "openai-responses";
                opts.base_url = base_url;
        } else {
                return usage();
        }

        double t0 = now_s();
        int r = bench(&opts, n, &calls);
        double secs = now_s() - t0;
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) < 0)
                ru.ru_maxrss = -1;
        if (nftw(home, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
                (void)fprintf(stderr, "harness-bench: could not remove %s\n", home);
        if (r < 0)
                return 1;
        (void)printf("bridle %s runs=%ld secs=%.3f runs_per_s=%.1f peak_rss_kib=%ld\n", mode, n,
                     secs, (double)n / secs, ru.ru_maxrss);
        return 0;
}
