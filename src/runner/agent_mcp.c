/* SPDX-License-Identifier: MIT */
/* Agent files: the mcp_servers list (docs/mcp.md, "Agents using MCP servers"). */
#include "runner/agent.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/error.h"
#include "util/yaml.h"


static const char *const server_keys[] = { "name", "command", "url", "headers", "env", "cwd", "trusted",
                                           "startup_timeout", "timeout", "tools", NULL };

static bool known(const char *k)
{
        for (const char *const *p = server_keys; *p; p++)
                if (!strcmp(*p, k))
                        return true;
        return false;
}

static bool server_name_ok(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 32 || strstr(s, "__") || s[0] == '_' || s[n - 1] == '_')
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
                      *s == '_'))
                        return false;
        return true;
}

/* A mapping of strings (headers, env). */
static int string_map(const bridle__doc *doc, const json_t *e, const char *key, const char *where,
                      bool vars_ok, json_t **ret, bridle_error *err)
{
        json_t *m = json_object_get(e, key);
        *ret = NULL;
        if (!m || json_is_null(m))
                return 0;
        if (!json_is_object(m))
                return bridle__doc_fail(doc, e, key, 0, err, "%s.%s: expected a mapping of strings, got %s", where,
                                        key, bridle__json_type_name(m));
        const char *k;
        json_t *v;
        json_object_foreach(m, k, v) {
                if (!json_is_string(v))
                        return bridle__doc_fail(doc, m, k, 0, err, "%s.%s.%s: expected a string, got %s", where, key,
                                                k, bridle__json_type_name(v));
                if (!k[0] || strpbrk(k, ":\r\n=") || strpbrk(json_string_value(v), "\r\n"))
                        return bridle__doc_fail(doc, m, k, 0, err, "%s.%s.%s: not a usable name or value", where,
                                                key, k);
                if (!vars_ok && strstr(json_string_value(v), "${"))
                        return bridle__doc_fail(doc, m, k, 0, err,
                                                "%s.%s.%s: ${VAR} would copy the harness's environment into the "
                                                "sandbox; only a server with trusted: true may take it",
                                                where, key, k);
        }
        *ret = json_incref(m);
        return 0;
}

static int seconds(const bridle__doc *doc, const json_t *e, const char *key, const char *where, json_int_t dflt,
                   json_int_t *ret, bridle_error *err)
{
        json_t *v = json_object_get(e, key);
        *ret = dflt;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 86400)
                return bridle__doc_fail(doc, e, key, 0, err, "%s.%s: expected seconds (more than 0, at most 86400)",
                                        where, key);
        *ret = (json_int_t)(json_number_value(v) * 1000.0);
        return 0;
}

static int string_list(const bridle__doc *doc, const json_t *e, const char *key, const char *where, json_t **ret,
                       bridle_error *err)
{
        json_t *v = json_object_get(e, key);
        *ret = NULL;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_array(v) || json_array_size(v) == 0)
                return bridle__doc_fail(doc, e, key, 0, err, "%s.%s: expected a list of strings", where, key);
        size_t i;
        json_t *s;
        json_array_foreach(v, i, s) if (!json_is_string(s) || !json_string_length(s)) return bridle__doc_fail(
                doc, v, NULL, i, err, "%s.%s[%zu]: expected a non-empty string", where, key, i);
        *ret = json_incref(v);
        return 0;
}

