/* SPDX-License-Identifier: MIT */
/*
 * bridle-init. Reads the plan from fd 3, builds the sandbox, runs the command
 * and reports its end. In namespaces mode it is pid 1 of the sandbox: when it
 * exits, the kernel kills every process left in the pid namespace.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/init/egress_bridge.h"
#include "sandbox/init/init.h"

static struct init_state S;

#if defined(__SANITIZE_ADDRESS__)
/* Sanitizer builds: init starts with an empty environment, so ASAN_OPTIONS from
 * the tests never reach it. It exits with its plan still allocated on purpose. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
        return "detect_leaks=0:abort_on_error=1";
}
#endif

void init_reply(uint32_t type, int32_t a, uint64_t cpu_us, uint64_t maxrss, const char *text)
{
        struct bridle__init_reply r;
        memset(&r, 0, sizeof(r));
        r.type = type;
        r.a = a;
        r.cpu_us = cpu_us;
        r.maxrss_kb = maxrss;
        if (text)
                (void)snprintf(r.text, sizeof(r.text), "%s", text);
        (void)send(INIT_FD, &r, sizeof(r), MSG_NOSIGNAL);
}

static _Noreturn void die(int err, const char *step)
{
        init_reply(BRIDLE__REPLY_SETUP_ERROR, err, 0, 0, step);
        _exit(125);
}

/* The plan arrives as: u32 length with the fds attached, then the bytes. */
static uint8_t *read_plan(size_t *ret_len)
{
        uint32_t len = 0;
        char cbuf[CMSG_SPACE(sizeof(int) * BRIDLE__INIT_MAX_FDS)];
        struct iovec iov = { &len, sizeof(len) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                             .msg_controllen = sizeof(cbuf) };
        ssize_t n;
        do
                n = recvmsg(INIT_FD, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n != sizeof(len) || len > BRIDLE__INIT_MAX_PLAN || (mh.msg_flags & MSG_CTRUNC))
                die(-EBADMSG, "read the plan");
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                memcpy(S.fds, CMSG_DATA(c), k * sizeof(int));
                S.nfds = (int)k;
        }
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf)
                die(-ENOMEM, "read the plan");
        size_t got = 0;
        while (got < len) {
                n = read(INIT_FD, buf + got, len - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        die(-EBADMSG, "read the plan");
                got += (size_t)n;
        }
        *ret_len = len;
        return buf;
}

static int push_str(char ***v, size_t *n, const char *s)
{
        if (*n >= INIT_MAX_ARGS)
                return -E2BIG;
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        *v = nv;
        if (!(nv[*n] = strdup(s)))
                return -ENOMEM;
        nv[++*n] = NULL;
        return 0;
}

/* First pass: everything that is state rather than a step. */
static int collect(const bridle__rec *rec)
{
        bridle__cursor c = { rec->p, rec->len };
        char s[BRIDLE__INIT_MAX_STR];
        uint32_t u;
        uint64_t v;
        switch (rec->type) {
        case BRIDLE__OP_MODE:
                return bridle__rec_u32(&c, &S.mode);
        case BRIDLE__OP_NET:
                return bridle__rec_u32(&c, &S.net);
        case BRIDLE__OP_ARG:
                return bridle__rec_str(&c, s, sizeof(s)) < 0 ? -EBADMSG : push_str(&S.argv, &S.argc, s);
        case BRIDLE__OP_ENV:
                return bridle__rec_str(&c, s, sizeof(s)) < 0 ? -EBADMSG : push_str(&S.envp, &S.envc, s);
        case BRIDLE__OP_CWD:
                return bridle__rec_str(&c, S.cwd, sizeof(S.cwd));
        case BRIDLE__OP_NEWROOT:
                return bridle__rec_str(&c, S.newroot, sizeof(S.newroot));
        case BRIDLE__OP_SERVE:
                if (bridle__rec_u32(&c, &u) < 0 || (int32_t)u < 0 || (int32_t)u >= S.nfds)
                        return -EBADMSG;
                S.serve_fd = S.fds[u];
                S.fds[u] = -1; /* ours to keep, not closed with the others */
                return 0;
        case BRIDLE__OP_RLIMIT:
                if (S.n_rlimits >= 16 || bridle__rec_u32(&c, &u) < 0 || bridle__rec_u64(&c, &v) < 0)
                        return -EBADMSG;
                S.rlimits[S.n_rlimits].res = u;
                S.rlimits[S.n_rlimits++].val = v;
                return 0;
        case BRIDLE__OP_LANDLOCK:
                if (S.n_rules >= INIT_MAX_RULES || bridle__rec_u64(&c, &v) < 0 ||
                    bridle__rec_str(&c, s, sizeof(s)) < 0)
                        return -EBADMSG;
                S.rules[S.n_rules].access = (uint32_t)v;
                if (!(S.rules[S.n_rules++].path = strdup(s)))
                        return -ENOMEM;
                return 0;
        case BRIDLE__OP_EGRESS:
                return init_egress_collect(&c, S.fds, S.nfds);
        case BRIDLE__OP_PROTECT:
                return init_protect_collect(&c);
        case BRIDLE__OP_HOSTNAME:
                if (bridle__rec_str(&c, s, sizeof(s)) < 0)
                        return -EBADMSG;
                return 0;
        default:
                return 0;
        }
}

typedef int (*pass_fn)(const bridle__rec *rec);

static int fs_pass(const bridle__rec *rec)
{
        return init_fs_op(&S, rec);
}

static int files_pass(const bridle__rec *rec)
{
        return init_files_op(&S, rec);
}

