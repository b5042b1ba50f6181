/* SPDX-License-Identifier: MIT */
/* Policy files: load, check everything before use, free; the built-in default. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/policy_internal.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/yaml.h"

struct vctx {
        const bridle__doc *doc;
        bridle_error *err;
        bridle__policy *p;
};

struct lc {
        int line, col;
};

static const char *const top_keys[] = {"default",      "tools",         "commands",
                                       "paths",        "network",       "approvals",
                                       "stop_on_deny", "safe_commands", "recovery",
                                       NULL};
static const char *const rule_keys[] = {"prefix", "decision", "reason", "timeout", NULL};
static const char *const path_keys[] = {"deny_write", "deny_read", NULL};
static const char *const network_keys[] = {"mode", "allow", NULL};
static const char *const approval_keys[] = {"mode", NULL};
static const char *const recovery_keys[] = {"in_doubt", "max_tool_failures", "server_lost", NULL};

/* ---- freeing ------------------------------------------------------------------------ */

static char **strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
        return NULL;
}

bridle__policy *bridle__policy_free(bridle__policy *p)
{
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_tools; i++)
                free(p->tools[i].name);
        free(p->tools);
        for (size_t i = 0; i < p->n_cmds; i++) {
                for (size_t k = 0; k < p->cmds[i].n; k++)
                        strv_free(p->cmds[i].prefix[k].alts);
                free(p->cmds[i].prefix);
                free(p->cmds[i].reason);
        }
        free(p->cmds);
        for (size_t i = 0; p->index && i < p->index_cap; i++)
                free(p->index[i].rules);
        free(p->index);
        strv_free(p->deny_write);
        strv_free(p->deny_read);
        strv_free(p->allow_hosts);
        free(p->name);
        free(p);
        return NULL;
}

static void policy_freep(bridle__policy **p)
{
        bridle__policy_free(*p);
}

static void doc_freep(bridle__doc **d)
{
        bridle__doc_free(*d);
}

bridle__policy *bridle__policy_new(const char *name)
{
        bridle__policy *p = bridle__calloc(1, sizeof(*p));
        if (!p)
                return NULL;
        p->name = bridle__strdup(name);
        if (!p->name)
                return bridle__policy_free(p);
        p->set.default_decision = BRIDLE__ASK;
        p->set.safe_commands = true;
        p->set.max_tool_failures = 5;
        static const char *const empty[] = {NULL};
        p->set.deny_write = p->set.deny_read = p->set.allow_hosts = empty;
        return p;
}

/* ---- messages ------------------------------------------------------------------------ */

static struct lc from_pos(const bridle__docpos *ps, bool key)
{
        if (!ps)
                return (struct lc){0, 0};
        return key ? (struct lc){ps->key_line, ps->key_col} : (struct lc){ps->line, ps->col};
}

static struct lc at_value(const struct vctx *c, const json_t *parent, const char *key, size_t i)
{
        return from_pos(bridle__doc_slot(c->doc, parent, key, i), false);
}

static struct lc at_key(const struct vctx *c, const json_t *obj, const char *key)
{
        return from_pos(bridle__doc_slot(c->doc, obj, key, 0), true);
}

static int fail(const struct vctx *c, struct lc where, const char *path, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail(const struct vctx *c, struct lc where, const char *path, const char *fmt, ...)
{
        char msg[sizeof(c->err->msg)];
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (!path || !*path)
                return bridle__doc_err(c->doc, where.line, where.col, c->err, BRIDLE_E_INVALID,
                                       "%s", msg);
        return bridle__doc_err(c->doc, where.line, where.col, c->err, BRIDLE_E_INVALID, "%s: %s",
                               path, msg);
}

static int oom(const struct vctx *c)
{
        return bridle__doc_err(c->doc, 0, 0, c->err, -ENOMEM, "loading policy");
}

#define QUOTE(buf, s) bridle__doc_quote((s), strlen(s), (buf), sizeof(buf))

/* ---- shapes ------------------------------------------------------------------------ */

static bool one_of(const char *s, const char *const *words)
{
        for (; *words; words++)
                if (strcmp(s, *words) == 0)
                        return true;
        return false;
}

static int check_keys(const struct vctx *c, const json_t *obj, const char *path,
                      const char *const *allowed)
{
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)obj, key, v)
        {
                if (one_of(key, allowed))
                        continue;
                char words[200] = "", sub[200], q[64];
                size_t o = 0;
                for (const char *const *w = allowed; *w && o < sizeof(words); w++) {
                        int n = snprintf(words + o, sizeof(words) - o, "%s%s", o ? ", " : "", *w);
                        if (n < 0)
                                break;
                        o += (size_t)n;
                }
                (void)snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", QUOTE(q, key));
                return fail(c, at_key(c, obj, key), sub, "unknown key (expected one of: %s)",
                            words);
        }
        return 0;
}

