/* SPDX-License-Identifier: MIT */
/*
 * Scenario files: load (YAML or JSON through src/util/yaml.h, which keeps
 * positions), check every key and value, resolve paths against the file's
 * folder, expand the model's turns with the scripted provider's loader.
 * Errors: "FILE:LINE:COL: key.path: message".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/model.h"
#include "scenario/internal.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/yaml.h"

struct lctx {
        const bridle__doc *doc;
        bridle_error *err;
        char dir[PATH_MAX]; /* the scenario's folder, absolute */
};

static void doc_freep(bridle__doc **d)
{
        bridle__doc_free(*d);
}

static int oom(const struct lctx *c)
{
        return bridle__err(c->err, -ENOMEM, "loading scenario");
}

/* An error at the value in parent[key] / parent[index] (at_key: at its key). */
static int fail(const struct lctx *c, const json_t *parent, const char *key, size_t index, bool at_key,
                const char *kpath, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static int fail(const struct lctx *c, const json_t *parent, const char *key, size_t index, bool at_key,
                const char *kpath, const char *fmt, ...)
{
        char msg[300];
        va_list ap;
        va_start(ap, fmt);
        /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is right above */
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        const bridle__docpos *p = bridle__doc_slot(c->doc, parent, key, index);
        int line = p ? (at_key ? p->key_line : p->line) : 0, col = p ? (at_key ? p->key_col : p->col) : 0;
        if (kpath && kpath[0])
                return bridle__doc_err(c->doc, line, col, c->err, BRIDLE_E_INVALID, "%s: %s", kpath, msg);
        return bridle__doc_err(c->doc, line, col, c->err, BRIDLE_E_INVALID, "%s", msg);
}

static const char *qs(const json_t *v, char *buf, size_t size)
{
        if (json_is_string(v))
                return bridle__doc_quote(json_string_value(v), json_string_length(v), buf, size);
        return bridle__json_type_name(v);
}

/* Unknown keys of a mapping are errors (at the key). */
static int known_keys(const struct lctx *c, const json_t *o, const char *kpath, const char *const *keys,
                      const char *list)
{
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)o, k, v) {
                bool found = false;
                for (size_t i = 0; keys[i] && !found; i++)
                        found = !strcmp(keys[i], k);
                if (!found) {
                        char q[80], kp[200];
                        (void)snprintf(kp, sizeof(kp), "%s%s%s", kpath, kpath[0] ? "." : "",
                                       bridle__doc_quote(k, strlen(k), q, sizeof(q)));
                        return fail(c, o, k, 0, true, kp, "unknown key (expected one of: %s)", list);
                }
        }
        return 0;
}

static int want_string(const struct lctx *c, const json_t *o, const char *key, const char *kpath, bool nonempty,
                       const char **ret)
{
        const json_t *v = json_object_get(o, key);
        *ret = NULL;
        if (!v)
                return 0;
        if (!json_is_string(v))
                return fail(c, o, key, 0, false, kpath, "expected a string, got %s", bridle__json_type_name(v));
        if (nonempty && json_string_length(v) == 0)
                return fail(c, o, key, 0, false, kpath, "must not be empty");
        if (strlen(json_string_value(v)) != json_string_length(v))
                return fail(c, o, key, 0, false, kpath, "must not hold a NUL byte");
        *ret = json_string_value(v);
        return 0;
}

static int want_bool(const struct lctx *c, const json_t *o, const char *key, const char *kpath)
{
        const json_t *v = json_object_get(o, key);
        if (v && !json_is_boolean(v))
                return fail(c, o, key, 0, false, kpath, "expected true or false, got %s", bridle__json_type_name(v));
        return 0;
}

/* A path relative to the scenario's folder, made absolute. */
static int abs_path(const struct lctx *c, const char *p, char **ret)
{
        char *s = NULL;
        if (p[0] == '/')
                s = bridle__strdup(p);
        else if (asprintf(&s, "%s/%s", c->dir, p) < 0)
                s = NULL;
        if (!s)
                return oom(c);
        *ret = s;
        return 0;
}

/* ---- model: the script's turns ---------------------------------------------- */

/* Each item through the scripted provider's own loader, so the rules are
 * the same; its message is put at the item's place in the scenario. */
