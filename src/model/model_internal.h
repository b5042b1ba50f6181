/* SPDX-License-Identifier: MIT */
/* Internals shared by the model module's files (not used outside src/model/ and its tests). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/http.h"
#include "model/model.h"
#include "model/sse.h"

/* Caps on what a response may hold. */
#define MODEL_MAX_TEXT       ((size_t)32 << 20) /* one chat message's text / a call's arguments */
#define MODEL_MAX_TOOL_CALLS 256                /* chat: tool calls in one response */

/* A growable byte buffer with a cap. */
struct mbuf {
        char *p;
        size_t len, cap;
};
int bridle__mbuf_add(struct mbuf *b, const char *s, size_t n, size_t max);
void bridle__mbuf_release(struct mbuf *b);

struct chat_state;

/* One attempt's stream: what the provider's event handler builds. */
struct model_stream {
        const struct model_provider *prov;
        const bridle__model_events *ev;
        bridle__sse sse;
        json_t *output;    /* the final items (owned) */
        json_t *collected; /* responses: items seen in output_item.done (fallback) */
        char *response_id;
        bridle__model_usage usage;
        bool completed;         /* the final event was seen */
        unsigned long events;   /* events handled */
        const char *fail_class; /* set by a handler that stops the stream */
        char fail_msg[300];
        struct chat_state *chat;
};

struct model_provider {
        const char *name;
        const char *path; /* appended to base_url; NULL: no HTTP */
        /* The request body: a NUL-terminated JSON text (caller frees). */
        int (*build)(const bridle__model_cfg *cfg, const bridle__model_req *req, char **ret_body,
                     size_t *ret_len, bridle_error *err);
        /* One SSE event; a negative return stops the stream (fail_class set). */
        int (*event)(struct model_stream *st, const bridle__sse_event *ev);
        /* The stream ended: turn what was gathered into st->output. */
        int (*end)(struct model_stream *st);
        void (*release)(struct model_stream *st);
};

extern const struct model_provider bridle__provider_responses;
extern const struct model_provider bridle__provider_chat;

/* Stream plumbing (model.c), usable without HTTP (tests, fuzzing). */
void bridle__stream_init(struct model_stream *st, const struct model_provider *prov,
                         const bridle__model_events *ev);
/* Feed body bytes; negative when the stream must stop (st->fail_class set). */
int bridle__stream_feed(struct model_stream *st, const char *buf, size_t len);
/* The body ended: 0 with st->completed true, or negative with fail_class set
 * ("truncated" when the final event never came). */
int bridle__stream_end(struct model_stream *st);
void bridle__stream_release(struct model_stream *st);
/* Record a failure (class + message); returns BRIDLE_E_MODEL. */
int bridle__stream_fail(struct model_stream *st, const char *cls, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* The class of an error code sent by the server in a failed response or an
 * error event ("rate_limit", "server", "refused", ...). */
const char *bridle__model_code_class(const char *code);

/* The scripted provider (scripted.c). */
int bridle__scripted_call(const bridle__model_cfg *cfg, const bridle__model_req *req,
                          const bridle__model_events *ev, bridle__model_resp *resp,
                          bridle_error *err);

/* Whether a model name is a reasoning model (its reasoning items are asked for
 * with include: ["reasoning.encrypted_content"]). */
bool bridle__model_is_reasoning(const char *model);
