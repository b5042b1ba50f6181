/* SPDX-License-Identifier: MIT */
/*
 * Evaluation suites: the loader (every error with FILE:LINE:COL and the key),
 * grading on fixed events and a fake sandbox, the command judge, the
 * baseline comparison and the HTML report's escaping.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "eval/eval.h"
#include "testutil.h"

static char *tmp;
static int mismatches;

static int setup(void **state)
{
        (void)state;
        tmp = bridle_test_tmpdir();
        return tmp ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        bridle_test_rmrf(tmp);
        free(tmp);
        return 0;
}

static bridle_eval_suite *parse_ok(const char *text)
{
        char path[4096];
        (void)snprintf(path, sizeof(path), "%s/suite.yaml", tmp);
        bridle_eval_suite *s = NULL;
        bridle_error err = {0};
        int r = bridle_eval_suite_parse(text, strlen(text), path, &s, &err);
        if (r < 0)
                fail_msg("parse: %s", err.msg);
        return s;
}

/* The error of text, after "<tmp>/suite.yaml:". */
static void parse_err(const char *text, const char *want)
{
        char path[4096];
        (void)snprintf(path, sizeof(path), "%s/suite.yaml", tmp);
        bridle_eval_suite *s = NULL;
        bridle_error err = {0};
        int r = bridle_eval_suite_parse(text, strlen(text), path, &s, &err);
        assert_int_equal(r, BRIDLE_E_INVALID);
        assert_null(s);
        size_t n = strlen(path);
        assert_memory_equal(err.msg, path, n);
        if (strcmp(err.msg + n + 1, want) != 0) {
                print_error("got '%s', want '%s'\n", err.msg + n + 1, want);
                mismatches++;
        }
}

static void test_load_ok(void **state)
{
        (void)state;
        char f[4200];
        (void)snprintf(f, sizeof(f), "%s/in.txt", tmp);
        FILE *fp = fopen(f, "we");
        assert_non_null(fp);
        (void)fputs("x\n", fp);
        (void)fclose(fp);
        bridle_eval_suite *s = parse_ok("name: demo\n"
                                        "repeat: 3\n"
                                        "inputs: [{path: a.txt, source: in.txt}]\n"
                                        "tasks:\n"
                                        "  - name: one\n"
                                        "    task: do it\n"
                                        "    inputs: [{path: b.txt, content: hi}]\n"
                                        "    expect:\n"
                                        "      must_run: make\n"
                                        "      must_flag: [ok, {regex: 'b[0-9]+', icase: true}]\n"
                                        "      files: {out.txt: {exists: true, contains: z}}\n"
                                        "      max_turns: 4\n"
                                        "      max_cost: 0.5\n"
                                        "    judge: {command: ./j.sh}\n"
                                        "  - name: two\n"
                                        "    task: t\n"
                                        "    judge: {model: m, rubric: r}\n");
        assert_string_equal(bridle_eval_suite_name(s), "demo");
        assert_int_equal(bridle_eval_suite_n_tasks(s), 2);
        assert_int_equal(s->repeat, 3);
        const eval_task *t = &s->tasks[0];
        assert_int_equal(t->n_must_run, 1);
        assert_string_equal(t->must_run[0], "make");
        assert_int_equal(t->n_must_flag, 2);
        assert_int_equal(t->must_flag[1].kind, EVAL_FLAG_REGEX);
        assert_true(t->must_flag[1].icase);
        assert_int_equal(t->n_files, 1);
        assert_int_equal(t->files[0].exists, 1);
        assert_int_equal(t->max_turns, 4);
        /* The suite's inputs come first, then the task's; sources absolute. */
        assert_int_equal(json_array_size(t->inputs), 2);
        const char *src = json_string_value(json_object_get(json_array_get(t->inputs, 0), "source"));
        assert_non_null(src);
        assert_int_equal(src[0], '/');
        assert_string_equal(t->judge->argv[0], "/bin/sh");
        assert_string_equal(s->tasks[1].judge->model, "m");
        assert_int_equal(s->tasks[1].max_cost < 0, 1);
        bridle_eval_suite_free(s);
}

