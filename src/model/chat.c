/* SPDX-License-Identifier: MIT */
/*
 * The "openai-chat" provider: POST /chat/completions, stream: true.
 * Items go out as chat messages; the streamed deltas come back as items:
 * the text as one assistant message, tool_calls (assembled by index) as
 * function_call items, in that order.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model/model_internal.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

struct tool_call {
        char *id;
        struct mbuf name, args;
};

struct chat_state {
        struct mbuf text, refusal;
        struct tool_call *calls;
        size_t ncalls;
};

/* ---- request -------------------------------------------------------------------- */

static bool put(json_t *o, const char *key, json_t *v)
{
        return v && json_object_set_new_nocheck(o, key, v) == 0;
}

static bool add(json_t *a, json_t *v)
{
        return v && json_array_append_new(a, v) == 0;
}

static bool is_text_part(const json_t *part)
{
        const char *t = json_string_value(json_object_get(part, "type"));
        return t && (strcmp(t, "input_text") == 0 || strcmp(t, "output_text") == 0 ||
                     strcmp(t, "text") == 0);
}

/* A message's content: a string as it is, one text part as its string,
 * several parts as chat parts (text and image_url). */
static json_t *content(const json_t *c)
{
        if (json_is_string(c))
                return json_incref((json_t *)c);
        if (!json_is_array(c))
                return json_string("");
        if (json_array_size(c) == 1 && is_text_part(json_array_get(c, 0))) {
                json_t *t = json_object_get(json_array_get(c, 0), "text");
                return json_is_string(t) ? json_incref(t) : json_string("");
        }
        json_t *parts = json_array();
        size_t i;
        const json_t *p;
        json_array_foreach(c, i, p)
        {
                const char *t = json_string_value(json_object_get(p, "type"));
                json_t *np = NULL;
                if (is_text_part(p) && json_is_string(json_object_get(p, "text")))
                        np = json_pack("{s:s,s:O}", "type", "text", "text",
                                       json_object_get(p, "text"));
                else if (t && strcmp(t, "input_image") == 0 && json_object_get(p, "image_url"))
                        np = json_pack("{s:s,s:{s:O}}", "type", "image_url", "image_url", "url",
                                       json_object_get(p, "image_url"));
                else
                        continue;
                if (!add(parts, np)) {
                        json_decref(parts);
                        return NULL;
                }
        }
        return parts;
}

static json_t *message(const json_t *item)
{
        const char *role = json_string_value(json_object_get(item, "role"));
        json_t *m = json_object();
        if (!put(m, "role", json_string(role ? role : "user")) ||
            !put(m, "content", content(json_object_get(item, "content"))))
                return json_decref(m), NULL;
        return m;
}

/* Append a function_call item to the assistant message before it, or to a new one. */
static bool function_call(json_t *msgs, json_t **assistant, const json_t *item)
{
        json_t *args = json_object_get(item, "arguments");
        json_t *tc = json_is_string(args)
                             ? json_pack("{s:O?,s:s,s:{s:O?,s:O}}", "id",
                                         json_object_get(item, "call_id"), "type", "function",
                                         "function", "name", json_object_get(item, "name"),
                                         "arguments", args)
                             : json_pack("{s:O?,s:s,s:{s:O?,s:s}}", "id",
                                         json_object_get(item, "call_id"), "type", "function",
                                         "function", "name", json_object_get(item, "name"),
                                         "arguments", "{}");
        if (!tc)
                return false;
        if (!*assistant) {
                json_t *m = json_pack("{s:s,s:n}", "role", "assistant", "content");
                if (!add(msgs, m))
                        return json_decref(tc), false;
                *assistant = m;
        }
        json_t *calls = json_object_get(*assistant, "tool_calls");
        if (!calls && !put(*assistant, "tool_calls", calls = json_array()))
                return json_decref(tc), false;
        return add(calls, tc);
}

static json_t *tool_result(const json_t *item)
{
        json_t *out = json_object_get(item, "output");
        json_t *c;
        if (json_is_string(out))
                c = json_incref(out);
        else if (json_is_array(out))
                c = content(out);
        else {
                char *s = out ? json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
                c = json_string(s ? s : "");
                free(s);
        }
        if (!c)
                return NULL;
        return json_pack("{s:s,s:O?,s:o}", "role", "tool", "tool_call_id",
                         json_object_get(item, "call_id"), "content", c);
}

