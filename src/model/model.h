/* SPDX-License-Identifier: MIT */
/*
 * Model providers: one call = one model request = one response.
 *
 * Items (input and output) are OpenAI Responses API items in their wire
 * shapes (docs/harness.md, "One item model"), whatever the provider:
 *   - "openai-responses": POST {base_url}/responses, stream: true (SSE);
 *   - "openai-chat":      POST {base_url}/chat/completions, stream: true,
 *                         stream_options.include_usage; items are translated
 *                         to chat messages and tool_calls deltas back to items;
 *   - "scripted":         the script's entry number req->turn_index, returned
 *                         as written (after the short forms are expanded), so
 *                         it goes through the same code path as a real model.
 * base_url defaults to https://api.openai.com/v1 and has no trailing slash.
 *
 * Retries: 429 (Retry-After honoured, seconds or HTTP date, capped at 60 s),
 * 5xx, connection failures and resets, a stall (no byte for stall_ms) and a
 * stream cut before its final event are retried with exponential backoff and
 * full jitter, at most cfg->max_retries times per call and while
 * *run_retries_left > 0 (decremented per retry). Anything else fails at once.
 * Failure: BRIDLE_E_MODEL (or -ENOMEM), err->msg says what and where, and
 * resp->error_class names the class ("auth", "bad_request", "not_found",
 * "rate_limit", "server", "network", "stall", "truncated", "protocol",
 * "refused", "script"). The API key is sent only in the Authorization header
 * and never appears in err->msg, events or logs.
 *
 * Ownership: the cfg's strings and json are borrowed for the model's life;
 * resp's members are owned by resp (bridle__model_resp_clear()).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "bridle/common.h"

typedef struct bridle__model bridle__model;

typedef struct bridle__model_cfg {
        const char *provider;    /* "openai-responses" | "openai-chat" | "scripted" */
        const char *model;       /* e.g. "gpt-5.1" */
        const char *base_url;    /* NULL: https://api.openai.com/v1 */
        const char *api_key;     /* NULL: no Authorization header */
        const json_t *script;    /* scripted: the list (one entry per call) */
        const char *script_name; /* for messages: the script's file name */
        unsigned max_retries;    /* per call; 0: the default (4) */
        unsigned stall_ms;       /* no byte for this long: a stall; 0: 60000 */
        unsigned timeout_ms;     /* whole request; 0: 600000 */
        unsigned backoff_ms;     /* first backoff; 0: 500 (tests set it small) */
        volatile int *cancel;    /* may be NULL; non-zero stops a call (transfer or
                                    backoff) within ~100 ms: BRIDLE_E_INTERRUPTED,
                                    class "interrupted" */
} bridle__model_cfg;

typedef struct bridle__model_req {
        const char *instructions;   /* system / developer text; may be NULL */
        const json_t *input;        /* array of items (borrowed) */
        const json_t *tools;        /* array of Responses tool definitions (borrowed; may be NULL):
                                       {"type":"function","name","description","parameters","strict":false}
                                       or {"type":"shell"} / {"type":"apply_patch"} */
        unsigned turn_index;        /* scripted: which entry (0-based) */
        unsigned *run_retries_left; /* may be NULL: unbounded per run */
} bridle__model_req;

typedef struct bridle__model_usage {
        int64_t input_tokens, cached_tokens, output_tokens, reasoning_tokens;
} bridle__model_usage;

typedef struct bridle__model_resp {
        json_t *output;    /* array of items */
        char *response_id; /* may be NULL */
        bridle__model_usage usage;
        unsigned retries;     /* how many retries this call took */
        char error_class[16]; /* on failure */
} bridle__model_resp;

/* Streaming callbacks (any may be NULL). Called on the caller's thread. */
typedef struct bridle__model_events {
        void (*text_delta)(void *ud, const char *text, size_t len);
        void (*item_done)(void *ud, const json_t *item);
        void (*retry)(void *ud, unsigned attempt, const char *error_class, const char *msg,
                      unsigned delay_ms);
        void *ud;
} bridle__model_events;

int bridle__model_new(const bridle__model_cfg *cfg, bridle__model **ret, bridle_error *err);
bridle__model *bridle__model_free(bridle__model *m);

int bridle__model_call(bridle__model *m, const bridle__model_req *req,
                       const bridle__model_events *ev, bridle__model_resp *resp, bridle_error *err);
void bridle__model_resp_clear(bridle__model_resp *resp);

/*
 * Script files: a YAML/JSON list, one entry per model call, each a list of
 * items. Short forms: "arguments" as an object (serialised to a string), a
 * message's "content" as a plain string (becomes output_text), a missing
 * role (assistant), id or call_id (generated). Checked entirely on load;
 * errors name the file, line and column. *ret is the expanded list.
 */
int bridle__script_load(const char *path, json_t **ret, bridle_error *err);
/* The same from memory; name is used in messages. */
int bridle__script_parse(const char *data, size_t len, const char *name, json_t **ret, bridle_error *err);
int bridle__script_check(const json_t *script, const char *name, bridle_error *err);

/*
 * Prices in USD per million tokens. Built-in table for known models; the
 * file named by $BRIDLE_PRICES, else $BRIDLE_HOME/prices.yaml if present,
 * overrides or adds entries: {MODEL: {input: 1.25, cached_input: 0.125, output: 10}}.
 * Unknown model: cost 0 and *known false.
 */
double bridle__model_cost(const char *model, const bridle__model_usage *u, bool *known);
/* Forget the loaded override file: the next bridle__model_cost() reads it again (tests). */
void bridle__model_prices_reload(void);
/* The price table in use (bridle prices): {"file": the override file read,
 * or absent; "looked_at": where one is looked for; "unit"; "models":
 * [{"model","input","cached_input","output","source":"built-in"|"file"}]}.
 * NULL only on ENOMEM. */
json_t *bridle__model_prices_table(void);
