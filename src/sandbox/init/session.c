/* SPDX-License-Identifier: MIT */
/*
 * Sessions: a command started by SESSION_START keeps running after the reply.
 * Its output (stdout and stderr together, or the pty's) is buffered here, at
 * most OUT_CAP bytes between two reads (the head and the tail are kept, the
 * middle is counted), and handed out by the next SESSION_START/WRITE reply:
 * after yield ms, earlier if the process exits. A pty comes from a devpts
 * instance of init's own that is mounted nowhere (fsopen/fsmount), so the
 * sandbox needs no /dev/pts; the child gets the slave as 0/1/2 and as its
 * controlling terminal. All fds and the yield timer sit in one epoll set.
 */
#include "sandbox/init/session.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define OUT_CAP   (1u << 20)
#define HALF      (OUT_CAP / 2)
#define IN_CAP    (1u << 20)
#define DRAIN_MS  100    /* after the process exits, how long its output may still come */
#define MAX_YIELD 300000 /* ms */
#define CHUNK     65536

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

enum { EV_OUT, EV_IN, EV_TIMER };

struct outbuf {
        uint8_t *b;
        size_t len;   /* bytes in b, at most OUT_CAP */
        size_t ring;  /* once full: where the next byte goes in the tail half */
        uint64_t cut; /* bytes dropped from the middle */
};

struct session {
        uint8_t *inq; /* input not yet written */
        size_t inq_len;
        uint64_t drain_until;
        /* The client waiting for output: until deadline, at most wmax bytes. */
        uint64_t deadline, wmax;
        struct outbuf out;
        struct rusage ru;
        uint32_t id;
        pid_t pid;
        int fd;    /* output: the pty master, or the read end of the output pipe */
        int in;    /* input: the master again, or the write end of the stdin pipe */
        int errfd; /* exec failure report (pipes); -1 once read */
        int status;
        int exec_err;
        int wfd;
        uint32_t wreq, wflags;
        bool used, exited, drained, tty, in_eof;
        bool exec_failed, is_exec;
        bool waiting;
        char what[128];
};

static struct init_state *ST;
static struct session S[INIT_MAX_SESSIONS];
static int EP = -1, TFD = -1, PTS = -1;
static uint32_t next_id = 1;
static char **base_env;
static size_t base_envc;
static char base_cwd[BRIDLE__INIT_MAX_STR];

static void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

/* ---- output buffer: head kept, tail in a ring, middle counted ----------------- */

static void out_add(struct outbuf *o, const uint8_t *d, size_t n)
{
        while (n) {
                if (o->len < OUT_CAP) {
                        if (!o->b && !(o->b = malloc(OUT_CAP))) {
                                o->cut += n; /* no memory: count it as cut */
                                return;
                        }
                        size_t k = n < OUT_CAP - o->len ? n : OUT_CAP - o->len;
                        memcpy(o->b + o->len, d, k);
                        o->len += k;
                        d += k;
                        n -= k;
                        continue;
                }
                size_t k = n < HALF - o->ring ? n : HALF - o->ring;
                memcpy(o->b + HALF + o->ring, d, k);
                o->ring = (o->ring + k) % HALF;
                o->cut += k;
                d += k;
                n -= k;
        }
}

static void out_clear(struct outbuf *o)
{
        free(o->b);
        memset(o, 0, sizeof(*o));
}

/* k, or less so that b[0..k) does not end inside a UTF-8 sequence. */
static size_t utf8_head(const uint8_t *b, size_t k)
{
        for (size_t back = 1; back <= 4 && back <= k; back++) {
                uint8_t c = b[k - back];
                if ((c & 0xc0) == 0x80)
                        continue;
                size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
                return len > back ? k - back : k;
        }
        return k;
}

/* The buffered output as one piece of at most max bytes (0: no cap); a cut is
 * marked where it is. Returns the length; *ret is malloc'd (NULL when empty). */
