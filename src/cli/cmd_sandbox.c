/* SPDX-License-Identifier: MIT */
/* bridle sandbox run [OPTIONS] -- COMMAND [ARG...]; dispatch of the sandbox subcommands */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridle/bridle.h"
#include "commands.h"
#include "spec_opts.h"

static const char run_help[] =
        "usage: bridle sandbox run [OPTIONS] -- COMMAND [ARG...]\n"
        "\n"
        "  --manifest FILE       workspace manifest (YAML or JSON)\n"
        "  --workspace DIR       host directory used read-write as /workspace\n"
        "                        (default: a fresh private tmpfs, gone afterwards)\n"
        "  --ro HOST[:PATH]      extra read-only bind (repeatable)\n"
        "  --rw HOST[:PATH]      extra read-write bind (repeatable)\n"
        "  --cwd PATH            working directory inside (default /workspace)\n"
        "  --env NAME=VALUE      add a variable (repeatable); nothing is inherited\n"
        "  --net none|loopback   default none (an empty network namespace)\n"
        "  --timeout SECONDS     wall-clock limit for the whole process tree\n"
        "  --memory SIZE  --pids N  --cpu SECONDS  --disk SIZE\n"
        "  --max-output BYTES    with --json: cap per stream, head and tail kept\n"
        "  --isolation namespaces|landlock\n"
        "                        landlock: no namespaces (for hosts that forbid them); weaker\n"
        "  --json                capture output and print one JSON object\n"
        "\n"
        "exit status: the command's; 128+N if killed by signal N; 124 timeout;\n"
        "125 the sandbox could not be made; 126 not executable; 127 not found\n";

static const struct option run_opts[] = {
        {"manifest", required_argument, NULL, CLI_OPT_MANIFEST},
        {"workspace", required_argument, NULL, CLI_OPT_WORKSPACE},
        {"ro", required_argument, NULL, CLI_OPT_RO},
        {"rw", required_argument, NULL, CLI_OPT_RW},
        {"cwd", required_argument, NULL, CLI_OPT_CWD},
        {"env", required_argument, NULL, CLI_OPT_ENV},
        {"net", required_argument, NULL, CLI_OPT_NET},
        {"timeout", required_argument, NULL, CLI_OPT_TIMEOUT},
        {"memory", required_argument, NULL, CLI_OPT_MEMORY},
        {"pids", required_argument, NULL, CLI_OPT_PIDS},
        {"cpu", required_argument, NULL, CLI_OPT_CPU},
        {"disk", required_argument, NULL, CLI_OPT_DISK},
        {"max-output", required_argument, NULL, CLI_OPT_MAXOUT},
        {"json", no_argument, NULL, CLI_OPT_JSON},
        {"isolation", required_argument, NULL, CLI_OPT_ISO},
        {"help", no_argument, NULL, CLI_OPT_HELP},
        {NULL, 0, NULL, 0},
};

static const char run_prog[] = "bridle sandbox run";

static int run(struct cli_spec_args *a, char **argv)
{
        bridle_sandbox_spec_set_limits(a->spec, &a->limits);
        bridle_run_opts o = {
                .argv = (const char *const *)argv,
                .capture = a->json,
                .max_output = a->max_output,
                .stdin_fd = 0,
                .stdout_fd = 1,
                .stderr_fd = 2,
        };
        bridle_run_result res;
        bridle_error err;
        bridle_error_clear(&err);
        if (bridle_sandbox_run(a->spec, &o, &res, &err) < 0) {
                (void)fprintf(stderr, "bridle: %s\n", err.msg);
                if (a->json)
                        cli_print_error_json(err.msg);
                return 125;
        }
        int status = cli_report_result(&res, a->json, "the sandbox");
        bridle_run_result_release(&res);
        return status;
}

static int cmd_run(int argc, char **argv)
{
        struct cli_spec_args a = {.prog = run_prog, .spec = bridle_sandbox_spec_new()};
        if (!a.spec) {
                (void)fputs("bridle: out of memory\n", stderr);
                return 125;
        }
        /* Manifest first, then flags on top. */
        int c, r = 0;
        optind = 1;
        opterr = 0;
        if ((r = cli_spec_load_manifest(&a, argc, argv)) != 0)
                goto out;
        while ((c = getopt_long(argc, argv, "+", run_opts, NULL)) != -1) {
                if (c == CLI_OPT_HELP) {
                        (void)fputs(run_help, stdout);
                        goto out;
                }
                if (c == '?' || c == ':') {
                        r = cli_usage_error(run_prog, "unknown option or missing value: '%s'",
                                            argv[optind - 1]);
                        goto out;
                }
                if ((r = cli_spec_apply_opt(&a, c, optarg)) != 0)
                        goto out;
        }
        if (optind >= argc) {
                r = cli_usage_error(run_prog, "%s", "no command (put it after --)");
                goto out;
        }
        r = run(&a, argv + optind);
out:
        bridle_sandbox_spec_free(a.spec);
        return r;
}

