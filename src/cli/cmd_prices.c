/* SPDX-License-Identifier: MIT */
/*
 * bridle prices [--json]: the price table a run's cost comes from (the
 * built-in list, and the override file's entries) (include/bridle/trace.h).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridle/bridle.h"
#include "bridle/trace.h"
#include "commands.h"

static int usage(FILE *f, int status)
{
        (void)fputs("usage: bridle prices [--json]\n"
                    "\n"
                    "The model prices in use, USD per million tokens: the built-in table, with the\n"
                    "entries of $BRIDLE_PRICES (else $BRIDLE_HOME/prices.yaml) over it:\n"
                    "  MODEL: {input: 1.25, cached_input: 0.125, output: 10}\n"
                    "\n"
                    "  --json   one JSON object: file, looked_at, unit, models\n",
                    f);
        return status;
}

static void table(const json_t *t)
{
        (void)printf("%-24s %10s %10s %10s  %s\n", "MODEL", "INPUT", "CACHED", "OUTPUT", "SOURCE");
        size_t i;
        const json_t *m;
        json_array_foreach(json_object_get(t, "models"), i, m)
        {
                (void)printf("%-24s %10.4f %10.4f %10.4f  %s\n",
                             json_string_value(json_object_get(m, "model")) ?: "?",
                             json_number_value(json_object_get(m, "input")),
                             json_number_value(json_object_get(m, "cached_input")),
                             json_number_value(json_object_get(m, "output")),
                             json_string_value(json_object_get(m, "source")) ?: "");
        }
        const char *file = json_string_value(json_object_get(t, "file"));
        const char *looked = json_string_value(json_object_get(t, "looked_at"));
        (void)printf("\n(USD per million tokens; ");
        if (file)
                (void)printf("overrides from %s)\n", file);
        else if (looked)
                (void)printf("no override file at %s)\n", looked);
        else
                (void)printf("no override file)\n");
}

int bridle_cmd_prices(int argc, char **argv)
{
        bool json = false;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0)
                        json = true;
                else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
                        return usage(stdout, 0);
                else {
                        (void)fprintf(stderr, "bridle prices: unexpected argument '%s'\n", argv[i]);
                        return usage(stderr, 2);
                }
        }
        bridle_error err = {0};
        char *text = NULL;
        if (bridle_prices(&text, &err) < 0) {
                (void)fprintf(stderr, "bridle prices: %s\n", err.msg);
                return 1;
        }
        if (json) {
                (void)printf("%s\n", text);
                free(text);
                return fflush(stdout) == 0 ? 0 : 1;
        }
        json_t *t = json_loads(text, 0, NULL);
        free(text);
        if (!t) {
                (void)fputs("bridle prices: cannot read the table\n", stderr);
                return 1;
        }
        table(t);
        json_decref(t);
        return fflush(stdout) == 0 ? 0 : 1;
}
