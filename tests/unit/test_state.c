/* SPDX-License-Identifier: MIT */
/*
 * The fold of a run's events into its state: item order, pending calls,
 * handoffs, statuses, usage sums, malformed events; and the public
 * bridle_runs_list()/bridle_runs_show() over a journal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#include "bridle/run.h"
#include "journal/journal.h"
#include "runner/state.h"

/* Events built in memory: ev(seq, type, data-json). */
static json_t *ev(int seq, const char *type, const char *data)
{
        json_error_t jerr;
        json_t *d = json_loads(data, 0, &jerr);
        if (!d)
                fail_msg("bad test data '%s': %s", data, jerr.text);
        return json_pack("{s:s, s:i, s:I, s:s, s:o}", "run_id", "0123456789abcdef0123456789abcdef",
                         "seq", seq, "ts", (json_int_t)1700000000000LL + seq * 1500, "type", type,
                         "data", d);
}

static const char *item_type(const json_t *items, size_t i)
{
        return json_string_value(json_object_get(json_array_get(items, i), "type"));
}

static const char *item_call_id(const json_t *items, size_t i)
{
        return json_string_value(json_object_get(json_array_get(items, i), "call_id"));
}

static json_t *story(void)
{
        json_t *a = json_array();
        json_array_append_new(
                a, ev(1, "run.started",
                      "{\"task\":\"fix the bug\",\"agent\":\"planner\",\"agent_file\":\"a.yaml\","
                      "\"agents\":{},\"options\":{\"max_turns\":10}}"));
        json_array_append_new(a, ev(2, "sandbox.created", "{\"sandbox_id\":\"abc123\"}"));
        json_array_append_new(a,
                              ev(3, "model.request",
                                 "{\"turn\":1,\"agent\":\"planner\",\"model\":\"m\",\"items\":1}"));
        json_array_append_new(
                a, ev(4, "model.response",
                      "{\"turn\":1,\"agent\":\"planner\",\"response_id\":\"r1\",\"output\":["
                      "{\"type\":\"reasoning\",\"id\":\"rs_1\",\"summary\":[]},"
                      "{\"type\":\"function_call\",\"id\":\"fc_1\",\"call_id\":\"c1\",\"name\":"
                      "\"read_file\",\"arguments\":\"{}\"},"
                      "{\"type\":\"function_call\",\"id\":\"fc_2\",\"call_id\":\"c2\",\"name\":"
                      "\"ls\",\"arguments\":\"{}\"}],"
                      "\"usage\":{\"input_tokens\":100,\"cached_tokens\":40,\"output_tokens\":20,"
                      "\"reasoning_tokens\":5},"
                      "\"cost_usd\":0.25,\"retries\":0}"));
        json_array_append_new(
                a,
                ev(5, "tool.started",
                   "{\"turn\":1,\"call_id\":\"c1\",\"name\":\"read_file\",\"arguments\":\"{}\"}"));
        json_array_append_new(a, ev(6, "tool.finished",
                                    "{\"turn\":1,\"call_id\":\"c1\",\"name\":\"read_file\",\"ok\":"
                                    "true,\"duration_ms\":3,"
                                    "\"output_item\":{\"type\":\"function_call_output\",\"call_"
                                    "id\":\"c1\",\"output\":\"text\"}}"));
        json_array_append_new(a, ev(7, "something.new", "{\"whatever\":[1,2,3]}"));
        return a;
}

