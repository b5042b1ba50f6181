/* SPDX-License-Identifier: MIT */
/*
 * bridle_sandbox_run: one command in a fresh sandbox.
 *   prepare (init binary, pipes, cgroup, landlock-mode dirs) -> clone ->
 *   map ids -> plan (with detached, idmapped binds for root callers) -> go ->
 *   supervise (relay or capture output, timeout, replies) -> tear down.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bridle/doctor.h"
#include "sandbox/capture.h"
#include "sandbox/cgroup.h"
#include "sandbox/plan.h"
#include "sandbox/spawn.h"
#include "sandbox/supervise.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/rmtree.h"

struct run_ctx {
        const bridle_sandbox_spec *spec;
        const bridle_run_opts *opts;
        struct bridle__cgroup cg;
        struct plan_ctx pctx;
        bridle__plan plan;
        struct bridle__spawn sp;
        int init_fd, devnull;
        int in[2], out[2], errp[2], sock[2];
        char *ll_ws, *ll_tmp; /* landlock mode: host dirs we made */
};

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int warn(struct run_ctx *c, const char *msg)
{
        return bridle__plan_warn(&c->pctx, "%s", msg);
}

static int find_init(const bridle_run_opts *o, bridle_error *err)
{
        char self[4096], cand[4200];
        const char *env = getenv("BRIDLE_INIT_PATH");
        const char *p = o->init_path ? o->init_path : env && *env ? env : NULL;
        if (p) {
                int fd = open(p, O_RDONLY | O_CLOEXEC);
                return fd >= 0 ? fd : bridle__err(err, -errno, "open bridle-init '%s'", p);
        }
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
                self[n] = '\0';
                (void)snprintf(cand, sizeof(cand), "%s/bridle-init", dirname(self));
                int fd = open(cand, O_RDONLY | O_CLOEXEC);
                if (fd >= 0)
                        return fd;
        }
        int fd = open(BRIDLE_LIBEXECDIR "/bridle-init", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return bridle__err(err, -errno, "find bridle-init (looked beside the program and in '%s')",
                                   BRIDLE_LIBEXECDIR);
        return fd;
}

static void rm_rf(char *dir)
{
        if (dir)
                bridle__rm_tree(AT_FDCWD, dir);
        free(dir);
}

static char *make_tmpdir(const char *tag)
{
        const char *t = getenv("TMPDIR");
        char buf[4096];
        (void)snprintf(buf, sizeof(buf), "%s/bridle-%s-XXXXXX", t && *t == '/' ? t : "/tmp", tag);
        if (!mkdtemp(buf))
                return NULL;
        return bridle__strdup(buf);
}

static void ctx_release(struct run_ctx *c)
{
        int *fds[] = { &c->init_fd, &c->devnull, &c->in[0], &c->in[1], &c->out[0], &c->out[1],
                       &c->errp[0], &c->errp[1], &c->sock[0], &c->sock[1], &c->sp.pidfd,
                       &c->sp.go_fd, &c->pctx.idmap_userns_fd };
        for (size_t i = 0; i < ELEMENTSOF(fds); i++) {
                bridle__close(*fds[i]);
                *fds[i] = -EBADF;
        }
        bridle__plan_release(&c->plan);
        bridle__cgroup_destroy(&c->cg);
        for (size_t i = 0; i < c->pctx.n_warnings; i++)
                free(c->pctx.warnings[i]);
        free(c->pctx.warnings);
        rm_rf(c->ll_ws);
        rm_rf(c->ll_tmp);
        c->ll_ws = c->ll_tmp = NULL;
}

static void ctx_init(struct run_ctx *c, const bridle_sandbox_spec *spec, const bridle_run_opts *opts)
{
        memset(c, 0, sizeof(*c));
        c->spec = spec;
        c->opts = opts;
        c->init_fd = c->devnull = -EBADF;
        for (int i = 0; i < 2; i++)
                c->in[i] = c->out[i] = c->errp[i] = c->sock[i] = -EBADF;
        c->sp.pidfd = c->sp.go_fd = -EBADF;
        c->pctx.idmap_userns_fd = -EBADF;
        c->pctx.serve_fd = -EBADF;
        bridle__plan_init(&c->plan);
}

