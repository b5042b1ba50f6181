/* SPDX-License-Identifier: MIT */
/*
 * Deciding: a tool call -> a verdict (docs/gateway.md, "Precedence").
 * For commands: split, match each simple command against the rules (the
 * index on first words finds the candidates), the safe list, the fallback;
 * the whole is the strictest of its commands, and at least ask when the
 * string is not provably simple.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/policy_internal.h"
#include "util/glob.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

struct fallback {
        enum bridle__decision decision;
        const char *rule; /* "default", "tools.exec_command" */
};

static void vset(bridle__verdict *v, enum bridle__decision d, const char *rule, const char *reason)
{
        v->decision = d;
        (void)snprintf(v->rule, sizeof(v->rule), "%s", rule);
        (void)snprintf(v->reason, sizeof(v->reason), "%s", reason ? reason : "");
}

/* ---- one simple command ----------------------------------------------------------------- */

static bool alt_match(const char *text, const struct pelem *e)
{
        for (size_t a = 0; a < e->n; a++)
                if (strcmp(text, e->alts[a]) == 0)
                        return true;
        return false;
}

/* Does rule cr match argv[from..]? Its first word already matched. A word
 * whose text is not known matches anything for deny and ask rules (an
 * unquoted one: the rest of the prefix too), nothing for allow rules. */
static bool prefix_match(const struct crule *cr, const bridle__shcmd *c, size_t from)
{
        for (size_t k = 1; k < cr->n; k++) {
                size_t pos = from + k;
                if (pos >= c->argc)
                        return false;
                const bridle__shword *w = &c->argv[pos];
                if (w->flags & BRIDLE__SHW_SPLITS)
                        return cr->decision != BRIDLE__ALLOW;
                if (w->flags & BRIDLE__SHW_UNKNOWN) {
                        if (cr->decision == BRIDLE__ALLOW)
                                return false;
                        continue;
                }
                if (!alt_match(w->text, &cr->prefix[k]))
                        return false;
        }
        return true;
}

struct best {
        const struct crule *rule;
        size_t idx;
};

static void consider(struct best *b, const bridle__policy *p, size_t i)
{
        const struct crule *cr = &p->cmds[i];
        if (!b->rule || cr->decision > b->rule->decision ||
            (cr->decision == b->rule->decision && i < b->idx)) {
                b->rule = cr;
                b->idx = i;
        }
}

/* Rules for argv[from..]: by its first word, and for a path (/bin/rm) by its
 * base name too, but then only deny and ask rules (./ls is not ls). */
static void match_from(const bridle__policy *p, const bridle__shcmd *c, size_t from, struct best *b)
{
        const bridle__shword *w = &c->argv[from];
        if (w->flags)
                return;
        size_t n;
        const size_t *rules = bridle__policy_rules_for(p, w->text, &n);
        for (size_t i = 0; i < n; i++)
                if (prefix_match(&p->cmds[rules[i]], c, from))
                        consider(b, p, rules[i]);
        const char *base = strrchr(w->text, '/');
        if (!base || !base[1])
                return;
        rules = bridle__policy_rules_for(p, base + 1, &n);
        for (size_t i = 0; i < n; i++)
                if (p->cmds[rules[i]].decision != BRIDLE__ALLOW &&
                    prefix_match(&p->cmds[rules[i]], c, from))
                        consider(b, p, rules[i]);
}

static void command_text(const bridle__shcmd *c, char *buf, size_t size)
{
        size_t o = 0;
        buf[0] = '\0';
        for (size_t k = 0; k < c->n_prefix + c->argc && o + 1 < size; k++) {
                const char *t = k < c->n_prefix ? c->assigns[k] : c->argv[k - c->n_prefix].text;
                int n = snprintf(buf + o, size - o, "%s%s", k ? " " : "", t);
                if (n < 0)
                        break;
                o += (size_t)n;
        }
}

/* writes: the string writes files (redirections): the read-only safe list
 * does not vouch for it; rules and the fallback still decide. */
static void decide_simple(const bridle__policy *p, const bridle__shcmd *c,
                          const struct fallback *fb, bool writes, bridle__verdict *v)
{
        *v = (bridle__verdict){0};
        command_text(c, v->command, sizeof(v->command));
        struct best b = {0};
        char name[64];
        v->read_only = c->argc == 0 || (!writes && p->set.safe_commands && bridle__safe_command(c, name, sizeof(name)));
        if (c->argc > 0) {
                match_from(p, c, 0, &b);
                if (c->start > 0 && c->start < c->argc)
                        match_from(p, c, c->start, &b);
        }
        if (c->argc == 0) {
                vset(v, BRIDLE__ALLOW, "assignment only", NULL);
        } else if (b.rule) {
                vset(v, b.rule->decision, b.rule->desc, b.rule->reason);
                v->timeout_ms = (uint64_t)b.rule->timeout * 1000;
        } else if (!writes && p->set.safe_commands && bridle__safe_command(c, name, sizeof(name))) {
                char rule[96];
                (void)snprintf(rule, sizeof(rule), "built-in safe command '%s'", name);
                vset(v, BRIDLE__ALLOW, rule, NULL);
        } else {
                vset(v, fb->decision, fb->rule, NULL);
        }
        for (size_t k = 0; k < c->n_assigns && v->decision < BRIDLE__ASK; k++)
                if (!bridle__shell_harmless_var(c->assigns[k])) {
                        char rule[128];
                        int n = (int)strcspn(c->assigns[k], "=+");
                        (void)snprintf(rule, sizeof(rule),
                                       "assignment to '%.*s' before the command", n > 64 ? 64 : n,
                                       c->assigns[k]);
                        vset(v, BRIDLE__ASK, rule,
                             "setting this variable can change what the command runs");
                        v->read_only = false;
                }
}

