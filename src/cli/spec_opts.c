/* SPDX-License-Identifier: MIT */
/* Spec-building options and result printing shared by `sandbox run`, `create` and `exec`. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "spec_opts.h"

int cli_usage_error(const char *prog, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        (void)fprintf(stderr, "%s: ", prog);
        (void)vfprintf(stderr, fmt, ap);
        va_end(ap);
        (void)fprintf(stderr, "\n(see '%s --help')\n", prog);
        return 2;
}

int cli_parse_seconds(const char *s, uint64_t *ret_ms)
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

int cli_parse_max_output(const char *s, size_t *ret)
{
        uint64_t m;
        bridle_error err;
        if (bridle_parse_size(s, &m, &err) < 0 || m < 64 || m > (1ull << 30))
                return -1;
        *ret = (size_t)m;
        return 0;
}

int cli_check_env(const char *kv, size_t *ret_name_len)
{
        const char *eq = strchr(kv, '=');
        if (!eq || eq == kv)
                return -1;
        for (const char *p = kv; p < eq; p++) {
                bool alpha = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_';
                bool digit = *p >= '0' && *p <= '9';
                if (!alpha && !(digit && p > kv))
                        return -1;
        }
        *ret_name_len = (size_t)(eq - kv);
        return 0;
}

/* HOST[:PATH]; PATH defaults to HOST. HOST is made absolute. */
static int add_bind(const struct cli_spec_args *a, const char *arg, unsigned flags)
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
                return cli_usage_error(a->prog, "bad bind '%s'", arg);
        memcpy(host, arg, hl);
        host[hl] = '\0';
        if (!realpath(host, resolved)) {
                (void)fprintf(stderr, "%s: bind source '%s': %s\n", a->prog, host, strerror(errno));
                return 125;
        }
        if (!dst)
                dst = resolved;
        bridle_error err;
        if (bridle_sandbox_spec_add_bind(a->spec, resolved, dst, flags, &err) < 0)
                return cli_usage_error(a->prog, "%s", err.msg);
        return 0;
}

static int set_env(const struct cli_spec_args *a, const char *kv)
{
        const char *eq = strchr(kv, '=');
        if (!eq || eq == kv)
                return cli_usage_error(a->prog, "--env wants NAME=VALUE, not '%s'", kv);
        char name[256];
        if ((size_t)(eq - kv) >= sizeof(name))
                return cli_usage_error(a->prog, "variable name too long in '%s'", kv);
        memcpy(name, kv, (size_t)(eq - kv));
        name[eq - kv] = '\0';
        bridle_error err;
        if (bridle_sandbox_spec_set_env(a->spec, name, eq + 1, &err) < 0)
                return cli_usage_error(a->prog, "%s", err.msg);
        return 0;
}

static int set_workspace(const struct cli_spec_args *a, const char *v)
{
        char buf[PATH_MAX];
        bridle_error err;
        if (!realpath(v, buf)) {
                (void)fprintf(stderr, "%s: workspace '%s': %s\n", a->prog, v, strerror(errno));
                return 125;
        }
        if (bridle_sandbox_spec_set_workspace(a->spec, buf, &err) < 0)
                return cli_usage_error(a->prog, "%s", err.msg);
        return 0;
}

/* Options naming paths, binds and variables. Returns 0, or an exit status. */
static int apply_place_opt(struct cli_spec_args *a, int c, const char *v)
{
        bridle_error err;
        switch (c) {
        case CLI_OPT_WORKSPACE:
                return set_workspace(a, v);
        case CLI_OPT_RO:
                return add_bind(a, v, BRIDLE_BIND_RO);
        case CLI_OPT_RW:
                return add_bind(a, v, 0);
        case CLI_OPT_CWD:
                if (bridle_sandbox_spec_set_cwd(a->spec, v, &err) < 0)
                        return cli_usage_error(a->prog, "%s", err.msg);
                return 0;
        case CLI_OPT_ENV:
                return set_env(a, v);
        default:
                return 2;
        }
}

static int parse_size_opt(const struct cli_spec_args *a, const char *opt, const char *example,
                          const char *v, uint64_t *ret)
{
        bridle_error err;
        uint64_t n = 0;
        if (bridle_parse_size(v, &n, &err) < 0 || n == 0)
                return cli_usage_error(a->prog, "%s wants a size like %s, not '%s'", opt, example,
                                       v);
        *ret = n;
        return 0;
}

/* Limits. Returns 0, or an exit status. */
static int apply_limit_opt(struct cli_spec_args *a, int c, const char *v)
{
        switch (c) {
        case CLI_OPT_TIMEOUT:
                if (cli_parse_seconds(v, &a->limits.timeout_ms) < 0)
                        return cli_usage_error(a->prog, "--timeout wants seconds, not '%s'", v);
                return 0;
        case CLI_OPT_CPU:
                if (parse_count(v, &a->limits.cpu_s) < 0)
                        return cli_usage_error(a->prog, "--cpu wants whole seconds, not '%s'", v);
                return 0;
        case CLI_OPT_PIDS:
                if (parse_count(v, &a->limits.pids) < 0)
                        return cli_usage_error(a->prog, "--pids wants a count, not '%s'", v);
                return 0;
        case CLI_OPT_MEMORY:
                return parse_size_opt(a, "--memory", "256M", v, &a->limits.memory);
        case CLI_OPT_DISK:
                return parse_size_opt(a, "--disk", "1G", v, &a->limits.disk);
        case CLI_OPT_MAXOUT:
                if (cli_parse_max_output(v, &a->max_output) < 0)
                        return cli_usage_error(a->prog,
                                               "--max-output wants bytes (64 to 1G), not '%s'", v);
                return 0;
        default:
                return 2;
        }
}

