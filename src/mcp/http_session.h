/* SPDX-License-Identifier: MIT */
/*
 * The sessions of `bridle mcp serve --http` (server_http.c, docs/mcp.md):
 * each one is a bridle_mcp_serve() in a thread over a socketpair, and a
 * router thread that reads its lines: a response goes to the stream of the
 * request with its id; the server's requests and notifications to the
 * oldest request's SSE stream still open (server.c handles one request at a
 * time, in order: the one it concerns), else the session's GET stream, else
 * a backlog the next stream to open receives.
 *
 * One mutex (hub->lock) guards every session, stream and queue; hub->cond is
 * broadcast on any change. A session's writes to its socket have their own
 * lock, never taken with hub->lock held. Functions take hub->lock themselves
 * unless marked "lock held".
 */
#pragma once

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bridle/mcp.h"

#define BRIDLE__MCP_HTTP_BACKLOG_MAX 64  /* server messages waiting for a stream */
#define BRIDLE__MCP_HTTP_PENDING_MAX 256 /* requests in flight in one session */

typedef struct bridle__mcpd_ev {
        struct bridle__mcpd_ev *next;
        char *text;
        size_t len;
} bridle__mcpd_ev;

typedef struct bridle__mcpd_hub bridle__mcpd_hub;

/* What one response carries: SSE events, or (json mode) the one response. */
typedef struct bridle__mcpd_stream {
        bridle__mcpd_hub *hub;
        unsigned ref;
        bool sse;
        bool done;   /* nothing more will come: end once the queue is sent */
        bool closed; /* its connection is gone */
        bridle__mcpd_ev *head, *tail;
        size_t off; /* bytes of head already handed out */
        unsigned idle_s;
        int conn_fd; /* SSE: its connection's socket, watched for the client leaving */
} bridle__mcpd_stream;

typedef struct bridle__mcpd_pend {
        json_t *id;
        bridle__mcpd_stream *st;
} bridle__mcpd_pend;

typedef struct bridle__mcpd_session {
        bridle__mcpd_hub *hub;
        unsigned ref;
        char id[33]; /* 128 random bits in hex */
        int fd;      /* ours */
        int peer;    /* server.c's */
        volatile int stop;
        bool dead;   /* server.c returned (its lines ended) */
        bool ending; /* bridle__mcpd_session_end() owns the teardown */
        bool serve_started, route_started;
        pthread_t serve_thr, route_thr;
        pthread_mutex_t wlock;
        bridle__mcpd_pend pend[BRIDLE__MCP_HTTP_PENDING_MAX];
        size_t npend;
        bridle__mcpd_stream *get;
        bridle__mcpd_ev *bl_head, *bl_tail;
        size_t nbl;
        unsigned long long next_event;
        int64_t last_ms; /* the last request that named it (monotonic) */
} bridle__mcpd_session;

struct bridle__mcpd_hub {
        const bridle_mcp_serve_opts *serve; /* each session's options (in_fd, out_fd, stop: its own) */
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bridle__mcpd_session **sess;
        size_t nsess, max;
        uint64_t idle_ms; /* sessions idle this long end (0: never) */
        bool stopping;
};

int bridle__mcpd_hub_init(bridle__mcpd_hub *hub, const bridle_mcp_serve_opts *serve, size_t max, uint64_t idle_ms);
/* Every session ends (its sandbox destroyed); new ones are refused. */
void bridle__mcpd_hub_stop(bridle__mcpd_hub *hub);
/* Sessions whose server ended by itself, and idle ones (nothing in flight,
 * no open GET stream, no request for hub->idle_ms), are ended and dropped. */
void bridle__mcpd_hub_reap(bridle__mcpd_hub *hub);
void bridle__mcpd_hub_release(bridle__mcpd_hub *hub);

bridle__mcpd_stream *bridle__mcpd_stream_new(bridle__mcpd_hub *hub, bool sse);
void bridle__mcpd_stream_unref(bridle__mcpd_stream *st); /* lock held */
bool bridle__mcpd_stream_open(const bridle__mcpd_stream *st); /* lock held */

/* A new session, its threads running, with a reference for the caller;
 * NULL and *ret_full when max sessions are open, NULL when stopping or out
 * of resources. */
bridle__mcpd_session *bridle__mcpd_session_new(bridle__mcpd_hub *hub, bool *ret_full);
/* A live session by id (a new reference), or NULL. */
bridle__mcpd_session *bridle__mcpd_session_get(bridle__mcpd_hub *hub, const char *id);
void bridle__mcpd_session_put(bridle__mcpd_session *s);
/* Stop its server (its sandbox destroyed), join its threads, end its streams,
 * drop it from the table. The first caller does it; later calls return. */
void bridle__mcpd_session_end(bridle__mcpd_session *s);
/* One message to its server, as a line (-EMSGSIZE over BRIDLE__RPC_LINE_MAX). */
int bridle__mcpd_session_write(bridle__mcpd_session *s, const json_t *msg);
/* st waits for the response with this id (st gains a reference): -EEXIST
 * when one with the id is waiting, -ENOSPC when too many are. An SSE stream
 * gets the backlog. */
int bridle__mcpd_session_expect(bridle__mcpd_session *s, const json_t *id, bridle__mcpd_stream *st);
/* st no longer waits (its request was not delivered). */
void bridle__mcpd_session_forget(bridle__mcpd_session *s, bridle__mcpd_stream *st);
/* st is the session's GET stream (a reference), with the backlog; one
 * that was open ends (a client reconnecting replaces its stream). */
int bridle__mcpd_session_attach_get(bridle__mcpd_session *s, bridle__mcpd_stream *st);
