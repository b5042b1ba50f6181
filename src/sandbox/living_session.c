/* SPDX-License-Identifier: MIT */
/*
 * Sessions in a living sandbox (exec_command, write_stdin and what `sandbox
 * shell` needs): one connection per call, one request, one reply. The session
 * itself lives in init (init/session.c), so a caller that goes away loses
 * nothing but the reply it was waiting for.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/living.h"
#include "sandbox/result.h"
#include "sandbox/wire.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fd.h"

#define DEFAULT_YIELD_START 10000
#define DEFAULT_YIELD_WRITE 250
#define DEFAULT_TOKENS      10000

struct reply {
        bool ok, have_status;
        uint32_t sid, flags;
        const uint8_t *data;
        uint32_t len;
        int status;
        int err_code;
        bool is_exec;
        char what[256];
};

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_record(struct reply *r, const bridle__rec *rec)
{
        bridle__cursor c = {rec->p, rec->len};
        uint32_t u, t;
        switch (rec->type) {
        case BRIDLE__OP_SESSION:
                if (bridle__rec_u32(&c, &u) == 0 && bridle__rec_u32(&c, &t) == 0) {
                        r->sid = u;
                        r->flags = t;
                }
                return;
        case BRIDLE__OP_DATA:
                if (bridle__rec_u32(&c, &u) == 0)
                        (void)bridle__rec_bytes(&c, &r->data, &r->len);
                return;
        case BRIDLE__OP_STATUS:
                if (bridle__rec_u32(&c, &u) == 0) {
                        r->status = (int)u;
                        r->have_status = true;
                }
                return;
        case BRIDLE__OP_ERROR:
                if (bridle__rec_u32(&c, &u) == 0 && bridle__rec_u32(&c, &t) == 0) {
                        r->err_code = (int)u;
                        r->is_exec = t != 0;
                        (void)bridle__rec_str(&c, r->what, sizeof(r->what));
                }
                return;
        default:
                return;
        }
}

/* Send the request in p (released here) and wait for its reply; the reply's
 * data points into rd. */
static int roundtrip(int fd, bridle__plan *p, enum bridle__msg type, struct bridle__wire_reader *rd,
                     struct reply *ret, bridle_error *err)
{
        int n = bridle__wire_finish(p, type, 1);
        int r = n < 0 ? n : bridle__write_full(fd, p->buf, (size_t)n);
        bridle__plan_release(p);
        if (r < 0)
                return bridle__err(err, r, "send the request to the sandbox");
        for (;;) {
                struct bridle__frame f;
                while ((r = bridle__wire_next(rd, &f)) > 0) {
                        if (f.type != BRIDLE__MSG_OK && f.type != BRIDLE__MSG_ERROR)
                                continue;
                        bridle__cursor c;
                        bridle__rec rec;
                        bridle__wire_records(&f, &c);
                        while (bridle__plan_next(&c, &rec) > 0)
                                on_record(ret, &rec);
                        ret->ok = f.type == BRIDLE__MSG_OK;
                        return 0;
                }
                if (r < 0)
                        return bridle__err(err, BRIDLE_E_PROTOCOL,
                                           "malformed reply from the sandbox");
                uint8_t buf[65536];
                ssize_t k = read(fd, buf, sizeof(buf));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return bridle__err(err, -ECONNRESET,
                                           "the sandbox went away during the request");
                if ((r = bridle__wire_feed(rd, buf, (size_t)k)) < 0)
                        return bridle__err(err, r, "reply from the sandbox");
        }
}

static int refused(const struct reply *r, bridle_error *err)
{
        int code = r->err_code ? r->err_code : -EIO;
        if (code == -ENOENT)
                return bridle__err(
                        err, code,
                        "no such session (it never was, was killed, or its exit was reported)");
        if (code == -EAGAIN)
                return bridle__err(err, code, "%s", r->what[0] ? r->what : "too many sessions");
        return bridle__err(err, code, "the sandbox refused the request: %s", r->what);
}

