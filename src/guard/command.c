/* SPDX-License-Identifier: MIT */
/*
 * Command guardrails: an external program, run on the host (trusted like the
 * harness), in its own process group, with a small environment. It reads
 * {"kind":"input"|"output","text":"..."} on stdin (a socket, so a program
 * that exits without reading cannot raise SIGPIPE in the harness) and answers
 * {"decision":"allow"|"deny","reason":"..."} on stdout. Bounded: timeout_ms
 * of wall time, then SIGKILL to the group; BRIDLE__GUARD_MAX_ANSWER bytes of
 * stdout; STDERR_KEEP bytes of stderr (quoted in the reason of a failure).
 * Every failure of the program is a deny with a reason; only failures of the
 * harness (pipes, spawn of a missing program aside) are errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guard/internal.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fd.h"

#define STDERR_KEEP   1024
#define EXIT_GRACE_MS 200

extern char **environ;

struct child {
        pid_t pid;
        int pidfd;
        int in, out, errfd; /* parent ends, -EBADF when closed */
        const char *req;
        size_t req_len, req_off;
        char *ans;
        size_t ans_len;
        char errbuf[STDERR_KEEP];
        size_t err_len;
        bool too_long, exited;
        siginfo_t status;
};

static long long now_ms(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
        if (*fd >= 0)
                bridle__close(*fd);
        *fd = -EBADF;
}

/* Replace bytes that are not UTF-8 with '?', so jansson takes the text. */
static char *utf8_clean(const char *t, size_t len)
{
        char *o = bridle__malloc(len + 1);
        if (!o)
                return NULL;
        const unsigned char *s = (const unsigned char *)t;
        size_t i = 0;
        while (i < len) {
                unsigned char c = s[i];
                size_t need = c < 0x80                   ? 0
                              : (c >= 0xC2 && c <= 0xDF) ? 1
                              : (c >= 0xE0 && c <= 0xEF) ? 2
                              : (c >= 0xF0 && c <= 0xF4) ? 3
                                                         : 99;
                bool ok = need != 99 && i + need < len;
                for (size_t k = 1; ok && k <= need; k++)
                        ok = i + k < len && (s[i + k] & 0xC0) == 0x80;
                if (ok && need == 2)
                        ok = !(c == 0xE0 && s[i + 1] < 0xA0) && !(c == 0xED && s[i + 1] >= 0xA0);
                if (ok && need == 3)
                        ok = !(c == 0xF0 && s[i + 1] < 0x90) && !(c == 0xF4 && s[i + 1] >= 0x90);
                if (!ok) {
                        o[i++] = '?';
                        continue;
                }
                memcpy(o + i, s + i, need + 1);
                i += need + 1;
        }
        o[len] = '\0';
        return o;
}

static char *request(const char *kind, const char *text, size_t len)
{
        _cleanup_free_ char *clean = utf8_clean(text, len);
        if (!clean)
                return NULL;
        _cleanup_(json_decrefp) json_t *o =
                json_pack("{ss s:s%}", "kind", kind, "text", clean, len);
        return o ? json_dumps(o, JSON_COMPACT) : NULL;
}

static void add_env(char **env, size_t *n, char *store, size_t store_size, const char *name,
                    const char *value)
{
        if (!value)
                return;
        int l = snprintf(store, store_size, "%s=%s", name, value);
        if (l > 0 && (size_t)l < store_size)
                env[(*n)++] = store;
}

static int spawn(const struct guard_command *cmd, const char *kind, struct child *ch,
                 int *ret_errno)
{
        int in[2] = {-EBADF, -EBADF}, out[2] = {-EBADF, -EBADF}, er[2] = {-EBADF, -EBADF};
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0 ||
            pipe2(out, O_CLOEXEC) < 0 || pipe2(er, O_CLOEXEC) < 0) {
                int e = -errno;
                for (int k = 0; k < 2; k++) {
                        close_fd(&in[k]);
                        close_fd(&out[k]);
                        close_fd(&er[k]);
                }
                return e;
        }
        static const char *const names[] = {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"};
        char store[8][4096];
        char *env[9];
        size_t ne = 0;
        for (size_t k = 0; k < ELEMENTSOF(names); k++)
                add_env(env, &ne, store[ne], sizeof(store[0]), names[k],
                        k == 0 && !getenv("PATH") ? "/usr/local/bin:/usr/bin:/bin"
                                                  : getenv(names[k]));
        add_env(env, &ne, store[ne], sizeof(store[0]), "BRIDLE_GUARD_KIND", kind);
        env[ne] = NULL;

        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        sigset_t none, def;
        (void)sigemptyset(&none);
        (void)sigemptyset(&def);
        static const int sigs[] = {SIGPIPE, SIGINT,  SIGTERM, SIGHUP, SIGQUIT,
                                   SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2};
        for (size_t k = 0; k < ELEMENTSOF(sigs); k++)
                (void)sigaddset(&def, sigs[k]);
        int r = posix_spawn_file_actions_init(&fa);
        if (r == 0) {
                r = posix_spawn_file_actions_adddup2(&fa, in[1], 0);
                r = r ? r : posix_spawn_file_actions_adddup2(&fa, out[1], 1);
                r = r ? r : posix_spawn_file_actions_adddup2(&fa, er[1], 2);
                r = r ? r : posix_spawn_file_actions_addclosefrom_np(&fa, 3);
                r = r ? r : posix_spawnattr_init(&at);
                if (r == 0) {
                        r = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
                                                                  POSIX_SPAWN_SETSIGMASK |
                                                                  POSIX_SPAWN_SETSIGDEF);
                        r = r ? r : posix_spawnattr_setpgroup(&at, 0);
                        r = r ? r : posix_spawnattr_setsigmask(&at, &none);
                        r = r ? r : posix_spawnattr_setsigdefault(&at, &def);
                        r = r ? r : posix_spawnp(&ch->pid, cmd->argv[0], &fa, &at, cmd->argv, env);
                        (void)posix_spawnattr_destroy(&at);
                }
                (void)posix_spawn_file_actions_destroy(&fa);
        }
        close_fd(&in[1]);
        close_fd(&out[1]);
        close_fd(&er[1]);
        ch->in = in[0];
        ch->out = out[0];
        ch->errfd = er[0];
        *ret_errno = r;
        if (r != 0)
                return 0;
        ch->pidfd = (int)syscall(SYS_pidfd_open, ch->pid, 0);
        if (ch->pidfd < 0)
                ch->pidfd = -EBADF;
        return 1;
}

