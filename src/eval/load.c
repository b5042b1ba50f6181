/* SPDX-License-Identifier: MIT */
/*
 * Suite files: load (YAML or JSON through src/util/yaml.h, which keeps
 * positions), check every key and value, resolve paths against the suite's
 * folder. Errors: "FILE:LINE:COL: key.path: message".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eval/eval.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/yaml.h"

static void bridle_eval_suite_freep(bridle_eval_suite **s)
{
        (void)bridle_eval_suite_free(*s);
}

struct lctx {
        const bridle__doc *doc;
        bridle_error *err;
        const char *dir;
};

static int oom(const struct lctx *c)
{
        return bridle__err(c->err, -ENOMEM, "loading suite");
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
        /* No key in a mapping: the mapping itself (what lacks a key). */
        const bridle__docpos *p = !key && json_is_object(parent) ? bridle__doc_node(c->doc, parent)
                                                                 : bridle__doc_slot(c->doc, parent, key, index);
        int line = p ? (at_key ? p->key_line : p->line) : 0, col = p ? (at_key ? p->key_col : p->col) : 0;
        return bridle__doc_err(c->doc, line, col, c->err, BRIDLE_E_INVALID, "%s: %s", kpath, msg);
}

/* Unknown keys of a mapping: an error at the key. */
static int only_keys(const struct lctx *c, const json_t *obj, const char *kpath, const char *const *allowed)
{
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)obj, k, v) {
                bool ok = false;
                for (size_t i = 0; allowed[i] && !ok; i++)
                        ok = strcmp(allowed[i], k) == 0;
                if (!ok) {
                        char q[80];
                        return fail(c, obj, k, 0, true, kpath, "unknown key '%s'",
                                    bridle__doc_quote(k, strlen(k), q, sizeof(q)));
                }
        }
        return 0;
}

static int get_string(const struct lctx *c, const json_t *obj, const char *key, const char *kpath, bool required,
                      bool nonempty, char **ret)
{
        const json_t *v = json_object_get(obj, key);
        char kp[200];
        (void)snprintf(kp, sizeof(kp), "%s%s%s", kpath, kpath[0] ? "." : "", key);
        if (!v || json_is_null(v)) {
                if (required)
                        return fail(c, obj, NULL, 0, false, kpath[0] ? kpath : key, "'%s' is required", key);
                return 0;
        }
        if (!json_is_string(v))
                return fail(c, obj, key, 0, false, kp, "must be a string, not a %s", bridle__json_type_name(v));
        if (nonempty && json_string_length(v) == 0)
                return fail(c, obj, key, 0, false, kp, "must not be empty");
        if (strlen(json_string_value(v)) != json_string_length(v))
                return fail(c, obj, key, 0, false, kp, "must not hold a NUL byte");
        *ret = bridle__strdup(json_string_value(v));
        return *ret ? 0 : oom(c);
}

/* A path relative to the suite's folder, made absolute. */
static int abs_path(const struct lctx *c, const char *p, char **ret)
{
        if (p[0] == '/') {
                *ret = bridle__strdup(p);
        } else {
                size_t n = strlen(c->dir) + strlen(p) + 2;
                *ret = bridle__malloc(n);
                if (*ret)
                        (void)snprintf(*ret, n, "%s/%s", c->dir, p);
        }
        return *ret ? 0 : oom(c);
}

/* A path key that must name an existing file (or folder when dir_ok). */
static int get_path(const struct lctx *c, const json_t *obj, const char *key, const char *kpath, bool dir_ok,
                    char **ret)
{
        _cleanup_free_ char *s = NULL, *abs = NULL;
        int r = get_string(c, obj, key, kpath, false, true, &s);
        if (r < 0 || !s)
                return r;
        if ((r = abs_path(c, s, &abs)) < 0)
                return r;
        struct stat st;
        char kp[200], q[120];
        (void)snprintf(kp, sizeof(kp), "%s%s%s", kpath, kpath[0] ? "." : "", key);
        if (stat(abs, &st) < 0)
                return fail(c, obj, key, 0, false, kp, "'%s' does not exist", bridle__doc_quote(s, strlen(s), q, sizeof(q)));
        if (!dir_ok && !S_ISREG(st.st_mode))
                return fail(c, obj, key, 0, false, kp, "'%s' is not a file", bridle__doc_quote(s, strlen(s), q, sizeof(q)));
        *ret = TAKE_PTR(abs);
        return 0;
}

