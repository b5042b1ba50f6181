/* SPDX-License-Identifier: MIT */
/*
 * Gateway policies and decisions: good and bad policy files (exact messages
 * with positions), precedence, alternatives, the safe list, the default
 * policy, warnings, canonical JSON round trips, the network allowlist, tool
 * calls and native items, allocation failures.
 */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/gateway.h"
#include "util/alloc.h"

static const char issue_policy[] =
        "default: ask                           # allow | ask | deny\n"
        "tools:\n"
        "  read_file: allow\n"
        "  list_dir: allow\n"
        "  search: allow\n"
        "  apply_patch: ask\n"
        "commands:\n"
        "  - {prefix: [git, status], decision: allow}\n"
        "  - {prefix: [git, [diff, log, show]], decision: allow}\n"
        "  - {prefix: [make, test], decision: allow, timeout: 300}\n"
        "  - {prefix: [rm, -rf], decision: deny, reason: \"destructive\"}\n"
        "  - {prefix: [npm, install], decision: ask}\n"
        "paths:\n"
        "  deny_write: [\".git/**\", \".agents/**\", \"**/.env\"]\n"
        "  deny_read: [\"secrets/**\"]\n"
        "network:\n"
        "  mode: allowlist\n"
        "  allow: [\"registry.example.org\", \"*.internal.example\"]\n"
        "approvals:\n"
        "  mode: each\n";

static bridle__policy *parse(const char *text)
{
        bridle__policy *p = NULL;
        bridle_error err = {0};
        int r = bridle__policy_parse(text, strlen(text), "p.yaml", &p, &err);
        if (r < 0)
                (void)fprintf(stderr, "unexpected: %s\n", err.msg);
        assert_int_equal(r, 0);
        assert_non_null(p);
        return p;
}

static bridle__verdict cmd(const bridle__policy *p, const char *c)
{
        bridle__verdict v;
        assert_int_equal(bridle__gateway_decide_cmd(p, c, &v, NULL), 0);
        return v;
}

static void check_cmd(const bridle__policy *p, const char *c, enum bridle__decision d,
                      const char *want_rule)
{
        bridle__verdict v = cmd(p, c);
        if (v.decision != d || strcmp(v.rule, want_rule) != 0)
                (void)fprintf(stderr, "%s: got %s '%s'\n", c, bridle__decision_name(v.decision),
                              v.rule);
        assert_int_equal(v.decision, d);
        assert_string_equal(v.rule, want_rule);
}

#define ASSERT_CMD(p, c, d, want_rule) check_cmd((p), (c), (d), (want_rule))

/* ---- loading ------------------------------------------------------------------------ */

static void test_issue_policy(void **state)
{
        (void)state;
        bridle__policy *p = parse(issue_policy);
        const bridle__policy_settings *s = bridle__policy_settings_get(p);
        assert_int_equal(s->default_decision, BRIDLE__ASK);
        assert_int_equal(s->approvals, BRIDLE__APPROVALS_EACH);
        assert_int_equal(s->network, BRIDLE__NETWORK_ALLOWLIST);
        assert_int_equal(s->n_deny_write, 3);
        assert_string_equal(s->deny_write[2], "**/.env");
        assert_int_equal(s->n_deny_read, 1);
        assert_int_equal(s->n_allow_hosts, 2);
        assert_int_equal(s->stop_on_deny, 0);
        assert_true(s->safe_commands);
        assert_string_equal(bridle__policy_name(p), "p.yaml");

        ASSERT_CMD(p, "git status", BRIDLE__ALLOW, "commands[0] prefix [git status]");
        ASSERT_CMD(p, "git log -3", BRIDLE__ALLOW, "commands[1] prefix [git diff|log|show]");
        ASSERT_CMD(p, "git push", BRIDLE__ASK, "default");
        ASSERT_CMD(p, "rm -rf build", BRIDLE__DENY, "commands[3] prefix [rm -rf]");
        ASSERT_CMD(p, "npm install x", BRIDLE__ASK, "commands[4] prefix [npm install]");
        ASSERT_CMD(p, "ls -l", BRIDLE__ALLOW, "built-in safe command 'ls'");
        bridle__verdict v = cmd(p, "make test");
        assert_int_equal(v.timeout_ms, 300000);
        v = cmd(p, "rm -rf build");
        assert_string_equal(v.reason, "destructive");
        assert_string_equal(v.command, "rm -rf build");
        bridle__policy_free(p);
}

static void test_yaml_equals_json(void **state)
{
        (void)state;
        bridle__policy *a = parse(issue_policy);
        json_t *ja = bridle__policy_to_json(a);
        char *text = json_dumps(ja, JSON_SORT_KEYS);
        bridle__policy *b = parse(text);
        json_t *jb = bridle__policy_to_json(b);
        assert_true(json_equal(ja, jb));
        free(text);
        json_decref(ja);
        json_decref(jb);
        bridle__policy_free(a);
        bridle__policy_free(b);
}