static int limits_setup(struct run_ctx *c, bridle_error *err)
{
        const bridle_limits *l = &c->spec->limits;
        static unsigned long counter;
        char name[64];
        (void)snprintf(name, sizeof(name), "sb-%d-%lu-%llu", (int)getpid(), ++counter,
                       (unsigned long long)now_ms());
        if (bridle__cgroup_create(&c->cg, name, l->memory, l->pids, err) < 0)
                return err ? err->code : -EIO;
        if (l->memory && !c->cg.has_memory) {
                c->pctx.rlimit_as = l->memory;
                if (warn(c, "memory: no memory cgroup could be made here; applied as RLIMIT_AS "
                            "(address space per process, not the whole tree)") < 0)
                        return bridle__err(err, -ENOMEM, "warning");
        }
        if (l->pids && !c->cg.has_pids) {
                c->pctx.rlimit_nproc = l->pids;
                if (warn(c, "pids: no pids cgroup could be made here; applied as RLIMIT_NPROC "
                            "(per user id, counted across the user namespace)") < 0)
                        return bridle__err(err, -ENOMEM, "warning");
        }
        return 0;
}

static int fd_above(int fd)
{
        if (fd < 0 || fd > 3)
                return fd;
        int n = fcntl(fd, F_DUPFD_CLOEXEC, 4);
        int e = errno;
        bridle__close(fd);
        errno = e;
        return n;
}

static int pipes_setup(struct run_ctx *c, bridle_error *err)
{
        const bridle_run_opts *o = c->opts;
        if (pipe2(c->out, O_CLOEXEC) < 0 || pipe2(c->errp, O_CLOEXEC) < 0 ||
            socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c->sock) < 0)
                return bridle__err(err, -errno, "make pipes");
        bool relay_in = o->stdin_fd >= 0 && !isatty(o->stdin_fd);
        if (relay_in && pipe2(c->in, O_CLOEXEC) < 0)
                return bridle__err(err, -errno, "make pipes");
        if (!relay_in && (c->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
                return bridle__err(err, -errno, "open '/dev/null'");
        int *all[] = { &c->out[0], &c->out[1], &c->errp[0], &c->errp[1], &c->sock[0], &c->sock[1],
                       &c->in[0], &c->in[1], &c->devnull };
        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                if ((*all[i] = fd_above(*all[i])) < -1 && *all[i] != -EBADF)
                        return bridle__err(err, -errno, "move fd");
        (void)fcntl(c->out[0], F_SETFL, O_NONBLOCK);
        (void)fcntl(c->errp[0], F_SETFL, O_NONBLOCK);
        if (relay_in)
                (void)fcntl(c->in[1], F_SETFL, O_NONBLOCK);
        return 0;
}

static int landlock_dirs(struct run_ctx *c, bridle_error *err)
{
        if (c->spec->isolation != BRIDLE_ISOLATION_LANDLOCK)
                return 0;
        if (!c->spec->workspace && !(c->ll_ws = make_tmpdir("ws")))
                return bridle__err(err, -errno, "make a workspace directory");
        if (!(c->ll_tmp = make_tmpdir("tmp")))
                return bridle__err(err, -errno, "make a temporary directory");
        c->pctx.host_workspace = c->spec->workspace ? c->spec->workspace : c->ll_ws;
        c->pctx.host_tmp = c->ll_tmp;
        return warn(c, "isolation landlock: no namespaces. The command sees the host's processes "
                       "and file names, runs as your user, shares the host network except TCP "
                       "(UDP and pathname unix sockets stay reachable), and memory/pids are rlimits") < 0
                       ? bridle__err(err, -ENOMEM, "warning")
                       : 0;
}

static int forbidden(int code, bridle_error *err)
{
        bridle_error why;
        bridle_error_clear(&why);
        if (bridle_doctor_userns_allowed(&why) == 0)
                return bridle__err(err, BRIDLE_E_FORBIDDEN,
                                   "this host forbids the namespaces a sandbox needs: %s "
                                   "(or run with --isolation landlock, which is weaker)", why.msg);
        return bridle__err(err, code, "clone3 into new namespaces");
}

static int start(struct run_ctx *c, bridle_error *err)
{
        bool ns = c->spec->isolation == BRIDLE_ISOLATION_NAMESPACES;
        c->sp = (struct bridle__spawn){
                .init_fd = c->init_fd,
                .stdio = { c->in[0] >= 0 ? c->in[0] : c->devnull, c->out[1], c->errp[1] },
                .sock = c->sock[1],
                .namespaces = ns,
                .pidfd = -EBADF,
                .go_fd = -EBADF,
        };
        int r = bridle__spawn_start(&c->sp, err);
        if (r < 0)
                return ns && (r == -EPERM || r == -ENOSPC || r == -EUSERS || r == -EACCES)
                               ? forbidden(r, err)
                               : r;
        /* The child holds its copies now. */
        int *mine[] = { &c->in[0], &c->out[1], &c->errp[1], &c->sock[1], &c->devnull };
        for (size_t i = 0; i < ELEMENTSOF(mine); i++) {
                bridle__close(*mine[i]);
                *mine[i] = -EBADF;
        }
        if ((r = bridle__cgroup_attach(&c->cg, c->sp.pid, err)) < 0)
                return r;
        if (!ns)
                return 0;
        uid_t uid;
        gid_t gid;
        bridle__spawn_host_ids(&uid, &gid);
        if ((r = bridle__spawn_map(&c->sp, uid, gid, err)) < 0)
                return r;
        c->pctx.detached_binds = geteuid() == 0;
        if (c->pctx.detached_binds) {
                char p[64];
                (void)snprintf(p, sizeof(p), "/proc/%d/ns/user", (int)c->sp.pid);
                c->pctx.idmap_userns_fd = open(p, O_RDONLY | O_CLOEXEC);
        }
        return 0;
}

static int send_plan(struct run_ctx *c, bridle_error *err)
{
        uint32_t len = (uint32_t)c->plan.len;
        char cbuf[CMSG_SPACE(sizeof(int) * BRIDLE__INIT_MAX_FDS)];
        memset(cbuf, 0, sizeof(cbuf));
        struct iovec iov = { &len, sizeof(len) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (c->plan.nfds) {
                mh.msg_control = cbuf;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)c->plan.nfds);
                struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)c->plan.nfds);
                memcpy(CMSG_DATA(cm), c->plan.fds, sizeof(int) * (size_t)c->plan.nfds);
        }
        ssize_t n;
        do
                n = sendmsg(c->sock[0], &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n != sizeof(len))
                return bridle__err(err, -errno, "send the plan");
        /* init reads as we write; a dead init shows up as EPIPE. */
        int r = bridle__write_full(c->sock[0], c->plan.buf, c->plan.len);
        if (r < 0 && r != -EPIPE && r != -ECONNRESET)
                return bridle__err(err, r, "send the plan");
        return 0;
}