static size_t out_take(struct outbuf *o, uint64_t max, uint8_t **ret, bool *ret_cut)
{
        size_t n = o->len;
        uint8_t *lin = n ? malloc(n) : NULL;
        *ret = NULL;
        *ret_cut = o->cut > 0;
        if (n && !lin) {
                out_clear(o);
                *ret_cut = true;
                return 0;
        }
        if (n && o->cut) { /* head, then the ring from its oldest byte */
                memcpy(lin, o->b, HALF);
                memcpy(lin + HALF, o->b + HALF + o->ring, HALF - o->ring);
                memcpy(lin + OUT_CAP - o->ring, o->b + HALF, o->ring);
        } else if (n)
                memcpy(lin, o->b, n);
        uint64_t cut = o->cut;
        size_t k1 = n, k2 = 0;
        if (max && n > max) {
                k1 = (size_t)max / 2;
                k2 = (size_t)max - k1;
        } else if (cut) {
                k1 = HALF;
                k2 = n - HALF;
        }
        if (k1 + k2 < n || cut) { /* cut between characters: no UTF-8 sequence split */
                k1 = utf8_head(lin, k1);
                for (int i = 0; i < 3 && k2 > 0 && (lin[n - k2] & 0xc0) == 0x80; i++)
                        k2--;
                cut += n - k1 - k2;
        }
        out_clear(o);
        char mark[80];
        int ml = cut ? snprintf(mark, sizeof(mark), "\n[... %llu bytes cut ...]\n",
                                (unsigned long long)cut)
                     : 0;
        uint8_t *r = malloc(k1 + k2 + (size_t)ml + 1);
        if (!r) {
                free(lin);
                *ret_cut = true;
                return 0;
        }
        memcpy(r + k1, mark, (size_t)ml);
        if (lin) {
                memcpy(r, lin, k1);
                memcpy(r + k1 + ml, lin + n - k2, k2);
        }
        free(lin);
        *ret_cut = cut > 0;
        *ret = r;
        return k1 + (size_t)ml + k2;
}

/* ---- replies ------------------------------------------------------------------- */

static void session_free(struct session *s)
{
        if (s->fd >= 0)
                (void)epoll_ctl(EP, EPOLL_CTL_DEL, s->fd, NULL);
        if (s->in >= 0 && s->in != s->fd)
                (void)epoll_ctl(EP, EPOLL_CTL_DEL, s->in, NULL);
        if (s->in == s->fd)
                s->in = -1;
        close_fd(&s->fd);
        close_fd(&s->in);
        close_fd(&s->errfd);
        out_clear(&s->out);
        free(s->inq);
        memset(s, 0, sizeof(*s));
        s->fd = s->in = s->errfd = -1;
}

/* Answer the waiting client with what there is; free the session once its
 * exit has been told. */
static void answer(struct session *s)
{
        if (!s->waiting)
                return;
        s->waiting = false;
        bool done = s->exited && s->drained;
        uint8_t *data;
        bool cut;
        size_t n = out_take(&s->out, s->wmax, &data, &cut);
        bridle__plan p;
        bridle__wire_begin(&p);
        uint32_t flags =
                (cut ? BRIDLE__SESSION_TRUNCATED : 0) | (done ? BRIDLE__SESSION_EXITED : 0);
        bridle__plan_add(&p, BRIDLE__OP_SESSION, "uu", s->id, flags);
        bridle__plan_add(&p, BRIDLE__OP_DATA, "ub", 1, data ? (const void *)data : "", n);
        free(data);
        if (done) {
                uint64_t cpu = (uint64_t)s->ru.ru_utime.tv_sec * 1000000 +
                               (uint64_t)s->ru.ru_utime.tv_usec +
                               (uint64_t)s->ru.ru_stime.tv_sec * 1000000 +
                               (uint64_t)s->ru.ru_stime.tv_usec;
                bridle__plan_add(&p, BRIDLE__OP_STATUS, "iUUu", s->status, cpu,
                                 (uint64_t)s->ru.ru_maxrss, 0u);
                if (s->exec_failed)
                        bridle__plan_add(&p, BRIDLE__OP_ERROR, "ius", s->exec_err,
                                         (unsigned)s->is_exec, s->what);
        }
        (void)init_send_frame(s->wfd, &p, BRIDLE__MSG_OK, s->wreq);
        if (done)
                session_free(s);
}