/* Items as chat messages; reasoning and native tool items have no chat form. */
static json_t *messages(const char *instructions, const json_t *input)
{
        json_t *msgs = json_array();
        if (!msgs)
                return NULL;
        if (instructions &&
            !add(msgs, json_pack("{s:s,s:s}", "role", "system", "content", instructions)))
                return json_decref(msgs), NULL;
        json_t *assistant = NULL; /* the last message, if an assistant's */
        size_t i;
        const json_t *item;
        json_array_foreach(input, i, item)
        {
                const char *type = json_string_value(json_object_get(item, "type"));
                bool ok = true;
                if (!type || strcmp(type, "message") == 0) {
                        json_t *m = message(item);
                        ok = add(msgs, m);
                        const char *role = json_string_value(json_object_get(item, "role"));
                        assistant = ok && role && strcmp(role, "assistant") == 0 ? m : NULL;
                } else if (strcmp(type, "function_call") == 0) {
                        ok = function_call(msgs, &assistant, item);
                } else if (strcmp(type, "function_call_output") == 0) {
                        ok = add(msgs, tool_result(item));
                        assistant = NULL;
                }
                if (!ok)
                        return json_decref(msgs), NULL;
        }
        return msgs;
}

static json_t *tools(const json_t *defs)
{
        json_t *out = json_array();
        size_t i;
        const json_t *t;
        json_array_foreach(defs, i, t)
        {
                const char *type = json_string_value(json_object_get(t, "type"));
                if (!type || strcmp(type, "function") != 0)
                        continue; /* native tools (shell, apply_patch) have no chat form */
                json_t *f = json_pack("{s:O?,s:O?,s:O?}", "name", json_object_get(t, "name"),
                                      "description", json_object_get(t, "description"),
                                      "parameters", json_object_get(t, "parameters"));
                json_t *strict = json_object_get(t, "strict");
                if (f && json_is_true(strict) && !put(f, "strict", json_true()))
                        f = (json_decref(f), NULL);
                if (!f || !out ||
                    !add(out, json_pack("{s:s,s:o}", "type", "function", "function", f)))
                        return json_decref(out), NULL;
        }
        return out;
}

static int build(const bridle__model_cfg *cfg, const bridle__model_req *req, char **ret_body,
                 size_t *ret_len, bridle_error *err)
{
        _cleanup_(json_decrefp) json_t *body = json_object();
        _cleanup_(json_decrefp) json_t *t = NULL;
        json_t *input = (json_t *)req->input;
        _cleanup_(json_decrefp) json_t *none = input ? NULL : json_array();
        bool ok = body && (input || none);
        if (ok && req->tools && json_array_size(req->tools) > 0)
                ok = (t = tools(req->tools)) != NULL;
        ok = ok && put(body, "model", json_string(cfg->model)) &&
             put(body, "messages", messages(req->instructions, input ? input : none)) &&
             put(body, "stream", json_true()) &&
             put(body, "stream_options", json_pack("{s:b}", "include_usage", 1));
        if (ok && t && json_array_size(t) > 0)
                ok = put(body, "tools", json_incref(t)) &&
                     put(body, "parallel_tool_calls", json_true());
        if (!ok)
                return bridle__err(err, -ENOMEM, "request body");
        char *s = json_dumps(body, JSON_COMPACT);
        if (!s)
                return bridle__err(err, -ENOMEM, "request body");
        *ret_len = strlen(s);
        *ret_body = s;
        return 0;
}

/* ---- stream ----------------------------------------------------------------------- */

static struct chat_state *state(struct model_stream *st)
{
        if (!st->chat)
                st->chat = bridle__calloc(1, sizeof(*st->chat));
        return st->chat;
}

static int oom(struct model_stream *st)
{
        return bridle__stream_fail(st, "oom", "out of memory");
}

