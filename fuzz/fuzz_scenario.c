/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: scenario files (bridle test) on arbitrary bytes. A failure
 * names the input with a place; a scenario that loads has a task and
 * expectations, its turns pass the script checks, its recording (from no
 * events) loads back, and the checks run over an empty event list.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "scenario/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        bridle_scenario *s = NULL;
        bridle_error err = {0};
        int r = bridle_scenario_parse((const char *)data, size, "/fuzz/s.yaml", &s, &err);
        if (r < 0) {
                if (r != -ENOMEM && strncmp(err.msg, "/fuzz/s.yaml", 12) != 0)
                        abort();
                return 0;
        }
        if (!s->task || !s->expect || (!s->model && !s->record))
                abort();
        if (s->model && bridle__script_check(s->model, "fuzz", NULL) < 0)
                abort();
        json_t *events = json_array();
        char *rec = NULL;
        if (!events || bridle__scenario_recorded(s, events, &rec, NULL) < 0)
                abort();
        bridle_scenario *back = NULL;
        if (bridle_scenario_parse(rec, strlen(rec), "/fuzz/s.recorded.yaml", &back, &err) < 0 &&
            strstr(err.msg, "model: missing") == NULL)
                abort(); /* a recording of no turns may lack them; anything else must load */
        bridle_scenario_free(back);
        free(rec);
        bridle_scenario_result res = {0};
        if (bridle__scenario_check(s, events, "", &res) < 0)
                abort();
        bridle_scenario_result_release(&res);
        json_decref(events);
        bridle_scenario_free(s);
        return 0;
}
