/* SPDX-License-Identifier: MIT */
/*
 * Snapshots of living sandboxes:
 *   bridle sandbox snapshot ID [--label TEXT]           prints the snapshot id
 *   bridle sandbox restore SNAPSHOT [--name NAME]        prints the new sandbox id; the
 *                                                        sandbox gets the options the
 *                                                        snapshot recorded (limits, network,
 *                                                        environment, binds)
 *   bridle sandbox snapshots [--prune-older-than DAYS]   lists (or prunes) them
 * Exit 0 done, 1 failed, 2 usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridle/bridle.h"
#include "commands.h"

static int usage(const char *what)
{
        (void)fprintf(stderr, "usage: bridle sandbox %s\n", what);
        return 2;
}

static int failed(const bridle_error *err)
{
        (void)fprintf(stderr, "bridle: %s\n", err->msg);
        return 1;
}

/* One "--flag VALUE" after the positional argument, or none. */
static int one_opt(int argc, char **argv, const char *flag, const char **ret)
{
        *ret = NULL;
        if (argc == 2)
                return 0;
        if (argc == 4 && strcmp(argv[2], flag) == 0) {
                *ret = argv[3];
                return 0;
        }
        return -1;
}

int bridle_cmd_sandbox_snapshot(int argc, char **argv)
{
        const char *label;
        if (argc < 2 || one_opt(argc, argv, "--label", &label) < 0 || argv[1][0] == '-')
                return usage("snapshot ID [--label TEXT]");
        char *sid = NULL;
        bridle_error err;
        bridle_error_clear(&err);
        if (bridle_sandbox_snapshot(argv[1], label, &sid, &err) < 0)
                return failed(&err);
        (void)printf("%s\n", sid);
        free(sid);
        return fflush(stdout) == 0 ? 0 : 1;
}

int bridle_cmd_sandbox_restore(int argc, char **argv)
{
        const char *name;
        if (argc < 2 || one_opt(argc, argv, "--name", &name) < 0 || argv[1][0] == '-')
                return usage("restore SNAPSHOT [--name NAME]");
        char *id = NULL;
        bridle_error err;
        bridle_error_clear(&err);
        if (bridle_sandbox_restore(argv[1], name, &id, &err) < 0)
                return failed(&err);
        (void)printf("%s\n", id);
        free(id);
        return fflush(stdout) == 0 ? 0 : 1;
}

static int prune(const char *arg)
{
        char *end = NULL;
        errno = 0;
        unsigned long days = strtoul(arg, &end, 10);
        if (errno || !end || *end || arg[0] == '-' || end == arg || days > 1000000)
                return usage("snapshots [--prune-older-than DAYS]");
        size_t removed = 0;
        bridle_error err;
        bridle_error_clear(&err);
        if (bridle_sandbox_snapshots_prune((unsigned)days, &removed, &err) < 0)
                return failed(&err);
        (void)printf("removed %zu snapshot%s\n", removed, removed == 1 ? "" : "s");
        return fflush(stdout) == 0 ? 0 : 1;
}

int bridle_cmd_sandbox_snapshots(int argc, char **argv)
{
        if (argc == 3 && strcmp(argv[1], "--prune-older-than") == 0)
                return prune(argv[2]);
        if (argc != 1)
                return usage("snapshots [--prune-older-than DAYS]");
        bridle_snapshot_info *v = NULL;
        size_t n = 0;
        bridle_error err;
        bridle_error_clear(&err);
        if (bridle_sandbox_snapshots(&v, &n, &err) < 0)
                return failed(&err);
        (void)printf("%-14s %-20s %12s %-5s %-14s %s\n", "ID", "CREATED", "SIZE", "KIND", "PARENT",
                     "LABEL");
        for (size_t i = 0; i < n; i++) {
                char when[32] = "?";
                time_t t = (time_t)v[i].created;
                struct tm tm;
                if (gmtime_r(&t, &tm))
                        (void)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
                (void)printf("%-14s %-20s %12" PRIu64 " %-5s %-14s %s\n", v[i].id, when, v[i].size,
                             v[i].full ? "full" : "layer", v[i].parent[0] ? v[i].parent : "-",
                             v[i].label);
        }
        free(v);
        return fflush(stdout) == 0 ? 0 : 1;
}