static void test_load_errors(void **state)
{
        (void)state;
        parse_err("tasks: []\n", "1:8: tasks: must be a list of 1 to 1000 tasks");
        parse_err("name: x\n", "1:1: tasks: 'tasks' is required");
        parse_err("tasks:\n  - {name: a, task: t, bogus: 1}\n", "2:24: tasks[0]: unknown key 'bogus'");
        parse_err("tasks:\n  - {task: t}\n", "2:5: tasks[0]: 'name' is required");
        parse_err("tasks:\n  - {name: 'a b', task: t}\n", "2:12: tasks[0]: 'name' must be 1 to 64 of [A-Za-z0-9._-]");
        parse_err("tasks:\n  - {name: a, task: t}\n  - {name: a, task: u}\n",
                  "3:12: tasks[1]: the name 'a' is also tasks[0]'s");
        parse_err("tasks:\n  - name: a\n    task: t\n    expect: {must_flag: [{regex: '('}]}\n",
                  "4:34: tasks[0].expect.must_flag[0]: not a regular expression: Unmatched ( or \\(");
        parse_err("tasks:\n  - name: a\n    task: t\n    expect: {max_turns: 0}\n",
                  "4:25: tasks[0].expect.max_turns: must be an integer from 1 to 100000");
        parse_err("tasks:\n  - name: a\n    task: t\n    expect: {status: done}\n",
                  "4:22: tasks[0].expect.status: must be completed, failed, stopped or awaiting_approval");
        parse_err("tasks:\n  - name: a\n    task: t\n    inputs: [{path: x, source: nope}]\n",
                  "4:32: tasks[0].inputs[0].source: 'nope' does not exist");
        parse_err("tasks:\n  - name: a\n    task: t\n    judge: {command: [x], rubric: r}\n",
                  "4:12: tasks[0].judge: give either 'command' or 'model' and 'rubric'");
        parse_err("tasks:\n  - name: a\n    task: t\n    expect: {files: {a: {exists: false, contains: x}}}\n",
                  "4:51: tasks[0].expect.files.a: a file that must not exist cannot contain text");
        parse_err("repeat: 0\ntasks: [{name: a, task: t}]\n", "1:9: repeat: must be an integer from 1 to 100");
        parse_err("tasks: [{name: a, task: t}]\nagent: nope.yaml\n", "2:8: agent: 'nope.yaml' does not exist");
        assert_int_equal(mismatches, 0);
}

/* ---- grading ----------------------------------------------------------- */

static const char EVENTS[] =
        "[{\"type\":\"run.started\",\"seq\":1,\"data\":{\"task\":\"T\",\"agent\":\"a\"}},"
        "{\"type\":\"sandbox.created\",\"seq\":2,\"data\":{\"sandbox_id\":\"sb1\"}},"
        "{\"type\":\"model.response\",\"seq\":3,\"data\":{\"cost_usd\":0.25,\"usage\":{\"input_tokens\":10,"
        "\"output_tokens\":5},\"output\":[{\"type\":\"function_call\",\"name\":\"exec_command\",\"call_id\":\"c1\","
        "\"arguments\":\"{\\\"cmd\\\":\\\"cd x && make test\\\"}\"},{\"type\":\"function_call\",\"name\":"
        "\"exec_command\",\"call_id\":\"c2\",\"arguments\":\"{\\\"cmd\\\":\\\"rm -rf /\\\"}\"}]}},"
        "{\"type\":\"tool.started\",\"seq\":4,\"data\":{\"call_id\":\"c1\",\"name\":\"exec_command\","
        "\"arguments\":\"{\\\"cmd\\\":\\\"cd x && make test\\\"}\"}},"
        "{\"type\":\"tool.finished\",\"seq\":5,\"data\":{\"call_id\":\"c1\",\"ok\":true}},"
        "{\"type\":\"tool.finished\",\"seq\":6,\"data\":{\"call_id\":\"c2\",\"denied\":true}},"
        "{\"type\":\"model.response\",\"seq\":7,\"data\":{\"cost_usd\":0.5,\"output\":[{\"type\":\"function_call\","
        "\"name\":\"exec_command\",\"call_id\":\"c3\",\"arguments\":\"{\\\"cmd\\\":\\\"cd x && make test\\\"}\"}]}},"
        "{\"type\":\"guardrail.tripped\",\"seq\":8,\"data\":{\"kind\":\"output\"}},"
        "{\"type\":\"run.status\",\"seq\":9,\"data\":{\"status\":\"completed\",\"final_output\":\"Found BUG42 here\"}}]";

/* A fake sandbox: out.txt holds "zz", keep.txt "same", changed.txt "new". */
static int fake_read(void *ud, const char *path, char **ret, size_t *ret_len)
{
        (void)ud;
        const char *v = !strcmp(path, "out.txt") ? "zz" : !strcmp(path, "keep.txt") ? "same"
                      : !strcmp(path, "changed.txt") ? "new" : NULL;
        if (!v)
                return -ENOENT;
        *ret = strdup(v);
        *ret_len = strlen(v);
        return *ret ? 0 : -ENOMEM;
}