static int want_type(const struct vctx *c, const json_t *v, struct lc where, const char *path,
                     json_type t, const char *what)
{
        if (json_typeof(v) == t)
                return 0;
        return fail(c, where, path, "expected %s, got %s", what, bridle__json_type_name(v));
}

static int decision(const struct vctx *c, const json_t *v, struct lc where, const char *path,
                    enum bridle__decision *ret)
{
        int r = want_type(c, v, where, path, JSON_STRING, "a decision (allow, ask or deny)");
        if (r < 0)
                return r;
        const char *s = json_string_value(v);
        static const char *const names[] = {"allow", "ask", "deny"};
        for (int i = 0; i < 3; i++)
                if (strcmp(s, names[i]) == 0) {
                        *ret = (enum bridle__decision)i;
                        return 0;
                }
        char q[64];
        return fail(c, where, path, "'%s' is not a decision (expected allow, ask or deny)",
                    QUOTE(q, s));
}

/* A string that is not empty and holds no control characters. */
static int word(const struct vctx *c, const json_t *v, struct lc where, const char *path,
                const char *what, size_t max)
{
        int r = want_type(c, v, where, path, JSON_STRING, what);
        if (r < 0)
                return r;
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (n == 0)
                return fail(c, where, path, "must not be empty");
        if (n > max)
                return fail(c, where, path, "longer than %zu bytes", max);
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return fail(c, where, path, "holds a control character");
        return 0;
}

/* A list of non-empty strings into a NULL-terminated vector. */
static int string_list(const struct vctx *c, const json_t *parent, const char *key,
                       const char *path, size_t max_len, char ***ret)
{
        const json_t *v = json_object_get(parent, key);
        int r = want_type(c, v, at_value(c, parent, key, 0), path, JSON_ARRAY, "a list");
        if (r < 0)
                return r;
        size_t n = json_array_size(v);
        if (n > BRIDLE__POLICY_MAX_RULES)
                return fail(c, at_value(c, parent, key, 0), path, "more than %d entries",
                            BRIDLE__POLICY_MAX_RULES);
        char **out = bridle__calloc(n + 1, sizeof(char *));
        if (!out)
                return oom(c);
        for (size_t i = 0; i < n; i++) {
                char sub[200];
                (void)snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
                r = word(c, json_array_get(v, i), at_value(c, v, NULL, i), sub, "a string",
                         max_len);
                if (r >= 0 && !(out[i] = bridle__strdup(json_string_value(json_array_get(v, i)))))
                        r = oom(c);
                if (r < 0) {
                        strv_free(out);
                        return r;
                }
        }
        *ret = out;
        return 0;
}

/* ---- top-level keys ------------------------------------------------------------------- */

static int load_default(const struct vctx *c, const json_t *top)
{
        const json_t *v = json_object_get(top, "default");
        if (!v)
                return 0;
        c->p->has_default = true;
        return decision(c, v, at_value(c, top, "default", 0), "default",
                        &c->p->set.default_decision);
}

static int tool_cmp(const void *a, const void *b)
{
        return strcmp(((const struct trule *)a)->name, ((const struct trule *)b)->name);
}

