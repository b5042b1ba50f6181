/* SPDX-License-Identifier: MIT */
/*
 * The gateway step of the loop: before a response's calls run, each one is
 * decided by the policy (src/gateway/) and the decision journaled
 * (gateway.decision). allow runs; deny sends the refusal back as the call's
 * result; ask goes to a person: at once through the approve callback
 * (approval.given), or, when deferred, every call that asks is written as
 * approval.requested and the run stops awaiting approval; an answer given
 * later (bridle_approval_answer) is in the state when the run resumes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gateway.h"
#include "runner/runner.h"
#include "util/error.h"

static bool is_handoff(const bridle__run *R, const json_t *call)
{
        return bridle__run_handoff_target(R, R->st.agent, json_string_value(json_object_get(call, "name"))) != NULL;
}

static const char *call_tool(const json_t *call)
{
        const char *type = json_string_value(json_object_get(call, "type"));
        if (type && !strcmp(type, "shell_call"))
                return "shell";
        if (type && !strcmp(type, "apply_patch_call"))
                return "apply_patch";
        return json_string_value(json_object_get(call, "name")) ?: "";
}

static int decide(const bridle__run *R, const json_t *call, bridle__verdict *v, bridle_error *err)
{
        const char *type = json_string_value(json_object_get(call, "type"));
        if (type && strcmp(type, "function_call") != 0)
                return bridle__gateway_decide_item(R->policy, call, v, err);
        const char *args = json_string_value(json_object_get(call, "arguments"));
        return bridle__gateway_decide(R->policy, call_tool(call), args ? args : "", args ? strlen(args) : 0, v, err);
}

/* The output item that refuses a call, in its type's shape. */
json_t *bridle__refusal_item(const json_t *call, const char *text)
{
        const char *type = json_string_value(json_object_get(call, "type"));
        const char *call_id = json_string_value(json_object_get(call, "call_id")) ?: "";
        if (type && !strcmp(type, "shell_call"))
                return json_pack("{s:s,s:s,s:[{s:s,s:s,s:{s:s,s:i}}]}", "type", "shell_call_output", "call_id", call_id,
                                 "output", "stdout", "", "stderr", text, "outcome", "type", "exit", "exit_code", 1);
        if (type && !strcmp(type, "apply_patch_call"))
                return json_pack("{s:s,s:s,s:s,s:s}", "type", "apply_patch_call_output", "call_id", call_id, "status",
                                 "failed", "output", text);
        return json_pack("{s:s,s:s,s:s}", "type", "function_call_output", "call_id", call_id, "output", text);
}

static enum bridle_approvals mode_of(const bridle__run *R)
{
        enum bridle_approvals m = R->opts->approvals;
        if (m == BRIDLE_APPROVALS_DEFAULT)
                m = R->opts->approve ? BRIDLE_APPROVALS_ASK : BRIDLE_APPROVALS_DEFER;
        if (m == BRIDLE_APPROVALS_ASK && !R->opts->approve)
                m = BRIDLE_APPROVALS_DEFER;
        return m;
}

/* A person's answer, now, through the callback; journaled. *deferred when
 * the callback says no one can answer (the caller then defers the call). */
static int ask_now(bridle__run *R, const json_t *call, const bridle__verdict *v, json_t *verdicts, size_t i,
                   bool *deferred, bridle_error *err)
{
        *deferred = false;
        const char *call_id = json_string_value(json_object_get(call, "call_id")) ?: "";
        json_t *a = json_object_get(call, "arguments");
        char *args = json_is_string(a) ? NULL : json_dumps(a ? a : json_object_get(call, "action") ?: json_object_get(call, "operation"), JSON_COMPACT | JSON_ENCODE_ANY);
        bridle_approval_request req = { .run_id = R->id, .call_id = call_id, .tool = call_tool(call),
                                        .arguments = json_is_string(a) ? json_string_value(a) : args ? args : "{}",
                                        .rule = v->rule, .reason = v->reason, .command = v->command };
        char reason[512] = "";
        enum bridle_approval_decision d = R->opts->approve(&req, reason, sizeof(reason), R->opts->approve_userdata);
        free(args);
        reason[sizeof(reason) - 1] = '\0';
        if (d == BRIDLE_DEFER) {
                *deferred = true;
                return 0;
        }
        bool approve = d == BRIDLE_APPROVE || d == BRIDLE_APPROVE_ALWAYS;
        json_object_set_new(json_array_get(verdicts, i), "run", json_boolean(approve));
        if (!approve)
                json_object_set_new(json_array_get(verdicts, i), "refusal",
                                    json_sprintf("denied by a person%s%s", reason[0] ? ": " : "", reason));
        return bridle__run_emit_sync(R, "approval.given",
                                     json_pack("{s:s,s:s,s:b,s:s,s:s,s:s}", "call_id", call_id, "decision",
                                               approve ? "approve" : "deny", "always", d == BRIDLE_APPROVE_ALWAYS,
                                               "rule", v->rule, "reason", reason, "by", "callback"),
                                     false, err);
}