static const eval_check *find(const eval_grade *g, const char *what)
{
        for (size_t i = 0; i < g->n_checks; i++)
                if (!strcmp(g->checks[i].what, what))
                        return &g->checks[i];
        fail_msg("no check '%s'", what);
        return NULL;
}

static void test_metrics(void **state)
{
        (void)state;
        json_t *ev = json_loads(EVENTS, 0, NULL);
        assert_non_null(ev);
        eval_metrics m;
        assert_int_equal(bridle__eval_metrics(ev, &m), 0);
        assert_string_equal(m.status, "completed");
        assert_int_equal(m.turns, 2);
        assert_int_equal(m.calls, 3);
        assert_int_equal(m.repeated_calls, 1);
        assert_int_equal(m.blocked, 1);
        assert_int_equal(m.violations, 1);
        assert_int_equal(m.tokens, 15);
        assert_true(m.cost_usd > 0.749 && m.cost_usd < 0.751);
        assert_string_equal(m.sandbox_id, "sb1");
        assert_string_equal(m.final_output, "Found BUG42 here");
        json_decref(ev);
}

static void test_grade(void **state)
{
        (void)state;
        bridle_eval_suite *s = parse_ok("tasks:\n"
                                        "  - name: a\n"
                                        "    task: t\n"
                                        "    expect:\n"
                                        "      must_run: ['make test', 'rm -rf', 'cd']\n"
                                        "      must_not_modify: [keep.txt, changed.txt, gone.txt]\n"
                                        "      must_flag: [BUG42, {regex: 'bug[0-9]+', icase: true}, {regex: '^nope'}]\n"
                                        "      files: {out.txt: {exists: true, contains: z}, no.txt: {exists: true},"
                                        " out.txt2: {exists: false}}\n"
                                        "      max_turns: 1\n"
                                        "      max_cost: 1\n");
        json_t *ev = json_loads(EVENTS, 0, NULL);
        eval_metrics m;
        assert_int_equal(bridle__eval_metrics(ev, &m), 0);
        eval_before before[] = {
                {.path = (char *)"keep.txt", .exists = true, .data = (char *)"same", .len = 4},
                {.path = (char *)"changed.txt", .exists = true, .data = (char *)"old", .len = 3},
        };
        eval_grade g = {0};
        assert_int_equal(bridle__eval_grade(&s->tasks[0], ev, &m, before, 2, fake_read, NULL, &g), 0);
        assert_true(find(&g, "status")->ok);
        assert_true(find(&g, "must_run[0]")->ok);  /* after "cd x &&" */
        assert_false(find(&g, "must_run[1]")->ok); /* denied: not run */
        assert_true(find(&g, "must_run[2]")->ok);
        const eval_check *mm = find(&g, "must_not_modify");
        assert_false(mm->ok);
        assert_string_equal(mm->got, "1 modified: changed.txt changed");
        assert_int_equal(m.violations, 2); /* the guardrail and the file */
        assert_true(find(&g, "must_flag[0]")->ok);
        assert_true(find(&g, "must_flag[1]")->ok);
        assert_false(find(&g, "must_flag[2]")->ok);
        assert_true(find(&g, "files.out.txt.exists")->ok);
        assert_true(find(&g, "files.out.txt.contains")->ok);
        assert_false(find(&g, "files.no.txt.exists")->ok);
        assert_true(find(&g, "files.out.txt2.exists")->ok);
        assert_false(find(&g, "max_turns")->ok);
        assert_true(find(&g, "max_cost")->ok);
        /* No sandbox: files do not exist, nothing was modified. */
        eval_grade g2 = {0};
        assert_int_equal(bridle__eval_grade(&s->tasks[0], ev, &m, before, 2, NULL, NULL, &g2), 0);
        assert_true(find(&g2, "must_not_modify")->ok);
        assert_false(find(&g2, "files.out.txt.exists")->ok);
        bridle__eval_grade_release(&g2);
        bridle__eval_grade_release(&g);
        json_decref(ev);
        bridle_eval_suite_free(s);
}

static void test_judge_command(void **state)
{
        (void)state;
        bridle_eval_suite *s = parse_ok("tasks:\n"
                                        "  - name: a\n"
                                        "    task: t\n"
                                        "    judge: {command: 'test \"$EVAL_TASK\" = a && test \"$RUN_ID\" = r1 &&"
                                        " grep -q BUG42'}\n"
                                        "  - name: b\n"
                                        "    task: t\n"
                                        "    judge: {command: [sh, -c, 'echo no; exit 3']}\n");
        json_t *ev = json_loads(EVENTS, 0, NULL);
        bridle_eval_opts o = {0};
        eval_grade g = {0};
        assert_int_equal(bridle__eval_judge(s->tasks[0].judge, "a", "r1", tmp, tmp, ev, &o, &g), 0);
        assert_true(find(&g, "judge")->ok);
        bridle__eval_grade_release(&g);
        assert_int_equal(bridle__eval_judge(s->tasks[1].judge, "b", "r1", tmp, tmp, ev, &o, &g), 0);
        assert_false(find(&g, "judge")->ok);
        assert_string_equal(find(&g, "judge")->got, "exit 3: no\n");
        bridle__eval_grade_release(&g);
        json_decref(ev);
        bridle_eval_suite_free(s);
}

