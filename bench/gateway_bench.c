/* SPDX-License-Identifier: MIT */
/*
 * Gateway decision time per call: a 200-rule policy over a mix of commands,
 * side by side with a naive matcher that does the same job with one POSIX
 * regex per rule (regexec over each simple command's joined argv, every rule
 * tried, strictest wins). Both split the command string the same way; the
 * difference is the precompiled index on first words. Goal: under 20 us per
 * decision. Prints numbers, never asserts on time.
 *
 *   build/bench/gateway-bench [ITERATIONS]
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/gateway.h"
#include "gateway/shell.h"

#define N_RULES 200

static const char *const mix[] = {
        "ls -la",
        "git status --short",
        "git diff HEAD~1 -- src/main.c",
        "git push origin main",
        "make test",
        "npm install left-pad",
        "rm -rf build",
        "cat README.md | grep -n install | head -5",
        "cd src && make -j4 && ./run_tests --verbose 2>&1",
        "tool42 sub3 --flag",
        "tool7 sub1 a b c",
        "echo $(date) > /dev/null",
        "find . -name '*.c' -type f | xargs wc -l",
        "python3 -m pytest tests/ -x -q",
        "sed -n '1,20p' src/gateway/shell.c",
        "FOO=1 timeout 30 cargo build --release",
};

static double now(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the policy ---------------------------------------------------------------------- */

struct rule {
        const char *words[3];
        const char *alts[3]; /* alternatives for the second word, or NULL */
        enum bridle__decision d;
};

static struct rule rules[N_RULES];
static char names[N_RULES][2][32];

static void make_rules(void)
{
        static const struct rule fixed[] = {
                {{"git", "status"}, {0}, BRIDLE__ALLOW},
                {{"git"}, {"diff", "log", "show"}, BRIDLE__ALLOW},
                {{"git", "push"}, {0}, BRIDLE__ASK},
                {{"make", "test"}, {0}, BRIDLE__ALLOW},
                {{"rm", "-rf"}, {0}, BRIDLE__DENY},
                {{"npm", "install"}, {0}, BRIDLE__ASK},
                {{"python3", "-m"}, {0}, BRIDLE__ALLOW},
                {{"cargo", "build"}, {0}, BRIDLE__ALLOW},
        };
        size_t n = sizeof(fixed) / sizeof(fixed[0]);
        memcpy(rules, fixed, sizeof(fixed));
        for (size_t i = n; i < N_RULES; i++) {
                (void)snprintf(names[i][0], sizeof(names[i][0]), "tool%zu", i % 64);
                (void)snprintf(names[i][1], sizeof(names[i][1]), "sub%zu", i / 64);
                rules[i].words[0] = names[i][0];
                if (i % 5 == 0) {
                        rules[i].alts[0] = names[i][1];
                        rules[i].alts[1] = "other";
                } else {
                        rules[i].words[1] = names[i][1];
                }
                rules[i].d = (enum bridle__decision)(i % 3);
        }
}

static const char *const dnames[] = {"allow", "ask", "deny"};

static char *policy_text(void)
{
        size_t cap = 64 * N_RULES + 64, o = 0;
        char *t = malloc(cap);
        if (!t)
                return NULL;
        o += (size_t)snprintf(t + o, cap - o, "default: ask\ncommands:\n");
        for (size_t i = 0; i < N_RULES; i++) {
                const struct rule *r = &rules[i];
                o += (size_t)snprintf(t + o, cap - o, "  - {prefix: [%s", r->words[0]);
                if (r->alts[0])
                        o += (size_t)snprintf(t + o, cap - o, ", [%s, %s%s%s]", r->alts[0],
                                              r->alts[1], r->alts[2] ? ", " : "",
                                              r->alts[2] ? r->alts[2] : "");
                else if (r->words[1])
                        o += (size_t)snprintf(t + o, cap - o, ", %s", r->words[1]);
                o += (size_t)snprintf(t + o, cap - o, "], decision: %s}\n", dnames[r->d]);
        }
        return t;
}

/* ---- the naive matcher ------------------------------------------------------------------ */

static regex_t re[N_RULES];

static void re_word(char *buf, size_t size, size_t *o, const char *w)
{
        for (; *w && *o + 3 < size; w++) {
                if (strchr("\\^$.|?*+()[]{}", *w))
                        buf[(*o)++] = '\\';
                buf[(*o)++] = *w;
        }
        buf[*o] = '\0';
}

