/* SPDX-License-Identifier: MIT */
/*
 * The gateway's shell splitter: a table of bash strings, each with the
 * commands it runs (as bridle__shell_describe() writes them: words quoted
 * when needed, <x> an unquoted expansion or glob, <"x"> a quoted one, " ; "
 * between commands), whether it is simple and, if not, the reason. Then
 * wrappers, assignments, limits and allocation failures.
 */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/shell.h"
#include "util/alloc.h"

struct scase {
        const char *in;
        const char *out; /* the commands */
        bool simple;
        const char *reason; /* for not simple: the exact reason */
};

#define S(in, out)                                                                                 \
        {                                                                                          \
                in, out, true, NULL                                                                \
        }
#define N(in, out, why)                                                                            \
        {                                                                                          \
                in, out, false, why                                                                \
        }

static const struct scase cases[] = {
        /* plain words and separators */
        S("ls", "ls"),
        S("ls -la /tmp", "ls -la /tmp"),
        S("  ls   -l  ", "ls -l"),
        S("", ""),
        S("   ", ""),
        S("ls; pwd", "ls ; pwd"),
        S("ls && pwd || echo no", "ls ; pwd ; echo no"),
        S("ls | wc -l", "ls ; wc -l"),
        S("ls |& cat", "ls ; cat"),
        S("sleep 1 & echo bg", "sleep 1 ; echo bg"),
        S("ls\npwd\n", "ls ; pwd"),
        S("ls;", "ls"),
        S("ls &", "ls"),
        S("ls |\n wc", "ls ; wc"),
        S("ls &&\n\n pwd", "ls ; pwd"),
        S("! grep -q x f", "grep -q x f"),
        /* quoting */
        S("echo 'a b'", "echo 'a b'"),
        S("echo \"a b\" c", "echo 'a b' c"),
        S("echo a\\ b", "echo 'a b'"),
        S("echo 'it'\\''s'", "echo 'it'\\''s'"),
        S("echo \"say \\\"hi\\\"\"", "echo 'say \"hi\"'"),
        S("echo \"a\\b\"", "echo 'a\\b'"),
        S("echo 'a\\b'", "echo 'a\\b'"),
        S("echo \"\"", "echo ''"),
        S("echo ''x''", "echo x"),
        S("e'c'h\"o\" hi", "echo hi"),
        S("echo \"semi;colon\" 'pi|pe' \"amp&\"", "echo 'semi;colon' 'pi|pe' 'amp&'"),
        S("echo $'a\\tb'", "echo 'a\tb'"),
        S("echo $'\\x41\\101\\u00e9'", "echo 'AAé'"),
        S("echo $'it\\'s'", "echo 'it'\\''s'"),
        S("echo $\"hi\"", "echo hi"),
        S("echo \"$\"", "echo '$'"),
        S("echo a$", "echo 'a$'"),
        S("echo \\$HOME", "echo '$HOME'"),
        S("echo '$(not run)'", "echo '$(not run)'"),
        S("echo \"\\$(not run)\"", "echo '$(not run)'"),
        S("echo '`not run`'", "echo '`not run`'"),
        S("ec\\\nho hi", "echo hi"),
        S("ls \\\n  -l", "ls -l"),
        /* comments */
        S("ls # a comment $(rm -rf /)", "ls"),
        S("# only a comment", ""),
        S("echo a#b", "echo 'a#b'"),
        S("echo '#not'", "echo '#not'"),
        S("ls # c1\npwd # c2", "ls ; pwd"),
        /* expansions that run nothing */
        S("echo $HOME", "echo <$HOME>"),
        S("echo \"$HOME/x\"", "echo <\"$HOME/x\">"),
        S("echo ${HOME}", "echo <${HOME}>"),
        S("echo \"${x:-default}\"", "echo <\"${x:-default}\">"),
        S("echo $1 $@ $?", "echo <$1> <$@> <$?>"),
        S("echo $((1 + 2 * 3))", "echo <$((1 + 2 * 3))>"),
        S("echo \"$((4/2))\"", "echo <\"$((4/2))\">"),
        S("echo $(( (1+2) * 3 ))", "echo <$(( (1+2) * 3 ))>"),
        S("echo $((i+1))", "echo <$((i+1))>"),
        S("ls *.c", "ls <*.c>"),
        S("ls 'a*'", "ls 'a*'"),
        S("ls file?.txt", "ls <file?.txt>"),
        S("ls [ab].c", "ls <[ab].c>"),
        S("[ -f x ] && cat x", "'[' -f x ']' ; cat x"),
        S("echo ~ ~/x", "echo ~ ~/x"),
        S("find . -name '{}'", "find . -name '{}'"),
        /* assignments */
        S("FOO=1 ls", "FOO=1 ls"),
        S("a=1 b=2 env", "a=1 b=2 env"),
        S("x=1", "x=1"),
        S("x=1; echo $x", "x=1 ; echo <$x>"),
        S("ls x=1", "ls x=1"),
        S("x='a b' ls", "'x=a b' ls"),
        /* redirections that are fine */
        S("ls 2>&1", "ls"),
        S("ls >/dev/null 2>&1", "ls"),
        S("ls > /dev/null", "ls"),
        S("ls &>/dev/null", "ls"),
        S("ls 2>/dev/null | wc", "ls ; wc"),
        S("ls 1>&2", "ls"),
        S("ls >&2", "ls"),
        S("exec_thing 3>&-", "exec_thing"),
        S("wc -l < input.txt", "wc -l"),
        S("cat <file", "cat"),
        S(">/dev/null ls", "ls"),
        S("ls 2> /dev/stderr", "ls"),
        /* wrappers stay in argv (start says where the command is) */
        S("timeout 10 ls", "timeout 10 ls"),
        S("env ls", "env ls"),
        /* not simple: substitutions */
        N("echo $(whoami)", "echo <$(...)> ; whoami", "command substitution"),
        N("echo \"$(whoami)\"", "echo <\"$(...)\"> ; whoami", "command substitution"),
        N("echo `id`", "echo <`...`> ; id", "command substitution (backticks)"),
        N("echo \"`id`\"", "echo <\"`...`\"> ; id", "command substitution (backticks)"),
        N("echo $(rm -rf / && ls)", "echo <$(...)> ; rm -rf / ; ls", "command substitution"),
        N("echo $(echo $(id))", "echo <$(...)> ; echo <$(...)> ; id", "command substitution"),
        N("echo `echo \\`id\\``", "echo <`...`> ; echo <`...`> ; id",
          "command substitution (backticks)"),
        N("echo ${x:-$(id)}", "echo <${x:-$(id)}>", "command substitution"),
        N("echo $(( $(id) + 1 ))", "echo <$(( $(id) + 1 ))>", "command substitution"),
        N("echo $((a) (b))", "echo <$(...)> ; a ; b", "command substitution"),
        N("diff <(ls a) <(ls b)", "diff ; ls a ; ls b", "process substitution '<(...)'"),
        N("tee >(wc)", "tee ; wc", "process substitution '>(...)'"),
        N("echo ${x@P}", "echo <${x@P}>", "parameter transformation '${...@...}'"),
        N("echo $[1+2]", "echo <$[...]>", "obsolete arithmetic '$['"),
        N("x=a; echo $((x))", "x=a ; echo <$((x))>",
          "arithmetic or indirection on variables the command sets"),
        N("x=a; echo ${!x}", "x=a ; echo <${!x}>",
          "arithmetic or indirection on variables the command sets"),
        N("read x; echo $((x))", "read x ; echo <$((x))>",
          "arithmetic or indirection on variables the command sets"),
        /* not simple: commands that run strings */
        N("eval ls", "eval ls", "'eval' runs a string as commands"),
        N("source ./env.sh", "source ./env.sh", "'source' runs a string as commands"),
        N(". ./env.sh", ". ./env.sh", "'.' runs a string as commands"),
        N("exec ls", "exec ls", "'exec' replaces the shell"),
        N("bash -c 'rm -rf /'", "bash -c 'rm -rf /'", "'bash -c' runs a string as commands"),
        N("sh -ec ls", "sh -ec ls", "'sh -c' runs a string as commands"),
        N("/bin/bash -lc ls", "/bin/bash -lc ls", "'bash -c' runs a string as commands"),
        N("env FOO=1 sh -c ls", "env FOO=1 sh -c ls", "'sh -c' runs a string as commands"),
        N("timeout 5 bash -c ls", "timeout 5 bash -c ls", "'bash -c' runs a string as commands"),
        N("command eval ls", "command eval ls", "'eval' runs a string as commands"),
        N("trap 'rm -rf /' EXIT", "trap 'rm -rf /' EXIT", "'trap' sets a command to run later"),
        N("alias ls='rm -rf'", "alias 'ls=rm -rf'", "'alias' changes what commands mean"),
        N("env -S 'rm -rf /'", "env -S 'rm -rf /'", "'env -S' splits a string into a command"),
        N("$CMD -rf /", "<$CMD> -rf /", "expansion in the command name"),
        N("\"$CMD\" x", "<\"$CMD\"> x", "expansion in the command name"),
        N("*.sh", "<*.sh>", "expansion in the command name"),
        N("env $CMD", "env <$CMD>", "expansion in the command name"),
        /* not simple: compound commands and groups */
        N("(cd x && ls)", "cd x ; ls", "subshell '( ... )'"),
        N("{ ls; pwd; }", "ls ; pwd", "brace group '{ ... }'"),
        N("if true; then rm -rf /; fi", "true ; rm -rf /", "compound command 'if'"),
        N("for f in a b; do rm $f; done", "f in a b ; rm <$f>", "compound command 'for'"),
        N("while true; do ls; done", "true ; ls", "compound command 'while'"),
        N("f() { ls; }", "f ; ls", "function definition"),
        N("function f { ls; }", "f '{' ls", "compound command 'function'"),
        N("[[ -f x ]] && cat x", "-f x ']]' ; cat x", "compound command '[['"),
        N("case x in a) ls;; esac", "x in a ; ls", "compound command 'case'"),
        N("coproc ls", "ls", "compound command 'coproc'"),
        /* redirections to files: simple, the files recorded (the gateway judges them) */
        S("echo hi > out.txt", "echo hi"),
        S("echo hi >> log", "echo hi"),
        S("ls &> all.log", "ls"),
        S("ls >& all.log", "ls"),
        S("ls 2>err.txt", "ls"),
        S("ls >| f", "ls"),
        S("cat <> f", "cat"),
        S("> f", ""),
        /* not simple: expanded targets and here-documents */
        N("ls > \"$OUT\"", "ls", "redirection to an expanded name '$OUT'"),
        N("cat < /dev/tcp/1.2.3.4/80", "cat",
          "redirection from a network path '/dev/tcp/1.2.3.4/80'"),
        N("cat <&file", "cat", "input duplication from 'file'"),
        N("cat <<EOF\nhi\nEOF", "cat", "here-document '<<'"),
        N("cat <<-EOF\nhi\nEOF", "cat", "here-document '<<'"),
        N("cat <<< 'hi'", "cat", "here-string '<<<'"),
        N("ls >", "ls", "redirection without a target"),
        /* not simple: other syntax */
        N("echo {a,b}", "echo '{a,b}'", "brace expansion"),
        N("echo x{1..3}", "echo 'x{1..3}'", "brace expansion"),
        N("{rm,-rf,/}", "'{rm,-rf,/}'", "brace expansion"),
        N("a[0]=1", "'a[0]=1'", "array assignment"),
        N("a=(1 2)", "a= ; 1 2", "array assignment"),
        N("echo 'abc", "echo", "unbalanced single quote"),
        N("echo \"abc", "echo", "unbalanced double quote"),
        N("echo $'abc", "echo", "unbalanced $'...' quote"),
        N("echo `abc", "echo", "command substitution (backticks)"),
        N("echo '`abc", "echo", "unbalanced single quote"),
        N("`abc", "", "command substitution (backticks)"),
        N("echo $(abc", "echo ; abc", "command substitution"),
        N("(ls", "ls", "subshell '( ... )'"),
        N("echo ${abc", "echo", "unbalanced '${'"),
        N("ls ${abc", "ls", "unbalanced '${'"),
        N("ls )", "ls", "unexpected ')'"),
        N("; ls", "ls", "syntax error near ';'"),
        N("ls && && pwd", "ls ; pwd", "syntax error near '&&'"),
        N("| ls", "ls", "syntax error near '|'"),
        N("ls &&", "ls", "missing command after '&&'"),
        N("ls ||", "ls", "missing command after '||'"),
        N("ls;;", "ls", "case syntax ';;'"),
        N("echo $(ls |)", "echo <$(...)> ; ls", "command substitution"),
};

