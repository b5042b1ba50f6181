/* SPDX-License-Identifier: MIT */
/*
 * bridle-init: pid 1 of a sandbox. It is exec'd fresh (never a fork of the
 * harness), reads its plan from fd 3, builds the root filesystem, starts the
 * command, reaps, and reports. libc only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/initproto.h"

#define INIT_FD 3 /* the socket to the harness */
#define INIT_MAX_ARGS 4096
#define INIT_MAX_RULES 256

struct init_ll_rule {
        char *path;
        uint32_t access;
};

struct init_state {
        uint32_t mode; /* enum bridle_isolation */
        uint32_t net;
        char newroot[BRIDLE__INIT_MAX_STR];
        int fds[BRIDLE__INIT_MAX_FDS];
        int nfds;
        char **argv;
        size_t argc;
        char **envp;
        size_t envc;
        char cwd[BRIDLE__INIT_MAX_STR];
        struct { uint32_t res; uint64_t val; } rlimits[16];
        size_t n_rlimits;
        struct init_ll_rule rules[INIT_MAX_RULES];
        size_t n_rules;
        int serve_fd;     /* serve mode: the listening socket, else -1 */
        int stdio[3];     /* for the next command: fds to put on 0-2, or -1 to keep init's */
        /* For the next command: run this instead of exec'ing argv, behind the same
         * walls; its return value is the exit status (builtins.c). */
        int (*builtin)(char *const *argv, const void *data, size_t len);
        const void *builtin_data;
        size_t builtin_len;
        const char *step; /* what is being done, for error replies */
        char step_buf[2 * BRIDLE__INIT_MAX_STR + 64];
};

/* Send a reply to the harness (best effort). */
void init_reply(uint32_t type, int32_t a, uint64_t cpu_us, uint64_t maxrss, const char *text);

/* Mount ops (namespaces mode). Paths in records are sandbox paths. */
int init_fs_begin(const char *newroot);
int init_fs_op(struct init_state *st, const bridle__rec *rec);
int init_fs_finish(struct init_state *st);
/* The network namespace, made by a helper in parallel (net.c). */
struct init_net {
        pid_t pid;
        uint32_t net;
        int fd;              /* the namespace, opened by the helper */
        volatile int result; /* the helper's 0 or -errno */
};
int init_net_start(struct init_net *n, uint32_t net);
int init_net_join(struct init_net *n);

/* Start the command; returns its pid or -errno. */
int init_command_start(struct init_state *st, int *ret_exec_err_fd);
/* The walls every command shares, applied to the calling process: the nested
 * user+mount namespace (namespaces mode), no capabilities, no_new_privs,
 * Landlock, seccomp. On failure *ret_step names the step. */
int init_walls_apply(struct init_state *st, const char **ret_step);
/* In a child of a process behind init_walls_apply() (the zygote's): st->stdio,
 * a new session, st->cwd, rlimits, a Landlock domain of its own that scopes
 * signals, every other fd closed, then st->builtin or exec of st->argv. */
_Noreturn void init_command_walled(struct init_state *st, int errfd);
/* Report a failed step to init over errfd and exit (125; 126/127 for exec). */
_Noreturn void init_command_fail(int errfd, bool is_exec, int err, const char *step);

/* The zygote (zygote.c), serve mode only: a process behind the shared walls
 * that forks each EXEC's command as init's child (CLONE_PARENT). */
/* Start it (after READY); without Landlock scoping (ABI < 6) it stays off. */
void init_zygote_prepare(struct init_state *st);
/* Start the command of an EXEC request (its records: payload, len) with
 * stdio[0..2]: its pid and the exec report's fd; -ENOTCONN when the zygote
 * did not start it (none, or it could not: take the direct path); -ECHILD
 * when the zygote died or hung after reading the request (it may have started
 * it: fail the request). Waits for the zygote at most a bounded time. */
int init_zygote_spawn(struct init_state *st, const uint8_t *payload, uint32_t len, const int stdio[3],
                      int *ret_errfd);
/* init reaped pid: true if that was the zygote (a new one starts on the next exec). */
bool init_zygote_reaped(pid_t pid);
/* In the zygote's child: the EXEC request's argv, environment, cwd, builtin
 * into st (serve.c). */
int init_serve_exec_load(struct init_state *st, const uint8_t *payload, uint32_t len);

/* mkdir -p (paths.c). */
int init_mkdir_p(const char *path, mode_t mode);
int init_mkparents(const char *path);

/* Workspace entries (after the pivot) and the final read-only root. */
int init_files_op(struct init_state *st, const bridle__rec *rec);
int init_root_readonly(struct init_state *st);
int init_command_report(int fd, bool *ret_is_exec, int *ret_err, char *step, size_t cap);

/* File operations run as commands (builtins.c): argv[0] names the path. */
int init_builtin_read(char *const *argv, const void *data, size_t len);
int init_builtin_write(char *const *argv, const void *data, size_t len);
int init_builtin_list(char *const *argv, const void *data, size_t len);
int init_builtin_patch(char *const *argv, const void *data, size_t len);
int init_builtin_search(char *const *argv, const void *data, size_t len);
#define BUILTIN_INVALID 201 /* exit status: bad input (a patch that does not apply) */

/* Path rules (protect.c): collect BRIDLE__OP_PROTECT, mount over what matches
 * once the workspace is populated, and answer the file operations: the
 * matching rule's glob for path (relative to the cwd; symlinks resolved), or
 * NULL. write: deny_write rules count too; *ret_read_rule (may be NULL) tells
 * which kind matched. */
int init_protect_collect(bridle__cursor *c);
int init_protect_apply(struct init_state *st);
const char *init_protect_denied(const char *path, bool write, bool *ret_read_rule);

/* Shared by serve.c and session.c (serveutil.c). */
#include "sandbox/wire.h"
uint64_t init_now_ms(void);
int init_send_all(int fd, const uint8_t *b, size_t n);
/* Finish and send a frame built in p (released here); fd < 0 sends nothing. */
int init_send_frame(int fd, bridle__plan *p, enum bridle__msg type, uint32_t id);
void init_send_error(int fd, uint32_t id, int code, const char *msg);
/* SIGKILL pid's process group and every descendant (setsid ones too). */
void init_kill_tree(pid_t pid);
/* The command part of an EXEC or SESSION_START request: ARG, ENV, CWD records. */
#define INIT_MAX_ENV 256
struct init_cmd_req {
        char *argv[INIT_MAX_ARGS + 1];
        size_t argc;
        char *env[INIT_MAX_ENV];
        size_t envc;
        char cwd[BRIDLE__INIT_MAX_STR * 2 + 2];
};
/* Start with cwd = base_cwd. */
void init_cmd_req_begin(struct init_cmd_req *q, const char *base_cwd);
/* 0 when rec was ARG, ENV or CWD and is taken, 1 when it is another record, or -errno. */
int init_cmd_req_field(struct init_cmd_req *q, const bridle__rec *rec, const char *base_cwd);
void init_cmd_req_free(struct init_cmd_req *q);
/* base's entries not overridden by extra's, then extra's; the strings are borrowed. */
char **init_build_env(char *const *base, size_t nbase, char **extra, size_t nextra);

/* Serve mode (serve.c): answer wire requests on st->serve_fd until killed. */
_Noreturn void init_serve(struct init_state *st);
