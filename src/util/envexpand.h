/* SPDX-License-Identifier: MIT */
/*
 * ${NAME} in a value from a file (an HTTP header, an MCP server's
 * environment), filled in from this process's environment when it is used,
 * so credentials stay out of agent files and out of the journal.
 */
#pragma once

#include "bridle/common.h"

#define BRIDLE__ENV_EXPAND_MAX 65536 /* bytes of a filled-in value */

/* *ret (malloc'd): in with each ${NAME} replaced by $NAME's value; "$" alone
 * and "${" without "}" stay as they are. Errors name what as the value's
 * name: BRIDLE_E_INVALID for an empty or over-long name or a variable that
 * is not set, BRIDLE_E_LIMIT for a result over BRIDLE__ENV_EXPAND_MAX. */
int bridle__env_expand(const char *what, const char *in, char **ret, bridle_error *err);
