/* SPDX-License-Identifier: MIT */
/*
 * The plan the harness hands to bridle-init: a flat list of typed records,
 * executed in order. Shared by the library (encoder) and bridle-init (decoder),
 * so it uses nothing but libc.
 *
 * Frame:  u32 magic | u32 version | u32 payload length | records...
 * Record: u16 type | u16 zero | u32 length | payload
 * Payload fields: u32/u64 little-endian (host order), strings as u32 length +
 * bytes (no NUL; NUL bytes inside are rejected).
 *
 * Replies from init to the harness are fixed-size struct bridle__init_reply.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define BRIDLE__INIT_MAGIC 0x31445242u /* "BRD1" */
#define BRIDLE__INIT_VERSION 1u
#define BRIDLE__INIT_MAX_PLAN (64u << 20)
#define BRIDLE__INIT_MAX_FDS 64
#define BRIDLE__INIT_MAX_STR 4096u

enum bridle__op {
        BRIDLE__OP_MODE = 1,     /* u32 mode (enum bridle_isolation) */
        BRIDLE__OP_HOSTNAME,     /* str */
        BRIDLE__OP_TMPFS,        /* u64 size, u32 mode, str path */
        BRIDLE__OP_BIND,         /* i32 fd index (-1: use src), u32 flags, str src, str dst */
        BRIDLE__OP_SYMLINK,      /* str target, str path */
        BRIDLE__OP_MKDIR,        /* u32 mode, str path */
        BRIDLE__OP_FILE,         /* u32 mode, str path, str bytes */
        BRIDLE__OP_COPY,         /* i32 fd index, u32 mode, str path */
        BRIDLE__OP_PROC,         /* str path */
        BRIDLE__OP_DEV,          /* str path */
        BRIDLE__OP_REMOUNT_RO,   /* str path: read-only, nosuid, nodev, recursive (after the pivot) */
        BRIDLE__OP_ENV,          /* str NAME=VALUE */
        BRIDLE__OP_ARG,          /* str */
        BRIDLE__OP_CWD,          /* str */
        BRIDLE__OP_RLIMIT,       /* u32 resource, u64 value */
        BRIDLE__OP_NET,          /* u32 enum bridle_net */
        BRIDLE__OP_LANDLOCK,     /* u64 access mask, str path */
        BRIDLE__OP_NEWROOT,      /* str: host directory to build the root on (hides what is under it) */
        BRIDLE__OP_SERVE,        /* i32 fd index of a listening socket: serve requests, run nothing */
        /* Fields of wire frames (wire.h), in the same record encoding: */
        BRIDLE__OP_TIMEOUT,      /* u64 milliseconds */
        BRIDLE__OP_DATA,         /* u32 stream (1 stdout, 2 stderr), bytes */
        BRIDLE__OP_STATUS,       /* i32 wait status, u64 cpu us, u64 max rss kB, u32 timed out */
        BRIDLE__OP_ERROR,        /* i32 -errno or BRIDLE_E_*, u32 is-exec-failure, str message */
        BRIDLE__OP_BUILTIN,      /* str: run init's file operation instead of exec'ing argv */
        BRIDLE__OP_OVERLAY,      /* i32 fd index (-1: use the host path), u64 fallback tmpfs size,
                                  * u32 n lower layers (1..32), str host dir holding l0/ .. l<n-1>/
                                  * (topmost first), upper/, work/, str path: an overlay (userxattr)
                                  * there, else a tmpfs */
        BRIDLE__OP_TTY,          /* u32 tty (0: pipes), u32 rows, u32 cols (0: 24x80) */
        BRIDLE__OP_YIELD,        /* u64 wait ms, u64 max output bytes (0: no cap), u32 enum bridle__yield_flags */
        BRIDLE__OP_SESSION,      /* u32 session id, u32 enum bridle__session_flags */
        BRIDLE__OP_EGRESS,       /* i32 fd index of the egress proxy's directory (O_PATH), u32 port:
                                  * init's bridge listens on 127.0.0.1:port and forwards each
                                  * connection to BRIDLE_EGRESS_SOCKET in that directory */
        BRIDLE__OP_PROTECT,      /* u32 1: deny_read, 0: deny_write, str workspace path, str glob
                                  * (relative to it): applied over the workspace after its entries */
        BRIDLE__OP_MAX,
};

