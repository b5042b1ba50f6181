/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: gateway policy files on arbitrary bytes. A failure names the
 * input; a policy that loads serialises to canonical JSON that loads back to
 * the same JSON and decides a few commands and tools the same way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gateway.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const cmds[] = {"ls",         "git status", "rm -rf /", "make test && npm ci",
                                   "echo $(id)", "a b c"};

static void same_decisions(const bridle__policy *a, const bridle__policy *b)
{
        for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
                bridle__verdict va, vb;
                if (bridle__gateway_decide_cmd(a, cmds[i], &va, NULL) < 0 ||
                    bridle__gateway_decide_cmd(b, cmds[i], &vb, NULL) < 0)
                        abort();
                if (va.decision != vb.decision || strcmp(va.rule, vb.rule) != 0 ||
                    va.timeout_ms != vb.timeout_ms)
                        abort();
        }
        bridle__verdict va, vb;
        if (bridle__gateway_decide(a, "read_file", "{}", 2, &va, NULL) < 0 ||
            bridle__gateway_decide(b, "read_file", "{}", 2, &vb, NULL) < 0 ||
            va.decision != vb.decision)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        bridle__policy *p = NULL;
        bridle_error err;
        if (bridle__policy_parse((const char *)data, size, "fuzz.yaml", &p, &err) < 0) {
                if (strncmp(err.msg, "fuzz.yaml", 9) != 0)
                        abort();
                return 0;
        }
        json_t *j = bridle__policy_to_json(p);
        if (!j)
                abort();
        bridle__policy *q = NULL;
        if (bridle__policy_from_json(j, &q, NULL) < 0)
                abort();
        json_t *k = bridle__policy_to_json(q);
        if (!k || !json_equal(j, k))
                abort();
        same_decisions(p, q);
        const char *const tools[] = {"read_file", "exec_command"};
        char **w = NULL;
        if (bridle__policy_check_tools(p, tools, 2, &w, NULL) < 0)
                abort();
        bridle__policy_warnings_free(w);
        (void)bridle__policy_host_allowed(p, "a.example.org");
        json_decref(j);
        json_decref(k);
        bridle__policy_free(p);
        bridle__policy_free(q);
        return 0;
}