static int fill_result(const struct reply *q, uint64_t t0, bridle_session_result *ret,
                       bridle_error *err)
{
        bridle_session_result res;
        memset(&res, 0, sizeof(res));
        res.session_id = (int)q->sid;
        res.output = bridle__malloc((size_t)q->len + 1);
        if (!res.output)
                return bridle__err(err, -ENOMEM, "session output");
        if (q->len)
                memcpy(res.output, q->data, q->len);
        res.output[q->len] = '\0';
        res.output_len = q->len;
        res.output_truncated = (q->flags & BRIDLE__SESSION_TRUNCATED) != 0;
        res.exit_code = -1;
        if (q->flags & BRIDLE__SESSION_EXITED) {
                bridle_run_result rr;
                memset(&rr, 0, sizeof(rr));
                int exec_err = q->err_code && q->is_exec ? q->err_code : 0;
                int r = bridle__result_status(&rr, false, exec_err, q->what, q->status, err);
                free(rr.exec_error);
                if (r < 0) {
                        free(res.output);
                        return r;
                }
                res.exited = true;
                res.session_id = -1;
                res.status = q->err_code && !q->is_exec ? 125 : rr.status;
                res.exit_code = rr.exit_code;
                res.signal = rr.signal;
        }
        res.wall_ms = now_ms() - t0;
        *ret = res;
        return 0;
}

/* Connect, send, wait, decode. ret may be NULL for requests without output. */
static int request(const char *ref, bridle__plan *p, enum bridle__msg type,
                   bridle_session_result *ret, bridle_error *err)
{
        uint64_t t0 = now_ms();
        char id[16];
        int r = bridle__sandbox_resolve(ref, id, err);
        _cleanup_close_ int fd = r < 0 ? r : bridle__sandbox_connect(id, err);
        if (fd < 0) {
                bridle__plan_release(p);
                return fd;
        }
        struct bridle__wire_reader rd;
        bridle__wire_reader_init(&rd);
        struct reply q;
        memset(&q, 0, sizeof(q));
        r = roundtrip(fd, p, type, &rd, &q, err);
        if (r == 0 && !q.ok)
                r = refused(&q, err);
        if (r == 0 && ret)
                r = fill_result(&q, t0, ret, err);
        bridle__wire_reader_release(&rd);
        return r;
}

static void add_yield(bridle__plan *p, uint64_t ms, uint64_t max_bytes, uint32_t flags)
{
        bridle__plan_add(p, BRIDLE__OP_YIELD, "UUu", ms, max_bytes, flags);
}

int bridle_sandbox_exec_command(const char *ref, const bridle_command_opts *o,
                                bridle_session_result *ret, bridle_error *err)
{
        if (!o || !ret || (!(o->argv && o->argv[0]) && !o->cmd))
                return bridle__err(err, -EINVAL, "no command to run");
        bridle__plan p;
        bridle__wire_begin(&p);
        if (o->argv && o->argv[0])
                for (size_t i = 0; o->argv[i]; i++)
                        bridle__plan_add(&p, BRIDLE__OP_ARG, "s", o->argv[i]);
        else {
                bridle__plan_add(&p, BRIDLE__OP_ARG, "s", "/bin/bash");
                bridle__plan_add(&p, BRIDLE__OP_ARG, "s", "-lc");
                bridle__plan_add(&p, BRIDLE__OP_ARG, "s", o->cmd);
        }
        for (size_t i = 0; o->env && o->env[i]; i++)
                bridle__plan_add(&p, BRIDLE__OP_ENV, "s", o->env[i]);
        if (o->workdir)
                bridle__plan_add(&p, BRIDLE__OP_CWD, "s", o->workdir);
        bridle__plan_add(&p, BRIDLE__OP_TTY, "uuu", (unsigned)o->tty, o->rows, o->cols);
        size_t tokens = o->max_output_tokens ? o->max_output_tokens : DEFAULT_TOKENS;
        add_yield(&p, o->yield_time_ms ? o->yield_time_ms : DEFAULT_YIELD_START,
                  (uint64_t)tokens * 4, 0);
        return request(ref, &p, BRIDLE__MSG_SESSION_START, ret, err);
}

