/* SPDX-License-Identifier: MIT */
/*
 * The zygote of a living sandbox: a child of init that has built, once, every
 * wall the sandbox's commands share (the nested user+mount namespace, no
 * capabilities, no_new_privs, Landlock, seccomp: init_walls_apply) and then
 * forks the commands. Per EXEC, init sends it the request's records and the
 * command's stdio and exec-report fds over a SOCK_SEQPACKET pair; the zygote
 * starts it with CLONE_PARENT, so the command is init's child like any other
 * (reaped, timed out and killed by init), and answers its pid. The child sets
 * what is its own (stdio, session, cwd, environment, rlimits, a Landlock
 * domain scoping signals: init_command_walled) and execs. A command is started
 * like posix_spawn does (CLONE_VM | CLONE_VFORK, on a stack of its own, no
 * allocation: its argv and environment are laid out in static buffers that
 * the zygote, suspended until the exec, does not touch), so a start copies no
 * page table: on this VM a fork of even a small process costs ~0.2 ms more.
 * Builtins (file operations) run long and allocate: they get a real fork.
 * Sanitizer builds always fork (their runtime does not expect a foreign stack).
 *
 * What a command cannot do to it: signal or ptrace it (each command's own
 * Landlock domain scopes signals and ptrace to itself; seccomp denies ptrace),
 * read its memory or fds (not dumpable, so /proc/<pid>/mem, fd, environ need
 * CAP_SYS_PTRACE), reach its channel (a socketpair: no name, and commands keep
 * only fds 0-2). Without Landlock scoping (ABI < 6) the zygote stays off and
 * every command takes the direct path (command.c).
 *
 * Failure: a zygote that dies is restarted on the next exec. When one cannot
 * be used (it died before saying its walls stand, the request could not be
 * sent, or it did not answer within ZY_TIMEOUT_MS and the request is still
 * unread), init takes the direct path for that request; when it may have
 * forked (it died or hung after reading the request) the request fails rather
 * than run twice. After ZY_MAX_FAILS failures in a row the zygote stays off.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/init/init.h"
#include "sandbox/landlock.h"

#define ZY_MAGIC       0x315a5942u /* "BYZ1" */
#define ZY_MAX_PAYLOAD (60u << 10) /* larger requests take the direct path */
#define ZY_NFDS        4           /* stdin, stdout, stderr, the exec report */
#define ZY_TIMEOUT_MS  2000
#define ZY_MAX_FAILS   3

struct zy_hdr {
        uint32_t magic;
        uint32_t len;
};

static struct {
        pid_t pid;  /* 0: none running */
        int chan;   /* init's end, -1 without a zygote */
        int fails;  /* in a row */
        bool ready; /* it said its walls stand */
        bool off;   /* for good: the direct path only */
} Z = {0, -1, 0, false, true};

/* The zygote's receive buffer (its own copy after the fork). */
static uint8_t zbuf[sizeof(struct zy_hdr) + ZY_MAX_PAYLOAD];

/* What every command starts from (the plan's environment and cwd), taken
 * before any request changed init's state. */
static struct {
        char **env;
        size_t envc;
        char cwd[BRIDLE__INIT_MAX_STR];
} Base;

#if defined(__SANITIZE_ADDRESS__)
#define ZY_VFORK 0
#else
#define ZY_VFORK 1
/* A vfork child's stack, argv, environment and strings: the zygote is
 * suspended while the child uses them, and the next request overwrites them. */
static uint8_t zstack[64 << 10] __attribute__((aligned(64)));
static char zarena[ZY_MAX_PAYLOAD + 64];
static char *zargv[INIT_MAX_ARGS + 1];
static char *zextra[INIT_MAX_ENV];
static char **zenv; /* Base.envc + INIT_MAX_ENV + 1 entries, made by the zygote */
#endif

/* ---- the zygote --------------------------------------------------------- */

/* Nothing of init's but the channel (moved above 2 if it is not): /dev/null
 * on 0-2, every other fd closed. Returns the channel's fd or -errno. */
static int zygote_fds(int chan)
{
        if (chan < 3 && (chan = fcntl(chan, F_DUPFD_CLOEXEC, 3)) < 0)
                return -errno;
        if ((chan > 3 && syscall(SYS_close_range, 3, chan - 1, 0) < 0) ||
            syscall(SYS_close_range, chan + 1, ~0U, 0) < 0)
                return -errno;
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0)
                return -errno;
        for (int i = 0; i < 3; i++)
                if (i != null && dup2(null, i) < 0)
                        return -errno;
        if (null > 2)
                close(null);
        return chan;
}