/* Arm the timer for the earliest deadline of any session. */
static void arm_timer(void)
{
        uint64_t next = UINT64_MAX;
        for (int i = 0; i < INIT_MAX_SESSIONS; i++) {
                struct session *s = &S[i];
                if (!s->used)
                        continue;
                if (s->waiting && s->deadline < next)
                        next = s->deadline;
                if (s->exited && !s->drained && s->drain_until < next)
                        next = s->drain_until;
        }
        struct itimerspec its;
        memset(&its, 0, sizeof(its));
        if (next != UINT64_MAX) {
                uint64_t now = init_now_ms(), d = next > now ? next - now : 1;
                its.it_value.tv_sec = (time_t)(d / 1000);
                its.it_value.tv_nsec = (long)(d % 1000) * 1000000L;
        }
        (void)timerfd_settime(TFD, 0, &its, NULL);
}

static void finish_drain(struct session *s)
{
        s->drained = true;
        if (s->fd >= 0)
                (void)epoll_ctl(EP, EPOLL_CTL_DEL, s->fd, NULL);
        if (s->in == s->fd)
                s->in = -1;
        close_fd(&s->fd);
        if (s->in >= 0)
                (void)epoll_ctl(EP, EPOLL_CTL_DEL, s->in, NULL);
        close_fd(&s->in);
        if (s->errfd >= 0) {
                s->exec_failed = init_command_report(s->errfd, &s->is_exec, &s->exec_err, s->what,
                                                     sizeof(s->what)) > 0;
                s->errfd = -1;
        }
}

/* Is it time to answer? */
static void check(struct session *s, uint64_t now)
{
        if (s->exited && !s->drained && (s->fd < 0 || now >= s->drain_until))
                finish_drain(s);
        if (!s->waiting)
                return;
        if ((s->exited && s->drained) || now >= s->deadline ||
            ((s->wflags & BRIDLE__YIELD_EARLY) && (s->out.len || s->out.cut)))
                answer(s);
}

/* ---- moving bytes -------------------------------------------------------------- */

static void pump_out(struct session *s)
{
        uint8_t buf[CHUNK];
        for (int i = 0; i < 16 && s->fd >= 0; i++) {
                ssize_t n = read(s->fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) { /* EOF, or EIO: the pty's last slave fd closed */
                        (void)epoll_ctl(EP, EPOLL_CTL_DEL, s->fd, NULL);
                        if (s->in == s->fd) /* a pty: input is gone too */
                                s->in = -1;
                        close_fd(&s->fd);
                        return;
                }
                out_add(&s->out, buf, (size_t)n);
        }
}

static void want_out(struct session *s, bool on)
{
        struct epoll_event ev = {.events = (s->in == s->fd ? EPOLLIN : 0) | (on ? EPOLLOUT : 0)};
        ev.data.u64 = ((uint64_t)(s - S) << 8) | (s->in == s->fd ? EV_OUT : EV_IN);
        (void)epoll_ctl(EP, EPOLL_CTL_MOD, s->in, &ev);
}

static void close_input(struct session *s)
{
        if (s->tty) { /* the terminal's end-of-file character */
                const char eof = 4;
                (void)!write(s->in, &eof, 1);
                return;
        }
        (void)epoll_ctl(EP, EPOLL_CTL_DEL, s->in, NULL);
        close_fd(&s->in);
}

static void pump_in(struct session *s)
{
        while (s->in >= 0 && s->inq_len) {
                ssize_t n = write(s->in, s->inq, s->inq_len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n <= 0) { /* the reader is gone: drop the input */
                        s->inq_len = 0;
                        break;
                }
                memmove(s->inq, s->inq + n, s->inq_len - (size_t)n);
                s->inq_len -= (size_t)n;
        }
        if (s->in < 0)
                return;
        want_out(s, s->inq_len > 0);
        if (!s->inq_len && s->in_eof) {
                s->in_eof = false;
                close_input(s);
        }
}

