/* SPDX-License-Identifier: MIT */
/*
 * A recording: the scenario written again with the model's turns of a real
 * run as `model:`. Each value is written in JSON flow syntax, which is YAML
 * too, so the recording loads like any scenario.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/internal.h"
#include "util/error.h"

/* An output item as a script writes it: arguments as a mapping when they are one. */
static json_t *script_item(const json_t *item)
{
        json_t *o = json_deep_copy(item);
        const json_t *a = json_object_get(item, "arguments");
        if (o && json_is_string(a)) {
                json_t *p = json_loads(json_string_value(a), 0, NULL);
                if (json_is_object(p))
                        (void)json_object_set_new(o, "arguments", p);
                else
                        json_decref(p);
        }
        return o;
}

static json_t *turns_of(const json_t *events)
{
        json_t *turns = json_array();
        size_t i, k;
        const json_t *e, *item;
        json_array_foreach(events, i, e) {
                if (!turns)
                        return NULL;
                const char *t = json_string_value(json_object_get(e, "type"));
                if (!t || strcmp(t, "model.response") != 0)
                        continue;
                json_t *items = json_array();
                json_array_foreach(json_object_get(json_object_get(e, "data"), "output"), k, item) {
                        if (items && json_array_append_new(items, script_item(item)) < 0) {
                                json_decref(items);
                                items = NULL;
                        }
                }
                if (!items || json_array_append_new(turns, items) < 0) {
                        json_decref(turns);
                        return NULL;
                }
        }
        return turns;
}

static void put_value(FILE *f, const char *key, const json_t *v)
{
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        fprintf(f, "%s: %s\n", key, s ? s : "null");
        free(s);
}

static void put_model(FILE *f, const json_t *turns)
{
        if (json_array_size(turns) == 0) {
                fputs("model: []\n", f);
                return;
        }
        fputs("model:\n", f);
        size_t i;
        const json_t *t;
        json_array_foreach(turns, i, t) {
                char *s = json_dumps(t, JSON_COMPACT);
                fprintf(f, "  - %s\n", s ? s : "[]");
                free(s);
        }
}

int bridle__scenario_recorded(const bridle_scenario *s, const json_t *events, char **ret, bridle_error *err)
{
        json_t *turns = turns_of(events);
        if (!turns)
                return bridle__err(err, -ENOMEM, "recording");
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f) {
                json_decref(turns);
                return bridle__err(err, -ENOMEM, "recording");
        }
        const char *base = strrchr(s->path, '/');
        fprintf(f, "# Recorded by 'bridle test --record' from %s: the model's turns of a real run.\n",
                base ? base + 1 : s->path);
        bool wrote_model = false;
        const char *key;
        const json_t *v;
        json_object_foreach(s->source, key, v) {
                if (!strcmp(key, "record"))
                        continue;
                if (!strcmp(key, "model")) {
                        put_model(f, turns);
                        wrote_model = true;
                        continue;
                }
                if (!strcmp(key, "expect") && !wrote_model) {
                        put_model(f, turns);
                        wrote_model = true;
                }
                put_value(f, key, v);
        }
        if (!wrote_model)
                put_model(f, turns);
        json_decref(turns);
        if (fclose(f) != 0) {
                free(buf);
                return bridle__err(err, -ENOMEM, "recording");
        }
        *ret = buf;
        return 0;
}
