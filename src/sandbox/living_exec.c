/* SPDX-License-Identifier: MIT */
/*
 * Commands and file operations in a living sandbox: the client side of the
 * wire. A file operation is a command too (init runs its builtin behind the
 * same walls), so read, write and list reuse exec's request and reply.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/capture.h"
#include "sandbox/living.h"
#include "sandbox/result.h"
#include "sandbox/wire.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fd.h"

struct builtin_req {
        const char *name;
        const void *data;
        size_t len;
};

/* The EXEC frame, built before connecting: init reads it right after accepting. */
static int build_exec(bridle__plan *p, const bridle_exec_opts *o, const struct builtin_req *b)
{
        bridle__wire_begin(p);
        if (b) {
                bridle__plan_add(p, BRIDLE__OP_BUILTIN, "s", b->name);
                if (b->data)
                        bridle__plan_add(p, BRIDLE__OP_DATA, "ub", 0, b->data, b->len);
        }
        for (size_t i = 0; o->argv[i]; i++)
                bridle__plan_add(p, BRIDLE__OP_ARG, "s", o->argv[i]);
        for (size_t i = 0; o->env && o->env[i]; i++)
                bridle__plan_add(p, BRIDLE__OP_ENV, "s", o->env[i]);
        if (o->cwd)
                bridle__plan_add(p, BRIDLE__OP_CWD, "s", o->cwd);
        if (o->timeout_ms)
                bridle__plan_add(p, BRIDLE__OP_TIMEOUT, "U", o->timeout_ms);
        return bridle__wire_finish(p, BRIDLE__MSG_EXEC, 1);
}

struct exec_state {
        const bridle_exec_opts *o;
        struct bridle__capture cap[2];
        size_t cap_size;  /* per stream */
        bool cap_ready;   /* the buffers are made on the first output */
        bool cap_oom;
        bool done;
        int status, exec_err;
        bool is_exec, timed_out;
        uint64_t cpu_us, rss_kb;
        char what[256];
        char msg[256];
        int error;
};

/* Most commands print nothing: the capture buffers (2 x max_output) are made
 * only when output comes (or, tiny, for the result). */
static int capture_ready(struct exec_state *s, size_t cap)
{
        if (s->cap_ready)
                return 0;
        if (bridle__capture_init(&s->cap[0], cap) < 0)
                return -ENOMEM;
        if (bridle__capture_init(&s->cap[1], cap) < 0) {
                bridle__capture_release(&s->cap[0]);
                return -ENOMEM;
        }
        s->cap_ready = true;
        return 0;
}

static void on_record(struct exec_state *s, const bridle__rec *rec)
{
        bridle__cursor c = { rec->p, rec->len };
        uint32_t u, t;
        uint64_t a, b;
        const uint8_t *d;
        switch (rec->type) {
        case BRIDLE__OP_DATA:
                if (bridle__rec_u32(&c, &u) < 0 || bridle__rec_bytes(&c, &d, &t) < 0 || (u != 1 && u != 2))
                        return;
                if (s->o->capture && capture_ready(s, s->cap_size) < 0)
                        s->cap_oom = true;
                else if (s->o->capture)
                        bridle__capture_add(&s->cap[u - 1], (const char *)d, t);
                else
                        (void)bridle__write_full(u == 1 ? s->o->stdout_fd : s->o->stderr_fd, d, t);
                return;
        case BRIDLE__OP_STATUS:
                if (bridle__rec_u32(&c, &u) == 0 && bridle__rec_u64(&c, &a) == 0 &&
                    bridle__rec_u64(&c, &b) == 0 && bridle__rec_u32(&c, &t) == 0) {
                        s->status = (int)u;
                        s->cpu_us = a;
                        s->rss_kb = b;
                        s->timed_out = t != 0;
                }
                return;
        case BRIDLE__OP_ERROR:
                if (bridle__rec_u32(&c, &u) == 0 && bridle__rec_u32(&c, &t) == 0) {
                        s->exec_err = (int)u;
                        s->is_exec = t != 0;
                        (void)bridle__rec_str(&c, s->what, sizeof(s->what));
                }
                return;
        default:
                return;
        }
}

static void on_frame(struct exec_state *s, const struct bridle__frame *f)
{
        bridle__cursor c;
        bridle__rec rec;
        bridle__wire_records(f, &c);
        while (bridle__plan_next(&c, &rec) > 0)
                on_record(s, &rec);
        if (f->type == BRIDLE__MSG_EXIT)
                s->done = true;
        if (f->type == BRIDLE__MSG_ERROR) {
                s->done = true;
                s->error = s->exec_err ? s->exec_err : -EIO;
                (void)snprintf(s->msg, sizeof(s->msg), "%s", s->what);
        }
}