int bridle__run_gate(bridle__run *R, const json_t *pending, json_t **ret_verdicts, bool *ret_defer, bridle_error *err)
{
        *ret_defer = false;
        json_t *verdicts = json_array();
        if (!verdicts)
                return bridle__err(err, -ENOMEM, "verdicts");
        enum bridle_approvals mode = mode_of(R);
        size_t i;
        json_t *call;
        int r = 0;
        json_array_foreach(pending, i, call) {
                const char *call_id = json_string_value(json_object_get(call, "call_id")) ?: "";
                json_t *given = json_object_get(R->st.approvals, call_id);
                if (is_handoff(R, call) || (given && !strcmp(json_string_value(json_object_get(given, "decision")) ?: "", "approve"))) {
                        (void)json_array_append_new(verdicts, json_pack("{s:b}", "run", 1));
                        continue;
                }
                if (given) {
                        const char *why = json_string_value(json_object_get(given, "reason"));
                        (void)json_array_append_new(verdicts,
                                                    json_pack("{s:b,s:o}", "run", 0, "refusal",
                                                              json_sprintf("denied by a person%s%s", why && why[0] ? ": " : "",
                                                                           why ? why : "")));
                        continue;
                }
                bridle__verdict v;
                if ((r = decide(R, call, &v, err)) < 0)
                        break;
                r = bridle__run_emit_sync(R, "gateway.decision",
                                          json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "call_id", call_id, "name", call_tool(call),
                                                    "decision", bridle__decision_name(v.decision), "rule", v.rule,
                                                    "reason", v.reason, "command", v.command),
                                          false, err);
                if (r < 0)
                        break;
                json_t *vj = json_pack("{s:b,s:s,s:s,s:s,s:I,s:b}", "run", v.decision == BRIDLE__ALLOW, "decision",
                                       bridle__decision_name(v.decision), "rule", v.rule, "reason", v.reason,
                                       "timeout_ms", (json_int_t)v.timeout_ms, "read_only", v.read_only);
                (void)json_array_append_new(verdicts, vj);
                if (v.decision == BRIDLE__DENY) {
                        json_object_set_new(vj, "refusal", json_sprintf("denied by policy (%s)%s%s", v.rule,
                                                                       v.reason[0] ? ": " : "", v.reason));
                        continue;
                }
                /* approvals mode end: it runs now, its writes held in the sandbox for the review. */
                if (v.decision == BRIDLE__ASK && bridle__run_review_at_end(R)) {
                        json_object_set_new(vj, "run", json_true());
                        continue;
                }
                if (v.decision == BRIDLE__ALLOW || json_is_true(json_object_get(R->st.always_rules, v.rule))) {
                        json_object_set_new(vj, "run", json_true());
                        continue;
                }
                if (mode == BRIDLE_APPROVALS_DENY) {
                        json_object_set_new(vj, "refusal", json_sprintf("needs an approval (%s) and approvals are set to deny",
                                                                       v.rule));
                        continue;
                }
                if (mode == BRIDLE_APPROVALS_ASK) {
                        bool deferred = false;
                        if ((r = ask_now(R, call, &v, verdicts, i, &deferred, err)) < 0)
                                break;
                        if (!deferred)
                                continue;
                }
                /* Deferred: written for a person to answer later. */
                json_object_set_new(vj, "defer", json_true());
                *ret_defer = true;
                if (json_object_get(R->st.requested, call_id))
                        continue;
                json_t *a = json_object_get(call, "arguments");
                if (!a)
                        a = json_object_get(call, "action") ?: json_object_get(call, "operation");
                r = bridle__run_emit_sync(R, "approval.requested",
                                          json_pack("{s:s,s:s,s:O*,s:s,s:s,s:s,s:I}", "call_id", call_id, "name",
                                                    call_tool(call), "arguments", a, "rule", v.rule, "reason", v.reason,
                                                    "command", v.command, "asked_at",
                                                    (json_int_t)(bridle__now_ms() / 1000)),
                                          false, err);
                if (r < 0)
                        break;
        }
        if (r < 0) {
                json_decref(verdicts);
                return r;
        }
        *ret_verdicts = verdicts;
        return 0;
}
