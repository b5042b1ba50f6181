/* SPDX-License-Identifier: MIT */
/* Agent files: load, check everything, resolve paths, follow handoffs. */
#include "runner/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard/guard.h"
#include "model/model.h"
#include "tools/tools.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/yaml.h"

const char *const bridle__builtin_tool_names[] = { "exec_command", "write_stdin", "read_file", "write_file",
                                                   "list_dir",     "search",      "apply_patch", "load_skill",
                                                   NULL };
static const char *const providers[] = { "openai-responses", "openai-chat", "scripted", NULL };
static const char *const native_names[] = { "shell", "apply_patch", NULL };
static const char *const top_keys[] = { "name",     "model",      "provider",   "base_url",      "api_key_env",
                                        "instructions", "tools",  "native_tools", "command_tools", "handoffs",
                                        "manifest", "max_turns",  "budget",     "script",        "handoff_description",
                                        "policy", "guardrails", "outputs", "checkpoints", "trace", "mcp_servers", NULL };
static const char *const budget_keys[] = { "tokens", "cost_usd", "wall", NULL };

struct actx {
        const bridle__doc *doc;
        const char *dir; /* the agent file's folder */
        bridle_error *err;
};

static bool one_of(const char *s, const char *const *w)
{
        for (; *w; w++)
                if (!strcmp(s, *w))
                        return true;
        return false;
}

/* An error at the value of obj[key] (or at obj when key is NULL). */
static int fail(const struct actx *c, const json_t *obj, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail(const struct actx *c, const json_t *obj, const char *key, const char *fmt, ...)
{
        const bridle__docpos *p = key ? bridle__doc_slot(c->doc, obj, key, 0) : bridle__doc_node(c->doc, obj);
        char msg[400];
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return bridle__doc_err(c->doc, p ? p->line : 0, p ? p->col : 0, c->err, BRIDLE_E_INVALID, "%s%s%s",
                               key ? key : "", key ? ": " : "", msg);
}

static int want_string(const struct actx *c, const json_t *top, const char *key, bool required, const char **ret)
{
        json_t *v = json_object_get(top, key);
        *ret = NULL;
        if (!v || json_is_null(v))
                return required ? bridle__doc_err(c->doc, 0, 0, c->err, BRIDLE_E_INVALID, "'%s' is required", key) : 0;
        if (!json_is_string(v))
                return fail(c, top, key, "expected a string, got %s", bridle__json_type_name(v));
        *ret = json_string_value(v);
        return 0;
}

static bool name_ok(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 64)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
                      *s == '_'))
                        return false;
        return true;
}

/* path made absolute against the agent's folder. */
static json_t *abs_path(const struct actx *c, const char *p)
{
        char buf[PATH_MAX * 2];
        if (p[0] == '/' || !c->dir)
                (void)snprintf(buf, sizeof(buf), "%s", p);
        else
                (void)snprintf(buf, sizeof(buf), "%s/%s", c->dir, p);
        return json_string(buf);
}

