/* SPDX-License-Identifier: MIT */
/*
 * The sandbox's seccomp filters. The BPF programs are generated at build time
 * by seccomp_gen.c (which links libseccomp) into seccomp_bpf.c, so bridle-init
 * installs them with one syscall and without libseccomp.
 *
 * Two variants:
 * - ns:       the full namespace sandbox (own network namespace, so AF_INET and
 *             AF_INET6 sockets are allowed; the namespace decides what they reach);
 * - landlock: the fallback without namespaces, where the host network is visible,
 *             so only AF_UNIX sockets are allowed (AF_INET* fail with EACCES).
 *
 * Policy (both): unknown syscalls fail with ENOSYS; dangerous ones (ptrace, bpf,
 * mount family, unshare, setns, keyctl, io_uring, ...) with EPERM; clone with
 * CLONE_NEW* flags EPERM; clone3 ENOSYS (libc falls back to clone); ioctl
 * TIOCSTI/TIOCLINUX EPERM; only the native architecture (others kill the process).
 *
 * Libc only: this header is shared by the library and bridle-init.
 */
#pragma once

#include <linux/filter.h>
#include <stddef.h>

extern const struct sock_filter bridle__seccomp_ns[];
extern const size_t bridle__seccomp_ns_len;
extern const struct sock_filter bridle__seccomp_landlock[];
extern const size_t bridle__seccomp_landlock_len;

/* Install filter f (n instructions) on the calling thread. The caller has set
 * PR_SET_NO_NEW_PRIVS (or holds CAP_SYS_ADMIN). Returns 0 or -errno. */
int bridle__seccomp_install(const struct sock_filter *f, size_t n);
