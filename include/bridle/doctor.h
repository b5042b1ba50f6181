/* SPDX-License-Identifier: MIT */
/*
 * What this host allows: user namespaces (and AppArmor's restriction on them),
 * Landlock, seccomp, cgroups (v1 and v2 controllers), idmapped mounts, overlayfs.
 * Each check says what it found and, when something is missing, the fix.
 *
 * Ownership: bridle_doctor_run fills a caller-owned array.
 *
 * The probes that change process state (creating namespaces, mounting an
 * overlay in a user namespace, setting an idmap on a detached mount) run in
 * short-lived forked children, each bounded by a timeout; nothing is printed.
 *
 * A sandbox (the default, namespace isolation) can run when
 * bridle_doctor_userns_allowed() returns 1 and the "seccomp" check is not
 * MISSING; the other checks describe limits (Landlock as a second wall,
 * cgroup memory/pids limits, idmapped or layered workspaces).
 */
#pragma once

#include "bridle/common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum bridle_doctor_status {
        BRIDLE_DOCTOR_OK = 0,
        BRIDLE_DOCTOR_WARN = 1,    /* works, with a limitation */
        BRIDLE_DOCTOR_MISSING = 2, /* not available here */
};

typedef struct bridle_doctor_check {
        char name[48];   /* e.g. "user namespaces" */
        int status;      /* enum bridle_doctor_status */
        char detail[256];
        char fix[256];   /* empty when nothing needs fixing */
} bridle_doctor_check;

#define BRIDLE_DOCTOR_MAX_CHECKS 16

/* Run every check; returns the number filled (<= max) or a negative code. */
BRIDLE_EXPORT int bridle_doctor_run(bridle_doctor_check *checks, size_t max, bridle_error *err);

/* 1 if this host lets this process create the namespaces a sandbox needs, 0 if
 * not (err->code BRIDLE_E_FORBIDDEN, err->msg "<reason>; fix: <fix>", e.g.
 * "user namespaces are disabled: 'user.max_user_namespaces' is 0; fix: ..."),
 * negative if the probe could not run. Forks a child that tries unshare(). */
BRIDLE_EXPORT int bridle_doctor_userns_allowed(bridle_error *err);

#ifdef __cplusplus
}
#endif