/* A list of strings, each one of allowed (NULL: any name). */
static int string_list(const struct actx *c, const json_t *top, const char *key, const char *const *allowed,
                       json_t **ret)
{
        json_t *v = json_object_get(top, key);
        *ret = json_array();
        if (!*ret)
                return -ENOMEM;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_array(v))
                return fail(c, top, key, "expected a list, got %s", bridle__json_type_name(v));
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
                const bridle__docpos *p = bridle__doc_slot(c->doc, v, NULL, i);
                if (!json_is_string(e) || (allowed && !one_of(json_string_value(e), allowed)))
                        return bridle__doc_err(c->doc, p ? p->line : 0, p ? p->col : 0, c->err, BRIDLE_E_INVALID,
                                               "%s[%zu]: '%s' is not one of the known names", key, i,
                                               json_is_string(e) ? json_string_value(e) : bridle__json_type_name(e));
                for (size_t k = 0; k < i; k++)
                        if (json_equal(json_array_get(v, k), e))
                                return bridle__doc_err(c->doc, p ? p->line : 0, p ? p->col : 0, c->err,
                                                       BRIDLE_E_INVALID, "%s[%zu]: '%s' is given twice", key, i,
                                                       json_string_value(e));
                if (json_array_append(*ret, e) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int command_tools(const struct actx *c, const json_t *top, json_t **ret)
{
        json_t *v = json_object_get(top, "command_tools");
        *ret = json_array();
        if (!*ret)
                return -ENOMEM;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_array(v))
                return fail(c, top, "command_tools", "expected a list, got %s", bridle__json_type_name(v));
        bridle__tools *probe = NULL;
        int r = bridle__tools_new(&probe, c->err);
        if (r < 0)
                return r;
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
                bridle_error sub = { 0 };
                if ((r = bridle__tools_add_command(probe, e, &sub)) < 0) {
                        const bridle__docpos *p = bridle__doc_slot(c->doc, v, NULL, i);
                        bridle__tools_free(probe);
                        return bridle__doc_err(c->doc, p ? p->line : 0, p ? p->col : 0, c->err, BRIDLE_E_INVALID,
                                               "command_tools[%zu]: %s", i, sub.msg);
                }
                if (json_array_append(*ret, e) < 0)
                        r = -ENOMEM;
        }
        bridle__tools_free(probe);
        return r < 0 ? r : 0;
}

static int budget(const struct actx *c, const json_t *top, json_t **ret)
{
        json_t *v = json_object_get(top, "budget");
        *ret = json_pack("{s:n,s:n,s:n}", "tokens", "cost_usd", "wall");
        if (!*ret)
                return -ENOMEM;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_object(v))
                return fail(c, top, "budget", "expected a mapping, got %s", bridle__json_type_name(v));
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e) {
                if (!one_of(k, budget_keys))
                        return fail(c, v, k, "unknown key (known: tokens, cost_usd, wall)");
                if (!json_is_number(e) || json_number_value(e) <= 0 ||
                    (!strcmp(k, "tokens") && !json_is_integer(e)))
                        return fail(c, v, k, "expected a positive %s", strcmp(k, "tokens") ? "number" : "integer");
                if (json_object_set(*ret, k, e) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* checkpoints: false | {every: N} (docs/durability.md): *ret is the
 * every-N count, 0 for none; absent: the default. */
static int checkpoints(const struct actx *c, const json_t *top, json_int_t *ret)
{
        json_t *v = json_object_get(top, "checkpoints");
        *ret = BRIDLE__DEFAULT_CHECKPOINT_EVERY;
        if (!v || json_is_null(v) || json_is_true(v))
                return 0;
        if (json_is_false(v)) {
                *ret = 0;
                return 0;
        }
        if (!json_is_object(v))
                return fail(c, top, "checkpoints", "expected false or a mapping {every: N}, got %s",
                            bridle__json_type_name(v));
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e) {
                if (strcmp(k, "every") != 0)
                        return fail(c, v, k, "unknown key (known: every)");
                if (!json_is_integer(e) || json_integer_value(e) < 1 || json_integer_value(e) > 1000000)
                        return fail(c, v, k, "expected an integer from 1 to 1000000");
                *ret = json_integer_value(e);
        }
        return 0;
}

/* trace: {export: otlp, endpoint?: URL, headers?: {K: V}, gzip?: BOOL,
 * interval?: SECONDS}: the run's trace goes to a collector as it goes
 * (src/trace/otlp.h; spans that ended, at most every interval seconds,
 * default 10). Absent: null. */
static int trace_export(const struct actx *c, const json_t *top, json_t **ret)
{
        static const char *const keys[] = { "export", "endpoint", "headers", "gzip", "interval", NULL };
        json_t *v = json_object_get(top, "trace"), *e;
        *ret = NULL;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_object(v) || strcmp(json_string_value(json_object_get(v, "export")) ?: "", "otlp") != 0)
                return fail(c, top, "trace", "expected a mapping {export: otlp, endpoint: URL}");
        const char *k;
        json_object_foreach(v, k, e) {
                const char *s = json_string_value(e);
                if (!one_of(k, keys))
                        return fail(c, v, k, "unknown key (known: export, endpoint, headers, gzip, interval)");
                if (!strcmp(k, "interval") &&
                    (!json_is_number(e) || json_number_value(e) < 0 || json_number_value(e) > 86400))
                        return fail(c, v, k, "expected a number of seconds from 0 to 86400");
                if (!strcmp(k, "endpoint") && (!s || (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)))
                        return fail(c, v, k, "expected an http:// or https:// URL");
                if ((!strcmp(k, "gzip") && !json_is_boolean(e)) || (!strcmp(k, "headers") && !json_is_object(e)))
                        return fail(c, v, k, "expected %s", strcmp(k, "gzip") ? "a mapping {NAME: VALUE}" : "true or false");
        }
        json_t *h = json_object_get(v, "headers");
        json_object_foreach(h, k, e) if (!json_is_string(e)) return fail(c, h, k, "expected text");
        json_t *iv = json_object_get(v, "interval");
        *ret = json_pack("{s:s,s:O?,s:o,s:b,s:f}", "export", "otlp", "endpoint", json_object_get(v, "endpoint"), "headers",
                         h ? json_deep_copy(h) : json_object(), "gzip", json_is_true(json_object_get(v, "gzip")),
                         "interval", iv ? json_number_value(iv) : 10.0);
        return *ret ? 0 : -ENOMEM;
}

