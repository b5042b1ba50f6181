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
        "  --net none|loopback|allowlist\n"
        "                        default none (an empty network namespace); allowlist: lo,\n"
        "                        and an HTTP(S) proxy (run by bridle for the command's\n"
        "                        duration) reached on 127.0.0.1:3128 inside, the proxy\n"
        "                        variables set; refused connections are printed on stderr\n"
        "  --allow-host DOMAIN   with --net allowlist: a host the proxy lets through\n"
        "                        (repeatable; '*.example.org' for its subdomains)\n"
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
        {"allow-host", required_argument, NULL, CLI_OPT_ALLOW_HOST},
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

/* The proxy's report for each connection: refusals always (people need the
 * reason), allowed ones with BRIDLE_DEBUG=1. Called from proxy threads. */
static void egress_report(void *data, const bridle_egress_conn *c)
{
        bool debug = data != NULL;
        if (c->allowed && !debug)
                return;
        if (c->allowed)
                (void)fprintf(stderr, "bridle: egress: %s %s:%u (%s): %llu bytes up, %llu down\n",
                              c->method, c->host, c->port, c->address,
                              (unsigned long long)c->bytes_up, (unsigned long long)c->bytes_down);
        else if (*c->host)
                (void)fprintf(stderr, "bridle: egress: refused %s %s:%u: %d %s\n", c->method,
                              c->host, c->port, c->status, c->reason);
        else
                (void)fprintf(stderr, "bridle: egress: refused a request: %d %s\n", c->status,
                              *c->reason ? c->reason : "no request");
}

/* --net allowlist: the proxy runs in this process for the command's duration.
 * BRIDLE_EGRESS_TEST_MAP (host=IP:PORT,...) is a test hook, read only when
 * BRIDLE_TESTING=1: it sends the named hosts to local servers. */
static int start_egress(struct cli_spec_args *a, bridle_egress **ret)
{
        const char *map = NULL;
        const char *testing = getenv("BRIDLE_TESTING");
        if (testing && strcmp(testing, "1") == 0)
                map = getenv("BRIDLE_EGRESS_TEST_MAP");
        const char *debug = getenv("BRIDLE_DEBUG");
        bridle_egress_opts eo = {
                .allow_hosts = a->allow_hosts,
                .report = egress_report,
                .report_data = debug && *debug && strcmp(debug, "0") != 0 ? (void *)1 : NULL,
                .test_map = map,
        };
        bridle_error err;
        bridle_error_clear(&err);
        bridle_egress *e = NULL;
        if (bridle_egress_start(&eo, &e, &err) < 0 ||
            bridle_sandbox_spec_set_egress(a->spec, bridle_egress_dir(e), &err) < 0) {
                (void)fprintf(stderr, "bridle: %s\n", err.msg);
                if (a->json)
                        cli_print_error_json(err.msg);
                bridle_egress_stop(e);
                return 125;
        }
        *ret = e;
        return 0;
}

static int run(struct cli_spec_args *a, char **argv)
{
        bridle_sandbox_spec_set_limits(a->spec, &a->limits);
        bridle_egress *egress = NULL;
        if (a->n_allow_hosts && !a->net_allowlist)
                return cli_usage_error(run_prog, "%s", "--allow-host needs --net allowlist");
        if (a->net_allowlist) {
                int r = start_egress(a, &egress);
                if (r)
                        return r;
        }
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
        int rr = bridle_sandbox_run(a->spec, &o, &res, &err);
        egress = bridle_egress_stop(egress);
        if (rr < 0) {
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