/* Everything up to init having its plan: shared by run and create. */
static int launch(struct run_ctx *c, uint64_t t0us, bridle_error *err)
{
        int r;
        if ((c->init_fd = find_init(c->opts, err)) < 0)
                return c->init_fd;
        if ((r = limits_setup(c, err)) < 0 || (r = pipes_setup(c, err)) < 0 ||
            (r = landlock_dirs(c, err)) < 0)
                return r;
        if ((r = start(c, err)) < 0)
                return r;
        bridle__log(7, "sandbox: cloned and mapped at +%llu us", (unsigned long long)(now_us() - t0us));
        c->pctx.argv = c->opts->argv;
        if ((r = bridle__plan_build(c->spec, &c->pctx, &c->plan, err)) < 0)
                return r;
        if ((r = bridle__spawn_go(&c->sp, err)) < 0 || (r = send_plan(c, err)) < 0)
                return r;
        bridle__log(7, "sandbox: plan sent at +%llu us", (unsigned long long)(now_us() - t0us));
        /* Binds and copies now live in init: drop ours early. */
        bridle__plan_release(&c->plan);
        return 0;
}

static int run_sandbox(struct run_ctx *c, bridle_run_result *res, bridle_error *err)
{
        uint64_t t0 = now_ms(), t0us = now_us();
        int r = launch(c, t0us, err);
        if (r < 0)
                return r;
        struct bridle__supervise sv = {
                .opts = c->opts,
                .timeout_ms = c->spec->limits.timeout_ms,
                .t0_ms = t0,
                .t0_us = t0us,
                .pidfd = c->sp.pidfd,
                .sock = c->sock[0],
                .out = c->out[0],
                .err = c->errp[0],
                .in_w = c->in[1],
        };
        c->in[1] = -EBADF; /* the supervisor closes it at EOF */
        r = bridle__supervise(&sv, res, err);
        if (r >= 0 && c->cg.has_memory && bridle__cgroup_peak_kb(&c->cg) > res->max_rss_kb)
                res->max_rss_kb = bridle__cgroup_peak_kb(&c->cg);
        return r;
}

