/* SPDX-License-Identifier: MIT */
/*
 * Options shared by `bridle sandbox run` and `bridle sandbox create`: the ones
 * that build a sandbox spec (manifest, workspace, binds, env, net, limits),
 * plus the printing of a bridle_run_result shared by `run` and `exec`.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bridle/bridle.h"

/* getopt_long values; each command picks the ones it accepts in its table. */
enum cli_opt {
        CLI_OPT_MANIFEST = 256,
        CLI_OPT_WORKSPACE,
        CLI_OPT_RO,
        CLI_OPT_RW,
        CLI_OPT_CWD,
        CLI_OPT_ENV,
        CLI_OPT_NET,
        CLI_OPT_TIMEOUT,
        CLI_OPT_MEMORY,
        CLI_OPT_PIDS,
        CLI_OPT_CPU,
        CLI_OPT_DISK,
        CLI_OPT_MAXOUT,
        CLI_OPT_JSON,
        CLI_OPT_ISO,
        CLI_OPT_HELP,
        CLI_OPT_NAME,
        CLI_OPT_ALLOW_HOST, /* sandbox run only: the CLI runs the egress proxy */
};

#define CLI_MAX_ALLOW_HOSTS 256

struct cli_spec_args {
        const char *prog; /* "bridle sandbox run": prefix of usage errors */
        bridle_sandbox_spec *spec;
        bridle_limits limits;
        bool json;
        size_t max_output;
        const char *manifest;
        bool net_allowlist;                               /* --net allowlist */
        const char *allow_hosts[CLI_MAX_ALLOW_HOSTS + 1]; /* --allow-host (borrowed from argv) */
        size_t n_allow_hosts;
};

/* Prints "PROG: message" and a pointer to --help; returns 2. */
__attribute__((format(printf, 2, 3))) int cli_usage_error(const char *prog, const char *fmt, ...);

/* "1.5" seconds into milliseconds (> 0). 0 or -1. */
int cli_parse_seconds(const char *s, uint64_t *ret_ms);
/* --max-output's value: 64 bytes to 1 GiB. 0 or -1. */
int cli_parse_max_output(const char *s, size_t *ret);
/* NAME=VALUE with NAME a shell variable name; *ret_name_len is NAME's length. 0 or -1. */
int cli_check_env(const char *kv, size_t *ret_name_len);

/* Finds --manifest in argv (before "--"), loads it and applies it to a->spec,
 * so that the flags parsed afterwards override it. Returns 0, or an exit status. */
int cli_spec_load_manifest(struct cli_spec_args *a, int argc, char **argv);

/* Applies one spec or limit option (any CLI_OPT_* but HELP and NAME).
 * Returns 0, or an exit status (2 usage, 125 a missing host path). */
int cli_spec_apply_opt(struct cli_spec_args *a, int c, const char *v);

/* The one JSON object of --json for a command that ran. */
void cli_print_run_json(const bridle_run_result *r);
/* The --json object for a sandbox that could not be used: status 125 and msg. */
void cli_print_error_json(const char *msg);
/* Warnings, exec error and timeout ("KILLED was killed") on stderr; with json
 * the object on stdout. Returns the command's exit status (the contract). */
int cli_report_result(const bridle_run_result *r, bool json, const char *killed);