static void test_cases(void **state)
{
        (void)state;
        int failed = 0;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const struct scase *c = &cases[i];
                bridle__shsplit s;
                assert_int_equal(bridle__shell_split(c->in, &s), 0);
                char *d = bridle__shell_describe(&s);
                assert_non_null(d);
                bool ok = strcmp(d, c->out) == 0 && s.simple == c->simple &&
                          (c->simple ? s.reason[0] == '\0' : strcmp(s.reason, c->reason) == 0);
                if (!ok) {
                        (void)fprintf(stderr,
                                      "case %zu: %s\n  got:  [%s] %s '%s'\n  want: [%s] %s '%s'\n",
                                      i, c->in, d, s.simple ? "simple" : "not simple", s.reason,
                                      c->out, c->simple ? "simple" : "not simple",
                                      c->reason ? c->reason : "");
                        failed++;
                }
                free(d);
                bridle__shell_free(&s);
        }
        assert_int_equal(failed, 0);
}

static void test_case_count(void **state)
{
        (void)state;
        /* The gateway issue asks for at least 60 cases, the brief for 80. */
        assert_true(sizeof(cases) / sizeof(cases[0]) >= 80);
}

/* Files written by redirections are listed for the gateway, in order. */
static void test_writes(void **state)
{
        (void)state;
        bridle__shsplit sp;
        assert_int_equal(bridle__shell_split("echo a > x.txt; ls 2>err >>/dev/null | cat <> rw &> .git/config", &sp), 0);
        assert_true(sp.simple);
        assert_int_equal(sp.n_writes, 4);
        assert_string_equal(sp.writes[0], "x.txt");
        assert_string_equal(sp.writes[1], "err");
        assert_string_equal(sp.writes[2], "rw");
        assert_string_equal(sp.writes[3], ".git/config");
        bridle__shell_free(&sp);
        assert_int_equal(bridle__shell_split("ls >/dev/null 2>&1 >/dev/stderr", &sp), 0);
        assert_int_equal(sp.n_writes, 0);
        bridle__shell_free(&sp);
        /* more targets than can be checked: not simple */
        assert_int_equal(bridle__shell_split("a>1;a>2;a>3;a>4;a>5;a>6;a>7;a>8;a>9", &sp), 0);
        assert_false(sp.simple);
        bridle__shell_free(&sp);
}