struct bad {
        const char *text;
        const char *msg;
};

static const struct bad bad[] = {
        {"- a\n", "p.yaml:1:1: expected a mapping, got list"},
        {"defualt: ask\n",
         "p.yaml:1:1: defualt: unknown key (expected one of: default, tools, commands, paths, "
         "network, approvals, stop_on_deny, safe_commands, recovery)"},
        {"default: maybe\n",
         "p.yaml:1:10: default: 'maybe' is not a decision (expected allow, ask or deny)"},
        {"recovery: {in_doubt: later}\n",
         "p.yaml:1:22: recovery.in_doubt: 'later' is not a choice (expected rerun or ask)"},
        {"recovery: {max_tool_failures: -1}\n",
         "p.yaml:1:31: recovery.max_tool_failures: expected a number from 0 (never stop) to 1000000"},
        {"recovery: {server_lost: retry}\n",
         "p.yaml:1:25: recovery.server_lost: 'retry' is not a choice (expected continue or stop)"},
        {"recovery: {retries: 3}\n",
         "p.yaml:1:12: recovery.retries: unknown key (expected one of: in_doubt, max_tool_failures, server_lost)"},
        {"default: 1\n",
         "p.yaml:1:10: default: expected a decision (allow, ask or deny), got integer"},
        {"tools: [a]\n", "p.yaml:1:8: tools: expected a mapping, got list"},
        {"tools:\n  read_file: yes\n",
         "p.yaml:2:14: tools.read_file: 'yes' is not a decision (expected allow, ask or deny)"},
        {"tools:\n  read_file: true\n",
         "p.yaml:2:14: tools.read_file: expected a decision (allow, ask or deny), got boolean"},
        {"commands: {a: 1}\n", "p.yaml:1:11: commands: expected a list, got mapping"},
        {"commands:\n  - ls\n", "p.yaml:2:5: commands[0]: expected a mapping, got string"},
        {"commands:\n  - {decision: allow}\n",
         "p.yaml:2:5: commands[0]: missing required key 'prefix'"},
        {"commands:\n  - {prefix: [ls]}\n",
         "p.yaml:2:5: commands[0]: missing required key 'decision'"},
        {"commands:\n  - {prefix: [ls], decision: allow, when: now}\n",
         "p.yaml:2:37: commands[0].when: unknown key (expected one of: prefix, decision, reason, "
         "timeout)"},
        {"commands:\n  - {prefix: [], decision: allow}\n",
         "p.yaml:2:14: commands[0].prefix: must not be empty"},
        {"commands:\n  - {prefix: ls, decision: allow}\n",
         "p.yaml:2:14: commands[0].prefix: expected a list of words, got string"},
        {"commands:\n  - {prefix: [git, 1], decision: allow}\n",
         "p.yaml:2:20: commands[0].prefix[1]: expected a word or a list of words, got integer"},
        {"commands:\n  - {prefix: [git, []], decision: allow}\n",
         "p.yaml:2:20: commands[0].prefix[1]: an empty list of alternatives"},
        {"commands:\n  - {prefix: [git, [diff, \"\"]], decision: allow}\n",
         "p.yaml:2:27: commands[0].prefix[1][1]: must not be empty"},
        {"commands:\n  - {prefix: [git, [diff, [x]]], decision: allow}\n",
         "p.yaml:2:27: commands[0].prefix[1][1]: expected a word, got list"},
        {"commands:\n  - {prefix: [ls], decision: allowed}\n",
         "p.yaml:2:30: commands[0].decision: 'allowed' is not a decision (expected allow, ask "
         "or deny)"},
        {"commands:\n  - {prefix: [ls], decision: deny, reason: 3}\n",
         "p.yaml:2:44: commands[0].reason: expected a string, got integer"},
        {"commands:\n  - {prefix: [ls], decision: allow}\n  - {prefix: [make], decision: allow, "
         "timeout: 0}\n",
         "p.yaml:3:48: commands[1].timeout: 0 is out of range (1 to 86400 seconds)"},
        {"commands:\n  - {prefix: [make], decision: allow, timeout: 5m}\n",
         "p.yaml:2:48: commands[0].timeout: expected an integer (seconds), got string"},
        {"paths: [a]\n", "p.yaml:1:8: paths: expected a mapping, got list"},
        {"paths:\n  deny_exec: [a]\n",
         "p.yaml:2:3: paths.deny_exec: unknown key (expected one of: deny_write, deny_read)"},
        {"paths:\n  deny_write: \".git\"\n",
         "p.yaml:2:15: paths.deny_write: expected a list, got string"},
        {"paths:\n  deny_write: [a, \"\"]\n",
         "p.yaml:2:19: paths.deny_write[1]: must not be empty"},
        {"network:\n  mode: open\n",
         "p.yaml:2:9: network.mode: 'open' is not a mode (expected none or allowlist)"},
        {"network:\n  mode: allowlist\n  allow: [\"a b.com\"]\n",
         "p.yaml:3:11: network.allow[0]: 'a b.com' is not a domain name (or *.domain)"},
        {"network:\n  allow: [\"example.com:443\"]\n",
         "p.yaml:2:11: network.allow[0]: 'example.com:443' is not a domain name (or *.domain)"},
        {"network:\n  allow: [\"*\"]\n",
         "p.yaml:2:11: network.allow[0]: '*' is not a domain name (or *.domain)"},
        {"network:\n  proxy: x\n",
         "p.yaml:2:3: network.proxy: unknown key (expected one of: mode, allow)"},
        {"approvals:\n  mode: later\n",
         "p.yaml:2:9: approvals.mode: 'later' is not a mode (expected each or end)"},
        {"approvals: each\n", "p.yaml:1:12: approvals: expected a mapping, got string"},
        {"stop_on_deny: sometimes\n",
         "p.yaml:1:15: stop_on_deny: expected true, false or a number of denials, got string"},
        {"stop_on_deny: -1\n", "p.yaml:1:15: stop_on_deny: -1 is out of range (0 to 1000000)"},
        {"safe_commands: 1\n", "p.yaml:1:16: safe_commands: expected true or false, got integer"},
        {"{\"default\": \"ask\", \"default\": \"deny\"}",
         "p.yaml:1:20: duplicate key 'default' (first at 1:2)"},
        {"{\"tools\": {\"x\": \"allow\",\n \"y\": \"nope\"}}",
         "p.yaml:2:7: tools.y: 'nope' is not a decision (expected allow, ask or deny)"},
        {"tools:\n  \"a b\": allow\n", "p.yaml:2:3: tools.a b: not a tool name"},
};

