/* SPDX-License-Identifier: MIT */
/* Sessions in a living sandbox (exec_command, write_stdin, poll, kill, resize)
 * through the library, with a private BRIDLE_HOME. Every wait is bounded. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bridle/bridle.h"
#include "testutil.h"

static char *home;
static char *sid;

static int setup(void **state)
{
        (void)state;
        home = bridle_test_tmpdir();
        if (!home || setenv("BRIDLE_HOME", home, 1) < 0)
                return -1;
        bridle_sandbox_spec *s = bridle_sandbox_spec_new();
        bridle_limits l = {.pids = 512};
        bridle_sandbox_spec_set_limits(s, &l);
        bridle_error e;
        int r = bridle_sandbox_create(s, "unit-sessions", &sid, &e);
        bridle_sandbox_spec_free(s);
        if (r < 0)
                fprintf(stderr, "create: %s\n", e.msg);
        return r < 0 ? -1 : 0;
}

static int teardown(void **state)
{
        (void)state;
        if (sid)
                (void)bridle_sandbox_destroy(sid, NULL);
        free(sid);
        bridle_test_rmrf(home);
        free(home);
        return 0;
}

static int start(const char *const *argv, const char *cmd, bool tty, uint64_t yield, size_t tokens,
                 bridle_session_result *r)
{
        bridle_command_opts o = {.argv = argv,
                                 .cmd = cmd,
                                 .tty = tty,
                                 .yield_time_ms = yield,
                                 .max_output_tokens = tokens};
        const char *env[] = {"PS1=PROMPT> ", "TERM=dumb", NULL};
        o.env = env;
        bridle_error e;
        int rc = bridle_sandbox_exec_command(sid, &o, r, &e);
        if (rc < 0)
                fprintf(stderr, "exec_command: %s\n", e.msg);
        return rc;
}

/* Write, then read until the output has want (at most ~20 s), appending to acc. */
static bool write_until(int s, const char *chars, const char *want, char *acc, size_t cap,
                        bridle_session_result *last)
{
        bridle_error e;
        for (int i = 0; i < 100; i++) {
                bridle_session_result r;
                if (bridle_sandbox_write_stdin(sid, s, i ? "" : chars, i ? 0 : strlen(chars), 200,
                                               0, &r, &e) < 0) {
                        fprintf(stderr, "write_stdin: %s\n", e.msg);
                        return false;
                }
                size_t l = strlen(acc);
                (void)snprintf(acc + l, cap - l, "%s", r.output);
                bool done = r.exited || strstr(acc, want);
                if (last)
                        *last = r;
                else
                        bridle_session_result_release(&r);
                if (done)
                        return strstr(acc, want) != NULL;
                if (last)
                        bridle_session_result_release(last);
        }
        return false;
}

static void test_cat_echoes(void **state)
{
        (void)state;
        const char *argv[] = {"cat", NULL};
        bridle_session_result r;
        assert_int_equal(start(argv, NULL, false, 100, 0, &r), 0);
        assert_true(r.session_id > 0);
        assert_false(r.exited);
        assert_int_equal(r.output_len, 0);
        int s = r.session_id;
        bridle_session_result_release(&r);
        char acc[4096] = "";
        assert_true(write_until(s, "hello\n", "hello\n", acc, sizeof(acc), NULL));
        assert_string_equal(acc, "hello\n");
        /* End of input: cat exits 0, reported once, then the session is gone. */
        bridle_error e;
        assert_int_equal(bridle_sandbox_session_send(sid, s, "bye\n", 4, true, &e), 0);
        assert_int_equal(bridle_sandbox_write_stdin(sid, s, NULL, 0, 60000, 0, &r, &e), 0);
        assert_true(r.exited);
        assert_int_equal(r.status, 0);
        assert_int_equal(r.session_id, -1);
        assert_string_equal(r.output, "bye\n");
        bridle_session_result_release(&r);
        assert_int_equal(bridle_sandbox_write_stdin(sid, s, "x", 1, 10, 0, &r, &e), -ENOENT);
}

