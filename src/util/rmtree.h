/* SPDX-License-Identifier: MIT */
/* rm -rf below a directory fd, without following symlinks. */
#pragma once

/* Remove dirfd/name and everything under it. Never follows a symlink; a
 * directory that cannot be entered is made 0700 first. Bounded in depth (512)
 * and steps; best effort: what cannot be removed stays. */
void bridle__rm_tree(int dirfd, const char *name);