static void test_bad_policies(void **state)
{
        (void)state;
        int failed = 0;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                bridle__policy *p = NULL;
                bridle_error err = {0};
                int r = bridle__policy_parse(bad[i].text, strlen(bad[i].text), "p.yaml", &p, &err);
                if (r != BRIDLE_E_INVALID || strcmp(err.msg, bad[i].msg) != 0 || p) {
                        (void)fprintf(stderr, "bad[%zu]: r=%d\n  got:  %s\n  want: %s\n", i, r,
                                      err.msg, bad[i].msg);
                        failed++;
                }
                bridle__policy_free(p);
        }
        assert_int_equal(failed, 0);
}

static void test_empty_and_file(void **state)
{
        (void)state;
        bridle__policy *p = parse("");
        ASSERT_CMD(p, "rm x", BRIDLE__ASK, "default");
        ASSERT_CMD(p, "cat x", BRIDLE__ALLOW, "built-in safe command 'cat'");
        bridle__verdict v;
        assert_int_equal(bridle__gateway_decide(p, "read_file", "{}", 2, &v, NULL), 0);
        assert_int_equal(v.decision, BRIDLE__ASK); /* an empty file has no tool rules */
        bridle__policy_free(p);

        char *dir = bridle_test_tmpdir();
        char path[512];
        (void)snprintf(path, sizeof(path), "%s/policy.yaml", dir);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        (void)fputs("default: deny\ncommands:\n  - {prefix: [ls], decision: ask}\n", f);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(bridle__policy_load(path, &p, NULL), 0);
        assert_string_equal(bridle__policy_name(p), path);
        ASSERT_CMD(p, "ls", BRIDLE__ASK, "commands[0] prefix [ls]");
        ASSERT_CMD(p, "cp a b", BRIDLE__DENY, "default");
        bridle__policy_free(p);

        bridle_error err = {0};
        (void)snprintf(path, sizeof(path), "%s/missing.yaml", dir);
        p = NULL;
        assert_int_equal(bridle__policy_load(path, &p, &err), -ENOENT);
        assert_null(p);
        char want[600];
        (void)snprintf(want, sizeof(want), "%s: No such file or directory", path);
        assert_string_equal(err.msg, want);
        bridle_test_rmrf(dir);
        free(dir);
}

/* ---- precedence ---------------------------------------------------------------------- */

