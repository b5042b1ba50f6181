/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the SSE parser on arbitrary bytes in chunks whose size comes
 * from the input, and the same bytes as a Responses or Chat Completions
 * stream (events -> items). The first byte picks the chunk size (low 6 bits)
 * and the consumer (high 2 bits: raw parser, responses, chat).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"
#include "model/sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(void *ud, const bridle__sse_event *ev)
{
        (void)ud;
        /* The data is NUL-terminated at data_len; the type and id are strings. */
        if (ev->data[ev->data_len] != '\0' || strlen(ev->type) >= BRIDLE__SSE_MAX_TYPE ||
            strlen(ev->id) >= BRIDLE__SSE_MAX_ID)
                abort();
        return 0;
}

static void on_text(void *ud, const char *t, size_t n)
{
        (void)ud;
        (void)t;
        (void)n;
}

static void on_item(void *ud, const json_t *item)
{
        (void)ud;
        if (!item)
                abort();
}

static void raw(const char *p, size_t size, size_t chunk)
{
        bridle__sse sse;
        bridle__sse_init(&sse, 4096, 8192);
        int r = 0;
        for (size_t off = 0; off < size && r == 0; off += chunk)
                r = bridle__sse_feed(&sse, p + off, size - off < chunk ? size - off : chunk, check,
                                     NULL, NULL);
        if (r == 0)
                (void)bridle__sse_finish(&sse, check, NULL, NULL);
        bridle__sse_release(&sse);
}

static void provider(const struct model_provider *prov, const char *p, size_t size, size_t chunk)
{
        bridle__model_events ev = {.text_delta = on_text, .item_done = on_item};
        struct model_stream st;
        bridle__stream_init(&st, prov, &ev);
        int r = 0;
        for (size_t off = 0; off < size && r == 0; off += chunk)
                r = bridle__stream_feed(&st, p + off, size - off < chunk ? size - off : chunk);
        if (r == 0 && bridle__stream_end(&st) == 0 && !json_is_array(st.output))
                abort(); /* success always means a list of items */
        bridle__stream_release(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        size_t chunk = (size_t)(data[0] & 63) + 1;
        unsigned mode = data[0] >> 6;
        const char *p = (const char *)data + 1;
        size--;
        if (mode == 0 || mode == 3)
                raw(p, size, chunk);
        if (mode == 1 || mode == 3)
                provider(&bridle__provider_responses, p, size, chunk);
        if (mode == 2 || mode == 3)
                provider(&bridle__provider_chat, p, size, chunk);
        return 0;
}
