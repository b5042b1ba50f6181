/* SPDX-License-Identifier: MIT */
/*
 * HTTP for the model providers: one libcurl easy handle per model, driven by
 * a private multi handle so connections are kept alive between calls and a
 * stall (no byte for stall_ms) is seen to the millisecond. POST only.
 *
 * The API key goes into the Authorization header and nowhere else: it is
 * never in a result, a message or a log line.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bridle/common.h"

typedef struct bridle__http bridle__http;

/* Called with the body of a 2xx text/event-stream response, as it arrives.
 * Return 0 to go on, negative to stop the transfer. */
typedef int (*bridle__http_body_fn)(void *ud, const char *p, size_t n);

#define BRIDLE__HTTP_MAX_ERROR_BODY ((size_t)64 << 10)

typedef struct bridle__http_result {
        long status;            /* 0: no response */
        int curl_code;          /* CURLcode of the transfer */
        bool stalled;           /* no byte for stall_ms */
        bool timed_out;         /* the whole-request timeout */
        bool aborted;           /* the body callback stopped it */
        bool not_sse;           /* 2xx but not text/event-stream (body kept) */
        int64_t retry_after_ms; /* -1: no Retry-After */
        char curl_msg[256];     /* what curl said on a transport error */
        char content_type[80];
        char *body; /* non-2xx (or not_sse) body, capped; NUL-terminated */
        size_t body_len;
} bridle__http_result;

int bridle__http_new(const char *api_key, bridle__http **ret, bridle_error *err);
bridle__http *bridle__http_free(bridle__http *h);
/* A flag that, once non-zero, ends a transfer within ~100 ms: post returns -ECANCELED. */
void bridle__http_set_cancel(bridle__http *h, volatile int *cancel);

/* POST body (len bytes) to url. Returns 0 when a response (any status) or a
 * transport failure is described in *res, -ENOMEM otherwise. The caller
 * releases res with bridle__http_result_release(). */
int bridle__http_post(bridle__http *h, const char *url, const char *body, size_t len,
                      unsigned stall_ms, unsigned timeout_ms, bridle__http_body_fn fn, void *ud,
                      bridle__http_result *res);
void bridle__http_result_release(bridle__http_result *res);

/* Retry-After: delta-seconds or an HTTP date; milliseconds from now, -1 if
 * unparsable; capped at max_ms. */
int64_t bridle__http_retry_after(const char *value, int64_t max_ms);