static void test_precedence(void **state)
{
        (void)state;
        bridle__policy *p = parse("default: allow\n"
                                  "commands:\n"
                                  "  - {prefix: [git], decision: allow}\n"
                                  "  - {prefix: [git, push], decision: ask}\n"
                                  "  - {prefix: [git, push, --force], decision: deny}\n"
                                  "  - {prefix: [git, [push, pull]], decision: ask, reason: net}\n"
                                  "  - {prefix: [[cat, less], secrets.txt], decision: deny}\n"
                                  "  - {prefix: [rm], decision: ask}\n"
                                  "  - {prefix: [rm, -rf], decision: deny}\n"
                                  "  - {prefix: [./run.sh], decision: allow}\n"
                                  "  - {prefix: [cat], decision: deny, reason: no cat}\n");
        /* strictest match wins, the first rule on ties */
        ASSERT_CMD(p, "git status", BRIDLE__ALLOW, "commands[0] prefix [git]");
        ASSERT_CMD(p, "git push origin", BRIDLE__ASK, "commands[1] prefix [git push]");
        ASSERT_CMD(p, "git push --force", BRIDLE__DENY, "commands[2] prefix [git push --force]");
        ASSERT_CMD(p, "git pull", BRIDLE__ASK, "commands[3] prefix [git push|pull]");
        bridle__verdict v = cmd(p, "git pull");
        assert_string_equal(v.reason, "net");
        /* alternatives in the first word */
        ASSERT_CMD(p, "less secrets.txt", BRIDLE__DENY,
                   "commands[4] prefix [cat|less secrets.txt]");
        /* a rule overrides the safe list */
        ASSERT_CMD(p, "cat notes", BRIDLE__DENY, "commands[8] prefix [cat]");
        /* the whole is the strictest of its commands */
        ASSERT_CMD(p, "git status && rm -rf x", BRIDLE__DENY, "commands[6] prefix [rm -rf]");
        ASSERT_CMD(p, "git status; rm x", BRIDLE__ASK, "commands[5] prefix [rm]");
        ASSERT_CMD(p, "ls | wc -l", BRIDLE__ALLOW, "built-in safe command 'ls'");
        /* paths: deny and ask rules also match the base name, allow rules never */
        ASSERT_CMD(p, "/bin/rm -rf x", BRIDLE__DENY, "commands[6] prefix [rm -rf]");
        ASSERT_CMD(p, "./run.sh", BRIDLE__ALLOW, "commands[7] prefix [./run.sh]");
        ASSERT_CMD(p, "x/git push", BRIDLE__ASK, "commands[1] prefix [git push]");
        ASSERT_CMD(p, "./ls", BRIDLE__ALLOW, "default");
        /* words not known: they match deny/ask rules, never allow rules */
        ASSERT_CMD(p, "rm $FLAGS /", BRIDLE__DENY, "commands[6] prefix [rm -rf]");
        ASSERT_CMD(p, "rm \"$F\" /", BRIDLE__DENY, "commands[6] prefix [rm -rf]");
        ASSERT_CMD(p, "git push --forc*", BRIDLE__DENY, "commands[2] prefix [git push --force]");
        /* wrappers: both the wrapper and the wrapped command are matched */
        ASSERT_CMD(p, "timeout 5 rm -rf x", BRIDLE__DENY, "commands[6] prefix [rm -rf]");
        ASSERT_CMD(p, "env A=1 nice -n 2 git push", BRIDLE__ASK, "commands[1] prefix [git push]");
        /* a quoted word is a word */
        ASSERT_CMD(p, "'rm' '-rf' x", BRIDLE__DENY, "commands[6] prefix [rm -rf]");
        ASSERT_CMD(p, "rm\\ -rf x", BRIDLE__ALLOW, "default");
        /* not simple: at least ask, and a deny inside a substitution still counts */
        ASSERT_CMD(p, "echo $(date)", BRIDLE__ASK, "not simple: command substitution");
        ASSERT_CMD(p, "echo $(rm -rf /)", BRIDLE__DENY, "commands[6] prefix [rm -rf]");
        /* a redirection writes: the safe list does not vouch for it, the default decides */
        ASSERT_CMD(p, "echo hi > f", BRIDLE__ALLOW, "default");
        ASSERT_CMD(p, "echo hi > .git/config", BRIDLE__ASK, "not simple: redirection to a protected path '.git/config'");
        v = cmd(p, "echo hi > .git/config");
        assert_string_equal(v.command, "");
        ASSERT_CMD(p, "echo hi > /workspace/.agents/skills/x", BRIDLE__ASK,
                   "not simple: redirection to a protected path '/workspace/.agents/skills/x'");
        ASSERT_CMD(p, "echo hi > /etc/passwd", BRIDLE__ASK, "not simple: redirection to '/etc/passwd' outside the workspace");
        ASSERT_CMD(p, "echo hi > ../x", BRIDLE__ASK, "not simple: redirection to '../x' (a path with '..')");
        ASSERT_CMD(p, "echo hi > /tmp/x", BRIDLE__ALLOW, "default");
        /* variables set before a command */
        ASSERT_CMD(p, "LD_PRELOAD=/tmp/x.so git status", BRIDLE__ASK,
                   "assignment to 'LD_PRELOAD' before the command");
        ASSERT_CMD(p, "LANG=C git status", BRIDLE__ALLOW, "commands[0] prefix [git]");
        ASSERT_CMD(p, "PATH=.:$PATH; git status", BRIDLE__ASK,
                   "assignment to 'PATH' before the command");
        ASSERT_CMD(p, "env GIT_DIR=x git status", BRIDLE__ASK,
                   "assignment to 'GIT_DIR' before the command");
        ASSERT_CMD(p, "", BRIDLE__ALLOW, "empty command");
        ASSERT_CMD(p, "# nothing", BRIDLE__ALLOW, "empty command");
        bridle__policy_free(p);
}

