/* SPDX-License-Identifier: MIT */
/* Internal error and log helpers. */
#pragma once

#include "bridle/common.h"

/* Fill err (may be NULL) and return code. */
int bridle__err(bridle_error *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Prefix an existing message: "what: old message". Returns err->code. */
int bridle__err_prefix(bridle_error *err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

void bridle__log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
