/* SPDX-License-Identifier: MIT */
/*
 * The MCP sandbox-session transport (client.h): a stdio server run inside
 * a living sandbox as a session with pipes (include/bridle/sandbox.h,
 * bridle_sandbox_exec_command). The server is model-directed code too: it
 * sees only the sandbox's files, network and limits.
 *
 * A session's stdout and stderr come back together, so every line that is
 * not a JSON object is taken as the server's log and kept (the last 4 KiB)
 * for error messages. Output the sandbox had to cut (more than 1 MiB
 * between two reads) cannot be trusted: the server counts as broken.
 */
#include "mcp/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridle/sandbox.h"
#include "mcp/jsonrpc.h"
#include "util/alloc.h"
#include "util/error.h"

typedef struct session_transport {
        bridle__mcp_transport base;
        char *sandbox; /* the sandbox id */
        int sid;       /* the session, -1 once its exit was reported */
        char *buf;     /* output not yet split into lines */
        size_t len;
        json_t *queue; /* messages read, not yet taken */
        char tail[BRIDLE__MCP_STDERR_TAIL];
        size_t tail_len;
        bool gone, cut;
        char exit_text[160];
} session_transport;

static int64_t mono_ms(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void keep_log(session_transport *s, const char *p, size_t n)
{
        if (n >= sizeof(s->tail)) {
                p += n - (sizeof(s->tail) - 1);
                n = sizeof(s->tail) - 1;
        }
        if (s->tail_len + n + 1 > sizeof(s->tail)) {
                size_t drop = s->tail_len + n + 1 - sizeof(s->tail);
                memmove(s->tail, s->tail + drop, s->tail_len - drop);
                s->tail_len -= drop;
        }
        memcpy(s->tail + s->tail_len, p, n);
        s->tail_len += n;
        s->tail[s->tail_len++] = ' ';
}

static void take_line(session_transport *s, const char *p, size_t n)
{
        while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
                n--;
        if (!n)
                return;
        json_error_t je;
        json_t *j = p[0] == '{' ? json_loadb(p, n, 0, &je) : NULL;
        if (json_is_object(j))
                (void)json_array_append(s->queue, j);
        else
                keep_log(s, p, n);
        json_decref(j);
}

/* Append output and split what is whole into lines. */
static int feed(session_transport *s, const char *p, size_t n)
{
        if (!n)
                return 0;
        if (s->len + n > BRIDLE__RPC_LINE_MAX) {
                s->cut = true; /* one line over the cap: not a message we can read */
                s->len = 0;
                return 0;
        }
        char *b = bridle__realloc(s->buf, s->len + n + 1);
        if (!b)
                return -ENOMEM;
        memcpy(b + s->len, p, n);
        s->buf = b;
        s->len += n;
        size_t start = 0;
        for (size_t i = 0; i < s->len; i++)
                if (s->buf[i] == '\n') {
                        take_line(s, s->buf + start, i - start);
                        start = i + 1;
                }
        memmove(s->buf, s->buf + start, s->len - start);
        s->len -= start;
        return 0;
}

static void note_exit(session_transport *s, const bridle_session_result *res)
{
        s->gone = true;
        s->sid = -1;
        if (res->signal)
                (void)snprintf(s->exit_text, sizeof(s->exit_text), "was killed by signal SIG%s",
                               sigabbrev_np(res->signal) ?: "?");
        else if (res->status == 127)
                (void)snprintf(s->exit_text, sizeof(s->exit_text),
                               "could not be started (status 127: is the command in the manifest?)");
        else
                (void)snprintf(s->exit_text, sizeof(s->exit_text), "exited with status %d", res->status);
}

/* Read what the session printed within wait_ms (0: what is there). */
static int pump(session_transport *s, int wait_ms, bridle_error *err)
{
        if (s->gone)
                return 0;
        bridle_session_result res = {0};
        bridle_error e = {0};
        int r = bridle_sandbox_session_poll(s->sandbox, s->sid, (uint64_t)(wait_ms < 0 ? 0 : wait_ms), &res, &e);
        if (r < 0) {
                s->gone = true;
                s->sid = -1;
                (void)snprintf(s->exit_text, sizeof(s->exit_text), "is gone with its sandbox (%.100s)", e.msg);
                return 0;
        }
        if (res.output_truncated)
                s->cut = true;
        r = feed(s, res.output ? res.output : "", res.output_len);
        if (res.exited) {
                if (s->len) {
                        take_line(s, s->buf, s->len);
                        s->len = 0;
                }
                note_exit(s, &res);
        }
        bridle_session_result_release(&res);
        return r < 0 ? bridle__err(err, r, "mcp") : 0;
}

static int dead(session_transport *s, bridle_error *err)
{
        char tail[512];
        size_t n = 0;
        size_t from = s->tail_len > sizeof(tail) - 1 ? s->tail_len - (sizeof(tail) - 1) : 0;
        for (size_t i = from; i < s->tail_len && n + 1 < sizeof(tail); i++) {
                unsigned char ch = (unsigned char)s->tail[i];
                tail[n++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
        }
        while (n && tail[n - 1] == ' ')
                n--;
        tail[n] = '\0';
        if (s->cut && !s->gone)
                return bridle__err(err, BRIDLE_E_PROTOCOL,
                                   "the server wrote more than the sandbox keeps between two reads (1 MiB): "
                                   "its messages were cut%s%s",
                                   tail[0] ? ": " : "", tail);
        return bridle__err(err, BRIDLE_E_TOOL, "the server (in the sandbox) %s%s%s",
                           s->exit_text[0] ? s->exit_text : "ended", tail[0] ? ": " : "", tail);
}

static int ss_send(bridle__mcp_transport *t, const json_t *msg, int timeout_ms, bridle_error *err)
{
        (void)timeout_ms;
        session_transport *s = (session_transport *)t;
        if (s->gone || s->cut)
                return dead(s, err);
        char *line = json_dumps(msg, JSON_COMPACT);
        if (!line)
                return bridle__err(err, -ENOMEM, "mcp");
        size_t n = strlen(line);
        line[n] = '\n'; /* json_dumps leaves room for the NUL we overwrite */
        bridle_error e = {0};
        int r = bridle_sandbox_session_send(s->sandbox, s->sid, line, n + 1, false, &e);
        free(line);
        if (r < 0) {
                (void)pump(s, 0, NULL);
                if (!s->gone) {
                        s->gone = true;
                        (void)snprintf(s->exit_text, sizeof(s->exit_text), "cannot be written to (%.100s)", e.msg);
                }
                return dead(s, err);
        }
        return 0;
}

static int ss_recv(bridle__mcp_transport *t, int timeout_ms, json_t **ret, bridle_error *err)
{
        session_transport *s = (session_transport *)t;
        *ret = NULL;
        int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
        for (int i = 0; i < 1000000; i++) {
                if (json_array_size(s->queue)) {
                        *ret = json_incref(json_array_get(s->queue, 0));
                        (void)json_array_remove(s->queue, 0);
                        return 0;
                }
                if (s->gone || s->cut)
                        return dead(s, err);
                int64_t left = deadline < 0 ? 1000 : deadline - mono_ms();
                if (left <= 0 && i > 0)
                        return -ETIMEDOUT;
                int r = pump(s, left > 1000 ? 1000 : (int)(left < 0 ? 0 : left), err);
                if (r < 0)
                        return r;
        }
        return -ETIMEDOUT;
}

static void ss_close(bridle__mcp_transport *t)
{
        session_transport *s = (session_transport *)t;
        if (!s)
                return;
        if (!s->gone && s->sid > 0) {
                /* The spec's way first: stdin closes, the server exits. */
                if (bridle_sandbox_session_send(s->sandbox, s->sid, "", 0, true, NULL) == 0)
                        for (int i = 0; i < 10 && !s->gone; i++)
                                (void)pump(s, 100, NULL);
                if (!s->gone)
                        (void)bridle_sandbox_session_kill(s->sandbox, s->sid, NULL);
        }
        json_decref(s->queue);
        free(s->buf);
        free(s->sandbox);
        free(s);
}

static const bridle__mcp_transport_ops session_ops = {
        .send = ss_send,
        .recv = ss_recv,
        .set_version = NULL,
        .close = ss_close,
};

int bridle__mcp_session_new(const char *sandbox_id, const char *const *argv, const char *const *envp,
                            const char *cwd, bridle__mcp_transport **ret, bridle_error *err)
{
        if (!argv || !argv[0] || !argv[0][0])
                return bridle__err(err, BRIDLE_E_INVALID, "mcp: an empty command");
        session_transport *s = bridle__calloc(1, sizeof(*s));
        if (!s || !(s->sandbox = bridle__strdup(sandbox_id)) || !(s->queue = json_array())) {
                if (s) {
                        free(s->sandbox);
                        free(s);
                }
                return bridle__err(err, -ENOMEM, "mcp");
        }
        s->base.ops = &session_ops;
        bridle_command_opts o = {
                .argv = argv,
                .workdir = cwd,
                .env = envp,
                .yield_time_ms = 1,
                .max_output_tokens = BRIDLE__RPC_LINE_MAX / 4,
        };
        bridle_session_result res = {0};
        bridle_error e = {0};
        int r = bridle_sandbox_exec_command(sandbox_id, &o, &res, &e);
        if (r < 0) {
                ss_close(&s->base);
                return bridle__err(err, r == BRIDLE_E_SANDBOX ? r : BRIDLE_E_TOOL,
                                   "mcp: cannot start %s in the sandbox: %s", argv[0], e.msg);
        }
        s->sid = res.session_id;
        r = feed(s, res.output ? res.output : "", res.output_len);
        if (res.exited)
                note_exit(s, &res);
        bridle_session_result_release(&res);
        if (r < 0) {
                ss_close(&s->base);
                return bridle__err(err, r, "mcp");
        }
        *ret = &s->base;
        return 0;
}