static void test_timeouts(void **state)
{
        (void)state;
        bridle__policy *p = parse("commands:\n"
                                  "  - {prefix: [make], decision: allow, timeout: 60}\n"
                                  "  - {prefix: [make, test], decision: allow, timeout: 600}\n"
                                  "  - {prefix: [npm], decision: allow, timeout: 120}\n");
        /* allow/allow tie: the first rule decides */
        assert_int_equal(cmd(p, "make test").timeout_ms, 60000);
        assert_int_equal(cmd(p, "make && npm ci").timeout_ms, 120000);
        assert_int_equal(cmd(p, "ls").timeout_ms, 0);
        bridle__policy_free(p);
}

/* ---- the safe list ---------------------------------------------------------------------- */

static void test_safe_list(void **state)
{
        (void)state;
        bridle__policy *p = bridle__policy_default();
        assert_non_null(p);
        static const char *const safe[] = {
                "ls -la",
                "cat a b",
                "head -n 3 f",
                "tail -f log",
                "wc -l *.c",
                "grep -rn x .",
                "rg -n foo src",
                "git status --short",
                "git diff HEAD~1",
                "git log --oneline",
                "git --no-pager show HEAD",
                "sed -n 1,10p f",
                "sed -n '/a/,/b/p' f",
                "sed -ne '$p' f",
                "sed --quiet -e 5q f",
                "find . -name '*.c' -type f",
                "pwd",
                "echo hi",
                "true",
                "false",
                "test -f x",
                "[ -d y ]",
                "stat f",
                "file f",
                "which gcc",
                "tree -L 2",
                "du -sh .",
                "df -h",
                "sort f",
                "printf '%s\\n' a",
                "date +%s",
                "cd src && ls",
                "env",
                "command -v gcc",
                "diff a b",
                "jq . f.json",
                "timeout 5 ls",
                "nice ls",
                "ls 2>/dev/null",
                "ls; pwd",
                "echo $HOME",
                "git status | head",
                "echo $((1+2))",
        };
        for (size_t i = 0; i < sizeof(safe) / sizeof(safe[0]); i++) {
                bridle__verdict v = cmd(p, safe[i]);
                if (v.decision != BRIDLE__ALLOW)
                        (void)fprintf(stderr, "safe: %s: %s %s\n", safe[i],
                                      bridle__decision_name(v.decision), v.rule);
                assert_int_equal(v.decision, BRIDLE__ALLOW);
                assert_non_null(strstr(v.rule, "built-in safe command"));
        }
        static const char *const unsafe[] = {
                "rm f",
                "git push",
                "git commit -m x",
                "git diff --output=x",
                "git diff --ext-diff",
                "git -c core.pager=x log",
                "sed -i s/a/b/ f",
                "sed s/a/b/ f",
                "sed -n 's/a/b/w x' f",
                "sed -n 1e f",
                "sed -n -f script f",
                "sed -ni 1p f",
                "sed -n w f",
                "find . -delete",
                "find . -exec rm {} ;",
                "find . -execdir x ;",
                "find . -fprint f",
                "find $DIR",
                "rg --pre=sh x",
                "rg -z x",
                "rg --search-zip x",
                "tree -o out",
                "file -C -m x",
                "sort -o f g",
                "sort --compress-program=sh f",
                "date -s 2020-01-01",
                "printf -v x y",
                "./ls",
                "/usr/bin/cat f",
                "xargs rm",
                "npm test",
                "python3 x.py",
                "bash script.sh",
                "make",
                "curl x",
                "tee f",
                "cp a b",
                "mv a b",
                "chmod +x f",
                "git $SUB",
                "LD_PRELOAD=x ls",
                "command ls; rm x",
                "sed -n \"$S\" f",
        };
        for (size_t i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++) {
                bridle__verdict v = cmd(p, unsafe[i]);
                if (v.decision == BRIDLE__ALLOW)
                        (void)fprintf(stderr, "unsafe: %s: %s\n", unsafe[i], v.rule);
                assert_int_equal(v.decision, BRIDLE__ASK);
        }
        bridle__policy_free(p);

        /* safe_commands: false turns the list off. */
        p = parse("default: deny\nsafe_commands: false\n");
        ASSERT_CMD(p, "ls", BRIDLE__DENY, "default");
        bridle__policy_free(p);
}

/* ---- tools and items ------------------------------------------------------------------- */

