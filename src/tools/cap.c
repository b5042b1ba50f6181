/* SPDX-License-Identifier: MIT */
/* Text for the model: a capped buffer, UTF-8 repair, and the head+tail cap. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/internal.h"
#include "util/alloc.h"
#include "util/cleanup.h"

void bridle__tbuf_init(bridle__tbuf *b, size_t max)
{
        memset(b, 0, sizeof(*b));
        b->max = max;
}

static bool tbuf_grow(bridle__tbuf *b, size_t need)
{
        if (need + 1 <= b->alloc)
                return true;
        size_t n = b->alloc ? b->alloc : 256;
        while (n < need + 1)
                n *= 2;
        char *p = bridle__realloc(b->p, n);
        if (!p) {
                b->oom = true;
                return false;
        }
        b->p = p;
        b->alloc = n;
        return true;
}

void bridle__tbuf_add(bridle__tbuf *b, const char *s, size_t n)
{
        if (b->oom)
                return;
        if (b->max && b->len + n > b->max) {
                b->truncated = true;
                n = b->max - b->len;
        }
        if (!tbuf_grow(b, b->len + n))
                return;
        if (n)
                memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
}

void bridle__tbuf_puts(bridle__tbuf *b, const char *s)
{
        bridle__tbuf_add(b, s, strlen(s));
}

void bridle__tbuf_printf(bridle__tbuf *b, const char *fmt, ...)
{
        char small[512];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(small, sizeof(small), fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n < sizeof(small)) {
                bridle__tbuf_add(b, small, (size_t)n);
                return;
        }
        char *big = bridle__malloc((size_t)n + 1);
        if (!big) {
                b->oom = true;
                return;
        }
        va_start(ap, fmt);
        (void)vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        bridle__tbuf_add(b, big, (size_t)n);
        free(big);
}

char *bridle__tbuf_take(bridle__tbuf *b)
{
        if (b->oom || !tbuf_grow(b, b->len)) {
                bridle__tbuf_release(b);
                return NULL;
        }
        b->p[b->len] = '\0';
        char *p = b->p;
        b->p = NULL;
        b->len = b->alloc = 0;
        return p;
}

void bridle__tbuf_release(bridle__tbuf *b)
{
        free(b->p);
        b->p = NULL;
        b->len = b->alloc = 0;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
        unsigned c = s[0];
        size_t len;
        unsigned min;
        if (c >= 0x01 && c < 0x80)
                return 1;
        if (c >= 0xC2 && c <= 0xDF) {
                len = 2;
                min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
                len = 3;
                min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
                len = 4;
                min = 0x10000;
        } else {
                return 0;
        }
        if (n < len)
                return 0;
        unsigned cp = c & (0x7F >> len);
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                return 0;
        return len;
}

char *bridle__tools_utf8(const char *s, size_t len, size_t *ret_len)
{
        bridle__tbuf b;
        bridle__tbuf_init(&b, 0);
        const unsigned char *u = (const unsigned char *)s;
        size_t start = 0, i = 0;
        while (i < len) {
                size_t l = utf8_seq(u + i, len - i);
                if (l) {
                        i += l;
                        continue;
                }
                bridle__tbuf_add(&b, s + start, i - start);
                bridle__tbuf_add(&b, "\xEF\xBF\xBD", 3);
                start = ++i;
        }
        bridle__tbuf_add(&b, s ? s + start : "", len - start);
        size_t out_len = b.len;
        char *p = bridle__tbuf_take(&b);
        if (p && ret_len)
                *ret_len = out_len;
        return p;
}

size_t bridle__utf8_floor(const char *s, size_t n)
{
        /* Step back over continuation bytes to the start of the last
         * sequence; keep it only if it is complete within n. */
        size_t i = n;
        size_t back = 0;
        while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
                i--;
                back++;
        }
        if (i == 0)
                return n - back;
        unsigned char lead = (unsigned char)s[i - 1];
        size_t want = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (want == back + 1)
                return n;
        return want > 1 ? i - 1 : n;
}

/* The first character boundary at or after i. */
static size_t utf8_ceil(const char *s, size_t len, size_t i)
{
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
                i++;
        return i;
}

#define CAP_MIN 64

char *bridle__tools_cap(const char *s, size_t len, size_t cap)
{
        size_t n = 0;
        _cleanup_free_ char *clean = bridle__tools_utf8(s ? s : "", s ? len : 0, &n);
        if (!clean)
                return NULL;
        if (cap < CAP_MIN)
                cap = CAP_MIN;
        if (n <= cap)
                return TAKE_PTR(clean);
        /* The marker's longest form, so head + marker + tail never pass cap. */
        char marker[64];
        size_t room =
                cap - (size_t)snprintf(marker, sizeof(marker), "\n[... %zu bytes cut ...]\n", n);
        size_t head = bridle__utf8_floor(clean, room / 2);
        size_t tail_start = utf8_ceil(clean, n, n - (room - room / 2));
        int ml = snprintf(marker, sizeof(marker), "\n[... %zu bytes cut ...]\n", tail_start - head);
        char *out = bridle__malloc(head + (size_t)ml + (n - tail_start) + 1);
        if (!out)
                return NULL;
        memcpy(out, clean, head);
        memcpy(out + head, marker, (size_t)ml);
        memcpy(out + head + ml, clean + tail_start, n - tail_start);
        out[head + (size_t)ml + (n - tail_start)] = '\0';
        return out;
}
