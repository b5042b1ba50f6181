/* SPDX-License-Identifier: MIT */
/*
 * The egress proxy (network: allowlist): internals. The public API (start,
 * stop, options, the connection report) is in bridle/sandbox.h, "Network
 * egress"; docs/egress.md describes the whole path:
 *
 *   command -> 127.0.0.1:3128 (bridge in bridle-init, src/sandbox/init/egress_bridge.c)
 *           -> <dir>/proxy.sock (this module, a thread of the harness)
 *           -> the origin, if the host is allowed and resolves to public addresses only.
 *
 * Files: addr.c (address classes, host lists, the test map), http.c (request
 * and response heads), proxy.c (listener, workers, relay).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "bridle/sandbox.h"

/* ---- addresses (addr.c) ------------------------------------------------------ */

/* Is this an address the sandbox must never reach: loopback, private (10/8,
 * 172.16/12, 192.168/16, fc00::/7), shared (100.64/10), link-local
 * (169.254/16, fe80::/10), "this network" (0/8, ::), multicast, reserved and
 * documentation ranges, and the IPv4 forms embedded in IPv6 (mapped ::ffff:a.b.c.d,
 * compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) of any of those?
 * why (may be NULL) gets e.g. "loopback address 127.0.0.1". */
bool bridle__egress_addr_blocked(const struct sockaddr *sa, char *why, size_t cap);

/* Normalise a host name from a request: lower case, no trailing dot,
 * [v6] brackets removed. Letters, digits, '-', '.', '_' (and ':' for an
 * IPv6 literal) only, 1..253 characters. 0 or -EINVAL. */
int bridle__egress_host_norm(const char *in, size_t len, char *out, size_t cap);

/* The test map ("host=IP:PORT,..."), parsed. */
struct bridle__egress_map_entry {
        char host[256];
        struct sockaddr_storage addr;
        socklen_t addrlen;
};
/* *ret (caller frees) with *ret_n entries; "" or NULL is an empty map.
 * Malformed: BRIDLE_E_INVALID naming the entry. */
int bridle__egress_map_parse(const char *spec, struct bridle__egress_map_entry **ret, size_t *ret_n,
                             bridle_error *err);

/* ---- HTTP heads (http.c) ------------------------------------------------------- */

#define BRIDLE__EGRESS_MAX_HEAD  ((size_t)16 * 1024) /* a request head */
#define BRIDLE__EGRESS_MAX_RHEAD ((size_t)64 * 1024) /* a response head we rewrite */

struct bridle__egress_req {
        char method[24];
        bool connect;   /* CONNECT host:port */
        char host[256]; /* normalised */
        unsigned port;
        const char *path; /* plain requests: "/..." inside the head buffer, path_len bytes */
        size_t path_len;
        const char *version; /* "HTTP/1.1" or "HTTP/1.0" inside the head */
        size_t head_len;     /* bytes of the head, "\r\n\r\n" included */
};

/* Where the head ends in buf ("\r\n\r\n" included), or 0 if not there yet. */
size_t bridle__egress_head_end(const char *buf, size_t len);
/* Parse a complete request head (buf[0..head_len)). On failure, *ret_status
 * is the HTTP status to answer (400, 405, 501...) and why says what. */
int bridle__egress_req_parse(const char *buf, size_t head_len, struct bridle__egress_req *ret,
                             int *ret_status, char *why, size_t cap);
/* The head to send to the origin for a plain request: origin-form request
 * line, the client's headers without hop-by-hop ones (Connection and what it
 * names, Proxy-*, Keep-Alive, TE, Trailer, Upgrade, Host), then
 * "Host: host[:port]" and "Connection: close". *ret (caller frees). */
int bridle__egress_req_rewrite(const char *buf, const struct bridle__egress_req *req, char **ret,
                               size_t *ret_len);
/* A response head from the origin, rewritten for the client: hop-by-hop
 * headers dropped, "Connection: close" added. *ret_status gets the status
 * code (1xx heads are passed on and another head follows). *ret (caller frees). */
int bridle__egress_resp_rewrite(const char *buf, size_t head_len, char **ret, size_t *ret_len,
                                int *ret_status);
/* The proxy's own answer: status line, text/plain body "bridle egress: BODY\n",
 * Connection: close. Returns the length written into out (truncated to cap). */
size_t bridle__egress_reply(char *out, size_t cap, int status, const char *body);
