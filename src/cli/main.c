/* SPDX-License-Identifier: MIT */
/* bridle: the command line. Uses only the public library API. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridle/bridle.h"
#include "commands.h"

static void usage(FILE *f)
{
        fputs("usage: bridle COMMAND [ARGS]\n"
              "\n"
              "commands:\n"
              "  sandbox run [OPTIONS] -- COMMAND [ARG...]   run a command in a fresh sandbox\n"
              "  sandbox create|exec|list|read|write|patch|destroy ...\n"
              "                                             living sandboxes ('bridle sandbox --help')\n"
              "  patch [--dir DIR] [PATCH]                  apply_patch to a local directory\n"
              "  doctor [--json]                            what this host allows\n"
              "  run [--agent FILE] [--script FILE] [--json] TASK...  run an agent on a task ('bridle run --help')\n"
              "  resume RUN [--max-turns N] [--json]        continue a run that stopped\n"
              "  approvals [RUN] / approve RUN [CALL_ID...|--all] / deny RUN CALL_ID [--reason T]\n"
              "                                             calls a stopped run waits for, and the answers\n"
              "  runs [show RUN] [--json] [--journal PATH]  runs in the journal, or one run's events\n"
              "  test FILE|DIR... [--junit FILE] [--record]  run agent scenarios with scripted models\n"
              "  trace RUN [--format text|jsonl|html] [--out FILE] / --export otlp  a run's trace\n"
              "  prices [--json]                            the model price table in use\n"
              "  eval SUITE.yaml [--baseline RESULTS.json]  grade real runs of an evaluation suite\n"
              "  gc [--dry-run] [--older-than DAYS] ...     remove old runs' checkpoints and sandboxes\n"
              "  patch [--dir DIR] [PATCH]                  apply an apply_patch text (argument or stdin)\n"
              "  mcp serve [--manifest FILE] [--policy FILE]  a sandbox as an MCP server on stdio\n"
              "  demo                                       run a few commands in a sandbox and show what is blocked\n"
              "  version                                    print the version\n"
              "\n"
              "'bridle sandbox run --help' lists the sandbox options.\n",
              f);
}

int main(int argc, char **argv)
{
        signal(SIGPIPE, SIG_IGN);
        if (getenv("BRIDLE_DEBUG"))
                bridle_log_set(cli_log_to_stderr, (void *)1);
        if (argc < 2) {
                usage(stderr);
                return 2;
        }
        const char *cmd = argv[1];
        if (strcmp(cmd, "sandbox") == 0)
                return bridle_cmd_sandbox(argc - 1, argv + 1);
        if (strcmp(cmd, "doctor") == 0)
                return bridle_cmd_doctor(argc - 1, argv + 1);
        if (strcmp(cmd, "run") == 0)
                return bridle_cmd_run(argc - 1, argv + 1);
        if (strcmp(cmd, "resume") == 0)
                return bridle_cmd_resume(argc - 1, argv + 1);
        if (strcmp(cmd, "approvals") == 0)
                return bridle_cmd_approvals(argc - 1, argv + 1);
        if (strcmp(cmd, "approve") == 0 || strcmp(cmd, "deny") == 0)
                return bridle_cmd_approve(argc - 1, argv + 1);
        if (strcmp(cmd, "runs") == 0)
                return bridle_cmd_runs(argc - 1, argv + 1);
        if (strcmp(cmd, "eval") == 0)
                return bridle_cmd_eval(argc - 1, argv + 1);
        if (strcmp(cmd, "gc") == 0)
                return bridle_cmd_gc(argc - 1, argv + 1);
        if (strcmp(cmd, "trace") == 0)
                return bridle_cmd_trace(argc - 1, argv + 1);
        if (strcmp(cmd, "prices") == 0)
                return bridle_cmd_prices(argc - 1, argv + 1);
        if (strcmp(cmd, "test") == 0)
                return bridle_cmd_test(argc - 1, argv + 1);
        if (strcmp(cmd, "patch") == 0)
                return bridle_cmd_patch(argc - 1, argv + 1);
        if (strcmp(cmd, "mcp") == 0)
                return bridle_cmd_mcp(argc - 1, argv + 1);
        if (strcmp(cmd, "demo") == 0)
                return bridle_cmd_demo(argc - 1, argv + 1);
        if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
                printf("bridle %s\n", bridle_version());
                return 0;
        }
        if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
                usage(stdout);
                return 0;
        }
        fprintf(stderr, "bridle: unknown command '%s'\n", cmd);
        usage(stderr);
        return 2;
}
