/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the wire reader on arbitrary bytes, fed in chunks whose sizes
 * come from the input itself, and every frame's records walked. A reader bug
 * shows up as an out-of-bounds access under ASan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct bridle__frame *f)
{
        bridle__cursor c;
        bridle__rec rec;
        char s[BRIDLE__INIT_MAX_STR];
        bridle__wire_records(f, &c);
        for (int i = 0; i < 100000 && bridle__plan_next(&c, &rec) > 0; i++) {
                bridle__cursor fc = { rec.p, rec.len };
                const uint8_t *b;
                uint32_t l;
                if (bridle__rec_bytes(&fc, &b, &l) == 0 && l && (b < f->payload || b + l > f->payload + f->len))
                        abort();
                fc = (bridle__cursor){ rec.p, rec.len };
                (void)bridle__rec_str(&fc, s, sizeof(s));
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        size_t chunk = (size_t)data[0] % 64 + 1;
        data++;
        size--;
        struct bridle__wire_reader r;
        struct bridle__frame f;
        bridle__wire_reader_init(&r);
        for (size_t off = 0; off < size;) {
                size_t n = size - off < chunk ? size - off : chunk;
                if (bridle__wire_feed(&r, data + off, n) < 0)
                        break;
                off += n;
                int k;
                while ((k = bridle__wire_next(&r, &f)) > 0)
                        walk(&f);
                if (k < 0)
                        break;
        }
        bridle__wire_reader_release(&r);
        return 0;
}