static void test_default_policy_tools(void **state)
{
        (void)state;
        bridle__policy *p = bridle__policy_default();
        assert_non_null(p);
        assert_string_equal(bridle__policy_name(p), "built-in");
        static const struct {
                const char *tool, *args;
                enum bridle__decision d;
                const char *rule;
        } t[] = {
                {"read_file", "{\"path\":\"a\"}", BRIDLE__ALLOW, "tools.read_file"},
                {"list_dir", "", BRIDLE__ALLOW, "tools.list_dir"},
                {"search", "{\"pattern\":\"x\"}", BRIDLE__ALLOW, "tools.search"},
                {"load_skill", "{\"name\":\"x\"}", BRIDLE__ALLOW, "tools.load_skill"},
                {"write_file", "{\"path\":\"a\",\"content\":\"\"}", BRIDLE__ASK, "default"},
                {"apply_patch", "{}", BRIDLE__ASK, "default"},
                {"write_stdin", "{\"session_id\":1}", BRIDLE__ASK, "default"},
                {"run_tests", "{}", BRIDLE__ASK, "default"},
                {"exec_command", "{\"cmd\":\"ls -l\"}", BRIDLE__ALLOW,
                 "built-in safe command 'ls'"},
                {"exec_command", "{\"cmd\":\"rm -rf /\"}", BRIDLE__ASK, "default"},
                {"exec_command", "{\"cmd\":3}", BRIDLE__ASK, "arguments: no string 'cmd'"},
                {"exec_command", "{\"cmd\":\"ls\",\"cmd\":\"rm x\"}", BRIDLE__ASK,
                 "arguments: not a JSON object"},
                {"exec_command", "not json", BRIDLE__ASK, "arguments: not a JSON object"},
                {"exec_command", "", BRIDLE__ASK, "arguments: no string 'cmd'"},
                {"read_file", "[1]", BRIDLE__ALLOW, "tools.read_file"},
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                bridle__verdict v;
                assert_int_equal(bridle__gateway_decide(p, t[i].tool, t[i].args, strlen(t[i].args),
                                                        &v, NULL),
                                 0);
                if (v.decision != t[i].d || strcmp(v.rule, t[i].rule) != 0)
                        (void)fprintf(stderr, "%s %s: %s %s\n", t[i].tool, t[i].args,
                                      bridle__decision_name(v.decision), v.rule);
                assert_int_equal(v.decision, t[i].d);
                assert_string_equal(v.rule, t[i].rule);
        }
        bridle__policy_free(p);
}

static void test_exec_command_rule(void **state)
{
        (void)state;
        /* tools.exec_command: allow is the fallback for commands no rule matches;
         * rules, the safe list and the not-simple floor still apply. */
        bridle__policy *p = parse("default: deny\ntools: {exec_command: allow}\n"
                                  "commands:\n  - {prefix: [rm], decision: deny}\n");
        ASSERT_CMD(p, "make", BRIDLE__ALLOW, "tools.exec_command");
        ASSERT_CMD(p, "rm x", BRIDLE__DENY, "commands[0] prefix [rm]");
        ASSERT_CMD(p, "make > log", BRIDLE__ALLOW, "tools.exec_command");
        bridle__policy_free(p);
        /* paths.deny_write replaces the default protected paths for redirections */
        p = parse("default: allow\npaths: {deny_write: [\"**/.env\", \"build/**\"]}\n");
        ASSERT_CMD(p, "echo x > .env", BRIDLE__ASK, "not simple: redirection to a protected path '.env' (paths.deny_write)");
        ASSERT_CMD(p, "echo x > a/b/.env", BRIDLE__ASK, "not simple: redirection to a protected path 'a/b/.env' (paths.deny_write)");
        ASSERT_CMD(p, "echo x > ./build/out/x.o", BRIDLE__ASK,
                   "not simple: redirection to a protected path './build/out/x.o' (paths.deny_write)");
        ASSERT_CMD(p, "echo x > builder.txt", BRIDLE__ALLOW, "default");
        ASSERT_CMD(p, "echo x > .git/config", BRIDLE__ALLOW, "default");
        bridle__policy_free(p);
        /* tools.exec_command: deny denies every command, safe ones too. */
        p = parse("tools: {exec_command: deny}\n");
        ASSERT_CMD(p, "ls", BRIDLE__DENY, "tools.exec_command");
        bridle__verdict v;
        const char *a = "{\"cmd\":\"ls\"}";
        assert_int_equal(bridle__gateway_decide(p, "exec_command", a, strlen(a), &v, NULL), 0);
        assert_int_equal(v.decision, BRIDLE__DENY);
        bridle__policy_free(p);
}

