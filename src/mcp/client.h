/* SPDX-License-Identifier: MIT */
/*
 * The MCP client (docs/mcp.md, "Client"): an agent uses an MCP server's
 * tools. One client talks to one server over a transport:
 *
 *   - stdio (transport_stdio.c): argv spawned on the host with pipes, one
 *     JSON-RPC message per line (jsonrpc.h); its stderr is kept (the last
 *     4 KiB) for error messages; its death is reported with the exit status
 *     or the signal's name. A sandbox-session transport (the server run
 *     inside the sandbox) is another implementation of the same vtable.
 *   - streamable HTTP (transport_http.c): each message is a POST with
 *     Accept: application/json, text/event-stream; the answer is JSON or an
 *     SSE stream (several POSTs may be in flight: a server request seen in
 *     a stream is answered with another POST); Mcp-Session-Id is kept from
 *     the initialize answer; MCP-Protocol-Version is sent once negotiated;
 *     once negotiated, the GET stream is opened (Accept: text/event-stream;
 *     its server requests and notifications are read like the others;
 *     405 or any 4xx: the server offers none, not asked again; an ended or
 *     broken one is reopened with Last-Event-ID after retry: or a backoff,
 *     at most 4 times a minute); a request's answer stream that breaks or
 *     is closed before the answer is resumed with a GET and Last-Event-ID
 *     when it had event ids (3 attempts in a row that bring nothing, then
 *     an error); DELETE ends the session at close (2 s at most, 405 fine).
 *     HTTP failures of a request, and a stream that cannot be resumed,
 *     come back as JSON-RPC errors for its id; so recv() returns -EAGAIN
 *     only when no request, resumption or GET stream is left, and waits on
 *     the GET stream otherwise.
 *
 * Protocol: initialize offers 2025-11-25 and accepts an answer of
 * 2025-11-25, 2025-06-18 or 2025-03-26 (others: BRIDLE_E_PROTOCOL naming
 * it); then notifications/initialized. Responses are matched by id in any
 * order; server requests are answered (ping: {}, others: method not
 * found); notifications/tools/list_changed sets a flag the caller reads
 * with bridle__mcp_client_tools_changed() (and re-lists).
 *
 * Errors: BRIDLE_E_TOOL for a dead server (the message names the server,
 * the exit status or signal, and the stderr tail), BRIDLE_E_TIMEOUT for a
 * start-up or call time limit, BRIDLE_E_PROTOCOL for a broken peer, a
 * JSON-RPC error answer as BRIDLE_E_TOOL with its code and message.
 *
 * The library never prints or exits. Not thread-safe: one caller at a time.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "bridle/common.h"

#define BRIDLE__MCP_VERSION_LATEST "2025-11-25"
#define BRIDLE__MCP_LIST_PAGES_MAX 64       /* tools/list pages followed */
#define BRIDLE__MCP_TOOLS_MAX      4096     /* tools kept from one listing */
#define BRIDLE__MCP_STDERR_TAIL    4096

/* ---- transports ---- */

typedef struct bridle__mcp_transport bridle__mcp_transport;

typedef struct bridle__mcp_transport_ops {
        /* Send one message (not stolen) within timeout_ms. */
        int (*send)(bridle__mcp_transport *t, const json_t *msg, int timeout_ms, bridle_error *err);
        /* The next message from the server within timeout_ms (-1: no limit):
         * 0 and *ret (new reference); -ETIMEDOUT; -EAGAIN when nothing is in
         * flight that could bring one (HTTP: no open response, resumption or
         * GET stream); a
         * negative code with err when the server is gone. */
        int (*recv)(bridle__mcp_transport *t, int timeout_ms, json_t **ret, bridle_error *err);
        /* The negotiated protocol version (HTTP sends it as a header); may be NULL. */
        void (*set_version)(bridle__mcp_transport *t, const char *version);
        /* End the session and free everything (stdio: close stdin, then
         * TERM and KILL the process group, bounded). */
        void (*close)(bridle__mcp_transport *t);
} bridle__mcp_transport_ops;

struct bridle__mcp_transport {
        const bridle__mcp_transport_ops *ops;
};

/* Spawn argv (PATH searched) with pipes; envp NULL: this process's
 * environment; cwd NULL: ours. The server runs in its own process group. */
int bridle__mcp_stdio_new(const char *const *argv, const char *const *envp, const char *cwd,
                          bridle__mcp_transport **ret, bridle_error *err);
/* The exit of a stdio server as text ("exited with status 3", "was killed by
 * signal SIGKILL"), after its output ended; "" while it runs. */
const char *bridle__mcp_stdio_exit(bridle__mcp_transport *t);

/* A stdio server run inside the living sandbox sandbox_id as a session with
 * pipes (transport_session.c): argv is not searched on the host; envp
 * ("NAME=VALUE", NULL-terminated, may be NULL) is added to the sandbox's
 * environment; cwd NULL: the workspace. The session's stdout and stderr
 * come together: lines that are not JSON objects are the server's log (the
 * last 4 KiB named when it dies). A sandbox that is replaced or destroyed
 * takes the server with it (the next send or recv names that). */
int bridle__mcp_session_new(const char *sandbox_id, const char *const *argv, const char *const *envp,
                            const char *cwd, bridle__mcp_transport **ret, bridle_error *err);

/* Streamable HTTP to url (http or https); headers: "Name: value" lines
 * (NULL-terminated list, may be NULL), sent with every request. libcurl is
 * loaded here (model/curl_dl.h). */
