/* SPDX-License-Identifier: MIT */
/*
 * bridle sandbox: run a command tree in kernel isolation.
 *
 * A spec describes what the sandbox holds (workspace, binds, files, environment,
 * limits, network). bridle_sandbox_run() builds the sandbox, runs one command in
 * it, waits, and tears everything down: no process, mount, cgroup or fd of the
 * sandbox outlives the call.
 *
 * Ownership: a spec owns copies of every string passed to its setters. A run
 * result owns its buffers; release them with bridle_run_result_release().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bridle/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bridle_sandbox_spec bridle_sandbox_spec;

enum bridle_net {
        BRIDLE_NET_NONE = 0,     /* an empty network namespace */
        BRIDLE_NET_LOOPBACK = 1, /* a network namespace with only lo, up */
        /* lo up, and the one way out: an HTTP(S) proxy in the harness, reached
         * through a bridge on 127.0.0.1:3128 inside (see "Network egress"
         * below and docs/egress.md). Needs bridle_sandbox_spec_set_egress(). */
        BRIDLE_NET_ALLOWLIST = 2,
};

enum bridle_isolation {
        BRIDLE_ISOLATION_NAMESPACES = 0, /* the full sandbox (default) */
        BRIDLE_ISOLATION_LANDLOCK = 1,   /* Landlock + seccomp + rlimits, no namespaces */
};

enum bridle_bind_flags {
        BRIDLE_BIND_RO = 1u << 0, /* read-only (locked: no remount, no umount inside) */
};

/* Limits; 0 means "not set". Setting merges: only non-zero fields override. */
typedef struct bridle_limits {
        uint64_t timeout_ms; /* wall clock for the whole process tree */
        uint64_t memory;     /* bytes, cgroup (v2, else v1) */
        uint64_t pids;       /* tasks, cgroup (v2, else v1); RLIMIT_NPROC fallback */
        uint64_t cpu_s;      /* RLIMIT_CPU seconds */
        uint64_t disk;       /* bytes: size of each tmpfs, and RLIMIT_FSIZE */
} bridle_limits;

BRIDLE_EXPORT bridle_sandbox_spec *bridle_sandbox_spec_new(void);
BRIDLE_EXPORT bridle_sandbox_spec *bridle_sandbox_spec_free(bridle_sandbox_spec *spec);

/* Host directory used read-write as the workspace; NULL (default) means a fresh
 * private tmpfs that disappears with the sandbox. */
BRIDLE_EXPORT int bridle_sandbox_spec_set_workspace(bridle_sandbox_spec *spec, const char *host_dir,
                                                    bridle_error *err);
/* The workspace's path inside the sandbox (default "/workspace"). */
BRIDLE_EXPORT int bridle_sandbox_spec_set_root(bridle_sandbox_spec *spec, const char *path,
                                               bridle_error *err);
/* Bind host path at an absolute sandbox path (flags: enum bridle_bind_flags). */
BRIDLE_EXPORT int bridle_sandbox_spec_add_bind(bridle_sandbox_spec *spec, const char *host,
                                               const char *path, unsigned flags,
                                               bridle_error *err);
/* A file with the given bytes, created before the command starts. path is
 * absolute, or relative to the workspace. mode: permission bits (0 means 0644;
 * setuid, setgid and sticky bits are refused). */
BRIDLE_EXPORT int bridle_sandbox_spec_add_file(bridle_sandbox_spec *spec, const char *path,
                                               const void *data, size_t len, unsigned mode,
                                               bridle_error *err);
/* An empty directory (parents created). */
BRIDLE_EXPORT int bridle_sandbox_spec_add_dir(bridle_sandbox_spec *spec, const char *path,
                                              bridle_error *err);
/* A copy of a host file (opened by the caller's process, so its permissions apply). */
BRIDLE_EXPORT int bridle_sandbox_spec_add_copy(bridle_sandbox_spec *spec, const char *path,
                                               const char *host_file, bridle_error *err);
/* Set NAME=VALUE; a later call for the same name wins. */
BRIDLE_EXPORT int bridle_sandbox_spec_set_env(bridle_sandbox_spec *spec, const char *name,
                                              const char *value, bridle_error *err);