static int check_sid(int session_id, bridle_error *err)
{
        return session_id <= 0
                       ? bridle__err(err, -EINVAL, "session id %d: not a session", session_id)
                       : 0;
}

int bridle_sandbox_write_stdin(const char *ref, int session_id, const char *chars, size_t len,
                               uint64_t yield_time_ms, size_t max_output_tokens,
                               bridle_session_result *ret, bridle_error *err)
{
        if (!ret || (len && !chars))
                return bridle__err(err, -EINVAL, "write_stdin: bad arguments");
        int r = check_sid(session_id, err);
        if (r < 0)
                return r;
        bridle__plan p;
        bridle__wire_begin(&p);
        bridle__plan_add(&p, BRIDLE__OP_SESSION, "uu", (unsigned)session_id, 0u);
        bridle__plan_add(&p, BRIDLE__OP_DATA, "ub", 0u, len ? chars : "", len);
        size_t tokens = max_output_tokens ? max_output_tokens : DEFAULT_TOKENS;
        add_yield(&p, yield_time_ms ? yield_time_ms : DEFAULT_YIELD_WRITE, (uint64_t)tokens * 4, 0);
        return request(ref, &p, BRIDLE__MSG_SESSION_WRITE, ret, err);
}

int bridle_sandbox_session_send(const char *ref, int session_id, const void *data, size_t len,
                                bool eof, bridle_error *err)
{
        int r = check_sid(session_id, err);
        if (r < 0 || (len && !data))
                return r < 0 ? r : bridle__err(err, -EINVAL, "session send: no data");
        bridle__plan p;
        bridle__wire_begin(&p);
        bridle__plan_add(&p, BRIDLE__OP_SESSION, "uu", (unsigned)session_id,
                         eof ? BRIDLE__SESSION_EOF : 0u);
        bridle__plan_add(&p, BRIDLE__OP_DATA, "ub", 0u, len ? data : "", len);
        add_yield(&p, 0, 0, BRIDLE__YIELD_NOREAD);
        return request(ref, &p, BRIDLE__MSG_SESSION_WRITE, NULL, err);
}

int bridle_sandbox_session_poll(const char *ref, int session_id, uint64_t timeout_ms,
                                bridle_session_result *ret, bridle_error *err)
{
        int r = check_sid(session_id, err);
        if (r < 0 || !ret)
                return r < 0 ? r : bridle__err(err, -EINVAL, "session poll: no result");
        bridle__plan p;
        bridle__wire_begin(&p);
        bridle__plan_add(&p, BRIDLE__OP_SESSION, "uu", (unsigned)session_id, 0u);
        add_yield(&p, timeout_ms, 0, BRIDLE__YIELD_EARLY);
        return request(ref, &p, BRIDLE__MSG_SESSION_WRITE, ret, err);
}

int bridle_sandbox_session_resize(const char *ref, int session_id, unsigned rows, unsigned cols,
                                  bridle_error *err)
{
        int r = check_sid(session_id, err);
        if (r < 0)
                return r;
        bridle__plan p;
        bridle__wire_begin(&p);
        bridle__plan_add(&p, BRIDLE__OP_SESSION, "uu", (unsigned)session_id, 0u);
        bridle__plan_add(&p, BRIDLE__OP_TTY, "uuu", 1u, rows, cols);
        return request(ref, &p, BRIDLE__MSG_SESSION_RESIZE, NULL, err);
}

int bridle_sandbox_session_kill(const char *ref, int session_id, bridle_error *err)
{
        int r = check_sid(session_id, err);
        if (r < 0)
                return r;
        bridle__plan p;
        bridle__wire_begin(&p);
        bridle__plan_add(&p, BRIDLE__OP_SESSION, "uu", (unsigned)session_id, 0u);
        return request(ref, &p, BRIDLE__MSG_SESSION_KILL, NULL, err);
}

void bridle_session_result_release(bridle_session_result *res)
{
        if (!res)
                return;
        free(res->output);
        memset(res, 0, sizeof(*res));
}
