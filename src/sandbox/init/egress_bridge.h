/* SPDX-License-Identifier: MIT */
/*
 * The egress bridge (BRIDLE_NET_ALLOWLIST): a process init forks once the
 * sandbox's root and network namespace are built, before any command. It
 * listens on 127.0.0.1:<port> inside the sandbox's network namespace and
 * forwards each TCP connection, byte for byte, to the harness's egress proxy
 * through the proxy's Unix socket, reached through a directory fd the harness
 * passed in the plan (nothing is mounted; commands never hold that fd).
 */
#pragma once

#include "sandbox/initproto.h"

/* BRIDLE__OP_EGRESS in the plan's first pass: take the directory fd out of
 * fds (so init's bulk close leaves it) and remember the port. */
int init_egress_collect(bridle__cursor *c, int *fds, int nfds);
/* After the network namespace is joined: listen, fork the bridge, close
 * init's copies. Nothing to do (0) without BRIDLE__OP_EGRESS. */
int init_egress_start(void);
