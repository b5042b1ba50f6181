/* SPDX-License-Identifier: MIT */
/* JSON-RPC 2.0 messages and MCP's stdio framing (jsonrpc.h). */
#include "mcp/jsonrpc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/error.h"

static int invalid(int *code, char *why, size_t cap, const char *text)
{
        *code = BRIDLE__RPC_INVALID_REQUEST;
        (void)snprintf(why, cap, "%s", text);
        return -EINVAL;
}

static bool id_ok(const json_t *id)
{
        return json_is_string(id) || json_is_integer(id);
}

int bridle__rpc_parse(const char *text, size_t len, bridle__rpc_msg *m, int *ret_code, char *why, size_t cap)
{
        memset(m, 0, sizeof(*m));
        json_error_t je;
        json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
        if (!j) {
                *ret_code = BRIDLE__RPC_PARSE_ERROR;
                (void)snprintf(why, cap, "not JSON: %s at byte %d", je.text, je.position);
                return -EINVAL;
        }
        m->msg = j;
        if (json_is_array(j))
                return invalid(ret_code, why, cap, "batches are not supported");
        if (!json_is_object(j))
                return invalid(ret_code, why, cap, "a message is a JSON object");
        const json_t *id = json_object_get(j, "id");
        if (id && id_ok(id))
                m->id = id;
        if (strcmp(json_string_value(json_object_get(j, "jsonrpc")) ?: "", "2.0") != 0)
                return invalid(ret_code, why, cap, "'jsonrpc' is not \"2.0\"");
        if (id && !id_ok(id) && !json_is_null(id))
                return invalid(ret_code, why, cap, "'id' is not a string or an integer");
        const json_t *method = json_object_get(j, "method");
        const json_t *params = json_object_get(j, "params");
        const json_t *result = json_object_get(j, "result"), *error = json_object_get(j, "error");
        if (method) {
                if (!json_is_string(method) || !json_string_length(method))
                        return invalid(ret_code, why, cap, "'method' is not a non-empty string");
                if (params && !json_is_object(params) && !json_is_array(params))
                        return invalid(ret_code, why, cap, "'params' is not an object or an array");
                if (result || error)
                        return invalid(ret_code, why, cap, "a request with 'result' or 'error'");
                if (id && json_is_null(id))
                        return invalid(ret_code, why, cap, "a request's 'id' is null");
                m->kind = id ? BRIDLE__RPC_REQUEST : BRIDLE__RPC_NOTIFICATION;
                m->method = json_string_value(method);
                m->params = params;
                return 0;
        }
        if (!id)
                return invalid(ret_code, why, cap, "no 'method' and no 'id'");
        if ((result != NULL) == (error != NULL))
                return invalid(ret_code, why, cap, "a response has exactly one of 'result' and 'error'");
        if (result) {
                if (!m->id)
                        return invalid(ret_code, why, cap, "a result's 'id' is not a string or an integer");
                m->kind = BRIDLE__RPC_RESULT;
                m->result = result;
                return 0;
        }
        const json_t *code = json_object_get(error, "code"), *msg = json_object_get(error, "message");
        if (!json_is_object(error) || !json_is_integer(code) || !json_is_string(msg))
                return invalid(ret_code, why, cap, "'error' is not {code: integer, message: string}");
        if (json_integer_value(code) < -2147483648LL || json_integer_value(code) > 2147483647LL)
                return invalid(ret_code, why, cap, "'error.code' is out of range");
        m->kind = BRIDLE__RPC_ERROR;
        m->error_code = (int)json_integer_value(code);
        m->error_message = json_string_value(msg);
        return 0;
}

void bridle__rpc_msg_clear(bridle__rpc_msg *m)
{
        if (!m)
                return;
        json_decref(m->msg);
        memset(m, 0, sizeof(*m));
}

json_t *bridle__rpc_request(json_int_t id, const char *method, json_t *params)
{
        json_t *j = json_pack("{s:s,s:I,s:s}", "jsonrpc", "2.0", "id", id, "method", method);
        if (j && params && json_object_set(j, "params", params) < 0)
                j = (json_decref(j), NULL);
        json_decref(params);
        return j;
}

json_t *bridle__rpc_notification(const char *method, json_t *params)
{
        json_t *j = json_pack("{s:s,s:s}", "jsonrpc", "2.0", "method", method);
        if (j && params && json_object_set(j, "params", params) < 0)
                j = (json_decref(j), NULL);
        json_decref(params);
        return j;
}

json_t *bridle__rpc_result(const json_t *id, json_t *result)
{
        json_t *j = result ? json_pack("{s:s,s:O,s:O}", "jsonrpc", "2.0", "id", id ? id : json_null(), "result", result)
                           : NULL;
        json_decref(result);
        return j;
}

