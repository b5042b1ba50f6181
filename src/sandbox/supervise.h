/* SPDX-License-Identifier: MIT */
/* Watching a running sandbox: output, stdin, replies from init, the timeout. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "bridle/sandbox.h"

struct bridle__supervise {
        const bridle_run_opts *opts;
        uint64_t timeout_ms; /* 0: none */
        uint64_t t0_ms;
        uint64_t t0_us;      /* for debug timings */
        int pidfd;           /* bridle-init */
        int sock;            /* replies from init */
        int out, err;        /* read ends, non-blocking */
        int in_w;            /* write end of the sandbox's stdin, or -1; closed here */
};

/* Run until init is gone and output drained; fill res. Returns 0, or a
 * negative code when the sandbox could not be made (setup error). */
int bridle__supervise(struct bridle__supervise *sv, bridle_run_result *res, bridle_error *err);
/* Reap pid if it is still ours (after a SIGKILL). */
int bridle__supervise_reap(pid_t pid);
