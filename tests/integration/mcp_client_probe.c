/* SPDX-License-Identifier: MIT */
/*
 * A test driver for the MCP client (src/mcp/client.h), used by mcp_client.sh:
 *
 *   mcp_client_probe [--timeout MS] [--header 'Name: value']... (--http URL | --stdio) COMMAND...
 *                    [-- ARGV...]
 *
 * COMMANDs run in order, each printing one JSON line on stdout:
 *   list              {"count":N,"tools":[names...],"changed":bool (a change came meanwhile)}
 *   call NAME JSON    {"ok":true,"is_error":b,"text":...,"structured":...}
 *                     or {"ok":false,"code":N,"error":"..."}
 *   poll MS           {"changed":bool}
 *   bridge SERVER     the tools in a registry as SERVER__TOOL: {"defs":[names...]}
 *   tcall NAME JSON   a call through that registry: {"ok":b,"output":...}
 * The connection prints {"connected":true,"version":...,"server":{...}} first,
 * or {"connected":false,"code":N,"error":...} and exits 1.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/client.h"
#include "tools/tools.h"

static void out(json_t *j)
{
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
        if (s)
                printf("%s\n", s);
        free(s);
        json_decref(j);
        fflush(stdout);
}

int main(int argc, char **argv)
{
        (void)signal(SIGPIPE, SIG_IGN);
        const char *url = NULL;
        bool use_stdio = false;
        int timeout = 20000;
        const char *headers[9] = {0};
        int n_headers = 0;
        int i = 1;
        for (; i < argc; i++) {
                if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
                        timeout = atoi(argv[++i]);
                else if (strcmp(argv[i], "--header") == 0 && i + 1 < argc && n_headers < 8)
                        headers[n_headers++] = argv[++i];
                else if (strcmp(argv[i], "--http") == 0 && i + 1 < argc)
                        url = argv[++i];
                else if (strcmp(argv[i], "--stdio") == 0)
                        use_stdio = true;
                else
                        break;
        }
        int cmds = i, dd = i;
        while (dd < argc && strcmp(argv[dd], "--") != 0)
                dd++;
        bridle_error err = {0};
        bridle__mcp_transport *t = NULL;
        int r;
        if (url)
                r = bridle__mcp_http_new(url, headers, &t, &err);
        else if (use_stdio && dd + 1 < argc)
                r = bridle__mcp_stdio_new((const char *const *)argv + dd + 1, NULL, NULL, &t, &err);
        else {
                fprintf(stderr, "usage: mcp_client_probe [--timeout MS] (--http URL | --stdio) CMD... [-- ARGV...]\n");
                return 2;
        }
        bridle__mcp_client *c = NULL;
        if (r == 0) {
                bridle__mcp_client_opts o = {.name = "probe", .startup_timeout_ms = timeout,
                                             .request_timeout_ms = timeout};
                r = bridle__mcp_client_connect(t, &o, &c, &err);
        }
        if (r < 0) {
                out(json_pack("{s:b,s:i,s:s}", "connected", 0, "code", r, "error", err.msg));
                return 1;
        }
        out(json_pack("{s:b,s:s,s:O*}", "connected", 1, "version", bridle__mcp_client_version(c), "server",
                      (json_t *)bridle__mcp_client_server_info(c)));
        bridle__tools *reg = NULL;
        bridle__mcp_bridge *bridge = NULL;
        for (i = cmds; i < dd; i++) {
                if (strcmp(argv[i], "bridge") == 0 && i + 1 < dd && !reg) {
                        const char *server = argv[++i];
                        if (bridle__tools_new(&reg, &err) < 0 ||
                            bridle__mcp_bridge_add(c, server, reg, &bridge, &err) < 0) {
                                out(json_pack("{s:b,s:s}", "ok", 0, "error", err.msg));
                                reg = bridle__tools_free(reg);
                                continue;
                        }
                        json_t *defs = bridle__tools_defs(reg), *names = json_array();
                        size_t k;
                        json_t *d;
                        json_array_foreach(defs, k, d) json_array_append(names, json_object_get(d, "name"));
                        json_decref(defs);
                        out(json_pack("{s:o}", "defs", names));
                } else if (strcmp(argv[i], "tcall") == 0 && i + 2 < dd && reg) {
                        bridle__tool_env env = {0};
                        bridle__tool_result tr = {0};
                        r = bridle__tools_call(reg, &env, argv[i + 1], argv[i + 2], &tr, &err);
                        i += 2;
                        if (r < 0)
                                out(json_pack("{s:b,s:i,s:s}", "ok", 0, "code", r, "error", err.msg));
                        else
                                out(json_pack("{s:b,s:s}", "ok", tr.ok, "output", tr.output ? tr.output : ""));
                        bridle__tool_result_clear(&tr);
                } else if (strcmp(argv[i], "list") == 0) {
                        json_t *tools = NULL;
                        r = bridle__mcp_client_list_tools(c, &tools, &err);
                        bool changed = bridle__mcp_client_tools_changed(c); /* came during the listing */
                        if (r < 0) {
                                out(json_pack("{s:b,s:i,s:s}", "ok", 0, "code", r, "error", err.msg));
                                continue;
                        }
                        json_t *names = json_array();
                        size_t k;
                        json_t *tool;
                        json_array_foreach(tools, k, tool) json_array_append(names, json_object_get(tool, "name"));
                        out(json_pack("{s:I,s:o,s:b}", "count", (json_int_t)json_array_size(tools), "tools", names,
                                      "changed", changed));
                        json_decref(tools);
                } else if (strcmp(argv[i], "call") == 0 && i + 2 < dd) {
                        const char *name = argv[++i];
                        json_error_t je;
                        json_t *args = json_loads(argv[++i], 0, &je);
                        bridle__mcp_result res;
                        r = bridle__mcp_client_call(c, name, args, timeout, &res, &err);
                        json_decref(args);
                        if (r < 0) {
                                out(json_pack("{s:b,s:i,s:s}", "ok", 0, "code", r, "error", err.msg));
                                continue;
                        }
                        out(json_pack("{s:b,s:b,s:s,s:O*}", "ok", 1, "is_error", res.is_error, "text", res.text,
                                      "structured", res.structured));
                        bridle__mcp_result_clear(&res);
                } else if (strcmp(argv[i], "poll") == 0 && i + 1 < dd) {
                        r = bridle__mcp_client_poll(c, atoi(argv[++i]), &err);
                        if (r < 0)
                                out(json_pack("{s:b,s:i,s:s}", "ok", 0, "code", r, "error", err.msg));
                        else
                                out(json_pack("{s:b}", "changed", bridle__mcp_client_tools_changed(c)));
                } else {
                        fprintf(stderr, "mcp_client_probe: unknown command '%s'\n", argv[i]);
                        bridle__tools_free(reg);
                        bridle__mcp_bridge_free(bridge);
                        bridle__mcp_client_free(c);
                        return 2;
                }
        }
        bridle__tools_free(reg);
        bridle__mcp_bridge_free(bridge);
        bridle__mcp_client_free(c);
        return 0;
}
