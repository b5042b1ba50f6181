/* SPDX-License-Identifier: MIT */
/* bridle sandbox run [OPTIONS] -- COMMAND [ARG...] */
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

struct run_args {
        bridle_sandbox_spec *spec;
        bridle_limits limits;
        bool json;
        size_t max_output;
        const char *manifest;
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "bridle sandbox run: ");
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs("\n(see 'bridle sandbox run --help')\n", stderr);
        return 2;
}

static int parse_seconds(const char *s, uint64_t *ret_ms)
{
        char *end = NULL;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || *end || v <= 0 || v > 1e9)
                return -1;
        *ret_ms = (uint64_t)(v * 1000.0 + 0.5);
        return 0;
}

static int parse_count(const char *s, uint64_t *ret)
{
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s || *end || v == 0 || s[0] == '-')
                return -1;
        *ret = v;
        return 0;
}

/* HOST[:PATH]; PATH defaults to HOST. HOST is made absolute. */
static int add_bind(bridle_sandbox_spec *spec, const char *arg, unsigned flags)
{
        char host[PATH_MAX], resolved[PATH_MAX];
        const char *colon = strrchr(arg, ':');
        const char *dst = NULL;
        size_t hl = strlen(arg);
        if (colon && colon[1] == '/') {
                dst = colon + 1;
                hl = (size_t)(colon - arg);
        }
        if (hl == 0 || hl >= sizeof(host))
                return usage_error("bad bind '%s'", arg);
        memcpy(host, arg, hl);
        host[hl] = '\0';
        if (!realpath(host, resolved)) {
                fprintf(stderr, "bridle sandbox run: bind source '%s': %s\n", host, strerror(errno));
                return 125;
        }
        if (!dst)
                dst = resolved;
        bridle_error err;
        if (bridle_sandbox_spec_add_bind(spec, resolved, dst, flags, &err) < 0)
                return usage_error("%s", err.msg);
        return 0;
}

static int set_env(bridle_sandbox_spec *spec, const char *kv)
{
        const char *eq = strchr(kv, '=');
        if (!eq || eq == kv)
                return usage_error("--env wants NAME=VALUE, not '%s'", kv);
        char name[256];
        if ((size_t)(eq - kv) >= sizeof(name))
                return usage_error("variable name too long in '%s'", kv);
        memcpy(name, kv, (size_t)(eq - kv));
        name[eq - kv] = '\0';
        bridle_error err;
        if (bridle_sandbox_spec_set_env(spec, name, eq + 1, &err) < 0)
                return usage_error("%s", err.msg);
        return 0;
}

enum { OPT_MANIFEST = 256, OPT_WORKSPACE, OPT_RO, OPT_RW, OPT_CWD, OPT_ENV, OPT_NET, OPT_TIMEOUT,
       OPT_MEMORY, OPT_PIDS, OPT_CPU, OPT_DISK, OPT_MAXOUT, OPT_JSON, OPT_ISO, OPT_HELP };

static const struct option run_opts[] = {
        { "manifest", required_argument, NULL, OPT_MANIFEST },
        { "workspace", required_argument, NULL, OPT_WORKSPACE },
        { "ro", required_argument, NULL, OPT_RO },
        { "rw", required_argument, NULL, OPT_RW },
        { "cwd", required_argument, NULL, OPT_CWD },
        { "env", required_argument, NULL, OPT_ENV },
        { "net", required_argument, NULL, OPT_NET },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "memory", required_argument, NULL, OPT_MEMORY },
        { "pids", required_argument, NULL, OPT_PIDS },
        { "cpu", required_argument, NULL, OPT_CPU },
        { "disk", required_argument, NULL, OPT_DISK },
        { "max-output", required_argument, NULL, OPT_MAXOUT },
        { "json", no_argument, NULL, OPT_JSON },
        { "isolation", required_argument, NULL, OPT_ISO },
        { "help", no_argument, NULL, OPT_HELP },
        { NULL, 0, NULL, 0 },
};

