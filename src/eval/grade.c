/* SPDX-License-Identifier: MIT */
/*
 * Grading one run: its figures (turns, calls, repeated calls, blocked calls,
 * cost) from its events, and the task's checks against the events and the
 * files of the run's sandbox (read through a hook).
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "util/alloc.h"
#include "util/error.h"

#define SHOW_MAX 160

static const char *ev_type(const json_t *e)
{
        const char *t = json_string_value(json_object_get(e, "type"));
        return t ? t : "";
}

static const json_t *ev_data(const json_t *e)
{
        return json_object_get(e, "data");
}

static const char *dstr(const json_t *e, const char *key)
{
        return json_string_value(json_object_get(ev_data(e), key));
}

/* Was the call with this id refused (tool.finished denied: true)? */
static bool call_denied(const json_t *events, const char *call_id)
{
        size_t i;
        const json_t *e;
        json_array_foreach(events, i, e) {
                if (!strcmp(ev_type(e), "tool.finished") && call_id && dstr(e, "call_id") &&
                    !strcmp(dstr(e, "call_id"), call_id))
                        return json_is_true(json_object_get(ev_data(e), "denied"));
        }
        return false;
}

/* A call item of a response as "name args" (NULL: not a call). */
static char *call_key(const json_t *item)
{
        const char *type = json_string_value(json_object_get(item, "type"));
        if (!type)
                return NULL;
        const json_t *what = NULL;
        const char *name = type;
        if (!strcmp(type, "function_call")) {
                name = json_string_value(json_object_get(item, "name"));
                what = json_object_get(item, "arguments");
        } else if (!strcmp(type, "shell_call")) {
                what = json_object_get(json_object_get(item, "action"), "commands");
        } else if (!strcmp(type, "apply_patch_call")) {
                what = json_object_get(item, "operation");
        } else {
                return NULL;
        }
        _cleanup_free_ char *args = json_is_string(what) ? bridle__strdup(json_string_value(what))
                                                         : json_dumps(what ? what : json_null(), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        if (!args)
                return NULL;
        size_t n = strlen(name ? name : "") + strlen(args) + 2;
        char *k = bridle__malloc(n);
        if (k)
                (void)snprintf(k, n, "%s %s", name ? name : "", args);
        return k;
}

/* Calls the model asked for (each item of each response), and the repeated ones. */
static void count_calls(const json_t *events, eval_metrics *m)
{
        _cleanup_evjson_ json_t *seen = json_object();
        size_t i, k;
        const json_t *e, *item;
        json_array_foreach(events, i, e) {
                const char *t = ev_type(e);
                if (!strcmp(t, "tool.finished") && json_is_true(json_object_get(ev_data(e), "denied")))
                        m->blocked++;
                else if (!strcmp(t, "guardrail.tripped"))
                        m->violations++;
                if (strcmp(t, "model.response") != 0)
                        continue;
                json_array_foreach(json_object_get(ev_data(e), "output"), k, item) {
                        _cleanup_free_ char *key = call_key(item);
                        if (!key)
                                continue;
                        m->calls++;
                        if (json_object_get(seen, key))
                                m->repeated_calls++;
                        else if (seen)
                                (void)json_object_set_new(seen, key, json_true());
                }
        }
}

int bridle__eval_metrics(const json_t *events, eval_metrics *m)
{
        *m = (eval_metrics){0};
        (void)snprintf(m->status, sizeof(m->status), "%s", "none");
        if (!json_is_array(events))
                return -EINVAL;
        size_t i;
        const json_t *e;
        json_array_foreach(events, i, e) {
                const char *t = ev_type(e);
                const json_t *d = ev_data(e);
                if (!strcmp(t, "model.response")) {
                        m->turns++;
                        m->cost_usd += json_number_value(json_object_get(d, "cost_usd"));
                        const json_t *u = json_object_get(d, "usage");
                        m->tokens += json_integer_value(json_object_get(u, "input_tokens")) +
                                     json_integer_value(json_object_get(u, "output_tokens"));
                } else if (!strcmp(t, "run.status") && dstr(e, "status")) {
                        (void)snprintf(m->status, sizeof(m->status), "%s", dstr(e, "status"));
                        m->final_output = dstr(e, "final_output");
                } else if (!strcmp(t, "sandbox.created") && dstr(e, "sandbox_id")) {
                        m->sandbox_id = dstr(e, "sandbox_id");
                }
        }
        count_calls(events, m);
        return 0;
}

/* ---- checks ---------------------------------------------------------- */

static char *shown(const char *s)
{
        if (!s)
                return bridle__strdup("(none)");
        size_t n = strlen(s);
        if (n <= SHOW_MAX)
                return bridle__strdup(s);
        char *o = bridle__malloc(SHOW_MAX + 4);
        if (o) {
                memcpy(o, s, SHOW_MAX);
                memcpy(o + SHOW_MAX, "...", 4);
        }
        return o;
}

int bridle__eval_grade_add(eval_grade *g, const char *what, bool ok, const char *expected, const char *got)
{
        if (g->n_checks == g->cap) {
                size_t cap = g->cap ? g->cap * 2 : 8;
                eval_check *nv = bridle__realloc(g->checks, cap * sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                g->checks = nv;
                g->cap = cap;
        }
        eval_check *c = &g->checks[g->n_checks];
        *c = (eval_check){.what = bridle__strdup(what), .ok = ok, .expected = shown(expected), .got = shown(got)};
        if (!c->what || !c->expected || !c->got) {
                free(c->what);
                free(c->expected);
                free(c->got);
                return -ENOMEM;
        }
        g->n_checks++;
        return 0;
}

void bridle__eval_grade_release(eval_grade *g)
{
        for (size_t i = 0; g->checks && i < g->n_checks; i++) {
                free(g->checks[i].what);
                free(g->checks[i].expected);
                free(g->checks[i].got);
        }
        free(g->checks);
        *g = (eval_grade){0};
}

bool bridle__eval_flag_match(const eval_flag *f, const char *text)
{
        if (!text)
                return false;
        if (f->kind == EVAL_FLAG_TEXT)
                return strstr(text, f->text) != NULL;
        regex_t re;
        if (regcomp(&re, f->text, REG_EXTENDED | REG_NOSUB | (f->icase ? REG_ICASE : 0)) != 0)
                return false;
        bool ok = regexec(&re, text, 0, NULL, 0) == 0;
        regfree(&re);
        return ok;
}

/* Does one command line (pieces split at && || ; |) start with prefix? */
static bool cmdline_has(const char *cmd, const char *prefix)
{
        size_t plen = strlen(prefix);
        const char *p = cmd;
        for (unsigned guard = 0; p && *p && guard < 4096; guard++) {
                while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '(')
                        p++;
                if (!strncmp(p, prefix, plen))
                        return true;
                p = strpbrk(p, "&|;\n");
                while (p && (*p == '&' || *p == '|' || *p == ';' || *p == '\n'))
                        p++;
        }
        return false;
}

/* An argv list, joined with spaces. */
static bool argv_has(const json_t *v, const char *prefix)
{
        char buf[4096] = "";
        size_t n = 0, i;
        const json_t *c;
        json_array_foreach(v, i, c) {
                int w = snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "",
                                 json_string_value(c) ? json_string_value(c) : "");
                if (w < 0 || (size_t)w >= sizeof(buf) - n)
                        break;
                n += (size_t)w;
        }
        return cmdline_has(buf, prefix);
}