static void test_items(void **state)
{
        (void)state;
        bridle__policy *p = parse("tools: {apply_patch: allow}\n"
                                  "commands:\n  - {prefix: [make], decision: allow, timeout: 9}\n"
                                  "  - {prefix: [rm], decision: deny, reason: no}\n");
        static const struct {
                const char *item;
                enum bridle__decision d;
                const char *rule;
                uint64_t timeout_ms;
        } t[] = {
                {"{\"type\":\"shell_call\",\"action\":{\"commands\":[\"ls\",\"make\"]}}",
                 BRIDLE__ALLOW, "built-in safe command 'ls'", 9000},
                {"{\"type\":\"shell_call\",\"action\":{\"commands\":[\"ls\",\"rm x\"]}}",
                 BRIDLE__DENY, "commands[1] prefix [rm]", 0},
                {"{\"type\":\"shell_call\",\"action\":{\"commands\":[\"ls\",\"cp a b\"]}}",
                 BRIDLE__ASK, "default", 0},
                {"{\"type\":\"shell_call\",\"action\":{\"commands\":[]}}", BRIDLE__ALLOW,
                 "empty command", 0},
                {"{\"type\":\"shell_call\",\"action\":{}}", BRIDLE__ASK,
                 "shell_call: no action.commands", 0},
                {"{\"type\":\"shell_call\",\"action\":{\"commands\":[1]}}", BRIDLE__ASK,
                 "shell_call: a command that is not a string", 0},
                {"{\"type\":\"apply_patch_call\",\"operation\":{}}", BRIDLE__ALLOW,
                 "tools.apply_patch", 0},
                {"{\"type\":\"function_call\",\"name\":\"exec_command\","
                 "\"arguments\":\"{\\\"cmd\\\":\\\"make\\\"}\"}",
                 BRIDLE__ALLOW, "commands[0] prefix [make]", 9000},
                {"{\"type\":\"mystery\"}", BRIDLE__ASK, "default", 0},
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                json_t *item = json_loads(t[i].item, 0, NULL);
                assert_non_null(item);
                bridle__verdict v;
                assert_int_equal(bridle__gateway_decide_item(p, item, &v, NULL), 0);
                if (v.decision != t[i].d || strcmp(v.rule, t[i].rule) != 0)
                        (void)fprintf(stderr, "item %zu: %s %s\n", i,
                                      bridle__decision_name(v.decision), v.rule);
                assert_int_equal(v.decision, t[i].d);
                assert_string_equal(v.rule, t[i].rule);
                assert_int_equal(v.timeout_ms, t[i].timeout_ms);
                json_decref(item);
        }
        bridle__policy_free(p);
        /* tools.shell: deny refuses native shell calls outright. */
        p = parse("tools: {shell: deny}\n");
        json_t *item =
                json_loads("{\"type\":\"shell_call\",\"action\":{\"commands\":[\"ls\"]}}", 0, NULL);
        bridle__verdict v;
        assert_int_equal(bridle__gateway_decide_item(p, item, &v, NULL), 0);
        assert_int_equal(v.decision, BRIDLE__DENY);
        assert_string_equal(v.rule, "tools.shell");
        json_decref(item);
        bridle__policy_free(p);
}

/* ---- warnings, JSON, network ------------------------------------------------------------- */

static void test_warnings(void **state)
{
        (void)state;
        bridle__policy *p = parse("tools:\n  read_file: allow\n  write_file: deny\n"
                                  "  mcp_x: ask\ncommands:\n  - {prefix: [ls], decision: allow}\n");
        const char *const tools[] = {"read_file", "list_dir"};
        char **w = NULL;
        assert_int_equal(bridle__policy_check_tools(p, tools, 2, &w, NULL), 3);
        assert_string_equal(w[0],
                            "p.yaml:4:3: tools.mcp_x: a rule for a tool the agent does not have");
        assert_string_equal(
                w[1], "p.yaml:3:3: tools.write_file: a rule for a tool the agent does not have");
        assert_string_equal(w[2], "p.yaml:6:3: commands: rules for commands, but the agent has "
                                  "neither exec_command nor shell");
        assert_null(w[3]);
        w = bridle__policy_warnings_free(w);
        const char *const all[] = {"read_file", "write_file", "mcp_x", "shell"};
        assert_int_equal(bridle__policy_check_tools(p, all, 4, &w, NULL), 0);
        assert_null(w[0]);
        bridle__policy_warnings_free(w);
        bridle__policy_free(p);
}

