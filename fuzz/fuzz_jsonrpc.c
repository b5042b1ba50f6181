/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: MCP's JSON-RPC framing and messages (src/mcp/jsonrpc.c).
 * The input is written to a pipe and read back line by line with the
 * reader; each line is parsed; a parsed message is answered (result or
 * error) and the answer parsed again: it must be a valid response.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcp/jsonrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_answer(const json_t *answer)
{
        char *s = json_dumps(answer, JSON_COMPACT);
        if (!s)
                return;
        bridle__rpc_msg m;
        int code = 0;
        char why[128];
        if (bridle__rpc_parse(s, strlen(s), &m, &code, why, sizeof(why)) < 0 ||
            (m.kind != BRIDLE__RPC_RESULT && m.kind != BRIDLE__RPC_ERROR))
                abort();
        bridle__rpc_msg_clear(&m);
        free(s);
}

static void one(const char *line, size_t len)
{
        bridle__rpc_msg m;
        int code = 0;
        char why[128];
        if (bridle__rpc_parse(line, len, &m, &code, why, sizeof(why)) < 0) {
                if (code != BRIDLE__RPC_PARSE_ERROR && code != BRIDLE__RPC_INVALID_REQUEST)
                        abort();
                json_t *e = bridle__rpc_error(m.id, code, why);
                if (e)
                        check_answer(e);
                json_decref(e);
        } else if (m.kind == BRIDLE__RPC_REQUEST) {
                if (!m.id || !m.method)
                        abort();
                json_t *r = bridle__rpc_result(m.id, json_object());
                if (r)
                        check_answer(r);
                json_decref(r);
        }
        bridle__rpc_msg_clear(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 1 << 20)
                return 0;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return 0;
        /* A pipe holds 64 KiB: larger inputs are parsed whole instead. */
        if (size > 60000) {
                close(p[0]);
                close(p[1]);
                one((const char *)data, size);
                return 0;
        }
        if (write(p[1], data, size) != (ssize_t)size)
                abort();
        close(p[1]);
        bridle__rpc_reader *r = bridle__rpc_reader_new(p[0]);
        for (int i = 0; r && i < 100000; i++) {
                char *line = NULL;
                size_t len = 0;
                int rc = bridle__rpc_read_line(r, 1000, &line, &len);
                if (rc < 0 && rc != -EMSGSIZE)
                        break;
                if (rc == 0 && !line)
                        break;
                if (line && (strlen(line) > len || memchr(line, '\n', len)))
                        abort();
                if (line)
                        one(line, len);
                free(line);
        }
        bridle__rpc_reader_free(r);
        close(p[0]);
        return 0;
}
