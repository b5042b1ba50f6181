/* SPDX-License-Identifier: MIT */
/*
 * mkjournal DB: build a journal for the CLI tests from JSON lines on stdin,
 * through the journal module itself:
 *   {"new_run":"AGENT"}            a new run (its id is printed on stdout)
 *   {"type":"T","data":{...}}     an event of the latest run
 * Exit 0, or 1 with a message.
 */
#include <stdio.h>
#include <string.h>

#include "journal/journal.h"

static int line_in(bridle__journal *j, json_t *o, char id[33], bridle_error *err)
{
        const char *agent = json_string_value(json_object_get(o, "new_run"));
        if (agent) {
                if (bridle__journal_new_run(j, agent, id, err) < 0)
                        return -1;
                (void)printf("%s\n", id);
                return 0;
        }
        const char *type = json_string_value(json_object_get(o, "type"));
        if (!type || !id[0]) {
                (void)snprintf(err->msg, sizeof(err->msg),
                               "a line is neither a new run nor an event of one");
                return -1;
        }
        return bridle__journal_append(j, id, type, json_object_get(o, "data"), NULL, err) < 0 ? -1
                                                                                              : 0;
}

int main(int argc, char **argv)
{
        if (argc != 2) {
                (void)fputs("usage: mkjournal DB < lines.jsonl\n", stderr);
                return 2;
        }
        bridle__journal *j = NULL;
        bridle_error err = {0};
        if (bridle__journal_open(argv[1], &j, &err) < 0) {
                (void)fprintf(stderr, "mkjournal: %s\n", err.msg);
                return 1;
        }
        char id[33] = "", line[65536];
        int rc = 0;
        for (unsigned n = 1; rc == 0 && n < 100000 && fgets(line, sizeof(line), stdin); n++) {
                if (strspn(line, " \t\r\n") == strlen(line))
                        continue;
                json_error_t jerr;
                json_t *o = json_loads(line, 0, &jerr);
                if (!o || line_in(j, o, id, &err) < 0) {
                        (void)fprintf(stderr, "mkjournal: line %u: %s\n", n,
                                      o ? err.msg : jerr.text);
                        rc = 1;
                }
                json_decref(o);
        }
        bridle__journal_close(j);
        return rc;
}
