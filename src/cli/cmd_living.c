/* SPDX-License-Identifier: MIT */
/*
 * Living sandboxes from the command line:
 *   bridle sandbox create [OPTIONS]                      prints the id
 *   bridle sandbox exec ID [OPTIONS] -- COMMAND [ARG...]
 *   bridle sandbox list
 *   bridle sandbox destroy ID
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridle/bridle.h"
#include "commands.h"
#include "spec_opts.h"

static const char create_prog[] = "bridle sandbox create";
static const char exec_prog[] = "bridle sandbox exec";
static const char destroy_prog[] = "bridle sandbox destroy";

static const char create_help[] =
        "usage: bridle sandbox create [OPTIONS]\n"
        "\n"
        "Makes a sandbox that stays up until 'bridle sandbox destroy'; prints its id.\n"
        "\n"
        "  --manifest FILE       workspace manifest (YAML or JSON)\n"
        "  --workspace DIR       host directory used read-write as /workspace\n"
        "                        (default: a private tmpfs, gone with the sandbox)\n"
        "  --ro HOST[:PATH]      extra read-only bind (repeatable)\n"
        "  --rw HOST[:PATH]      extra read-write bind (repeatable)\n"
        "  --env NAME=VALUE      a variable for every command (repeatable)\n"
        "  --net none|loopback   default none (an empty network namespace)\n"
        "  --memory SIZE  --pids N  --cpu SECONDS  --disk SIZE\n"
        "  --name NAME           a name usable wherever the id is\n"
        "\n"
        "exit status: 0 made; 125 the sandbox could not be made; 2 usage\n";

static const char exec_help[] =
        "usage: bridle sandbox exec ID [OPTIONS] -- COMMAND [ARG...]\n"
        "\n"
        "Runs a command in a living sandbox (by id or name) and waits for it.\n"
        "\n"
        "  --timeout SECONDS     wall-clock limit; the command's whole process tree is killed\n"
        "  --cwd PATH            working directory (default /workspace; relative: under it)\n"
        "  --env NAME=VALUE      add a variable for this command (repeatable)\n"
        "  --json                capture output and print one JSON object\n"
        "  --max-output BYTES    with --json: cap per stream, head and tail kept\n"
        "\n"
        "exit status: the command's; 128+N if killed by signal N; 124 timeout;\n"
        "125 the sandbox could not be used (unknown or dead); 126 not executable;\n"
        "127 not found; 2 usage\n";

static const char list_help[] =
        "usage: bridle sandbox list\n"
        "\n"
        "One line per living sandbox, tab-separated: id, name ('-' if none),\n"
        "created (ISO 8601, UTC), alive|dead.\n";

static const char destroy_help[] =
        "usage: bridle sandbox destroy ID\n"
        "\n"
        "Kills the sandbox (by id or name) and removes its processes, mounts, cgroups\n"
        "and state. exit status: 0 gone; 1 it could not be destroyed; 2 usage\n";

/* "bridle: sandbox 'ID' ...", whatever the library's wording. */
static void print_sandbox_error(const char *id, const bridle_error *err)
{
        const char *msg = err->msg[0] ? err->msg : bridle_strerror(err->code);
        char quoted[128];
        (void)snprintf(quoted, sizeof(quoted), "sandbox '%s'", id);
        if (err->code == -ENOENT && strstr(msg, quoted))
                (void)fprintf(stderr, "bridle: %s does not exist\n", quoted);
        else if (strncmp(msg, quoted, strlen(quoted)) == 0)
                (void)fprintf(stderr, "bridle: %s\n", msg);
        else
                (void)fprintf(stderr, "bridle: %s: %s\n", quoted, msg);
}

/* --help anywhere before "--": print help and stop. */
static bool wants_help(int argc, char **argv)
{
        for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
                if (strcmp(argv[i], "--help") == 0)
                        return true;
        return false;
}

/* ---- create ------------------------------------------------------------- */

static const struct option create_opts[] = {
        {"manifest", required_argument, NULL, CLI_OPT_MANIFEST},
        {"workspace", required_argument, NULL, CLI_OPT_WORKSPACE},
        {"ro", required_argument, NULL, CLI_OPT_RO},
        {"rw", required_argument, NULL, CLI_OPT_RW},
        {"env", required_argument, NULL, CLI_OPT_ENV},
        {"net", required_argument, NULL, CLI_OPT_NET},
        {"memory", required_argument, NULL, CLI_OPT_MEMORY},
        {"pids", required_argument, NULL, CLI_OPT_PIDS},
        {"cpu", required_argument, NULL, CLI_OPT_CPU},
        {"disk", required_argument, NULL, CLI_OPT_DISK},
        {"name", required_argument, NULL, CLI_OPT_NAME},
        {"help", no_argument, NULL, CLI_OPT_HELP},
        {NULL, 0, NULL, 0},
};