BRIDLE_EXPORT int bridle_sandbox_spec_set_cwd(bridle_sandbox_spec *spec, const char *path,
                                              bridle_error *err);
BRIDLE_EXPORT void bridle_sandbox_spec_set_net(bridle_sandbox_spec *spec, enum bridle_net net);
/* The host directory where an egress proxy (bridle_egress_start) listens, or
 * NULL to clear. Non-NULL also sets the network to BRIDLE_NET_ALLOWLIST.
 * Nothing is mounted: the harness opens the directory and init keeps the fd
 * for the bridge only; the directory must stay (the proxy may be restarted
 * in it). Namespaces isolation only (landlock mode is refused when the
 * sandbox is made). */
BRIDLE_EXPORT int bridle_sandbox_spec_set_egress(bridle_sandbox_spec *spec, const char *socket_dir,
                                                 bridle_error *err);
/* A path rule, enforced inside the sandbox (docs/sandbox.md, "Path rules"):
 * glob is relative to the workspace ("**" is any number of components, a
 * pattern also covers what is below what it names, and a trailing "**"
 * component matches the directory itself too). deny_read false (deny_write): what matches is bound
 * over itself read-only; true (deny_read): a matching directory is covered by an empty read-only
 * tmpfs, a matching file by an unopenable node. The mounts are made when the sandbox starts, over
 * what exists then (a path created later is not covered), and are locked: a command cannot remove
 * them. The sandbox's file operations (read, list, search, write, patch) also refuse matching
 * paths, naming the rule. Namespaces isolation only (landlock mode is refused when the sandbox is
 * made). At most 256 rules. */
BRIDLE_EXPORT int bridle_sandbox_spec_protect(bridle_sandbox_spec *spec, const char *glob,
                                              bool deny_read, bridle_error *err);
BRIDLE_EXPORT void bridle_sandbox_spec_set_isolation(bridle_sandbox_spec *spec,
                                                     enum bridle_isolation iso);
BRIDLE_EXPORT void bridle_sandbox_spec_set_limits(bridle_sandbox_spec *spec,
                                                  const bridle_limits *limits);

/* How a run is wired to the caller. */
typedef struct bridle_run_opts {
        const char *const *argv; /* NULL-terminated, argv[0] looked up in the sandbox's PATH */
        bool capture;            /* capture stdout/stderr into the result instead of streaming */
        size_t max_output;       /* with capture: per-stream cap, head and tail kept (0: 1 MiB) */
        int stdin_fd;            /* relayed into the sandbox; -1 or a terminal: /dev/null */
        int stdout_fd;           /* without capture: where stdout goes (relayed, never passed) */
        int stderr_fd;           /* without capture: where stderr goes */
        const char *init_path;   /* bridle-init to use; NULL: look it up */
} bridle_run_opts;

typedef struct bridle_run_result {
        int status;       /* the exit-status contract: code, 128+N, 124, 126, 127 */
        int exit_code;    /* -1 if it died of a signal */
        int signal;       /* 0 if it exited */
        bool timed_out;
        char *stdout_buf; /* with capture: NUL-terminated, may hold NULs */
        size_t stdout_len;
        bool stdout_truncated;
        char *stderr_buf;
        size_t stderr_len;
        bool stderr_truncated;
        uint64_t wall_ms;
        uint64_t cpu_ms;
        uint64_t max_rss_kb;
        char **warnings; /* NULL-terminated: limits that fell back or are not enforced */
        char *exec_error; /* why the command could not start (126/127), or NULL */
} bridle_run_result;

/* Run argv in a fresh sandbox built from spec, wait for it and tear it down.
 * Returns 0 when the command ran (whatever its exit status, see ret->status),
 * or a negative code when the sandbox could not be made (CLI exit 125). */
BRIDLE_EXPORT int bridle_sandbox_run(const bridle_sandbox_spec *spec, const bridle_run_opts *opts,
                                     bridle_run_result *ret, bridle_error *err);
BRIDLE_EXPORT void bridle_run_result_release(bridle_run_result *res);