static int queue_in(struct session *s, const uint8_t *d, size_t n)
{
        if (!n || s->in < 0)
                return 0;
        if (s->inq_len + n > IN_CAP)
                return -EAGAIN;
        uint8_t *q = realloc(s->inq, s->inq_len + n);
        if (!q)
                return -ENOMEM;
        memcpy(q + s->inq_len, d, n);
        s->inq = q;
        s->inq_len += n;
        return 0;
}

/* ---- requests ------------------------------------------------------------------ */

struct start_req {
        struct init_cmd_req cmd;
        uint32_t tty, rows, cols;
        uint64_t yield, max;
        uint32_t yflags;
        uint32_t sid, sflags;
        const uint8_t *data;
        uint32_t len;
};

static int req_field(struct start_req *q, const bridle__rec *rec)
{
        int r = init_cmd_req_field(&q->cmd, rec, base_cwd);
        if (r <= 0)
                return r;
        bridle__cursor c = {rec->p, rec->len};
        uint32_t stream;
        switch (rec->type) {
        case BRIDLE__OP_TTY:
                return bridle__rec_u32(&c, &q->tty) < 0 || bridle__rec_u32(&c, &q->rows) < 0 ||
                                       bridle__rec_u32(&c, &q->cols) < 0
                               ? -EBADMSG
                               : 0;
        case BRIDLE__OP_YIELD:
                return bridle__rec_u64(&c, &q->yield) < 0 || bridle__rec_u64(&c, &q->max) < 0 ||
                                       bridle__rec_u32(&c, &q->yflags) < 0
                               ? -EBADMSG
                               : 0;
        case BRIDLE__OP_SESSION:
                return bridle__rec_u32(&c, &q->sid) < 0 || bridle__rec_u32(&c, &q->sflags) < 0
                               ? -EBADMSG
                               : 0;
        case BRIDLE__OP_DATA:
                return bridle__rec_u32(&c, &stream) < 0 ||
                                       bridle__rec_bytes(&c, &q->data, &q->len) < 0
                               ? -EBADMSG
                               : 0;
        default:
                return 0;
        }
}

static int parse(const struct bridle__frame *f, struct start_req *q)
{
        bridle__cursor c;
        bridle__rec rec;
        int r;
        bridle__wire_records(f, &c);
        init_cmd_req_begin(&q->cmd, base_cwd);
        while ((r = bridle__plan_next(&c, &rec)) > 0)
                if ((r = req_field(q, &rec)) < 0)
                        return r;
        if (q->yield > MAX_YIELD)
                q->yield = MAX_YIELD;
        return r;
}

/* Environment for one command: the sandbox's, then the request's on top. */
/* In the child, behind every wall: take the pty as controlling terminal, exec. */
struct tty_exec {
        char **envp;
};

static int tty_trampoline(char *const *argv, const void *data, size_t len)
{
        const struct tty_exec *t = data;
        (void)len;
        if (ioctl(0, TIOCSCTTY, 0) < 0) {
                dprintf(2, "bridle: cannot take the terminal: %s\r\n", strerror(errno));
                return 125;
        }
        environ = t->envp;
        execvp(argv[0], argv);
        int e = errno;
        dprintf(2, "bridle: '%s': %s\r\n", argv[0], strerror(e));
        return e == ENOENT ? 127 : 126;
}

