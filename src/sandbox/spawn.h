/* SPDX-License-Identifier: MIT */
/* Starting bridle-init in fresh namespaces (or none, in landlock mode). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "bridle/common.h"

struct bridle__spawn {
        /* in */
        int init_fd;     /* bridle-init, opened O_RDONLY|O_CLOEXEC */
        int stdio[3];    /* what becomes the init's 0, 1, 2 */
        int sock;        /* becomes the init's fd 3 */
        bool namespaces;
        /* out */
        pid_t pid;
        int pidfd;
        int go_fd;       /* write one byte to let the child exec init */
};

/* clone3 the child; it waits for the go byte, becomes uid 0 in its user
 * namespace and execs bridle-init. Closes nothing of the caller's. */
int bridle__spawn_start(struct bridle__spawn *sp, bridle_error *err);
/* Write the user namespace maps: sandbox root is host uid/gid (never 0). */
int bridle__spawn_map(const struct bridle__spawn *sp, uid_t uid, gid_t gid, bridle_error *err);
/* Let the child go on. */
int bridle__spawn_go(struct bridle__spawn *sp, bridle_error *err);
/* Host uid/gid that the sandbox's root maps to. */
void bridle__spawn_host_ids(uid_t *ret_uid, gid_t *ret_gid);

/* A sandbox whose init serves requests (run.c): launched, ready, detached. */
#include "sandbox/cgroup.h"
struct bridle__served {
        pid_t pid;                  /* init, a child of the caller until it exits */
        struct bridle__cgroup cgroup;
};
struct bridle_sandbox_spec;
int bridle__sandbox_serve(const struct bridle_sandbox_spec *spec, int listen_fd,
                          struct bridle__served *ret, bridle_error *err);
