/* SPDX-License-Identifier: MIT */
#include "sandbox/initproto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HDR_LEN 12u
#define REC_HDR 8u

void bridle__plan_init_hdr(bridle__plan *p, size_t hdr)
{
        memset(p, 0, sizeof(*p));
        p->hdr = hdr;
}

void bridle__plan_init(bridle__plan *p)
{
        bridle__plan_init_hdr(p, HDR_LEN);
}

void bridle__plan_release(bridle__plan *p)
{
        size_t hdr = p->hdr;
        for (int i = 0; i < p->nfds; i++)
                if (p->fds[i] >= 0)
                        (void)close(p->fds[i]);
        free(p->buf);
        memset(p, 0, sizeof(*p));
        p->hdr = hdr;
}

static int reserve(bridle__plan *p, size_t n)
{
        if (p->len + n > BRIDLE__INIT_MAX_PLAN)
                return -E2BIG;
        if (p->len + n <= p->cap)
                return 0;
        size_t cap = p->cap ? p->cap : 4096;
        while (cap < p->len + n)
                cap *= 2;
        uint8_t *b = realloc(p->buf, cap);
        if (!b)
                return -ENOMEM;
        p->buf = b;
        p->cap = cap;
        return 0;
}

static void put(bridle__plan *p, const void *d, size_t n)
{
        memcpy(p->buf + p->len, d, n);
        p->len += n;
}

static int put_field(bridle__plan *p, char f, va_list *ap)
{
        int r;
        switch (f) {
        case 'u':
        case 'i': {
                uint32_t v = (uint32_t)va_arg(*ap, int);
                if ((r = reserve(p, 4)) < 0)
                        return r;
                put(p, &v, 4);
                return 0;
        }
        case 'U': {
                uint64_t v = va_arg(*ap, uint64_t);
                if ((r = reserve(p, 8)) < 0)
                        return r;
                put(p, &v, 8);
                return 0;
        }
        case 's':
        case 'b': {
                const void *d;
                size_t n;
                if (f == 's') {
                        d = va_arg(*ap, const char *);
                        n = strlen(d);
                        if (n >= BRIDLE__INIT_MAX_STR)
                                return -ENAMETOOLONG;
                } else {
                        d = va_arg(*ap, const void *);
                        n = va_arg(*ap, size_t);
                }
                if (n > BRIDLE__INIT_MAX_PLAN)
                        return -E2BIG;
                uint32_t l = (uint32_t)n;
                if ((r = reserve(p, 4 + n)) < 0)
                        return r;
                put(p, &l, 4);
                if (n)
                        put(p, d, n);
                return 0;
        }
        default:
                return -EINVAL;
        }
}

int bridle__plan_add(bridle__plan *p, enum bridle__op op, const char *fmt, ...)
{
        if (p->oom)
                return p->oom;
        if (p->len == 0) {
                int r = reserve(p, p->hdr);
                if (r < 0)
                        return p->oom = r;
                memset(p->buf, 0, p->hdr);
                p->len = p->hdr;
        }
        size_t start = p->len;
        int r = reserve(p, REC_HDR);
        if (r < 0)
                return p->oom = r;
        uint16_t t = (uint16_t)op, z = 0;
        uint32_t l = 0;
        put(p, &t, 2);
        put(p, &z, 2);
        put(p, &l, 4);
        va_list ap;
        va_start(ap, fmt);
        for (const char *f = fmt; *f; f++) {
                r = put_field(p, *f, &ap);
                if (r < 0) {
                        va_end(ap);
                        return p->oom = r;
                }
        }
        va_end(ap);
        l = (uint32_t)(p->len - start - REC_HDR);
        memcpy(p->buf + start + 4, &l, 4);
        return 0;
}

int bridle__plan_take_fd(bridle__plan *p, int fd)
{
        if (p->nfds >= BRIDLE__INIT_MAX_FDS) {
                (void)close(fd);
                return -EMFILE;
        }
        p->fds[p->nfds] = fd;
        return p->nfds++;
}

int bridle__plan_finish(bridle__plan *p)
{
        if (p->oom)
                return p->oom;
        if (p->len == 0 && bridle__plan_add(p, BRIDLE__OP_MODE, "u", 0) < 0)
                return p->oom;
        uint32_t hdr[3] = { BRIDLE__INIT_MAGIC, BRIDLE__INIT_VERSION, (uint32_t)(p->len - HDR_LEN) };
        memcpy(p->buf, hdr, HDR_LEN);
        return (int)p->len;
}

int bridle__plan_open(const uint8_t *buf, size_t len, bridle__cursor *ret)
{
        uint32_t hdr[3];
        if (len < HDR_LEN)
                return -EBADMSG;
        memcpy(hdr, buf, HDR_LEN);
        if (hdr[0] != BRIDLE__INIT_MAGIC || hdr[1] != BRIDLE__INIT_VERSION)
                return -EPROTO;
        if (hdr[2] != len - HDR_LEN)
                return -EBADMSG;
        ret->p = buf + HDR_LEN;
        ret->left = len - HDR_LEN;
        return 0;
}

int bridle__plan_next(bridle__cursor *c, bridle__rec *ret)
{
        if (c->left == 0)
                return 0;
        if (c->left < REC_HDR)
                return -EBADMSG;
        uint16_t t;
        uint32_t l;
        memcpy(&t, c->p, 2);
        memcpy(&l, c->p + 4, 4);
        if (l > c->left - REC_HDR || t == 0 || t >= BRIDLE__OP_MAX)
                return -EBADMSG;
        ret->type = t;
        ret->p = c->p + REC_HDR;
        ret->len = l;
        c->p += REC_HDR + l;
        c->left -= REC_HDR + l;
        return 1;
}

int bridle__rec_u32(bridle__cursor *c, uint32_t *ret)
{
        if (c->left < 4)
                return -EBADMSG;
        memcpy(ret, c->p, 4);
        c->p += 4;
        c->left -= 4;
        return 0;
}

int bridle__rec_u64(bridle__cursor *c, uint64_t *ret)
{
        if (c->left < 8)
                return -EBADMSG;
        memcpy(ret, c->p, 8);
        c->p += 8;
        c->left -= 8;
        return 0;
}

int bridle__rec_bytes(bridle__cursor *c, const uint8_t **ret, uint32_t *ret_len)
{
        uint32_t l;
        if (bridle__rec_u32(c, &l) < 0 || l > c->left)
                return -EBADMSG;
        *ret = c->p;
        *ret_len = l;
        c->p += l;
        c->left -= l;
        return 0;
}

int bridle__rec_str(bridle__cursor *c, char *out, size_t cap)
{
        const uint8_t *d;
        uint32_t l;
        if (bridle__rec_bytes(c, &d, &l) < 0 || l >= cap || memchr(d, 0, l))
                return -EBADMSG;
        memcpy(out, d, l);
        out[l] = '\0';
        return 0;
}