static _Noreturn void zygote_child(struct init_state *st, int chan, uint32_t len,
                                   const int fds[ZY_NFDS])
{
        int errfd = fds[3];
        close(chan);
        int r = init_serve_exec_load(st, zbuf + sizeof(struct zy_hdr), len);
        if (r < 0)
                init_command_fail(errfd, false, r, "read the request");
        for (int i = 0; i < 3; i++)
                st->stdio[i] = fds[i];
        init_command_walled(st, errfd);
}

#if ZY_VFORK
struct zy_parse {
        char *arena;
        size_t used;
        size_t argc, nextra;
};

/* A string record into the arena (the checks of init_cmd_req_field). */
static char *arena_str(struct zy_parse *z, const bridle__rec *rec)
{
        bridle__cursor c = {rec->p, rec->len};
        const uint8_t *d;
        uint32_t l;
        if (bridle__rec_bytes(&c, &d, &l) < 0 || l >= BRIDLE__INIT_MAX_STR || memchr(d, 0, l) ||
            z->used + l + 1 > sizeof(zarena))
                return NULL;
        char *out = z->arena + z->used;
        memcpy(out, d, l);
        out[l] = '\0';
        z->used += l + 1;
        return out;
}

static int parse_field(struct init_state *st, struct zy_parse *z, const bridle__rec *rec)
{
        char *str;
        switch (rec->type) {
        case BRIDLE__OP_ARG:
        case BRIDLE__OP_ENV:
        case BRIDLE__OP_CWD:
                if (!(str = arena_str(z, rec)))
                        return -EBADMSG;
                break;
        case BRIDLE__OP_BUILTIN:
                return -EINVAL; /* builtins take the fork path */
        default:
                return 0;
        }
        if (rec->type == BRIDLE__OP_ARG) {
                if (z->argc >= INIT_MAX_ARGS)
                        return -E2BIG;
                zargv[z->argc++] = str;
        } else if (rec->type == BRIDLE__OP_ENV) {
                if (z->nextra >= INIT_MAX_ENV)
                        return -E2BIG;
                zextra[z->nextra++] = str;
        } else {
                int n = snprintf(st->cwd, sizeof(st->cwd), "%s%s%s", str[0] == '/' ? "" : Base.cwd,
                                 str[0] == '/' ? "" : "/", str);
                if (n < 0 || (size_t)n >= sizeof(st->cwd))
                        return -ENAMETOOLONG;
        }
        return 0;
}

/* init_build_env() into zenv: the base's entries not overridden, then the request's. */
static void build_env(size_t nextra)
{
        size_t n = 0;
        for (size_t i = 0; i < Base.envc; i++) {
                size_t nl = strcspn(Base.env[i], "=") + 1;
                bool overridden = false;
                for (size_t j = 0; j < nextra; j++)
                        overridden |= strncmp(zextra[j], Base.env[i], nl) == 0;
                if (!overridden)
                        zenv[n++] = Base.env[i];
        }
        for (size_t j = 0; j < nextra; j++)
                zenv[n++] = zextra[j];
        zenv[n] = NULL;
}

/* The EXEC request's argv, environment and cwd into st, without allocating. */
static int parse_noalloc(struct init_state *st, const uint8_t *payload, uint32_t len)
{
        struct zy_parse z = {zarena, 0, 0, 0};
        bridle__cursor c = {payload, len};
        bridle__rec rec;
        int r;
        (void)snprintf(st->cwd, sizeof(st->cwd), "%s", Base.cwd);
        while ((r = bridle__plan_next(&c, &rec)) > 0)
                if ((r = parse_field(st, &z, &rec)) < 0)
                        return r;
        if (r < 0)
                return r;
        if (z.argc == 0)
                return -EINVAL;
        zargv[z.argc] = NULL;
        build_env(z.nextra);
        st->argv = zargv;
        st->envp = zenv;
        st->builtin = NULL;
        return 0;
}

struct zy_vchild {
        struct init_state *st;
        uint32_t len;
        const int *fds;
};