/* The command lines of a tool call's arguments: cmd, commands, command. */
static bool call_ran(const char *args_text, const char *prefix)
{
        _cleanup_evjson_ json_t *a = json_loads(args_text ? args_text : "", 0, NULL);
        if (!json_is_object(a))
                return false;
        const json_t *v = json_object_get(a, "cmd");
        if (json_is_string(v) && cmdline_has(json_string_value(v), prefix))
                return true;
        v = json_object_get(a, "commands");
        if (!v)
                v = json_object_get(json_object_get(a, "action"), "commands");
        size_t i;
        const json_t *c;
        json_array_foreach(v, i, c) {
                if (json_is_string(c) && cmdline_has(json_string_value(c), prefix))
                        return true;
        }
        v = json_object_get(a, "command");
        if (json_is_string(v))
                return cmdline_has(json_string_value(v), prefix);
        return json_is_array(v) && argv_has(v, prefix);
}

static int check_must_run(const eval_task *t, const json_t *events, eval_grade *g)
{
        for (size_t k = 0; k < t->n_must_run; k++) {
                bool found = false;
                size_t i;
                const json_t *e;
                json_array_foreach(events, i, e) {
                        if (found)
                                break;
                        if (strcmp(ev_type(e), "tool.started") != 0 || call_denied(events, dstr(e, "call_id")))
                                continue;
                        found = call_ran(dstr(e, "arguments"), t->must_run[k]);
                }
                char what[300];
                (void)snprintf(what, sizeof(what), "must_run[%zu]", k);
                int r = bridle__eval_grade_add(g, what, found, t->must_run[k], found ? "run" : "not run");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_flags(const eval_task *t, const char *out, eval_grade *g)
{
        for (size_t k = 0; k < t->n_must_flag; k++) {
                bool ok = bridle__eval_flag_match(&t->must_flag[k], out);
                char what[64], exp[SHOW_MAX + 32];
                (void)snprintf(what, sizeof(what), "must_flag[%zu]", k);
                (void)snprintf(exp, sizeof(exp), "%s%.*s%s", t->must_flag[k].kind == EVAL_FLAG_REGEX ? "/" : "",
                               SHOW_MAX, t->must_flag[k].text, t->must_flag[k].kind == EVAL_FLAG_REGEX ? "/" : "");
                int r = bridle__eval_grade_add(g, what, ok, exp, out ? out : "(no final output)");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_files(const eval_task *t, eval_read_fn read, void *ud, eval_grade *g)
{
        for (size_t k = 0; k < t->n_files; k++) {
                const eval_file_check *f = &t->files[k];
                _cleanup_free_ char *data = NULL;
                size_t len = 0;
                int rr = read ? read(ud, f->path, &data, &len) : -ENOENT;
                bool exists = rr >= 0;
                char what[PATH_MAX];
                int r = 0;
                if (f->exists >= 0) {
                        (void)snprintf(what, sizeof(what), "files.%s.exists", f->path);
                        r = bridle__eval_grade_add(g, what, exists == (f->exists == 1), f->exists ? "exists" : "absent",
                                                   exists ? "exists" : rr == -ENOENT ? "absent" : strerror(-rr));
                }
                if (r == 0 && f->contains) {
                        (void)snprintf(what, sizeof(what), "files.%s.contains", f->path);
                        bool ok = exists && memmem(data, len, f->contains, strlen(f->contains)) != NULL;
                        r = bridle__eval_grade_add(g, what, ok, f->contains, exists ? data : "(no such file)");
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* How many before-files differ now; the first one said in first. */
static unsigned count_changed(const eval_before *b, size_t nb, eval_read_fn read, void *ud, char *first,
                              size_t first_size)
{
        unsigned changed = 0;
        for (size_t i = 0; read && i < nb; i++) {
                _cleanup_free_ char *data = NULL;
                size_t len = 0;
                bool exists = read(ud, b[i].path, &data, &len) >= 0;
                bool same = exists == b[i].exists && (!exists || (len == b[i].len && !memcmp(data, b[i].data, len)));
                if (!same && changed++ == 0)
                        (void)snprintf(first, first_size, "%s %s", b[i].path,
                                       !exists ? "deleted" : !b[i].exists ? "created" : "changed");
        }
        return changed;
}

static int check_unmodified(const eval_task *t, const eval_before *b, size_t nb, eval_read_fn read, void *ud,
                            eval_metrics *m, eval_grade *g)
{
        if (t->n_must_not_modify == 0)
                return 0;
        char first[PATH_MAX] = "";
        unsigned changed = count_changed(b, nb, read, ud, first, sizeof(first));
        m->violations += changed;
        char exp[SHOW_MAX + 1] = "", got[PATH_MAX + 64];
        size_t n = 0;
        for (size_t k = 0; k < t->n_must_not_modify && n < sizeof(exp) - 1; k++) {
                int w = snprintf(exp + n, sizeof(exp) - n, "%s%s", k ? ", " : "", t->must_not_modify[k]);
                if (w < 0)
                        break;
                n += (size_t)w;
        }
        if (changed)
                (void)snprintf(got, sizeof(got), "%u modified: %s", changed, first);
        else
                (void)snprintf(got, sizeof(got), "%s", read ? "unchanged" : "unchanged (no sandbox was made)");
        return bridle__eval_grade_add(g, "must_not_modify", changed == 0, exp, got);
}

static int check_limits(const eval_task *t, const eval_metrics *m, eval_grade *g)
{
        char exp[64], got[64];
        int r = 0;
        if (t->max_cost >= 0) {
                (void)snprintf(exp, sizeof(exp), "<= $%.4f", t->max_cost);
                (void)snprintf(got, sizeof(got), "$%.4f", m->cost_usd);
                r = bridle__eval_grade_add(g, "max_cost", m->cost_usd <= t->max_cost + 1e-12, exp, got);
        }
        if (r == 0 && t->max_turns >= 0) {
                (void)snprintf(exp, sizeof(exp), "<= %ld", t->max_turns);
                (void)snprintf(got, sizeof(got), "%u", m->turns);
                r = bridle__eval_grade_add(g, "max_turns", (long)m->turns <= t->max_turns, exp, got);
        }
        return r;
}

int bridle__eval_grade(const eval_task *t, const json_t *events, eval_metrics *m, const eval_before *before,
                       size_t n_before, eval_read_fn read, void *read_ud, eval_grade *g)
{
        const char *want = t->expect_status ? t->expect_status : "completed";
        int r = bridle__eval_grade_add(g, "status", !strcmp(m->status, want), want, m->status);
        if (r < 0 || (r = check_must_run(t, events, g)) < 0 ||
            (r = check_unmodified(t, before, n_before, read, read_ud, m, g)) < 0 ||
            (r = check_flags(t, m->final_output, g)) < 0 || (r = check_files(t, read, read_ud, g)) < 0)
                return r;
        return check_limits(t, m, g);
}