/* Options naming paths, binds and variables. Returns 0, or an exit status. */
static int apply_place_opt(struct run_args *a, int c, const char *v)
{
        bridle_error err;
        char buf[PATH_MAX];
        switch (c) {
        case OPT_WORKSPACE:
                if (!realpath(v, buf)) {
                        fprintf(stderr, "bridle sandbox run: workspace '%s': %s\n", v, strerror(errno));
                        return 125;
                }
                return bridle_sandbox_spec_set_workspace(a->spec, buf, &err) < 0 ? usage_error("%s", err.msg) : 0;
        case OPT_RO:
                return add_bind(a->spec, v, BRIDLE_BIND_RO);
        case OPT_RW:
                return add_bind(a->spec, v, 0);
        case OPT_CWD:
                return bridle_sandbox_spec_set_cwd(a->spec, v, &err) < 0 ? usage_error("%s", err.msg) : 0;
        case OPT_ENV:
                return set_env(a->spec, v);
        default:
                return 2;
        }
}

/* Limits. Returns 0, or an exit status. */
static int apply_limit_opt(struct run_args *a, int c, const char *v)
{
        bridle_error err;
        switch (c) {
        case OPT_TIMEOUT:
                return parse_seconds(v, &a->limits.timeout_ms) < 0 ? usage_error("--timeout wants seconds, not '%s'", v) : 0;
        case OPT_CPU:
                return parse_count(v, &a->limits.cpu_s) < 0 ? usage_error("--cpu wants whole seconds, not '%s'", v) : 0;
        case OPT_PIDS:
                return parse_count(v, &a->limits.pids) < 0 ? usage_error("--pids wants a count, not '%s'", v) : 0;
        case OPT_MEMORY:
                return bridle_parse_size(v, &a->limits.memory, &err) < 0 || !a->limits.memory
                               ? usage_error("--memory wants a size like 256M, not '%s'", v) : 0;
        case OPT_DISK:
                return bridle_parse_size(v, &a->limits.disk, &err) < 0 || !a->limits.disk
                               ? usage_error("--disk wants a size like 1G, not '%s'", v) : 0;
        case OPT_MAXOUT: {
                uint64_t m;
                if (bridle_parse_size(v, &m, &err) < 0 || m < 64 || m > (1ull << 30))
                        return usage_error("--max-output wants bytes (64 to 1G), not '%s'", v);
                a->max_output = (size_t)m;
                return 0;
        }
        default:
                return 2;
        }
}

/* Every option but --help. Returns 0, or an exit status. */
static int apply_opt(struct run_args *a, int c, const char *v)
{
        switch (c) {
        case OPT_MANIFEST:
                a->manifest = v;
                return 0;
        case OPT_JSON:
                a->json = true;
                return 0;
        case OPT_NET:
                if (strcmp(v, "none") && strcmp(v, "loopback"))
                        return usage_error("--net is none or loopback, not '%s'", v);
                bridle_sandbox_spec_set_net(a->spec, strcmp(v, "none") ? BRIDLE_NET_LOOPBACK : BRIDLE_NET_NONE);
                return 0;
        case OPT_ISO:
                if (strcmp(v, "namespaces") && strcmp(v, "landlock"))
                        return usage_error("--isolation is namespaces or landlock, not '%s'", v);
                bridle_sandbox_spec_set_isolation(a->spec, strcmp(v, "landlock") ? BRIDLE_ISOLATION_NAMESPACES
                                                                                 : BRIDLE_ISOLATION_LANDLOCK);
                return 0;
        case OPT_WORKSPACE:
        case OPT_RO:
        case OPT_RW:
        case OPT_CWD:
        case OPT_ENV:
                return apply_place_opt(a, c, v);
        default:
                return apply_limit_opt(a, c, v);
        }
}

