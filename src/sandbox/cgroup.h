/* SPDX-License-Identifier: MIT */
/* Memory and pids limits through cgroups: v2 where its controllers exist, else v1. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bridle/common.h"

struct bridle__cgroup {
        int version;          /* 0 none, 1 or 2 */
        char mem[256];        /* v1 memory dir, or the v2 dir */
        char pids[256];       /* v1 pids dir */
        bool has_memory, has_pids;
};

/* Create a cgroup for one sandbox with these limits (0 = none). What could not
 * be made is left unset in has_*; the caller falls back to rlimits. */
int bridle__cgroup_create(struct bridle__cgroup *cg, const char *name, uint64_t memory,
                          uint64_t pids, bridle_error *err);
/* Move pid in (before it runs anything). */
int bridle__cgroup_attach(const struct bridle__cgroup *cg, pid_t pid, bridle_error *err);
/* Peak memory in KiB, or 0 if unknown. */
uint64_t bridle__cgroup_peak_kb(const struct bridle__cgroup *cg);
/* 1 if the memory limit was hit (OOM kill). */
int bridle__cgroup_oom(const struct bridle__cgroup *cg);
/* Kill anything left and remove the directories (bounded retries). */
void bridle__cgroup_destroy(struct bridle__cgroup *cg);
