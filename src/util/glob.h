/* SPDX-License-Identifier: MIT */
/*
 * Workspace path globs (policy paths.deny_write / deny_read), shared by the
 * gateway and bridle-init, so libc only. A pattern and a path are relative to
 * the workspace, '/'-separated. "**" as a whole component matches any number
 * of components (zero included); other components follow fnmatch (no
 * FNM_PATHNAME needed: they never hold '/'). A pattern that ends before the
 * path does covers what is below it ("secrets" matches "secrets/key.txt"), and
 * a trailing "**" component matches the directory itself too.
 */
#pragma once

#include <stdbool.h>

bool bridle__glob_match(const char *pattern, const char *path);