static void print_json(const bridle_run_result *r)
{
        printf("{\"exit_code\":");
        if (r->exit_code >= 0)
                printf("%d", r->exit_code);
        else
                printf("null");
        printf(",\"signal\":%d,\"timed_out\":%s,\"status\":%d,\"stdout\":", r->signal,
               r->timed_out ? "true" : "false", r->status);
        cli_json_string(stdout, r->stdout_buf ? r->stdout_buf : "", r->stdout_len);
        printf(",\"stderr\":");
        cli_json_string(stdout, r->stderr_buf ? r->stderr_buf : "", r->stderr_len);
        printf(",\"stdout_truncated\":%s,\"stderr_truncated\":%s,\"wall_ms\":%llu,\"cpu_ms\":%llu,"
               "\"max_rss_kb\":%llu",
               r->stdout_truncated ? "true" : "false", r->stderr_truncated ? "true" : "false",
               (unsigned long long)r->wall_ms, (unsigned long long)r->cpu_ms,
               (unsigned long long)r->max_rss_kb);
        if (r->exec_error) {
                printf(",\"error\":");
                cli_json_string(stdout, r->exec_error, strlen(r->exec_error));
        }
        printf(",\"warnings\":[");
        for (size_t i = 0; r->warnings && r->warnings[i]; i++) {
                if (i)
                        putchar(',');
                cli_json_string(stdout, r->warnings[i], strlen(r->warnings[i]));
        }
        printf("]}\n");
}

static int load_manifest(struct run_args *a)
{
        if (!a->manifest)
                return 0;
        bridle_manifest *m = NULL;
        bridle_error err;
        bridle_error_clear(&err);
        if (bridle_manifest_load(a->manifest, &m, &err) < 0) {
                fprintf(stderr, "bridle: %s\n", err.msg);
                return 125;
        }
        int r = bridle_manifest_apply(m, a->spec, &err);
        bridle_manifest_free(m);
        if (r < 0) {
                fprintf(stderr, "bridle: %s\n", err.msg);
                return 125;
        }
        return 0;
}

static int run(struct run_args *a, char **argv)
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
                fprintf(stderr, "bridle: %s\n", err.msg);
                if (a->json) {
                        printf("{\"status\":125,\"error\":");
                        cli_json_string(stdout, err.msg, strlen(err.msg));
                        printf("}\n");
                }
                return 125;
        }
        for (size_t i = 0; res.warnings && res.warnings[i]; i++)
                fprintf(stderr, "bridle: warning: %s\n", res.warnings[i]);
        if (res.exec_error)
                fprintf(stderr, "bridle: %s\n", res.exec_error);
        if (res.timed_out && !a->json)
                fprintf(stderr, "bridle: timed out after %llu ms; the sandbox was killed\n",
                        (unsigned long long)res.wall_ms);
        if (a->json)
                print_json(&res);
        int status = res.status;
        bridle_run_result_release(&res);
        return status;
}

static int cmd_run(int argc, char **argv)
{
        struct run_args a = { .spec = bridle_sandbox_spec_new() };
        if (!a.spec) {
                fputs("bridle: out of memory\n", stderr);
                return 125;
        }
        /* Manifest first, then flags on top: collect flags, apply after. */
        int c, r = 0;
        optind = 1;
        opterr = 0;
        for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
                if (strcmp(argv[i], "--manifest") == 0 && i + 1 < argc)
                        a.manifest = argv[i + 1];
                else if (strncmp(argv[i], "--manifest=", 11) == 0)
                        a.manifest = argv[i] + 11;
        if ((r = load_manifest(&a)) != 0)
                goto out;
        while ((c = getopt_long(argc, argv, "+", run_opts, NULL)) != -1) {
                if (c == OPT_HELP) {
                        fputs(run_help, stdout);
                        goto out;
                }
                if (c == '?' || c == ':') {
                        r = usage_error("unknown option or missing value: '%s'", argv[optind - 1]);
                        goto out;
                }
                if ((r = apply_opt(&a, c, optarg)) != 0)
                        goto out;
        }
        if (optind >= argc) {
                r = usage_error("%s", "no command (put it after --)");
                goto out;
        }
        r = run(&a, argv + optind);
out:
        bridle_sandbox_spec_free(a.spec);
        return r;
}

int bridle_cmd_sandbox(int argc, char **argv)
{
        if (argc < 2 || strcmp(argv[1], "--help") == 0) {
                fputs(run_help, argc < 2 ? stderr : stdout);
                return argc < 2 ? 2 : 0;
        }
        if (strcmp(argv[1], "run") == 0)
                return cmd_run(argc - 1, argv + 1);
        fprintf(stderr, "bridle sandbox: unknown subcommand '%s'\n", argv[1]);
        return 2;
}
