/* SPDX-License-Identifier: MIT */
#include "sandbox/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fd.h"

#define V1_ROOT "/sys/fs/cgroup"
#define V2_ROOTS { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" }

static int write_at(const char *dir, const char *file, const char *val)
{
        char p[320];
        (void)snprintf(p, sizeof(p), "%s/%s", dir, file);
        return bridle__write_file(AT_FDCWD, p, val);
}

static bool v2_has(const char *root, const char *ctrl)
{
        char p[128], *buf = NULL;
        (void)snprintf(p, sizeof(p), "%s/cgroup.controllers", root);
        if (bridle__read_file(AT_FDCWD, p, 4096, &buf, NULL) < 0)
                return false;
        bool found = false;
        for (char *t = strtok(buf, " \n"); t; t = strtok(NULL, " \n"))
                found |= strcmp(t, ctrl) == 0;
        free(buf);
        return found;
}

static int make_dir(char *out, size_t cap, const char *root, const char *name)
{
        char parent[200];
        (void)snprintf(parent, sizeof(parent), "%s/bridle", root);
        if (mkdir(parent, 0755) < 0 && errno != EEXIST)
                return -errno;
        (void)snprintf(out, cap, "%s/%s", parent, name);
        if (mkdir(out, 0755) < 0)
                return -errno;
        return 0;
}

static int try_v2(struct bridle__cgroup *cg, const char *name, uint64_t memory, uint64_t pids)
{
        static const char *const roots[] = V2_ROOTS;
        char buf[32];
        for (size_t i = 0; i < 2; i++) {
                if ((memory && !v2_has(roots[i], "memory")) || (pids && !v2_has(roots[i], "pids")))
                        continue;
                char parent[200];
                (void)snprintf(parent, sizeof(parent), "%s/bridle", roots[i]);
                if (make_dir(cg->mem, sizeof(cg->mem), roots[i], name) < 0)
                        continue;
                (void)write_at(parent, "cgroup.subtree_control", memory && pids ? "+memory +pids"
                                                                  : memory     ? "+memory"
                                                                               : "+pids");
                if (memory) {
                        (void)snprintf(buf, sizeof(buf), "%llu", (unsigned long long)memory);
                        cg->has_memory = write_at(cg->mem, "memory.max", buf) == 0;
                        (void)write_at(cg->mem, "memory.swap.max", "0");
                }
                if (pids) {
                        (void)snprintf(buf, sizeof(buf), "%llu", (unsigned long long)pids);
                        cg->has_pids = write_at(cg->mem, "pids.max", buf) == 0;
                }
                cg->version = 2;
                return 0;
        }
        return -ENOENT;
}

static void try_v1(struct bridle__cgroup *cg, const char *name, uint64_t memory, uint64_t pids)
{
        char buf[32];
        if (memory && make_dir(cg->mem, sizeof(cg->mem), V1_ROOT "/memory", name) == 0) {
                (void)snprintf(buf, sizeof(buf), "%llu", (unsigned long long)memory);
                cg->has_memory = write_at(cg->mem, "memory.limit_in_bytes", buf) == 0;
                (void)write_at(cg->mem, "memory.memsw.limit_in_bytes", buf);
                (void)write_at(cg->mem, "memory.swappiness", "0");
                cg->version = 1;
        } else
                cg->mem[0] = '\0';
        if (pids && make_dir(cg->pids, sizeof(cg->pids), V1_ROOT "/pids", name) == 0) {
                (void)snprintf(buf, sizeof(buf), "%llu", (unsigned long long)pids);
                cg->has_pids = write_at(cg->pids, "pids.max", buf) == 0;
                cg->version = 1;
        } else
                cg->pids[0] = '\0';
}

int bridle__cgroup_create(struct bridle__cgroup *cg, const char *name, uint64_t memory,
                          uint64_t pids, bridle_error *err)
{
        memset(cg, 0, sizeof(*cg));
        if (!memory && !pids)
                return 0;
        if (try_v2(cg, name, memory, pids) == 0)
                return 0;
        try_v1(cg, name, memory, pids);
        return 0;
}

int bridle__cgroup_attach(const struct bridle__cgroup *cg, pid_t pid, bridle_error *err)
{
        char buf[32];
        (void)snprintf(buf, sizeof(buf), "%d", (int)pid);
        if (cg->mem[0] && write_at(cg->mem, "cgroup.procs", buf) < 0)
                return bridle__err(err, -errno, "join cgroup '%s'", cg->mem);
        if (cg->pids[0] && write_at(cg->pids, "cgroup.procs", buf) < 0)
                return bridle__err(err, -errno, "join cgroup '%s'", cg->pids);
        return 0;
}

static uint64_t read_u64(const char *dir, const char *file)
{
        char p[320], *buf = NULL;
        (void)snprintf(p, sizeof(p), "%s/%s", dir, file);
        if (bridle__read_file(AT_FDCWD, p, 64, &buf, NULL) < 0)
                return 0;
        uint64_t v = strtoull(buf, NULL, 10);
        free(buf);
        return v;
}

uint64_t bridle__cgroup_peak_kb(const struct bridle__cgroup *cg)
{
        if (!cg->mem[0])
                return 0;
        return read_u64(cg->mem, cg->version == 2 ? "memory.peak" : "memory.max_usage_in_bytes") / 1024;
}

int bridle__cgroup_oom(const struct bridle__cgroup *cg)
{
        if (!cg->mem[0] || !cg->has_memory)
                return 0;
        if (cg->version == 1)
                return read_u64(cg->mem, "memory.failcnt") > 0;
        char p[320], *buf = NULL;
        (void)snprintf(p, sizeof(p), "%s/memory.events", cg->mem);
        if (bridle__read_file(AT_FDCWD, p, 4096, &buf, NULL) < 0)
                return 0;
        char *k = strstr(buf, "oom_kill ");
        int r = k && strtoull(k + 9, NULL, 10) > 0;
        free(buf);
        return r;
}

static void remove_dir(const char *dir)
{
        if (!dir[0])
                return;
        for (int i = 0; i < 200; i++) {
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return;
                if (errno != EBUSY)
                        return;
                (void)write_at(dir, "cgroup.kill", "1");
                struct timespec ts = { 0, 1000000 }; /* 1 ms, at most 200 times */
                nanosleep(&ts, NULL);
        }
}

void bridle__cgroup_destroy(struct bridle__cgroup *cg)
{
        remove_dir(cg->mem);
        remove_dir(cg->pids);
        memset(cg, 0, sizeof(*cg));
}
