/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: bridle_eval_suite_parse() on arbitrary bytes. A failure names
 * the input; a suite that loads has at least one task, each named and with a
 * task text. Paths resolve against the current folder (the target only
 * stats them).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bridle/eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        bridle_eval_suite *s = NULL;
        bridle_error err;
        if (bridle_eval_suite_parse((const char *)data, size, "fuzz.yaml", &s, &err) < 0) {
                /* Every failure has a message that names the input. */
                if (strncmp(err.msg, "fuzz.yaml", 9) != 0)
                        abort();
                return 0;
        }
        if (bridle_eval_suite_n_tasks(s) == 0 || !bridle_eval_suite_name(s))
                abort();
        bridle_eval_suite_free(s);
        return 0;
}