/* Where the command is after wrappers, and the assignments env makes. */
static void test_wrappers(void **state)
{
        (void)state;
        static const struct {
                const char *in;
                size_t start;
                const char *cmd;
                size_t n_assigns;
        } w[] = {
                {"ls", 0, "ls", 0},
                {"time ls", 1, "ls", 0},
                {"time -p ls", 2, "ls", 0},
                {"nice ls", 1, "ls", 0},
                {"nice -n 5 ls", 3, "ls", 0},
                {"nice -5 ls", 2, "ls", 0},
                {"nice --adjustment=5 ls", 2, "ls", 0},
                {"timeout 5 ls", 2, "ls", 0},
                {"timeout -s KILL 5s ls", 4, "ls", 0},
                {"timeout --signal=TERM -k 1 2m ls", 5, "ls", 0},
                {"timeout ls", 0, "timeout", 0}, /* no duration: timeout itself */
                {"nohup ls", 1, "ls", 0},
                {"env A=1 B=2 ls", 3, "ls", 2},
                {"env -i -u X A=1 ls", 5, "ls", 1},
                {"env -- ls", 2, "ls", 0},
                {"env --weird ls", 0, "env", 0},
                {"env", 0, "env", 0},
                {"stdbuf -oL ls", 2, "ls", 0},
                {"ionice -c 3 ls", 3, "ls", 0},
                {"command ls", 1, "ls", 0},
                {"command -v ls", 0, "command", 0},
                {"builtin echo hi", 1, "echo", 0},
                {"time nice timeout 5 env A=1 ls", 6, "ls", 1},
                {"X=1 timeout 5 ls", 2, "ls", 1},
                {"sudo ls", 0, "sudo", 0},
                {"xargs rm", 0, "xargs", 0},
        };
        for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
                bridle__shsplit s;
                assert_int_equal(bridle__shell_split(w[i].in, &s), 0);
                assert_int_equal(s.n, 1);
                if (s.cmds[0].start != w[i].start)
                        (void)fprintf(stderr, "%s: start %zu\n", w[i].in, s.cmds[0].start);
                assert_int_equal(s.cmds[0].start, w[i].start);
                assert_string_equal(s.cmds[0].argv[s.cmds[0].start].text, w[i].cmd);
                assert_int_equal(s.cmds[0].n_assigns, w[i].n_assigns);
                bridle__shell_free(&s);
        }
}