static int check_item(const struct lctx *c, const json_t *turn_items, size_t t, size_t k)
{
        const json_t *item = json_array_get(turn_items, k);
        _cleanup_free_ char *one = NULL;
        json_t *wrap = json_pack("[[O]]", item);
        if (!wrap)
                return oom(c);
        one = json_dumps(wrap, JSON_COMPACT);
        json_decref(wrap);
        if (!one)
                return oom(c);
        json_t *out = NULL;
        bridle_error e = {0};
        int r = bridle__script_parse(one, strlen(one), "item", &out, &e);
        json_decref(out);
        if (r == -ENOMEM)
                return oom(c);
        if (r < 0) {
                /* "item:1:2: turn 1, item 1: MESSAGE" -> MESSAGE */
                const char *m = strstr(e.msg, "item 1: ");
                m = m ? m + 8 : e.msg;
                char kp[64];
                (void)snprintf(kp, sizeof(kp), "model[%zu][%zu]", t, k);
                return fail(c, turn_items, NULL, k, false, kp, "%s", m);
        }
        return 0;
}

static int load_model(const struct lctx *c, const json_t *top, bridle_scenario *s)
{
        const json_t *model = json_object_get(top, "model");
        if (!model)
                return 0;
        if (!json_is_array(model))
                return fail(c, top, "model", 0, false, "model", "expected a list of turns, got %s",
                            bridle__json_type_name(model));
        size_t t;
        const json_t *turn;
        json_array_foreach(model, t, turn) {
                char kp[64];
                (void)snprintf(kp, sizeof(kp), "model[%zu]", t);
                const json_t *items = turn;
                if (json_is_object(turn)) {
                        static const char *const keys[] = {"items", "usage", "faults", NULL};
                        int r = known_keys(c, turn, kp, keys, "items, usage, faults");
                        if (r < 0)
                                return r;
                        items = json_object_get(turn, "items");
                        if (!json_is_array(items))
                                return fail(c, turn, "items", 0, items == NULL, kp,
                                            "'items' must be a list of items");
                } else if (!json_is_array(turn)) {
                        return fail(c, model, NULL, t, false, kp, "a turn is a list of items, got %s",
                                    bridle__json_type_name(turn));
                }
                for (size_t k = 0; k < json_array_size(items); k++) {
                        int r = check_item(c, items, t, k);
                        if (r < 0)
                                return r;
                }
        }
        /* The whole script, expanded (ids filled in) the way a script file is. */
        _cleanup_free_ char *text = json_dumps(model, JSON_COMPACT);
        if (!text)
                return oom(c);
        int r = bridle__script_parse(text, strlen(text), bridle__doc_name(c->doc), &s->model, c->err);
        if (r < 0 && r != -ENOMEM)
                return fail(c, top, "model", 0, false, "model", "%s", c->err ? c->err->msg : "invalid");
        return r;
}

/* ---- expect ------------------------------------------------------------------- */

static int one_of(const struct lctx *c, const json_t *o, const char *key, const char *kpath,
                  const char *const *allowed, const char *list)
{
        const json_t *v = json_object_get(o, key);
        if (!v)
                return 0;
        if (json_is_string(v))
                for (size_t i = 0; allowed[i]; i++)
                        if (!strcmp(allowed[i], json_string_value(v)))
                                return 0;
        char q[80];
        return fail(c, o, key, 0, false, kpath, "'%s' is not one of %s", qs(v, q, sizeof(q)), list);
}

static int check_call(const struct lctx *c, const json_t *calls, size_t i)
{
        const json_t *call = json_array_get(calls, i);
        char kp[64];
        (void)snprintf(kp, sizeof(kp), "expect.tool_calls[%zu]", i);
        if (!json_is_object(call))
                return fail(c, calls, NULL, i, false, kp, "expected a mapping (name, decision, arguments, ok), got %s",
                            bridle__json_type_name(call));
        static const char *const keys[] = {"name", "decision", "arguments", "ok", NULL};
        static const char *const decisions[] = {"allow", "ask", "deny", NULL};
        int r = known_keys(c, call, kp, keys, "name, decision, arguments, ok");
        if (r < 0)
                return r;
        char sub[96];
        const char *name;
        (void)snprintf(sub, sizeof(sub), "%s.name", kp);
        if ((r = want_string(c, call, "name", sub, true, &name)) < 0)
                return r;
        (void)snprintf(sub, sizeof(sub), "%s.decision", kp);
        if ((r = one_of(c, call, "decision", sub, decisions, "allow, ask, deny")) < 0)
                return r;
        (void)snprintf(sub, sizeof(sub), "%s.ok", kp);
        if ((r = want_bool(c, call, "ok", sub)) < 0)
                return r;
        const json_t *args = json_object_get(call, "arguments");
        (void)snprintf(sub, sizeof(sub), "%s.arguments", kp);
        if (args && !json_is_object(args))
                return fail(c, call, "arguments", 0, false, sub, "expected a mapping (a subset of the call's), got %s",
                            bridle__json_type_name(args));
        return 0;
}

