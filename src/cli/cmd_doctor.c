/* SPDX-License-Identifier: MIT */
/* bridle doctor [--json]: what this host allows, and whether a sandbox can run. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bridle/bridle.h"
#include "commands.h"

static const char *status_name(int status)
{
        switch (status) {
        case BRIDLE_DOCTOR_OK:
                return "ok";
        case BRIDLE_DOCTOR_WARN:
                return "warn";
        case BRIDLE_DOCTOR_MISSING:
                return "missing";
        default:
                return "unknown";
        }
}

static void print_table(const bridle_doctor_check *checks, int n)
{
        (void)printf("%-18s %-8s %s\n", "CHECK", "STATUS", "DETAIL");
        for (int i = 0; i < n; i++) {
                const bridle_doctor_check *c = &checks[i];
                (void)printf("%-18s %-8s %s\n", c->name, status_name(c->status), c->detail);
                if (c->fix[0] && c->status != BRIDLE_DOCTOR_OK)
                        (void)printf("%-18s %-8s fix: %s\n", "", "", c->fix);
        }
}

static int print_json(const bridle_doctor_check *checks, int n)
{
        json_t *arr = json_array();
        for (int i = 0; arr && i < n; i++) {
                const bridle_doctor_check *c = &checks[i];
                json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "name", c->name, "status",
                                      status_name(c->status), "detail", c->detail, "fix", c->fix);
                if (!o || json_array_append_new(arr, o) < 0) {
                        json_decref(arr);
                        arr = NULL;
                }
        }
        int r = arr ? json_dumpf(arr, stdout, JSON_COMPACT | JSON_ENSURE_ASCII) : -1;
        json_decref(arr);
        if (r < 0) {
                (void)fprintf(stderr, "bridle doctor: cannot write the JSON output\n");
                return -1;
        }
        (void)putchar('\n');
        return 0;
}

/* The default sandbox needs user namespaces and seccomp; the rest are limits. */
static bool sandbox_can_run(const bridle_doctor_check *checks, int n, bridle_error *err)
{
        for (int i = 0; i < n; i++)
                if (strcmp(checks[i].name, "seccomp") == 0 &&
                    checks[i].status == BRIDLE_DOCTOR_MISSING) {
                        (void)snprintf(err->msg, sizeof(err->msg), "%s", checks[i].detail);
                        return false;
                }
        return bridle_doctor_userns_allowed(err) == 1;
}

static int usage(FILE *f, int status)
{
        (void)fputs("usage: bridle doctor [--json]\n"
              "\n"
              "Checks what this host allows (user namespaces, AppArmor, Landlock, seccomp,\n"
              "cgroups, idmapped mounts, overlayfs) and how to fix what is missing.\n"
              "Exits 0 if a sandbox can run here, 1 if not.\n"
              "\n"
              "  --json   print one JSON array of {name, status, detail, fix}\n",
              f);
        return status;
}

int bridle_cmd_doctor(int argc, char **argv)
{
        bool json = false;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0)
                        json = true;
                else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
                        return usage(stdout, 0);
                else
                        return usage(stderr, 2);
        }

        bridle_doctor_check checks[BRIDLE_DOCTOR_MAX_CHECKS];
        bridle_error err = {0};
        int n = bridle_doctor_run(checks, BRIDLE_DOCTOR_MAX_CHECKS, &err);
        if (n < 0) {
                (void)fprintf(stderr, "bridle doctor: %s\n", err.msg);
                return 1;
        }
        bool ok = sandbox_can_run(checks, n, &err);
        if (json) {
                if (print_json(checks, n) < 0)
                        return 1;
        } else {
                print_table(checks, n);
                (void)printf("\n%s\n", ok ? "a sandbox can run here" : "a sandbox cannot run here");
        }
        if (!ok)
                (void)fprintf(stderr, "bridle doctor: %s\n", err.msg);
        return ok ? 0 : 1;
}
