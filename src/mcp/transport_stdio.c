/* SPDX-License-Identifier: MIT */
/* The MCP stdio transport: a server spawned on the host with pipes (client.h). */
#include "mcp/client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mcp/jsonrpc.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/fd.h"

extern char **environ;

typedef struct stdio_transport {
        bridle__mcp_transport base;
        pid_t pid;
        int in_fd, out_fd, err_fd; /* our ends: the server's stdin, stdout, stderr */
        bridle__rpc_reader *reader;
        char tail[BRIDLE__MCP_STDERR_TAIL]; /* the last bytes of its stderr (a ring) */
        size_t tail_len, tail_pos;
        bool reaped;
        int wstatus;
        char exit_text[96];
} stdio_transport;

static int64_t mono_ms(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(int64_t deadline)
{
        if (deadline < 0)
                return -1;
        int64_t l = deadline - mono_ms();
        return l < 0 ? 0 : l > 1000000000 ? 1000000000 : (int)l;
}

static void drain_stderr(stdio_transport *s)
{
        char buf[4096];
        for (int i = 0; i < 64 && s->err_fd >= 0; i++) {
                ssize_t n = read(s->err_fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) {
                        bridle__close(s->err_fd);
                        s->err_fd = -1;
                        return;
                }
                for (ssize_t k = 0; k < n; k++) {
                        s->tail[s->tail_pos] = buf[k];
                        s->tail_pos = (s->tail_pos + 1) % sizeof(s->tail);
                        if (s->tail_len < sizeof(s->tail))
                                s->tail_len++;
                }
        }
}

/* The stderr tail as one line of text (control characters as spaces). */
static void tail_text(stdio_transport *s, char *out, size_t cap)
{
        size_t start = (s->tail_pos + sizeof(s->tail) - s->tail_len) % sizeof(s->tail);
        size_t n = 0;
        for (size_t i = 0; i < s->tail_len && n + 1 < cap; i++) {
                unsigned char ch = (unsigned char)s->tail[(start + i) % sizeof(s->tail)];
                out[n++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
        }
        while (n && out[n - 1] == ' ')
                n--;
        out[n] = '\0';
}

static void describe_exit(stdio_transport *s)
{
        if (WIFEXITED(s->wstatus))
                (void)snprintf(s->exit_text, sizeof(s->exit_text), "exited with status %d",
                               WEXITSTATUS(s->wstatus));
        else if (WIFSIGNALED(s->wstatus)) {
                const char *name = sigabbrev_np(WTERMSIG(s->wstatus));
                (void)snprintf(s->exit_text, sizeof(s->exit_text), "was killed by signal SIG%s",
                               name ? name : "?");
        } else
                (void)snprintf(s->exit_text, sizeof(s->exit_text), "ended");
}

/* Wait for the process up to ms; true when reaped. */
static bool reap(stdio_transport *s, int ms)
{
        int64_t deadline = mono_ms() + ms;
        for (int i = 0; i < 10000 && !s->reaped; i++) {
                pid_t p = waitpid(s->pid, &s->wstatus, WNOHANG);
                if (p == s->pid) {
                        s->reaped = true;
                        describe_exit(s);
                        break;
                }
                if (p < 0 && errno != EINTR) {
                        s->reaped = true; /* not ours any more */
                        (void)snprintf(s->exit_text, sizeof(s->exit_text), "ended");
                        break;
                }
                if (mono_ms() >= deadline)
                        break;
                struct timespec ts = {0, 10 * 1000 * 1000};
                (void)nanosleep(&ts, NULL);
        }
        return s->reaped;
}

static int dead(stdio_transport *s, bridle_error *err)
{
        drain_stderr(s);
        if (!reap(s, 2000)) {
                /* Output closed but the process lives on: it cannot answer. */
                (void)kill(-s->pid, SIGKILL);
                (void)reap(s, 2000);
        }
        char tail[512];
        tail_text(s, tail, sizeof(tail));
        return bridle__err(err, BRIDLE_E_TOOL, "the server %s%s%s",
                           s->reaped ? s->exit_text : "closed its output", tail[0] ? ": " : "", tail);
}

static int st_send(bridle__mcp_transport *t, const json_t *msg, int timeout_ms, bridle_error *err)
{
        stdio_transport *s = (stdio_transport *)t;
        if (s->in_fd < 0)
                return dead(s, err);
        /* A server that died makes the write raise SIGPIPE: keep it off this process. */
        sigset_t pipe_set, old;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        (void)pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
        bridle_error werr = {0};
        int r = bridle__rpc_write(s->in_fd, msg, timeout_ms, &werr);
        if (r == -EPIPE) {
                struct timespec zero = {0, 0};
                while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE) {
                }
        }
        (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r == -EPIPE) {
                bridle__close(s->in_fd);
                s->in_fd = -1;
                return dead(s, err);
        }
        if (r < 0)
                return bridle__err(err, r == -ETIMEDOUT ? BRIDLE_E_TIMEOUT : r, "%s", werr.msg);
        return 0;
}

static int st_recv(bridle__mcp_transport *t, int timeout_ms, json_t **ret, bridle_error *err)
{
        stdio_transport *s = (stdio_transport *)t;
        *ret = NULL;
        int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
        for (int i = 0; i < 1000000; i++) {
                char *line = NULL;
                size_t len = 0;
                int r = bridle__rpc_read_line(s->reader, 0, &line, &len);
                if (r == 0 && !line)
                        return dead(s, err);
                if (r == 0) {
                        json_error_t je;
                        json_t *j = json_loadb(line, len, 0, &je);
                        free(line);
                        if (!j || !json_is_object(j)) {
                                json_decref(j);
                                continue; /* not a message: servers log to stdout by mistake */
                        }
                        *ret = j;
                        return 0;
                }
                if (r == -EMSGSIZE)
                        continue;
                if (r != -ETIMEDOUT)
                        return bridle__err(err, r, "reading the server's output");
                struct pollfd p[2] = {{.fd = s->out_fd, .events = POLLIN}, {.fd = s->err_fd, .events = POLLIN}};
                int wait = left_ms(deadline);
                if (wait == 0)
                        return -ETIMEDOUT;
                int pr = poll(p, s->err_fd >= 0 ? 2 : 1, wait);
                if (pr < 0 && errno != EINTR)
                        return bridle__err(err, -errno, "poll");
                if (pr > 0 && s->err_fd >= 0 && p[1].revents)
                        drain_stderr(s);
        }
        return -ETIMEDOUT;
}

static void st_close(bridle__mcp_transport *t)
{
        stdio_transport *s = (stdio_transport *)t;
        if (!s)
                return;
        if (s->in_fd >= 0)
                bridle__close(s->in_fd); /* the spec's way: stdin closes, the server exits */
        s->in_fd = -1;
        if (s->pid > 0 && !reap(s, 1000)) {
                (void)kill(-s->pid, SIGTERM);
                if (!reap(s, 2000)) {
                        (void)kill(-s->pid, SIGKILL);
                        (void)reap(s, 5000);
                }
        }
        if (s->pid > 0)
                (void)kill(-s->pid, SIGKILL); /* what it left behind in its group */
        bridle__rpc_reader_free(s->reader);
        if (s->out_fd >= 0)
                bridle__close(s->out_fd);
        if (s->err_fd >= 0)
                bridle__close(s->err_fd);
        free(s);
}

static const bridle__mcp_transport_ops stdio_ops = {
        .send = st_send,
        .recv = st_recv,
        .set_version = NULL,
        .close = st_close,
};

const char *bridle__mcp_stdio_exit(bridle__mcp_transport *t)
{
        stdio_transport *s = (stdio_transport *)t;
        if (!t || t->ops != &stdio_ops)
                return "";
        return s->reaped ? s->exit_text : "";
}

int bridle__mcp_stdio_new(const char *const *argv, const char *const *envp, const char *cwd,
                          bridle__mcp_transport **ret, bridle_error *err)
{
        if (!argv || !argv[0] || !argv[0][0])
                return bridle__err(err, BRIDLE_E_INVALID, "mcp: an empty command");
        int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1};
        stdio_transport *s = NULL;
        int r;
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(er, O_CLOEXEC) < 0) {
                r = bridle__err(err, -errno, "mcp: pipe");
                goto fail;
        }
        s = bridle__calloc(1, sizeof(*s));
        if (!s) {
                r = bridle__err(err, -ENOMEM, "mcp");
                goto fail;
        }
        s->base.ops = &stdio_ops;
        s->in_fd = s->out_fd = s->err_fd = -1;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        if (posix_spawn_file_actions_init(&fa) != 0) {
                r = bridle__err(err, -ENOMEM, "mcp");
                goto fail;
        }
        if (posix_spawnattr_init(&at) != 0) {
                posix_spawn_file_actions_destroy(&fa);
                r = bridle__err(err, -ENOMEM, "mcp");
                goto fail;
        }
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        int e = posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        if (!e)
                e = posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        if (!e)
                e = posix_spawn_file_actions_adddup2(&fa, er[1], 2);
        if (!e && cwd)
                e = posix_spawn_file_actions_addchdir_np(&fa, cwd);
        if (!e)
                e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                          POSIX_SPAWN_SETSIGDEF);
        if (!e)
                e = posix_spawnattr_setpgroup(&at, 0);
        if (!e)
                e = posix_spawnattr_setsigmask(&at, &none);
        if (!e)
                e = posix_spawnattr_setsigdefault(&at, &all);
        pid_t pid = -1;
        if (!e)
                e = posix_spawnp(&pid, argv[0], &fa, &at, (char *const *)argv,
                                 envp ? (char *const *)envp : environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        if (e) {
                r = bridle__err(err, BRIDLE_E_TOOL, "mcp: cannot start %s: %s", argv[0], strerror(e));
                goto fail;
        }
        s->pid = pid;
        bridle__close(in[0]);
        bridle__close(out[1]);
        bridle__close(er[1]);
        s->in_fd = in[1];
        s->out_fd = out[0];
        s->err_fd = er[0];
        (void)fcntl(s->in_fd, F_SETFL, O_NONBLOCK);
        (void)fcntl(s->err_fd, F_SETFL, O_NONBLOCK);
        s->reader = bridle__rpc_reader_new(s->out_fd);
        if (!s->reader) {
                st_close(&s->base);
                return bridle__err(err, -ENOMEM, "mcp");
        }
        *ret = &s->base;
        return 0;
fail:
        for (int i = 0; i < 2; i++) {
                if (in[i] >= 0)
                        bridle__close(in[i]);
                if (out[i] >= 0)
                        bridle__close(out[i]);
                if (er[i] >= 0)
                        bridle__close(er[i]);
        }
        free(s);
        return r;
}
