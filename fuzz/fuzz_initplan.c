/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the plan decoder bridle-init runs on what arrives on fd 3.
 * Every record is walked and every field read the way init reads it; a
 * decoder bug shows up as an out-of-bounds read under ASan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/initproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk_fields(const bridle__rec *rec, const char *shape)
{
        bridle__cursor c = { rec->p, rec->len };
        char s[BRIDLE__INIT_MAX_STR];
        uint32_t u, l;
        uint64_t v;
        const uint8_t *b;
        for (const char *f = shape; *f; f++) {
                int r = *f == 'u'   ? bridle__rec_u32(&c, &u)
                        : *f == 'U' ? bridle__rec_u64(&c, &v)
                        : *f == 's' ? bridle__rec_str(&c, s, sizeof(s))
                                    : bridle__rec_bytes(&c, &b, &l);
                if (r < 0)
                        return;
                if (*f == 's' && strlen(s) >= sizeof(s))
                        abort();
                if (*f == 'b' && l && (b < rec->p || b + l > rec->p + rec->len))
                        abort();
        }
}

/* The field shapes of each op, as init reads them. */
static const char *const shapes[BRIDLE__OP_MAX] = {
        [BRIDLE__OP_MODE] = "u",      [BRIDLE__OP_HOSTNAME] = "s", [BRIDLE__OP_TMPFS] = "Uus",
        [BRIDLE__OP_BIND] = "uuss",   [BRIDLE__OP_SYMLINK] = "ss", [BRIDLE__OP_MKDIR] = "us",
        [BRIDLE__OP_FILE] = "usb",    [BRIDLE__OP_COPY] = "uus",   [BRIDLE__OP_PROC] = "s",
        [BRIDLE__OP_DEV] = "s",       [BRIDLE__OP_REMOUNT_RO] = "s", [BRIDLE__OP_ENV] = "s",
        [BRIDLE__OP_ARG] = "s",       [BRIDLE__OP_CWD] = "s",      [BRIDLE__OP_RLIMIT] = "uU",
        [BRIDLE__OP_NET] = "u",       [BRIDLE__OP_LANDLOCK] = "Us",
        [BRIDLE__OP_NEWROOT] = "s",   [BRIDLE__OP_SERVE] = "u",      [BRIDLE__OP_TIMEOUT] = "U",
        [BRIDLE__OP_DATA] = "ub",     [BRIDLE__OP_STATUS] = "uUUu",  [BRIDLE__OP_ERROR] = "uus",
        [BRIDLE__OP_BUILTIN] = "s",   [BRIDLE__OP_OVERLAY] = "uUuss",
        [BRIDLE__OP_TTY] = "uuu",     [BRIDLE__OP_YIELD] = "UUu",    [BRIDLE__OP_SESSION] = "uu",
        [BRIDLE__OP_EGRESS] = "uu",   [BRIDLE__OP_PROTECT] = "uss",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        bridle__cursor c;
        bridle__rec rec;
        /* Raw input, and the same input behind a valid header. */
        for (int pass = 0; pass < 2; pass++) {
                uint8_t *buf = NULL;
                const uint8_t *in = data;
                size_t len = size;
                if (pass == 1) {
                        if (size > (1u << 20))
                                return 0;
                        buf = malloc(size + 12);
                        if (!buf)
                                return 0;
                        uint32_t hdr[3] = { BRIDLE__INIT_MAGIC, BRIDLE__INIT_VERSION, (uint32_t)size };
                        memcpy(buf, hdr, 12);
                        memcpy(buf + 12, data, size);
                        in = buf;
                        len = size + 12;
                }
                if (bridle__plan_open(in, len, &c) == 0) {
                        int r, n = 0;
                        while ((r = bridle__plan_next(&c, &rec)) > 0 && n++ < 100000) {
                                if (rec.type == 0 || rec.type >= BRIDLE__OP_MAX)
                                        abort(); /* next() must reject these */
                                walk_fields(&rec, shapes[rec.type]);
                        }
                }
                free(buf);
        }
        return 0;
}
