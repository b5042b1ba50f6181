/* SPDX-License-Identifier: MIT */
/*
 * Scenarios (include/bridle/scenario.h): the loader's errors name the file,
 * line, column and key; a good scenario loads with its paths resolved and its
 * turns expanded; the checks read a run's events; a recording loads back.
 * Running scenarios end to end is tests/integration/bridle_test.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/internal.h"
#include "testutil.h"
#include "util/alloc.h"

static const char good[] = "agent: agents/a.yaml\n"
                           "task: \"clean up\"\n"
                           "approvals: approve\n"
                           "model:\n"
                           "  - [{type: function_call, name: exec_command, arguments: {cmd: \"rm -rf x\"}}]\n"
                           "  - [{type: message, content: \"no.\"}]\n"
                           "expect:\n"
                           "  tool_calls: [{name: exec_command, decision: deny, ok: false, arguments: {cmd: \"rm -rf x\"}}]\n"
                           "  final_output: {contains: \"no\", matches: \"^n.\\\\.$\"}\n"
                           "  files: {\"x/a.txt\": {exists: true, contains: hi}}\n"
                           "  status: completed\n";

static void test_good(void **state)
{
        (void)state;
        bridle_scenario *s = NULL;
        bridle_error err = {0};
        assert_int_equal(bridle_scenario_parse(good, strlen(good), "/srv/t/s.yaml", &s, &err), 0);
        assert_string_equal(bridle_scenario_path(s), "/srv/t/s.yaml");
        assert_string_equal(s->agent, "/srv/t/agents/a.yaml");
        assert_string_equal(s->task, "clean up");
        assert_true(s->approve);
        assert_false(bridle_scenario_wants_record(s));
        assert_int_equal(json_array_size(s->model), 2);
        /* Expanded like a script file: arguments as a string, ids filled in. */
        const json_t *call = json_array_get(json_array_get(s->model, 0), 0);
        assert_string_equal(json_string_value(json_object_get(call, "arguments")), "{\"cmd\":\"rm -rf x\"}");
        assert_non_null(json_object_get(call, "call_id"));
        assert_non_null(json_object_get(s->expect, "files"));
        assert_null(bridle_scenario_free(s));
}

struct bad {
        const char *text;
        const char *msg; /* the whole message */
};

