/* SPDX-License-Identifier: MIT */
/*
 * MCP (docs/mcp.md): bridle as an MCP server. `bridle mcp serve` exposes a
 * living sandbox to any MCP client over stdio (newline-delimited JSON-RPC
 * 2.0) or streamable HTTP (bridle_mcp_serve_http): the tools exec_command, write_stdin, read_file, write_file,
 * list_dir, search, apply_patch, snapshot and restore, each call decided by
 * the gateway's policy first. Calls the policy asks about are sent to the
 * client as elicitation requests when it declared the capability, and
 * refused otherwise.
 *
 * The sandbox is made from the manifest (and the policy's path rules and
 * network allowlist) on the first tools/call and destroyed when the server
 * returns; restore replaces it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bridle/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bridle_mcp_serve_opts {
        int in_fd;                 /* JSON-RPC messages from the client, one per line */
        int out_fd;                /* ours to it */
        const char *manifest_path; /* NULL: an empty workspace */
        const char *policy_path;   /* NULL: the built-in policy (docs/gateway.md) */
        uint32_t elicit_timeout_ms; /* how long an approval may take; 0: 10 minutes */
        /* Non-NULL: serving ends (0, the sandbox destroyed) once *stop is
         * non-zero, e.g. set by a SIGTERM handler. Checked between messages,
         * at least every 250 ms while waiting for one; a tool call that is
         * running finishes first (exec_command within its yield_time_ms). */
        const volatile int *stop;
} bridle_mcp_serve_opts;

/* Serve until the client closes in_fd (0), or *o->stop is set (0), or a write to out_fd fails, or
 * the manifest or policy cannot be loaded (checked before anything is read;
 * BRIDLE_E_INVALID with FILE:LINE:COL). Nothing is printed. */
BRIDLE_EXPORT int bridle_mcp_serve(const bridle_mcp_serve_opts *o, bridle_error *err);

/* The streamable HTTP transport (docs/mcp.md, "Streamable HTTP"): one
 * endpoint, /mcp, on addr. Each session (made by an initialize POST, named by
 * the Mcp-Session-Id header of its answer) is its own bridle_mcp_serve with its
 * own sandbox; DELETE ends it. Every request must carry
 * "Authorization: Bearer <token>" and no Origin but a loopback one. */
#define BRIDLE_MCP_IDLE_NEVER 0xffffffffu

typedef struct bridle_mcp_http_opts {
        /* manifest_path, policy_path, elicit_timeout_ms as for stdio; in_fd and
         * out_fd are not used; *stop (non-NULL) ends the whole server: every
         * session's sandbox is destroyed, then the call returns 0. */
        bridle_mcp_serve_opts serve;
        const char *addr;      /* "PORT", "HOST:PORT" or "[V6]:PORT"; NULL: "127.0.0.1:0". Port 0: any free one */
        const char *token;     /* the bearer token: required, not empty (copied) */
        unsigned max_sessions; /* sessions at a time (more: 503); 0: 8 */
        /* A session with no request in flight, no open GET stream and no
         * request for this many seconds ends (its sandbox destroyed; its id is
         * then 404): clients that vanish without DELETE do not hold sessions
         * for ever. 0: 3600; BRIDLE_MCP_IDLE_NEVER: never. */
        unsigned session_idle_s;
        /* Called once, when listening: the endpoint's URL ("http://127.0.0.1:PORT/mcp")
         * and whether the address bound is a loopback one. Valid during the call. */
        void (*on_listening)(const char *url, bool loopback, void *userdata);
        void *userdata;
} bridle_mcp_http_opts;

/* Serve over HTTP until *o->serve.stop is set (0). Fails before listening when
 * the manifest or policy does not load (BRIDLE_E_INVALID), or addr is bad or
 * cannot be bound (-EINVAL, -errno). Threads: one per connection and two per
 * session. Nothing is printed. Writes to closed sockets use MSG_NOSIGNAL, but
 * a caller should ignore SIGPIPE as for bridle_mcp_serve. */
BRIDLE_EXPORT int bridle_mcp_serve_http(const bridle_mcp_http_opts *o, bridle_error *err);

#ifdef __cplusplus
}
#endif
