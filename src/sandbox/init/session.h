/* SPDX-License-Identifier: MIT */
/*
 * Sessions (serve mode): commands that outlive the request that started them,
 * in a pty or with pipes, for exec_command + write_stdin and `sandbox shell`.
 * They belong to the sandbox, not to a client: any client may read, write or
 * kill any session by id. serve.c polls one fd for all of them.
 */
#pragma once

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "sandbox/init/init.h"
#include "sandbox/wire.h"

#define INIT_MAX_SESSIONS 64

/* Once, before serving: returns the fd to poll for POLLIN (an epoll fd), or -errno. */
int init_session_setup(struct init_state *st);
/* The fd from setup is readable: move output and input, answer waiting clients. */
void init_session_event(void);
/* A SESSION_* request from the client on fd: true if it was one (it is answered). */
bool init_session_request(int client_fd, const struct bridle__frame *f);
/* The client on fd goes away: nothing is answered to it any more. */
void init_session_client_gone(int client_fd);
/* A child was reaped: if it is a session's process, record its end. */
void init_session_reaped(pid_t pid, int status, const struct rusage *ru);