static const struct bad bads[] = {
        {"task: t\nmodel: []\n", "s.yaml:1:1: expect: missing (what must be true after the run)"},
        {"model: []\nexpect: {status: completed}\n", "s.yaml:1:1: task: missing (the task the agent is given)"},
        {"task: t\nexpect: {status: completed}\n",
         "s.yaml:1:1: model: missing (the scripted model's turns; or 'record: true' and bridle test --record)"},
        {"task: t\nmodel: []\nexpect: {status: done}\n",
         "s.yaml:3:18: expect.status: 'done' is not one of completed, failed, stopped, awaiting_approval, interrupted"},
        {"task: t\nmodel: []\nexpect:\n  tool_calls:\n    - {name: x, decision: maybe}\n",
         "s.yaml:5:27: expect.tool_calls[0].decision: 'maybe' is not one of allow, ask, deny"},
        {"task: t\nmodel: []\nexpect:\n  tool_calls: [{nme: x}]\n",
         "s.yaml:4:17: expect.tool_calls[0].nme: unknown key (expected one of: name, decision, arguments, ok)"},
        {"task: t\nmodel: []\nexpect:\n  tool_calls: [{name: x, ok: yes}]\n",
         "s.yaml:4:30: expect.tool_calls[0].ok: expected true or false, got string"},
        {"task: t\nmodel: []\nexpect:\n  tool_calls: [{name: x, arguments: [1]}]\n",
         "s.yaml:4:37: expect.tool_calls[0].arguments: expected a mapping (a subset of the call's), got list"},
        {"task: t\nmodel: []\nexpect:\n  final_output: {matches: \"(\"}\n",
         NULL /* regcomp's message varies: checked by prefix below */},
        {"task: t\nmodel: []\nexpect:\n  final_output: {has: x}\n",
         "s.yaml:4:18: expect.final_output.has: unknown key (expected one of: contains, equals, matches)"},
        {"task: t\nmodel: []\nexpect:\n  files: {a.txt: {exists: false, contains: x}}\n",
         "s.yaml:4:27: expect.files.a.txt.exists: 'exists: false' cannot go with contains or equals"},
        {"task: t\nmodel: []\nexpect:\n  files: {a.txt: {size: 3}}\n",
         "s.yaml:4:19: expect.files.a.txt.size: unknown key (expected one of: exists, contains, equals)"},
        {"task: t\nmodel: []\nexpect: {}\n",
         "s.yaml:3:9: expect: give at least one of tool_calls, final_output, files, status"},
        {"task: t\nmodel: []\nexpect: {status: completed}\ntimeout: 3\n",
         "s.yaml:4:1: timeout: unknown key (expected one of: agent, task, model, expect, approvals, record, policy, "
         "manifest, max_turns)"},
        {"task: t\nagent: 3\nmodel: []\nexpect: {status: completed}\n", "s.yaml:2:8: agent: expected a string, got integer"},
        {"task: t\napprovals: ask\nmodel: []\nexpect: {status: completed}\n",
         "s.yaml:2:12: approvals: 'ask' is not one of approve, deny"},
        {"task: t\nmodel: {a: 1}\nexpect: {status: completed}\n", "s.yaml:2:8: model: expected a list of turns, got mapping"},
        {"task: t\nmodel:\n  - [{type: message, content: 3}]\nexpect: {status: completed}\n",
         "s.yaml:3:6: model[0][0]: a message's 'content' must be a string or a list, got integer"},
        {"task: t\nmodel:\n  - []\n  - [{type: function_call}]\nexpect: {status: completed}\n",
         "s.yaml:4:6: model[1][0]: a function_call's 'name' must be a string"},
        {"task: t\nmodel:\n  - 7\nexpect: {status: completed}\n", "s.yaml:3:5: model[0]: a turn is a list of items, got integer"},
        {"task: t\nmodel:\n  - {items: [], extra: 1}\nexpect: {status: completed}\n",
         "s.yaml:3:17: model[0].extra: unknown key (expected one of: items, usage, faults)"},
        {"task: t\nmodel: []\nmax_turns: 0\nexpect: {status: completed}\n",
         "s.yaml:3:12: max_turns: expected an integer from 1 to 10000"},
        {"- a\n", "s.yaml:1:1: a scenario is a mapping (agent, task, model, expect), got list"},
        {"task: [\n", NULL /* the YAML loader's own message */},
        {"task: t\ntask: u\n", NULL},
};

static void test_errors(void **state)
{
        (void)state;
        int wrong = 0;
        for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
                bridle_scenario *s = NULL;
                bridle_error err = {0};
                int r = bridle_scenario_parse(bads[i].text, strlen(bads[i].text), "s.yaml", &s, &err);
                if (r != BRIDLE_E_INVALID || s)
                        fail_msg("case %zu: r=%d (%s)", i, r, err.msg);
                if (bads[i].msg && strcmp(err.msg, bads[i].msg) != 0 && ++wrong)
                        print_error("case %zu:\n  want %s\n  got  %s\n", i, bads[i].msg, err.msg);
                /* Every message starts with FILE:LINE:COL. */
                int line = 0, col = 0;
                if (sscanf(err.msg, "s.yaml:%d:%d:", &line, &col) != 2 || line < 1 || col < 1)
                        fail_msg("case %zu: no FILE:LINE:COL in '%s'", i, err.msg);
        }
        assert_int_equal(wrong, 0);
        /* The regex case: its place and key. */
        bridle_scenario *s = NULL;
        bridle_error err = {0};
        assert_int_equal(bridle_scenario_parse(bads[8].text, strlen(bads[8].text), "s.yaml", &s, &err), BRIDLE_E_INVALID);
        assert_non_null(strstr(err.msg, "s.yaml:4:27: expect.final_output.matches: not a POSIX extended regular expression"));
}