static int exec_loop(int fd, struct exec_state *s, bridle_error *err)
{
        struct bridle__wire_reader rd;
        bridle__wire_reader_init(&rd);
        int r = 0;
        while (!s->done) {
                uint8_t buf[65536];
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = bridle__err(err, -ECONNRESET, "the sandbox went away during the command");
                        break;
                }
                if ((r = bridle__wire_feed(&rd, buf, (size_t)n)) < 0)
                        break;
                struct bridle__frame f;
                while (!s->done && (r = bridle__wire_next(&rd, &f)) > 0)
                        on_frame(s, &f);
                if (r < 0) {
                        r = bridle__err(err, BRIDLE_E_PROTOCOL, "malformed reply from the sandbox");
                        break;
                }
                r = 0;
        }
        bridle__wire_reader_release(&rd);
        return r;
}

static int exec_result(struct exec_state *s, uint64_t t0, bridle_run_result *res, bridle_error *err)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        res->wall_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 - t0;
        res->cpu_ms = s->cpu_us / 1000;
        res->max_rss_kb = s->rss_kb;
        if (s->error)
                return bridle__err(err, s->error, "the sandbox refused the command: %s", s->msg);
        if (s->exec_err && !s->is_exec)
                return bridle__err(err, BRIDLE_E_SANDBOX, "starting the command failed at %s: %s", s->what,
                                   bridle_strerror(s->exec_err));
        int r = bridle__result_status(res, s->timed_out, s->exec_err, s->what, s->status, err);
        if (r < 0)
                return r;
        if (!s->o->capture)
                return 0;
        if (s->cap_oom || capture_ready(s, 2) < 0) /* no output came: empty buffers */
                return bridle__err(err, -ENOMEM, "output");
        return bridle__result_take_output(res, s->cap, err);
}

/* A 12-character hex reference is an id (names never have 12 characters), and
 * what answers on that sandbox's socket (in a directory only its owner can
 * enter) is its init: one socket and one connect instead of reading the state
 * and checking the pid. -1 when that does not work; the full path then names
 * the problem (unknown, dead). */
static int connect_fast(const char *ref)
{
        if (!ref || strlen(ref) != 12 || strspn(ref, "0123456789abcdef") != 12)
                return -1;
        bridle__sandbox_thaw_stale(ref);
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        if (bridle__sandbox_path(a.sun_path, sizeof(a.sun_path), ref, "sock", NULL) < 0)
                return -1;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                bridle__close(fd);
                return -1;
        }
        return fd;
}

static int connect_ref(const char *ref, bridle_error *err)
{
        int fd = connect_fast(ref);
        if (fd >= 0)
                return fd;
        char id[16];
        int r = bridle__sandbox_resolve(ref, id, err);
        return r < 0 ? r : bridle__sandbox_connect(id, err);
}

static int exec_request(const char *ref, const bridle_exec_opts *o, const struct builtin_req *b,
                        bridle_run_result *ret, bridle_error *err)
{
        if (!o || !ret || !o->argv || !o->argv[0])
                return bridle__err(err, -EINVAL, "no command to run");
        int r;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t t0 = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
        struct exec_state *s = bridle__calloc(1, sizeof(*s));
        if (!s)
                return bridle__err(err, -ENOMEM, "exec");
        s->o = o;
        s->cap_size = o->max_output ? o->max_output : (1u << 20);
        bridle_run_result res;
        memset(&res, 0, sizeof(res));
        bridle__plan p;
        int n = build_exec(&p, o, b), fd = -EBADF;
        if (n < 0)
                r = bridle__err(err, n, "the command for sandbox '%s'", ref ? ref : "");
        else if ((fd = r = connect_ref(ref, err)) < 0)
                ;
        else if ((r = bridle__write_full(fd, p.buf, (size_t)n)) < 0)
                r = bridle__err(err, r, "send the command to sandbox '%s'", ref ? ref : "");
        else if ((r = exec_loop(fd, s, err)) >= 0)
                r = exec_result(s, t0, &res, err);
        bridle__plan_release(&p);
        if (fd >= 0)
                bridle__close(fd);
        if (s->cap_ready) {
                bridle__capture_release(&s->cap[0]);
                bridle__capture_release(&s->cap[1]);
        }
        free(s);
        if (r < 0) {
                bridle_run_result_release(&res);
                return r;
        }
        *ret = res;
        return 0;
}

int bridle_sandbox_exec(const char *ref, const bridle_exec_opts *o, bridle_run_result *ret,
                        bridle_error *err)
{
        return exec_request(ref, o, NULL, ret, err);
}

/* A file operation: its status is 0 or an errno, its stderr the reason. */
static int file_op(const char *ref, const char *op, const char *path, const void *data, size_t len,
                   size_t max_out, bridle_run_result *ret, bridle_error *err)
{
        if (!path || !*path)
                return bridle__err(err, -EINVAL, "%s: no path", op);
        const char *argv[] = { path, NULL };
        bridle_exec_opts o = { .argv = argv, .capture = true, .max_output = max_out };
        struct builtin_req b = { op, data, len };
        bridle_run_result r;
        int rc = exec_request(ref, &o, &b, &r, err);
        if (rc < 0)
                return rc;
        if (r.status != 0 || r.stdout_truncated) {
                int code = r.stdout_truncated      ? -EFBIG
                           : r.status == 201       ? BRIDLE_E_INVALID /* init's BUILTIN_INVALID */
                           : r.status > 0 && r.status < 200 ? -r.status
                                                            : -EIO;
                size_t l = r.stderr_len && r.stderr_buf[r.stderr_len - 1] == '\n' ? r.stderr_len - 1 : r.stderr_len;
                rc = r.stdout_truncated ? bridle__err(err, code, "%s '%s': larger than %zu bytes", op, path, max_out)
                                        : bridle__err(err, code, "%.*s", (int)l, r.stderr_buf ? r.stderr_buf : op);
                bridle_run_result_release(&r);
                return rc;
        }
        *ret = r;
        return 0;
}