static void run_pass(const uint8_t *plan, size_t len, pass_fn fn, const char *what)
{
        bridle__cursor c;
        bridle__rec rec;
        int r;
        if (bridle__plan_open(plan, len, &c) < 0)
                die(-EBADMSG, "read the plan");
        S.step = what;
        while ((r = bridle__plan_next(&c, &rec)) > 0) {
                if ((r = fn(&rec)) < 0)
                        die(r, S.step ? S.step : what);
        }
        if (r < 0)
                die(r, "read the plan");
}

static void build_sandbox(const uint8_t *plan, size_t len)
{
        int r;
        struct init_net net;
        /* The harness put us in our cgroup before letting us run. */
        if (unshare(CLONE_NEWCGROUP) < 0)
                die(-errno, "make the cgroup namespace");
        if ((r = init_net_start(&net, S.net)) < 0)
                die(r, "start the network namespace helper");
        if ((r = init_fs_begin(S.newroot)) < 0)
                die(r, "prepare the root");
        run_pass(plan, len, fs_pass, "mount");
        if ((r = init_fs_finish(&S)) < 0)
                die(r, S.step);
        run_pass(plan, len, files_pass, "workspace entries");
        if ((r = init_protect_apply(&S)) < 0)
                die(r, S.step);
        if ((r = init_root_readonly(&S)) < 0)
                die(r, S.step);
        if (sethostname("bridle", 6) < 0)
                die(-errno, "set the hostname");
        if ((r = init_net_join(&net)) < 0)
                die(r, S.net == 1 ? "make the network namespace with loopback up"
                                  : "make the network namespace");
        if ((r = init_egress_start()) < 0)
                die(r, "start the egress bridge on 127.0.0.1:3128");
}

/* Children of init right now (landlock mode: orphans reparent to us). */
static size_t list_children(pid_t *out, size_t cap)
{
        char path[64], buf[4096];
        (void)snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
        FILE *f = fopen(path, "re");
        if (!f)
                return 0;
        size_t n = 0;
        if (fgets(buf, sizeof(buf), f))
                for (char *t = strtok(buf, " \n"); t && n < cap; t = strtok(NULL, " \n"))
                        out[n++] = (pid_t)atoi(t);
        fclose(f);
        return n;
}

/* Kill whatever the command left behind and reap it, bounded. */
static void reap_rest(void)
{
        if (S.mode == 0) {
                /* pid 1 of the namespace: kill(-1) reaches every other process in it. */
                (void)kill(-1, SIGKILL);
                for (int i = 0; i < 100000 && waitpid(-1, NULL, 0) > 0; i++)
                        ;
                return;
        }
        for (int round = 0; round < 1000; round++) {
                pid_t kids[256];
                size_t n = list_children(kids, 256);
                for (size_t i = 0; i < n; i++)
                        (void)kill(kids[i], SIGKILL);
                int reaped = 0;
                while (waitpid(-1, NULL, n ? 0 : WNOHANG) > 0 && reaped < 100000) {
                        reaped++;
                        if (n && (size_t)reaped >= n)
                                break;
                }
                if (n == 0 && reaped == 0)
                        break;
        }
}

static int wait_command(pid_t cmd)
{
        int st = 0;
        for (;;) {
                pid_t p = waitpid(-1, &st, 0);
                if (p == cmd)
                        return st;
                if (p < 0 && errno != EINTR)
                        return st;
        }
}

int main(void)
{
        (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        /* Die with the harness. Set here, not before the exec: the kernel
         * clears it when the clone child became uid 0 of its namespace. If the
         * harness is already gone, reading the plan sees EOF and init exits. */
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        signal(SIGPIPE, SIG_IGN);
        size_t len;
        S.serve_fd = -1;
        S.stdio[0] = S.stdio[1] = S.stdio[2] = -1;
        uint8_t *plan = read_plan(&len);
        run_pass(plan, len, collect, "read the plan");
        if (S.argc == 0 && S.serve_fd < 0)
                die(-EINVAL, "no command");
        if (S.serve_fd >= 0 && S.mode != 0)
                die(-EOPNOTSUPP, "living sandboxes need namespaces");
        if (S.mode == 0)
                build_sandbox(plan, len);
        else
                run_pass(plan, len, files_pass, "workspace entries");
        if (S.mode == 1)
                (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        for (int i = 0; i < S.nfds; i++)
                if (S.fds[i] >= 0)
                        close(S.fds[i]);
        S.nfds = 0;
        free(plan);
        if (S.serve_fd >= 0)
                init_serve(&S);

        int errfd;
        int pid = init_command_start(&S, &errfd);
        if (pid < 0)
                die(pid, "fork the command");
        close(0);
        close(1);
        close(2);
        /* The command's fate is read after it exits: a failed exec left a
         * report on errfd; a successful one closed it. No wake-up is spent on
         * the exec itself. */
        int st = wait_command(pid);
        bool is_exec = false;
        int err = 0;
        char step[128];
        if (init_command_report(errfd, &is_exec, &err, step, sizeof(step)) > 0) {
                if (!is_exec)
                        die(err, step);
                init_reply(BRIDLE__REPLY_EXEC_ERROR, err, 0, 0, step);
                _exit(0);
        }
        reap_rest();
        struct rusage ru;
        memset(&ru, 0, sizeof(ru));
        (void)getrusage(RUSAGE_CHILDREN, &ru);
        uint64_t cpu = (uint64_t)ru.ru_utime.tv_sec * 1000000 + (uint64_t)ru.ru_utime.tv_usec +
                       (uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec;
        init_reply(BRIDLE__REPLY_EXIT, st, cpu, (uint64_t)ru.ru_maxrss, NULL);
        return 0;
}