static void test_load_file(void **state)
{
        (void)state;
        char *dir = bridle_test_tmpdir();
        char path[512];
        (void)snprintf(path, sizeof(path), "%s/x.yaml", dir);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_true(fputs("record: true\ntask: t\nagent: ../a.yaml\npolicy: /p.yaml\nexpect: {status: completed}\n", f) >= 0);
        assert_int_equal(fclose(f), 0);
        bridle_scenario *s = NULL;
        bridle_error err = {0};
        assert_int_equal(bridle_scenario_load(path, &s, &err), 0);
        assert_true(bridle_scenario_wants_record(s));
        assert_null(s->model);
        char want[600];
        (void)snprintf(want, sizeof(want), "%s/../a.yaml", dir);
        assert_string_equal(s->agent, want);
        assert_string_equal(s->policy, "/p.yaml");
        bridle_scenario_free(s);
        /* Without record: a run says there are no turns, and --record is refused for others. */
        (void)snprintf(path, sizeof(path), "%s/missing.yaml", dir);
        assert_int_equal(bridle_scenario_load(path, &s, &err), -ENOENT);
        assert_non_null(strstr(err.msg, "missing.yaml"));
        bridle_test_rmrf(dir);
        free(dir);
}

static void test_recorded_path(void **state)
{
        (void)state;
        char *p = bridle_scenario_recorded_path("tests/agent/x.yaml");
        assert_string_equal(p, "tests/agent/x.recorded.yaml");
        free(p);
        p = bridle_scenario_recorded_path("y.json");
        assert_string_equal(p, "y.recorded.yaml");
        free(p);
        p = bridle_scenario_recorded_path("z");
        assert_string_equal(p, "z.recorded.yaml");
        free(p);
}

/* A run's events, as bridle_agent_run reports them. */
static const char events_json[] =
        "[{\"type\":\"run.started\",\"data\":{}},"
        " {\"type\":\"model.response\",\"data\":{\"output\":[{\"type\":\"function_call\",\"call_id\":\"c1\",\"name\":"
        "\"exec_command\",\"arguments\":\"{\\\"cmd\\\":\\\"rm -rf x\\\",\\\"yield_time_ms\\\":10}\"}]}},"
        " {\"type\":\"gateway.decision\",\"data\":{\"call_id\":\"c1\",\"name\":\"exec_command\",\"decision\":\"deny\"}},"
        " {\"type\":\"tool.finished\",\"data\":{\"call_id\":\"c1\",\"ok\":false,\"denied\":true}},"
        " {\"type\":\"model.response\",\"data\":{\"output\":[{\"type\":\"message\",\"role\":\"assistant\",\"content\":"
        "[{\"type\":\"output_text\",\"text\":\"no.\"}]}]}},"
        " {\"type\":\"run.status\",\"data\":{\"status\":\"completed\",\"final_output\":\"no.\"}}]";

static size_t failed_checks(const bridle_scenario_result *r, const char **first)
{
        size_t n = 0;
        for (size_t i = 0; i < r->n_checks; i++)
                if (!r->checks[i].ok && n++ == 0)
                        *first = r->checks[i].what;
        return n;
}

