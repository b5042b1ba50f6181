/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the gateway's shell splitter and the decision on arbitrary
 * command strings. Invariants: splitting never fails but for ENOMEM; a
 * not-simple string has a reason; every command has a word or an
 * assignment, and its wrapped command lies inside its argv; the decision
 * for a not-simple string is at least ask.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gateway.h"
#include "gateway/shell.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bridle__policy *policy;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!policy) {
                static const char text[] = "default: allow\ncommands:\n"
                                           "  - {prefix: [rm, -rf], decision: deny}\n"
                                           "  - {prefix: [git, [push, pull]], decision: ask}\n";
                if (bridle__policy_parse(text, sizeof(text) - 1, "fuzz", &policy, NULL) < 0)
                        abort();
        }
        char *cmd = malloc(size + 1);
        if (!cmd)
                return 0;
        memcpy(cmd, data, size);
        cmd[size] = '\0'; /* a NUL inside ends the string, as for bash -c */
        bridle__shsplit s;
        if (bridle__shell_split(cmd, &s) < 0)
                abort();
        if (!s.simple && !s.reason[0])
                abort();
        for (size_t i = 0; i < s.n; i++) {
                const bridle__shcmd *c = &s.cmds[i];
                if (c->argc == 0 && c->n_assigns == 0)
                        abort();
                if (c->argc > 0 && c->start >= c->argc)
                        abort();
                for (size_t k = 0; k < c->argc; k++)
                        if (!c->argv[k].text)
                                abort();
        }
        char *d = bridle__shell_describe(&s);
        free(d);
        bridle__verdict v;
        if (bridle__gateway_decide_cmd(policy, cmd, &v, NULL) < 0)
                abort();
        if (!s.simple && v.decision < BRIDLE__ASK)
                abort();
        if (!v.rule[0])
                abort();
        bridle__shell_free(&s);
        free(cmd);
        return 0;
}