static void test_word_flags(void **state)
{
        (void)state;
        bridle__shsplit s;
        assert_int_equal(bridle__shell_split("rm \"$F\" $G x*y 'a*' \"b*\" lit", &s), 0);
        assert_int_equal(s.n, 1);
        assert_int_equal(s.cmds[0].argc, 7);
        assert_int_equal(s.cmds[0].argv[1].flags, BRIDLE__SHW_UNKNOWN);
        assert_int_equal(s.cmds[0].argv[2].flags, BRIDLE__SHW_SPLITS);
        assert_int_equal(s.cmds[0].argv[3].flags, BRIDLE__SHW_SPLITS);
        assert_int_equal(s.cmds[0].argv[4].flags, 0);
        assert_int_equal(s.cmds[0].argv[5].flags, 0);
        assert_int_equal(s.cmds[0].argv[6].flags, 0);
        bridle__shell_free(&s);
}

static void test_harmless_vars(void **state)
{
        (void)state;
        assert_true(bridle__shell_harmless_var("LANG=C"));
        assert_true(bridle__shell_harmless_var("LC_ALL=C"));
        assert_true(bridle__shell_harmless_var("TZ=UTC"));
        assert_true(bridle__shell_harmless_var("count=3"));
        assert_true(bridle__shell_harmless_var("my_var2=x"));
        assert_false(bridle__shell_harmless_var("PATH=/tmp"));
        assert_false(bridle__shell_harmless_var("LD_PRELOAD=x.so"));
        assert_false(bridle__shell_harmless_var("GIT_EXTERNAL_DIFF=x"));
        assert_false(bridle__shell_harmless_var("IFS=x"));
        assert_false(bridle__shell_harmless_var("BASH_ENV=x"));
        assert_false(bridle__shell_harmless_var("http_proxy=x"));
        assert_false(bridle__shell_harmless_var("histchars=x"));
        assert_false(bridle__shell_harmless_var("LC_=x"));
}