static void test_checks(void **state)
{
        (void)state;
        bridle_scenario *s = NULL;
        bridle_error err = {0};
        /* No files: they need a sandbox (the integration test reads them). */
        char text[2048];
        (void)snprintf(text, sizeof(text), "%.*s", (int)(strstr(good, "  files:") - good), good);
        (void)strcat(text, "  status: completed\n");
        assert_int_equal(bridle_scenario_parse(text, strlen(text), "s.yaml", &s, &err), 0);
        json_t *ev = json_loads(events_json, 0, NULL);
        assert_non_null(ev);
        bridle_scenario_result res = {0};
        assert_int_equal(bridle__scenario_check(s, ev, "", &res), 0);
        const char *first = NULL;
        assert_int_equal(failed_checks(&res, &first), 0);
        /* status, tool_calls (count), 4 fields, final_output contains + matches */
        assert_int_equal(res.n_checks, 8);
        bridle_scenario_result_release(&res);
        bridle_scenario_free(s);

        /* A different decision and a wrong answer: two failures, with what was got. */
        const char *bad = "task: t\nmodel: []\nexpect:\n  tool_calls: [{decision: allow}, {name: x}]\n"
                          "  final_output: \"yes.\"\n";
        assert_int_equal(bridle_scenario_parse(bad, strlen(bad), "s.yaml", &s, &err), 0);
        assert_int_equal(bridle__scenario_check(s, ev, "", &res), 0);
        assert_int_equal(failed_checks(&res, &first), 3);
        assert_string_equal(first, "tool_calls");
        assert_string_equal(res.checks[0].expected, "2 calls");
        assert_non_null(strstr(res.checks[0].got, "[0] exec_command {\"cmd\":\"rm -rf x\",\"yield_time_ms\":10} -> deny, not ok"));
        assert_string_equal(res.checks[1].what, "tool_calls[0].decision");
        assert_string_equal(res.checks[1].got, "deny");
        assert_string_equal(res.checks[2].what, "final_output.equals");
        assert_string_equal(res.checks[2].got, "no.");
        bridle_scenario_result_release(&res);
        bridle_scenario_free(s);
        json_decref(ev);
}

static void test_recording(void **state)
{
        (void)state;
        const char *text = "agent: a.yaml\nrecord: true\ntask: t\nexpect: {status: completed}\n";
        bridle_scenario *s = NULL;
        bridle_error err = {0};
        assert_int_equal(bridle_scenario_parse(text, strlen(text), "dir/r.yaml", &s, &err), 0);
        json_t *ev = json_loads(events_json, 0, NULL);
        char *out = NULL;
        assert_int_equal(bridle__scenario_recorded(s, ev, &out, &err), 0);
        assert_null(strstr(out, "record:"));
        assert_non_null(strstr(out, "\"cmd\": \"rm -rf x\"") ? strstr(out, "\"cmd\": \"rm -rf x\"")
                                                            : strstr(out, "\"cmd\":\"rm -rf x\""));
        /* It loads back, with both turns, and replays without record. */
        bridle_scenario *back = NULL;
        if (bridle_scenario_parse(out, strlen(out), "dir/r.recorded.yaml", &back, &err) < 0)
                fail_msg("%s\n%s", err.msg, out);
        assert_false(bridle_scenario_wants_record(back));
        assert_int_equal(json_array_size(back->model), 2);
        assert_string_equal(back->agent, s->agent);
        bridle_scenario_free(back);
        free(out);
        json_decref(ev);
        /* --record of a scenario without record: true is refused. */
        const char *plain = "task: t\nmodel: []\nexpect: {status: completed}\n";
        bridle_scenario *p = NULL;
        assert_int_equal(bridle_scenario_parse(plain, strlen(plain), "p.yaml", &p, &err), 0);
        bridle_scenario_opts o = {.record = true};
        bridle_scenario_result res = {0};
        assert_int_equal(bridle_scenario_run(p, &o, &res, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "record: true"));
        bridle_scenario_free(p);
        bridle_scenario_free(s);
}

static void test_alloc_failures(void **state)
{
        (void)state;
        for (unsigned long n = 1; n < 200; n++) {
                bridle_scenario *s = NULL;
                bridle_error err = {0};
                bridle__alloc_fail_at(n);
                int r = bridle_scenario_parse(good, strlen(good), "s.yaml", &s, &err);
                bridle__alloc_fail_at(0);
                if (r == 0) {
                        bridle_scenario_free(s);
                        return;
                }
                assert_null(s);
                if (r != -ENOMEM && r != BRIDLE_E_INVALID)
                        fail_msg("allocation %lu: r=%d (%s)", n, r, err.msg);
        }
        fail_msg("parse never succeeded");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_good),          cmocka_unit_test(test_errors),
                cmocka_unit_test(test_load_file),     cmocka_unit_test(test_recorded_path),
                cmocka_unit_test(test_checks),        cmocka_unit_test(test_recording),
                cmocka_unit_test(test_alloc_failures),
        };
        return cmocka_run_group_tests_name("scenario", tests, NULL, NULL);
}