int cli_spec_apply_opt(struct cli_spec_args *a, int c, const char *v)
{
        switch (c) {
        case CLI_OPT_MANIFEST: /* already loaded by cli_spec_load_manifest() */
                a->manifest = v;
                return 0;
        case CLI_OPT_JSON:
                a->json = true;
                return 0;
        case CLI_OPT_NET:
                if (strcmp(v, "allowlist") == 0) {
                        /* The proxy's directory is set when the proxy starts (sandbox run). */
                        a->net_allowlist = true;
                        bridle_sandbox_spec_set_net(a->spec, BRIDLE_NET_ALLOWLIST);
                        return 0;
                }
                if (strcmp(v, "none") != 0 && strcmp(v, "loopback") != 0)
                        return cli_usage_error(a->prog,
                                               "--net is none, loopback or allowlist, not '%s'", v);
                a->net_allowlist = false;
                bridle_sandbox_spec_set_net(a->spec, strcmp(v, "none") != 0 ? BRIDLE_NET_LOOPBACK
                                                                            : BRIDLE_NET_NONE);
                return 0;
        case CLI_OPT_ALLOW_HOST:
                if (a->n_allow_hosts >= CLI_MAX_ALLOW_HOSTS)
                        return cli_usage_error(a->prog, "more than %d --allow-host",
                                               CLI_MAX_ALLOW_HOSTS);
                if (!*v || strchr(v, '/') || strchr(v, ':') || strchr(v, ' ') ||
                    (strchr(v, '*') && (v[0] != '*' || v[1] != '.' || strchr(v + 1, '*') || !v[2])))
                        return cli_usage_error(a->prog,
                                               "--allow-host wants a domain ('example.org' or "
                                               "'*.example.org'), not '%s'",
                                               v);
                a->allow_hosts[a->n_allow_hosts++] = v;
                a->allow_hosts[a->n_allow_hosts] = NULL;
                return 0;
        case CLI_OPT_ISO:
                if (strcmp(v, "namespaces") != 0 && strcmp(v, "landlock") != 0)
                        return cli_usage_error(
                                a->prog, "--isolation is namespaces or landlock, not '%s'", v);
                bridle_sandbox_spec_set_isolation(a->spec, strcmp(v, "landlock") != 0
                                                                   ? BRIDLE_ISOLATION_NAMESPACES
                                                                   : BRIDLE_ISOLATION_LANDLOCK);
                return 0;
        case CLI_OPT_WORKSPACE:
        case CLI_OPT_RO:
        case CLI_OPT_RW:
        case CLI_OPT_CWD:
        case CLI_OPT_ENV:
                return apply_place_opt(a, c, v);
        default:
                return apply_limit_opt(a, c, v);
        }
}

int cli_spec_load_manifest(struct cli_spec_args *a, int argc, char **argv)
{
        for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
                if (strcmp(argv[i], "--manifest") == 0 && i + 1 < argc)
                        a->manifest = argv[i + 1];
                else if (strncmp(argv[i], "--manifest=", 11) == 0)
                        a->manifest = argv[i] + 11;
        if (!a->manifest)
                return 0;
        bridle_manifest *m = NULL;
        bridle_error err;
        bridle_error_clear(&err);
        if (bridle_manifest_load(a->manifest, &m, &err) < 0) {
                (void)fprintf(stderr, "bridle: %s\n", err.msg);
                return 125;
        }
        int r = bridle_manifest_apply(m, a->spec, &err);
        bridle_manifest_free(m);
        if (r < 0) {
                (void)fprintf(stderr, "bridle: %s\n", err.msg);
                return 125;
        }
        return 0;
}

static const char *json_bool(bool b)
{
        return b ? "true" : "false";
}

void cli_print_run_json(const bridle_run_result *r)
{
        printf("{\"exit_code\":");
        if (r->exit_code >= 0)
                printf("%d", r->exit_code);
        else
                printf("null");
        printf(",\"signal\":%d,\"timed_out\":%s,\"status\":%d,\"stdout\":", r->signal,
               json_bool(r->timed_out), r->status);
        cli_json_string(stdout, r->stdout_buf ? r->stdout_buf : "", r->stdout_len);
        printf(",\"stderr\":");
        cli_json_string(stdout, r->stderr_buf ? r->stderr_buf : "", r->stderr_len);
        printf(",\"stdout_truncated\":%s,\"stderr_truncated\":%s,\"wall_ms\":%llu,\"cpu_ms\":%llu,"
               "\"max_rss_kb\":%llu",
               json_bool(r->stdout_truncated), json_bool(r->stderr_truncated),
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

void cli_print_error_json(const char *msg)
{
        printf("{\"status\":125,\"error\":");
        cli_json_string(stdout, msg, strlen(msg));
        printf("}\n");
}

int cli_report_result(const bridle_run_result *r, bool json, const char *killed)
{
        for (size_t i = 0; r->warnings && r->warnings[i]; i++)
                (void)fprintf(stderr, "bridle: warning: %s\n", r->warnings[i]);
        if (r->exec_error)
                (void)fprintf(stderr, "bridle: %s\n", r->exec_error);
        if (r->timed_out && !json)
                (void)fprintf(stderr, "bridle: timed out after %llu ms; %s was killed\n",
                              (unsigned long long)r->wall_ms, killed);
        if (json)
                cli_print_run_json(r);
        return r->status;
}