/* ---- a cache of the last load (per thread) ---------------------------------
 * A program that runs many short runs of one agent (a benchmark, a batch
 * job) would parse the same files each time. The last load is kept with the
 * identity (device, inode, mtime, size) of every file it read; it is used
 * again only while all of them are unchanged and the same options are given. */
static __thread json_t *cur_deps; /* while loading: the files read */

static void dep_add(const char *path)
{
        struct stat st;
        if (!cur_deps || stat(path, &st) < 0)
                return;
        (void)json_array_append_new(cur_deps, json_pack("[s,I,I,I,I,I]", path, (json_int_t)st.st_dev,
                                                        (json_int_t)st.st_ino, (json_int_t)st.st_mtim.tv_sec,
                                                        (json_int_t)st.st_mtim.tv_nsec, (json_int_t)st.st_size));
}

static bool deps_fresh(const json_t *deps)
{
        size_t i;
        json_t *d;
        json_array_foreach(deps, i, d) {
                struct stat st;
                if (stat(json_string_value(json_array_get(d, 0)), &st) < 0 ||
                    json_integer_value(json_array_get(d, 1)) != (json_int_t)st.st_dev ||
                    json_integer_value(json_array_get(d, 2)) != (json_int_t)st.st_ino ||
                    json_integer_value(json_array_get(d, 3)) != (json_int_t)st.st_mtim.tv_sec ||
                    json_integer_value(json_array_get(d, 4)) != (json_int_t)st.st_mtim.tv_nsec ||
                    json_integer_value(json_array_get(d, 5)) != (json_int_t)st.st_size)
                        return false;
        }
        return true;
}


/* Check one agent document and build its canonical object. handoff paths are
 * returned (absolute) in *ret_files for the caller to follow. */