/* ---- a command string ------------------------------------------------------------------- */

/* Fold one more verdict into the whole: the strictest wins (the first on ties);
 * timeouts take the largest. */
static void fold(bridle__verdict *all, bool *any, const bridle__verdict *one)
{
        uint64_t t = all->timeout_ms > one->timeout_ms ? all->timeout_ms : one->timeout_ms;
        bool ro = (*any ? all->read_only : true) && one->read_only;
        if (!*any || one->decision > all->decision)
                *all = *one;
        all->timeout_ms = t;
        all->read_only = ro;
        *any = true;
}

static const char *const default_protected[] = { ".git/**", ".agents/**", NULL };

/* Is a redirection target protected? Relative names and /workspace/... are
 * workspace paths, matched against paths.deny_write (or, when the policy sets
 * none, .git and .agents); /tmp is the sandbox's own; any other absolute path,
 * or a name with "..", is outside what the gateway can vouch for. */
static const char *protected_target(const bridle__policy *p, const char *t, char *why, size_t cap)
{
        if (strstr(t, "..")) {
                (void)snprintf(why, cap, "redirection to '%.60s' (a path with '..')", t);
                return why;
        }
        const char *rel = t;
        if (rel[0] == '/') {
                if (strncmp(rel, "/tmp/", 5) == 0)
                        return NULL;
                if (strncmp(rel, "/workspace/", 11) != 0) {
                        (void)snprintf(why, cap, "redirection to '%.60s' outside the workspace", t);
                        return why;
                }
                rel += 11;
        }
        while (strncmp(rel, "./", 2) == 0)
                rel += 2;
        const bridle__policy_settings *set = &p->set;
        for (size_t i = 0; i < set->n_deny_write; i++)
                if (bridle__glob_match(set->deny_write[i], rel)) {
                        (void)snprintf(why, cap, "redirection to a protected path '%.60s' (paths.deny_write)", t);
                        return why;
                }
        if (!set->n_deny_write)
                for (size_t i = 0; default_protected[i]; i++)
                        if (bridle__glob_match(default_protected[i], rel)) {
                                (void)snprintf(why, cap, "redirection to a protected path '%.60s'", t);
                                return why;
                        }
        return NULL;
}

static int decide_string(const bridle__policy *p, const char *cmd, const struct fallback *fb,
                         bridle__verdict *ret)
{
        bridle__shsplit sp;
        if (bridle__shell_split(cmd, &sp) < 0)
                return -ENOMEM;
        for (size_t i = 0; sp.simple && i < sp.n_writes; i++) {
                char why[128];
                if (protected_target(p, sp.writes[i], why, sizeof(why))) {
                        sp.simple = false;
                        (void)snprintf(sp.reason, sizeof(sp.reason), "%s", why);
                }
        }
        bridle__verdict all = {0};
        bool any = false;
        for (size_t i = 0; i < sp.n; i++) {
                bridle__verdict one;
                decide_simple(p, &sp.cmds[i], fb, sp.n_writes > 0, &one);
                fold(&all, &any, &one);
        }
        if (!any) {
                vset(&all, BRIDLE__ALLOW, "empty command", NULL);
                all.read_only = true;
        }
        if (!sp.simple) {
                all.read_only = false;
                char rule[sizeof(sp.reason) + 16];
                (void)snprintf(rule, sizeof(rule), "not simple: %s", sp.reason);
                if (all.decision < BRIDLE__ASK) {
                        vset(&all, BRIDLE__ASK, rule,
                             "the command cannot be proved to run only what it shows");
                        all.command[0] = '\0';
                } else if (!all.reason[0]) {
                        (void)snprintf(all.reason, sizeof(all.reason), "also %s", rule);
                }
        }
        bridle__shell_free(&sp);
        *ret = all;
        return 0;
}

static struct fallback fallback_for(const bridle__policy *p, const char *tool, char *buf,
                                    size_t size)
{
        const struct trule *t = bridle__policy_tool(p, tool);
        if (t) {
                (void)snprintf(buf, size, "tools.%s", t->name); /* the rule: fs__* for fs__write */
                return (struct fallback){t->decision, buf};
        }
        return (struct fallback){p->set.default_decision, "default"};
}