static void test_json_round_trip(void **state)
{
        (void)state;
        const char *const policies[] = {
                issue_policy,
                "",
                "default: deny\nstop_on_deny: 3\nsafe_commands: false\napprovals: {mode: end}\n",
                "recovery: {in_doubt: ask, max_tool_failures: 0, server_lost: stop}\n",
                "stop_on_deny: true\ncommands:\n  - {prefix: [[a, b], c, [d]], decision: ask, "
                "reason: \"why \\\"quoted\\\"\"}\n",
        };
        for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
                bridle__policy *p = parse(policies[i]);
                json_t *j = bridle__policy_to_json(p);
                assert_non_null(j);
                bridle__policy *q = NULL;
                assert_int_equal(bridle__policy_from_json(j, &q, NULL), 0);
                json_t *k = bridle__policy_to_json(q);
                assert_true(json_equal(j, k));
                assert_string_equal(bridle__policy_name(q), "recorded policy");
                /* and it decides the same */
                static const char *const cmds[] = {"ls",      "git status", "rm -rf x", "a c d",
                                                   "b c d e", "make test",  "echo $(x)"};
                for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
                        bridle__verdict v1 = cmd(p, cmds[c]), v2 = cmd(q, cmds[c]);
                        assert_int_equal(v1.decision, v2.decision);
                        assert_string_equal(v1.rule, v2.rule);
                        assert_int_equal(v1.timeout_ms, v2.timeout_ms);
                }
                json_decref(j);
                json_decref(k);
                bridle__policy_free(p);
                bridle__policy_free(q);
        }
        /* The canonical form of one policy, exactly. */
        bridle__policy *p = parse("stop_on_deny: true\ncommands:\n  - {prefix: [[a, b], c, [d]], "
                                  "decision: ask, timeout: 5}\n");
        json_t *j = bridle__policy_to_json(p);
        char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(
                s, "{\"approvals\":{\"mode\":\"each\"},\"commands\":[{\"decision\":\"ask\","
                   "\"prefix\":[[\"a\",\"b\"],\"c\",\"d\"],\"timeout\":5}],\"default\":\"ask\","
                   "\"network\":{\"allow\":[],\"mode\":\"none\"},\"paths\":{\"deny_read\":[],"
                   "\"deny_write\":[]},\"recovery\":{\"in_doubt\":\"rerun\",\"max_tool_failures\":5,\"server_lost\":\"continue\"},\"safe_commands\":true,\"stop_on_deny\":1,\"tools\":{}}");
        free(s);
        json_decref(j);
        bridle__policy_free(p);
        /* A recorded policy that was tampered with is refused with a message. */
        json_t *bad_json = json_pack("{s:s}", "default", "sometimes");
        bridle__policy *q = NULL;
        bridle_error err = {0};
        assert_int_equal(bridle__policy_from_json(bad_json, &q, &err), BRIDLE_E_INVALID);
        assert_string_equal(err.msg, "recorded policy:1:12: default: 'sometimes' is not a decision "
                                     "(expected allow, ask or deny)");
        json_decref(bad_json);
}

static void test_network(void **state)
{
        (void)state;
        bridle__policy *p = parse(issue_policy);
        assert_true(bridle__policy_host_allowed(p, "registry.example.org"));
        assert_true(bridle__policy_host_allowed(p, "Registry.Example.ORG."));
        assert_false(bridle__policy_host_allowed(p, "evil.registry.example.org"));
        assert_true(bridle__policy_host_allowed(p, "a.internal.example"));
        assert_true(bridle__policy_host_allowed(p, "a.b.internal.example"));
        assert_false(bridle__policy_host_allowed(p, "internal.example"));
        assert_false(bridle__policy_host_allowed(p, "xinternal.example"));
        assert_false(bridle__policy_host_allowed(p, "example.org"));
        assert_false(bridle__policy_host_allowed(p, ""));
        bridle__policy_free(p);
        p = parse("network: {mode: none, allow: [a.com]}\n");
        assert_false(bridle__policy_host_allowed(p, "a.com"));
        bridle__policy_free(p);
}

static void test_alloc_failures(void **state)
{
        (void)state;
        bool ok = false;
        for (unsigned long k = 1; k < 5000 && !ok; k++) {
                bridle__policy *p = NULL;
                bridle__alloc_fail_at(k);
                int r = bridle__policy_parse(issue_policy, strlen(issue_policy), "p.yaml", &p,
                                             NULL);
                bridle__alloc_fail_at(0);
                if (r == 0) {
                        ok = true;
                        ASSERT_CMD(p, "rm -rf x", BRIDLE__DENY, "commands[3] prefix [rm -rf]");
                } else {
                        assert_int_equal(r, -ENOMEM);
                        assert_null(p);
                }
                bridle__policy_free(p);
        }
        assert_true(ok);
        bridle__policy *p = parse(issue_policy);
        ok = false;
        for (unsigned long k = 1; k < 500 && !ok; k++) {
                bridle__verdict v;
                bridle__alloc_fail_at(k);
                int r = bridle__gateway_decide_cmd(p, "git status && rm -rf $(ls) | wc", &v, NULL);
                bridle__alloc_fail_at(0);
                if (r == 0) {
                        ok = true;
                        assert_int_equal(v.decision, BRIDLE__DENY);
                } else {
                        assert_int_equal(r, -ENOMEM);
                }
        }
        assert_true(ok);
        bridle__policy_free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_issue_policy),
                cmocka_unit_test(test_yaml_equals_json),
                cmocka_unit_test(test_bad_policies),
                cmocka_unit_test(test_empty_and_file),
                cmocka_unit_test(test_precedence),
                cmocka_unit_test(test_timeouts),
                cmocka_unit_test(test_safe_list),
                cmocka_unit_test(test_default_policy_tools),
                cmocka_unit_test(test_exec_command_rule),
                cmocka_unit_test(test_items),
                cmocka_unit_test(test_warnings),
                cmocka_unit_test(test_json_round_trip),
                cmocka_unit_test(test_network),
                cmocka_unit_test(test_alloc_failures),
        };
        return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