static int parse_agent(const struct actx *c, const json_t *top, json_t **ret, json_t **ret_files)
{
        if (!json_is_object(top))
                return bridle__doc_err(c->doc, 1, 1, c->err, BRIDLE_E_INVALID, "an agent is a mapping, got %s",
                                       bridle__json_type_name(top));
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)top, k, v)
                if (!one_of(k, top_keys))
                        return fail(c, top, k, "unknown key");
        const char *name, *model, *provider, *base_url, *key_env, *instr, *manifest, *script, *hdesc, *policy, *outputs;
        int r;
        if ((r = want_string(c, top, "name", true, &name)) < 0 || (r = want_string(c, top, "model", false, &model)) < 0 ||
            (r = want_string(c, top, "provider", false, &provider)) < 0 ||
            (r = want_string(c, top, "base_url", false, &base_url)) < 0 ||
            (r = want_string(c, top, "api_key_env", false, &key_env)) < 0 ||
            (r = want_string(c, top, "instructions", false, &instr)) < 0 ||
            (r = want_string(c, top, "manifest", false, &manifest)) < 0 ||
            (r = want_string(c, top, "script", false, &script)) < 0 ||
            (r = want_string(c, top, "handoff_description", false, &hdesc)) < 0 ||
            (r = want_string(c, top, "policy", false, &policy)) < 0 ||
            (r = want_string(c, top, "outputs", false, &outputs)) < 0)
                return r;
        if (!name_ok(name))
                return fail(c, top, "name", "'%s' is not a usable name (1-64 of letters, digits, '-', '_')", name);
        if (provider && !one_of(provider, providers))
                return fail(c, top, "provider", "'%s' is not one of openai-responses, openai-chat, scripted", provider);
        if (base_url && strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0)
                return fail(c, top, "base_url", "'%s' is not an http:// or https:// URL", base_url);
        json_t *mt = json_object_get(top, "max_turns");
        if (mt && !json_is_null(mt) && (!json_is_integer(mt) || json_integer_value(mt) < 1 ||
                                        json_integer_value(mt) > 100000))
                return fail(c, top, "max_turns", "expected an integer from 1 to 100000");
        _cleanup_json_ json_t *tools = NULL, *native = NULL, *ctools = NULL, *hand = NULL, *bud = NULL, *scr = NULL;
        if ((r = string_list(c, top, "tools", bridle__builtin_tool_names, &tools)) < 0 ||
            (r = string_list(c, top, "native_tools", native_names, &native)) < 0 ||
            (r = string_list(c, top, "handoffs", NULL, &hand)) < 0 || (r = command_tools(c, top, &ctools)) < 0 ||
            (r = budget(c, top, &bud)) < 0)
                return r;
        json_int_t every = 0;
        _cleanup_json_ json_t *trace = NULL, *mcp = NULL;
        if ((r = checkpoints(c, top, &every)) < 0 || (r = trace_export(c, top, &trace)) < 0 ||
            (r = bridle__agent_mcp_servers(c->doc, top, &mcp, c->err)) < 0)
                return r;
        if (json_array_size(native) && provider && strcmp(provider, "openai-responses") != 0)
                return fail(c, top, "native_tools", "native tools need the openai-responses provider");
        if (!json_object_get(top, "tools"))
                for (size_t i = 0; bridle__builtin_tool_names[i]; i++)
                        (void)json_array_append_new(tools, json_string(bridle__builtin_tool_names[i]));
        json_t *files = json_array();
        size_t i;
        json_array_foreach(hand, i, v) {
                json_t *f = abs_path(c, json_string_value(v));
                if (f && access(json_string_value(f), R_OK) < 0) {
                        int e = errno;
                        const bridle__docpos *p = bridle__doc_slot(c->doc, json_object_get(top, "handoffs"), NULL, i);
                        json_decref(f);
                        json_decref(files);
                        return bridle__doc_err(c->doc, p ? p->line : 0, p ? p->col : 0, c->err, BRIDLE_E_INVALID,
                                               "handoffs[%zu]: agent file '%s': %s", i, json_string_value(v), strerror(e));
                }
                (void)json_array_append_new(files, f);
        }
        *ret_files = files;
        if (script) {
                _cleanup_json_ json_t *sp = abs_path(c, script);
                if ((r = bridle__script_load(json_string_value(sp), &scr, c->err)) < 0)
                        return r;
                dep_add(json_string_value(sp));
        }
        *ret = json_pack("{s:s,s:s,s:s,s:s*,s:s,s:s,s:O,s:O,s:O,s:[],s:s,s:o,s:I,s:O,s:O,s:o}", "name", name, "model",
                         model ? model : BRIDLE__DEFAULT_MODEL, "provider", provider ? provider : "openai-responses",
                         "base_url", base_url, "api_key_env", key_env ? key_env : "OPENAI_API_KEY", "instructions",
                         instr ? instr : "", "tools", tools, "native_tools", native, "command_tools", ctools,
                         "handoffs", "handoff_description", hdesc ? hdesc : "", "manifest",
                         manifest ? abs_path(c, manifest) : json_null(), "max_turns",
                         (json_int_t)(mt && json_is_integer(mt) ? json_integer_value(mt) : BRIDLE__DEFAULT_MAX_TURNS),
                         "budget", bud, "script", scr ? scr : json_null(), "script_name",
                         script ? abs_path(c, script) : json_null());
        if (*ret && (json_object_set_new(*ret, "policy", policy ? abs_path(c, policy) : json_null()) < 0 ||
                     json_object_set_new(*ret, "outputs", outputs ? abs_path(c, outputs) : json_null()) < 0 ||
                     json_object_set_new(*ret, "checkpoint_every", json_integer(every)) < 0 ||
                     json_object_set(*ret, "trace", trace ? trace : json_null()) < 0 ||
                     json_object_set(*ret, "mcp_servers", mcp) < 0))
                return -ENOMEM;
        /* Guardrails: checked here (positions), kept in their canonical form. */
        json_t *gnode = json_object_get(top, "guardrails");
        if (*ret && gnode && !json_is_null(gnode)) {
                bridle__guards *g = NULL;
                if ((r = bridle__guards_load(c->doc, gnode, "guardrails", &g, c->err)) < 0)
                        return r;
                json_t *gj = bridle__guards_to_json(g);
                bridle__guards_free(g);
                if (!gj || json_object_set_new(*ret, "guardrails", gj) < 0)
                        return -ENOMEM;
        }
        return *ret ? 0 : -ENOMEM;
}