/* Runs on zstack in the zygote's memory until it execs (or exits). */
static int vfork_child(void *arg)
{
        const struct zy_vchild *a = arg;
        int errfd = a->fds[3];
        int r = parse_noalloc(a->st, zbuf + sizeof(struct zy_hdr), a->len);
        if (r < 0)
                init_command_fail(errfd, false, r, "read the request");
        for (int i = 0; i < 3; i++)
                a->st->stdio[i] = a->fds[i];
        init_command_walled(a->st, errfd);
}
#endif

/* Whether the request names a builtin (those take a real fork). */
static bool has_builtin(const uint8_t *payload, uint32_t len)
{
        bridle__cursor c = {payload, len};
        bridle__rec rec;
        while (bridle__plan_next(&c, &rec) > 0)
                if (rec.type == BRIDLE__OP_BUILTIN)
                        return true;
        return false;
}

/* Start the command of the request in zbuf: its pid (init's child) or -errno. */
static long start_command(struct init_state *st, int chan, uint32_t len, const int fds[ZY_NFDS])
{
#if ZY_VFORK
        if (!has_builtin(zbuf + sizeof(struct zy_hdr), len)) {
                struct zy_vchild a = {st, len, fds};
                int pid = clone(vfork_child, zstack + sizeof(zstack),
                                CLONE_VM | CLONE_VFORK | CLONE_PARENT | SIGCHLD, &a);
                return pid < 0 ? -errno : pid;
        }
#endif
        long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
        if (pid == 0)
                zygote_child(st, chan, len, fds);
        return pid < 0 ? -errno : pid;
}

/* One request: start its command, answer the pid or -errno. */
static void zygote_serve_one(struct init_state *st, int chan)
{
        int fds[ZY_NFDS], nfds = 0;
        union {
                char buf[CMSG_SPACE(sizeof(int) * ZY_NFDS)];
                struct cmsghdr align;
        } u;
        struct iovec iov = {zbuf, sizeof(zbuf)};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = u.buf,
                            .msg_controllen = sizeof(u.buf)};
        ssize_t n = recvmsg(chan, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
                return;
        if (n <= 0)
                _exit(0); /* init closed the channel */
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < k; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
                        if (nfds < ZY_NFDS)
                                fds[nfds++] = fd;
                        else
                                close(fd);
                }
        }
        struct zy_hdr h = {0, 0};
        if ((size_t)n >= sizeof(h))
                memcpy(&h, zbuf, sizeof(h));
        int32_t rep = -EBADMSG;
        if (h.magic == ZY_MAGIC && h.len == (size_t)n - sizeof(h) && nfds == ZY_NFDS &&
            !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
                /* The command is init's child: init reaps it, times it out, kills its tree. */
                long pid = start_command(st, chan, h.len, fds);
                rep = (int32_t)pid;
        }
        for (int i = 0; i < nfds; i++)
                close(fds[i]);
        if (send(chan, &rep, sizeof(rep), MSG_NOSIGNAL) != (ssize_t)sizeof(rep))
                _exit(0);
}

static _Noreturn void zygote_main(struct init_state *st, int chan)
{
        const char *step = "zygote";
        sigset_t none;
        sigemptyset(&none);
        /* What init changed for itself; commands inherit the zygote's. */
        (void)signal(SIGPIPE, SIG_DFL);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        (void)prctl(PR_SET_NAME, "bridle-zygote", 0, 0, 0);
        if ((chan = zygote_fds(chan)) < 0 || setsid() < 0 || init_walls_apply(st, &step) < 0)
                _exit(125);
#if ZY_VFORK
        if (!(zenv = calloc(Base.envc + INIT_MAX_ENV + 1, sizeof(char *))))
                _exit(125);
#endif
        /* init is not dumpable, nor is its fork; say it again after the walls
         * changed our credentials. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
                _exit(125);
        int32_t ready = 0;
        if (send(chan, &ready, sizeof(ready), MSG_NOSIGNAL) != (ssize_t)sizeof(ready))
                _exit(0);
        for (;;)
                zygote_serve_one(st, chan);
}

/* ---- init's side ---------------------------------------------------------- */

static int zygote_start(struct init_state *st)
{
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                int e = -errno;
                close(sp[0]);
                close(sp[1]);
                return e;
        }
        if (pid == 0) {
                close(sp[0]);
                zygote_main(st, sp[1]);
        }
        close(sp[1]);
        Z.chan = sp[0];
        Z.pid = pid;
        return 0;
}

