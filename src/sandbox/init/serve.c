/* SPDX-License-Identifier: MIT */
/*
 * Serve mode: init of a living sandbox. It answers wire requests (wire.h) on a
 * listening socket the harness made under $BRIDLE_HOME and passed in the plan;
 * each EXEC starts a walled-in command (command.c) whose output goes back to
 * the requesting client as OUTPUT frames, then an EXIT frame. When a command
 * exits, what is left of its process group is killed; a timeout kills its
 * whole tree. A client that goes away takes its running commands with it.
 * Commands are forked by the zygote (zygote.c), which stands behind the
 * shared walls already, or by init itself (command.c) when it cannot.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/init/init.h"
#include "sandbox/init/session.h"
#include "sandbox/wire.h"

#define MAX_CLIENTS 64
#define MAX_EXECS 64
#define CHUNK 65536
#define DRAIN_MS 200 /* after a command exits, how long its output may still come */

struct client {
        int fd;
        struct bridle__wire_reader rd;
};

struct exec {
        bool used, exited, timed_out;
        pid_t pid;
        int out, err, errfd;
        int client;
        uint32_t req;
        uint64_t deadline, drain_until;
        int status;
        struct rusage ru;
};

static struct init_state *ST;
static struct client C[MAX_CLIENTS];
static struct exec E[MAX_EXECS];
static char **base_env;
static size_t base_envc;
static char base_cwd[BRIDLE__INIT_MAX_STR];
static int devnull = -1; /* every command's stdin */

/* Finish and send a frame built in p (released here) to client ci, if it is still there. */
static int send_frame(int ci, bridle__plan *p, enum bridle__msg type, uint32_t id)
{
        return init_send_frame(ci >= 0 ? C[ci].fd : -1, p, type, id);
}

static void send_error(int ci, uint32_t id, int code, const char *msg)
{
        init_send_error(ci >= 0 ? C[ci].fd : -1, id, code, msg);
}

static void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

struct exec_req {
        struct init_cmd_req cmd;
        uint64_t timeout;
        int (*builtin)(char *const *argv, const void *data, size_t len);
        const uint8_t *data; /* points into the request frame */
        uint32_t len;
};

static const struct {
        const char *name;
        int (*fn)(char *const *argv, const void *data, size_t len);
} builtins[] = {
        { "read", init_builtin_read },
        { "write", init_builtin_write },
        { "list", init_builtin_list },
        { "patch", init_builtin_patch },
        { "search", init_builtin_search },
};


static int req_field(struct exec_req *q, const bridle__rec *rec)
{
        int r = init_cmd_req_field(&q->cmd, rec, base_cwd);
        if (r <= 0)
                return r;
        bridle__cursor c = { rec->p, rec->len };
        char s[BRIDLE__INIT_MAX_STR];
        switch (rec->type) {
        case BRIDLE__OP_TIMEOUT:
                return bridle__rec_u64(&c, &q->timeout);
        case BRIDLE__OP_BUILTIN:
                if (bridle__rec_str(&c, s, sizeof(s)) < 0)
                        return -EBADMSG;
                for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
                        if (!strcmp(s, builtins[i].name))
                                q->builtin = builtins[i].fn;
                return q->builtin ? 0 : -EOPNOTSUPP;
        case BRIDLE__OP_DATA: {
                uint32_t stream;
                return bridle__rec_u32(&c, &stream) < 0 || bridle__rec_bytes(&c, &q->data, &q->len) < 0
                               ? -EBADMSG : 0;
        }
        default:
                return 0;
        }
}

static int parse_exec(const struct bridle__frame *f, struct exec_req *q)
{
        bridle__cursor c;
        bridle__rec rec;
        int r;
        q->cmd.argc = q->cmd.envc = 0;
        q->timeout = 0;
        q->builtin = NULL;
        q->data = NULL;
        q->len = 0;
        bridle__wire_records(f, &c);
        init_cmd_req_begin(&q->cmd, base_cwd);
        while ((r = bridle__plan_next(&c, &rec)) > 0)
                if ((r = req_field(q, &rec)) < 0)
                        return r;
        if (r < 0)
                return r;
        return q->cmd.argc ? 0 : -EINVAL;
}

static int free_slot(void)
{
        for (int i = 0; i < MAX_EXECS; i++)
                if (!E[i].used)
                        return i;
        return -1;
}