int bridle__agent_parse(const char *data, size_t len, const char *name, const char *dir, json_t **ret,
                        json_t **ret_files, bridle_error *err)
{
        bridle__doc *doc = NULL;
        int r = bridle__doc_load(data, len, name, &doc, err);
        if (r < 0)
                return r;
        struct actx c = { .doc = doc, .dir = dir, .err = err };
        *ret = *ret_files = NULL;
        r = parse_agent(&c, bridle__doc_root(doc), ret, ret_files);
        bridle__doc_free(doc);
        if (r < 0) {
                json_decref(*ret);
                json_decref(*ret_files);
                *ret = *ret_files = NULL;
        }
        return r;
}

static int load_file(const char *path, json_t **ret, json_t **ret_files, bridle_error *err)
{
        dep_add(path);
        char *data = NULL;
        size_t len = 0;
        int r = bridle__read_file(AT_FDCWD, path, BRIDLE__DOC_MAX_SIZE, &data, &len);
        if (r < 0)
                return bridle__err(err, r, "agent file '%s'", path);
        char *copy = bridle__strdup(path), dir[PATH_MAX];
        (void)snprintf(dir, sizeof(dir), "%s", copy ? dirname(copy) : ".");
        free(copy);
        r = bridle__agent_parse(data, len, path, dir, ret, ret_files, err);
        free(data);
        if (r == 0)
                r = json_object_set_new(*ret, "file", json_string(path)) < 0 ? -ENOMEM : 0;
        return r;
}

