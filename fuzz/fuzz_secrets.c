/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the secret scanner and the guardrail loader on arbitrary bytes.
 *  - findings are in bounds, in order and never overlap;
 *  - redaction leaves no copy of a known value and counts what it replaced;
 *  - input that parses as JSON goes to bridle__guards_from_json(); a set that
 *    loads writes canonical JSON that loads again to the same JSON.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guard/guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KNOWN "harness-key-0001"

static void check_scan(const bridle__secrets *s, const char *t, size_t n)
{
        bridle__secret_finding f[64];
        long c = bridle__secrets_scan(s, t, n, f, 64, NULL);
        if (c < 0)
                abort();
        size_t end = 0;
        for (long k = 0; k < c && k < 64; k++) {
                if (f[k].offset < end || f[k].length == 0 || f[k].offset + f[k].length > n ||
                    (unsigned)f[k].kind >= BRIDLE__SECRET_KIND_COUNT)
                        abort();
                end = f[k].offset + f[k].length;
        }
        char *out = NULL;
        size_t ol = 0, count = 0;
        if (bridle__secrets_redact(s, t, n, &out, &ol, &count, NULL) < 0)
                abort();
        if ((long)count != c || strlen(out) > ol || (s && memmem(out, ol, KNOWN, strlen(KNOWN))))
                abort();
        free(out);
}

static void check_guards(const uint8_t *data, size_t size)
{
        json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
        if (!j)
                return;
        bridle__guards *g = NULL;
        bridle_error err;
        if (bridle__guards_from_json(j, &g, &err) == 0) {
                json_t *a = bridle__guards_to_json(g);
                bridle__guards *g2 = NULL;
                if (!a || bridle__guards_from_json(a, &g2, NULL) < 0)
                        abort();
                json_t *b = bridle__guards_to_json(g2);
                if (!b || !json_equal(a, b))
                        abort();
                json_decref(a);
                json_decref(b);
                bridle__guards_free(g2);
        } else if (strncmp(err.msg, "guardrails", 10) != 0) {
                abort();
        }
        bridle__guards_free(g);
        json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        bridle__secrets *s = NULL;
        if (bridle__secrets_new(&s, NULL) < 0 ||
            bridle__secrets_add_known(s, KNOWN, strlen(KNOWN), NULL) < 0)
                abort();
        check_scan(s, (const char *)data, size);
        check_scan(NULL, (const char *)data, size);
        bridle__secrets_free(s);
        check_guards(data, size);
        return 0;
}
