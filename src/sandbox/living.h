/* SPDX-License-Identifier: MIT */
/* Living sandboxes' state under $BRIDLE_HOME (living.c). */
#pragma once

#include <stddef.h>

#include "bridle/sandbox.h"

/* $BRIDLE_HOME, or ~/.local/share/bridle. */
int bridle__home(char *out, size_t cap, bridle_error *err);
/* An id or a name -> the 12-character id. */
int bridle__sandbox_resolve(const char *ref, char out[16], bridle_error *err);
/* Connect to a living sandbox's socket (it must be alive). Returns the fd. */
int bridle__sandbox_connect(const char *id, bridle_error *err);