/* argv, environment, cwd and builtin of q into ST for the next command;
 * undo_command() puts ST back. */
static int load_command(struct exec_req *q, char ***ret_env)
{
        size_t cwdlen = strlen(q->cmd.cwd);
        if (cwdlen >= sizeof(ST->cwd))
                return -ENAMETOOLONG;
        char **env = init_build_env(base_env, base_envc, q->cmd.env, q->cmd.envc);
        if (!env)
                return -ENOMEM;
        memcpy(ST->cwd, q->cmd.cwd, cwdlen + 1);
        q->cmd.argv[q->cmd.argc] = NULL;
        ST->argv = q->cmd.argv;
        ST->envp = env;
        ST->builtin = q->builtin;
        ST->builtin_data = q->data;
        ST->builtin_len = q->len;
        *ret_env = env;
        return 0;
}

int init_serve_exec_load(struct init_state *st, const uint8_t *payload, uint32_t len)
{
        static struct exec_req q; /* this process execs or exits soon: never freed */
        struct bridle__frame f = { BRIDLE__MSG_EXEC, 0, payload, len };
        char **env;
        int r = parse_exec(&f, &q);
        return r < 0 ? r : st != ST ? -EINVAL : load_command(&q, &env);
}

/* The direct path: init forks the command and builds every wall in it. */
static int spawn_direct(struct exec_req *q, const int stdio[3], int *ret_errfd)
{
        char saved_cwd[sizeof(ST->cwd)];
        char **sa = ST->argv, **se = ST->envp, **env = NULL;
        memcpy(saved_cwd, ST->cwd, sizeof(saved_cwd));
        int r = load_command(q, &env);
        if (r == 0) {
                memcpy(ST->stdio, stdio, sizeof(ST->stdio));
                r = init_command_start(ST, ret_errfd);
        }
        ST->builtin = NULL;
        ST->argv = sa;
        ST->envp = se;
        ST->stdio[0] = ST->stdio[1] = ST->stdio[2] = -1;
        memcpy(ST->cwd, saved_cwd, sizeof(saved_cwd));
        free(env);
        return r;
}