static void on_write(struct child *ch)
{
        ssize_t w = send(ch->in, ch->req + ch->req_off, ch->req_len - ch->req_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0)
                ch->req_off += (size_t)w;
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || ch->req_off == ch->req_len)
                close_fd(&ch->in);
}

static int on_read(struct child *ch, bool is_err)
{
        char buf[8192];
        ssize_t r = read(is_err ? ch->errfd : ch->out, buf, sizeof(buf));
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (r <= 0) {
                close_fd(is_err ? &ch->errfd : &ch->out);
                return 0;
        }
        if (is_err) {
                size_t k = (size_t)r < STDERR_KEEP - 1 - ch->err_len
                                   ? (size_t)r
                                   : STDERR_KEEP - 1 - ch->err_len;
                memcpy(ch->errbuf + ch->err_len, buf, k);
                ch->err_len += k;
                return 0;
        }
        if (ch->ans_len + (size_t)r > BRIDLE__GUARD_MAX_ANSWER) {
                ch->too_long = true;
                return 0;
        }
        char *a = bridle__realloc(ch->ans, ch->ans_len + (size_t)r + 1);
        if (!a)
                return -ENOMEM;
        memcpy(a + ch->ans_len, buf, (size_t)r);
        ch->ans = a;
        ch->ans_len += (size_t)r;
        a[ch->ans_len] = '\0';
        return 0;
}