static int load_tools(const struct vctx *c, const json_t *top)
{
        const json_t *t = json_object_get(top, "tools");
        if (!t)
                return 0;
        int r = want_type(c, t, at_value(c, top, "tools", 0), "tools", JSON_OBJECT, "a mapping");
        if (r < 0)
                return r;
        size_t n = json_object_size(t);
        if (n > BRIDLE__POLICY_MAX_RULES)
                return fail(c, at_value(c, top, "tools", 0), "tools", "more than %d tools",
                            BRIDLE__POLICY_MAX_RULES);
        c->p->tools = bridle__calloc(n + 1, sizeof(*c->p->tools));
        if (!c->p->tools)
                return oom(c);
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)t, key, v)
        {
                char sub[200], q[64];
                (void)snprintf(sub, sizeof(sub), "tools.%s", QUOTE(q, key));
                struct lc k = at_key(c, t, key);
                if (!*key || strlen(key) > 128 || strpbrk(key, " \t\n\r"))
                        return fail(c, k, sub, "not a tool name");
                struct trule *tr = &c->p->tools[c->p->n_tools];
                r = decision(c, v, at_value(c, t, key, 0), sub, &tr->decision);
                if (r < 0)
                        return r;
                if (!(tr->name = bridle__strdup(key)))
                        return oom(c);
                tr->line = k.line;
                tr->col = k.col;
                c->p->n_tools++;
        }
        qsort(c->p->tools, c->p->n_tools, sizeof(*c->p->tools), tool_cmp);
        return 0;
}

/* One prefix element: a word or a list of alternative words. */
static int load_pelem(const struct vctx *c, const json_t *v, struct lc where, const char *path,
                      struct pelem *e)
{
        if (json_is_string(v)) {
                int r = word(c, v, where, path, "a word", 4096);
                if (r < 0)
                        return r;
                e->alts = bridle__calloc(2, sizeof(char *));
                if (!e->alts || !(e->alts[0] = bridle__strdup(json_string_value(v))))
                        return oom(c);
                e->n = 1;
                return 0;
        }
        if (!json_is_array(v))
                return fail(c, where, path, "expected a word or a list of words, got %s",
                            bridle__json_type_name(v));
        size_t n = json_array_size(v);
        if (n == 0)
                return fail(c, where, path, "an empty list of alternatives");
        if (n > BRIDLE__POLICY_MAX_ALTS)
                return fail(c, where, path, "more than %d alternatives", BRIDLE__POLICY_MAX_ALTS);
        e->alts = bridle__calloc(n + 1, sizeof(char *));
        if (!e->alts)
                return oom(c);
        for (size_t i = 0; i < n; i++) {
                char sub[300];
                (void)snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
                const json_t *a = json_array_get(v, i);
                int r = word(c, a, at_value(c, v, NULL, i), sub, "a word", 4096);
                if (r < 0)
                        return r;
                if (!(e->alts[i] = bridle__strdup(json_string_value(a))))
                        return oom(c);
                e->n++;
        }
        return 0;
}

static void describe_rule(struct crule *cr, size_t idx)
{
        size_t o = (size_t)snprintf(cr->desc, sizeof(cr->desc), "commands[%zu] prefix [", idx);
        for (size_t k = 0; k < cr->n && o < sizeof(cr->desc); k++)
                for (size_t a = 0; a < cr->prefix[k].n && o < sizeof(cr->desc); a++) {
                        int w = snprintf(cr->desc + o, sizeof(cr->desc) - o, "%s%s",
                                         a ? "|" : (k ? " " : ""), cr->prefix[k].alts[a]);
                        if (w < 0)
                                return;
                        o += (size_t)w;
                }
        if (o + 2 <= sizeof(cr->desc))
                (void)snprintf(cr->desc + o, sizeof(cr->desc) - o, "]");
}