#define READ_MAX (64u << 20)

int bridle_sandbox_read(const char *ref, const char *path, char **ret_data, size_t *ret_len,
                        bridle_error *err)
{
        bridle_run_result r;
        /* The capture keeps head and tail; twice the cap means nothing is ever cut. */
        int rc = file_op(ref, "read", path, NULL, 0, 2 * (size_t)READ_MAX, &r, err);
        if (rc < 0)
                return rc;
        if (r.stdout_len > READ_MAX) {
                bridle_run_result_release(&r);
                return bridle__err(err, -EFBIG, "read '%s': larger than %u bytes (use exec)", path, READ_MAX);
        }
        *ret_data = TAKE_PTR(r.stdout_buf);
        *ret_len = r.stdout_len;
        bridle_run_result_release(&r);
        return 0;
}

int bridle_sandbox_write(const char *ref, const char *path, const void *data, size_t len,
                         bridle_error *err)
{
        if (len > BRIDLE__WIRE_MAX - 64 * 1024)
                return bridle__err(err, -EFBIG, "write '%s': %zu bytes is over the %u-byte limit of one write",
                                   path ? path : "", len, BRIDLE__WIRE_MAX - 64 * 1024);
        bridle_run_result r;
        int rc = file_op(ref, "write", path, data ? data : "", len, 4096, &r, err);
        if (rc == 0)
                bridle_run_result_release(&r);
        return rc;
}

static int entry_cmp(const void *a, const void *b)
{
        return strcmp(((const bridle_dir_entry *)a)->name, ((const bridle_dir_entry *)b)->name);
}

/* "<type> <size> <mode> <name>\0" records into an array. */
static int parse_entries(const char *buf, size_t len, bridle_dir_entry **ret, size_t *ret_n)
{
        size_t n = 0, cap = 0;
        bridle_dir_entry *v = NULL;
        for (size_t off = 0; off < len;) {
                const char *rec = buf + off;
                size_t l = strnlen(rec, len - off);
                off += l + 1;
                char type;
                long long size;
                unsigned mode;
                int used = 0;
                if (sscanf(rec, "%c %lld %o %n", &type, &size, &mode, &used) < 3 || used <= 0)
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 32;
                        bridle_dir_entry *nv = bridle__realloc(v, cap * sizeof(*v));
                        if (!nv) {
                                free(v);
                                return -ENOMEM;
                        }
                        v = nv;
                }
                memset(&v[n], 0, sizeof(v[n]));
                (void)snprintf(v[n].name, sizeof(v[n].name), "%s", rec + used);
                v[n].type = type;
                v[n].size = (uint64_t)size;
                v[n].mode = mode;
                n++;
        }
        if (n)
                qsort(v, n, sizeof(*v), entry_cmp);
        *ret = v;
        *ret_n = n;
        return 0;
}

int bridle_sandbox_list_dir(const char *ref, const char *path, bridle_dir_entry **ret, size_t *ret_n,
                            bridle_error *err)
{
        bridle_run_result r;
        int rc = file_op(ref, "list", path ? path : ".", NULL, 0, 2 * (size_t)READ_MAX, &r, err);
        if (rc < 0)
                return rc;
        rc = parse_entries(r.stdout_buf ? r.stdout_buf : "", r.stdout_len, ret, ret_n);
        bridle_run_result_release(&r);
        return rc < 0 ? bridle__err(err, rc, "list") : (int)*ret_n;
}

int bridle_sandbox_patch(const char *ref, const char *text, size_t len, char **ret_summary,
                         bridle_error *err)
{
        if (!text)
                return bridle__err(err, -EINVAL, "patch: no text");
        if (len > BRIDLE__WIRE_MAX - 64 * 1024)
                return bridle__err(err, -EFBIG, "patch: %zu bytes is over the limit", len);
        bridle_run_result r;
        int rc = file_op(ref, "patch", ".", text, len, 4u << 20, &r, err);
        if (rc < 0)
                return rc;
        if (ret_summary)
                *ret_summary = TAKE_PTR(r.stdout_buf);
        bridle_run_result_release(&r);
        return 0;
}

int bridle_sandbox_search(const char *ref, const char *path, const char *pattern, char **ret_hits,
                          bridle_error *err)
{
        if (!pattern || !*pattern)
                return bridle__err(err, -EINVAL, "search: no pattern");
        bridle_run_result r;
        int rc = file_op(ref, "search", path && *path ? path : ".", pattern, strlen(pattern),
                         4u << 20, &r, err);
        if (rc < 0)
                return rc;
        *ret_hits = TAKE_PTR(r.stdout_buf);
        bridle_run_result_release(&r);
        return 0;
}