static json_t *default_agent(void)
{
        json_t *tools = json_array();
        for (size_t i = 0; bridle__builtin_tool_names[i]; i++)
                (void)json_array_append_new(tools, json_string(bridle__builtin_tool_names[i]));
        return json_pack("{s:s,s:s,s:s,s:n,s:s,s:s,s:o,s:[],s:[],s:[],s:s,s:n,s:I,s:{s:n,s:n,s:n},s:n,s:n,s:n}",
                         "name", "assistant", "model", BRIDLE__DEFAULT_MODEL, "provider", "openai-responses",
                         "base_url", "api_key_env", "OPENAI_API_KEY", "instructions",
                         "You are a careful assistant working in a sandboxed workspace at /workspace.", "tools", tools,
                         "native_tools", "command_tools", "handoffs", "handoff_description", "", "manifest",
                         "max_turns", (json_int_t)BRIDLE__DEFAULT_MAX_TURNS, "budget", "tokens", "cost_usd", "wall",
                         "script", "script_name", "file");
}

/* Overrides from the command line, to every agent. */
static int apply_overrides(json_t *agent, const bridle_agent_opts *o, const json_t *script, bridle_error *err)
{
        if (o->provider && !one_of(o->provider, providers))
                return bridle__err(err, BRIDLE_E_INVALID, "provider '%s' is not one of openai-responses, openai-chat, scripted",
                                   o->provider);
        if (o->base_url && strncmp(o->base_url, "http://", 7) != 0 && strncmp(o->base_url, "https://", 8) != 0)
                return bridle__err(err, BRIDLE_E_INVALID, "base URL '%s' is not an http:// or https:// URL", o->base_url);
        char buf[PATH_MAX];
        if ((o->provider && json_object_set_new(agent, "provider", json_string(o->provider)) < 0) ||
            (o->model && json_object_set_new(agent, "model", json_string(o->model)) < 0) ||
            (o->base_url && json_object_set_new(agent, "base_url", json_string(o->base_url)) < 0) ||
            (o->max_turns && json_object_set_new(agent, "max_turns", json_integer(o->max_turns)) < 0) ||
            (o->manifest_file && json_object_set_new(agent, "manifest", json_string(realpath(o->manifest_file, buf) ? buf : o->manifest_file)) < 0) ||
            (script && (json_object_set(agent, "script", (json_t *)script) < 0 ||
                        json_object_set_new(agent, "script_name", json_string(o->script_file)) < 0)))
                return bridle__err(err, -ENOMEM, "agent");
        if (script && !o->provider && strcmp(json_string_value(json_object_get(agent, "provider")), "scripted") != 0)
                (void)json_object_set_new(agent, "provider", json_string("scripted"));
        const char *prov = json_string_value(json_object_get(agent, "provider"));
        if (!strcmp(prov, "scripted") && json_is_null(json_object_get(agent, "script")))
                return bridle__err(err, BRIDLE_E_INVALID, "agent '%s' uses the scripted provider but has no script (--script FILE)",
                                   json_string_value(json_object_get(agent, "name")));
        return 0;
}

static int agents_load(const char *path, const bridle_agent_opts *opts, json_t **ret, bridle_error *err);

static __thread struct {
        char *key;
        json_t *result, *deps;
} acache;

int bridle__agents_load(const char *path, const bridle_agent_opts *opts, json_t **ret, bridle_error *err)
{
        char cwd[4096] = "";
        if ((path && path[0] != '/') || (opts->script_file && opts->script_file[0] != '/') ||
            (opts->manifest_file && opts->manifest_file[0] != '/'))
                if (!getcwd(cwd, sizeof(cwd)))
                        cwd[0] = '\0';
        char *key = NULL;
        if (asprintf(&key, "%s\n%s\n%s\n%s\n%s\n%s\n%s\n%u", cwd, path ? path : "", opts->provider ? opts->provider : "",
                     opts->model ? opts->model : "", opts->base_url ? opts->base_url : "",
                     opts->script_file ? opts->script_file : "", opts->manifest_file ? opts->manifest_file : "",
                     opts->max_turns) < 0)
                return bridle__err(err, -ENOMEM, "agents");
        if (acache.key && !strcmp(acache.key, key) && deps_fresh(acache.deps)) {
                free(key);
                *ret = json_incref(acache.result);
                return 0;
        }
        json_t *deps = json_array();
        cur_deps = deps;
        int r = deps ? agents_load(path, opts, ret, err) : bridle__err(err, -ENOMEM, "agents");
        cur_deps = NULL;
        if (r < 0) {
                json_decref(deps);
                free(key);
                return r;
        }
        free(acache.key);
        json_decref(acache.result);
        json_decref(acache.deps);
        acache.key = key;
        acache.result = json_incref(*ret);
        acache.deps = deps;
        return 0;
}