static const char sandbox_help[] =
        "usage: bridle sandbox SUBCOMMAND [ARGS]\n"
        "\n"
        "  run [OPTIONS] -- COMMAND [ARG...]        a command in a fresh, one-shot sandbox\n"
        "  create [OPTIONS]                         a living sandbox; prints its id\n"
        "  exec ID [OPTIONS] -- COMMAND [ARG...]    a command in a living sandbox\n"
        "  list [ID [PATH]]                         living sandboxes, or a directory inside one\n"
        "  shell ID [-- COMMAND [ARG...]]           an interactive terminal inside, for people\n"
        "  exec-command ID [OPTIONS] -- CMD...      start a session (pty or pipes); prints its output\n"
        "  write-stdin ID SESSION [CHARS]           write to a session; prints its new output\n"
        "  read ID PATH                             a file's bytes to stdout\n"
        "  write ID PATH                            stdin to a file (parents created)\n"
        "  patch ID [PATCH]                         apply_patch inside (argument or stdin)\n"
        "  search ID PATTERN [PATH]                 matching lines inside, like grep -rn\n"
        "  destroy ID                               kill a living sandbox, remove its state\n"
        "  snapshot ID [--label TEXT]               snapshot its workspace; prints the snapshot id\n"
        "  restore SNAPSHOT [--name NAME]           a new living sandbox from a snapshot; prints its id\n"
        "  snapshots [--prune-older-than DAYS]      list snapshots, or delete old unused ones\n"
        "\n"
        "'bridle sandbox SUBCOMMAND --help' lists its options.\n";

int bridle_cmd_sandbox(int argc, char **argv)
{
        if (argc < 2 || strcmp(argv[1], "--help") == 0) {
                (void)fputs(sandbox_help, argc < 2 ? stderr : stdout);
                return argc < 2 ? 2 : 0;
        }
        if (strcmp(argv[1], "run") == 0)
                return cmd_run(argc - 1, argv + 1);
        if (strcmp(argv[1], "create") == 0)
                return bridle_cmd_sandbox_create(argc - 1, argv + 1);
        if (strcmp(argv[1], "exec") == 0)
                return bridle_cmd_sandbox_exec(argc - 1, argv + 1);
        if (strcmp(argv[1], "list") == 0)
                return bridle_cmd_sandbox_list(argc - 1, argv + 1);
        if (strcmp(argv[1], "destroy") == 0)
                return bridle_cmd_sandbox_destroy(argc - 1, argv + 1);
        if (strcmp(argv[1], "read") == 0)
                return bridle_cmd_sandbox_read(argc - 1, argv + 1);
        if (strcmp(argv[1], "write") == 0)
                return bridle_cmd_sandbox_write(argc - 1, argv + 1);
        if (strcmp(argv[1], "patch") == 0)
                return bridle_cmd_sandbox_patch(argc - 1, argv + 1);
        if (strcmp(argv[1], "search") == 0)
                return bridle_cmd_sandbox_search(argc - 1, argv + 1);
        if (strcmp(argv[1], "snapshot") == 0)
                return bridle_cmd_sandbox_snapshot(argc - 1, argv + 1);
        if (strcmp(argv[1], "restore") == 0)
                return bridle_cmd_sandbox_restore(argc - 1, argv + 1);
        if (strcmp(argv[1], "snapshots") == 0)
                return bridle_cmd_sandbox_snapshots(argc - 1, argv + 1);
        if (strcmp(argv[1], "shell") == 0)
                return bridle_cmd_sandbox_shell(argc - 1, argv + 1);
        if (strcmp(argv[1], "exec-command") == 0)
                return bridle_cmd_sandbox_exec_command(argc - 1, argv + 1);
        if (strcmp(argv[1], "write-stdin") == 0)
                return bridle_cmd_sandbox_write_stdin(argc - 1, argv + 1);
        (void)fprintf(stderr, "bridle sandbox: unknown subcommand '%s'\n", argv[1]);
        return 2;
}