/* Options of create; *name is set by --name. Returns 0, or an exit status. */
static int parse_create(struct cli_spec_args *a, int argc, char **argv, const char **name)
{
        int c, r;
        optind = 1;
        opterr = 0;
        if ((r = cli_spec_load_manifest(a, argc, argv)) != 0)
                return r;
        while ((c = getopt_long(argc, argv, "+", create_opts, NULL)) != -1) {
                if (c == '?' || c == ':')
                        return cli_usage_error(create_prog, "unknown option or missing value: '%s'",
                                               argv[optind - 1]);
                if (c == CLI_OPT_NAME) {
                        size_t n = strlen(optarg);
                        if (n == 0 || n >= sizeof(((bridle_sandbox_info *)NULL)->name))
                                return cli_usage_error(create_prog,
                                                       "--name wants 1 to 63 bytes, not '%s'",
                                                       optarg);
                        *name = optarg;
                        continue;
                }
                if ((r = cli_spec_apply_opt(a, c, optarg)) != 0)
                        return r;
        }
        if (optind < argc)
                return cli_usage_error(create_prog, "unexpected argument '%s'", argv[optind]);
        return 0;
}

int bridle_cmd_sandbox_create(int argc, char **argv)
{
        if (wants_help(argc, argv)) {
                (void)fputs(create_help, stdout);
                return 0;
        }
        struct cli_spec_args a = {.prog = create_prog, .spec = bridle_sandbox_spec_new()};
        if (!a.spec) {
                (void)fputs("bridle: out of memory\n", stderr);
                return 125;
        }
        const char *name = NULL;
        int r = parse_create(&a, argc, argv, &name);
        if (r == 0) {
                char *id = NULL;
                bridle_error err;
                bridle_error_clear(&err);
                bridle_sandbox_spec_set_limits(a.spec, &a.limits);
                if (bridle_sandbox_create(a.spec, name, &id, &err) < 0) {
                        (void)fprintf(stderr, "bridle: %s\n", err.msg);
                        r = err.code == BRIDLE_E_INVALID ? 2 : 125; /* a bad --name is usage */
                } else {
                        printf("%s\n", id);
                        free(id);
                }
        }
        bridle_sandbox_spec_free(a.spec);
        return r;
}

/* ---- exec --------------------------------------------------------------- */

static const struct option exec_opts[] = {
        {"timeout", required_argument, NULL, CLI_OPT_TIMEOUT},
        {"cwd", required_argument, NULL, CLI_OPT_CWD},
        {"env", required_argument, NULL, CLI_OPT_ENV},
        {"json", no_argument, NULL, CLI_OPT_JSON},
        {"max-output", required_argument, NULL, CLI_OPT_MAXOUT},
        {"help", no_argument, NULL, CLI_OPT_HELP},
        {NULL, 0, NULL, 0},
};

struct exec_args {
        const char *id;
        bridle_exec_opts o;
        const char **env; /* NULL-terminated, argc slots */
        size_t n_env;
        bool json;
};

/* A path without ".." components. */
static bool cwd_ok(const char *p)
{
        if (!*p)
                return false;
        for (const char *s = p; s; s = strchr(s, '/')) {
                while (*s == '/')
                        s++;
                if (s[0] == '.' && s[1] == '.' && (s[2] == '/' || s[2] == '\0'))
                        return false;
        }
        return true;
}

static int apply_exec_opt(struct exec_args *x, int c, const char *v)
{
        size_t nl;
        switch (c) {
        case CLI_OPT_TIMEOUT:
                if (cli_parse_seconds(v, &x->o.timeout_ms) < 0)
                        return cli_usage_error(exec_prog, "--timeout wants seconds, not '%s'", v);
                return 0;
        case CLI_OPT_CWD:
                if (!cwd_ok(v))
                        return cli_usage_error(exec_prog,
                                               "--cwd wants a path without '..', not '%s'", v);
                x->o.cwd = v;
                return 0;
        case CLI_OPT_ENV:
                if (cli_check_env(v, &nl) < 0)
                        return cli_usage_error(exec_prog, "--env wants NAME=VALUE, not '%s'", v);
                x->env[x->n_env++] = v;
                return 0;
        case CLI_OPT_JSON:
                x->json = true;
                return 0;
        case CLI_OPT_MAXOUT:
                if (cli_parse_max_output(v, &x->o.max_output) < 0)
                        return cli_usage_error(exec_prog,
                                               "--max-output wants bytes (64 to 1G), not '%s'", v);
                return 0;
        default:
                return 2;
        }
}