/* The loaded agents are shared with the cache: callers must not change them. */
static int agents_load(const char *path, const bridle_agent_opts *opts, json_t **ret, bridle_error *err)
{
        _cleanup_json_ json_t *agents = json_object(), *queue = json_array(), *seen = json_object(), *script = NULL;
        if (!agents || !queue || !seen)
                return bridle__err(err, -ENOMEM, "agents");
        if (opts->script_file) {
                int r = bridle__script_load(opts->script_file, &script, err);
                if (r < 0)
                        return r;
                dep_add(opts->script_file);
        }
        char entry[80] = "";
        if (!path) {
                json_t *a = default_agent();
                if (!a || json_object_set_new(agents, "assistant", a) < 0)
                        return bridle__err(err, -ENOMEM, "agents");
                (void)snprintf(entry, sizeof(entry), "assistant");
        } else {
                char abs[PATH_MAX];
                if (!realpath(path, abs))
                        return bridle__err(err, -errno, "agent file '%s'", path);
                (void)json_array_append_new(queue, json_string(abs));
        }
        for (size_t qi = 0; qi < json_array_size(queue); qi++) {
                const char *f = json_string_value(json_array_get(queue, qi));
                char abs[PATH_MAX];
                if (!realpath(f, abs))
                        return bridle__err(err, -errno, "handoff agent file '%s'", f);
                if (json_object_get(seen, abs))
                        continue;
                json_t *a = NULL, *files = NULL;
                int r = load_file(abs, &a, &files, err);
                if (r < 0)
                        return r;
                const char *name = json_string_value(json_object_get(a, "name"));
                if (json_object_get(agents, name)) {
                        json_decref(a);
                        json_decref(files);
                        return bridle__err(err, BRIDLE_E_INVALID, "two agent files are named '%s' (the second is '%s')", name, abs);
                }
                if (!entry[0])
                        (void)snprintf(entry, sizeof(entry), "%s", name);
                (void)json_object_set_new(seen, abs, json_string(name));
                (void)json_object_set_new(agents, name, a);
                size_t i;
                json_t *v;
                json_array_foreach(files, i, v)
                        (void)json_array_append(queue, v);
                (void)json_object_set_new(a, "handoff_files", files);
                if (json_object_size(agents) > BRIDLE__AGENT_MAX)
                        return bridle__err(err, BRIDLE_E_LIMIT, "more than %d agents through handoffs", BRIDLE__AGENT_MAX);
        }
        /* Handoffs by name now that every file is loaded. */
        const char *name;
        json_t *a;
        json_object_foreach(agents, name, a) {
                json_t *files = json_object_get(a, "handoff_files"), *names = json_object_get(a, "handoffs"), *v;
                size_t i;
                char abs[PATH_MAX];
                json_array_foreach(files, i, v) {
                        json_t *n = realpath(json_string_value(v), abs) ? json_object_get(seen, abs) : NULL;
                        if (n)
                                (void)json_array_append(names, n);
                }
                (void)json_object_del(a, "handoff_files");
                int r = apply_overrides(a, opts, script, err);
                if (r < 0)
                        return r;
        }
        *ret = json_pack("{s:s,s:O}", "entry", entry, "agents", agents);
        return *ret ? 0 : bridle__err(err, -ENOMEM, "agents");
}