static int get_string_list(const struct lctx *c, const json_t *obj, const char *key, const char *kpath, char ***ret,
                           size_t *ret_n)
{
        const json_t *v = json_object_get(obj, key);
        char kp[200];
        (void)snprintf(kp, sizeof(kp), "%s.%s", kpath, key);
        if (!v || json_is_null(v))
                return 0;
        if (json_is_string(v)) {
                /* One string is a list of one. */
                if (json_string_length(v) == 0)
                        return fail(c, obj, key, 0, false, kp, "must not be empty");
                if (!(*ret = bridle__calloc(2, sizeof(char *))) || !((*ret)[0] = bridle__strdup(json_string_value(v))))
                        return oom(c);
                *ret_n = 1;
                return 0;
        }
        if (!json_is_array(v))
                return fail(c, obj, key, 0, false, kp, "must be a list of strings, not a %s", bridle__json_type_name(v));
        size_t n = json_array_size(v);
        if (n > BRIDLE__EVAL_MAX_ITEMS)
                return fail(c, obj, key, 0, false, kp, "at most %d entries", BRIDLE__EVAL_MAX_ITEMS);
        *ret = bridle__calloc(n + 1, sizeof(char *));
        if (!*ret)
                return oom(c);
        for (size_t i = 0; i < n; i++) {
                const json_t *e = json_array_get(v, i);
                char kpi[220];
                (void)snprintf(kpi, sizeof(kpi), "%s[%zu]", kp, i);
                if (!json_is_string(e) || json_string_length(e) == 0 ||
                    strlen(json_string_value(e)) != json_string_length(e))
                        return fail(c, v, NULL, i, false, kpi, "must be a non-empty string");
                if (!((*ret)[i] = bridle__strdup(json_string_value(e))))
                        return oom(c);
                *ret_n = i + 1;
        }
        return 0;
}

static int load_flag(const struct lctx *c, const json_t *list, size_t i, const char *kp, eval_flag *f)
{
        const json_t *e = json_array_get(list, i);
        if (json_is_string(e)) {
                f->kind = EVAL_FLAG_TEXT;
                f->text = bridle__strdup(json_string_value(e));
                return f->text ? 0 : oom(c);
        }
        if (!json_is_object(e))
                return fail(c, list, NULL, i, false, kp, "must be a text or {regex: R, icase: BOOL}");
        static const char *const keys[] = {"regex", "icase", NULL};
        int r = only_keys(c, e, kp, keys);
        if (r < 0 || (r = get_string(c, e, "regex", kp, true, true, &f->text)) < 0)
                return r;
        f->kind = EVAL_FLAG_REGEX;
        const json_t *ic = json_object_get(e, "icase");
        if (ic && !json_is_boolean(ic))
                return fail(c, e, "icase", 0, false, kp, "must be true or false");
        f->icase = json_is_true(ic);
        regex_t re;
        int rc = regcomp(&re, f->text, REG_EXTENDED | REG_NOSUB | (f->icase ? REG_ICASE : 0));
        if (rc != 0) {
                char m[128];
                (void)regerror(rc, &re, m, sizeof(m));
                return fail(c, e, "regex", 0, false, kp, "not a regular expression: %s", m);
        }
        regfree(&re);
        return 0;
}