/* Fork the command with pipes for its output and /dev/null for its input. */
static int spawn(const struct bridle__frame *f, struct exec_req *q, struct exec *x)
{
        int out[2], err[2];
        if (strlen(q->cmd.cwd) >= sizeof(ST->cwd))
                return -ENAMETOOLONG;
        if (pipe2(out, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(err, O_CLOEXEC) < 0) {
                int e = -errno;
                close(out[0]);
                close(out[1]);
                return e;
        }
        const int stdio[3] = { devnull, out[1], err[1] };
        int r = init_zygote_spawn(ST, f->payload, f->len, stdio, &x->errfd);
        if (r == -ENOTCONN)
                r = spawn_direct(q, stdio, &x->errfd);
        close(out[1]);
        close(err[1]);
        if (r < 0) {
                close(out[0]);
                close(err[0]);
                return r;
        }
        x->pid = r;
        x->out = out[0];
        x->err = err[0];
        (void)fcntl(x->out, F_SETFL, O_NONBLOCK);
        (void)fcntl(x->err, F_SETFL, O_NONBLOCK);
        return 0;
}

static const char *exec_error_text(int r)
{
        switch (r) {
        case -EAGAIN:
                return "too many running commands";
        case -EOPNOTSUPP:
                return "unknown file operation";
        case -ECHILD:
                return "the sandbox's command launcher died during the request; try again";
        default:
                return "bad exec request";
        }
}

static void handle_exec(int ci, const struct bridle__frame *f)
{
        static struct exec_req q; /* one request at a time; no per-exec allocation */
        int slot = free_slot(), r;
        if ((r = parse_exec(f, &q)) < 0)
                ;
        else if (slot < 0)
                r = -EAGAIN;
        else {
                struct exec *x = &E[slot];
                memset(x, 0, sizeof(*x));
                x->out = x->err = x->errfd = -1;
                if ((r = spawn(f, &q, x)) == 0) {
                        x->used = true;
                        x->client = ci;
                        x->req = f->id;
                        x->deadline = q.timeout ? init_now_ms() + q.timeout : 0;
                }
        }
        init_cmd_req_free(&q.cmd);
        if (r < 0)
                send_error(ci, f->id, r, exec_error_text(r));
}

static void client_close(int ci)
{
        for (int i = 0; i < MAX_EXECS; i++)
                if (E[i].used && E[i].client == ci) {
                        E[i].client = -1;
                        if (!E[i].exited)
                                init_kill_tree(E[i].pid);
                }
        init_session_client_gone(C[ci].fd);
        close_fd(&C[ci].fd);
        bridle__wire_reader_release(&C[ci].rd);
}

static void client_read(int ci)
{
        uint8_t buf[CHUNK];
        ssize_t n = recv(C[ci].fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0 || bridle__wire_feed(&C[ci].rd, buf, (size_t)n) < 0) {
                client_close(ci);
                return;
        }
        struct bridle__frame f;
        int r;
        while (C[ci].fd >= 0 && (r = bridle__wire_next(&C[ci].rd, &f)) > 0) {
                if (f.type == BRIDLE__MSG_EXEC)
                        handle_exec(ci, &f);
                else if (init_session_request(C[ci].fd, &f))
                        ; /* sessions: answered there */
                else
                        send_error(ci, f.id, -EOPNOTSUPP, "request not supported by this init");
        }
        if (C[ci].fd >= 0 && r < 0) {
                send_error(ci, 0, r, r == -EMSGSIZE ? "frame too large" : "malformed frame");
                client_close(ci);
        }
}

static void accept_client(void)
{
        int fd = accept4(ST->serve_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return;
        for (int i = 0; i < MAX_CLIENTS; i++)
                if (C[i].fd < 0) {
                        C[i].fd = fd;
                        bridle__wire_reader_init(&C[i].rd);
                        /* A client sends its request right after connecting: take
                         * it now rather than after another poll. */
                        client_read(i);
                        return;
                }
        close(fd); /* full: the client sees EOF */
}

/* Move a command's output to its client. */
static void pump(struct exec *x, int stream)
{
        int *fd = stream == 1 ? &x->out : &x->err;
        uint8_t buf[CHUNK];
        ssize_t n = read(*fd, buf, sizeof(buf));
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                close_fd(fd);
                return;
        }
        bridle__plan p;
        bridle__wire_begin(&p);
        bridle__plan_add(&p, BRIDLE__OP_DATA, "ub", stream, buf, (size_t)n);
        if (send_frame(x->client, &p, BRIDLE__MSG_OUTPUT, x->req) < 0 && x->client >= 0)
                client_close(x->client);
}

static void reap(void)
{
        int st;
        struct rusage ru;
        pid_t p;
        while ((p = wait4(-1, &st, WNOHANG, &ru)) > 0) {
                for (int i = 0; i < MAX_EXECS; i++)
                        if (E[i].used && !E[i].exited && E[i].pid == p) {
                                E[i].exited = true;
                                E[i].status = st;
                                E[i].ru = ru;
                                E[i].drain_until = init_now_ms() + DRAIN_MS;
                                (void)kill(-p, SIGKILL); /* what it left in its group */
                        }
                if (!init_zygote_reaped(p))
                        init_session_reaped(p, st, &ru);
        }
}

static void finish(struct exec *x)
{
        bool is_exec = false;
        int err = 0;
        char what[128];
        close_fd(&x->out);
        close_fd(&x->err);
        bridle__plan p;
        bridle__wire_begin(&p);
        uint64_t cpu = (uint64_t)x->ru.ru_utime.tv_sec * 1000000 + (uint64_t)x->ru.ru_utime.tv_usec +
                       (uint64_t)x->ru.ru_stime.tv_sec * 1000000 + (uint64_t)x->ru.ru_stime.tv_usec;
        bridle__plan_add(&p, BRIDLE__OP_STATUS, "iUUu", x->status, cpu, (uint64_t)x->ru.ru_maxrss,
                         (unsigned)x->timed_out);
        if (init_command_report(x->errfd, &is_exec, &err, what, sizeof(what)) > 0)
                bridle__plan_add(&p, BRIDLE__OP_ERROR, "ius", err, (unsigned)is_exec, what);
        x->errfd = -1;
        (void)send_frame(x->client, &p, BRIDLE__MSG_EXIT, x->req);
        x->used = false;
}

/* Timeouts, finished commands, and the next poll timeout. */
static int tick(void)
{
        uint64_t now = init_now_ms(), next = UINT64_MAX;
        for (int i = 0; i < MAX_EXECS; i++) {
                struct exec *x = &E[i];
                if (!x->used)
                        continue;
                if (!x->exited && x->deadline && now >= x->deadline && !x->timed_out) {
                        x->timed_out = true;
                        init_kill_tree(x->pid);
                }
                if (x->exited && ((x->out < 0 && x->err < 0) || now >= x->drain_until)) {
                        finish(x);
                        continue;
                }
                uint64_t d = x->exited ? x->drain_until : x->deadline && !x->timed_out ? x->deadline : 0;
                if (d && d < next)
                        next = d;
        }
        if (next == UINT64_MAX)
                return -1;
        return next <= now ? 0 : (int)(next - now);
}

/* Tell the harness we are ready, and stop depending on it. */
static void detach(void)
{
        (void)prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
        init_reply(BRIDLE__REPLY_STARTED, 0, 0, 0, NULL);
        close(INIT_FD);
}

/* The signalfd for SIGCHLD, sessions, /dev/null; READY; the zygote. */
static void serve_setup(struct init_state *st, int *ret_sfd, int *ret_sess)
{
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_BLOCK, &chld, NULL);
        int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0) {
                init_reply(BRIDLE__REPLY_SETUP_ERROR, -errno, 0, 0, "signalfd");
                _exit(125);
        }
        int sess = init_session_setup(st);
        if (sess < 0) {
                init_reply(BRIDLE__REPLY_SETUP_ERROR, sess, 0, 0, "sessions");
                _exit(125);
        }
        if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
                init_reply(BRIDLE__REPLY_SETUP_ERROR, -errno, 0, 0, "open /dev/null");
                _exit(125);
        }
        detach();
        init_zygote_prepare(st);
        *ret_sfd = sfd;
        *ret_sess = sess;
}

