/* SPDX-License-Identifier: MIT */
#include "sandbox/capture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

int bridle__capture_init(struct bridle__capture *c, size_t cap)
{
        memset(c, 0, sizeof(*c));
        c->cap = cap < 2 ? 2 : cap;
        c->head = bridle__malloc(c->cap / 2 + 1);
        c->tail = bridle__malloc(c->cap - c->cap / 2 + 1);
        if (!c->head || !c->tail) {
                bridle__capture_release(c);
                return -ENOMEM;
        }
        return 0;
}

void bridle__capture_release(struct bridle__capture *c)
{
        free(c->head);
        free(c->tail);
        memset(c, 0, sizeof(*c));
}

void bridle__capture_add(struct bridle__capture *c, const char *d, size_t n)
{
        c->total += n;
        size_t hcap = c->cap / 2, tcap = c->cap - hcap;
        size_t h = n < hcap - c->head_len ? n : hcap - c->head_len;
        memcpy(c->head + c->head_len, d, h);
        c->head_len += h;
        d += h;
        n -= h;
        if (n >= tcap) {
                memcpy(c->tail, d + n - tcap, tcap);
                c->tail_len = tcap;
                c->tail_pos = 0;
                return;
        }
        while (n) {
                size_t chunk = tcap - c->tail_pos < n ? tcap - c->tail_pos : n;
                memcpy(c->tail + c->tail_pos, d, chunk);
                c->tail_pos = (c->tail_pos + chunk) % tcap;
                c->tail_len = c->tail_len + chunk > tcap ? tcap : c->tail_len + chunk;
                d += chunk;
                n -= chunk;
        }
}

int bridle__capture_take(struct bridle__capture *c, char **ret, size_t *ret_len, bool *ret_cut)
{
        size_t tcap = c->cap - c->cap / 2;
        uint64_t cut = c->total - c->head_len - c->tail_len;
        char marker[96] = "";
        if (cut)
                (void)snprintf(marker, sizeof(marker), "\n[... bridle cut %llu bytes ...]\n",
                               (unsigned long long)cut);
        size_t ml = strlen(marker), len = c->head_len + ml + c->tail_len;
        char *out = bridle__malloc(len + 1);
        if (!out)
                return -ENOMEM;
        memcpy(out, c->head, c->head_len);
        memcpy(out + c->head_len, marker, ml);
        /* The ring's oldest byte is at tail_pos once it has wrapped. */
        size_t start = c->tail_len == tcap ? c->tail_pos : 0;
        size_t first = c->tail_len - (start ? start : 0);
        if (start) {
                memcpy(out + c->head_len + ml, c->tail + start, tcap - start);
                memcpy(out + c->head_len + ml + tcap - start, c->tail, start);
        } else
                memcpy(out + c->head_len + ml, c->tail, first);
        out[len] = '\0';
        *ret = out;
        *ret_len = len;
        *ret_cut = cut > 0;
        return 0;
}
