/* SPDX-License-Identifier: MIT */
#include "sandbox/wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct hdr {
        uint32_t magic;
        uint16_t version;
        uint16_t type;
        uint32_t id;
        uint32_t len;
};

_Static_assert(sizeof(struct hdr) == BRIDLE__WIRE_HDR, "wire header is 16 bytes");

void bridle__wire_begin(bridle__plan *p)
{
        bridle__plan_init_hdr(p, BRIDLE__WIRE_HDR);
}

int bridle__wire_finish(bridle__plan *p, enum bridle__msg type, uint32_t id)
{
        if (p->oom)
                return p->oom;
        if (p->len == 0) {
                /* A frame without records: just the header. */
                uint8_t *b = realloc(p->buf, BRIDLE__WIRE_HDR);
                if (!b)
                        return p->oom = -ENOMEM;
                p->buf = b;
                p->cap = p->len = BRIDLE__WIRE_HDR;
        }
        if (p->len - BRIDLE__WIRE_HDR > BRIDLE__WIRE_MAX)
                return -EMSGSIZE;
        struct hdr h = { BRIDLE__WIRE_MAGIC, BRIDLE__WIRE_VERSION, (uint16_t)type, id,
                         (uint32_t)(p->len - BRIDLE__WIRE_HDR) };
        memcpy(p->buf, &h, sizeof(h));
        return (int)p->len;
}

void bridle__wire_reader_init(struct bridle__wire_reader *r)
{
        memset(r, 0, sizeof(*r));
}

void bridle__wire_reader_release(struct bridle__wire_reader *r)
{
        free(r->buf);
        memset(r, 0, sizeof(*r));
}

/* Check a header as soon as its 16 bytes are in: a bad peer is cut off before
 * it can make us buffer a large payload. */
static int check_header(const struct hdr *h)
{
        if (h->magic != BRIDLE__WIRE_MAGIC || h->version != BRIDLE__WIRE_VERSION)
                return -EPROTO;
        if (h->type == 0 || h->type >= BRIDLE__MSG_MAX)
                return -EPROTO;
        if (h->len > BRIDLE__WIRE_MAX)
                return -EMSGSIZE;
        return 0;
}

int bridle__wire_feed(struct bridle__wire_reader *r, const void *data, size_t n)
{
        if (r->broken)
                return r->broken;
        if (r->off > 0 && r->off == r->len)
                r->off = r->len = 0; /* all consumed: start over at the front */
        if (r->len + n > r->cap) {
                if (r->off > 0) { /* slide the unread bytes to the front */
                        memmove(r->buf, r->buf + r->off, r->len - r->off);
                        r->len -= r->off;
                        r->off = 0;
                }
                size_t cap = r->cap ? r->cap : 4096;
                while (cap < r->len + n) {
                        if (cap > (BRIDLE__WIRE_MAX + BRIDLE__WIRE_HDR) * 2)
                                return r->broken = -EMSGSIZE;
                        cap *= 2;
                }
                if (cap != r->cap) {
                        uint8_t *b = realloc(r->buf, cap);
                        if (!b)
                                return -ENOMEM;
                        r->buf = b;
                        r->cap = cap;
                }
        }
        if (n)
                memcpy(r->buf + r->len, data, n);
        r->len += n;
        return 0;
}

int bridle__wire_next(struct bridle__wire_reader *r, struct bridle__frame *ret)
{
        if (r->broken)
                return r->broken;
        size_t avail = r->len - r->off;
        if (avail < BRIDLE__WIRE_HDR)
                return 0;
        struct hdr h;
        memcpy(&h, r->buf + r->off, sizeof(h));
        int e = check_header(&h);
        if (e < 0)
                return r->broken = e;
        if (avail - BRIDLE__WIRE_HDR < h.len)
                return 0;
        ret->type = h.type;
        ret->id = h.id;
        ret->payload = r->buf + r->off + BRIDLE__WIRE_HDR;
        ret->len = h.len;
        r->off += BRIDLE__WIRE_HDR + h.len;
        return 1;
}

void bridle__wire_records(const struct bridle__frame *f, bridle__cursor *ret)
{
        ret->p = f->payload;
        ret->left = f->len;
}
