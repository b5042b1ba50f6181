/* SPDX-License-Identifier: MIT */
/*
 * MCP (docs/mcp.md): bridle as an MCP server. `bridle mcp serve` exposes a
 * living sandbox to any MCP client over stdio (newline-delimited JSON-RPC
 * 2.0): the tools exec_command, write_stdin, read_file, write_file,
 * list_dir, search, apply_patch, snapshot and restore, each call decided by
 * the gateway's policy first. Calls the policy asks about are sent to the
 * client as elicitation requests when it declared the capability, and
 * refused otherwise.
 *
 * The sandbox is made from the manifest on the first tools/call and
 * destroyed when the server returns; restore replaces it.
 */
#pragma once

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

#ifdef __cplusplus
}
#endif
