/* SPDX-License-Identifier: MIT */
#include "sandbox/supervise.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/capture.h"
#include "sandbox/initproto.h"
#include "sandbox/result.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/fd.h"

#define DEFAULT_MAX_OUTPUT (1u << 20)
#define DRAIN_MS 2000 /* after init is gone, how long output may still trickle */

struct sv_state {
        struct bridle__capture cap[2];
        bool exited;        /* init reaped */
        bool got_exit;      /* EXIT reply seen */
        bool timed_out;
        int setup_err;
        char setup_step[sizeof(((struct bridle__init_reply *)0)->text)];
        int exec_err;
        char exec_what[sizeof(((struct bridle__init_reply *)0)->text)];
        int wstatus;
        uint64_t cpu_us, maxrss_kb;
        char rbuf[sizeof(struct bridle__init_reply)];
        size_t rlen;
        char inbuf[65536];
        size_t in_len, in_off;
        bool in_eof;
        bool output_closed; /* the caller's stdout/stderr went away (EPIPE) */
        bool pipe_killed;
        uint64_t t0_us;
};

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int bridle__supervise_reap(pid_t pid)
{
        for (;;) {
                pid_t p = waitpid(pid, NULL, __WALL);
                if (p >= 0 || errno != EINTR)
                        return p < 0 ? -errno : 0;
        }
}

static uint64_t now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void on_reply(struct sv_state *s, const struct bridle__init_reply *r)
{
        bridle__log(7, "sandbox: init reply %u at +%llu us", r->type,
                    (unsigned long long)(now_us() - s->t0_us));
        switch (r->type) {
        case BRIDLE__REPLY_SETUP_ERROR:
                s->setup_err = r->a < 0 ? r->a : -EIO;
                memcpy(s->setup_step, r->text, sizeof(s->setup_step));
                s->setup_step[sizeof(s->setup_step) - 1] = '\0';
                break;
        case BRIDLE__REPLY_EXEC_ERROR:
                s->exec_err = r->a < 0 ? r->a : -EIO;
                memcpy(s->exec_what, r->text, sizeof(s->exec_what));
                s->exec_what[sizeof(s->exec_what) - 1] = '\0';
                break;
        case BRIDLE__REPLY_EXIT:
                s->got_exit = true;
                s->wstatus = r->a;
                s->cpu_us = r->cpu_us;
                s->maxrss_kb = r->maxrss_kb;
                break;
        default:
                break;
        }
}

static void read_replies(struct sv_state *s, int *sock)
{
        for (;;) {
                ssize_t n = recv(*sock, s->rbuf + s->rlen, sizeof(s->rbuf) - s->rlen, MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                                bridle__close(*sock);
                                *sock = -1;
                        }
                        return;
                }
                s->rlen += (size_t)n;
                if (s->rlen == sizeof(s->rbuf)) {
                        struct bridle__init_reply r;
                        memcpy(&r, s->rbuf, sizeof(r));
                        on_reply(s, &r);
                        s->rlen = 0;
                }
        }
}

/* Move what a pipe has to its capture or its target. Closes it at EOF. */
static void pump(struct sv_state *s, const bridle_run_opts *o, int which, int *fd)
{
        char buf[65536];
        for (int i = 0; i < 64; i++) {
                ssize_t n = read(*fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                                bridle__close(*fd);
                                *fd = -1;
                        }
                        return;
                }
                if (o->capture)
                        bridle__capture_add(&s->cap[which], buf, (size_t)n);
                else if (!s->output_closed &&
                         bridle__write_full(which ? o->stderr_fd : o->stdout_fd, buf, (size_t)n) == -EPIPE)
                        s->output_closed = true; /* like a pipeline: the writer dies of SIGPIPE */
        }
}

static void feed_stdin(struct sv_state *s, int src, int *in_w, short revents_src, short revents_w)
{
        if (s->in_len == s->in_off && !s->in_eof && (revents_src & (POLLIN | POLLHUP))) {
                ssize_t n = read(src, s->inbuf, sizeof(s->inbuf));
                if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN)))
                        s->in_eof = true;
                else if (n > 0) {
                        s->in_len = (size_t)n;
                        s->in_off = 0;
                }
        }
        if (s->in_off < s->in_len && (revents_w & POLLOUT)) {
                ssize_t n = write(*in_w, s->inbuf + s->in_off, s->in_len - s->in_off);
                if (n > 0)
                        s->in_off += (size_t)n;
                else if (n < 0 && errno != EAGAIN && errno != EINTR)
                        s->in_eof = true;
        }
        if ((s->in_eof && s->in_off == s->in_len) || (revents_w & (POLLERR | POLLHUP))) {
                bridle__close(*in_w);
                *in_w = -1;
        }
}

static void reap_init(struct sv_state *s, int pidfd, pid_t *unused)
{
        (void)unused;
        siginfo_t si;
        struct rusage ru;
        memset(&si, 0, sizeof(si));
        memset(&ru, 0, sizeof(ru));
        long r;
        do
                r = syscall(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED, &ru);
        while (r < 0 && errno == EINTR);
        s->exited = true;
        bridle__log(7, "sandbox: init reaped at +%llu us", (unsigned long long)(now_us() - s->t0_us));
}

static int poll_timeout(const struct bridle__supervise *sv, const struct sv_state *s,
                        uint64_t drain_deadline)
{
        uint64_t now = now_ms(), dl = UINT64_MAX;
        if (sv->timeout_ms && !s->timed_out && !s->exited)
                dl = sv->t0_ms + sv->timeout_ms;
        if (s->exited)
                dl = drain_deadline;
        if (dl == UINT64_MAX)
                return -1;
        return dl <= now ? 0 : (int)(dl - now > 60000 ? 60000 : dl - now);
}

