/* SPDX-License-Identifier: MIT */
/* The incremental SSE parser (sse.h). */
#include "model/sse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"

void bridle__sse_init(bridle__sse *p, size_t max_line, size_t max_event)
{
        memset(p, 0, sizeof(*p));
        p->max_line = max_line ? max_line : BRIDLE__SSE_MAX_LINE;
        p->max_event = max_event ? max_event : BRIDLE__SSE_MAX_EVENT;
        p->retry_ms = -1;
}

void bridle__sse_release(bridle__sse *p)
{
        free(p->line);
        free(p->data);
        p->line = p->data = NULL;
        p->line_len = p->line_cap = p->data_len = p->data_cap = 0;
}

static int limit(bridle_error *err, const char *what, size_t max)
{
        if (err) {
                (void)snprintf(err->msg, sizeof(err->msg), "event stream: %s longer than %zu bytes",
                               what, max);
                err->code = BRIDLE_E_LIMIT;
        }
        return BRIDLE_E_LIMIT;
}

/* Make room for need more bytes plus a NUL. */
static int grow(char **buf, size_t *cap, size_t len, size_t need)
{
        if (len + need + 1 <= *cap)
                return 0;
        size_t n = *cap ? *cap : 256;
        while (n < len + need + 1)
                n *= 2;
        char *p = bridle__realloc(*buf, n);
        if (!p)
                return -ENOMEM;
        *buf = p;
        *cap = n;
        return 0;
}

static void reset_event(bridle__sse *p)
{
        p->data_len = 0;
        p->have_data = false;
        p->type[0] = '\0';
}

static int dispatch(bridle__sse *p, bridle__sse_fn fn, void *ud, bridle_error *err)
{
        if (!p->have_data) {
                reset_event(p);
                return 0;
        }
        if (grow(&p->data, &p->data_cap, p->data_len, 0) < 0)
                return bridle__err(err, -ENOMEM, "event stream");
        p->data[p->data_len] = '\0';
        bridle__sse_event ev = {
                .type = p->type[0] ? p->type : "message",
                .data = p->data,
                .data_len = p->data_len,
                .id = p->id,
        };
        p->events++;
        int r = fn ? fn(ud, &ev) : 0;
        reset_event(p);
        return r;
}

static int add_data(bridle__sse *p, const char *v, size_t n, bridle_error *err)
{
        size_t sep = p->have_data ? 1 : 0;
        if (p->data_len + sep + n > p->max_event)
                return limit(err, "event", p->max_event);
        if (grow(&p->data, &p->data_cap, p->data_len, sep + n) < 0)
                return bridle__err(err, -ENOMEM, "event stream");
        if (sep)
                p->data[p->data_len++] = '\n';
        memcpy(p->data + p->data_len, v, n);
        p->data_len += n;
        p->have_data = true;
        return 0;
}

/* One complete line, without its terminator. */
static int line(bridle__sse *p, const char *s, size_t n, bridle__sse_fn fn, void *ud,
                bridle_error *err)
{
        if (!p->started) {
                p->started = true;
                if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
                        s += 3;
                        n -= 3;
                }
        }
        if (n == 0)
                return dispatch(p, fn, ud, err);
        if (s[0] == ':')
                return 0;
        const char *colon = memchr(s, ':', n);
        size_t flen = colon ? (size_t)(colon - s) : n;
        const char *v = colon ? colon + 1 : s + n;
        size_t vlen = (size_t)(s + n - v);
        if (vlen && v[0] == ' ') {
                v++;
                vlen--;
        }
        if (flen == 4 && memcmp(s, "data", 4) == 0)
                return add_data(p, v, vlen, err);
        if (flen == 5 && memcmp(s, "event", 5) == 0) {
                size_t k = vlen < sizeof(p->type) - 1 ? vlen : sizeof(p->type) - 1;
                memcpy(p->type, v, k);
                p->type[k] = '\0';
                /* A NUL inside the value would cut it; it is only a name. */
                return 0;
        }
        if (flen == 2 && memcmp(s, "id", 2) == 0 && !memchr(v, '\0', vlen) &&
            vlen < sizeof(p->id)) {
                memcpy(p->id, v, vlen);
                p->id[vlen] = '\0';
        }
        if (flen == 5 && memcmp(s, "retry", 5) == 0 && vlen > 0 && vlen <= 9) {
                long ms = 0;
                for (size_t i = 0; i < vlen; i++) {
                        if (v[i] < '0' || v[i] > '9')
                                return 0;
                        ms = ms * 10 + (v[i] - '0');
                }
                p->retry_ms = ms;
        }
        return 0;
}

static const char *find_eol(const char *s, const char *end)
{
        for (; s < end; s++)
                if (*s == '\n' || *s == '\r')
                        return s;
        return NULL;
}

/* Keep the start of a line that the feed cut. */
static int keep(bridle__sse *p, const char *s, size_t n, bridle_error *err)
{
        if (p->line_len + n > p->max_line)
                return limit(err, "line", p->max_line);
        if (grow(&p->line, &p->line_cap, p->line_len, n) < 0)
                return bridle__err(err, -ENOMEM, "event stream");
        memcpy(p->line + p->line_len, s, n);
        p->line_len += n;
        return 0;
}

/* A line ends at s + n: whole in this feed, or completing a kept start. */
static int complete(bridle__sse *p, const char *s, size_t n, bridle__sse_fn fn, void *ud,
                    bridle_error *err)
{
        if (!p->line_len) {
                if (n > p->max_line)
                        return limit(err, "line", p->max_line);
                return line(p, s, n, fn, ud, err);
        }
        int r = keep(p, s, n, err);
        if (r < 0)
                return r;
        size_t total = p->line_len;
        p->line_len = 0;
        return line(p, p->line, total, fn, ud, err);
}

int bridle__sse_feed(bridle__sse *p, const char *buf, size_t len, bridle__sse_fn fn, void *ud,
                     bridle_error *err)
{
        const char *s = buf, *end = buf + len;
        if (len && p->cr_seen && *s == '\n')
                s++;
        if (len)
                p->cr_seen = false;
        while (s < end) {
                const char *eol = find_eol(s, end);
                if (!eol)
                        return keep(p, s, (size_t)(end - s), err);
                int r = complete(p, s, (size_t)(eol - s), fn, ud, err);
                s = eol + 1;
                if (*eol == '\r') {
                        if (s < end && *s == '\n')
                                s++;
                        else if (s == end)
                                p->cr_seen = true;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int bridle__sse_finish(bridle__sse *p, bridle__sse_fn fn, void *ud, bridle_error *err)
{
        if (p->line_len) {
                /* Cut in the middle of a line: the whole event is dropped. */
                p->line_len = 0;
                reset_event(p);
                return 0;
        }
        return dispatch(p, fn, ud, err);
}