static void test_tty_prompt(void **state)
{
        (void)state;
        const char *argv[] = {"/bin/bash", "--norc", "--noprofile", "-i", NULL};
        bridle_session_result r;
        assert_int_equal(start(argv, NULL, true, 300, 0, &r), 0);
        int s = r.session_id;
        assert_true(s > 0);
        char acc[16384] = "";
        (void)snprintf(acc, sizeof(acc), "%s", r.output);
        bridle_session_result_release(&r);
        assert_true(strstr(acc, "PROMPT> ") ||
                    write_until(s, "", "PROMPT> ", acc, sizeof(acc), NULL));
        assert_null(strstr(acc, "no job control")); /* bash found its controlling terminal */
        /* A terminal: stdin is a tty, the session is its controlling terminal, echo is on. */
        acc[0] = '\0';
        assert_true(write_until(s, "test -t 0 && echo IS-A-$((6*7))\n", "IS-A-42", acc, sizeof(acc),
                                NULL));
        assert_non_null(strstr(acc, "echo IS-A-")); /* the terminal echoed the line */
        acc[0] = '\0';
        assert_true(write_until(s, "stty size\n", "24 80", acc, sizeof(acc), NULL));
        /* A new window size. */
        bridle_error e;
        assert_int_equal(bridle_sandbox_session_resize(sid, s, 30, 100, &e), 0);
        acc[0] = '\0';
        assert_true(write_until(s, "stty size\n", "30 100", acc, sizeof(acc), NULL));
        /* Exit status through the terminal. */
        acc[0] = '\0';
        bridle_session_result last;
        memset(&last, 0, sizeof(last));
        write_until(s, "exit 3\n", "\x01never", acc, sizeof(acc), &last);
        assert_true(last.exited);
        assert_int_equal(last.status, 3);
        bridle_session_result_release(&last);
}

static void test_yield_returns_on_exit(void **state)
{
        (void)state;
        bridle_session_result r;
        /* A command line runs under bash -lc. */
        assert_int_equal(start(NULL, "echo hi; exit 5", false, 60000, 0, &r), 0);
        assert_true(r.exited);
        assert_int_equal(r.status, 5);
        assert_int_equal(r.exit_code, 5);
        assert_string_equal(r.output, "hi\n");
        assert_true(r.wall_ms < 60000);
        bridle_session_result_release(&r);
        assert_int_equal(start(NULL, "kill -9 $$", true, 60000, 0, &r), 0);
        assert_true(r.exited);
        assert_int_equal(r.status, 137);
        assert_int_equal(r.signal, 9);
        bridle_session_result_release(&r);
        /* Exec failures keep the exit-status contract, with pipes and with a pty. */
        const char *argv[] = {"no-such-program", NULL};
        assert_int_equal(start(argv, NULL, false, 60000, 0, &r), 0);
        assert_true(r.exited);
        assert_int_equal(r.status, 127);
        bridle_session_result_release(&r);
        assert_int_equal(start(argv, NULL, true, 60000, 0, &r), 0);
        assert_true(r.exited);
        assert_int_equal(r.status, 127);
        assert_non_null(strstr(r.output, "no-such-program"));
        bridle_session_result_release(&r);
}

static void test_output_caps(void **state)
{
        (void)state;
        bridle_session_result r;
        /* The reply's cap: max_output_tokens*4 bytes, head and tail kept. */
        assert_int_equal(start(NULL,
                               "echo BEGIN; head -c 100000 /dev/zero | tr '\\0' a; echo; echo END",
                               false, 60000, 100, &r),
                         0);
        assert_true(r.exited);
        assert_true(r.output_truncated);
        assert_true(r.output_len < 500);
        assert_int_equal(strncmp(r.output, "BEGIN\n", 6), 0);
        assert_non_null(strstr(r.output, "bytes cut"));
        assert_string_equal(r.output + r.output_len - 4, "END\n");
        bridle_session_result_release(&r);
        /* init's own buffer: 1 MiB between two reads, head and tail kept. */
        assert_int_equal(start(NULL, "seq 1 400000", false, 60000, 1u << 20, &r), 0);
        assert_true(r.exited);
        assert_true(r.output_truncated);
        assert_true(r.output_len < (1u << 20) + 100);
        assert_int_equal(strncmp(r.output, "1\n2\n3\n", 6), 0);
        assert_non_null(strstr(r.output, "bytes cut"));
        assert_string_equal(r.output + r.output_len - 14, "399999\n400000\n");
        bridle_session_result_release(&r);
}

/* Every multi-byte sequence in s is whole. */
static bool utf8_whole(const char *s, size_t n)
{
        for (size_t i = 0; i < n;) {
                unsigned char c = (unsigned char)s[i];
                size_t len = c >= 0xf0            ? 4
                             : c >= 0xe0          ? 3
                             : c >= 0xc0          ? 2
                             : (c & 0xc0) == 0x80 ? 0
                                                  : 1;
                if (len == 0 || i + len > n)
                        return false;
                for (size_t j = 1; j < len; j++)
                        if (((unsigned char)s[i + j] & 0xc0) != 0x80)
                                return false;
                i += len;
        }
        return true;
}

static void test_output_cut_between_characters(void **state)
{
        (void)state;
        bridle_session_result r;
        /* 'é' is 2 bytes, '€' 3: with a cap of 41 bytes a naive cut splits one. */
        for (size_t tokens = 10; tokens <= 12; tokens++) {
                assert_int_equal(start(NULL,
                                       "printf 'a'; for i in $(seq 300); do printf 'é€'; done",
                                       false, 60000, tokens, &r),
                                 0);
                assert_true(r.exited);
                assert_true(r.output_truncated);
                assert_true(utf8_whole(r.output, r.output_len));
                bridle_session_result_release(&r);
        }
}

