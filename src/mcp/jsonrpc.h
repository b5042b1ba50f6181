/* SPDX-License-Identifier: MIT */
/*
 * JSON-RPC 2.0 as MCP uses it (docs/mcp.md): messages, and the stdio
 * framing (one JSON object per line, no embedded newlines). Both the MCP
 * client (client.c) and server (server.c) use it. Everything read is
 * untrusted: parse never trusts sizes, types or ids.
 *
 * Ownership: bridle__rpc_msg owns its json (clear it); builders return new
 * references; arguments marked "stolen" are the callee's.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "bridle/common.h"

#define BRIDLE__RPC_LINE_MAX ((size_t)8 << 20) /* one message */

/* JSON-RPC error codes. */
#define BRIDLE__RPC_PARSE_ERROR      (-32700)
#define BRIDLE__RPC_INVALID_REQUEST  (-32600)
#define BRIDLE__RPC_METHOD_NOT_FOUND (-32601)
#define BRIDLE__RPC_INVALID_PARAMS   (-32602)
#define BRIDLE__RPC_INTERNAL_ERROR   (-32603)

enum bridle__rpc_kind {
        BRIDLE__RPC_REQUEST = 1,      /* method + id */
        BRIDLE__RPC_NOTIFICATION = 2, /* method, no id */
        BRIDLE__RPC_RESULT = 3,       /* id + result */
        BRIDLE__RPC_ERROR = 4,        /* id (maybe null) + error {code, message, data?} */
};

typedef struct bridle__rpc_msg {
        enum bridle__rpc_kind kind;
        json_t *msg;        /* the whole message (owned) */
        const json_t *id;   /* string or integer (borrowed from msg); NULL for notifications */
        const char *method; /* requests and notifications */
        const json_t *params; /* object or array, or NULL */
        const json_t *result;
        int error_code;     /* BRIDLE__RPC_ERROR */
        const char *error_message;
} bridle__rpc_msg;

/* Parse one message. On a message that is not valid JSON-RPC, returns < 0
 * and sets *ret_code to PARSE_ERROR (not JSON) or INVALID_REQUEST (JSON but
 * not a message: the id, when one could be read, is in m->id so the answer
 * can name it) and why (a short reason for the error message). A batch (a
 * JSON array) is INVALID_REQUEST: MCP 2025-06-18 and later do not use them. */
int bridle__rpc_parse(const char *text, size_t len, bridle__rpc_msg *m, int *ret_code, char *why, size_t cap);
void bridle__rpc_msg_clear(bridle__rpc_msg *m);

/* Builders: {"jsonrpc":"2.0",...}. id is copied (NULL: null). params and
 * result are stolen (params may be NULL: none). */
json_t *bridle__rpc_request(json_int_t id, const char *method, json_t *params);
json_t *bridle__rpc_notification(const char *method, json_t *params);
json_t *bridle__rpc_result(const json_t *id, json_t *result);
json_t *bridle__rpc_error(const json_t *id, int code, const char *message);

/* stdio framing: the message as compact JSON and a newline, all of it
 * written (EINTR/EAGAIN handled with poll, bounded by timeout_ms). */
int bridle__rpc_write(int fd, const json_t *msg, int timeout_ms, bridle_error *err);

/* A line reader over a file descriptor. */
typedef struct bridle__rpc_reader bridle__rpc_reader;
bridle__rpc_reader *bridle__rpc_reader_new(int fd);
void bridle__rpc_reader_free(bridle__rpc_reader *r);
/* The next line (without its newline; malloc'd, NUL-terminated) within
 * timeout_ms (-1: no limit). 0 and *ret set; 0 and *ret NULL at end of
 * input; -ETIMEDOUT; -EMSGSIZE for a line over BRIDLE__RPC_LINE_MAX (the
 * rest of that line is skipped). Empty lines are skipped. */
int bridle__rpc_read_line(bridle__rpc_reader *r, int timeout_ms, char **ret, size_t *ret_len);