static void test_limits(void **state)
{
        (void)state;
        /* Many words: cut with a reason, not an error. */
        size_t n = 20000;
        char *big = malloc(n * 2 + 1);
        assert_non_null(big);
        for (size_t i = 0; i < n; i++) {
                big[2 * i] = 'a';
                big[2 * i + 1] = ' ';
        }
        big[2 * n] = '\0';
        bridle__shsplit s;
        assert_int_equal(bridle__shell_split(big, &s), 0);
        assert_false(s.simple);
        assert_string_equal(s.reason, "too many words (more than 8192)");
        bridle__shell_free(&s);
        free(big);

        /* Deep nesting of substitutions. */
        char deep[400];
        size_t o = 0;
        for (int i = 0; i < 40; i++, o += 2)
                memcpy(deep + o, "$(", 2);
        memcpy(deep + o, "ls", 2);
        o += 2;
        for (int i = 0; i < 40; i++)
                deep[o++] = ')';
        deep[o] = '\0';
        assert_int_equal(bridle__shell_split(deep, &s), 0);
        assert_false(s.simple);
        bridle__shell_free(&s);

        /* Too long. */
        size_t len = BRIDLE__SHELL_MAX_LEN + 1;
        char *lng = malloc(len + 1);
        assert_non_null(lng);
        memset(lng, 'a', len);
        lng[len] = '\0';
        assert_int_equal(bridle__shell_split(lng, &s), 0);
        assert_false(s.simple);
        assert_int_equal(s.n, 0);
        bridle__shell_free(&s);
        free(lng);

        /* NULL is the empty string. */
        assert_int_equal(bridle__shell_split(NULL, &s), 0);
        assert_true(s.simple);
        assert_int_equal(s.n, 0);
        bridle__shell_free(&s);
}

static void test_alloc_failures(void **state)
{
        (void)state;
        const char *in =
                "A=1 env B=2 timeout 5 grep -r \"x $y\" . | sort && echo $(ls $'a') `id` ; "
                "cat <(ls) 2>&1";
        bool succeeded = false;
        for (unsigned long k = 1; k < 500 && !succeeded; k++) {
                bridle__shsplit s;
                bridle__alloc_fail_at(k);
                int r = bridle__shell_split(in, &s);
                bridle__alloc_fail_at(0);
                if (r == 0) {
                        char *d = bridle__shell_describe(&s);
                        /* The split must be whole, whatever failed before. */
                        if (d) {
                                succeeded = true;
                                assert_string_equal(
                                        d, "A=1 env B=2 timeout 5 grep -r <\"x $y\"> . ; sort ; "
                                           "echo <$(...)> <`...`> ; ls a ; id ; cat ; ls");
                        }
                        free(d);
                        bridle__shell_free(&s);
                } else {
                        assert_int_equal(r, -ENOMEM);
                }
        }
        assert_true(succeeded);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cases),          cmocka_unit_test(test_case_count),
                cmocka_unit_test(test_wrappers),
                cmocka_unit_test(test_writes),
        cmocka_unit_test(test_writes),       cmocka_unit_test(test_word_flags),
                cmocka_unit_test(test_harmless_vars),  cmocka_unit_test(test_limits),
                cmocka_unit_test(test_alloc_failures),
        };
        return cmocka_run_group_tests_name("shell", tests, NULL, NULL);
}
