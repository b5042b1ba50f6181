/* SPDX-License-Identifier: MIT */
/* Private to src/guard/. */
#pragma once

#include <stddef.h>

#include "guard/guard.h"

/* Receives findings in increasing start order, never overlapping. Returns 0
 * to go on, < 0 to stop the scan with that code. */
typedef int (*guard_sink_fn)(void *ud, enum bridle__secret_kind kind, size_t start, size_t end);

/* The built-in detectors over the whole text (detect.c). */
int bridle__detect_secrets(const unsigned char *t, size_t n, guard_sink_fn sink, void *ud);

/* Shannon entropy of n bytes, in bits per byte. */
double bridle__entropy(const unsigned char *t, size_t n);

/* A command guardrail's run (command.c): fills verdict reason and tripped. */
struct guard_command {
        char **argv; /* NULL-terminated */
        int timeout_ms;
};
int bridle__guard_run_command(const struct guard_command *cmd, const char *kind, const char *text,
                              size_t len, bool *ret_deny, char *reason, size_t reason_size,
                              bridle_error *err);