static int append(struct model_stream *st, struct mbuf *b, const json_t *s, const char *what)
{
        if (!json_is_string(s))
                return 0;
        int r = bridle__mbuf_add(b, json_string_value(s), json_string_length(s), MODEL_MAX_TEXT);
        if (r == -ENOMEM)
                return oom(st);
        if (r < 0)
                return bridle__stream_fail(st, "protocol", "%s longer than %zu bytes", what,
                                           MODEL_MAX_TEXT);
        return 0;
}

static struct tool_call *call_at(struct model_stream *st, struct chat_state *cs, const json_t *d)
{
        const json_t *ix = json_object_get(d, "index");
        const char *id = json_string_value(json_object_get(d, "id"));
        size_t i;
        if (json_is_integer(ix) && json_integer_value(ix) >= 0)
                i = (size_t)json_integer_value(ix);
        else if (cs->ncalls && (!id || !cs->calls[cs->ncalls - 1].id ||
                                strcmp(id, cs->calls[cs->ncalls - 1].id) == 0))
                i = cs->ncalls - 1; /* no index: the same call goes on */
        else
                i = cs->ncalls;
        if (i >= MODEL_MAX_TOOL_CALLS) {
                (void)bridle__stream_fail(st, "protocol", "more than %d tool calls",
                                          MODEL_MAX_TOOL_CALLS);
                return NULL;
        }
        if (i >= cs->ncalls) {
                struct tool_call *c = bridle__realloc(cs->calls, (i + 1) * sizeof(*c));
                if (!c) {
                        (void)oom(st);
                        return NULL;
                }
                memset(c + cs->ncalls, 0, (i + 1 - cs->ncalls) * sizeof(*c));
                cs->calls = c;
                cs->ncalls = i + 1;
        }
        struct tool_call *c = &cs->calls[i];
        if (id && !c->id && !(c->id = bridle__strdup(id))) {
                (void)oom(st);
                return NULL;
        }
        return c;
}