/*
 * Living sandboxes (issue 3, first part). A sandbox made with
 * bridle_sandbox_create() outlives the call: its init serves requests on a
 * socket under $BRIDLE_HOME (default ~/.local/share/bridle), reachable only by
 * its owner, until bridle_sandbox_destroy(). Ids are 12 hex characters; a name
 * given at creation can be used wherever an id is.
 */

/* Make a living sandbox from spec. name may be NULL. *ret_id (caller frees)
 * names it. Fails with BRIDLE_E_SANDBOX (and the step) if it cannot be made. */
BRIDLE_EXPORT int bridle_sandbox_create(const bridle_sandbox_spec *spec, const char *name,
                                        char **ret_id, bridle_error *err);

typedef struct bridle_exec_opts {
        const char *const *argv;  /* NULL-terminated */
        const char *cwd;          /* NULL: the workspace; relative: under the workspace */
        const char *const *env;   /* NULL-terminated "NAME=VALUE" added for this command, or NULL */
        uint64_t timeout_ms;      /* 0: none. The command's whole process tree is killed */
        bool capture;             /* capture into the result instead of streaming */
        size_t max_output;        /* with capture: per-stream cap (0: 1 MiB), head and tail kept */
        int stdout_fd, stderr_fd; /* without capture: where output goes */
} bridle_exec_opts;

/* Run a command in a living sandbox and wait for it. ret follows the
 * exit-status contract of bridle_sandbox_run (status, exit_code, signal,
 * timed_out, output, wall_ms, cpu_ms, max_rss_kb). An unknown or dead sandbox
 * is -ENOENT / -ECONNREFUSED with a message naming it. */
BRIDLE_EXPORT int bridle_sandbox_exec(const char *id, const bridle_exec_opts *opts,
                                      bridle_run_result *ret, bridle_error *err);

/* File operations inside a living sandbox, with the rights a command has there
 * (so the kernel's mount view and the sandbox's walls decide, not string
 * checks). Relative paths are relative to the workspace. */
/* A file's bytes (at most 64 MiB); *ret_data (caller frees) is NUL-terminated. */
BRIDLE_EXPORT int bridle_sandbox_read(const char *id, const char *path, char **ret_data,
                                      size_t *ret_len, bridle_error *err);
/* Create or replace a file (parents created), at most 15 MiB per call. */
BRIDLE_EXPORT int bridle_sandbox_write(const char *id, const char *path, const void *data,
                                       size_t len, bridle_error *err);

/* apply_patch inside (see bridle/patch.h for the grammar and the rules on paths),
 * relative to the workspace. *ret_summary (may be NULL; caller frees) gets the
 * "A path\nM path\nD path\n" lines. A patch that does not apply is
 * BRIDLE_E_INVALID with the reason. */
BRIDLE_EXPORT int bridle_sandbox_patch(const char *id, const char *text, size_t len,
                                       char **ret_summary, bridle_error *err);

/* Lines matching a POSIX extended regular expression under path (a file or a
 * directory; relative: under the workspace), as "path:line:text\n" like grep -rn.
 * Binary files and files over 8 MiB are skipped; after 1,000 matches a last
 * line says there were more. *ret_hits (caller frees) may be empty. A bad
 * pattern is BRIDLE_E_INVALID. */
BRIDLE_EXPORT int bridle_sandbox_search(const char *id, const char *path, const char *pattern,
                                        char **ret_hits, bridle_error *err);

typedef struct bridle_dir_entry {
        char name[256];
        char type;     /* 'f' file, 'd' directory, 'l' symlink, 'o' other */
        uint64_t size;
        unsigned mode; /* permission bits */
} bridle_dir_entry;

/* A directory's entries, sorted by name. *ret is a caller-freed array. */
BRIDLE_EXPORT int bridle_sandbox_list_dir(const char *id, const char *path, bridle_dir_entry **ret,
                                          size_t *ret_n, bridle_error *err);

/* Kill the sandbox and remove everything it had: processes, mounts, cgroups,
 * its socket and state directory. */
BRIDLE_EXPORT int bridle_sandbox_destroy(const char *id, bridle_error *err);

typedef struct bridle_sandbox_info {
        char id[16];
        char name[64];
        int64_t created;  /* unix seconds */
        bool alive;
} bridle_sandbox_info;