static int check_calls(const struct lctx *c, const json_t *expect)
{
        const json_t *calls = json_object_get(expect, "tool_calls");
        if (!calls)
                return 0;
        if (!json_is_array(calls))
                return fail(c, expect, "tool_calls", 0, false, "expect.tool_calls", "expected a list, got %s",
                            bridle__json_type_name(calls));
        if (json_array_size(calls) > BRIDLE__SCENARIO_MAX_CALLS)
                return fail(c, expect, "tool_calls", 0, false, "expect.tool_calls", "more than %d calls",
                            BRIDLE__SCENARIO_MAX_CALLS);
        for (size_t i = 0; i < json_array_size(calls); i++) {
                int r = check_call(c, calls, i);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_regex(const struct lctx *c, const json_t *o, const char *key, const char *kpath)
{
        const char *re = json_string_value(json_object_get(o, key));
        if (!re)
                return 0;
        regex_t rx;
        int rc = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
                char why[128];
                (void)regerror(rc, &rx, why, sizeof(why));
                return fail(c, o, key, 0, false, kpath, "not a POSIX extended regular expression: %s", why);
        }
        regfree(&rx);
        return 0;
}

/* {contains, equals, matches}: at least one, all strings. */
static int check_text_match(const struct lctx *c, const json_t *parent, const char *key, const char *kpath)
{
        const json_t *m = json_object_get(parent, key);
        if (json_is_string(m))
                return want_string(c, parent, key, kpath, false, &(const char *){NULL});
        if (!json_is_object(m))
                return fail(c, parent, key, 0, false, kpath,
                            "expected a mapping (contains, equals, matches) or a string, got %s",
                            bridle__json_type_name(m));
        static const char *const keys[] = {"contains", "equals", "matches", NULL};
        int r = known_keys(c, m, kpath, keys, "contains, equals, matches");
        if (r < 0)
                return r;
        if (json_object_size(m) == 0)
                return fail(c, parent, key, 0, false, kpath, "give contains, equals or matches");
        for (size_t i = 0; keys[i]; i++) {
                char sub[96];
                const char *v;
                (void)snprintf(sub, sizeof(sub), "%s.%s", kpath, keys[i]);
                if ((r = want_string(c, m, keys[i], sub, false, &v)) < 0)
                        return r;
        }
        char sub[96];
        (void)snprintf(sub, sizeof(sub), "%s.matches", kpath);
        return check_regex(c, m, "matches", sub);
}

static int check_file(const struct lctx *c, const json_t *files, const char *path)
{
        const json_t *f = json_object_get(files, path);
        char q[120], kp[200];
        (void)snprintf(kp, sizeof(kp), "expect.files.%s", bridle__doc_quote(path, strlen(path), q, sizeof(q)));
        if (path[0] == '\0')
                return fail(c, files, path, 0, true, kp, "a path must not be empty");
        if (!json_is_object(f))
                return fail(c, files, path, 0, false, kp, "expected a mapping (exists, contains, equals), got %s",
                            bridle__json_type_name(f));
        static const char *const keys[] = {"exists", "contains", "equals", NULL};
        int r = known_keys(c, f, kp, keys, "exists, contains, equals");
        if (r < 0)
                return r;
        if (json_object_size(f) == 0)
                return fail(c, files, path, 0, false, kp, "give exists, contains or equals");
        char sub[240];
        const char *v;
        (void)snprintf(sub, sizeof(sub), "%s.exists", kp);
        if ((r = want_bool(c, f, "exists", sub)) < 0)
                return r;
        (void)snprintf(sub, sizeof(sub), "%s.contains", kp);
        if ((r = want_string(c, f, "contains", sub, false, &v)) < 0)
                return r;
        (void)snprintf(sub, sizeof(sub), "%s.equals", kp);
        if ((r = want_string(c, f, "equals", sub, false, &v)) < 0)
                return r;
        (void)snprintf(sub, sizeof(sub), "%s.exists", kp);
        if (json_is_false(json_object_get(f, "exists")) && json_object_size(f) > 1)
                return fail(c, f, "exists", 0, false, sub, "'exists: false' cannot go with contains or equals");
        return 0;
}

static int check_files(const struct lctx *c, const json_t *expect)
{
        const json_t *files = json_object_get(expect, "files");
        if (!files)
                return 0;
        if (!json_is_object(files))
                return fail(c, expect, "files", 0, false, "expect.files", "expected a mapping of paths, got %s",
                            bridle__json_type_name(files));
        if (json_object_size(files) > BRIDLE__SCENARIO_MAX_FILES)
                return fail(c, expect, "files", 0, false, "expect.files", "more than %d files",
                            BRIDLE__SCENARIO_MAX_FILES);
        const char *path;
        const json_t *v;
        json_object_foreach((json_t *)files, path, v) {
                int r = check_file(c, files, path);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int load_expect(const struct lctx *c, const json_t *top, bridle_scenario *s)
{
        const json_t *expect = json_object_get(top, "expect");
        if (!expect)
                return fail(c, NULL, NULL, 0, false, "expect", "missing (what must be true after the run)");
        if (!json_is_object(expect))
                return fail(c, top, "expect", 0, false, "expect", "expected a mapping, got %s",
                            bridle__json_type_name(expect));
        static const char *const keys[] = {"tool_calls", "final_output", "files", "status", NULL};
        static const char *const statuses[] = {"completed", "failed", "stopped", "awaiting_approval", "interrupted",
                                               NULL};
        int r = known_keys(c, expect, "expect", keys, "tool_calls, final_output, files, status");
        if (r < 0)
                return r;
        if (json_object_size(expect) == 0)
                return fail(c, top, "expect", 0, false, "expect",
                            "give at least one of tool_calls, final_output, files, status");
        if ((r = one_of(c, expect, "status", "expect.status", statuses,
                        "completed, failed, stopped, awaiting_approval, interrupted")) < 0 ||
            (r = check_calls(c, expect)) < 0 || (r = check_files(c, expect)) < 0)
                return r;
        if (json_object_get(expect, "final_output") &&
            (r = check_text_match(c, expect, "final_output", "expect.final_output")) < 0)
                return r;
        s->expect = json_deep_copy(expect);
        return s->expect ? 0 : oom(c);
}

/* ---- the top level ------------------------------------------------------------- */

static int load_paths(const struct lctx *c, const json_t *top, bridle_scenario *s)
{
        const char *agent, *policy, *manifest;
        int r;
        if ((r = want_string(c, top, "agent", "agent", true, &agent)) < 0 ||
            (r = want_string(c, top, "policy", "policy", true, &policy)) < 0 ||
            (r = want_string(c, top, "manifest", "manifest", true, &manifest)) < 0)
                return r;
        if (agent && (r = abs_path(c, agent, &s->agent)) < 0)
                return r;
        if (policy && (r = abs_path(c, policy, &s->policy)) < 0)
                return r;
        if (manifest && (r = abs_path(c, manifest, &s->manifest)) < 0)
                return r;
        return 0;
}

static int load_options(const struct lctx *c, const json_t *top, bridle_scenario *s)
{
        static const char *const approvals[] = {"approve", "deny", NULL};
        int r;
        if ((r = one_of(c, top, "approvals", "approvals", approvals, "approve, deny")) < 0 ||
            (r = want_bool(c, top, "record", "record")) < 0)
                return r;
        const json_t *a = json_object_get(top, "approvals");
        s->approve = a && !strcmp(json_string_value(a), "approve");
        s->record = json_is_true(json_object_get(top, "record"));
        const json_t *mt = json_object_get(top, "max_turns");
        if (mt) {
                if (!json_is_integer(mt) || json_integer_value(mt) < 1 || json_integer_value(mt) > 10000)
                        return fail(c, top, "max_turns", 0, false, "max_turns", "expected an integer from 1 to 10000");
                s->max_turns = (unsigned)json_integer_value(mt);
        }
        return 0;
}

static int load_top(const struct lctx *c, const json_t *top, bridle_scenario *s)
{
        if (!json_is_object(top))
                return fail(c, NULL, NULL, 0, false, NULL, "a scenario is a mapping (agent, task, model, expect), got %s",
                            bridle__json_type_name(top));
        static const char *const keys[] = {"agent",  "task",     "model",     "expect", "approvals",
                                           "record", "policy",   "manifest",  "max_turns", NULL};
        int r = known_keys(c, top, "", keys,
                           "agent, task, model, expect, approvals, record, policy, manifest, max_turns");
        if (r < 0)
                return r;
        const char *task;
        if ((r = want_string(c, top, "task", "task", true, &task)) < 0)
                return r;
        if (!task)
                return fail(c, NULL, NULL, 0, false, "task", "missing (the task the agent is given)");
        if (!(s->task = bridle__strdup(task)))
                return oom(c);
        if ((r = load_paths(c, top, s)) < 0 || (r = load_options(c, top, s)) < 0 || (r = load_model(c, top, s)) < 0)
                return r;
        if (!s->model && !s->record)
                return fail(c, NULL, NULL, 0, false, "model",
                            "missing (the scripted model's turns; or 'record: true' and bridle test --record)");
        if ((r = load_expect(c, top, s)) < 0)
                return r;
        s->source = json_deep_copy(top);
        return s->source ? 0 : oom(c);
}

static int set_dir(struct lctx *c, const char *path)
{
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)))
                return bridle__err(c->err, -errno, "current folder");
        const char *slash = path ? strrchr(path, '/') : NULL;
        int n;
        if (!slash)
                n = snprintf(c->dir, sizeof(c->dir), "%s", cwd);
        else if (path[0] == '/')
                n = snprintf(c->dir, sizeof(c->dir), "%.*s", (int)(slash - path > 0 ? slash - path : 1), path);
        else
                n = snprintf(c->dir, sizeof(c->dir), "%s/%.*s", cwd, (int)(slash - path), path);
        if (n < 0 || (size_t)n >= sizeof(c->dir))
                return bridle__err(c->err, -ENAMETOOLONG, "scenario '%s'", path);
        return 0;
}