static void test_fold_pending(void **state)
{
        json_t *a = story();
        bridle__run_state st;
        bridle_error err = {0};
        assert_int_equal(bridle__run_state_fold(a, &st, &err), 0);
        assert_string_equal(st.run_id, "0123456789abcdef0123456789abcdef");
        assert_int_equal(st.status, BRIDLE_RUN_RUNNING);
        assert_string_equal(st.agent, "planner");
        assert_string_equal(st.sandbox_id, "abc123");
        assert_string_equal(json_string_value(json_object_get(st.started, "agent_file")), "a.yaml");
        /* task message, reasoning, call c1, call c2, output of c1 */
        assert_int_equal(json_array_size(st.items), 5);
        json_t *m = json_array_get(st.items, 0);
        assert_string_equal(json_string_value(json_object_get(m, "role")), "user");
        json_t *c = json_array_get(json_object_get(m, "content"), 0);
        assert_string_equal(json_string_value(json_object_get(c, "type")), "input_text");
        assert_string_equal(json_string_value(json_object_get(c, "text")), "fix the bug");
        assert_string_equal(item_type(st.items, 1), "reasoning");
        assert_string_equal(item_call_id(st.items, 2), "c1");
        assert_string_equal(item_call_id(st.items, 3), "c2");
        assert_string_equal(item_type(st.items, 4), "function_call_output");
        /* c2 has no tool.finished: it is pending */
        assert_int_equal(json_array_size(st.pending), 1);
        assert_string_equal(item_call_id(st.pending, 0), "c2");
        assert_int_equal(st.turns, 1);
        assert_int_equal(st.input_tokens, 100);
        assert_int_equal(st.cached_tokens, 40);
        assert_int_equal(st.output_tokens, 20);
        assert_int_equal(st.reasoning_tokens, 5);
        assert_true(st.cost_usd > 0.2499 && st.cost_usd < 0.2501);
        assert_int_equal(st.last_seq, 7);
        assert_int_equal(st.started_at, (1700000000000LL + 1500) / 1000);
        assert_int_equal(st.updated_at, (1700000000000LL + 7 * 1500) / 1000);
        assert_null(st.final_output);
        bridle__run_state_clear(&st);
        assert_null(st.items);
        json_decref(a);
}