/* Living sandboxes of this user, oldest first. *ret is a caller-freed array. */
BRIDLE_EXPORT int bridle_sandbox_list_all(bridle_sandbox_info **ret, size_t *ret_n, bridle_error *err);

/* Snapshots of living sandboxes, kept as $BRIDLE_HOME/snapshots/<id>.tar.zst
 * (format: docs/snapshot.md). A sandbox without --workspace has an overlay
 * /workspace, and a snapshot is its upper layer: what changed since the
 * sandbox started (deletions included), on top of the snapshot it was
 * restored from, if any (its parent, in <id>.parent). Where overlay could not
 * be mounted it is a full archive of /workspace. The sandbox is frozen while
 * the archive is written. *ret_snapshot_id is the caller's to free. */
BRIDLE_EXPORT int bridle_sandbox_snapshot(const char *id, const char *label, char **ret_snapshot_id,
                                          bridle_error *err);
/* The same, without flushing the archive to the disk (no fsync): it
 * survives the caller's crash, not necessarily the machine's. A run's
 * checkpoints use it (they are as durable as the journal's events, and a
 * run falls back to an earlier checkpoint when one is missing or corrupt). */
BRIDLE_EXPORT int bridle_sandbox_checkpoint(const char *id, const char *label,
                                            char **ret_snapshot_id, bridle_error *err);
/* A new living sandbox made with the spec the snapshotted sandbox was made
 * with (its limits, network, environment and binds, recorded in the
 * snapshot; defaults for snapshots that hold none), whose workspace is the
 * snapshot's: files, modes, symlinks, empty directories and deletions exactly
 * as they were (the spec's file/dir/local_file entries are not applied
 * again). A bind whose host source is gone, or a corrupt or truncated
 * snapshot, is refused and nothing is left behind. *ret_id is the caller's
 * to free. */
BRIDLE_EXPORT int bridle_sandbox_restore(const char *snapshot_id, const char *name, char **ret_id,
                                         bridle_error *err);
/* The same, but made with spec (its limits, network, egress, environment,
 * binds and path rules; its file, dir and copy entries and host workspace
 * are not applied: the snapshot's layers hold the workspace). A run's
 * rehydration uses it: the sandbox is what the run's manifest and policy
 * make, whatever the snapshotted sandbox recorded. */
BRIDLE_EXPORT int bridle_sandbox_restore_with(const char *snapshot_id,
                                              const bridle_sandbox_spec *spec, const char *name,
                                              char **ret_id, bridle_error *err);

typedef struct bridle_snapshot_info {
        char id[65];
        char label[256];
        int64_t created; /* unix seconds */
        uint64_t size;   /* archive bytes */
        bool full;       /* a whole workspace rather than an overlay layer */
        bool in_use;     /* a sandbox or a later snapshot builds on it (prune keeps it) */
        char parent[65]; /* the snapshot this one is a change on top of, or empty */
} bridle_snapshot_info;

/* Snapshots, oldest first. *ret is a caller-freed array. */
BRIDLE_EXPORT int bridle_sandbox_snapshots(bridle_snapshot_info **ret, size_t *ret_n, bridle_error *err);
/* Delete snapshots created days days ago or earlier, except those a sandbox
 * or a remaining snapshot builds on; *ret_removed (may be NULL) counts them. */
BRIDLE_EXPORT int bridle_sandbox_snapshots_prune(unsigned days, size_t *ret_removed, bridle_error *err);
/* Delete one snapshot: its archive, its <id>.parent and its cached layer.
 * -EBUSY (the message says what) when another snapshot or a living sandbox
 * builds on it; -ENOENT when there is no such snapshot. */
BRIDLE_EXPORT int bridle_sandbox_snapshot_delete(const char *snapshot_id, bridle_error *err);