static int load_prefix(const struct vctx *c, const json_t *rule, const char *path, struct crule *cr)
{
        const json_t *v = json_object_get(rule, "prefix");
        char sub[200];
        (void)snprintf(sub, sizeof(sub), "%s.prefix", path);
        struct lc where = at_value(c, rule, "prefix", 0);
        int r = want_type(c, v, where, sub, JSON_ARRAY, "a list of words");
        if (r < 0)
                return r;
        size_t n = json_array_size(v);
        if (n == 0)
                return fail(c, where, sub, "must not be empty");
        if (n > BRIDLE__POLICY_MAX_PREFIX)
                return fail(c, where, sub, "more than %d words", BRIDLE__POLICY_MAX_PREFIX);
        cr->prefix = bridle__calloc(n, sizeof(*cr->prefix));
        if (!cr->prefix)
                return oom(c);
        for (size_t i = 0; i < n; i++) {
                char el[256];
                (void)snprintf(el, sizeof(el), "%s[%zu]", sub, i);
                r = load_pelem(c, json_array_get(v, i), at_value(c, v, NULL, i), el,
                               &cr->prefix[i]);
                cr->n = i + 1;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int load_timeout(const struct vctx *c, const json_t *rule, const char *path,
                        struct crule *cr)
{
        const json_t *v = json_object_get(rule, "timeout");
        if (!v)
                return 0;
        char sub[200];
        (void)snprintf(sub, sizeof(sub), "%s.timeout", path);
        struct lc where = at_value(c, rule, "timeout", 0);
        int r = want_type(c, v, where, sub, JSON_INTEGER, "an integer (seconds)");
        if (r < 0)
                return r;
        json_int_t t = json_integer_value(v);
        if (t < 1 || t > BRIDLE__POLICY_MAX_TIMEOUT)
                return fail(c, where, sub, "%lld is out of range (1 to %d seconds)", (long long)t,
                            BRIDLE__POLICY_MAX_TIMEOUT);
        cr->timeout = (unsigned)t;
        return 0;
}

static int load_rule(const struct vctx *c, const json_t *list, size_t i, struct crule *cr)
{
        char path[64];
        (void)snprintf(path, sizeof(path), "commands[%zu]", i);
        const json_t *rule = json_array_get(list, i);
        struct lc where = at_value(c, list, NULL, i);
        int r = want_type(c, rule, where, path, JSON_OBJECT, "a mapping");
        if (r < 0 || (r = check_keys(c, rule, path, rule_keys)) < 0)
                return r;
        if (!json_object_get(rule, "prefix"))
                return fail(c, where, path, "missing required key 'prefix'");
        if (!json_object_get(rule, "decision"))
                return fail(c, where, path, "missing required key 'decision'");
        if ((r = load_prefix(c, rule, path, cr)) < 0)
                return r;
        char sub[200];
        (void)snprintf(sub, sizeof(sub), "%s.decision", path);
        r = decision(c, json_object_get(rule, "decision"), at_value(c, rule, "decision", 0), sub,
                     &cr->decision);
        if (r < 0)
                return r;
        const json_t *reason = json_object_get(rule, "reason");
        if (reason) {
                (void)snprintf(sub, sizeof(sub), "%s.reason", path);
                r = want_type(c, reason, at_value(c, rule, "reason", 0), sub, JSON_STRING,
                              "a string");
                if (r < 0)
                        return r;
                if (!(cr->reason = bridle__strdup(json_string_value(reason))))
                        return oom(c);
        }
        if ((r = load_timeout(c, rule, path, cr)) < 0)
                return r;
        describe_rule(cr, i);
        return 0;
}

static int load_commands(const struct vctx *c, const json_t *top)
{
        const json_t *v = json_object_get(top, "commands");
        if (!v)
                return 0;
        struct lc where = at_value(c, top, "commands", 0);
        int r = want_type(c, v, where, "commands", JSON_ARRAY, "a list");
        if (r < 0)
                return r;
        c->p->cmds_line = where.line;
        c->p->cmds_col = where.col;
        size_t n = json_array_size(v);
        if (n > BRIDLE__POLICY_MAX_RULES)
                return fail(c, where, "commands", "more than %d rules", BRIDLE__POLICY_MAX_RULES);
        c->p->cmds = bridle__calloc(n + 1, sizeof(*c->p->cmds));
        if (!c->p->cmds)
                return oom(c);
        for (size_t i = 0; i < n; i++) {
                c->p->n_cmds = i + 1;
                if ((r = load_rule(c, v, i, &c->p->cmds[i])) < 0)
                        return r;
        }
        return 0;
}

static int load_paths(const struct vctx *c, const json_t *top)
{
        const json_t *v = json_object_get(top, "paths");
        if (!v)
                return 0;
        int r = want_type(c, v, at_value(c, top, "paths", 0), "paths", JSON_OBJECT, "a mapping");
        if (r < 0 || (r = check_keys(c, v, "paths", path_keys)) < 0)
                return r;
        if (json_object_get(v, "deny_write") &&
            (r = string_list(c, v, "deny_write", "paths.deny_write", 4096, &c->p->deny_write)) < 0)
                return r;
        if (json_object_get(v, "deny_read") &&
            (r = string_list(c, v, "deny_read", "paths.deny_read", 4096, &c->p->deny_read)) < 0)
                return r;
        return 0;
}

/* A DNS name, or "*." and one: letters, digits, '-', '.'; lower-cased in place. */
static bool domain_ok(char *s)
{
        char *d = s;
        if (strncmp(d, "*.", 2) == 0)
                d += 2;
        size_t n = strlen(d), label = 0;
        if (n == 0 || n > 253 || d[0] == '.' || d[n - 1] == '.')
                return false;
        for (char *p = d; *p; p++) {
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
                if (*p == '.') {
                        if (label == 0)
                                return false;
                        label = 0;
                } else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                           *p == '_') {
                        if (++label > 63)
                                return false;
                } else {
                        return false;
                }
        }
        return true;
}

static int load_network(const struct vctx *c, const json_t *top)
{
        const json_t *v = json_object_get(top, "network");
        if (!v)
                return 0;
        int r = want_type(c, v, at_value(c, top, "network", 0), "network", JSON_OBJECT,
                          "a mapping");
        if (r < 0 || (r = check_keys(c, v, "network", network_keys)) < 0)
                return r;
        const json_t *mode = json_object_get(v, "mode");
        if (mode) {
                struct lc where = at_value(c, v, "mode", 0);
                if ((r = want_type(c, mode, where, "network.mode", JSON_STRING, "a string")) < 0)
                        return r;
                if (strcmp(json_string_value(mode), "allowlist") == 0)
                        c->p->set.network = BRIDLE__NETWORK_ALLOWLIST;
                else if (strcmp(json_string_value(mode), "none") != 0) {
                        char q[64];
                        return fail(c, where, "network.mode",
                                    "'%s' is not a mode (expected none or allowlist)",
                                    QUOTE(q, json_string_value(mode)));
                }
        }
        if (!json_object_get(v, "allow"))
                return 0;
        const json_t *allow = json_object_get(v, "allow");
        if ((r = string_list(c, v, "allow", "network.allow", 255, &c->p->allow_hosts)) < 0)
                return r;
        for (size_t i = 0; c->p->allow_hosts[i]; i++)
                if (!domain_ok(c->p->allow_hosts[i])) {
                        char sub[64], q[64];
                        (void)snprintf(sub, sizeof(sub), "network.allow[%zu]", i);
                        return fail(c, at_value(c, allow, NULL, i), sub,
                                    "'%s' is not a domain name (or *.domain)",
                                    QUOTE(q, json_string_value(json_array_get(allow, i))));
                }
        return 0;
}

static int load_approvals(const struct vctx *c, const json_t *top)
{
        const json_t *v = json_object_get(top, "approvals");
        if (!v)
                return 0;
        int r = want_type(c, v, at_value(c, top, "approvals", 0), "approvals", JSON_OBJECT,
                          "a mapping");
        if (r < 0 || (r = check_keys(c, v, "approvals", approval_keys)) < 0)
                return r;
        const json_t *mode = json_object_get(v, "mode");
        if (!mode)
                return 0;
        struct lc where = at_value(c, v, "mode", 0);
        if ((r = want_type(c, mode, where, "approvals.mode", JSON_STRING, "a string")) < 0)
                return r;
        if (strcmp(json_string_value(mode), "end") == 0)
                c->p->set.approvals = BRIDLE__APPROVALS_END;
        else if (strcmp(json_string_value(mode), "each") != 0) {
                char q[64];
                return fail(c, where, "approvals.mode", "'%s' is not a mode (expected each or end)",
                            QUOTE(q, json_string_value(mode)));
        }
        return 0;
}

/* recovery: {in_doubt: rerun|ask, max_tool_failures: N, server_lost: continue|stop}
 * (docs/durability.md, docs/mcp.md). */
static int load_recovery(const struct vctx *c, const json_t *top)
{
        const json_t *v = json_object_get(top, "recovery");
        if (!v)
                return 0;
        int r = want_type(c, v, at_value(c, top, "recovery", 0), "recovery", JSON_OBJECT,
                          "a mapping");
        if (r < 0 || (r = check_keys(c, v, "recovery", recovery_keys)) < 0)
                return r;
        const json_t *d = json_object_get(v, "in_doubt");
        if (d) {
                struct lc where = at_value(c, v, "in_doubt", 0);
                if ((r = want_type(c, d, where, "recovery.in_doubt", JSON_STRING, "a string")) < 0)
                        return r;
                if (strcmp(json_string_value(d), "ask") == 0)
                        c->p->set.in_doubt = BRIDLE__IN_DOUBT_ASK;
                else if (strcmp(json_string_value(d), "rerun") == 0)
                        c->p->set.in_doubt = BRIDLE__IN_DOUBT_RERUN;
                else {
                        char q[64];
                        return fail(c, where, "recovery.in_doubt",
                                    "'%s' is not a choice (expected rerun or ask)",
                                    QUOTE(q, json_string_value(d)));
                }
        }
        const json_t *m = json_object_get(v, "max_tool_failures");
        if (m) {
                struct lc where = at_value(c, v, "max_tool_failures", 0);
                if (!json_is_integer(m) || json_integer_value(m) < 0 ||
                    json_integer_value(m) > 1000000)
                        return fail(c, where, "recovery.max_tool_failures",
                                    "expected a number from 0 (never stop) to 1000000");
                c->p->set.max_tool_failures = (unsigned)json_integer_value(m);
        }
        const json_t *sl = json_object_get(v, "server_lost");
        if (sl) {
                struct lc where = at_value(c, v, "server_lost", 0);
                if ((r = want_type(c, sl, where, "recovery.server_lost", JSON_STRING, "a string")) < 0)
                        return r;
                if (strcmp(json_string_value(sl), "stop") == 0)
                        c->p->set.server_lost = BRIDLE__SERVER_LOST_STOP;
                else if (strcmp(json_string_value(sl), "continue") == 0)
                        c->p->set.server_lost = BRIDLE__SERVER_LOST_CONTINUE;
                else {
                        char q[64];
                        return fail(c, where, "recovery.server_lost",
                                    "'%s' is not a choice (expected continue or stop)",
                                    QUOTE(q, json_string_value(sl)));
                }
        }
        return 0;
}

static int load_flags(const struct vctx *c, const json_t *top)
{
        const json_t *v = json_object_get(top, "stop_on_deny");
        if (v) {
                struct lc where = at_value(c, top, "stop_on_deny", 0);
                if (json_is_boolean(v))
                        c->p->set.stop_on_deny = json_is_true(v) ? 1 : 0;
                else if (!json_is_integer(v))
                        return fail(c, where, "stop_on_deny",
                                    "expected true, false or a number of denials, got %s",
                                    bridle__json_type_name(v));
                else if (json_integer_value(v) < 0 || json_integer_value(v) > 1000000)
                        return fail(c, where, "stop_on_deny", "%lld is out of range (0 to 1000000)",
                                    (long long)json_integer_value(v));
                else
                        c->p->set.stop_on_deny = (unsigned)json_integer_value(v);
        }
        v = json_object_get(top, "safe_commands");
        if (v) {
                int r = want_type(c, v, at_value(c, top, "safe_commands", 0), "safe_commands",
                                  json_is_true(v) ? JSON_TRUE : JSON_FALSE, "true or false");
                if (r < 0)
                        return r;
                c->p->set.safe_commands = json_is_true(v);
        }
        return 0;
}

static void finish_settings(bridle__policy *p)
{
        size_t n = 0;
        if (p->deny_write) {
                for (n = 0; p->deny_write[n]; n++)
                        ;
                p->set.deny_write = (const char *const *)p->deny_write;
                p->set.n_deny_write = n;
        }
        if (p->deny_read) {
                for (n = 0; p->deny_read[n]; n++)
                        ;
                p->set.deny_read = (const char *const *)p->deny_read;
                p->set.n_deny_read = n;
        }
        if (p->allow_hosts) {
                for (n = 0; p->allow_hosts[n]; n++)
                        ;
                p->set.allow_hosts = (const char *const *)p->allow_hosts;
                p->set.n_allow_hosts = n;
        }
}

static int load_doc(const bridle__doc *doc, bridle__policy *p, bridle_error *err)
{
        struct vctx c = {.doc = doc, .err = err, .p = p};
        const json_t *top = bridle__doc_root(doc);
        if (json_is_null(top))
                return 0; /* an empty file: every key at its default */
        int r = want_type(&c, top, at_value(&c, NULL, NULL, 0), "", JSON_OBJECT, "a mapping");
        if (r < 0 || (r = check_keys(&c, top, "", top_keys)) < 0)
                return r;
        if ((r = load_default(&c, top)) < 0 || (r = load_tools(&c, top)) < 0 ||
            (r = load_commands(&c, top)) < 0 || (r = load_paths(&c, top)) < 0 ||
            (r = load_network(&c, top)) < 0 || (r = load_approvals(&c, top)) < 0 ||
            (r = load_flags(&c, top)) < 0 || (r = load_recovery(&c, top)) < 0)
                return r;
        finish_settings(p);
        if (bridle__policy_index(p) < 0)
                return oom(&c);
        return 0;
}

int bridle__policy_parse(const char *data, size_t len, const char *name, bridle__policy **ret,
                         bridle_error *err)
{
        if (!data || !ret)
                return bridle__err(err, -EINVAL, "policy: no input");
        _cleanup_(doc_freep) bridle__doc *doc = NULL;
        int r = bridle__doc_load(data, len, name, &doc, err);
        if (r < 0)
                return r;
        _cleanup_(policy_freep) bridle__policy *p = bridle__policy_new(bridle__doc_name(doc));
        if (!p)
                return bridle__err(err, -ENOMEM, "loading policy");
        r = load_doc(doc, p, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

int bridle__policy_load(const char *path, bridle__policy **ret, bridle_error *err)
{
        if (!path || !ret)
                return bridle__err(err, -EINVAL, "policy: no file");
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = bridle__read_file(AT_FDCWD, path, BRIDLE__DOC_MAX_SIZE, &data, &len);
        if (r == -EFBIG || r == -E2BIG)
                return bridle__err(err, BRIDLE_E_LIMIT, "%s: larger than %zu bytes", path,
                                   BRIDLE__DOC_MAX_SIZE);
        if (r < 0)
                return bridle__err(err, r, "%s", path);
        return bridle__policy_parse(data, len, path, ret, err);
}

/* ---- the built-in default ------------------------------------------------------------------ */

bridle__policy *bridle__policy_default(void)
{
        static const char text[] = "{\"default\":\"ask\",\"tools\":{\"read_file\":\"allow\","
                                   "\"list_dir\":\"allow\",\"search\":\"allow\","
                                   "\"load_skill\":\"allow\"}}";
        bridle__policy *p = NULL;
        if (bridle__policy_parse(text, sizeof(text) - 1, "built-in", &p, NULL) < 0)
                return NULL;
        return p;
}

const char *bridle__policy_name(const bridle__policy *p)
{
        return p ? p->name : NULL;
}

const bridle__policy_settings *bridle__policy_settings_get(const bridle__policy *p)
{
        return p ? &p->set : NULL;
}

const char *bridle__decision_name(enum bridle__decision d)
{
        switch (d) {
        case BRIDLE__ALLOW:
                return "allow";
        case BRIDLE__ASK:
                return "ask";
        case BRIDLE__DENY:
                return "deny";
        default:
                return "?";
        }
}