static void test_fold_end(void **state)
{
        json_t *a = story();
        json_array_append_new(a, ev(8, "tool.finished",
                                    "{\"call_id\":\"c2\",\"name\":\"ls\",\"ok\":false,"
                                    "\"output_item\":{\"type\":\"function_call_output\",\"call_"
                                    "id\":\"c2\",\"output\":\"e\"}}"));
        json_array_append_new(
                a, ev(9, "handoff", "{\"from\":\"planner\",\"to\":\"coder\",\"call_id\":\"c9\"}"));
        json_array_append_new(
                a, ev(10, "model.response",
                      "{\"turn\":2,\"output\":["
                      "{\"type\":\"shell_call\",\"call_id\":\"s1\",\"action\":{\"commands\":["
                      "\"ls\"]},\"status\":\"completed\"},"
                      "{\"type\":\"apply_patch_call\",\"call_id\":\"p1\",\"operation\":{\"type\":"
                      "\"create_file\",\"path\":\"a\",\"diff\":\"+x\"}}],"
                      "\"usage\":{\"input_tokens\":200,\"output_tokens\":30},\"cost_usd\":null}"));
        json_array_append_new(a,
                              ev(11, "run.status",
                                 "{\"status\":\"stopped\",\"reason\":\"max_turns (2) reached\"}"));
        bridle__run_state st;
        bridle_error err = {0};
        assert_int_equal(bridle__run_state_fold(a, &st, &err), 0);
        assert_int_equal(st.status, BRIDLE_RUN_STOPPED);
        assert_string_equal(st.reason, "max_turns (2) reached");
        assert_string_equal(st.where, "");
        assert_string_equal(st.agent, "coder");
        assert_int_equal(st.turns, 2);
        assert_int_equal(st.input_tokens, 300);
        assert_int_equal(st.cached_tokens, 40);
        assert_int_equal(st.output_tokens, 50);
        assert_int_equal(json_array_size(st.items), 8);
        assert_string_equal(item_type(st.items, 5), "function_call_output");
        assert_string_equal(item_type(st.items, 6), "shell_call");
        assert_string_equal(item_type(st.items, 7), "apply_patch_call");
        /* the last response's calls, both unfinished, in order */
        assert_int_equal(json_array_size(st.pending), 2);
        assert_string_equal(item_call_id(st.pending, 0), "s1");
        assert_string_equal(item_call_id(st.pending, 1), "p1");

        /* resume, finish one call, fail, then complete */
        bridle_error e2 = {0};
        json_t *more[] = {
                ev(12, "run.resumed", "{\"attempt\":1}"),
                ev(13, "run.status", "{\"status\":\"running\"}"),
                ev(14, "tool.finished",
                   "{\"call_id\":\"p1\",\"output_item\":{\"type\":\"apply_patch_call_output\","
                   "\"call_id\":\"p1\",\"status\":\"completed\",\"output\":\"ok\"}}"),
                ev(15, "run.status",
                   "{\"status\":\"failed\",\"where\":\"model\",\"reason\":\"auth\"}"),
        };
        for (size_t i = 0; i < 4; i++) {
                assert_int_equal(bridle__run_state_apply(&st, more[i], &e2), 0);
                json_decref(more[i]);
        }
        assert_int_equal(st.resumes, 1);
        assert_int_equal(st.status, BRIDLE_RUN_FAILED);
        assert_string_equal(st.where, "model");
        assert_string_equal(st.reason, "auth");
        assert_int_equal(json_array_size(st.pending), 1);
        assert_string_equal(item_call_id(st.pending, 0), "s1");
        json_t *done =
                ev(16, "run.status", "{\"status\":\"completed\",\"final_output\":\"all fixed\"}");
        assert_int_equal(bridle__run_state_apply(&st, done, &e2), 0);
        json_decref(done);
        assert_int_equal(st.status, BRIDLE_RUN_COMPLETED);
        assert_string_equal(st.final_output, "all fixed");
        assert_string_equal(st.reason, "");

        bridle_run_info info;
        bridle__run_state_info(&st, &info);
        assert_string_equal(info.status, "completed");
        assert_string_equal(info.agent, "coder");
        assert_string_equal(info.id, "0123456789abcdef0123456789abcdef");
        assert_int_equal(info.turns, 2);
        assert_int_equal(info.output_tokens, 50);
        bridle__run_state_clear(&st);
        json_decref(a);
}

/* A newer response replaces the pending calls of an older one. */
static void test_last_response_pending(void **state)
{
        bridle__run_state st;
        memset(&st, 0, sizeof(st));
        bridle_error err = {0};
        json_t *e[] = {
                ev(1, "run.started", "{\"task\":\"t\",\"agent\":\"a\"}"),
                ev(2, "model.response",
                   "{\"output\":[{\"type\":\"function_call\",\"call_id\":\"A\",\"name\":\"x\","
                   "\"arguments\":\"{}\"}]}"),
                ev(3, "model.response",
                   "{\"output\":[{\"type\":\"message\",\"role\":\"assistant\",\"content\":[]},"
                   "{\"type\":\"function_call\",\"call_id\":\"B\",\"name\":\"x\",\"arguments\":\"{}"
                   "\"}]}"),
        };
        for (size_t i = 0; i < 3; i++) {
                assert_int_equal(bridle__run_state_apply(&st, e[i], &err),
                                 0); /* from a zeroed state */
                json_decref(e[i]);
        }
        assert_int_equal(json_array_size(st.pending), 1);
        assert_string_equal(item_call_id(st.pending, 0), "B");
        assert_int_equal(json_array_size(st.items), 4);
        assert_int_equal(st.input_tokens, 0);
        assert_int_equal(st.turns, 2);
        bridle__run_state_clear(&st);
}

struct bad_case {
        const char *type, *data, *want; /* want: a piece of the message */
};

