/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: bridle_manifest_parse() on arbitrary bytes. When a manifest
 * parses, its canonical JSON must parse again to the same canonical JSON.
 * Local sources resolve against "/" (the target only stats them).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bridle/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const char *json)
{
        /* Escaping can make the canonical form larger than the input cap. */
        if (strlen(json) > ((size_t)4 << 20))
                return;
        bridle_manifest *m = NULL;
        if (bridle_manifest_parse(json, strlen(json), "canonical.json", "/", &m, NULL) < 0)
                abort();
        char *again = bridle_manifest_to_json(m);
        if (again && strcmp(again, json) != 0)
                abort();
        free(again);
        bridle_manifest_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        bridle_manifest *m = NULL;
        bridle_error err;
        if (bridle_manifest_parse((const char *)data, size, "fuzz.yaml", "/", &m, &err) < 0) {
                /* Every failure has a message that names the input. */
                if (strncmp(err.msg, "fuzz.yaml", 9) != 0)
                        abort();
                return 0;
        }
        char *json = bridle_manifest_to_json(m);
        if (json)
                check_round_trip(json);
        free(json);
        bridle_manifest_free(m);
        return 0;
}
