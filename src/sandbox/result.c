/* SPDX-License-Identifier: MIT */
#include "sandbox/result.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "util/alloc.h"
#include "util/error.h"

int bridle__result_status(bridle_run_result *res, bool timed_out, int exec_err, const char *what,
                          int wstatus, bridle_error *err)
{
        res->timed_out = timed_out;
        res->exit_code = -1;
        if (timed_out) {
                res->status = 124;
                res->signal = SIGKILL;
        } else if (exec_err) {
                res->status = res->exit_code = exec_err == -ENOENT ? 127 : 126;
                char m[512];
                (void)snprintf(m, sizeof(m), "'%s': %s", what, bridle_strerror(exec_err));
                if (!(res->exec_error = bridle__strdup(m)))
                        return bridle__err(err, -ENOMEM, "result");
        } else if (WIFSIGNALED(wstatus)) {
                res->signal = WTERMSIG(wstatus);
                res->status = 128 + res->signal;
        } else {
                res->status = res->exit_code = WEXITSTATUS(wstatus);
        }
        return 0;
}

int bridle__result_take_output(bridle_run_result *res, struct bridle__capture cap[2], bridle_error *err)
{
        if (bridle__capture_take(&cap[0], &res->stdout_buf, &res->stdout_len, &res->stdout_truncated) < 0 ||
            bridle__capture_take(&cap[1], &res->stderr_buf, &res->stderr_len, &res->stderr_truncated) < 0)
                return bridle__err(err, -ENOMEM, "output");
        return 0;
}