static void fill_pollfds(const struct bridle__supervise *sv, const struct sv_state *s,
                         struct pollfd p[6])
{
        bool want_in = sv->in_w >= 0 && s->in_off == s->in_len && !s->in_eof;
        p[0] = (struct pollfd){ s->exited ? -1 : sv->pidfd, POLLIN, 0 };
        p[1] = (struct pollfd){ sv->sock, POLLIN, 0 };
        p[2] = (struct pollfd){ sv->out, POLLIN, 0 };
        p[3] = (struct pollfd){ sv->err, POLLIN, 0 };
        p[4] = (struct pollfd){ want_in ? sv->opts->stdin_fd : -1, POLLIN, 0 };
        p[5] = (struct pollfd){ sv->in_w, (short)(s->in_off < s->in_len ? POLLOUT : 0), 0 };
}

/* Init is gone: collect its last words, reap it, stop feeding stdin. */
static void on_init_exit(struct bridle__supervise *sv, struct sv_state *s, uint64_t *ret_drain)
{
        read_replies(s, &sv->sock);
        reap_init(s, sv->pidfd, NULL);
        *ret_drain = now_ms() + DRAIN_MS;
        if (sv->in_w >= 0) {
                bridle__close(sv->in_w);
                sv->in_w = -1;
        }
}

/* Kill the sandbox when its output has nowhere to go or its time is up. */
static void enforce(const struct bridle__supervise *sv, struct sv_state *s, uint64_t now)
{
        if (s->exited)
                return;
        if (s->output_closed && !s->pipe_killed) {
                s->pipe_killed = true;
                (void)syscall(SYS_pidfd_send_signal, sv->pidfd, SIGKILL, NULL, 0);
        }
        if (sv->timeout_ms && !s->timed_out && now >= sv->t0_ms + sv->timeout_ms) {
                s->timed_out = true;
                (void)syscall(SYS_pidfd_send_signal, sv->pidfd, SIGKILL, NULL, 0);
        }
}

static void loop(struct bridle__supervise *sv, struct sv_state *s)
{
        uint64_t drain_deadline = 0;
        for (;;) {
                struct pollfd p[6];
                fill_pollfds(sv, s, p);
                if (s->exited && sv->out < 0 && sv->err < 0 && sv->sock < 0)
                        return;
                int n = poll(p, 6, poll_timeout(sv, s, drain_deadline));
                if (n < 0 && errno != EINTR)
                        return;
                if (p[1].revents)
                        read_replies(s, &sv->sock);
                if (p[2].revents)
                        pump(s, sv->opts, 0, &sv->out);
                if (p[3].revents)
                        pump(s, sv->opts, 1, &sv->err);
                if (sv->in_w >= 0 && (p[4].revents || p[5].revents))
                        feed_stdin(s, sv->opts->stdin_fd, &sv->in_w, p[4].revents, p[5].revents);
                if (p[0].revents)
                        on_init_exit(sv, s, &drain_deadline);
                uint64_t now = now_ms();
                enforce(sv, s, now);
                if (s->exited && now >= drain_deadline)
                        return;
        }
}

static int fill_result(struct bridle__supervise *sv, struct sv_state *s, bridle_run_result *res,
                       bridle_error *err)
{
        res->wall_ms = now_ms() - sv->t0_ms;
        res->cpu_ms = s->cpu_us / 1000;
        res->max_rss_kb = s->maxrss_kb;
        if (s->setup_err && !s->timed_out)
                return bridle__err(err, BRIDLE_E_SANDBOX, "sandbox setup failed at %s: %s",
                                   s->setup_step, bridle_strerror(s->setup_err));
        int r;
        if (s->pipe_killed && !s->got_exit && !s->timed_out) {
                res->exit_code = -1;
                res->signal = SIGPIPE;
                res->status = 128 + SIGPIPE;
        } else if (!s->got_exit && !s->timed_out && !s->exec_err) {
                return bridle__err(err, BRIDLE_E_SANDBOX, "the sandbox's init died before the command ended");
        } else if ((r = bridle__result_status(res, s->timed_out, s->exec_err, s->exec_what, s->wstatus, err)) < 0) {
                return r;
        }
        return sv->opts->capture ? bridle__result_take_output(res, s->cap, err) : 0;
}

int bridle__supervise(struct bridle__supervise *sv, bridle_run_result *res, bridle_error *err)
{
        struct sv_state *s = bridle__calloc(1, sizeof(*s));
        if (!s)
                return bridle__err(err, -ENOMEM, "supervise");
        s->t0_us = sv->t0_us;
        size_t cap = sv->opts->max_output ? sv->opts->max_output : DEFAULT_MAX_OUTPUT;
        int r = 0;
        if (sv->opts->capture && (bridle__capture_init(&s->cap[0], cap) < 0 ||
                                  bridle__capture_init(&s->cap[1], cap) < 0))
                r = bridle__err(err, -ENOMEM, "output buffers");
        if (r == 0) {
                loop(sv, s);
                if (!s->exited) {
                        (void)syscall(SYS_pidfd_send_signal, sv->pidfd, SIGKILL, NULL, 0);
                        reap_init(s, sv->pidfd, NULL);
                }
                r = fill_result(sv, s, res, err);
        }
        int *fds[] = { &sv->sock, &sv->out, &sv->err, &sv->in_w };
        for (size_t i = 0; i < 4; i++) {
                bridle__close(*fds[i]);
                *fds[i] = -1;
        }
        bridle__capture_release(&s->cap[0]);
        bridle__capture_release(&s->cap[1]);
        free(s);
        return r;
}