static void test_session_limit_and_kill(void **state)
{
        (void)state;
        const char *argv[] = {"sleep", "1000", NULL};
        int ids[64];
        bridle_session_result r;
        for (int i = 0; i < 64; i++) {
                assert_int_equal(start(argv, NULL, i % 2 == 0, 1, 0, &r), 0);
                assert_false(r.exited);
                ids[i] = r.session_id;
                bridle_session_result_release(&r);
        }
        bridle_command_opts o = {.argv = argv, .yield_time_ms = 1};
        bridle_error e;
        assert_int_equal(bridle_sandbox_exec_command(sid, &o, &r, &e), -EAGAIN);
        assert_non_null(strstr(e.msg, "64"));
        for (int i = 0; i < 64; i++)
                assert_int_equal(bridle_sandbox_session_kill(sid, ids[i], &e), 0);
        assert_int_equal(bridle_sandbox_session_kill(sid, ids[0], &e), -ENOENT);
        assert_int_equal(bridle_sandbox_write_stdin(sid, ids[1], "x", 1, 10, 0, &r, &e), -ENOENT);
        /* Room again. */
        assert_int_equal(start(NULL, "exit 0", false, 60000, 0, &r), 0);
        assert_true(r.exited);
        bridle_session_result_release(&r);
}

static void test_survives_client(void **state)
{
        (void)state;
        const char *argv[] = {"cat", NULL};
        bridle_session_result r;
        assert_int_equal(start(argv, NULL, false, 1, 0, &r), 0);
        int s = r.session_id;
        bridle_session_result_release(&r);
        /* A client waits for output and dies while waiting. */
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                bridle_session_result q;
                (void)bridle_sandbox_write_stdin(sid, s, "", 0, 60000, 0, &q, NULL);
                _exit(0);
        }
        usleep(200000);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        char acc[1024] = "";
        assert_true(write_until(s, "still here\n", "still here\n", acc, sizeof(acc), NULL));
        bridle_error e;
        assert_int_equal(bridle_sandbox_session_kill(sid, s, &e), 0);
}

static void test_kill_takes_the_tree(void **state)
{
        (void)state;
        bridle_session_result r;
        assert_int_equal(
                start(NULL, "setsid sleep 1001 & sleep 1002 & sleep 1003", true, 300, 0, &r), 0);
        int s = r.session_id;
        assert_true(s > 0);
        bridle_session_result_release(&r);
        bridle_error e;
        assert_int_equal(bridle_sandbox_session_kill(sid, s, &e), 0);
        /* Nothing of it is left (bounded wait: the kills are asynchronous). */
        const char *argv[] = {"/bin/sh", "-c", "ps -e -o args= | grep -c '^sleep 100[123]'", NULL};
        bridle_exec_opts o = {.argv = argv, .capture = true};
        bool gone = false;
        for (int i = 0; i < 50 && !gone; i++) {
                bridle_run_result rr;
                assert_int_equal(bridle_sandbox_exec(sid, &o, &rr, &e), 0);
                gone = strcmp(rr.stdout_buf, "0\n") == 0;
                bridle_run_result_release(&rr);
                if (!gone)
                        usleep(100000);
        }
        assert_true(gone);
}

static void test_poll_early(void **state)
{
        (void)state;
        bridle_session_result r;
        assert_int_equal(start(NULL, "read x; echo got-$x; sleep 1000", false, 1, 0, &r), 0);
        int s = r.session_id;
        bridle_session_result_release(&r);
        bridle_error e;
        assert_int_equal(bridle_sandbox_session_send(sid, s, "it\n", 3, false, &e), 0);
        char acc[256] = "";
        for (int i = 0; i < 20 && !strstr(acc, "got-it"); i++) {
                assert_int_equal(bridle_sandbox_session_poll(sid, s, 60000, &r, &e), 0);
                assert_false(r.exited);
                size_t l = strlen(acc);
                (void)snprintf(acc + l, sizeof(acc) - l, "%s", r.output);
                bridle_session_result_release(&r);
        }
        assert_string_equal(acc, "got-it\n");
        assert_int_equal(bridle_sandbox_session_kill(sid, s, &e), 0);
}

int main(void)
{
        if (!getenv("BRIDLE_INIT_PATH")) {
                fprintf(stderr, "skip: BRIDLE_INIT_PATH not set (run through meson test)\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cat_echoes),
                cmocka_unit_test(test_tty_prompt),
                cmocka_unit_test(test_yield_returns_on_exit),
                cmocka_unit_test(test_output_caps),
                cmocka_unit_test(test_output_cut_between_characters),
                cmocka_unit_test(test_session_limit_and_kill),
                cmocka_unit_test(test_survives_client),
                cmocka_unit_test(test_poll_early),
                cmocka_unit_test(test_kill_takes_the_tree),
        };
        return cmocka_run_group_tests_name("session", tests, setup, teardown);
}