/*
 * Sessions: commands that outlive the call, in a pty or with pipes. This is
 * the exec_command + write_stdin pair of OpenAI's sandbox agents. A session
 * belongs to the sandbox, not to the caller: any process may write to it or
 * kill it by id until its exit has been reported once. At most 64 live
 * sessions per sandbox (-EAGAIN beyond). Between two reads init keeps at most
 * 1 MiB of a session's output (head and tail, the cut marked); a reply holds
 * at most max_output_tokens*4 bytes of it (head and tail, marked
 * "[... N bytes cut ...]", output_truncated set). stdout and stderr come
 * together. A pty session's process has the terminal as its controlling
 * terminal (its name does not resolve inside: there is no /dev/pts).
 */
typedef struct bridle_command_opts {
        const char *const *argv;  /* NULL-terminated, or NULL to use cmd */
        const char *cmd;          /* a shell command line: runs as /bin/bash -lc CMD */
        const char *workdir;      /* NULL: the workspace; relative: under it */
        const char *const *env;   /* NULL-terminated "NAME=VALUE" added, or NULL */
        bool tty;                 /* a pty (echo, line editing, job control) instead of pipes */
        unsigned rows, cols;      /* with tty: window size (0: 24 rows, 80 columns) */
        uint64_t yield_time_ms;   /* how long to collect output (0: 10000; at most 300000);
                                   * the call returns early when the process exits */
        size_t max_output_tokens; /* cap on the output returned, 4 bytes a token (0: 10000) */
} bridle_command_opts;

typedef struct bridle_session_result {
        int session_id;        /* for write_stdin; -1 once the process has exited */
        char *output;          /* output since the last read, NUL-terminated (caller: release) */
        size_t output_len;
        bool output_truncated; /* the middle was cut (see above) */
        bool exited;           /* then: */
        int status;            /* the exit-status contract of bridle_sandbox_run: code, 128+signal, 126/127 */
        int exit_code;         /* -1 if it died of a signal */
        int signal;            /* 0 if it exited */
        uint64_t wall_ms;      /* of this call */
} bridle_session_result;

BRIDLE_EXPORT void bridle_session_result_release(bridle_session_result *res);

/* Start a session and return what it printed within yield_time_ms (earlier if
 * it exits). */
BRIDLE_EXPORT int bridle_sandbox_exec_command(const char *id, const bridle_command_opts *opts,
                                              bridle_session_result *ret, bridle_error *err);
/* Write len bytes (may be 0: just read) to the session's stdin or terminal,
 * then return the output since the last read within yield_time_ms (0: 250).
 * An unknown or already reported session is -ENOENT. */
BRIDLE_EXPORT int bridle_sandbox_write_stdin(const char *id, int session_id, const char *chars, size_t len,
                                             uint64_t yield_time_ms, size_t max_output_tokens,
                                             bridle_session_result *ret, bridle_error *err);
/* For interactive relays (bridle sandbox shell). send: write without reading,
 * returns at once (eof: then close stdin, or type ^D on a terminal). poll: the
 * output as soon as there is any, or the exit, or nothing after timeout_ms. */
BRIDLE_EXPORT int bridle_sandbox_session_send(const char *id, int session_id, const void *data, size_t len,
                                              bool eof, bridle_error *err);
BRIDLE_EXPORT int bridle_sandbox_session_poll(const char *id, int session_id, uint64_t timeout_ms,
                                              bridle_session_result *ret, bridle_error *err);
/* A terminal's new window size (its foreground processes get SIGWINCH). */
BRIDLE_EXPORT int bridle_sandbox_session_resize(const char *id, int session_id, unsigned rows, unsigned cols,
                                                bridle_error *err);
/* Kill the session's process group and forget the session. */
BRIDLE_EXPORT int bridle_sandbox_session_kill(const char *id, int session_id, bridle_error *err);

/*
 * Network egress: the HTTP(S) proxy a BRIDLE_NET_ALLOWLIST sandbox reaches.
 * It runs in a thread of the calling process and listens on a Unix socket,
 * BRIDLE_EGRESS_SOCKET in its directory. It speaks HTTP/1.1 proxy: CONNECT
 * host:port is tunnelled (TLS is never intercepted) and absolute-URI requests
 * (http://host/path) are forwarded, one request per connection (the proxy
 * sends "Connection: close" both ways). A host must pass the caller's
 * predicate; names are resolved here and any loopback, private, link-local,
 * shared (100.64/10), multicast or unspecified address is refused whatever
 * the name (IPv4-mapped IPv6 included). Refusals get 403 with a text body;
 * resolution and connection failures 502. Every connection is reported.
 * The library never prints.
 */
