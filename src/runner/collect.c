/* SPDX-License-Identifier: MIT */
/* A run's events kept as they happen (collect.h). */
#include "runner/collect.h"

#include <string.h>

#include "bridle/sandbox.h"

void bridle__collect_event(const char *line, void *userdata)
{
        bridle__collector *c = userdata;
        if (!c->events || c->full)
                return;
        json_t *e = json_loads(line, 0, NULL);
        if (!e)
                return;
        /* Transient events (seq 0) are not part of the run. */
        if (json_integer_value(json_object_get(e, "seq")) == 0 || json_array_size(c->events) >= c->max) {
                c->full = json_array_size(c->events) >= c->max;
                json_decref(e);
                return;
        }
        if (json_array_append_new(c->events, e) < 0)
                c->full = true;
}

void bridle__collected_destroy_sandboxes(const json_t *events)
{
        size_t i;
        const json_t *e;
        json_array_foreach(events, i, e) {
                const char *t = json_string_value(json_object_get(e, "type"));
                const char *id = json_string_value(json_object_get(json_object_get(e, "data"), "sandbox_id"));
                if (t && id && !strcmp(t, "sandbox.created"))
                        (void)bridle_sandbox_destroy(id, NULL);
        }
}
