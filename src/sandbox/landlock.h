/* SPDX-License-Identifier: MIT */
/*
 * Landlock, the sandbox's second wall (libc only: used by bridle-init).
 *
 * Rules name a path and access classes (enum bridle__ll_access in initproto.h:
 * READ, EXEC, WRITE, DEV); they are mapped to the kernel's rights for the ABI
 * the running kernel has (1..7). Everything the ABI can restrict is handled, so
 * whatever no rule allows is denied. Scoping (ABI 6: abstract unix sockets and
 * signals) is always on; TCP bind/connect (ABI 4) are denied with
 * BRIDLE__LL_NO_TCP.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct bridle__ll_rule {
        const char *path; /* a missing path is skipped */
        uint32_t access;  /* enum bridle__ll_access bits */
};

enum bridle__ll_flags {
        BRIDLE__LL_NO_TCP = 1u << 0, /* deny TCP bind and connect (ABI >= 4) */
};

/* The Landlock ABI version of the running kernel, 0 if unsupported or disabled. */
int bridle__landlock_abi(void);

/* Restrict the calling thread (and its future children) to rules[0..n).
 * Sets PR_SET_NO_NEW_PRIVS. Returns 0, -EOPNOTSUPP when the kernel has no
 * Landlock (the caller decides whether that is fatal), or another -errno. */
int bridle__landlock_apply(const struct bridle__ll_rule *rules, size_t n, unsigned flags);