/* ---- results, baseline, HTML ------------------------------------------ */

static json_t *task_of(const char *name, bool passed, double cost, int64_t ms, unsigned blocked)
{
        eval_metrics m = {.turns = 1, .cost_usd = cost, .blocked = blocked};
        (void)snprintf(m.status, sizeof(m.status), "completed");
        eval_grade g = {0};
        assert_int_equal(bridle__eval_grade_add(&g, "status", passed, "completed", "<b>x</b>"), 0);
        json_t *runs = json_array();
        assert_int_equal(json_array_append_new(runs, bridle__eval_run_json("r1", ms, &m, &g, NULL)), 0);
        bridle__eval_grade_release(&g);
        return bridle__eval_task_json(name, runs);
}

static json_t *results_of(json_t *a, json_t *b)
{
        json_t *r = json_pack("{s:s,s:[o,o]}", "suite", "s<x>", "tasks", a, b);
        assert_non_null(r);
        assert_int_equal(json_object_set_new(r, "totals", bridle__eval_totals_json(json_object_get(r, "tasks"))), 0);
        return r;
}

static void test_compare(void **state)
{
        (void)state;
        json_t *base = results_of(task_of("a", true, 1.0, 1000, 0), task_of("b", true, 1.0, 1000, 0));
        /* a: fails, costs 1.3x, slower by 2 s, one more block; b: time +300 ms (under the floor), cost +10%. */
        json_t *now = results_of(task_of("a", false, 1.3, 3000, 1), task_of("b", true, 1.1, 1300, 0));
        assert_int_equal(bridle__eval_compare(now, base, 500), 1);
        const json_t *a = json_array_get(json_object_get(now, "tasks"), 0);
        const json_t *b = json_array_get(json_object_get(now, "tasks"), 1);
        assert_true(json_is_true(json_object_get(a, "regressed")));
        assert_false(json_is_true(json_object_get(b, "regressed")));
        const json_t *regs = json_object_get(a, "regressions");
        assert_int_equal(json_array_size(regs), 4);
        const char *want[] = {"pass_rate", "cost_usd", "duration_ms", "blocked"};
        for (size_t i = 0; i < 4; i++)
                assert_string_equal(json_string_value(json_object_get(json_array_get(regs, i), "metric")), want[i]);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(now, "totals"), "regressed_tasks")), 1);
        /* Without a floor, b's +30% time is a regression too. */
        json_t *now2 = results_of(task_of("a", true, 1.0, 1000, 0), task_of("b", true, 1.0, 1300, 0));
        assert_int_equal(bridle__eval_compare(now2, base, -1), 1);
        assert_int_equal(bridle__eval_compare(now2, json_null(), 0), -EINVAL);

        bridle_eval_report r = {0};
        assert_int_equal(bridle__eval_report_fill(now, &r), 0);
        assert_int_equal(r.n_tasks, 2);
        assert_int_equal(r.failed_tasks, 1);
        assert_int_equal(r.regressed_tasks, 1);
        assert_non_null(r.tasks[0].regressions);
        assert_non_null(strstr(r.tasks[0].regressions, "pass_rate 1 -> 0"));
        assert_non_null(strstr(r.tasks[0].failure, "status: expected completed, got <b>x</b>"));
        assert_int_equal(r.total.runs, 2);
        bridle_eval_report_release(&r);

        char *html = bridle__eval_html(now);
        assert_non_null(html);
        assert_null(strstr(html, "<b>x"));
        assert_null(strstr(html, "s<x>"));
        assert_non_null(strstr(html, "&lt;b&gt;x&lt;/b&gt;"));
        assert_non_null(strstr(html, "<svg id=\"chart\""));
        free(html);
        json_decref(now2);
        json_decref(now);
        json_decref(base);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_load_ok),  cmocka_unit_test(test_load_errors),
                cmocka_unit_test(test_metrics),  cmocka_unit_test(test_grade),
                cmocka_unit_test(test_judge_command), cmocka_unit_test(test_compare),
        };
        return cmocka_run_group_tests_name("eval", tests, setup, teardown);
}