static void test_malformed(void **state)
{
        static const struct bad_case cases[] = {
                {"model.response", "{\"output\":{}}", "'output' is not an array"},
                {"model.response", "{}", "'output' is missing"},
                {"model.response", "{\"output\":[1]}", "'output[0].type'"},
                {"model.response", "{\"output\":[{\"type\":\"function_call\"}]}",
                 "'output[0].call_id'"},
                {"model.response", "{\"output\":[],\"usage\":{\"input_tokens\":\"9\"}}",
                 "'usage.input_tokens'"},
                {"model.response", "{\"output\":[],\"usage\":{\"output_tokens\":-1}}",
                 "'usage.output_tokens'"},
                {"model.response", "{\"output\":[],\"cost_usd\":\"1\"}", "'cost_usd'"},
                {"tool.finished", "{\"call_id\":\"c\"}", "'output_item' is missing"},
                {"tool.finished", "{\"output_item\":{}}", "'call_id' is missing"},
                {"run.status", "{\"status\":\"exploded\"}", "'status' is not a run status"},
                {"run.status", "{\"status\":\"failed\",\"reason\":7}", "'reason' is not a string"},
                {"handoff", "{\"from\":\"a\"}", "'to' is missing"},
                {"sandbox.created", "{\"sandbox_id\":\"0123456789abcdefXYZ\"}", "'sandbox_id'"},
                {"run.started", "{\"task\":\"again\",\"agent\":\"a\"}", "repeats run.started"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                json_t *a = json_array();
                json_array_append_new(a, ev(1, "run.started", "{\"task\":\"t\",\"agent\":\"a\"}"));
                json_array_append_new(a, ev(2, "model.response",
                                            "{\"output\":[],\"usage\":{\"input_tokens\":5}}"));
                json_array_append_new(a, ev(3, cases[i].type, cases[i].data));
                json_array_append_new(a, ev(4, "run.status", "{\"status\":\"completed\"}"));
                bridle__run_state st;
                bridle_error err = {0};
                assert_int_equal(bridle__run_state_fold(a, &st, &err), BRIDLE_E_INVALID);
                if (!strstr(err.msg, cases[i].want) || !strstr(err.msg, "event 3"))
                        fail_msg("case %zu: message '%s' lacks '%s'", i, err.msg, cases[i].want);
                /* the state is the fold of the events before the bad one */
                assert_int_equal(st.last_seq, 2);
                assert_int_equal(st.turns, 1);
                assert_int_equal(st.input_tokens, 5);
                assert_int_equal(st.status, BRIDLE_RUN_RUNNING);
                assert_int_equal(json_array_size(st.items), 1);
                bridle__run_state_clear(&st);
                json_decref(a);
        }
}

static void test_bad_envelope(void **state)
{
        bridle__run_state st;
        bridle_error err = {0};
        /* seqs must increase */
        json_t *a = json_array();
        json_array_append_new(a, ev(2, "run.started", "{\"task\":\"t\",\"agent\":\"a\"}"));
        json_array_append_new(a, ev(2, "run.resumed", "{}"));
        assert_int_equal(bridle__run_state_fold(a, &st, &err), BRIDLE_E_INVALID);
        assert_non_null(strstr(err.msg, "'seq'"));
        bridle__run_state_clear(&st);
        json_decref(a);
        /* data not an object; not an array at all */
        a = json_pack("[{s:i, s:I, s:s, s:[]}]", "seq", 1, "ts", (json_int_t)0, "type",
                      "run.resumed", "data");
        assert_int_equal(bridle__run_state_fold(a, &st, &err), BRIDLE_E_INVALID);
        assert_non_null(strstr(err.msg, "'data'"));
        bridle__run_state_clear(&st);
        json_decref(a);
        a = json_object();
        assert_int_equal(bridle__run_state_fold(a, &st, &err), -EINVAL);
        bridle__run_state_clear(&st);
        json_decref(a);
        /* an empty run folds to an empty, running state */
        a = json_array();
        assert_int_equal(bridle__run_state_fold(a, &st, &err), 0);
        assert_int_equal(json_array_size(st.items), 0);
        assert_int_equal(json_array_size(st.pending), 0);
        assert_int_equal(st.status, BRIDLE_RUN_RUNNING);
        bridle__run_state_clear(&st);
        json_decref(a);
}

static void test_status_names(void **state)
{
        static const char *names[] = {"running", "completed", "failed",
                                      "stopped", "awaiting_approval", "interrupted"};
        for (int s = 0; s <= 5; s++) {
                enum bridle_run_status back;
                assert_string_equal(bridle_run_status_name((enum bridle_run_status)s), names[s]);
                assert_int_equal(bridle__run_status_parse(names[s], &back), 0);
                assert_int_equal(back, s);
        }
        enum bridle_run_status x;
        assert_int_equal(bridle__run_status_parse("done", &x), -EINVAL);
        assert_int_equal(bridle__run_status_parse(NULL, &x), -EINVAL);
}

/* The public API over a real journal. */
static void test_runs_api(void **state)
{
        char *root = bridle_test_tmpdir();
        char db[512];
        (void)snprintf(db, sizeof(db), "%s/j.db", root);
        bridle_error err = {0};
        bridle_run_info *runs = NULL;
        size_t n = 9;
        /* no journal: no runs, and none is made */
        assert_int_equal(bridle_runs_list(db, &runs, &n, &err), 0);
        assert_int_equal(n, 0);
        free(runs);
        struct stat sb;
        assert_int_equal(stat(db, &sb), -1);
        bridle_run_info info;
        char *jsonl = NULL;
        assert_int_equal(bridle_runs_show(db, "abcd", &info, &jsonl, &err), -ENOENT);

        bridle__journal *j = NULL;
        assert_int_equal(bridle__journal_open(db, &j, &err), 0);
        char a[33], b[33];
        assert_int_equal(bridle__journal_new_run(j, "first", a, &err), 0);
        json_t *events = story();
        size_t i;
        json_t *e;
        json_array_foreach(events, i, e) assert_true(
                bridle__journal_append(j, a, json_string_value(json_object_get(e, "type")),
                                       json_object_get(e, "data"), NULL, &err) > 0);
        assert_int_equal(bridle__journal_new_run(j, "second", b, &err), 0);
        bridle__journal_close(j);

        assert_int_equal(bridle_runs_list(db, &runs, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_string_equal(runs[0].id, b); /* newest first; no events: the runs row */
        assert_string_equal(runs[0].agent, "second");
        assert_string_equal(runs[0].status, "running");
        assert_true(runs[0].started_at > 1600000000);
        assert_string_equal(runs[1].id, a);
        assert_string_equal(runs[1].agent, "planner");
        assert_int_equal(runs[1].turns, 1);
        assert_int_equal(runs[1].input_tokens, 100);
        free(runs);

        char pre[8];
        (void)snprintf(pre, sizeof(pre), "%.6s", a);
        assert_int_equal(bridle_runs_show(db, pre, &info, &jsonl, &err), 0);
        assert_string_equal(info.id, a);
        assert_int_equal(info.cached_tokens, 40);
        /* seven lines, each an event */
        int lines = 0;
        for (const char *p = jsonl; *p; p++)
                lines += *p == '\n';
        assert_int_equal(lines, 7);
        assert_non_null(strstr(jsonl, "\"type\":\"run.started\""));
        assert_true(jsonl[strlen(jsonl) - 1] == '\n');
        free(jsonl);
        assert_int_equal(
                bridle_runs_show(db, "ffffffffffffffffffffffffffffffff", &info, &jsonl, &err),
                -ENOENT);
        assert_non_null(strstr(err.msg, "no run"));
        json_decref(events);
        bridle_test_rmrf(root);
        free(root);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fold_pending),
                cmocka_unit_test(test_fold_end),
                cmocka_unit_test(test_last_response_pending),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_bad_envelope),
                cmocka_unit_test(test_status_names),
                cmocka_unit_test(test_runs_api),
        };
        return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
