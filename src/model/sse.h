/* SPDX-License-Identifier: MIT */
/*
 * An incremental Server-Sent Events parser (the WHATWG "event stream"
 * format): a pure function of the bytes fed to it, in any chunking.
 *
 *   - lines end in CRLF, LF or CR (a CRLF split across two feeds counts once);
 *   - a UTF-8 byte order mark at the very start is skipped;
 *   - ":comment" lines are ignored; "field: value" drops one space after
 *     the colon; a line without a colon is a field with an empty value;
 *   - "event" sets the type, "data" lines are joined with "\n", "id" sets
 *     the last event id (kept across events, ignored if it holds a NUL),
 *     "retry" (ASCII digits only, at most 9) sets retry_ms (kept across
 *     events; it never changes what is dispatched), anything else is ignored;
 *   - a blank line dispatches the event if a data line was seen, then the
 *     type is reset to "message";
 *   - caps: a line longer than max_line or an event's data longer than
 *     max_event fails with BRIDLE_E_LIMIT.
 *
 * The event passed to the callback is borrowed for the call only; its data
 * is NUL-terminated (and may hold NULs: use data_len).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bridle/common.h"

#define BRIDLE__SSE_MAX_LINE  ((size_t)16 << 20)
#define BRIDLE__SSE_MAX_EVENT ((size_t)32 << 20)
#define BRIDLE__SSE_MAX_TYPE  256
#define BRIDLE__SSE_MAX_ID    1024

typedef struct bridle__sse_event {
        const char *type; /* "message" unless an event field said otherwise */
        const char *data;
        size_t data_len;
        const char *id; /* the last event id, or "" */
} bridle__sse_event;

/* Return 0 to go on, a negative value to stop (bridle__sse_feed returns it). */
typedef int (*bridle__sse_fn)(void *ud, const bridle__sse_event *ev);

typedef struct bridle__sse {
        char *line; /* a line cut by the end of a feed */
        size_t line_len, line_cap;
        char *data;
        size_t data_len, data_cap;
        bool have_data; /* a data field was seen since the last dispatch */
        bool cr_seen;   /* the last byte was a CR: an LF right after it is part of it */
        bool started;   /* past the optional byte order mark */
        char type[BRIDLE__SSE_MAX_TYPE];
        char id[BRIDLE__SSE_MAX_ID];
        size_t max_line, max_event;
        unsigned long events; /* dispatched so far */
        long retry_ms;        /* the last valid retry field, -1 if none came */
} bridle__sse;

/* max_line / max_event 0: the defaults above. */
void bridle__sse_init(bridle__sse *p, size_t max_line, size_t max_event);
void bridle__sse_release(bridle__sse *p);

/* Feed bytes; calls fn for every complete event. 0, BRIDLE_E_LIMIT, -ENOMEM
 * or the callback's negative value (err is filled in except for the latter). */
int bridle__sse_feed(bridle__sse *p, const char *buf, size_t len, bridle__sse_fn fn, void *ud,
                     bridle_error *err);

/* The stream ended. A last line that is complete but not followed by a blank
 * line still dispatches its event (lenient); a cut line is dropped. Returns
 * as bridle__sse_feed. */
int bridle__sse_finish(bridle__sse *p, bridle__sse_fn fn, void *ud, bridle_error *err);
