/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: what a model sends to tools. The input is used as a call's
 * argument text for every built-in (with no sandbox: a call that passes its
 * schema stops at the sandbox), as a native call item, as a schema checked
 * against itself, as a SKILL.md, and as text to cap. Every call must give a
 * result text that is valid UTF-8 within the cap, or the sandbox error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/internal.h"
#include "tools/tools.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *no_sandbox(void *ud, bridle_error *err)
{
        (void)ud;
        err->code = BRIDLE_E_SANDBOX;
        strcpy(err->msg, "no sandbox while fuzzing");
        return NULL;
}

static const char *const builtins[] = { "exec_command", "write_stdin", "read_file",  "write_file",
                                        "list_dir",     "search",      "apply_patch", "load_skill" };

static void calls(const char *text)
{
        bridle__tools *t = NULL;
        if (bridle__tools_new(&t, NULL) < 0)
                return;
        for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
                (void)bridle__tools_add_builtin(t, builtins[i], NULL);
        bridle__tool_env env = { .sandbox = no_sandbox, .cap_bytes = 200 };
        for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
                bridle__tool_result res;
                int r = bridle__tools_call(t, &env, builtins[i], text, &res, NULL);
                if (r != 0 && r != BRIDLE_E_SANDBOX)
                        abort();
                if (!res.output || strlen(res.output) > 200 || (r == 0 && res.sandbox_failed))
                        abort();
                json_t *j = json_string(res.output);
                if (!j)
                        abort(); /* not valid UTF-8 */
                json_decref(j);
                bridle__tool_result_clear(&res);
        }
        bridle__tools_free(t);
}

static void as_json(const char *text, size_t len)
{
        json_error_t je;
        json_t *v = json_loadb(text, len, JSON_DECODE_ANY, &je);
        if (!v)
                return;
        bridle_error e;
        (void)bridle__schema_valid(v, &e);
        (void)bridle__schema_check(v, v, &e);
        bridle__tool_env env = { .sandbox = no_sandbox };
        json_t *out = NULL;
        if (bridle__tools_native(NULL, &env, v, &out, &e) == 0)
                json_decref(out);
        json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 65536)
                return 0;
        char *text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        calls(text);
        as_json(text, size);
        char *name = NULL, *desc = NULL;
        const char *body = NULL;
        if (bridle__skill_parse(text, size, "SKILL.md", &name, &desc, &body, NULL) == 0) {
                if (!body || body < text || body > text + size)
                        abort();
                free(name);
                free(desc);
        }
        char *c = bridle__tools_cap(text, size, 100);
        if (!c || strlen(c) > 100)
                abort();
        free(c);
        free(text);
        return 0;
}