int bridle_sandbox_run(const bridle_sandbox_spec *spec, const bridle_run_opts *opts,
                       bridle_run_result *ret, bridle_error *err)
{
        if (!spec || !opts || !ret || !opts->argv || !opts->argv[0])
                return bridle__err(err, -EINVAL, "no command to run");
        struct run_ctx c;
        ctx_init(&c, spec, opts);
        bridle_run_result res;
        memset(&res, 0, sizeof(res));
        int r = run_sandbox(&c, &res, err);
        if (c.sp.pid > 0) {
                /* Never leave the child behind: kill and reap it. */
                if (c.sp.pidfd >= 0)
                        (void)syscall(SYS_pidfd_send_signal, c.sp.pidfd, SIGKILL, NULL, 0);
                (void)bridle__supervise_reap(c.sp.pid);
        }
        if (r >= 0) {
                res.warnings = TAKE_PTR(c.pctx.warnings);
                c.pctx.n_warnings = 0;
        }
        ctx_release(&c);
        if (r < 0) {
                bridle_run_result_release(&res);
                return r;
        }
        *ret = res;
        return 0;
}

void bridle_run_result_release(bridle_run_result *res)
{
        if (!res)
                return;
        free(res->stdout_buf);
        free(res->stderr_buf);
        free(res->exec_error);
        for (size_t i = 0; res->warnings && res->warnings[i]; i++)
                free(res->warnings[i]);
        free(res->warnings);
        memset(res, 0, sizeof(*res));
}

/* Wait for init's first reply: READY (STARTED) or a setup error. */
static int wait_ready(struct run_ctx *c, bridle_error *err)
{
        struct pollfd p = { c->sock[0], POLLIN, 0 };
        int n;
        do
                n = poll(&p, 1, 60000); /* a minute: mounts of a large manifest */
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                return bridle__err(err, BRIDLE_E_SANDBOX, "the sandbox did not get ready within a minute");
        struct bridle__init_reply r;
        ssize_t k = bridle__read_full(c->sock[0], &r, sizeof(r));
        if (k != (ssize_t)sizeof(r))
                return bridle__err(err, BRIDLE_E_SANDBOX, "the sandbox's init died while starting");
        r.text[sizeof(r.text) - 1] = '\0';
        if (r.type == BRIDLE__REPLY_SETUP_ERROR)
                return bridle__err(err, BRIDLE_E_SANDBOX, "sandbox setup failed at %s: %s", r.text,
                                   bridle_strerror(r.a));
        if (r.type != BRIDLE__REPLY_STARTED)
                return bridle__err(err, BRIDLE_E_PROTOCOL, "unexpected reply %u from init", r.type);
        return 0;
}

int bridle__sandbox_serve(const bridle_sandbox_spec *spec, int listen_fd, struct bridle__served *ret,
                          bridle_error *err)
{
        static const bridle_run_opts opts = { .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1 };
        if (spec->isolation != BRIDLE_ISOLATION_NAMESPACES)
                return bridle__err(err, -EOPNOTSUPP, "living sandboxes need namespaces (not --isolation landlock)");
        struct run_ctx c;
        ctx_init(&c, spec, &opts);
        c.pctx.serve_fd = listen_fd;
        int r = launch(&c, now_us(), err);
        if (r >= 0)
                r = wait_ready(&c, err);
        if (r >= 0) {
                /* Detach: init lives on; its cgroups are the sandbox's to remove. */
                ret->pid = c.sp.pid;
                ret->cgroup = c.cg;
                memset(&c.cg, 0, sizeof(c.cg));
                c.sp.pid = 0;
        } else if (c.sp.pid > 0) {
                (void)syscall(SYS_pidfd_send_signal, c.sp.pidfd, SIGKILL, NULL, 0);
                (void)bridle__supervise_reap(c.sp.pid);
        }
        ctx_release(&c);
        return r;
}
