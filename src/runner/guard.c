/* SPDX-License-Identifier: MIT */
/*
 * The runner's use of src/guard/: one secret scanner per run that knows the
 * run's API keys (so they are redacted wherever a tool prints them), and the
 * entry agent's guardrails, checked on the task and on the final output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/runner.h"
#include "util/error.h"

int bridle__run_guard_init(bridle__run *R, bridle_error *err)
{
        int r = bridle__secrets_new(&R->secrets, err);
        const char *name;
        json_t *a;
        json_object_foreach(json_object_get(R->def, "agents"), name, a) {
                const char *env = json_string_value(json_object_get(a, "api_key_env"));
                const char *key = env ? getenv(env) : NULL;
                /* Short values are not secrets the scanner can track; skip them. */
                if (r == 0 && key && strlen(key) >= 8)
                        (void)bridle__secrets_add_known(R->secrets, key, strlen(key), NULL);
        }
        json_t *entry = json_object_get(json_object_get(R->def, "agents"),
                                        json_string_value(json_object_get(R->def, "entry")));
        json_t *g = json_object_get(entry, "guardrails");
        if (r == 0 && json_is_object(g))
                r = bridle__guards_from_json(g, &R->guards, err);
        return r;
}

char *bridle__run_redact(const bridle__run *R, const char *text, bridle_error *err)
{
        char *out = NULL;
        if (bridle__secrets_redact(R->secrets, text, strlen(text), &out, NULL, NULL, err) < 0)
                return NULL;
        return out;
}

bool bridle__run_guard_trips(bridle__run *R, enum bridle__guard_kind kind, const char *text, char *why, size_t cap)
{
        if (!bridle__guards_count(R->guards, kind))
                return false;
        bridle__guard_verdict v;
        bridle_error e = { 0 };
        int r = bridle__guards_check(R->guards, kind, text, strlen(text), R->secrets, &v, &e);
        if (r == 0 && !v.tripped)
                return false;
        if (r < 0)
                (void)snprintf(why, cap, "%s guardrail could not be checked: %s", bridle__guard_kind_name(kind), e.msg);
        else
                (void)snprintf(why, cap, "%s guardrail %zu (%s) tripped: %s", bridle__guard_kind_name(kind), v.index,
                               bridle__guard_type_name(v.type), v.reason);
        (void)bridle__run_emit_sync(R, "guardrail.tripped",
                                    json_pack("{s:s,s:I,s:s,s:s}", "kind", bridle__guard_kind_name(kind), "index",
                                              (json_int_t)(r < 0 ? -1 : (json_int_t)v.index), "type",
                                              r < 0 ? "error" : bridle__guard_type_name(v.type), "reason", why),
                                    false, NULL);
        return true;
}