int bridle__mcp_http_new(const char *url, const char *const *headers, bridle__mcp_transport **ret,
                         bridle_error *err);

/* ---- the client ---- */

typedef struct bridle__mcp_client bridle__mcp_client;

typedef struct bridle__mcp_client_opts {
        const char *name;      /* the server's name in error messages ("" : "mcp") */
        int startup_timeout_ms; /* initialize; 0: 30000 */
        int request_timeout_ms; /* tools/list and others; 0: 30000 */
} bridle__mcp_client_opts;

/* Initialize over t (stolen, also on failure). */
int bridle__mcp_client_connect(bridle__mcp_transport *t, const bridle__mcp_client_opts *opts,
                               bridle__mcp_client **ret, bridle_error *err);
/* Closes the transport. */
bridle__mcp_client *bridle__mcp_client_free(bridle__mcp_client *c);

const char *bridle__mcp_client_version(const bridle__mcp_client *c);  /* negotiated */
const json_t *bridle__mcp_client_server_info(const bridle__mcp_client *c); /* serverInfo or NULL */
const char *bridle__mcp_client_instructions(const bridle__mcp_client *c); /* or NULL */

/* All tools, following nextCursor (at most BRIDLE__MCP_LIST_PAGES_MAX pages,
 * BRIDLE__MCP_TOOLS_MAX tools; more: BRIDLE_E_LIMIT). *ret: a new array of
 * the server's Tool objects (those without a string name dropped). Clears
 * the list_changed flag. */
int bridle__mcp_client_list_tools(bridle__mcp_client *c, json_t **ret, bridle_error *err);

/* Whether notifications/tools/list_changed came since the last listing. */
bool bridle__mcp_client_tools_changed(const bridle__mcp_client *c);

/* Whether the server is gone or broken (a transport error: a dead
 * process, a sandbox that went away, cut output). Calls then fail at once;
 * make a new client to go on. */
bool bridle__mcp_client_dead(const bridle__mcp_client *c);

/* Read what the server sent (notifications, requests) for up to timeout_ms
 * without a request of ours. 0, or the server's death. */
int bridle__mcp_client_poll(bridle__mcp_client *c, int timeout_ms, bridle_error *err);

typedef struct bridle__mcp_result {
        bool is_error;     /* the tool said isError */
        char *text;        /* content items joined with "\n" (malloc'd, never NULL on success):
                            * text as is; image/audio "[image/png, N bytes]";
                            * resource "[resource URI]" (and its text); resource_link
                            * "[resource URI]"; then structuredContent as JSON text
                            * when no text item was given */
        json_t *structured; /* structuredContent or NULL (owned) */
} bridle__mcp_result;

/* tools/call name with args (an object or NULL) within timeout_ms (0: the
 * request timeout). A JSON-RPC error answer is BRIDLE_E_TOOL; on timeout the
 * request is cancelled (notifications/cancelled) and BRIDLE_E_TIMEOUT. */
int bridle__mcp_client_call(bridle__mcp_client *c, const char *name, const json_t *args, int timeout_ms,
                            bridle__mcp_result *res, bridle_error *err);
void bridle__mcp_result_clear(bridle__mcp_result *res);

/* Turn a CallToolResult object into res (exposed for tests). */
int bridle__mcp_result_from_json(const json_t *result, bridle__mcp_result *res);

/* ---- the server's tools in a tool registry (tools/tools.h) ---- */

typedef struct bridle__tools bridle__tools;
typedef struct bridle__mcp_bridge bridle__mcp_bridge;

/* Adds every tool of c (listed now) to t as "<server>__<tool>": characters
 * outside [A-Za-z0-9_-] become '_', the name is cut to 64; the description
 * is the tool's (or its title); an inputSchema the registry's checker
 * refuses becomes {"type":"object"} (the server checks the arguments);
 * read_only from annotations.readOnlyHint. A call runs tools/call with the
 * call's timeout_ms (0: the client's request timeout); an isError result
 * is an error result for the model ("error: " and the text); a dead server
 * or a timeout is an error result naming it. c is borrowed and must outlive
 * the registry's use of these tools; *ret holds what the calls need and is
 * freed after the registry. All or nothing: on failure none of the server's
 * tools stays in t. On list_changed, make a new registry. */
int bridle__mcp_bridge_add(bridle__mcp_client *c, const char *server, bridle__tools *t,
                           bridle__mcp_bridge **ret, bridle_error *err);
/* The same, only the tools named in only (a list of the server's names; NULL: all). */
int bridle__mcp_bridge_add_only(bridle__mcp_client *c, const char *server, const json_t *only, bridle__tools *t,
                                bridle__mcp_bridge **ret, bridle_error *err);
bridle__mcp_bridge *bridle__mcp_bridge_free(bridle__mcp_bridge *b);

/* A call that finds the client dead asks fn for a live one first: fn
 * replaces *c (freeing the dead one) and returns 0, or returns < 0 with err
 * (the call is then an error result). Without fn such calls fail. */
typedef int (*bridle__mcp_revive_fn)(void *ud, bridle__mcp_client **c, bridle_error *err);
void bridle__mcp_bridge_on_dead(bridle__mcp_bridge *b, bridle__mcp_revive_fn fn, void *ud);
/* Whether the registry name is one of b's tools; *idempotent (may be NULL):
 * its annotations.idempotentHint. */
bool bridle__mcp_bridge_has(const bridle__mcp_bridge *b, const char *name, bool *idempotent);
