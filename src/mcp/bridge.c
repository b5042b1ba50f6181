/* SPDX-License-Identifier: MIT */
/* An MCP server's tools as function tools of a registry (client.h). */
#include "mcp/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tools.h"
#include "util/alloc.h"
#include "util/error.h"

struct entry {
        bridle__mcp_bridge *b;
        char *tool;      /* the server's name for it */
        char full[65];   /* the registry's */
        bool idempotent; /* annotations.idempotentHint */
};

struct bridle__mcp_bridge {
        bridle__mcp_client *c;
        bridle__mcp_revive_fn revive;
        void *revive_ud;
        struct entry *v;
        size_t n;
};

static int call(void *ud, const bridle__tool_env *env, const json_t *args, char **ret_output, bridle_error *err)
{
        struct entry *e = ud;
        bridle__mcp_result res;
        if (bridle__mcp_client_dead(e->b->c)) {
                if (!e->b->revive)
                        return bridle__err(err, BRIDLE_E_TOOL, "the MCP server is down");
                int rr = e->b->revive(e->b->revive_ud, &e->b->c, err);
                if (rr < 0)
                        return rr == -ENOMEM ? rr : BRIDLE_E_TOOL;
        }
        int timeout = env && env->timeout_ms && env->timeout_ms < 0x7fffffff ? (int)env->timeout_ms : 0;
        int r = bridle__mcp_client_call(e->b->c, e->tool, args, timeout, &res, err);
        if (r < 0)
                return r == -ENOMEM ? r : (r == BRIDLE_E_TIMEOUT ? r : BRIDLE_E_TOOL);
        char *out = NULL;
        if (res.is_error ? asprintf(&out, "error: %s", res.text) < 0 : !(out = bridle__strdup(res.text))) {
                bridle__mcp_result_clear(&res);
                return bridle__err(err, -ENOMEM, "mcp");
        }
        bool failed = res.is_error;
        bridle__mcp_result_clear(&res);
        *ret_output = out;
        return failed ? 1 : 0; /* > 0: an error result with this text (tools.c) */
}

static void tool_name(const char *server, const char *tool, char out[65])
{
        char buf[256];
        (void)snprintf(buf, sizeof(buf), "%s__%s", server, tool);
        size_t n = 0;
        for (const char *p = buf; *p && n < 64; p++, n++) {
                char ch = *p;
                bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                          ch == '_' || ch == '-';
                out[n] = ok ? ch : '_';
        }
        out[n] = '\0';
}

bridle__mcp_bridge *bridle__mcp_bridge_free(bridle__mcp_bridge *b)
{
        if (!b)
                return NULL;
        for (size_t i = 0; i < b->n; i++)
                free(b->v[i].tool);
        free(b->v);
        free(b);
        return NULL;
}

static bool wanted(const json_t *only, const char *name)
{
        size_t i;
        json_t *v;
        if (!only)
                return true;
        json_array_foreach(only, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), name)) return true;
        return false;
}

int bridle__mcp_bridge_add(bridle__mcp_client *c, const char *server, bridle__tools *t,
                           bridle__mcp_bridge **ret, bridle_error *err)
{
        return bridle__mcp_bridge_add_only(c, server, NULL, t, ret, err);
}

int bridle__mcp_bridge_add_only(bridle__mcp_client *c, const char *server, const json_t *only, bridle__tools *t,
                                bridle__mcp_bridge **ret, bridle_error *err)
{
        *ret = NULL;
        json_t *tools = NULL;
        int r = bridle__mcp_client_list_tools(c, &tools, err);
        if (r < 0)
                return r;
        bridle__mcp_bridge *b = bridle__calloc(1, sizeof(*b));
        size_t n = json_array_size(tools);
        if (b)
                b->v = bridle__calloc(n ? n : 1, sizeof(*b->v));
        if (!b || !b->v) {
                json_decref(tools);
                bridle__mcp_bridge_free(b);
                return bridle__err(err, -ENOMEM, "mcp");
        }
        b->c = c;
        size_t n0 = bridle__tools_count(t);
        json_t *fallback = json_pack("{s:s}", "type", "object");
        for (size_t i = 0; r == 0 && i < n; i++) {
                const json_t *tool = json_array_get(tools, i);
                const char *name = json_string_value(json_object_get(tool, "name"));
                if (!wanted(only, name))
                        continue;
                const char *desc = json_string_value(json_object_get(tool, "description"));
                if (!desc)
                        desc = json_string_value(json_object_get(tool, "title"));
                const json_t *schema = json_object_get(tool, "inputSchema");
                if (!schema || bridle__schema_valid(schema, NULL) < 0)
                        schema = fallback;
                bool ro = json_is_true(json_object_get(json_object_get(tool, "annotations"), "readOnlyHint"));
                struct entry *e = &b->v[b->n];
                e->b = b;
                e->idempotent = json_is_true(json_object_get(json_object_get(tool, "annotations"), "idempotentHint"));
                e->tool = bridle__strdup(name);
                if (!e->tool || !fallback) {
                        free(e->tool);
                        r = bridle__err(err, -ENOMEM, "mcp");
                        break;
                }
                b->n++;
                char *full = e->full;
                tool_name(server, name, full);
                r = bridle__tools_add_fn(t, full, desc ? desc : "", schema, ro, call, e, err);
                if (r < 0)
                        (void)bridle__err_prefix(err, "mcp server '%s'", server);
        }
        json_decref(fallback);
        json_decref(tools);
        if (r < 0) {
                bridle__tools_truncate(t, n0); /* all or nothing */
                bridle__mcp_bridge_free(b);
                return r;
        }
        *ret = b;
        return 0;
}

void bridle__mcp_bridge_on_dead(bridle__mcp_bridge *b, bridle__mcp_revive_fn fn, void *ud)
{
        b->revive = fn;
        b->revive_ud = ud;
}

bool bridle__mcp_bridge_has(const bridle__mcp_bridge *b, const char *name, bool *idempotent)
{
        for (size_t i = 0; b && name && i < b->n; i++)
                if (!strcmp(b->v[i].full, name)) {
                        if (idempotent)
                                *idempotent = b->v[i].idempotent;
                        return true;
                }
        return false;
}