_Noreturn void init_serve(struct init_state *st)
{
        ST = st;
        base_env = st->envp;
        base_envc = st->envc;
        (void)snprintf(base_cwd, sizeof(base_cwd), "%s", st->cwd);
        for (int i = 0; i < MAX_CLIENTS; i++)
                C[i].fd = -1;
        int sfd, sess;
        serve_setup(st, &sfd, &sess);
        for (;;) {
                struct pollfd p[3 + MAX_CLIENTS + 2 * MAX_EXECS];
                int map[3 + MAX_CLIENTS + 2 * MAX_EXECS];
                int n = 0;
                p[n] = (struct pollfd){ st->serve_fd, POLLIN, 0 }, map[n++] = -1;
                p[n] = (struct pollfd){ sfd, POLLIN, 0 }, map[n++] = -2;
                p[n] = (struct pollfd){ sess, POLLIN, 0 }, map[n++] = -3;
                for (int i = 0; i < MAX_CLIENTS; i++)
                        if (C[i].fd >= 0)
                                p[n] = (struct pollfd){ C[i].fd, POLLIN, 0 }, map[n++] = 1000 + i;
                for (int i = 0; i < MAX_EXECS; i++) {
                        if (E[i].used && E[i].out >= 0)
                                p[n] = (struct pollfd){ E[i].out, POLLIN, 0 }, map[n++] = 2000 + i;
                        if (E[i].used && E[i].err >= 0)
                                p[n] = (struct pollfd){ E[i].err, POLLIN, 0 }, map[n++] = 3000 + i;
                }
                int k = poll(p, (nfds_t)n, tick());
                if (k < 0 && errno != EINTR)
                        _exit(1);
                for (int j = 0; k > 0 && j < n; j++) {
                        if (!p[j].revents)
                                continue;
                        if (map[j] == -1)
                                accept_client();
                        else if (map[j] == -3)
                                init_session_event();
                        else if (map[j] == -2) {
                                struct signalfd_siginfo si;
                                while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                                        ;
                                reap();
                        } else if (map[j] >= 3000)
                                pump(&E[map[j] - 3000], 2);
                        else if (map[j] >= 2000)
                                pump(&E[map[j] - 2000], 1);
                        else if (C[map[j] - 1000].fd >= 0)
                                client_read(map[j] - 1000);
                }
        }
}
