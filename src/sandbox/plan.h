/* SPDX-License-Identifier: MIT */
/* Turning a spec into the plan bridle-init executes. Private to src/sandbox/. */
#pragma once

#include <stdbool.h>

#include "sandbox/initproto.h"
#include "sandbox/spec.h"

struct plan_ctx {
        bool detached_binds; /* pass binds as detached mount fds (root caller) */
        int idmap_userns_fd; /* with detached_binds: idmap rw binds with this userns, or -1 */
        const char *host_workspace; /* landlock mode: the host directory used as workspace */
        const char *host_tmp;       /* landlock mode: the host directory used as /tmp */
        const char *const *argv; /* NULL in serve mode */
        int serve_fd;            /* serve mode: the listening socket (dup'd into the plan), else -1 */
        uint64_t rlimit_as;    /* fallback for memory when no cgroup (0: none) */
        uint64_t rlimit_nproc; /* fallback for pids when no cgroup (0: none) */
        char **warnings;       /* out: idmap fallbacks etc. (appended by the builder) */
        size_t n_warnings;
};

#define BRIDLE__DEFAULT_DISK (1024ull << 20)
#define BRIDLE__DEFAULT_NOFILE 4096
#define BRIDLE__DEFAULT_NPROC 4096

/* Add a warning (limits that fell back, idmap missing, landlock mode) to ctx. */
int bridle__plan_warn(struct plan_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int bridle__plan_build(const bridle_sandbox_spec *spec, struct plan_ctx *ctx, bridle__plan *p,
                       bridle_error *err);
