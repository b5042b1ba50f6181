/* SPDX-License-Identifier: MIT */
/*
 * The wire between a harness and a living sandbox's init (issue 3): frames on a
 * stream socket. libc only, so bridle-init links it too.
 *
 * Frame:   u32 magic "BDW1" | u16 version | u16 type | u32 request id | u32 payload length
 *          | payload (records in the plan's encoding, see initproto.h)
 * A frame whose magic, version or type is wrong, or whose payload is over
 * BRIDLE__WIRE_MAX, is a protocol error: the reader says so and the connection
 * is closed (after an ERROR frame where the peer can still read one).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sandbox/initproto.h"

#define BRIDLE__WIRE_MAGIC 0x31574442u /* "BDW1" */
#define BRIDLE__WIRE_VERSION 1u
#define BRIDLE__WIRE_HDR 16u
#define BRIDLE__WIRE_MAX (16u << 20) /* payload cap */

/* Message types. Requests come from the harness; replies carry the request's id. */
enum bridle__msg {
        BRIDLE__MSG_HELLO = 1, /* both ways: u32 version, str peer name */
        BRIDLE__MSG_ERROR,     /* i32 -errno or BRIDLE_E_*, str message */
        BRIDLE__MSG_OK,        /* a request done; fields depend on the request */
        BRIDLE__MSG_EXEC,      /* start a command */
        BRIDLE__MSG_OUTPUT,    /* u32 stream (1 stdout, 2 stderr), bytes */
        BRIDLE__MSG_STDIN,     /* bytes; empty: close stdin */
        BRIDLE__MSG_SIGNAL,    /* u32 signal */
        BRIDLE__MSG_EXIT,      /* i32 wait status, u64 cpu us, u64 max rss kB */
        BRIDLE__MSG_READ,      /* str path */
        BRIDLE__MSG_WRITE,     /* str path, bytes */
        BRIDLE__MSG_LIST,      /* str path */
        BRIDLE__MSG_SEARCH,    /* str path, str pattern */
        BRIDLE__MSG_PATCH,     /* bytes: apply_patch text */
        BRIDLE__MSG_QUIESCE,   /* freeze for a snapshot; OK when quiet */
        /* Sessions (init/session.c): commands that outlive the request. Replies are OK
         * frames with SESSION (id, flags), DATA (stream 1: output since the last read),
         * and STATUS / ERROR once the process has exited. */
        BRIDLE__MSG_SESSION_START,  /* ARG, ENV, CWD as EXEC; TTY; YIELD */
        BRIDLE__MSG_SESSION_WRITE,  /* SESSION; DATA (stream 0, bytes to its stdin); YIELD */
        BRIDLE__MSG_SESSION_KILL,   /* SESSION: kill it and free it; OK */
        BRIDLE__MSG_SESSION_RESIZE, /* SESSION; TTY (rows, cols); OK */
        BRIDLE__MSG_MAX,
};

struct bridle__frame {
        uint16_t type;
        uint32_t id;
        const uint8_t *payload; /* valid until the next bridle__wire_next/feed */
        uint32_t len;
};

/* ---- writing: a frame is a plan buffer with a 16-byte header ---------------- */
/* Start a frame in p (initialised here); add records with bridle__plan_add(). */
void bridle__wire_begin(bridle__plan *p);
/* Write the header; returns the frame's total length or a negative code
 * (-EMSGSIZE past the cap, or the plan's sticky error). */
int bridle__wire_finish(bridle__plan *p, enum bridle__msg type, uint32_t id);

/* ---- reading: an incremental reader over a byte stream ---------------------- */
struct bridle__wire_reader {
        uint8_t *buf;
        size_t len, cap, off; /* bytes [off, len) are unread */
        int broken;           /* sticky protocol error */
};

void bridle__wire_reader_init(struct bridle__wire_reader *r);
void bridle__wire_reader_release(struct bridle__wire_reader *r);
/* Append bytes as they came from the socket: 0, -ENOMEM, or the sticky error. */
int bridle__wire_feed(struct bridle__wire_reader *r, const void *data, size_t n);
/* 1 and a frame, 0 when more bytes are needed, or a negative protocol error
 * (-EPROTO bad magic/version/type, -EMSGSIZE too large), after which the
 * reader stays broken and the connection must be closed. */
int bridle__wire_next(struct bridle__wire_reader *r, struct bridle__frame *ret);
/* A cursor over a frame's records, for bridle__plan_next() and the field readers. */
void bridle__wire_records(const struct bridle__frame *f, bridle__cursor *ret);