int bridle__gateway_decide_cmd(const bridle__policy *p, const char *cmd, bridle__verdict *ret,
                               bridle_error *err)
{
        if (!p || !cmd || !ret)
                return bridle__err(err, -EINVAL, "gateway: missing argument");
        char buf[160];
        struct fallback fb = fallback_for(p, "exec_command", buf, sizeof(buf));
        if (fb.decision == BRIDLE__DENY && strcmp(fb.rule, "default") != 0) {
                *ret = (bridle__verdict){0};
                vset(ret, BRIDLE__DENY, fb.rule, NULL);
                return 0;
        }
        if (decide_string(p, cmd, &fb, ret) < 0)
                return bridle__err(err, -ENOMEM, "gateway: deciding");
        return 0;
}

/* ---- tool calls ---------------------------------------------------------------------------- */

static void tool_verdict(const bridle__policy *p, const char *name, bridle__verdict *ret)
{
        char buf[160];
        struct fallback fb = fallback_for(p, name, buf, sizeof(buf));
        *ret = (bridle__verdict){0};
        vset(ret, fb.decision, fb.rule, NULL);
}

int bridle__gateway_decide_args(const bridle__policy *p, const char *name, const json_t *args,
                                bridle__verdict *ret, bridle_error *err)
{
        if (!p || !name || !ret)
                return bridle__err(err, -EINVAL, "gateway: missing argument");
        if (strcmp(name, "exec_command") != 0) {
                tool_verdict(p, name, ret);
                return 0;
        }
        const json_t *cmd = args ? json_object_get(args, "cmd") : NULL;
        if (!json_is_string(cmd)) {
                tool_verdict(p, name, ret);
                if (ret->decision <= BRIDLE__ASK)
                        vset(ret, BRIDLE__ASK, "arguments: no string 'cmd'", NULL);
                return 0;
        }
        return bridle__gateway_decide_cmd(p, json_string_value(cmd), ret, err);
}

int bridle__gateway_decide(const bridle__policy *p, const char *name, const char *arguments,
                           size_t len, bridle__verdict *ret, bridle_error *err)
{
        if (!p || !name || !ret || (!arguments && len))
                return bridle__err(err, -EINVAL, "gateway: missing argument");
        if (len == 0)
                return bridle__gateway_decide_args(p, name, NULL, ret, err);
        json_error_t jerr;
        json_t *args = json_loadb(arguments, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
        if (!args || !json_is_object(args)) {
                json_decref(args);
                /* The tool refuses such arguments without running anything, but
                 * a command that cannot be read is asked about all the same. */
                int r = bridle__gateway_decide_args(p, name, NULL, ret, err);
                if (r == 0 && strcmp(name, "exec_command") == 0 && ret->decision <= BRIDLE__ASK)
                        vset(ret, BRIDLE__ASK, "arguments: not a JSON object", NULL);
                return r;
        }
        int r = bridle__gateway_decide_args(p, name, args, ret, err);
        json_decref(args);
        return r;
}

static int decide_shell_call(const bridle__policy *p, const json_t *item, bridle__verdict *ret,
                             bridle_error *err)
{
        char buf[160];
        struct fallback fb = fallback_for(p, "shell", buf, sizeof(buf));
        *ret = (bridle__verdict){0};
        if (fb.decision == BRIDLE__DENY && strcmp(fb.rule, "default") != 0) {
                vset(ret, BRIDLE__DENY, fb.rule, NULL);
                return 0;
        }
        const json_t *cmds = json_object_get(json_object_get(item, "action"), "commands");
        if (!json_is_array(cmds)) {
                vset(ret, fb.decision > BRIDLE__ASK ? fb.decision : BRIDLE__ASK,
                     "shell_call: no action.commands", NULL);
                return 0;
        }
        bridle__verdict all = {0};
        bool any = false;
        for (size_t i = 0; i < json_array_size(cmds); i++) {
                const json_t *c = json_array_get(cmds, i);
                bridle__verdict one = {0};
                if (!json_is_string(c))
                        vset(&one, BRIDLE__ASK, "shell_call: a command that is not a string", NULL);
                else if (decide_string(p, json_string_value(c), &fb, &one) < 0)
                        return bridle__err(err, -ENOMEM, "gateway: deciding");
                fold(&all, &any, &one);
        }
        if (!any)
                vset(&all, BRIDLE__ALLOW, "empty command", NULL);
        *ret = all;
        return 0;
}

int bridle__gateway_decide_item(const bridle__policy *p, const json_t *item, bridle__verdict *ret,
                                bridle_error *err)
{
        if (!p || !item || !ret)
                return bridle__err(err, -EINVAL, "gateway: missing argument");
        const char *type = json_string_value(json_object_get(item, "type"));
        if (!type)
                type = "";
        if (strcmp(type, "shell_call") == 0)
                return decide_shell_call(p, item, ret, err);
        if (strcmp(type, "apply_patch_call") == 0) {
                tool_verdict(p, "apply_patch", ret);
                return 0;
        }
        if (strcmp(type, "function_call") == 0) {
                const char *name = json_string_value(json_object_get(item, "name"));
                const char *args = json_string_value(json_object_get(item, "arguments"));
                return bridle__gateway_decide(p, name ? name : "", args ? args : "",
                                              args ? strlen(args) : 0, ret, err);
        }
        tool_verdict(p, type, ret);
        return 0;
}