static int load_flags(const struct lctx *c, const json_t *exp, const char *kpath, eval_task *t)
{
        const json_t *v = json_object_get(exp, "must_flag");
        char kp[200];
        (void)snprintf(kp, sizeof(kp), "%s.must_flag", kpath);
        if (!v || json_is_null(v))
                return 0;
        if (json_is_string(v)) {
                /* One text is a list of one. */
                if (!(t->must_flag = bridle__calloc(1, sizeof(eval_flag))) ||
                    !(t->must_flag[0].text = bridle__strdup(json_string_value(v))))
                        return oom(c);
                t->n_must_flag = 1;
                return 0;
        }
        size_t n = json_array_size(v);
        if (!json_is_array(v) || n > BRIDLE__EVAL_MAX_ITEMS)
                return fail(c, exp, "must_flag", 0, false, kp, "must be a list (at most %d) of texts or {regex: R}",
                            BRIDLE__EVAL_MAX_ITEMS);
        if (!(t->must_flag = bridle__calloc(n ? n : 1, sizeof(eval_flag))))
                return oom(c);
        for (size_t i = 0; i < n; i++) {
                char kpi[220];
                (void)snprintf(kpi, sizeof(kpi), "%s[%zu]", kp, i);
                t->n_must_flag = i + 1;
                int r = load_flag(c, v, i, kpi, &t->must_flag[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int load_file_check(const struct lctx *c, const json_t *v, const char *k, const json_t *fv, const char *kp,
                           eval_file_check *f)
{
        char kpi[300];
        (void)snprintf(kpi, sizeof(kpi), "%s.%s", kp, k);
        if (!k[0])
                return fail(c, v, k, 0, true, kpi, "the path must not be empty");
        if (!json_is_object(fv))
                return fail(c, v, k, 0, false, kpi, "must be a mapping {exists: BOOL, contains: TEXT}");
        static const char *const keys[] = {"exists", "contains", NULL};
        int r = only_keys(c, fv, kpi, keys);
        if (r < 0)
                return r;
        const json_t *ex = json_object_get(fv, "exists");
        if (ex && !json_is_boolean(ex))
                return fail(c, fv, "exists", 0, false, kpi, "exists must be true or false");
        if (ex)
                f->exists = json_is_true(ex) ? 1 : 0;
        if ((r = get_string(c, fv, "contains", kpi, false, false, &f->contains)) < 0)
                return r;
        if (f->exists == 0 && f->contains)
                return fail(c, fv, "contains", 0, false, kpi, "a file that must not exist cannot contain text");
        return 0;
}

static int load_files(const struct lctx *c, const json_t *exp, const char *kpath, eval_task *t)
{
        const json_t *v = json_object_get(exp, "files");
        char kp[200];
        (void)snprintf(kp, sizeof(kp), "%s.files", kpath);
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_object(v))
                return fail(c, exp, "files", 0, false, kp, "must be a mapping of paths to {exists, contains}");
        size_t n = json_object_size(v);
        if (n > BRIDLE__EVAL_MAX_ITEMS)
                return fail(c, exp, "files", 0, false, kp, "at most %d entries", BRIDLE__EVAL_MAX_ITEMS);
        if (!(t->files = bridle__calloc(n ? n : 1, sizeof(eval_file_check))))
                return oom(c);
        const char *k;
        const json_t *fv;
        json_object_foreach((json_t *)v, k, fv) {
                eval_file_check *f = &t->files[t->n_files];
                f->exists = -1;
                if (!(f->path = bridle__strdup(k)))
                        return oom(c);
                t->n_files++;
                int r = load_file_check(c, v, k, fv, kp, f);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int get_number(const struct lctx *c, const json_t *obj, const char *key, const char *kpath, double *ret)
{
        const json_t *v = json_object_get(obj, key);
        if (!v || json_is_null(v))
                return 0;
        char kp[200];
        (void)snprintf(kp, sizeof(kp), "%s.%s", kpath, key);
        if (!json_is_number(v) || json_number_value(v) < 0)
                return fail(c, obj, key, 0, false, kp, "must be a number >= 0");
        *ret = json_number_value(v);
        return 0;
}

static int load_expect(const struct lctx *c, const json_t *task, const char *kpath, eval_task *t)
{
        const json_t *exp = json_object_get(task, "expect");
        t->max_cost = -1;
        t->max_turns = -1;
        if (!exp || json_is_null(exp))
                return 0;
        char kp[160];
        (void)snprintf(kp, sizeof(kp), "%s.expect", kpath);
        if (!json_is_object(exp))
                return fail(c, task, "expect", 0, false, kp, "must be a mapping");
        static const char *const keys[] = {"status",  "must_run",  "must_not_modify", "must_flag",
                                           "files",   "max_cost",  "max_turns",       NULL};
        int r = only_keys(c, exp, kp, keys);
        if (r < 0 || (r = get_string(c, exp, "status", kp, false, true, &t->expect_status)) < 0)
                return r;
        static const char *const statuses[] = {"completed", "failed", "stopped", "awaiting_approval", NULL};
        if (t->expect_status) {
                bool ok = false;
                for (size_t i = 0; statuses[i]; i++)
                        ok = ok || !strcmp(statuses[i], t->expect_status);
                char kps[200];
                (void)snprintf(kps, sizeof(kps), "%s.status", kp);
                if (!ok)
                        return fail(c, exp, "status", 0, false, kps,
                                    "must be completed, failed, stopped or awaiting_approval");
        }
        if ((r = get_string_list(c, exp, "must_run", kp, &t->must_run, &t->n_must_run)) < 0 ||
            (r = get_string_list(c, exp, "must_not_modify", kp, &t->must_not_modify, &t->n_must_not_modify)) < 0 ||
            (r = load_flags(c, exp, kp, t)) < 0 || (r = load_files(c, exp, kp, t)) < 0 ||
            (r = get_number(c, exp, "max_cost", kp, &t->max_cost)) < 0)
                return r;
        const json_t *mt = json_object_get(exp, "max_turns");
        if (mt && !json_is_null(mt)) {
                char kpm[200];
                (void)snprintf(kpm, sizeof(kpm), "%s.max_turns", kp);
                if (!json_is_integer(mt) || json_integer_value(mt) < 1 || json_integer_value(mt) > 100000)
                        return fail(c, exp, "max_turns", 0, false, kpm, "must be an integer from 1 to 100000");
                t->max_turns = (long)json_integer_value(mt);
        }
        return 0;
}

static int load_judge_command(const struct lctx *c, const json_t *j, const char *kp, eval_judge *jd)
{
        const json_t *cmd = json_object_get(j, "command");
        if (json_is_string(cmd)) {
                /* A string is run by /bin/sh -c. */
                jd->argv = bridle__calloc(4, sizeof(char *));
                if (!jd->argv)
                        return oom(c);
                jd->argc = 3;
                jd->argv[0] = bridle__strdup("/bin/sh");
                jd->argv[1] = bridle__strdup("-c");
                jd->argv[2] = bridle__strdup(json_string_value(cmd));
                return jd->argv[0] && jd->argv[1] && jd->argv[2] ? 0 : oom(c);
        }
        size_t n = json_array_size(cmd);
        if (!json_is_array(cmd) || n == 0 || n > BRIDLE__EVAL_MAX_ITEMS)
                return fail(c, j, "command", 0, false, kp, "must be a string or a non-empty list of strings");
        if (!(jd->argv = bridle__calloc(n + 1, sizeof(char *))))
                return oom(c);
        for (size_t i = 0; i < n; i++) {
                const json_t *a = json_array_get(cmd, i);
                if (!json_is_string(a) || strlen(json_string_value(a)) != json_string_length(a))
                        return fail(c, cmd, NULL, i, false, kp, "command[%zu] must be a string", i);
                const char *s = json_string_value(a);
                /* A relative program path (./judge.sh, dir/x) is the suite's. */
                if (i == 0 && s[0] != '/' && strchr(s, '/')) {
                        int r = abs_path(c, s, &jd->argv[0]);
                        if (r < 0)
                                return r;
                } else if (!(jd->argv[i] = bridle__strdup(s))) {
                        return oom(c);
                }
                jd->argc = i + 1;
        }
        return 0;
}

static int load_judge(const struct lctx *c, const json_t *task, const char *kpath, eval_task *t)
{
        const json_t *j = json_object_get(task, "judge");
        if (!j || json_is_null(j))
                return 0;
        char kp[160];
        (void)snprintf(kp, sizeof(kp), "%s.judge", kpath);
        if (!json_is_object(j))
                return fail(c, task, "judge", 0, false, kp, "must be {command: [...]} or {model: M, rubric: TEXT}");
        static const char *const keys[] = {"command", "timeout", "model",       "rubric",
                                           "provider", "base_url", "api_key_env", NULL};
        int r = only_keys(c, j, kp, keys);
        if (r < 0)
                return r;
        if (!(t->judge = bridle__calloc(1, sizeof(*t->judge))))
                return oom(c);
        eval_judge *jd = t->judge;
        jd->timeout_s = 60;
        const json_t *to = json_object_get(j, "timeout");
        if (to) {
                if (!json_is_integer(to) || json_integer_value(to) < 1 || json_integer_value(to) > 3600)
                        return fail(c, j, "timeout", 0, false, kp, "timeout must be seconds from 1 to 3600");
                jd->timeout_s = (unsigned)json_integer_value(to);
        }
        bool has_cmd = json_object_get(j, "command") != NULL;
        bool has_rubric = json_object_get(j, "rubric") != NULL || json_object_get(j, "model") != NULL;
        if (has_cmd == has_rubric)
                return fail(c, task, "judge", 0, false, kp, "give either 'command' or 'model' and 'rubric'");
        if (has_cmd)
                return load_judge_command(c, j, kp, jd);
        if ((r = get_string(c, j, "model", kp, true, true, &jd->model)) < 0 ||
            (r = get_string(c, j, "rubric", kp, true, true, &jd->rubric)) < 0 ||
            (r = get_string(c, j, "provider", kp, false, true, &jd->provider)) < 0 ||
            (r = get_string(c, j, "base_url", kp, false, true, &jd->base_url)) < 0 ||
            (r = get_string(c, j, "api_key_env", kp, false, true, &jd->api_key_env)) < 0)
                return r;
        if (jd->provider && strcmp(jd->provider, "openai-responses") != 0 && strcmp(jd->provider, "openai-chat") != 0)
                return fail(c, j, "provider", 0, false, kp, "must be openai-responses or openai-chat");
        return 0;
}

/* One `inputs:` entry into a manifest entry (sources absolute). */
static int load_input(const struct lctx *c, const json_t *list, size_t i, const char *kp, json_t *entries)
{
        const json_t *e = json_array_get(list, i);
        if (!json_is_object(e))
                return fail(c, list, NULL, i, false, kp, "must be {path, source} or {path, content}");
        static const char *const keys[] = {"path", "source", "content", "read_only", NULL};
        int r = only_keys(c, e, kp, keys);
        _cleanup_free_ char *path = NULL, *src = NULL, *content = NULL;
        if (r < 0 || (r = get_string(c, e, "path", kp, true, true, &path)) < 0 ||
            (r = get_path(c, e, "source", kp, true, &src)) < 0 ||
            (r = get_string(c, e, "content", kp, false, false, &content)) < 0)
                return r;
        if (!src == !content)
                return fail(c, list, NULL, i, false, kp, "give either 'source' or 'content'");
        const json_t *ro = json_object_get(e, "read_only");
        if (ro && (!json_is_boolean(ro) || !src))
                return fail(c, e, "read_only", 0, false, kp, "read_only is true or false, for a source folder");
        json_t *m;
        struct stat st;
        if (content)
                m = json_pack("{s:s,s:s,s:s}", "type", "file", "path", path, "content", content);
        else if (stat(src, &st) == 0 && S_ISDIR(st.st_mode))
                /* A folder is copied (expanded to local_file entries when the
                 * manifest is written) unless it is a read-only bind. */
                m = json_pack("{s:s,s:s,s:s,s:b}", "type", "local_dir", "path", path, "source", src, "read_only",
                              json_is_true(ro));
        else
                m = json_pack("{s:s,s:s,s:s}", "type", "local_file", "path", path, "source", src);
        if (!m || json_array_append_new(entries, m) < 0)
                return oom(c);
        return 0;
}

static int load_inputs(const struct lctx *c, const json_t *obj, const char *kpath, json_t **ret)
{
        const json_t *v = json_object_get(obj, "inputs");
        if (!v || json_is_null(v))
                return 0;
        char kp[160];
        (void)snprintf(kp, sizeof(kp), "%s%sinputs", kpath, kpath[0] ? "." : "");
        if (!json_is_array(v) || json_array_size(v) > BRIDLE__EVAL_MAX_ITEMS)
                return fail(c, obj, "inputs", 0, false, kp, "must be a list of {path, source|content} (at most %d)",
                            BRIDLE__EVAL_MAX_ITEMS);
        if (!*ret && !(*ret = json_array()))
                return oom(c);
        for (size_t i = 0; i < json_array_size(v); i++) {
                char kpi[200];
                (void)snprintf(kpi, sizeof(kpi), "%s[%zu]", kp, i);
                int r = load_input(c, v, i, kpi, *ret);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool good_name(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s[i]))
                        return false;
        return true;
}

static int load_task(const struct lctx *c, const json_t *tasks, size_t i, const json_t *suite_inputs,
                     const bridle_eval_suite *s, eval_task *t)
{
        const json_t *o = json_array_get(tasks, i);
        char kp[64];
        (void)snprintf(kp, sizeof(kp), "tasks[%zu]", i);
        if (!json_is_object(o))
                return fail(c, tasks, NULL, i, false, kp, "must be a mapping");
        static const char *const keys[] = {"name", "task", "agent", "manifest", "inputs", "expect", "judge", NULL};
        int r = only_keys(c, o, kp, keys);
        if (r < 0 || (r = get_string(c, o, "name", kp, true, true, &t->name)) < 0)
                return r;
        if (!good_name(t->name))
                return fail(c, o, "name", 0, false, kp, "'name' must be 1 to 64 of [A-Za-z0-9._-]");
        for (size_t k = 0; k < i; k++)
                if (!strcmp(s->tasks[k].name, t->name))
                        return fail(c, o, "name", 0, false, kp, "the name '%s' is also tasks[%zu]'s", t->name, k);
        if ((r = get_string(c, o, "task", kp, true, true, &t->task)) < 0 ||
            (r = get_path(c, o, "agent", kp, false, &t->agent)) < 0 ||
            (r = get_path(c, o, "manifest", kp, false, &t->manifest)) < 0)
                return r;
        if (t->manifest && (json_object_get(o, "inputs") || suite_inputs))
                return fail(c, o, "manifest", 0, true, kp, "give 'manifest' or 'inputs' (here or the suite's), not both");
        if (suite_inputs && !(t->inputs = json_deep_copy(suite_inputs)))
                return oom(c);
        if ((r = load_inputs(c, o, kp, &t->inputs)) < 0 || (r = load_expect(c, o, kp, t)) < 0)
                return r;
        return load_judge(c, o, kp, t);
}

static int load_top(const struct lctx *c, const json_t *root, bridle_eval_suite *s)
{
        if (!json_is_object(root))
                return bridle__doc_err(c->doc, 1, 1, c->err, BRIDLE_E_INVALID, "a suite is a mapping with 'tasks:'");
        static const char *const keys[] = {"name",   "agent",  "policy", "provider", "model",
                                           "base_url", "repeat", "inputs", "tasks",    NULL};
        int r = only_keys(c, root, "suite", keys);
        if (r < 0 || (r = get_string(c, root, "name", "", false, true, &s->name)) < 0 ||
            (r = get_path(c, root, "agent", "", false, &s->agent)) < 0 ||
            (r = get_path(c, root, "policy", "", false, &s->policy)) < 0 ||
            (r = get_string(c, root, "provider", "", false, true, &s->provider)) < 0 ||
            (r = get_string(c, root, "model", "", false, true, &s->model)) < 0 ||
            (r = get_string(c, root, "base_url", "", false, true, &s->base_url)) < 0)
                return r;
        const json_t *rep = json_object_get(root, "repeat");
        s->repeat = 1;
        if (rep) {
                if (!json_is_integer(rep) || json_integer_value(rep) < 1 ||
                    json_integer_value(rep) > BRIDLE__EVAL_MAX_REPEAT)
                        return fail(c, root, "repeat", 0, false, "repeat", "must be an integer from 1 to %d",
                                    BRIDLE__EVAL_MAX_REPEAT);
                s->repeat = (unsigned)json_integer_value(rep);
        }
        return 0;
}

static int load_tasks(const struct lctx *c, const json_t *root, bridle_eval_suite *s)
{
        const json_t *tasks = json_object_get(root, "tasks");
        if (!tasks)
                return fail(c, root, NULL, 0, false, "tasks", "'tasks' is required");
        size_t n = json_array_size(tasks);
        if (!json_is_array(tasks) || n == 0 || n > BRIDLE__EVAL_MAX_TASKS)
                return fail(c, root, "tasks", 0, false, "tasks", "must be a list of 1 to %d tasks", BRIDLE__EVAL_MAX_TASKS);
        _cleanup_evjson_ json_t *suite_inputs = NULL;
        int r = load_inputs(c, root, "", &suite_inputs);
        if (r < 0)
                return r;
        if (!(s->tasks = bridle__calloc(n, sizeof(eval_task))))
                return oom(c);
        for (size_t i = 0; i < n; i++) {
                s->n_tasks = i + 1;
                if ((r = load_task(c, tasks, i, suite_inputs, s, &s->tasks[i])) < 0)
                        return r;
        }
        return 0;
}

static int suite_dir(const char *path, char **ret)
{
        char buf[PATH_MAX];
        const char *slash = path ? strrchr(path, '/') : NULL;
        if (slash && slash != path) {
                size_t n = (size_t)(slash - path);
                if (n >= sizeof(buf))
                        return -ENAMETOOLONG;
                memcpy(buf, path, n);
                buf[n] = '\0';
        } else {
                (void)snprintf(buf, sizeof(buf), "%s", slash ? "/" : ".");
        }
        char real[PATH_MAX];
        if (!realpath(buf, real))
                return -errno;
        *ret = bridle__strdup(real);
        return *ret ? 0 : -ENOMEM;
}

static char *base_name(const char *path)
{
        const char *b = strrchr(path, '/');
        b = b ? b + 1 : path;
        size_t n = strlen(b);
        const char *dot = strrchr(b, '.');
        if (dot && dot != b)
                n = (size_t)(dot - b);
        return bridle__strndup(b, n);
}

int bridle_eval_suite_parse(const char *data, size_t len, const char *path, bridle_eval_suite **ret,
                            bridle_error *err)
{
        if (!data || !ret)
                return bridle__err(err, -EINVAL, "bridle_eval_suite_parse: invalid arguments");
        const char *name = path ? path : "<suite>";
        _cleanup_(bridle_eval_suite_freep) bridle_eval_suite *s = bridle__calloc(1, sizeof(*s));
        if (!s || !(s->path = bridle__strdup(name)))
                return bridle__err(err, -ENOMEM, "loading suite");
        int r = suite_dir(path, &s->dir);
        if (r < 0)
                return bridle__err(err, r, "%s: its folder", name);
        bridle__doc *doc = NULL;
        if ((r = bridle__doc_load(data, len, name, &doc, err)) < 0)
                return r;
        struct lctx c = {.doc = doc, .err = err, .dir = s->dir};
        const json_t *root = bridle__doc_root(doc);
        r = load_top(&c, root, s);
        if (r == 0)
                r = load_tasks(&c, root, s);
        bridle__doc_free(doc);
        if (r < 0)
                return r;
        if (!s->name && !(s->name = base_name(name)))
                return bridle__err(err, -ENOMEM, "loading suite");
        *ret = TAKE_PTR(s);
        return 0;
}

int bridle_eval_suite_load(const char *path, bridle_eval_suite **ret, bridle_error *err)
{
        if (!path || !ret)
                return bridle__err(err, -EINVAL, "bridle_eval_suite_load: invalid arguments");
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = bridle__read_file(AT_FDCWD, path, BRIDLE__DOC_MAX_SIZE + 1, &data, &len);
        if (r < 0)
                return bridle__err(err, r, "%s", path);
        if (len > BRIDLE__DOC_MAX_SIZE)
                return bridle__err(err, BRIDLE_E_LIMIT, "%s: larger than %zu bytes", path, BRIDLE__DOC_MAX_SIZE);
        return bridle_eval_suite_parse(data, len, path, ret, err);
}

static void free_strv(char **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

void bridle__eval_task_release(eval_task *t)
{
        free(t->name);
        free(t->task);
        free(t->agent);
        free(t->manifest);
        json_decref(t->inputs);
        free(t->expect_status);
        free_strv(t->must_run, t->n_must_run);
        free_strv(t->must_not_modify, t->n_must_not_modify);
        for (size_t i = 0; t->must_flag && i < t->n_must_flag; i++)
                free(t->must_flag[i].text);
        free(t->must_flag);
        for (size_t i = 0; t->files && i < t->n_files; i++) {
                free(t->files[i].path);
                free(t->files[i].contains);
        }
        free(t->files);
        if (t->judge) {
                free_strv(t->judge->argv, t->judge->argc);
                free(t->judge->model);
                free(t->judge->rubric);
                free(t->judge->provider);
                free(t->judge->base_url);
                free(t->judge->api_key_env);
                free(t->judge);
        }
}

bridle_eval_suite *bridle_eval_suite_free(bridle_eval_suite *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; s->tasks && i < s->n_tasks; i++)
                bridle__eval_task_release(&s->tasks[i]);
        free(s->tasks);
        free(s->path);
        free(s->dir);
        free(s->name);
        free(s->agent);
        free(s->policy);
        free(s->provider);
        free(s->model);
        free(s->base_url);
        free(s);
        return NULL;
}

const char *bridle_eval_suite_name(const bridle_eval_suite *s)
{
        return s ? s->name : NULL;
}

size_t bridle_eval_suite_n_tasks(const bridle_eval_suite *s)
{
        return s ? s->n_tasks : 0;
}