static bool check_exited(struct child *ch)
{
        siginfo_t si = {0};
        if (waitid(P_PID, (id_t)ch->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            si.si_pid == ch->pid) {
                ch->exited = true;
                ch->status = si;
        }
        return ch->exited;
}

/* Pump stdin, stdout, stderr until the program exited and closed its
 * outputs (or EXIT_GRACE_MS after it exited, when something it left behind
 * holds them open), or the deadline. Returns 1 done, 0 timed out, < 0 error. */
static int pump(struct child *ch, long long deadline)
{
        long long grace = 0; /* once the program exited: how long its leftovers may hold stdout */
        for (;;) {
                if (ch->too_long)
                        return 1;
                if (ch->pidfd < 0)
                        (void)check_exited(ch);
                if (ch->out < 0 && ch->errfd < 0 && check_exited(ch))
                        return 1;
                if (ch->exited && !grace)
                        grace = now_ms() + EXIT_GRACE_MS;
                if (grace && now_ms() >= grace)
                        return 1;
                long long left = (grace && grace < deadline ? grace : deadline) - now_ms();
                if (left <= 0)
                        return grace ? 1 : 0;
                struct pollfd p[4];
                int np = 0;
                if (ch->in >= 0)
                        p[np++] = (struct pollfd){ch->in, POLLOUT, 0};
                if (ch->out >= 0)
                        p[np++] = (struct pollfd){ch->out, POLLIN, 0};
                if (ch->errfd >= 0)
                        p[np++] = (struct pollfd){ch->errfd, POLLIN, 0};
                if (ch->pidfd >= 0 && !ch->exited)
                        p[np++] = (struct pollfd){ch->pidfd, POLLIN, 0};
                int tmo = ch->pidfd >= 0 ? (int)left : (int)(left < 20 ? left : 20);
                int r = poll(p, (nfds_t)np, tmo);
                if (r < 0 && errno != EINTR)
                        return -errno;
                for (int k = 0; r > 0 && k < np; k++) {
                        if (!p[k].revents)
                                continue;
                        if (p[k].fd == ch->in)
                                on_write(ch);
                        else if (p[k].fd == ch->out || p[k].fd == ch->errfd) {
                                int e = on_read(ch, p[k].fd == ch->errfd);
                                if (e < 0)
                                        return e;
                        } else if (p[k].fd == ch->pidfd)
                                (void)check_exited(ch);
                }
                if (ch->exited && ch->in >= 0)
                        close_fd(&ch->in);
        }
}

/* Kill what is left of the group (the leader is not reaped yet, so its id
 * is not reused), then reap the leader. */
static void finish(struct child *ch)
{
        (void)kill(-ch->pid, SIGKILL);
        siginfo_t si = {0};
        while (waitid(P_PID, (id_t)ch->pid, &si, WEXITED) < 0 && errno == EINTR)
                ;
        if (!ch->exited) {
                ch->exited = true;
                ch->status = si;
        }
        close_fd(&ch->in);
        close_fd(&ch->out);
        close_fd(&ch->errfd);
        close_fd(&ch->pidfd);
}

static void stderr_note(const struct child *ch, char *buf, size_t size)
{
        size_t l = ch->err_len;
        while (l && (ch->errbuf[l - 1] == '\n' || ch->errbuf[l - 1] == '\r'))
                l--;
        if (!l) {
                buf[0] = '\0';
                return;
        }
        char q[200];
        (void)snprintf(buf, size, " (stderr: '%s')",
                       bridle__doc_quote(ch->errbuf, l, q, sizeof(q)));
}

static void judge(const struct child *ch, const char *name, bool *deny, char *reason, size_t size)
{
        char note[240];
        char q[400];
        stderr_note(ch, note, sizeof(note));
        *deny = true;
        if (ch->status.si_code == CLD_KILLED || ch->status.si_code == CLD_DUMPED) {
                (void)snprintf(reason, size, "guardrail command '%s' was killed by signal %d%s",
                               name, ch->status.si_status, note);
                return;
        }
        if (ch->status.si_status != 0) {
                (void)snprintf(reason, size, "guardrail command '%s' exited with status %d%s", name,
                               ch->status.si_status, note);
                return;
        }
        json_error_t je;
        _cleanup_(json_decrefp) json_t *a =
                json_loadb(ch->ans ? ch->ans : "", ch->ans_len, JSON_REJECT_DUPLICATES, &je);
        const char *d = json_string_value(json_object_get(a, "decision"));
        const json_t *why = json_object_get(a, "reason");
        if (!a || !d || (strcmp(d, "allow") != 0 && strcmp(d, "deny") != 0) ||
            (why && !json_is_string(why))) {
                (void)snprintf(reason, size,
                               "guardrail command '%s' gave a bad answer (expected "
                               "{\"decision\":\"allow\"|\"deny\",\"reason\":\"...\"})%s",
                               name, note);
                return;
        }
        *deny = !strcmp(d, "deny");
        if (!*deny) {
                reason[0] = '\0';
                return;
        }
        if (why && json_string_length(why))
                (void)snprintf(reason, size, "%s",
                               bridle__doc_quote(json_string_value(why), json_string_length(why), q,
                                                 sizeof(q)));
        else
                (void)snprintf(reason, size, "guardrail command '%s' denied", name);
}

int bridle__guard_run_command(const struct guard_command *cmd, const char *kind, const char *text,
                              size_t len, bool *ret_deny, char *reason, size_t reason_size,
                              bridle_error *err)
{
        char name[80];
        (void)bridle__doc_quote(cmd->argv[0], strlen(cmd->argv[0]), name, sizeof(name));
        _cleanup_free_ char *req = request(kind, text, len);
        if (!req)
                return bridle__err(err, -ENOMEM, "guardrail command '%s'", name);
        struct child ch = {.in = -EBADF,
                           .out = -EBADF,
                           .errfd = -EBADF,
                           .pidfd = -EBADF,
                           .req = req,
                           .req_len = strlen(req)};
        int spawn_errno = 0;
        int r = spawn(cmd, kind, &ch, &spawn_errno);
        if (r < 0)
                return bridle__err(err, r, "guardrail command '%s': making pipes", name);
        if (r == 0) {
                close_fd(&ch.in);
                close_fd(&ch.out);
                close_fd(&ch.errfd);
                *ret_deny = true;
                (void)snprintf(reason, reason_size, "guardrail command '%s' could not start: %s",
                               name, strerror(spawn_errno));
                return 0;
        }
        long long deadline = now_ms() + cmd->timeout_ms;
        r = pump(&ch, deadline);
        bool timed_out = r == 0;
        finish(&ch);
        _cleanup_free_ char *ans = ch.ans;
        if (r < 0)
                return bridle__err(err, r, "guardrail command '%s'", name);
        *ret_deny = true;
        if (timed_out)
                (void)snprintf(reason, reason_size, "guardrail command '%s' timed out after %d ms",
                               name, cmd->timeout_ms);
        else if (ch.too_long)
                (void)snprintf(reason, reason_size,
                               "guardrail command '%s' answered more than %zu bytes", name,
                               BRIDLE__GUARD_MAX_ANSWER);
        else
                judge(&ch, name, ret_deny, reason, reason_size);
        return 0;
}
