/* SPDX-License-Identifier: MIT */
/* bridle approvals / approve / deny: answer the calls a stopped run waits for. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridle/bridle.h"
#include "commands.h"

static void approvals_usage(FILE *f)
{
        fputs("usage: bridle approvals [RUN] [--json] [--journal PATH]\n"
              "       bridle approve RUN [CALL_ID...|--all] [--journal PATH]\n"
              "       bridle deny RUN CALL_ID [--reason TEXT] [--journal PATH]\n"
              "then 'bridle resume RUN' continues the run with the answers.\n",
              f);
}

int bridle_cmd_approvals(int argc, char **argv)
{
        static const struct option lo[] = {
                { "json", no_argument, NULL, 'j' },
                { "journal", required_argument, NULL, 'J' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        bool json = false;
        const char *journal = NULL;
        optind = 1;
        for (int c; (c = getopt_long(argc, argv, "h", lo, NULL)) != -1;) {
                switch (c) {
                case 'j': json = true; break;
                case 'J': journal = optarg; break;
                case 'h': approvals_usage(stdout); return 0;
                default: approvals_usage(stderr); return 2;
                }
        }
        if (argc - optind > 1) {
                approvals_usage(stderr);
                return 2;
        }
        bridle_pending_approval *v = NULL;
        size_t n = 0;
        bridle_error err = { 0 };
        if (bridle_approvals_list(journal, optind < argc ? argv[optind] : NULL, &v, &n, &err) < 0) {
                fprintf(stderr, "bridle approvals: %s\n", err.msg);
                return 1;
        }
        for (size_t i = 0; i < n; i++) {
                if (json) {
                        fputs("{\"run_id\":", stdout);
                        cli_json_string(stdout, v[i].run_id, strlen(v[i].run_id));
                        fputs(",\"call_id\":", stdout);
                        cli_json_string(stdout, v[i].call_id, strlen(v[i].call_id));
                        fputs(",\"tool\":", stdout);
                        cli_json_string(stdout, v[i].tool, strlen(v[i].tool));
                        fputs(",\"arguments\":", stdout);
                        cli_json_string(stdout, v[i].arguments, strlen(v[i].arguments));
                        fputs(",\"rule\":", stdout);
                        cli_json_string(stdout, v[i].rule, strlen(v[i].rule));
                        fputs(",\"reason\":", stdout);
                        cli_json_string(stdout, v[i].reason, strlen(v[i].reason));
                        printf(",\"asked_at\":%lld}\n", (long long)v[i].asked_at);
                        continue;
                }
                char when[32] = "";
                time_t t = (time_t)v[i].asked_at;
                struct tm tm;
                if (localtime_r(&t, &tm))
                        (void)strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
                /* The end-of-run review carries the workspace's whole diff: show it as is. */
                json_t *a = json_loads(v[i].arguments, 0, NULL);
                const char *diff = json_string_value(json_object_get(a, "diff"));
                if (diff) {
                        printf("run %.12s  call %s  (%s)\n  %s: the workspace's changes, to %s\n  rule: %s%s%s\n%s",
                               v[i].run_id, v[i].call_id, when, v[i].tool,
                               json_string_value(json_object_get(a, "output_dir")) ?: "(no output folder)", v[i].rule,
                               v[i].reason[0] ? " - " : "", v[i].reason, diff);
                } else {
                        printf("run %.12s  call %s  (%s)\n  %s %s\n  rule: %s%s%s\n", v[i].run_id, v[i].call_id,
                               when, v[i].tool, v[i].arguments, v[i].rule, v[i].reason[0] ? " - " : "", v[i].reason);
                }
                json_decref(a);
        }
        if (!json && n == 0)
                fputs("no calls are waiting for an approval\n", stderr);
        bridle_approvals_release(v, n);
        return 0;
}

/* approve RUN [CALL_ID...|--all]; deny RUN CALL_ID [--reason TEXT] */
int bridle_cmd_approve(int argc, char **argv)
{
        bool deny = strcmp(argv[0], "deny") == 0;
        static const struct option lo[] = {
                { "all", no_argument, NULL, 'a' },
                { "reason", required_argument, NULL, 'r' },
                { "journal", required_argument, NULL, 'J' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        bool all = false;
        const char *journal = NULL, *reason = NULL;
        optind = 1;
        for (int c; (c = getopt_long(argc, argv, "h", lo, NULL)) != -1;) {
                switch (c) {
                case 'a': all = true; break;
                case 'r': reason = optarg; break;
                case 'J': journal = optarg; break;
                case 'h': approvals_usage(stdout); return 0;
                default: approvals_usage(stderr); return 2;
                }
        }
        int nids = argc - optind - 1;
        if (nids < 0 || (all && nids > 0) || (!all && nids == 0) || (deny && (all || nids != 1)) ||
            (!deny && reason)) {
                approvals_usage(stderr);
                return 2;
        }
        const char *run = argv[optind];
        bridle_error err = { 0 };
        if (all) {
                if (bridle_approval_answer(journal, run, NULL, true, NULL, &err) < 0) {
                        fprintf(stderr, "bridle approve: %s\n", err.msg);
                        return 1;
                }
                return 0;
        }
        for (int i = 0; i < nids; i++)
                if (bridle_approval_answer(journal, run, argv[optind + 1 + i], !deny, reason, &err) < 0) {
                        fprintf(stderr, "bridle %s: %s\n", deny ? "deny" : "approve", err.msg);
                        return 1;
                }
        return 0;
}
