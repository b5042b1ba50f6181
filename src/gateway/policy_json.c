/* SPDX-License-Identifier: MIT */
/*
 * A loaded policy as canonical JSON and back (what run.started records), the
 * first-word index, tool lookups, warnings about rules an agent cannot use,
 * and the network allowlist.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/policy_internal.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

/* ---- to JSON ---------------------------------------------------------------------------- */

static json_t *strv_json(const char *const *v, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_string(v[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static json_t *rule_json(const struct crule *cr)
{
        json_t *prefix = json_array();
        for (size_t k = 0; prefix && k < cr->n; k++) {
                const struct pelem *e = &cr->prefix[k];
                json_t *el = e->n == 1 ? json_string(e->alts[0])
                                       : strv_json((const char *const *)e->alts, e->n);
                if (json_array_append_new(prefix, el) < 0) {
                        json_decref(prefix);
                        return NULL;
                }
        }
        json_t *r = json_pack("{s:o?,s:s}", "prefix", prefix, "decision",
                              bridle__decision_name(cr->decision));
        if (r && cr->reason && json_object_set_new(r, "reason", json_string(cr->reason)) < 0)
                r = (json_decref(r), NULL);
        if (r && cr->timeout && json_object_set_new(r, "timeout", json_integer(cr->timeout)) < 0)
                r = (json_decref(r), NULL);
        return r;
}

json_t *bridle__policy_to_json(const bridle__policy *p)
{
        if (!p)
                return NULL;
        json_t *tools = json_object(), *cmds = json_array();
        for (size_t i = 0; tools && i < p->n_tools; i++)
                if (json_object_set_new(tools, p->tools[i].name,
                                        json_string(bridle__decision_name(p->tools[i].decision))) <
                    0)
                        tools = (json_decref(tools), NULL);
        for (size_t i = 0; cmds && i < p->n_cmds; i++)
                if (json_array_append_new(cmds, rule_json(&p->cmds[i])) < 0)
                        cmds = (json_decref(cmds), NULL);
        const bridle__policy_settings *s = &p->set;
        json_t *j =
                json_pack("{s:s,s:o?,s:o?,s:{s:o?,s:o?},s:{s:s,s:o?},s:{s:s},s:I,s:b,s:{s:s,s:I,s:s}}", "default",
                          bridle__decision_name(s->default_decision), "tools", tools, "commands",
                          cmds, "paths", "deny_write", strv_json(s->deny_write, s->n_deny_write),
                          "deny_read", strv_json(s->deny_read, s->n_deny_read), "network", "mode",
                          s->network == BRIDLE__NETWORK_ALLOWLIST ? "allowlist" : "none", "allow",
                          strv_json(s->allow_hosts, s->n_allow_hosts), "approvals", "mode",
                          s->approvals == BRIDLE__APPROVALS_END ? "end" : "each", "stop_on_deny",
                          (json_int_t)s->stop_on_deny, "safe_commands", (int)s->safe_commands,
                          "recovery", "in_doubt", s->in_doubt == BRIDLE__IN_DOUBT_ASK ? "ask" : "rerun",
                          "max_tool_failures", (json_int_t)s->max_tool_failures, "server_lost",
                          s->server_lost == BRIDLE__SERVER_LOST_STOP ? "stop" : "continue");
        if (!j)
                return NULL;
        /* json_pack's o? turns a NULL (failed) member into null: that is ENOMEM here. */
        const char *key;
        json_t *v;
        json_object_foreach(j, key, v) if (json_is_null(v))
        {
                json_decref(j);
                return NULL;
        }
        json_t *paths = json_object_get(j, "paths"), *net = json_object_get(j, "network");
        if (json_is_null(json_object_get(paths, "deny_write")) ||
            json_is_null(json_object_get(paths, "deny_read")) ||
            json_is_null(json_object_get(net, "allow"))) {
                json_decref(j);
                return NULL;
        }
        return j;
}

int bridle__policy_from_json(const json_t *j, bridle__policy **ret, bridle_error *err)
{
        if (!j || !ret)
                return bridle__err(err, -EINVAL, "recorded policy: missing");
        _cleanup_free_ char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        if (!text)
                return bridle__err(err, -ENOMEM, "recorded policy");
        return bridle__policy_parse(text, strlen(text), "recorded policy", ret, err);
}

/* ---- the index on first words ------------------------------------------------------------ */

static size_t hash_str(const char *s)
{
        size_t h = 1469598103934665603ULL;
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

static struct bucket *slot(const bridle__policy *p, const char *key)
{
        size_t mask = p->index_cap - 1;
        for (size_t i = hash_str(key) & mask;; i = (i + 1) & mask) {
                struct bucket *b = &p->index[i];
                if (!b->key || strcmp(b->key, key) == 0)
                        return b;
        }
}

const size_t *bridle__policy_rules_for(const bridle__policy *p, const char *word, size_t *n)
{
        *n = 0;
        if (!p->index_cap)
                return NULL;
        const struct bucket *b = slot(p, word);
        if (!b->key)
                return NULL;
        *n = b->n;
        return b->rules;
}

static int index_add(bridle__policy *p, const char *key, size_t rule)
{
        struct bucket *b = slot(p, key);
        if (b->n > 0 && b->rules[b->n - 1] == rule)
                return 0; /* [x, x] alternatives */
        size_t *r = bridle__realloc(b->rules, (b->n + 1) * sizeof(size_t));
        if (!r)
                return -ENOMEM;
        b->rules = r;
        b->rules[b->n++] = rule;
        b->key = key;
        return 0;
}

int bridle__policy_index(bridle__policy *p)
{
        size_t words = 0;
        for (size_t i = 0; i < p->n_cmds; i++)
                words += p->cmds[i].prefix[0].n;
        if (words == 0)
                return 0;
        size_t cap = 16;
        while (cap < words * 2)
                cap *= 2;
        p->index = bridle__calloc(cap, sizeof(*p->index));
        if (!p->index)
                return -ENOMEM;
        p->index_cap = cap;
        for (size_t i = 0; i < p->n_cmds; i++)
                for (size_t a = 0; a < p->cmds[i].prefix[0].n; a++)
                        if (index_add(p, p->cmds[i].prefix[0].alts[a], i) < 0)
                                return -ENOMEM;
        return 0;
}

static int tool_key_cmp(const void *key, const void *el)
{
        return strcmp(key, ((const struct trule *)el)->name);
}

const struct trule *bridle__policy_tool(const bridle__policy *p, const char *name)
{
        if (!p->n_tools || !name)
                return NULL;
        const struct trule *t = bsearch(name, p->tools, p->n_tools, sizeof(*p->tools), tool_key_cmp);
        /* An MCP server's tool (<server>__<tool>): a rule for the whole server. */
        const char *sep = t ? NULL : strstr(name, "__");
        if (sep && sep > name) {
                char pat[200];
                (void)snprintf(pat, sizeof(pat), "%.*s__*", (int)(sep - name), name);
                t = bsearch(pat, p->tools, p->n_tools, sizeof(*p->tools), tool_key_cmp);
        }
        return t;
}

/* ---- warnings -------------------------------------------------------------------------- */

char **bridle__policy_warnings_free(char **w)
{
        for (size_t i = 0; w && w[i]; i++)
                free(w[i]);
        free(w);
        return NULL;
}

static bool has_tool(const char *const *tools, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++) {
                if (!tools[i])
                        continue;
                if (strcmp(tools[i], name) == 0)
                        return true;
                /* "<server>__*": an MCP server's tools, known only once it runs */
                size_t l = strlen(tools[i]);
                if (l > 3 && strcmp(tools[i] + l - 3, "__*") == 0 && strncmp(name, tools[i], l - 1) == 0)
                        return true;
        }
        return false;
}

static int add_warning(char ***v, size_t *n, const bridle__policy *p, int line, int col,
                       const char *text)
{
        char msg[600];
        if (line > 0)
                (void)snprintf(msg, sizeof(msg), "%s:%d:%d: %s", p->name, line, col, text);
        else
                (void)snprintf(msg, sizeof(msg), "%s: %s", p->name, text);
        char **nv = bridle__realloc(*v, (*n + 2) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        *v = nv;
        if (!(nv[*n] = bridle__strdup(msg)))
                return -ENOMEM;
        nv[++*n] = NULL;
        return 0;
}

int bridle__policy_check_tools(const bridle__policy *p, const char *const *tools, size_t n_tools,
                               char ***ret, bridle_error *err)
{
        if (!p || !ret)
                return bridle__err(err, -EINVAL, "policy: no policy");
        char **v = bridle__calloc(1, sizeof(char *));
        size_t n = 0;
        int r = v ? 0 : -ENOMEM;
        for (size_t i = 0; r == 0 && i < p->n_tools; i++)
                if (!has_tool(tools, n_tools, p->tools[i].name)) {
                        char text[300];
                        (void)snprintf(text, sizeof(text),
                                       "tools.%s: a rule for a tool the agent does not have",
                                       p->tools[i].name);
                        r = add_warning(&v, &n, p, p->tools[i].line, p->tools[i].col, text);
                }
        if (r == 0 && p->n_cmds > 0 && !has_tool(tools, n_tools, "exec_command") &&
            !has_tool(tools, n_tools, "shell"))
                r = add_warning(&v, &n, p, p->cmds_line, p->cmds_col,
                                "commands: rules for commands, but the agent has neither "
                                "exec_command nor shell");
        if (r < 0) {
                bridle__policy_warnings_free(v);
                return bridle__err(err, r, "checking policy");
        }
        *ret = v;
        return (int)n;
}

/* ---- network ------------------------------------------------------------------------------ */

bool bridle__policy_host_allowed(const bridle__policy *p, const char *host)
{
        if (!p || !host || p->set.network != BRIDLE__NETWORK_ALLOWLIST)
                return false;
        char h[256];
        size_t n = strlen(host);
        if (n == 0 || n >= sizeof(h))
                return false;
        for (size_t i = 0; i <= n; i++) {
                h[i] = host[i];
                if (h[i] >= 'A' && h[i] <= 'Z')
                        h[i] = "abcdefghijklmnopqrstuvwxyz"[h[i] - 'A'];
        }
        if (h[n - 1] == '.')
                h[--n] = '\0'; /* the root dot */
        for (size_t i = 0; i < p->set.n_allow_hosts; i++) {
                const char *a = p->set.allow_hosts[i];
                if (strncmp(a, "*.", 2) == 0) {
                        size_t m = strlen(a + 1); /* ".domain" */
                        if (n > m && strcmp(h + n - m, a + 1) == 0)
                                return true;
                } else if (strcmp(a, h) == 0) {
                        return true;
                }
        }
        return false;
}