/* devpts of our own, mounted nowhere; else the sandbox's /dev/ptmx. */
static int open_ptmx(void)
{
        if (PTS < 0) {
                int fs = (int)syscall(SYS_fsopen, "devpts", 1 /* FSOPEN_CLOEXEC */);
                if (fs >= 0) {
                        (void)syscall(SYS_fsconfig, fs, 1 /* SET_STRING */, "ptmxmode", "0666", 0);
                        (void)syscall(SYS_fsconfig, fs, 1, "mode", "0620", 0);
                        if (syscall(SYS_fsconfig, fs, 6 /* CMD_CREATE */, NULL, NULL, 0) == 0)
                                PTS = (int)syscall(SYS_fsmount, fs, 1 /* FSMOUNT_CLOEXEC */, 0);
                        close(fs);
                }
        }
        int m = PTS >= 0 ? openat(PTS, "ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
        if (m < 0)
                m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        return m < 0 ? -errno : m;
}

static int make_pty(const struct start_req *q, int *ret_master, int *ret_slave)
{
        int m = open_ptmx();
        if (m < 0)
                return m;
        int unlock = 0;
        struct winsize ws = {.ws_row = (unsigned short)(q->rows ? q->rows : 24),
                             .ws_col = (unsigned short)(q->cols ? q->cols : 80)};
        int sl = -1;
        if (ioctl(m, TIOCSPTLCK, &unlock) < 0 || ioctl(m, TIOCSWINSZ, &ws) < 0 ||
            (sl = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
                int e = -errno;
                close(m);
                return e;
        }
        *ret_master = m;
        *ret_slave = sl;
        return 0;
}

/* Pipes: stdin, and one pipe for stdout and stderr together. Child ends in c[0..1]. */
static int make_pipes(int *ret_out, int *ret_in, int c[2])
{
        int in[2], out[2];
        if (pipe2(in, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(out, O_CLOEXEC) < 0) {
                int e = -errno;
                close(in[0]);
                close(in[1]);
                return e;
        }
        *ret_out = out[0];
        *ret_in = in[1];
        c[0] = in[0];
        c[1] = out[1];
        return 0;
}

static int fork_command(struct start_req *q, struct session *s, int cin, int cout)
{
        size_t cwdlen = strlen(q->cmd.cwd);
        if (cwdlen >= sizeof(ST->cwd))
                return -ENAMETOOLONG;
        char **env = init_build_env(base_env, base_envc, q->cmd.env, q->cmd.envc);
        if (!env)
                return -ENOMEM;
        struct tty_exec t = {env};
        char saved_cwd[sizeof(ST->cwd)];
        memcpy(saved_cwd, ST->cwd, sizeof(saved_cwd));
        memcpy(ST->cwd, q->cmd.cwd, cwdlen + 1);
        q->cmd.argv[q->cmd.argc] = NULL;
        char **sa = ST->argv, **se = ST->envp;
        ST->argv = q->cmd.argv;
        ST->envp = env;
        ST->stdio[0] = cin;
        ST->stdio[1] = ST->stdio[2] = cout;
        if (q->tty) {
                ST->builtin = tty_trampoline;
                ST->builtin_data = &t;
                ST->builtin_len = sizeof(t);
        }
        int r = init_command_start(ST, &s->errfd);
        ST->builtin = NULL;
        ST->builtin_data = NULL;
        ST->builtin_len = 0;
        ST->argv = sa;
        ST->envp = se;
        ST->stdio[0] = ST->stdio[1] = ST->stdio[2] = -1;
        memcpy(ST->cwd, saved_cwd, sizeof(saved_cwd));
        free(env);
        if (r < 0)
                return r;
        s->pid = r;
        return 0;
}

static int watch(struct session *s)
{
        struct epoll_event ev = {.events = EPOLLIN};
        ev.data.u64 = ((uint64_t)(s - S) << 8) | EV_OUT;
        if (epoll_ctl(EP, EPOLL_CTL_ADD, s->fd, &ev) < 0)
                return -errno;
        if (s->in == s->fd)
                return 0;
        ev.events = 0;
        ev.data.u64 = ((uint64_t)(s - S) << 8) | EV_IN;
        return epoll_ctl(EP, EPOLL_CTL_ADD, s->in, &ev) < 0 ? -errno : 0;
}

static int spawn(struct start_req *q, struct session *s)
{
        int c[2] = {-1, -1}, r;
        if (q->tty) {
                r = make_pty(q, &s->fd, &c[0]);
                s->in = s->fd;
                c[1] = c[0];
        } else
                r = make_pipes(&s->fd, &s->in, c);
        if (r < 0)
                return r;
        (void)fcntl(s->fd, F_SETFL, O_NONBLOCK);
        (void)fcntl(s->in, F_SETFL, O_NONBLOCK);
        r = fork_command(q, s, c[0], c[1]);
        close(c[0]);
        if (c[1] != c[0])
                close(c[1]);
        if (r == 0)
                r = watch(s);
        return r;
}

static void wait_for(struct session *s, int fd, uint32_t req, const struct start_req *q)
{
        s->waiting = true;
        s->wfd = fd;
        s->wreq = req;
        s->wflags = q->yflags;
        s->wmax = q->max;
        s->deadline = init_now_ms() + q->yield;
}

static void handle_start(int fd, const struct bridle__frame *f, struct start_req *q)
{
        int slot = -1, r = parse(f, q);
        for (int i = 0; i < INIT_MAX_SESSIONS && slot < 0; i++)
                if (!S[i].used)
                        slot = i;
        if (r == 0 && !q->cmd.argc)
                r = -EINVAL;
        if (r == 0 && slot < 0) {
                init_send_error(fd, f->id, -EAGAIN, "too many sessions (at most 64 per sandbox)");
                return;
        }
        struct session *s = r == 0 ? &S[slot] : NULL;
        if (s) {
                session_free(s);
                s->tty = q->tty != 0;
                if ((r = spawn(q, s)) < 0) {
                        if (s->pid > 0) {
                                (void)kill(s->pid, SIGKILL);
                        }
                        session_free(s);
                }
        }
        if (r < 0) {
                init_send_error(fd, f->id, r, "bad session request");
                return;
        }
        s->used = true;
        s->id = next_id++;
        wait_for(s, fd, f->id, q);
        check(s, init_now_ms());
}

static struct session *find(uint32_t id)
{
        for (int i = 0; i < INIT_MAX_SESSIONS; i++)
                if (S[i].used && S[i].id == id)
                        return &S[i];
        return NULL;
}

static void send_ok(int fd, uint32_t req, uint32_t sid)
{
        bridle__plan p;
        bridle__wire_begin(&p);
        bridle__plan_add(&p, BRIDLE__OP_SESSION, "uu", sid, 0u);
        (void)init_send_frame(fd, &p, BRIDLE__MSG_OK, req);
}

static void handle_write(int fd, const struct bridle__frame *f, struct start_req *q)
{
        int r = parse(f, q);
        struct session *s = r == 0 ? find(q->sid) : NULL;
        if (r < 0 || !s) {
                init_send_error(fd, f->id, r < 0 ? r : -ENOENT,
                           r < 0 ? "bad session request" : "no such session");
                return;
        }
        if (!s->exited && (r = queue_in(s, q->data, q->len)) < 0) {
                init_send_error(fd, f->id, r, "the session's input is full");
                return;
        }
        if (q->sflags & BRIDLE__SESSION_EOF)
                s->in_eof = true;
        pump_in(s);
        if (q->yflags & BRIDLE__YIELD_NOREAD) {
                send_ok(fd, f->id, s->id);
                return;
        }
        answer(s); /* whoever waited gets what there is now */
        if (!s->used)
                return; /* that answer told the exit: the session is gone */
        wait_for(s, fd, f->id, q);
        check(s, init_now_ms());
}

/* The process, its group, and every descendant (setsid does not escape):
 * walked through /proc/PID/task/PID/children, as EXEC's timeout does. */
static void handle_kill(int fd, const struct bridle__frame *f, struct start_req *q)
{
        int r = parse(f, q);
        struct session *s = r == 0 ? find(q->sid) : NULL;
        if (r < 0 || !s) {
                init_send_error(fd, f->id, r < 0 ? r : -ENOENT,
                           r < 0 ? "bad session request" : "no such session");
                return;
        }
        if (!s->exited)
                init_kill_tree(s->pid);
        uint32_t id = s->id;
        answer(s);
        if (s->used)
                session_free(s);
        send_ok(fd, f->id, id);
}

static void handle_resize(int fd, const struct bridle__frame *f, struct start_req *q)
{
        int r = parse(f, q);
        struct session *s = r == 0 ? find(q->sid) : NULL;
        if (r < 0 || !s) {
                init_send_error(fd, f->id, r < 0 ? r : -ENOENT,
                           r < 0 ? "bad session request" : "no such session");
                return;
        }
        struct winsize ws = {.ws_row = (unsigned short)(q->rows ? q->rows : 24),
                             .ws_col = (unsigned short)(q->cols ? q->cols : 80)};
        if (s->tty && s->fd >= 0 && ioctl(s->fd, TIOCSWINSZ, &ws) < 0) {
                init_send_error(fd, f->id, -errno, "resize");
                return;
        }
        send_ok(fd, f->id, s->id);
}

bool init_session_request(int client_fd, const struct bridle__frame *f)
{
        if (f->type < BRIDLE__MSG_SESSION_START || f->type > BRIDLE__MSG_SESSION_RESIZE)
                return false;
        struct start_req *q = calloc(1, sizeof(*q));
        if (!q) {
                init_send_error(client_fd, f->id, -ENOMEM, "out of memory");
                return true;
        }
        if (f->type == BRIDLE__MSG_SESSION_START)
                handle_start(client_fd, f, q);
        else if (f->type == BRIDLE__MSG_SESSION_WRITE)
                handle_write(client_fd, f, q);
        else if (f->type == BRIDLE__MSG_SESSION_KILL)
                handle_kill(client_fd, f, q);
        else
                handle_resize(client_fd, f, q);
        init_cmd_req_free(&q->cmd);
        free(q);
        arm_timer();
        return true;
}

void init_session_client_gone(int client_fd)
{
        for (int i = 0; i < INIT_MAX_SESSIONS; i++)
                if (S[i].used && S[i].waiting && S[i].wfd == client_fd)
                        S[i].waiting = false;
}

void init_session_reaped(pid_t pid, int status, const struct rusage *ru)
{
        for (int i = 0; i < INIT_MAX_SESSIONS; i++) {
                struct session *s = &S[i];
                if (!s->used || s->exited || s->pid != pid)
                        continue;
                s->exited = true;
                s->status = status;
                s->ru = *ru;
                s->drain_until = init_now_ms() + DRAIN_MS;
                (void)kill(-pid, SIGKILL); /* what it left in its group */
                pump_out(s);
                check(s, init_now_ms());
                arm_timer();
                return;
        }
}

void init_session_event(void)
{
        struct epoll_event ev[32];
        int n = epoll_wait(EP, ev, 32, 0);
        for (int i = 0; i < n; i++) {
                unsigned kind = (unsigned)(ev[i].data.u64 & 0xff);
                if (kind == EV_TIMER) {
                        uint64_t x;
                        (void)!read(TFD, &x, sizeof(x));
                        continue;
                }
                struct session *s = &S[ev[i].data.u64 >> 8];
                if (!s->used)
                        continue;
                if (kind == EV_IN && (ev[i].events & (EPOLLERR | EPOLLHUP)) && s->in >= 0) {
                        s->inq_len = 0; /* nobody reads its stdin any more */
                        (void)epoll_ctl(EP, EPOLL_CTL_DEL, s->in, NULL);
                        close_fd(&s->in);
                        continue;
                }
                if (ev[i].events & EPOLLOUT)
                        pump_in(s);
                if (kind == EV_OUT && (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                        pump_out(s);
        }
        uint64_t now = init_now_ms();
        for (int i = 0; i < INIT_MAX_SESSIONS; i++)
                if (S[i].used)
                        check(&S[i], now);
        arm_timer();
}

int init_session_setup(struct init_state *st)
{
        ST = st;
        base_env = st->envp;
        base_envc = st->envc;
        (void)snprintf(base_cwd, sizeof(base_cwd), "%s", st->cwd);
        for (int i = 0; i < INIT_MAX_SESSIONS; i++)
                S[i].fd = S[i].in = S[i].errfd = -1;
        EP = epoll_create1(EPOLL_CLOEXEC);
        TFD = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (EP < 0 || TFD < 0)
                return -errno;
        struct epoll_event ev = {.events = EPOLLIN};
        ev.data.u64 = EV_TIMER;
        if (epoll_ctl(EP, EPOLL_CTL_ADD, TFD, &ev) < 0)
                return -errno;
        return EP;
}
