/* SPDX-License-Identifier: MIT */
/*
 * MCP tool calls through bridle's client (src/mcp/client.h), one server at a
 * time: `mcp-call-bench MODE N ARGV...` connects (MODE host: the server
 * spawned on the host with pipes; MODE sandbox: inside a new living sandbox
 * through an exec session, the sandbox made from $MCP_BENCH_MANIFEST), calls
 * tools/call NAME ARGS ($MCP_BENCH_TOOL, $MCP_BENCH_ARGS) N times and prints
 * one JSON line: {"mode","calls","connect_ms","median_us","p90_us"}.
 * bench/mcp-call runs it beside the official TypeScript SDK client.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridle/manifest.h"
#include "bridle/sandbox.h"
#include "mcp/client.h"

static int64_t now_us(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
        if (argc < 4) {
                fprintf(stderr, "usage: mcp-call-bench host|sandbox N ARGV...\n");
                return 2;
        }
        const char *mode = argv[1];
        int n = atoi(argv[2]);
        const char *tool = getenv("MCP_BENCH_TOOL") ?: "read_text_file";
        const char *args_text = getenv("MCP_BENCH_ARGS") ?: "{}";
        if (n < 1 || n > 100000)
                return 2;
        bridle_error err = {0};
        char *sandbox = NULL;
        bridle__mcp_transport *t = NULL;
        int64_t t0 = now_us();
        int r;
        if (!strcmp(mode, "sandbox")) {
                bridle_manifest *m = NULL;
                bridle_sandbox_spec *spec = bridle_sandbox_spec_new();
                r = spec ? 0 : -1;
                if (r == 0 && getenv("MCP_BENCH_MANIFEST"))
                        r = bridle_manifest_load(getenv("MCP_BENCH_MANIFEST"), &m, &err);
                if (r == 0 && m)
                        r = bridle_manifest_apply(m, spec, &err);
                if (r == 0)
                        r = bridle_sandbox_create(spec, NULL, &sandbox, &err);
                bridle_manifest_free(m);
                bridle_sandbox_spec_free(spec);
                if (r == 0)
                        r = bridle__mcp_session_new(sandbox, (const char *const *)argv + 3, NULL, NULL, &t, &err);
        } else
                r = bridle__mcp_stdio_new((const char *const *)argv + 3, NULL, NULL, &t, &err);
        bridle__mcp_client *c = NULL;
        if (r == 0) {
                bridle__mcp_client_opts o = {.name = "bench"};
                r = bridle__mcp_client_connect(t, &o, &c, &err);
        }
        int64_t connect_us = now_us() - t0;
        json_t *args = json_loads(args_text, 0, NULL);
        int64_t *v = calloc((size_t)n, sizeof(*v));
        for (int i = 0; r == 0 && i < n && v; i++) {
                bridle__mcp_result res;
                int64_t s = now_us();
                r = bridle__mcp_client_call(c, tool, args, 0, &res, &err);
                v[i] = now_us() - s;
                if (r == 0 && res.is_error) {
                        fprintf(stderr, "mcp-call-bench: %s: %s\n", tool, res.text);
                        r = -1;
                }
                if (r == 0)
                        bridle__mcp_result_clear(&res);
        }
        if (r == 0 && v) {
                qsort(v, (size_t)n, sizeof(*v), cmp);
                printf("{\"mode\":\"%s\",\"calls\":%d,\"connect_ms\":%.1f,\"median_us\":%lld,\"p90_us\":%lld}\n", mode,
                       n, (double)connect_us / 1000.0, (long long)v[n / 2], (long long)v[(n * 9) / 10]);
        } else
                fprintf(stderr, "mcp-call-bench: %s\n", err.msg[0] ? err.msg : "failed");
        free(v);
        json_decref(args);
        bridle__mcp_client_free(c);
        if (sandbox)
                (void)bridle_sandbox_destroy(sandbox, NULL);
        free(sandbox);
        return r == 0 ? 0 : 1;
}