static int tool_deltas(struct model_stream *st, struct chat_state *cs, const json_t *tcs)
{
        size_t i;
        const json_t *d;
        json_array_foreach(tcs, i, d)
        {
                struct tool_call *c = call_at(st, cs, d);
                if (!c)
                        return BRIDLE_E_MODEL;
                const json_t *f = json_object_get(d, "function");
                int r = append(st, &c->name, json_object_get(f, "name"), "a tool name");
                if (r == 0)
                        r = append(st, &c->args, json_object_get(f, "arguments"), "tool arguments");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int delta(struct model_stream *st, const json_t *d)
{
        struct chat_state *cs = state(st);
        if (!cs)
                return oom(st);
        const json_t *text = json_object_get(d, "content");
        if (json_is_string(text) && json_string_length(text)) {
                int r = append(st, &cs->text, text, "the text");
                if (r < 0)
                        return r;
                if (st->ev && st->ev->text_delta)
                        st->ev->text_delta(st->ev->ud, json_string_value(text),
                                           json_string_length(text));
        }
        int r = append(st, &cs->refusal, json_object_get(d, "refusal"), "a refusal");
        if (r < 0)
                return r;
        const json_t *tcs = json_object_get(d, "tool_calls");
        return json_is_array(tcs) ? tool_deltas(st, cs, tcs) : 0;
}

static int64_t num(const json_t *o, const char *key)
{
        json_int_t v = json_integer_value(json_object_get(o, key));
        return v > 0 ? (int64_t)v : 0;
}

static int chunk(struct model_stream *st, const json_t *j)
{
        const json_t *e = json_object_get(j, "error");
        if (e) {
                const char *code = json_string_value(json_object_get(e, "code"));
                const char *msg = json_string_value(json_object_get(e, "message"));
                if (!code)
                        code = json_string_value(json_object_get(e, "type"));
                return bridle__stream_fail(st, bridle__model_code_class(code),
                                           "error event: %s%s%s", code ? code : "no code",
                                           msg ? ": " : "", msg ? msg : "");
        }
        const char *id = json_string_value(json_object_get(j, "id"));
        if (id && !st->response_id && !(st->response_id = bridle__strdup(id)))
                return oom(st);
        const json_t *u = json_object_get(j, "usage");
        if (json_is_object(u)) {
                st->usage.input_tokens = num(u, "prompt_tokens");
                st->usage.output_tokens = num(u, "completion_tokens");
                st->usage.cached_tokens =
                        num(json_object_get(u, "prompt_tokens_details"), "cached_tokens");
                st->usage.reasoning_tokens =
                        num(json_object_get(u, "completion_tokens_details"), "reasoning_tokens");
        }
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(j, "choices"), i, c)
        {
                json_int_t ix = json_integer_value(json_object_get(c, "index"));
                const json_t *d = json_object_get(c, "delta");
                if (ix != 0 || !json_is_object(d))
                        continue; /* n = 1: only the first choice */
                int r = delta(st, d);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int event(struct model_stream *st, const bridle__sse_event *ev)
{
        if (st->completed)
                return 0;
        if (ev->data_len == 6 && memcmp(ev->data, "[DONE]", 6) == 0) {
                st->completed = true;
                return 0;
        }
        json_error_t jerr;
        _cleanup_(json_decrefp) json_t *j = json_loadb(ev->data, ev->data_len, 0, &jerr);
        if (!json_is_object(j))
                return bridle__stream_fail(st, "protocol", "malformed chunk: %s",
                                           j ? "not an object" : jerr.text);
        return chunk(st, j);
}

/* ---- output items -------------------------------------------------------------------- */

static json_t *text_item(const struct model_stream *st, const struct chat_state *cs)
{
        json_t *parts = json_array();
        if (cs->text.len && !add(parts, json_pack("{s:s,s:s%,s:[]}", "type", "output_text", "text",
                                                  cs->text.p, cs->text.len, "annotations")))
                return json_decref(parts), NULL;
        if (cs->refusal.len && !add(parts, json_pack("{s:s,s:s%}", "type", "refusal", "refusal",
                                                     cs->refusal.p, cs->refusal.len)))
                return json_decref(parts), NULL;
        char id[160];
        (void)snprintf(id, sizeof(id), "msg_%s", st->response_id ? st->response_id : "chat");
        return json_pack("{s:s,s:s,s:s,s:s,s:o}", "type", "message", "id", id, "role", "assistant",
                         "status", "completed", "content", parts);
}

static json_t *call_item(const struct tool_call *c, size_t i)
{
        char call_id[64], id[160];
        if (!c->id)
                (void)snprintf(call_id, sizeof(call_id), "call_%zu", i);
        (void)snprintf(id, sizeof(id), "fc_%s", c->id ? c->id : call_id);
        return json_pack("{s:s,s:s,s:s,s:s%,s:s%,s:s}", "type", "function_call", "id", id,
                         "call_id", c->id ? c->id : call_id, "name", c->name.p ? c->name.p : "",
                         c->name.len, "arguments", c->args.p ? c->args.p : "{}",
                         c->args.p ? c->args.len : 2, "status", "completed");
}

static int end(struct model_stream *st)
{
        if (!st->completed)
                return bridle__stream_fail(st, "truncated", "stream ended before [DONE]");
        struct chat_state *cs = state(st);
        json_t *out = json_array();
        if (!cs || !out)
                return json_decref(out), oom(st);
        st->output = out;
        if ((cs->text.len || cs->refusal.len) && !add(out, text_item(st, cs)))
                return oom(st);
        for (size_t i = 0; i < cs->ncalls; i++)
                if (!add(out, call_item(&cs->calls[i], i)))
                        return oom(st);
        if (st->ev && st->ev->item_done) {
                size_t i;
                const json_t *item;
                json_array_foreach(out, i, item)
                {
                        st->ev->item_done(st->ev->ud, item);
                }
        }
        return 0;
}

static void release(struct model_stream *st)
{
        struct chat_state *cs = st->chat;
        if (!cs)
                return;
        bridle__mbuf_release(&cs->text);
        bridle__mbuf_release(&cs->refusal);
        for (size_t i = 0; i < cs->ncalls; i++) {
                free(cs->calls[i].id);
                bridle__mbuf_release(&cs->calls[i].name);
                bridle__mbuf_release(&cs->calls[i].args);
        }
        free(cs->calls);
        free(cs);
        st->chat = NULL;
}

const struct model_provider bridle__provider_chat = {
        .name = "openai-chat",
        .path = "/chat/completions",
        .build = build,
        .event = event,
        .end = end,
        .release = release,
};