static int compile_regexes(void)
{
        for (size_t i = 0; i < N_RULES; i++) {
                char pat[256] = "^";
                size_t o = 1;
                re_word(pat, sizeof(pat), &o, rules[i].words[0]);
                if (rules[i].alts[0]) {
                        o += (size_t)snprintf(pat + o, sizeof(pat) - o, " (");
                        for (int a = 0; a < 3 && rules[i].alts[a]; a++) {
                                if (a)
                                        pat[o++] = '|';
                                re_word(pat, sizeof(pat), &o, rules[i].alts[a]);
                        }
                        o += (size_t)snprintf(pat + o, sizeof(pat) - o, ")");
                } else if (rules[i].words[1]) {
                        pat[o++] = ' ';
                        re_word(pat, sizeof(pat), &o, rules[i].words[1]);
                }
                (void)snprintf(pat + o, sizeof(pat) - o, "( |$)");
                if (regcomp(&re[i], pat, REG_EXTENDED | REG_NOSUB) != 0)
                        return -1;
        }
        return 0;
}

static enum bridle__decision naive_decide(const char *cmd)
{
        bridle__shsplit s;
        if (bridle__shell_split(cmd, &s) < 0)
                abort();
        enum bridle__decision all = BRIDLE__ALLOW;
        for (size_t c = 0; c < s.n; c++) {
                char joined[4096];
                size_t o = 0;
                for (size_t k = 0; k < s.cmds[c].argc && o + 1 < sizeof(joined); k++)
                        o += (size_t)snprintf(joined + o, sizeof(joined) - o, "%s%s", k ? " " : "",
                                              s.cmds[c].argv[k].text);
                int best = -1;
                for (size_t i = 0; i < N_RULES; i++)
                        if ((int)rules[i].d > best && regexec(&re[i], joined, 0, NULL, 0) == 0)
                                best = (int)rules[i].d;
                enum bridle__decision d = best < 0 ? BRIDLE__ASK : (enum bridle__decision)best;
                if (d > all)
                        all = d;
        }
        if (!s.simple && all < BRIDLE__ASK)
                all = BRIDLE__ASK;
        bridle__shell_free(&s);
        return all;
}

int main(int argc, char **argv)
{
        long iters = argc > 1 ? atol(argv[1]) : 20000;
        if (iters < 1)
                iters = 1;
        size_t nmix = sizeof(mix) / sizeof(mix[0]);
        make_rules();
        char *text = policy_text();
        bridle__policy *p = NULL;
        bridle_error err = {0};
        if (!text || bridle__policy_parse(text, strlen(text), "bench", &p, &err) < 0) {
                (void)fprintf(stderr, "gateway-bench: %s\n", err.msg);
                return 1;
        }
        if (compile_regexes() < 0) {
                (void)fprintf(stderr, "gateway-bench: regcomp failed\n");
                return 1;
        }
        /* Warm up, and check both matchers agree on every command (not on the
         * rule names: the naive one keeps no names). The safe list is the
         * gateway's alone, so compare with it off. */
        bridle__policy *nosafe = NULL;
        size_t tl = strlen(text);
        char *t2 = malloc(tl + 32);
        if (!t2)
                return 1;
        (void)snprintf(t2, tl + 32, "safe_commands: false\n%s", text);
        if (bridle__policy_parse(t2, strlen(t2), "bench", &nosafe, &err) < 0)
                return 1;
        for (size_t i = 0; i < nmix; i++) {
                bridle__verdict v;
                if (bridle__gateway_decide_cmd(nosafe, mix[i], &v, NULL) < 0)
                        return 1;
                enum bridle__decision n = naive_decide(mix[i]);
                if (v.decision != n)
                        (void)fprintf(stderr, "gateway-bench: disagree on '%s': %s vs %s\n", mix[i],
                                      dnames[v.decision], dnames[n]);
        }

        double t0 = now();
        for (long k = 0; k < iters; k++) {
                bridle__verdict v;
                (void)bridle__gateway_decide_cmd(p, mix[(size_t)k % nmix], &v, NULL);
        }
        double gw = (now() - t0) / (double)iters * 1e6;

        t0 = now();
        for (long k = 0; k < iters; k++) {
                bridle__shsplit s;
                if (bridle__shell_split(mix[(size_t)k % nmix], &s) == 0)
                        bridle__shell_free(&s);
        }
        double split = (now() - t0) / (double)iters * 1e6;

        long naive_iters = iters / 10 > 0 ? iters / 10 : 1;
        t0 = now();
        for (long k = 0; k < naive_iters; k++)
                (void)naive_decide(mix[(size_t)k % nmix]);
        double naive = (now() - t0) / (double)naive_iters * 1e6;

        printf("gateway decision, %d rules, %zu-command mix, %ld calls\n", N_RULES, nmix, iters);
        printf("  gateway (index on first words):  %8.2f us/decision  (goal < 20 us)\n", gw);
        printf("    of which splitting the string:  %8.2f us\n", split);
        printf("  naive (one regex per rule):      %8.2f us/decision\n", naive);
        printf("  ratio naive/gateway:             %8.1fx\n", naive / gw);

        for (size_t i = 0; i < N_RULES; i++)
                regfree(&re[i]);
        bridle__policy_free(p);
        bridle__policy_free(nosafe);
        free(text);
        free(t2);
        return 0;
}