/* ID, options, then the command (after "--", or at the first non-option once
 * the id is known). Returns 0 with *ret_cmd set, -1 after --help, or an exit
 * status. */
static int parse_exec(struct exec_args *x, int argc, char **argv, int *ret_cmd)
{
        int c, r;
        optind = 1;
        opterr = 0;
        for (;;) {
                c = getopt_long(argc, argv, "+", exec_opts, NULL);
                if (c == '?' || c == ':')
                        return cli_usage_error(exec_prog, "unknown option or missing value: '%s'",
                                               argv[optind - 1]);
                if (c == CLI_OPT_HELP) {
                        (void)fputs(exec_help, stdout);
                        return -1;
                }
                if (c != -1) {
                        if ((r = apply_exec_opt(x, c, optarg)) != 0)
                                return r;
                        continue;
                }
                bool dashdash = optind > 1 && strcmp(argv[optind - 1], "--") == 0;
                if (x->id || dashdash || optind >= argc)
                        break;
                x->id = argv[optind++];
        }
        if (!x->id)
                return cli_usage_error(exec_prog, "%s", "no sandbox id");
        if (optind >= argc)
                return cli_usage_error(exec_prog, "%s", "no command (put it after --)");
        *ret_cmd = optind;
        return 0;
}

static int do_exec(struct exec_args *x, char **cmd)
{
        x->o.argv = (const char *const *)cmd;
        x->o.env = x->n_env ? x->env : NULL;
        x->o.capture = x->json;
        x->o.stdout_fd = 1;
        x->o.stderr_fd = 2;
        bridle_run_result res;
        bridle_error err;
        bridle_error_clear(&err);
        if (bridle_sandbox_exec(x->id, &x->o, &res, &err) < 0) {
                print_sandbox_error(x->id, &err);
                if (x->json)
                        cli_print_error_json(err.msg[0] ? err.msg : bridle_strerror(err.code));
                return 125;
        }
        int status = cli_report_result(&res, x->json, "the command's process tree");
        bridle_run_result_release(&res);
        return status;
}

int bridle_cmd_sandbox_exec(int argc, char **argv)
{
        struct exec_args x = {.env = calloc((size_t)argc + 1, sizeof(char *))};
        if (!x.env) {
                (void)fputs("bridle: out of memory\n", stderr);
                return 125;
        }
        int cmd = 0;
        int r = parse_exec(&x, argc, argv, &cmd);
        if (r == 0)
                r = do_exec(&x, argv + cmd);
        else if (r < 0)
                r = 0;
        free(x.env);
        return r;
}

/* ---- list --------------------------------------------------------------- */

int bridle_cmd_sandbox_list(int argc, char **argv)
{
        if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
                (void)fputs(list_help, stdout);
                return 0;
        }
        if (argc > 1)
                return bridle_cmd_sandbox_list_dir(argc, argv); /* list ID [PATH] */
        bridle_sandbox_info *infos = NULL;
        size_t n = 0;
        bridle_error err;
        bridle_error_clear(&err);
        if (bridle_sandbox_list_all(&infos, &n, &err) < 0) {
                (void)fprintf(stderr, "bridle: %s\n", err.msg);
                return 1;
        }
        for (size_t i = 0; i < n; i++) {
                char when[32] = "?";
                struct tm tm;
                time_t t = (time_t)infos[i].created;
                if (gmtime_r(&t, &tm))
                        (void)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
                printf("%s\t%s\t%s\t%s\n", infos[i].id, infos[i].name[0] ? infos[i].name : "-",
                       when, infos[i].alive ? "alive" : "dead");
        }
        free(infos);
        return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- destroy ------------------------------------------------------------ */

int bridle_cmd_sandbox_destroy(int argc, char **argv)
{
        if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
                (void)fputs(destroy_help, stdout);
                return 0;
        }
        if (argc != 2 || argv[1][0] == '-')
                return cli_usage_error(destroy_prog, "%s",
                                       argc < 2 ? "no sandbox id" : "wants exactly one id");
        bridle_error err;
        bridle_error_clear(&err);
        if (bridle_sandbox_destroy(argv[1], &err) < 0) {
                print_sandbox_error(argv[1], &err);
                return 1;
        }
        return 0;
}
