/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: agent files and model scripts (both YAML/JSON documents that
 * users write). The first byte picks the parser (even: agent, odd: script);
 * the rest is the document. An error must fill the message; a success must
 * give the documented shapes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "runner/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        const char *doc = (const char *)data + 1;
        size_t len = size - 1;
        bridle_error err = { 0 };
        if (data[0] % 2 == 0) {
                json_t *a = NULL, *files = NULL;
                int r = bridle__agent_parse(doc, len, "agent.yaml", "/nonexistent-bridle-fuzz", &a, &files, &err);
                if (r < 0 && (err.msg[0] == '\0' || a || files))
                        abort();
                if (r == 0 && (!json_is_string(json_object_get(a, "name")) || !json_is_array(files) ||
                               !json_is_array(json_object_get(a, "tools"))))
                        abort();
                json_decref(a);
                json_decref(files);
        } else {
                json_t *s = NULL;
                int r = bridle__script_parse(doc, len, "script.yaml", &s, &err);
                if (r < 0 && (err.msg[0] == '\0' || s))
                        abort();
                if (r == 0 && !json_is_array(s))
                        abort();
                json_decref(s);
        }
        return 0;
}
