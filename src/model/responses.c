/* SPDX-License-Identifier: MIT */
/* The "openai-responses" provider: POST /responses, stream: true. */
#include <errno.h>
#include <string.h>

#include "model/model_internal.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

/* Set key to a new value; returns false when out of memory. */
static bool put(json_t *o, const char *key, json_t *v)
{
        return v && json_object_set_new_nocheck(o, key, v) == 0;
}

static int dump(json_t *body, char **ret_body, size_t *ret_len, bridle_error *err)
{
        char *s = json_dumps(body, JSON_COMPACT);
        if (!s)
                return bridle__err(err, -ENOMEM, "request body");
        *ret_len = strlen(s);
        *ret_body = s;
        return 0;
}

static int build(const bridle__model_cfg *cfg, const bridle__model_req *req, char **ret_body,
                 size_t *ret_len, bridle_error *err)
{
        _cleanup_(json_decrefp) json_t *body = json_object();
        if (!body)
                return bridle__err(err, -ENOMEM, "request body");
        /* Input and tools are borrowed: a reference, not a copy. */
        bool tools = req->tools && json_array_size(req->tools) > 0;
        bool ok =
                put(body, "model", json_string(cfg->model)) &&
                (!req->instructions || put(body, "instructions", json_string(req->instructions))) &&
                put(body, "input", req->input ? json_incref((json_t *)req->input) : json_array()) &&
                (!tools || put(body, "tools", json_incref((json_t *)req->tools))) &&
                (!tools || put(body, "parallel_tool_calls", json_true())) &&
                put(body, "stream", json_true()) && put(body, "store", json_false());
        if (ok && bridle__model_is_reasoning(cfg->model)) {
                /* store:false: reasoning comes back encrypted, to be passed back verbatim. */
                json_t *inc = json_array();
                ok = inc &&
                     json_array_append_new(inc, json_string("reasoning.encrypted_content")) == 0 &&
                     put(body, "include", inc);
                if (!ok)
                        json_decref(inc);
        }
        if (!ok)
                return bridle__err(err, -ENOMEM, "request body");
        return dump(body, ret_body, ret_len, err);
}

static int64_t num(const json_t *o, const char *key)
{
        json_int_t v = json_integer_value(json_object_get(o, key));
        return v > 0 ? (int64_t)v : 0;
}

static void usage(struct model_stream *st, const json_t *u)
{
        if (!json_is_object(u))
                return;
        st->usage.input_tokens = num(u, "input_tokens");
        st->usage.output_tokens = num(u, "output_tokens");
        st->usage.cached_tokens = num(json_object_get(u, "input_tokens_details"), "cached_tokens");
        st->usage.reasoning_tokens =
                num(json_object_get(u, "output_tokens_details"), "reasoning_tokens");
}

static int set_id(struct model_stream *st, const json_t *response)
{
        const char *id = json_string_value(json_object_get(response, "id"));
        if (!id || (st->response_id && strcmp(st->response_id, id) == 0))
                return 0;
        char *s = bridle__strdup(id);
        if (!s)
                return bridle__stream_fail(st, "oom", "out of memory");
        free(st->response_id);
        st->response_id = s;
        return 0;
}

static int server_error(struct model_stream *st, const char *what, const json_t *e)
{
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        if (!code)
                code = json_string_value(json_object_get(e, "type"));
        return bridle__stream_fail(st, bridle__model_code_class(code), "%s: %s%s%s", what,
                                   code ? code : "no code", msg ? ": " : "", msg ? msg : "");
}

static int completed(struct model_stream *st, const json_t *j)
{
        const json_t *r = json_object_get(j, "response");
        if (!json_is_object(r))
                return bridle__stream_fail(st, "protocol", "'%s' without a response",
                                           json_string_value(json_object_get(j, "type")));
        int rc = set_id(st, r);
        if (rc < 0)
                return rc;
        usage(st, json_object_get(r, "usage"));
        json_t *out = json_object_get(r, "output");
        if (json_is_array(out)) {
                json_decref(st->output);
                st->output = json_incref(out);
        }
        st->completed = true;
        return 0;
}

static int item_done(struct model_stream *st, const json_t *j)
{
        json_t *item = json_object_get(j, "item");
        if (!json_is_object(item))
                return 0;
        if (!st->collected && !(st->collected = json_array()))
                return bridle__stream_fail(st, "oom", "out of memory");
        if (json_array_append(st->collected, item) < 0)
                return bridle__stream_fail(st, "oom", "out of memory");
        if (st->ev && st->ev->item_done)
                st->ev->item_done(st->ev->ud, item);
        return 0;
}

static int handle(struct model_stream *st, const char *type, const json_t *j)
{
        if (strcmp(type, "response.output_text.delta") == 0) {
                const json_t *d = json_object_get(j, "delta");
                if (json_is_string(d) && st->ev && st->ev->text_delta)
                        st->ev->text_delta(st->ev->ud, json_string_value(d), json_string_length(d));
                return 0;
        }
        if (strcmp(type, "response.output_item.done") == 0)
                return item_done(st, j);
        if (strcmp(type, "response.completed") == 0 || strcmp(type, "response.incomplete") == 0)
                return completed(st, j);
        if (strcmp(type, "response.created") == 0 || strcmp(type, "response.in_progress") == 0)
                return set_id(st, json_object_get(j, "response"));
        if (strcmp(type, "response.failed") == 0) {
                const json_t *r = json_object_get(j, "response");
                (void)set_id(st, r);
                return server_error(st, "response failed", json_object_get(r, "error"));
        }
        if (strcmp(type, "error") == 0) {
                const json_t *e = json_object_get(j, "error");
                return server_error(st, "error event", json_is_object(e) ? e : j);
        }
        return 0; /* deltas of arguments, added items, unknown types: not needed */
}

static int event(struct model_stream *st, const bridle__sse_event *ev)
{
        if (st->completed)
                return 0; /* nothing after the final event matters */
        json_error_t jerr;
        _cleanup_(json_decrefp) json_t *j = json_loadb(ev->data, ev->data_len, 0, &jerr);
        if (!json_is_object(j))
                return bridle__stream_fail(st, "protocol", "malformed event '%.64s': %s", ev->type,
                                           j ? "not an object" : jerr.text);
        const char *type = json_string_value(json_object_get(j, "type"));
        return handle(st, type ? type : ev->type, j);
}

static int end(struct model_stream *st)
{
        if (!st->completed)
                return bridle__stream_fail(st, "truncated",
                                           "stream ended before response.completed");
        if (!st->output) {
                /* A final event without output: the items seen one by one. */
                st->output = st->collected ? json_incref(st->collected) : json_array();
                if (!st->output)
                        return bridle__stream_fail(st, "oom", "out of memory");
        }
        return 0;
}

const struct model_provider bridle__provider_responses = {
        .name = "openai-responses",
        .path = "/responses",
        .build = build,
        .event = event,
        .end = end,
};