/* Forget the zygote (killed if still there; init's reap() collects it). */
static void zygote_drop(void)
{
        if (Z.pid > 0)
                (void)kill(Z.pid, SIGKILL);
        if (Z.chan >= 0)
                close(Z.chan);
        Z.pid = 0;
        Z.chan = -1;
        Z.ready = false;
        if (++Z.fails >= ZY_MAX_FAILS)
                Z.off = true;
}

void init_zygote_prepare(struct init_state *st)
{
        /* Each command's own scoped domain is what keeps it from signalling the
         * zygote: no scoping, no zygote. */
        Z.off = st->mode != 0 || bridle__landlock_abi() < 6;
        Base.env = st->envp;
        Base.envc = st->envc;
        (void)snprintf(Base.cwd, sizeof(Base.cwd), "%s", st->cwd);
        if (!Z.off && zygote_start(st) < 0)
                Z.off = true;
}

bool init_zygote_reaped(pid_t pid)
{
        if (pid <= 0 || pid != Z.pid)
                return false;
        Z.pid = 0;
        zygote_drop();
        return true;
}

static int send_request(const uint8_t *payload, uint32_t len, const int stdio[3], int errfd)
{
        struct zy_hdr h = {ZY_MAGIC, len};
        struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)(uintptr_t)payload, len}};
        union {
                char buf[CMSG_SPACE(sizeof(int) * ZY_NFDS)];
                struct cmsghdr align;
        } u;
        memset(&u, 0, sizeof(u));
        struct msghdr mh = {.msg_iov = iov,
                            .msg_iovlen = 2,
                            .msg_control = u.buf,
                            .msg_controllen = sizeof(u.buf)};
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * ZY_NFDS);
        int fds[ZY_NFDS] = {stdio[0], stdio[1], stdio[2], errfd};
        memcpy(CMSG_DATA(c), fds, sizeof(fds));
        ssize_t n;
        do
                n = sendmsg(Z.chan, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        return n == (ssize_t)(sizeof(h) + len) ? 0 : n < 0 ? -errno : -EIO;
}

/* The zygote's answer to the request just sent: a pid or -errno; -ETIMEDOUT or
 * -EPIPE when it did not answer. */
static int recv_reply(int32_t *ret)
{
        struct pollfd p = {Z.chan, POLLIN, 0};
        uint64_t end = init_now_ms() + ZY_TIMEOUT_MS;
        for (;;) {
                uint64_t now = init_now_ms();
                int k = poll(&p, 1, now >= end ? 0 : (int)(end - now));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -ETIMEDOUT;
                ssize_t n = recv(Z.chan, ret, sizeof(*ret), MSG_DONTWAIT);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                return n == (ssize_t)sizeof(*ret) ? 0 : -EPIPE;
        }
}

/* A new zygote says 0 once its walls stand; one that dies before has read nothing. */
static int wait_ready(void)
{
        int32_t v = -1;
        if (recv_reply(&v) < 0 || v != 0)
                return -ENOTCONN;
        Z.ready = true;
        return 0;
}

int init_zygote_spawn(struct init_state *st, const uint8_t *payload, uint32_t len,
                      const int stdio[3], int *ret_errfd)
{
        if (Z.off || len > ZY_MAX_PAYLOAD || (Z.chan < 0 && zygote_start(st) < 0))
                return -ENOTCONN;
        if (!Z.ready && wait_ready() < 0) {
                zygote_drop();
                return -ENOTCONN;
        }
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        int r = send_request(payload, len, stdio, p[1]);
        close(p[1]);
        if (r < 0) { /* nothing reached it */
                zygote_drop();
                close(p[0]);
                return -ENOTCONN;
        }
        int32_t rep = 0;
        if ((r = recv_reply(&rep)) < 0) {
                /* Bytes still queued were never read: the zygote started nothing
                 * and the direct path may. Else it may have forked: fail. */
                int queued = 0;
                bool unread =
                        r == -ETIMEDOUT && ioctl(Z.chan, TIOCOUTQ, &queued) == 0 && queued > 0;
                zygote_drop();
                close(p[0]);
                return unread ? -ENOTCONN : -ECHILD;
        }
        if (rep < 0) {
                /* It started nothing. Out of processes or memory is the sandbox's
                 * state, and the direct path will say so; anything else (fds it
                 * could not take, say) may be the zygote's own: make a new one. */
                if (rep != -EAGAIN && rep != -ENOMEM)
                        zygote_drop();
                close(p[0]);
                return -ENOTCONN;
        }
        Z.fails = 0;
        *ret_errfd = p[0];
        return rep;
}