#define BRIDLE_EGRESS_SOCKET "proxy.sock"
#define BRIDLE_EGRESS_PORT 3128 /* the bridge's port on 127.0.0.1 inside the sandbox */

typedef struct bridle_egress bridle_egress;

/* One connection, as it ended (or was refused). Strings are borrowed for the
 * callback's duration. */
typedef struct bridle_egress_conn {
        const char *method;  /* "CONNECT", "GET", ...; "" if no request could be read */
        const char *host;    /* as asked (lower case), "" if none */
        unsigned port;
        const char *address; /* the address connected to ("" if none) */
        uint64_t bytes_up;   /* bytes sent to the origin (request head included for plain HTTP) */
        uint64_t bytes_down; /* bytes received from the origin */
        bool allowed;        /* a connection to the origin was made */
        int status;          /* the proxy's own answer: 200 CONNECT established, 403, 502, 400...;
                              * 0 for a forwarded plain request (the origin answered) */
        const char *reason;  /* why refused or failed ("host not in the allowlist",
                              * "private address 10.0.0.1", ...); "" when allowed */
        uint64_t ms;         /* duration */
} bridle_egress_conn;

typedef bool (*bridle_egress_allow_fn)(void *userdata, const char *host);
/* Called from the proxy's threads, possibly concurrently: make it thread-safe. */
typedef void (*bridle_egress_report_fn)(void *userdata, const bridle_egress_conn *conn);

typedef struct bridle_egress_opts {
        /* Where to listen. The directory is made (0711) if missing; the socket
         * (0666: reachable only by those who can reach the directory, so keep
         * it inside a private directory) replaces a stale one. NULL: a fresh
         * private directory under $TMPDIR (removed by bridle_egress_stop). */
        const char *dir;
        /* Which hosts may be reached: allow(allow_data, host) when set, else
         * allow_hosts (NULL-terminated; "example.org" exactly, "*.example.org"
         * its subdomains, not itself; case-insensitive). Neither: nothing. */
        bridle_egress_allow_fn allow;
        void *allow_data;
        const char *const *allow_hosts;
        bridle_egress_report_fn report; /* may be NULL */
        void *report_data;
        /* TESTS ONLY: "host=IP:PORT[,host=IP:PORT...]". A mapped host (still
         * subject to the allow check) is connected to IP:PORT instead of its
         * name, without DNS and WITHOUT the private-range refusal (so a local
         * server can stand in for an allowed domain). The port asked for is
         * ignored for mapped hosts. Never set it from untrusted input: the
         * CLI takes it from BRIDLE_EGRESS_TEST_MAP only when BRIDLE_TESTING=1. */
        const char *test_map;
        uint64_t idle_timeout_ms;       /* a connection with no traffic this long is closed (0: 300 s) */
        unsigned max_connections;       /* at once; more are answered 503 (0: 256) */
} bridle_egress_opts;

/* Listen and serve in a new thread. *ret (free with bridle_egress_stop). */
BRIDLE_EXPORT int bridle_egress_start(const bridle_egress_opts *opts, bridle_egress **ret,
                                      bridle_error *err);
/* The directory holding the socket (for bridle_sandbox_spec_set_egress). */
BRIDLE_EXPORT const char *bridle_egress_dir(const bridle_egress *e);
/* Stop accepting, close every connection (their reports are made), join the
 * threads, remove the socket (and the directory if the proxy made a temporary
 * one). Returns NULL. */
BRIDLE_EXPORT bridle_egress *bridle_egress_stop(bridle_egress *e);
/* Does host match the list ("*.x": subdomains of x)? Case-insensitive; a
 * trailing dot is ignored. */
BRIDLE_EXPORT bool bridle_egress_host_listed(const char *const *list, const char *host);

/* Parse "256M", "1G", "4096" into bytes (K, M, G, T; powers of 1024). */
BRIDLE_EXPORT int bridle_parse_size(const char *s, uint64_t *ret, bridle_error *err);

#ifdef __cplusplus
}
#endif