enum bridle__yield_flags {
        BRIDLE__YIELD_EARLY = 1u << 0,  /* answer as soon as there is output */
        BRIDLE__YIELD_NOREAD = 1u << 1, /* a write only: answer at once, leave the output */
};

enum bridle__session_flags {
        BRIDLE__SESSION_TRUNCATED = 1u << 0, /* reply: output was cut (head and tail kept) */
        BRIDLE__SESSION_EXITED = 1u << 1,    /* reply: the process exited (STATUS follows) */
        BRIDLE__SESSION_EOF = 1u << 2,       /* write request: close its stdin afterwards */
};

enum bridle__bind_flags {
        BRIDLE__BIND_RO = 1u << 0,
        BRIDLE__BIND_DEV = 1u << 1,      /* keep device nodes usable */
        BRIDLE__BIND_OPTIONAL = 1u << 2, /* skip silently if the source is missing */
        BRIDLE__BIND_DEFER = 1u << 3,    /* no attributes now: a later REMOUNT_RO covers it */
};

/* Landlock access classes for BRIDLE__OP_LANDLOCK (mapped to kernel bits in init). */
enum bridle__ll_access {
        BRIDLE__LL_READ = 1u << 0,  /* read files, list dirs */
        BRIDLE__LL_EXEC = 1u << 1,  /* execute */
        BRIDLE__LL_WRITE = 1u << 2, /* create, write, remove, rename */
        BRIDLE__LL_DEV = 1u << 3,   /* ioctl on device files */
};

enum bridle__reply_type {
        BRIDLE__REPLY_STARTED = 1, /* setup done, command started: a = its pid */
        BRIDLE__REPLY_SETUP_ERROR, /* a = -errno, text = step */
        BRIDLE__REPLY_EXEC_ERROR,  /* a = -errno, text = argv[0] */
        BRIDLE__REPLY_EXIT,        /* a = wait status, cpu_us, maxrss_kb */
};

struct bridle__init_reply {
        uint32_t type;
        int32_t a;
        uint64_t cpu_us;
        uint64_t maxrss_kb;
        char text[240];
};

/* ---- encoder (library side) ---------------------------------------------- */
typedef struct bridle__plan {
        uint8_t *buf;
        size_t len, cap;
        size_t hdr; /* bytes reserved for the header before the records */
        int fds[BRIDLE__INIT_MAX_FDS];
        int nfds;
        int oom; /* sticky: an append failed */
} bridle__plan;

void bridle__plan_init(bridle__plan *p);
/* The same record buffer for another framing (the wire): hdr bytes reserved. */
void bridle__plan_init_hdr(bridle__plan *p, size_t hdr);
void bridle__plan_release(bridle__plan *p); /* closes fds it owns */
/* Record with fields described by fmt: 'u' u32, 'i' i32, 'U' u64, 's' C string,
 * 'b' (const void *, size_t). Returns 0 or -ENOMEM/-E2BIG/-EINVAL. */
int bridle__plan_add(bridle__plan *p, enum bridle__op op, const char *fmt, ...);
/* Take an fd into the plan; returns its index or -EMFILE. */
int bridle__plan_take_fd(bridle__plan *p, int fd);
/* Finish the header; returns the total frame length, or a negative code. */
int bridle__plan_finish(bridle__plan *p);

/* ---- decoder (init side) -------------------------------------------------- */
typedef struct bridle__rec {
        uint16_t type;
        const uint8_t *p;
        uint32_t len;
} bridle__rec;

typedef struct bridle__cursor {
        const uint8_t *p;
        size_t left;
} bridle__cursor;

/* Validate a frame header; on success set *ret to the records. */
int bridle__plan_open(const uint8_t *buf, size_t len, bridle__cursor *ret);
/* Next record: 1 got one, 0 end, negative malformed. */
int bridle__plan_next(bridle__cursor *c, bridle__rec *ret);
/* Field readers over a record's payload: 0 or -EBADMSG. Strings are copied into
 * out (cap bytes incl. NUL); 'b' fields are returned as pointer + length. */
int bridle__rec_u32(bridle__cursor *c, uint32_t *ret);
int bridle__rec_u64(bridle__cursor *c, uint64_t *ret);
int bridle__rec_str(bridle__cursor *c, char *out, size_t cap);
int bridle__rec_bytes(bridle__cursor *c, const uint8_t **ret, uint32_t *ret_len);
