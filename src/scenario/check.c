/* SPDX-License-Identifier: MIT */
/*
 * A scenario's expectations against its run: the calls of the model's
 * responses joined with their gateway decisions and results, the run's end
 * and final output, and files read through the run's sandbox.
 */
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridle/sandbox.h"
#include "scenario/internal.h"
#include "util/alloc.h"

#define SHOW_MAX 2000 /* bytes of a value shown in a diff */

/* ---- checks ----------------------------------------------------------------- */

static char *show(const char *s, size_t len)
{
        if (len <= SHOW_MAX)
                return bridle__strndup(s, len);
        char *out = NULL;
        if (asprintf(&out, "%.*s... (%zu bytes in all)", SHOW_MAX, s, len) < 0)
                return NULL;
        return out;
}

static int add(bridle_scenario_result *ret, bool ok, const char *expected, const char *got, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
static int add(bridle_scenario_result *ret, bool ok, const char *expected, const char *got, const char *fmt, ...)
{
        bridle_scenario_check *v = bridle__realloc(ret->checks, (ret->n_checks + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        ret->checks = v;
        bridle_scenario_check *c = &v[ret->n_checks];
        *c = (bridle_scenario_check){.ok = ok};
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&c->what, fmt, ap);
        va_end(ap);
        c->expected = show(expected, strlen(expected));
        c->got = show(got, strlen(got));
        if (n < 0 || !c->expected || !c->got) {
                if (n < 0)
                        c->what = NULL;
                free(c->what);
                free(c->expected);
                free(c->got);
                return -ENOMEM;
        }
        ret->n_checks++;
        return 0;
}

static char *dump(const json_t *v)
{
        if (json_is_string(v))
                return bridle__strdup(json_string_value(v));
        return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
}

/* ---- the run's calls ---------------------------------------------------------- */

static const json_t *ev_data(const json_t *e)
{
        return json_object_get(e, "data");
}

static bool ev_is(const json_t *e, const char *type)
{
        const char *t = json_string_value(json_object_get(e, "type"));
        return t && !strcmp(t, type);
}

static const char *call_name(const json_t *item)
{
        const char *type = json_string_value(json_object_get(item, "type"));
        if (type && !strcmp(type, "shell_call"))
                return "shell";
        if (type && !strcmp(type, "apply_patch_call"))
                return "apply_patch";
        return json_string_value(json_object_get(item, "name")) ?: (type ? type : "");
}

static json_t *call_args(const json_t *item)
{
        const json_t *a = json_object_get(item, "arguments");
        if (json_is_string(a)) {
                json_t *p = json_loads(json_string_value(a), JSON_DECODE_ANY, NULL);
                return p ? p : json_incref((json_t *)a);
        }
        if (!a)
                a = json_object_get(item, "action") ?: json_object_get(item, "operation");
        return a ? json_incref((json_t *)a) : json_object();
}

static bool is_call(const json_t *item)
{
        const char *type = json_string_value(json_object_get(item, "type"));
        size_t n = type ? strlen(type) : 0;
        return n > 5 && !strcmp(type + n - 5, "_call") && json_object_get(item, "call_id");
}

static int add_calls_of(json_t *calls, const json_t *output)
{
        size_t i;
        const json_t *item;
        json_array_foreach(output, i, item) {
                if (!is_call(item))
                        continue;
                json_t *c = json_pack("{s:O,s:s,s:o,s:s}", "call_id", json_object_get(item, "call_id"), "name",
                                      call_name(item), "arguments", call_args(item), "decision", "");
                if (!c || json_array_append_new(calls, c) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static json_t *find_call(const json_t *calls, const json_t *data)
{
        const char *id = json_string_value(json_object_get(data, "call_id"));
        size_t i;
        json_t *c;
        json_array_foreach(calls, i, c) {
                const char *cid = json_string_value(json_object_get(c, "call_id"));
                if (id && cid && !strcmp(id, cid))
                        return c;
        }
        return NULL;
}

/* The calls, in order: {call_id, name, arguments, decision, ok?, approval?}. */
static json_t *run_calls(const json_t *events)
{
        json_t *calls = json_array();
        size_t i;
        const json_t *e;
        json_array_foreach(events, i, e) {
                if (!calls)
                        return NULL;
                const json_t *d = ev_data(e);
                if (ev_is(e, "model.response")) {
                        if (add_calls_of(calls, json_object_get(d, "output")) < 0) {
                                json_decref(calls);
                                return NULL;
                        }
                        continue;
                }
                json_t *c = find_call(calls, d);
                if (!c)
                        continue;
                if (ev_is(e, "gateway.decision"))
                        (void)json_object_set(c, "decision", json_object_get(d, "decision"));
                else if (ev_is(e, "handoff"))
                        (void)json_object_set_new(c, "decision", json_string("allow"));
                else if (ev_is(e, "tool.finished"))
                        (void)json_object_set(c, "ok", json_object_get(d, "ok"));
                else if (ev_is(e, "approval.given"))
                        (void)json_object_set(c, "approval", json_object_get(d, "decision"));
        }
        /* A call with no decision event and a result ran ungated (a handoff
         * answered before its event, or an approval given earlier). */
        json_t *c;
        json_array_foreach(calls, i, c) {
                const char *dec = json_string_value(json_object_get(c, "decision"));
                if (dec && !dec[0] && json_object_get(c, "ok"))
                        (void)json_object_set_new(c, "decision", json_string("allow"));
        }
        return calls;
}

static char *call_line(const json_t *c)
{
        char *args = dump(json_object_get(c, "arguments"));
        const json_t *ok = json_object_get(c, "ok");
        const char *dec = json_string_value(json_object_get(c, "decision"));
        char *out = NULL;
        if (asprintf(&out, "%s %s -> %s%s", json_string_value(json_object_get(c, "name")), args ? args : "?",
                     dec && dec[0] ? dec : "(no decision)",
                     !ok ? ", no result" : json_is_true(ok) ? ", ok" : ", not ok") < 0)
                out = NULL;
        free(args);
        return out;
}

static char *calls_text(const json_t *calls)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return NULL;
        fprintf(f, "%zu call%s", json_array_size(calls), json_array_size(calls) == 1 ? "" : "s");
        size_t i;
        const json_t *c;
        json_array_foreach(calls, i, c) {
                char *l = call_line(c);
                fprintf(f, "\n  [%zu] %s", i, l ? l : "?");
                free(l);
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* Is want a subset of got: objects by their keys, anything else equal. */
static bool subset(const json_t *want, const json_t *got)
{
        if (!json_is_object(want) || !json_is_object(got))
                return json_equal((json_t *)want, (json_t *)got);
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)want, k, v) {
                const json_t *g = json_object_get(got, k);
                if (!g || !subset(v, g))
                        return false;
        }
        return true;
}

static int check_field(bridle_scenario_result *ret, size_t i, const char *field, const json_t *want,
                       const json_t *got, bool ok)
{
        char *w = dump(want), *g = got ? dump(got) : bridle__strdup("(none)");
        int r = (w && g) ? add(ret, ok, w, g, "tool_calls[%zu].%s", i, field) : -ENOMEM;
        free(w);
        free(g);
        return r;
}

static int check_one_call(bridle_scenario_result *ret, size_t i, const json_t *want, const json_t *got)
{
        static const char *const fields[] = {"name", "decision", "ok", "arguments"};
        for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
                const json_t *w = json_object_get(want, fields[f]);
                if (!w)
                        continue;
                const json_t *g = json_object_get(got, fields[f]);
                bool ok = g && (strcmp(fields[f], "arguments") ? json_equal((json_t *)w, (json_t *)g) : subset(w, g));
                int r = check_field(ret, i, fields[f], w, g, ok);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_calls(const json_t *want, const json_t *events, bridle_scenario_result *ret)
{
        _cleanup_jsonp_ json_t *calls = run_calls(events);
        if (!calls)
                return -ENOMEM;
        size_t nw = json_array_size(want), ng = json_array_size(calls);
        char exp[64];
        (void)snprintf(exp, sizeof(exp), "%zu call%s", nw, nw == 1 ? "" : "s");
        char *got = calls_text(calls);
        if (!got)
                return -ENOMEM;
        int r = add(ret, nw == ng, exp, got, "tool_calls");
        free(got);
        for (size_t i = 0; r == 0 && i < nw && i < ng; i++)
                r = check_one_call(ret, i, json_array_get(want, i), json_array_get(calls, i));
        return r;
}

/* ---- final output and status ---------------------------------------------------- */

static const json_t *last_status(const json_t *events)
{
        const json_t *st = NULL;
        size_t i;
        const json_t *e;
        json_array_foreach(events, i, e)
                if (ev_is(e, "run.status"))
                        st = ev_data(e);
        return st;
}

static bool regex_match(const char *re, const char *text)
{
        regex_t rx;
        if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
                return false;
        bool ok = regexec(&rx, text, 0, NULL, 0) == 0;
        regfree(&rx);
        return ok;
}

static int check_text(bridle_scenario_result *ret, const char *what, const json_t *want, const char *text,
                      bool have)
{
        if (json_is_string(want))
                return add(ret, have && !strcmp(text, json_string_value(want)), json_string_value(want),
                           have ? text : "(none)", "%s.equals", what);
        static const char *const keys[] = {"contains", "equals", "matches"};
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
                const char *w = json_string_value(json_object_get(want, keys[k]));
                if (!w)
                        continue;
                bool ok = have && (k == 0   ? strstr(text, w) != NULL
                                   : k == 1 ? !strcmp(text, w)
                                            : regex_match(w, text));
                int r = add(ret, ok, w, have ? text : "(none)", "%s.%s", what, keys[k]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_final(const json_t *want, const json_t *events, bridle_scenario_result *ret)
{
        const json_t *st = last_status(events);
        const char *status = json_string_value(json_object_get(st, "status"));
        const char *fo = json_string_value(json_object_get(st, "final_output"));
        if (fo || (status && !strcmp(status, "completed")))
                return check_text(ret, "final_output", want, fo ? fo : "", true);
        return check_text(ret, "final_output", want, "", false);
}

/* ---- files ------------------------------------------------------------------------ */

static int check_file(bridle_scenario_result *ret, const char *sandbox_id, const char *path, const json_t *want)
{
        char *data = NULL;
        size_t len = 0;
        bridle_error e = {0};
        int rr = sandbox_id[0] ? bridle_sandbox_read(sandbox_id, path, &data, &len, &e) : -ENOENT;
        bool exists = rr >= 0;
        char why[sizeof(e.msg) + 32];
        if (!sandbox_id[0])
                (void)snprintf(why, sizeof(why), "(the run made no sandbox)");
        else if (rr == -ENOENT)
                (void)snprintf(why, sizeof(why), "(no such file)");
        else if (rr < 0)
                (void)snprintf(why, sizeof(why), "(unreadable: %s)", e.msg);
        int r = 0;
        const json_t *ex = json_object_get(want, "exists");
        if (ex)
                r = add(ret, exists == json_is_true(ex), json_is_true(ex) ? "exists" : "does not exist",
                        exists ? "exists" : why, "files.%s.exists", path);
        const char *c = json_string_value(json_object_get(want, "contains"));
        if (r == 0 && c)
                r = add(ret, exists && memmem(data, len, c, strlen(c)) != NULL, c, exists ? data : why,
                        "files.%s.contains", path);
        const char *eq = json_string_value(json_object_get(want, "equals"));
        if (r == 0 && eq)
                r = add(ret, exists && len == strlen(eq) && !memcmp(data, eq, len), eq, exists ? data : why,
                        "files.%s.equals", path);
        free(data);
        return r;
}

static int check_files(const json_t *want, const char *sandbox_id, bridle_scenario_result *ret)
{
        const char *path;
        const json_t *f;
        json_object_foreach((json_t *)want, path, f) {
                int r = check_file(ret, sandbox_id, path, f);
                if (r < 0)
                        return r;
        }
        return 0;
}

int bridle__scenario_check(const bridle_scenario *s, const json_t *events, const char *sandbox_id,
                           bridle_scenario_result *ret)
{
        const json_t *x = s->expect;
        int r = 0;
        const json_t *v;
        if ((v = json_object_get(x, "status"))) {
                const json_t *st = last_status(events);
                const char *got = json_string_value(json_object_get(st, "status"));
                const char *reason = json_string_value(json_object_get(st, "reason"));
                char *g = NULL;
                if (asprintf(&g, "%s%s%s", got ? got : "(none)", reason && reason[0] ? ": " : "",
                             reason ? reason : "") < 0)
                        return -ENOMEM;
                r = add(ret, got && !strcmp(got, json_string_value(v)), json_string_value(v), g, "status");
                free(g);
        }
        if (r == 0 && (v = json_object_get(x, "tool_calls")))
                r = check_calls(v, events, ret);
        if (r == 0 && (v = json_object_get(x, "final_output")))
                r = check_final(v, events, ret);
        if (r == 0 && (v = json_object_get(x, "files")))
                r = check_files(v, sandbox_id, ret);
        return r;
}
