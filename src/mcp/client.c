/* SPDX-License-Identifier: MIT */
/* The MCP client: initialize, tools/list, tools/call over a transport (client.h). */
#include "mcp/client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mcp/jsonrpc.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

#define MESSAGES_PER_REQUEST_MAX 100000 /* server messages read while waiting for one answer */

struct bridle__mcp_client {
        bridle__mcp_transport *t;
        char name[128];
        json_int_t next_id;
        char version[16];
        json_t *init; /* the initialize result */
        bool tools_changed;
        bool dead; /* the transport failed: the server is gone or broken */
        int request_timeout_ms;
};

static const char *const accepted_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26"};

static int64_t mono_ms(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int send_msg(bridle__mcp_client *c, json_t *msg /* stolen */, bridle_error *err)
{
        if (!msg)
                return bridle__err(err, -ENOMEM, "mcp");
        bridle_error e = {0};
        int r = c->t->ops->send(c->t, msg, 10000, &e);
        json_decref(msg);
        if (r < 0) {
                c->dead = c->dead || r != BRIDLE_E_TIMEOUT;
                return bridle__err(err, r, "mcp server '%s': %s", c->name, e.msg);
        }
        return 0;
}

/* A request or notification from the server. */
static int handle_incoming(bridle__mcp_client *c, const json_t *msg, bridle_error *err)
{
        const char *method = json_string_value(json_object_get(msg, "method"));
        const json_t *id = json_object_get(msg, "id");
        if (!method)
                return 0;
        if (!id || json_is_null(id)) {
                if (strcmp(method, "notifications/tools/list_changed") == 0)
                        c->tools_changed = true;
                return 0; /* other notifications (logging, progress) are not needed */
        }
        if (!json_is_string(id) && !json_is_integer(id))
                return 0;
        json_t *answer = strcmp(method, "ping") == 0
                                 ? bridle__rpc_result(id, json_object())
                                 : bridle__rpc_error(id, BRIDLE__RPC_METHOD_NOT_FOUND, "method not found");
        return send_msg(c, answer, err);
}

static bool is_response(const json_t *msg)
{
        return !json_object_get(msg, "method") &&
               (json_object_get(msg, "result") || json_object_get(msg, "error"));
}

/* Read one message within wait_ms and act on it; *ret the message when it is a
 * response (new reference). 0, -ETIMEDOUT, -EAGAIN or an error. */
static int read_one(bridle__mcp_client *c, int wait_ms, json_t **ret, bridle_error *err)
{
        *ret = NULL;
        json_t *msg = NULL;
        bridle_error e = {0};
        int r = c->t->ops->recv(c->t, wait_ms, &msg, &e);
        if (r == -ETIMEDOUT || r == -EAGAIN)
                return r;
        if (r < 0) {
                c->dead = true;
                return bridle__err(err, r, "mcp server '%s': %s", c->name, e.msg);
        }
        if (is_response(msg)) {
                *ret = msg;
                return 0;
        }
        r = handle_incoming(c, msg, err);
        json_decref(msg);
        return r;
}

static int request(bridle__mcp_client *c, const char *method, json_t *params /* stolen */, int timeout_ms,
                   json_t **ret_result, bridle_error *err)
{
        *ret_result = NULL;
        json_int_t id = ++c->next_id;
        int r = send_msg(c, bridle__rpc_request(id, method, params), err);
        if (r < 0)
                return r;
        int64_t deadline = mono_ms() + timeout_ms;
        for (int i = 0; i < MESSAGES_PER_REQUEST_MAX; i++) {
                int64_t left = deadline - mono_ms();
                if (left < 0)
                        left = 0;
                json_t *msg = NULL;
                r = read_one(c, (int)left, &msg, err);
                if (r == -ETIMEDOUT || (r == 0 && !msg && left == 0)) {
                        json_t *p = json_pack("{s:I,s:s}", "requestId", id, "reason", "timed out");
                        (void)send_msg(c, bridle__rpc_notification("notifications/cancelled", p), NULL);
                        return bridle__err(err, BRIDLE_E_TIMEOUT, "mcp server '%s': %s: no answer in %d ms",
                                           c->name, method, timeout_ms);
                }
                if (r == -EAGAIN)
                        return bridle__err(err, BRIDLE_E_PROTOCOL,
                                           "mcp server '%s': %s: the server ended the response without an answer",
                                           c->name, method);
                if (r < 0)
                        return r;
                if (!msg)
                        continue;
                const json_t *mid = json_object_get(msg, "id");
                if (!json_is_integer(mid) || json_integer_value(mid) != id) {
                        json_decref(msg); /* a late answer to a request given up on */
                        continue;
                }
                const json_t *error = json_object_get(msg, "error");
                if (error) {
                        const char *m = json_string_value(json_object_get(error, "message"));
                        json_int_t code = json_integer_value(json_object_get(error, "code"));
                        r = bridle__err(err, BRIDLE_E_TOOL, "mcp server '%s': %s: error %lld: %s", c->name,
                                        method, (long long)code, m ? m : "(no message)");
                        json_decref(msg);
                        return r;
                }
                json_t *result = json_object_get(msg, "result");
                if (!json_is_object(result)) {
                        json_decref(msg);
                        return bridle__err(err, BRIDLE_E_PROTOCOL, "mcp server '%s': %s: the result is not an object",
                                           c->name, method);
                }
                *ret_result = json_incref(result);
                json_decref(msg);
                return 0;
        }
        return bridle__err(err, BRIDLE_E_LIMIT, "mcp server '%s': %s: too many messages without an answer",
                           c->name, method);
}

int bridle__mcp_client_connect(bridle__mcp_transport *t, const bridle__mcp_client_opts *opts,
                               bridle__mcp_client **ret, bridle_error *err)
{
        bridle__mcp_client *c = bridle__calloc(1, sizeof(*c));
        if (!c) {
                t->ops->close(t);
                return bridle__err(err, -ENOMEM, "mcp");
        }
        c->t = t;
        const char *name = opts && opts->name && *opts->name ? opts->name : "mcp";
        (void)snprintf(c->name, sizeof(c->name), "%s", name);
        c->request_timeout_ms = opts && opts->request_timeout_ms > 0 ? opts->request_timeout_ms : 30000;
        int startup_ms = opts && opts->startup_timeout_ms > 0 ? opts->startup_timeout_ms : 30000;

        json_t *params = json_pack("{s:s,s:{},s:{s:s,s:s}}", "protocolVersion", BRIDLE__MCP_VERSION_LATEST,
                                   "capabilities", "clientInfo", "name", "bridle", "version", BRIDLE_VERSION);
        json_t *result = NULL;
        int r = params ? request(c, "initialize", params, startup_ms, &result, err)
                       : bridle__err(err, -ENOMEM, "mcp");
        if (r < 0)
                goto fail;
        const char *v = json_string_value(json_object_get(result, "protocolVersion"));
        bool ok = false;
        for (size_t i = 0; v && i < ELEMENTSOF(accepted_versions); i++)
                ok = ok || strcmp(v, accepted_versions[i]) == 0;
        if (!ok) {
                r = bridle__err(err, BRIDLE_E_PROTOCOL,
                                "mcp server '%s': protocol version '%s' is not one bridle speaks "
                                "(2025-11-25, 2025-06-18, 2025-03-26)",
                                c->name, v ? v : "(none)");
                json_decref(result);
                goto fail;
        }
        (void)snprintf(c->version, sizeof(c->version), "%s", v);
        c->init = result;
        if (t->ops->set_version)
                t->ops->set_version(t, c->version);
        r = send_msg(c, bridle__rpc_notification("notifications/initialized", NULL), err);
        if (r < 0)
                goto fail;
        *ret = c;
        return 0;
fail:
        bridle__mcp_client_free(c);
        return r;
}

bridle__mcp_client *bridle__mcp_client_free(bridle__mcp_client *c)
{
        if (!c)
                return NULL;
        if (c->t)
                c->t->ops->close(c->t);
        json_decref(c->init);
        free(c);
        return NULL;
}

const char *bridle__mcp_client_version(const bridle__mcp_client *c)
{
        return c->version;
}

const json_t *bridle__mcp_client_server_info(const bridle__mcp_client *c)
{
        const json_t *i = json_object_get(c->init, "serverInfo");
        return json_is_object(i) ? i : NULL;
}

const char *bridle__mcp_client_instructions(const bridle__mcp_client *c)
{
        return json_string_value(json_object_get(c->init, "instructions"));
}

bool bridle__mcp_client_tools_changed(const bridle__mcp_client *c)
{
        return c->tools_changed;
}

int bridle__mcp_client_list_tools(bridle__mcp_client *c, json_t **ret, bridle_error *err)
{
        *ret = NULL;
        json_t *all = json_array();
        if (!all)
                return bridle__err(err, -ENOMEM, "mcp");
        c->tools_changed = false;
        char *cursor = NULL;
        int r = 0;
        for (int page = 0;; page++) {
                if (page >= BRIDLE__MCP_LIST_PAGES_MAX) {
                        r = bridle__err(err, BRIDLE_E_LIMIT, "mcp server '%s': tools/list: more than %d pages",
                                        c->name, BRIDLE__MCP_LIST_PAGES_MAX);
                        break;
                }
                json_t *params = cursor ? json_pack("{s:s}", "cursor", cursor) : NULL;
                json_t *result = NULL;
                r = request(c, "tools/list", params, c->request_timeout_ms, &result, err);
                if (r < 0)
                        break;
                const json_t *tools = json_object_get(result, "tools");
                size_t i;
                const json_t *tool;
                json_array_foreach(tools, i, tool)
                {
                        if (!json_is_string(json_object_get(tool, "name")))
                                continue;
                        if (json_array_size(all) >= BRIDLE__MCP_TOOLS_MAX) {
                                r = bridle__err(err, BRIDLE_E_LIMIT, "mcp server '%s': more than %d tools", c->name,
                                                BRIDLE__MCP_TOOLS_MAX);
                                break;
                        }
                        if (json_array_append(all, (json_t *)tool) < 0) {
                                r = bridle__err(err, -ENOMEM, "mcp");
                                break;
                        }
                }
                const char *next = json_string_value(json_object_get(result, "nextCursor"));
                bool same = next && cursor && strcmp(next, cursor) == 0;
                free(cursor);
                cursor = next && *next && !same ? bridle__strdup(next) : NULL;
                bool more = next && *next && !same;
                json_decref(result);
                if (r < 0)
                        break;
                if (more && !cursor) {
                        r = bridle__err(err, -ENOMEM, "mcp");
                        break;
                }
                if (!more)
                        break;
        }
        free(cursor);
        if (r < 0) {
                json_decref(all);
                return r;
        }
        *ret = all;
        return 0;
}

int bridle__mcp_client_poll(bridle__mcp_client *c, int timeout_ms, bridle_error *err)
{
        int64_t deadline = mono_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
        for (int i = 0; i < MESSAGES_PER_REQUEST_MAX; i++) {
                int64_t left = deadline - mono_ms();
                json_t *msg = NULL;
                int r = read_one(c, left < 0 ? 0 : (int)left, &msg, err);
                json_decref(msg); /* a late answer */
                if (r == -ETIMEDOUT || r == -EAGAIN)
                        return 0;
                if (r < 0)
                        return r;
                if (left <= 0)
                        return 0;
        }
        return 0;
}

/* Bytes a base64 text decodes to. */
static size_t b64_size(const char *s)
{
        size_t n = 0;
        for (; *s; s++) {
                if (*s != '=' && *s != '\n' && *s != '\r' && *s != ' ')
                        n++;
        }
        return n * 3 / 4;
}

static int append(char **buf, size_t *len, const char *s, size_t n)
{
        char *b = bridle__realloc(*buf, *len + n + 2);
        if (!b)
                return -ENOMEM;
        if (*len)
                b[(*len)++] = '\n';
        memcpy(b + *len, s, n);
        *len += n;
        b[*len] = '\0';
        *buf = b;
        return 0;
}

__attribute__((format(printf, 3, 4))) static int append_fmt(char **buf, size_t *len, const char *fmt, ...)
{
        char line[1024];
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (k < 0)
                return -EINVAL;
        return append(buf, len, line, (size_t)k < sizeof(line) ? (size_t)k : sizeof(line) - 1);
}

int bridle__mcp_result_from_json(const json_t *result, bridle__mcp_result *res)
{
        memset(res, 0, sizeof(*res));
        char *text = NULL;
        size_t len = 0;
        bool had_text = false;
        int r = 0;
        const json_t *content = json_object_get(result, "content");
        size_t i;
        const json_t *item;
        json_array_foreach(content, i, item)
        {
                const char *type = json_string_value(json_object_get(item, "type"));
                if (!type)
                        type = "?";
                if (strcmp(type, "text") == 0) {
                        const json_t *t = json_object_get(item, "text");
                        const char *s = json_string_value(t);
                        if (s) {
                                r = append(&text, &len, s, json_string_length(t));
                                had_text = true;
                        }
                } else if (strcmp(type, "image") == 0 || strcmp(type, "audio") == 0) {
                        const char *mime = json_string_value(json_object_get(item, "mimeType"));
                        const char *data = json_string_value(json_object_get(item, "data"));
                        r = append_fmt(&text, &len, "[%s, %zu bytes]", mime ? mime : type, data ? b64_size(data) : 0);
                } else if (strcmp(type, "resource") == 0) {
                        const json_t *res_o = json_object_get(item, "resource");
                        const char *uri = json_string_value(json_object_get(res_o, "uri"));
                        const json_t *t = json_object_get(res_o, "text");
                        const char *blob = json_string_value(json_object_get(res_o, "blob"));
                        if (blob)
                                r = append_fmt(&text, &len, "[resource %s, %zu bytes]", uri ? uri : "?",
                                               b64_size(blob));
                        else
                                r = append_fmt(&text, &len, "[resource %s]", uri ? uri : "?");
                        if (r == 0 && json_is_string(t))
                                r = append(&text, &len, json_string_value(t), json_string_length(t));
                } else if (strcmp(type, "resource_link") == 0) {
                        const char *uri = json_string_value(json_object_get(item, "uri"));
                        r = append_fmt(&text, &len, "[resource %s]", uri ? uri : "?");
                } else {
                        r = append_fmt(&text, &len, "[%s content]", type);
                }
                if (r < 0)
                        goto fail;
        }
        const json_t *sc = json_object_get(result, "structuredContent");
        if (sc && !json_is_null(sc)) {
                res->structured = json_incref((json_t *)sc);
                if (!had_text) {
                        char *s = json_dumps(sc, JSON_COMPACT | JSON_ENCODE_ANY);
                        if (!s) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        r = append(&text, &len, s, strlen(s));
                        free(s);
                        if (r < 0)
                                goto fail;
                }
        }
        if (!text && !(text = bridle__strdup(""))) {
                r = -ENOMEM;
                goto fail;
        }
        res->text = text;
        res->is_error = json_is_true(json_object_get(result, "isError"));
        return 0;
fail:
        free(text);
        bridle__mcp_result_clear(res);
        return r;
}

void bridle__mcp_result_clear(bridle__mcp_result *res)
{
        if (!res)
                return;
        free(res->text);
        json_decref(res->structured);
        memset(res, 0, sizeof(*res));
}

int bridle__mcp_client_call(bridle__mcp_client *c, const char *name, const json_t *args, int timeout_ms,
                            bridle__mcp_result *res, bridle_error *err)
{
        memset(res, 0, sizeof(*res));
        json_t *a = args && json_is_object(args) ? json_incref((json_t *)args) : json_object();
        json_t *params = a ? json_pack("{s:s,s:o}", "name", name, "arguments", a) : NULL;
        if (!params)
                return bridle__err(err, -ENOMEM, "mcp");
        json_t *result = NULL;
        int r = request(c, "tools/call", params, timeout_ms > 0 ? timeout_ms : c->request_timeout_ms, &result,
                        err);
        if (r < 0)
                return r;
        r = bridle__mcp_result_from_json(result, res);
        json_decref(result);
        if (r < 0)
                return bridle__err(err, r, "mcp");
        return 0;
}

bool bridle__mcp_client_dead(const bridle__mcp_client *c)
{
        return !c || c->dead;
}