json_t *bridle__rpc_error(const json_t *id, int code, const char *message)
{
        return json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(), "error", "code", code,
                         "message", message ? message : "");
}

static int64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ms left of a deadline (-1: none), at least 0. */
static int left(int64_t deadline)
{
        if (deadline < 0)
                return -1;
        int64_t l = deadline - mono_ms();
        return l < 0 ? 0 : l > 1000000000 ? 1000000000 : (int)l;
}

int bridle__rpc_write(int fd, const json_t *msg, int timeout_ms, bridle_error *err)
{
        char *s = json_dumps(msg, JSON_COMPACT);
        if (!s)
                return bridle__err(err, -ENOMEM, "json-rpc: the message");
        size_t n = strlen(s);
        char *line = bridle__realloc(s, n + 2);
        if (!line) {
                free(s);
                return bridle__err(err, -ENOMEM, "json-rpc: the message");
        }
        line[n++] = '\n';
        int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
        size_t off = 0;
        int r = 0;
        while (off < n) {
                ssize_t w = write(fd, line + off, n - off);
                if (w > 0) {
                        off += (size_t)w;
                        continue;
                }
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                        struct pollfd p = {.fd = fd, .events = POLLOUT};
                        int t = left(deadline);
                        if (t == 0 || poll(&p, 1, t) == 0) {
                                r = bridle__err(err, -ETIMEDOUT, "json-rpc: the peer does not read");
                                break;
                        }
                        continue;
                }
                r = bridle__err(err, w < 0 ? -errno : -EIO, "json-rpc: write");
                break;
        }
        free(line);
        return r;
}

struct bridle__rpc_reader {
        int fd;
        char *buf;
        size_t len, cap;
        bool eof, skipping; /* skipping: the rest of a line that was too long */
};

bridle__rpc_reader *bridle__rpc_reader_new(int fd)
{
        bridle__rpc_reader *r = bridle__calloc(1, sizeof(*r));
        if (r)
                r->fd = fd;
        return r;
}

void bridle__rpc_reader_free(bridle__rpc_reader *r)
{
        if (!r)
                return;
        free(r->buf);
        free(r);
}

/* A complete line in the buffer: taken out into *ret (0), or 1 when none. */
static int take_line(bridle__rpc_reader *r, char **ret, size_t *ret_len)
{
        for (;;) {
                char *nl = r->len ? memchr(r->buf, '\n', r->len) : NULL;
                if (!nl)
                        return 1;
                size_t n = (size_t)(nl - r->buf);
                bool skip = r->skipping;
                r->skipping = false;
                size_t keep = n;
                while (keep && r->buf[keep - 1] == '\r')
                        keep--;
                char *line = NULL;
                if (!skip && keep) {
                        line = bridle__malloc(keep + 1);
                        if (!line)
                                return -ENOMEM;
                        memcpy(line, r->buf, keep);
                        line[keep] = '\0';
                }
                memmove(r->buf, nl + 1, r->len - n - 1);
                r->len -= n + 1;
                if (line) {
                        *ret = line;
                        *ret_len = keep;
                        return 0;
                }
        }
}

int bridle__rpc_read_line(bridle__rpc_reader *r, int timeout_ms, char **ret, size_t *ret_len)
{
        *ret = NULL;
        *ret_len = 0;
        int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
        for (;;) {
                int t = take_line(r, ret, ret_len);
                if (t <= 0)
                        return t;
                if (r->len >= BRIDLE__RPC_LINE_MAX) {
                        /* Too long: drop what there is and the rest of the line. */
                        r->len = 0;
                        r->skipping = true;
                        return -EMSGSIZE;
                }
                if (r->eof) {
                        if (r->len && !r->skipping) { /* a last line without its newline */
                                char *line = bridle__malloc(r->len + 1);
                                if (!line)
                                        return -ENOMEM;
                                memcpy(line, r->buf, r->len);
                                line[r->len] = '\0';
                                *ret = line;
                                *ret_len = r->len;
                        }
                        r->len = 0;
                        return 0;
                }
                if (r->cap - r->len < 65536) {
                        size_t cap = r->cap ? r->cap * 2 : 65536;
                        if (cap > BRIDLE__RPC_LINE_MAX + 65536)
                                cap = BRIDLE__RPC_LINE_MAX + 65536;
                        char *b = cap > r->cap ? bridle__realloc(r->buf, cap) : r->buf;
                        if (!b)
                                return -ENOMEM;
                        r->buf = b;
                        r->cap = cap;
                }
                struct pollfd p = {.fd = r->fd, .events = POLLIN};
                int pt = left(deadline);
                int pr = poll(&p, 1, pt);
                if (pr < 0 && errno == EINTR)
                        continue;
                if (pr < 0)
                        return -errno;
                if (pr == 0)
                        return -ETIMEDOUT;
                ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        r->eof = true;
                r->len += (size_t)n;
        }
}