int bridle_scenario_parse(const char *data, size_t len, const char *path, bridle_scenario **ret, bridle_error *err)
{
        if (!data || !ret)
                return bridle__err(err, -EINVAL, "bridle_scenario_parse: invalid arguments");
        struct lctx c = {.err = err};
        int r = set_dir(&c, path);
        if (r < 0)
                return r;
        _cleanup_(doc_freep) bridle__doc *doc = NULL;
        if ((r = bridle__doc_load(data, len, path ? path : "<scenario>", &doc, err)) < 0)
                return r;
        c.doc = doc;
        bridle_scenario *s = bridle__calloc(1, sizeof(*s));
        if (!s || !(s->path = bridle__strdup(path ? path : "<scenario>"))) {
                bridle_scenario_free(s);
                return oom(&c);
        }
        if ((r = load_top(&c, bridle__doc_root(doc), s)) < 0) {
                bridle_scenario_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

int bridle_scenario_load(const char *path, bridle_scenario **ret, bridle_error *err)
{
        if (!path || !ret)
                return bridle__err(err, -EINVAL, "bridle_scenario_load: invalid arguments");
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = bridle__read_file(AT_FDCWD, path, BRIDLE__DOC_MAX_SIZE + 1, &data, &len);
        if (r == -EFBIG || (r >= 0 && len > BRIDLE__DOC_MAX_SIZE))
                return bridle__err(err, BRIDLE_E_LIMIT, "%s: larger than %zu bytes", path, BRIDLE__DOC_MAX_SIZE);
        if (r < 0)
                return bridle__err(err, r, "scenario '%s'", path);
        return bridle_scenario_parse(data, len, path, ret, err);
}

bridle_scenario *bridle_scenario_free(bridle_scenario *s)
{
        if (!s)
                return NULL;
        free(s->path);
        free(s->agent);
        free(s->policy);
        free(s->manifest);
        free(s->task);
        json_decref(s->model);
        json_decref(s->expect);
        json_decref(s->source);
        free(s);
        return NULL;
}

const char *bridle_scenario_path(const bridle_scenario *s)
{
        return s ? s->path : NULL;
}

bool bridle_scenario_wants_record(const bridle_scenario *s)
{
        return s && s->record;
}

char *bridle_scenario_recorded_path(const char *path)
{
        if (!path)
                return NULL;
        size_t n = strlen(path);
        size_t base = n;
        if (n > 5 && !strcmp(path + n - 5, ".yaml"))
                base = n - 5;
        else if (n > 5 && !strcmp(path + n - 5, ".json"))
                base = n - 5;
        else if (n > 4 && !strcmp(path + n - 4, ".yml"))
                base = n - 4;
        char *out = NULL;
        if (asprintf(&out, "%.*s.recorded.yaml", (int)base, path) < 0)
                return NULL;
        return out;
}
