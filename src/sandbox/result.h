/* SPDX-License-Identifier: MIT */
/* The exit-status contract, shared by one-shot runs and living sandboxes' execs. */
#pragma once

#include <stdbool.h>

#include "bridle/sandbox.h"
#include "sandbox/capture.h"

/* Fill status, exit_code, signal and exec_error from what happened:
 * timed out (124), the exec failed (-errno: 127 not found, else 126, `what`
 * names the program), or a wait status (code, or 128+signal). */
int bridle__result_status(bridle_run_result *res, bool timed_out, int exec_err, const char *what,
                          int wstatus, bridle_error *err);
/* Move both captures into the result (head, cut marker, tail). */
int bridle__result_take_output(bridle_run_result *res, struct bridle__capture cap[2], bridle_error *err);