static int one_server(const bridle__doc *doc, const json_t *list, size_t i, const json_t *e, json_t **ret,
                      bridle_error *err)
{
        char where[48];
        (void)snprintf(where, sizeof(where), "mcp_servers[%zu]", i);
        if (!json_is_object(e))
                return bridle__doc_fail(doc, list, NULL, i, err,
                                        "%s: expected a mapping {name, command: [...]} or {name, url}", where);
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)e, k, v) if (!known(k)) return bridle__doc_fail(
                doc, e, k, 0, err, "%s: unknown key '%s' (known: name, command, url, headers, env, cwd, trusted, "
                                   "startup_timeout, timeout, tools)",
                where, k);
        json_t *name = json_object_get(e, "name");
        if (!json_is_string(name) || !server_name_ok(json_string_value(name)))
                return bridle__doc_fail(doc, e, name ? "name" : NULL, 0, err,
                                        "%s.name: expected 1-32 of letters, digits, '-', '_' (not '__', which "
                                        "joins a server's name to its tools' names)",
                                        where);
        json_t *url = json_object_get(e, "url"), *trusted = json_object_get(e, "trusted");
        _cleanup_json_ json_t *cmd = NULL, *env = NULL, *headers = NULL, *only = NULL;
        int r = string_list(doc, e, "command", where, &cmd, err);
        if (r < 0)
                return r;
        if (!cmd == !url)
                return bridle__doc_fail(doc, e, cmd ? "url" : NULL, 0, err,
                                        "%s: give either command: [argv...] (a stdio server) or url: (streamable "
                                        "HTTP)",
                                        where);
        if (trusted && !json_is_boolean(trusted))
                return bridle__doc_fail(doc, e, "trusted", 0, err, "%s.trusted: expected true or false", where);
        bool host = json_is_true(trusted);
        if (url) {
                const char *u = json_string_value(url);
                if (!u || (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)))
                        return bridle__doc_fail(doc, e, "url", 0, err, "%s.url: expected an http:// or https:// URL",
                                                where);
                const char *bad = json_object_get(e, "env") ? "env" : json_object_get(e, "cwd") ? "cwd"
                                                                 : trusted                   ? "trusted"
                                                                                             : NULL;
                if (bad)
                        return bridle__doc_fail(doc, e, bad, 0, err, "%s.%s: only for a command (stdio) server",
                                                where, bad);
        } else if (json_object_get(e, "headers"))
                return bridle__doc_fail(doc, e, "headers", 0, err, "%s.headers: only for a url server", where);
        json_t *cwd = json_object_get(e, "cwd");
        if (cwd && !json_is_null(cwd) && (!json_is_string(cwd) || !json_string_length(cwd)))
                return bridle__doc_fail(doc, e, "cwd", 0, err, "%s.cwd: expected a folder", where);
        json_int_t start_ms, call_ms;
        if ((r = string_map(doc, e, "env", where, host, &env, err)) < 0 ||
            (r = string_map(doc, e, "headers", where, true, &headers, err)) < 0 ||
            (r = seconds(doc, e, "startup_timeout", where, 30000, &start_ms, err)) < 0 ||
            (r = seconds(doc, e, "timeout", where, 120000, &call_ms, err)) < 0 ||
            (r = string_list(doc, e, "tools", where, &only, err)) < 0)
                return r;
        *ret = json_pack("{s:O,s:s,s:O*,s:O*,s:O*,s:O*,s:O*,s:b,s:I,s:I,s:O*}", "name", name, "where",
                         url ? "http" : host ? "host" : "sandbox", "command", cmd, "url", url, "headers", headers,
                         "env", env, "cwd", json_is_string(cwd) ? cwd : NULL, "trusted", host, "startup_timeout_ms",
                         start_ms, "timeout_ms", call_ms, "tools", only);
        return *ret ? 0 : bridle__err(err, -ENOMEM, "mcp_servers");
}

int bridle__agent_mcp_servers(const bridle__doc *doc, const json_t *top, json_t **ret, bridle_error *err)
{
        json_t *list = json_object_get(top, "mcp_servers");
        *ret = json_array();
        if (!*ret)
                return bridle__err(err, -ENOMEM, "mcp_servers");
        if (!list || json_is_null(list))
                return 0;
        if (!json_is_array(list))
                return bridle__doc_fail(doc, top, "mcp_servers", 0, err, "mcp_servers: expected a list, got %s",
                                        bridle__json_type_name(list));
        if (json_array_size(list) > BRIDLE__AGENT_MCP_MAX)
                return bridle__doc_fail(doc, top, "mcp_servers", 0, err, "mcp_servers: more than %d servers",
                                        BRIDLE__AGENT_MCP_MAX);
        size_t i;
        json_t *e;
        json_array_foreach(list, i, e) {
                json_t *s = NULL;
                int r = one_server(doc, list, i, e, &s, err);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < json_array_size(*ret); k++)
                        if (json_equal(json_object_get(json_array_get(*ret, k), "name"), json_object_get(s, "name"))) {
                                json_decref(s);
                                return bridle__doc_fail(doc, e, "name", 0, err, "mcp_servers[%zu].name: '%s' is given twice",
                                                        i, json_string_value(json_object_get(e, "name")));
                        }
                (void)json_array_append_new(*ret, s);
        }
        return 0;
}
