/* SPDX-License-Identifier: MIT */
/*
 * `bridle mcp serve --http` (include/bridle/mcp.h, docs/mcp.md): the MCP
 * streamable HTTP transport in front of server.c. The protocol stays in
 * server.c: each session is one bridle_mcp_serve in its own thread over a
 * socketpair, and this file only moves lines. A router thread per session
 * reads the server's lines: a response goes to the stream of the POST that
 * sent its id; a request or notification of the server's (elicitation/create)
 * to the oldest POST still waiting in that session (server.c handles one
 * request at a time, in order, so that is the one it concerns), else to the
 * session's GET stream, else a small backlog the next stream receives.
 *
 * libmicrohttpd runs a thread per connection: handlers and SSE content
 * readers may block on the one lock's condition variable, waking at least
 * every second to notice the server stopping. One mutex (hs->lock) guards
 * every session, stream and queue; a session's writes to its socket have
 * their own (s->wlock), never taken with hs->lock held.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bridle/manifest.h"
#include "gateway/gateway.h"
#include "mcp/jsonrpc.h"
#include "mcp/server.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fd.h"

#define BODY_MAX        ((size_t)8 << 20) /* one POST */
#define BACKLOG_MAX     64                /* server messages waiting for a stream */
#define PENDING_MAX     256               /* requests in flight in one session */
#define CONN_MAX        64                /* connections at a time */
#define KEEPALIVE_S     15                /* an SSE comment after this long idle */
#define STOP_POLL_MS    250
#define SESSIONS_DFLT   8

typedef struct ev {
        struct ev *next;
        char *text;
        size_t len;
} ev;

typedef struct hsrv hsrv;

/* What one response carries: SSE events, or (json mode) the one response. */
typedef struct stream {
        hsrv *hs;
        unsigned ref;
        bool sse;
        bool done;   /* nothing more will come: end once the queue is sent */
        bool closed; /* its connection is gone */
        ev *head, *tail;
        size_t off; /* bytes of head already handed out */
        unsigned idle_s;
        int conn_fd; /* SSE: its connection's socket, watched for the client leaving */
} stream;

typedef struct pend {
        json_t *id;
        stream *st;
} pend;

typedef struct session {
        hsrv *hs;
        unsigned ref;
        char id[33];
        int fd;   /* ours */
        int peer; /* server.c's, closed by its thread when it returns */
        volatile int stop;
        bool dead;   /* server.c returned (its lines ended) */
        bool ending; /* end_session() owns the teardown */
        bool serve_started, route_started;
        pthread_t serve_thr, route_thr;
        pthread_mutex_t wlock;
        pend pend[PENDING_MAX];
        size_t npend;
        stream *get;
        ev *bl_head, *bl_tail;
        size_t nbl;
        unsigned long long next_event;
} session;

struct hsrv {
        const bridle_mcp_http_opts *o;
        pthread_mutex_t lock;
        pthread_cond_t cond; /* any change: broadcast */
        session **sess;
        size_t nsess, max;
        bool stopping;
        char *token;
        size_t token_len;
};

typedef struct req {
        char *body;
        size_t len, cap;
        bool too_big;
} req;

static void json_unrefp(json_t **p)
{
        json_decref(*p);
}

/* ---- events and streams (hs->lock held) -------------------------------------------- */

static void ev_free_all(ev *e)
{
        while (e) {
                ev *n = e->next;
                free(e->text);
                free(e);
                e = n;
        }
}

static stream *stream_new(hsrv *hs, bool sse)
{
        stream *st = bridle__calloc(1, sizeof(*st));
        if (st) {
                st->hs = hs;
                st->ref = 1;
                st->sse = sse;
                st->conn_fd = -EBADF;
        }
        return st;
}

static void stream_unref(stream *st)
{
        if (!st || --st->ref > 0)
                return;
        ev_free_all(st->head);
        free(st);
}

/* Add a message (one line of JSON) to a stream: an SSE event with an id, or as is. */
static int stream_push(session *s, stream *st, const char *line, size_t len)
{
        ev *e = bridle__calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        int n = st->sse ? asprintf(&e->text, "id: %s-%llu\nevent: message\ndata: %.*s\n\n", s->id,
                                   ++s->next_event, (int)len, line)
                        : asprintf(&e->text, "%.*s", (int)len, line);
        if (n < 0) {
                free(e);
                return -ENOMEM;
        }
        e->len = (size_t)n;
        if (st->tail)
                st->tail->next = e;
        else
                st->head = e;
        st->tail = e;
        return 0;
}

static bool stream_open(const stream *st)
{
        return st && !st->closed && !st->done;
}

/* Hand the session's backlog to a stream that just opened. */
static void backlog_flush(session *s, stream *st)
{
        while (s->bl_head) {
                ev *e = s->bl_head;
                s->bl_head = e->next;
                if (!s->bl_head)
                        s->bl_tail = NULL;
                s->nbl--;
                (void)stream_push(s, st, e->text, e->len);
                free(e->text);
                free(e);
        }
}

static void backlog_add(session *s, const char *line, size_t len)
{
        if (s->nbl >= BACKLOG_MAX) { /* the oldest goes */
                ev *e = s->bl_head;
                s->bl_head = e->next;
                if (!s->bl_head)
                        s->bl_tail = NULL;
                s->nbl--;
                e->next = NULL;
                ev_free_all(e);
                bridle__log(5, "mcp http: a server message dropped (no stream to carry it)");
        }
        ev *e = bridle__calloc(1, sizeof(*e));
        char *t = e ? bridle__strndup(line, len) : NULL;
        if (!t) {
                free(e);
                return;
        }
        e->text = t;
        e->len = len;
        if (s->bl_tail)
                s->bl_tail->next = e;
        else
                s->bl_head = e;
        s->bl_tail = e;
        s->nbl++;
}

static void pend_remove(session *s, size_t i)
{
        json_decref(s->pend[i].id);
        stream_unref(s->pend[i].st);
        memmove(s->pend + i, s->pend + i + 1, (s->npend - i - 1) * sizeof(s->pend[0]));
        s->npend--;
}

/* The session's streams end (it is over). */
static void session_close_streams(session *s)
{
        while (s->npend > 0) {
                s->pend[0].st->done = true;
                pend_remove(s, 0);
        }
        if (s->get) {
                s->get->done = true;
                stream_unref(s->get);
                s->get = NULL;
        }
}

/* ---- sessions -------------------------------------------------------------------------- */

static void session_unref(session *s) /* hs->lock held */
{
        if (!s || --s->ref > 0)
                return;
        session_close_streams(s);
        ev_free_all(s->bl_head);
        bridle__close(s->fd);
        bridle__close(s->peer);
        pthread_mutex_destroy(&s->wlock);
        free(s);
}

static session *session_find(hsrv *hs, const char *id) /* hs->lock held; a new reference */
{
        for (size_t i = 0; id && i < hs->nsess; i++)
                if (!hs->sess[i]->dead && !hs->sess[i]->ending && !strcmp(hs->sess[i]->id, id)) {
                        hs->sess[i]->ref++;
                        return hs->sess[i];
                }
        return NULL;
}

/* One server message: to its POST, or a stream that can carry it, or the backlog. */
static void route(session *s, const char *line, size_t len)
{
        hsrv *hs = s->hs;
        _cleanup_(json_unrefp) json_t *j = json_loadb(line, len, 0, NULL);
        if (!json_is_object(j))
                return;
        const json_t *id = json_object_get(j, "id");
        bool response = id && !json_object_get(j, "method");
        pthread_mutex_lock(&hs->lock);
        if (response) {
                size_t i = 0;
                while (i < s->npend && !json_equal(s->pend[i].id, (json_t *)id))
                        i++;
                if (i < s->npend) {
                        stream *st = s->pend[i].st;
                        bool lost = st->closed;
                        if (!lost)
                                (void)stream_push(s, st, line, len);
                        st->done = true;
                        pend_remove(s, i);
                        /* Its stream broke: the GET stream (a client reopens
                         * it to resume), else the next stream to open. */
                        if (lost && stream_open(s->get))
                                (void)stream_push(s, s->get, line, len);
                        else if (lost)
                                backlog_add(s, line, len);
                } else {
                        bridle__log(6, "mcp http: a response to no request waiting dropped");
                }
        } else {
                stream *to = NULL;
                for (size_t i = 0; !to && i < s->npend; i++)
                        if (s->pend[i].st->sse && stream_open(s->pend[i].st))
                                to = s->pend[i].st;
                if (!to && stream_open(s->get))
                        to = s->get;
                if (to)
                        (void)stream_push(s, to, line, len);
                else
                        backlog_add(s, line, len);
        }
        pthread_cond_broadcast(&hs->cond);
        pthread_mutex_unlock(&hs->lock);
}

static void *route_main(void *arg)
{
        session *s = arg;
        bridle__rpc_reader *rd = bridle__rpc_reader_new(s->fd);
        /* Bounded by the server's lines: it ends when server.c closes its end. */
        for (;;) {
                char *line = NULL;
                size_t len = 0;
                int r = rd ? bridle__rpc_read_line(rd, -1, &line, &len) : -ENOMEM;
                if (r == -EMSGSIZE)
                        continue;
                if (r < 0 || !line)
                        break;
                route(s, line, len);
                free(line);
        }
        bridle__rpc_reader_free(rd);
        pthread_mutex_lock(&s->hs->lock);
        s->dead = true;
        session_close_streams(s);
        pthread_cond_broadcast(&s->hs->cond);
        pthread_mutex_unlock(&s->hs->lock);
        return NULL;
}

static void *serve_main(void *arg)
{
        session *s = arg;
        bridle_mcp_serve_opts so = s->hs->o->serve;
        so.in_fd = so.out_fd = s->peer;
        so.stop = &s->stop;
        bridle_error e = {0};
        if (bridle_mcp_serve(&so, &e) < 0)
                bridle__log(4, "mcp http: session %.8s: %s", s->id, e.msg);
        /* Its end of the pair closes: the router reads the end of its lines. */
        (void)shutdown(s->peer, SHUT_RDWR);
        return NULL;
}

/* Stop a session's server (its sandbox destroyed), join its threads, drop it
 * from the table. Safe to call twice: the first caller does it. */
static void end_session(hsrv *hs, session *s)
{
        pthread_mutex_lock(&hs->lock);
        if (s->ending) {
                pthread_mutex_unlock(&hs->lock);
                return;
        }
        s->ending = true;
        for (size_t i = 0; i < hs->nsess; i++)
                if (hs->sess[i] == s) {
                        memmove(hs->sess + i, hs->sess + i + 1, (hs->nsess - i - 1) * sizeof(hs->sess[0]));
                        hs->nsess--;
                        break;
                }
        pthread_mutex_unlock(&hs->lock);
        s->stop = 1;
        (void)shutdown(s->fd, SHUT_WR); /* server.c reads the end of its input */
        if (s->serve_started)
                (void)pthread_join(s->serve_thr, NULL);
        if (s->route_started)
                (void)pthread_join(s->route_thr, NULL);
        pthread_mutex_lock(&hs->lock);
        session_close_streams(s);
        pthread_cond_broadcast(&hs->cond);
        session_unref(s); /* the table's */
        pthread_mutex_unlock(&hs->lock);
}

static int random_hex(char *out, size_t nbytes)
{
        unsigned char b[64];
        if (nbytes > sizeof(b))
                return -EINVAL;
        for (size_t got = 0; got < nbytes;) {
                ssize_t n = getrandom(b + got, nbytes - got, 0);
                if (n < 0 && errno != EINTR)
                        return -errno;
                if (n > 0)
                        got += (size_t)n;
        }
        for (size_t i = 0; i < nbytes; i++)
                (void)snprintf(out + 2 * i, 3, "%02x", b[i]);
        return 0;
}

/* A new session, in the table, its threads running; a reference for the caller.
 * *ret_full: refused because max sessions are open. */
static session *session_new(hsrv *hs, bool *ret_full)
{
        *ret_full = false;
        session *s = bridle__calloc(1, sizeof(*s));
        int sv[2] = {-EBADF, -EBADF};
        if (!s)
                return NULL;
        s->hs = hs;
        s->fd = s->peer = -EBADF;
        pthread_mutex_init(&s->wlock, NULL);
        if (random_hex(s->id, 16) < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                pthread_mutex_destroy(&s->wlock);
                free(s);
                return NULL;
        }
        s->fd = sv[0];
        s->peer = sv[1];
        s->ref = 2; /* the table's and the caller's */
        pthread_mutex_lock(&hs->lock);
        if (hs->stopping || hs->nsess >= hs->max) {
                *ret_full = !hs->stopping;
                s->ref = 1;
                session_unref(s);
                pthread_mutex_unlock(&hs->lock);
                return NULL;
        }
        hs->sess[hs->nsess++] = s;
        s->serve_started = pthread_create(&s->serve_thr, NULL, serve_main, s) == 0;
        s->route_started = s->serve_started && pthread_create(&s->route_thr, NULL, route_main, s) == 0;
        pthread_mutex_unlock(&hs->lock);
        if (!s->route_started) {
                end_session(hs, s);
                pthread_mutex_lock(&hs->lock);
                session_unref(s);
                pthread_mutex_unlock(&hs->lock);
                return NULL;
        }
        bridle__log(6, "mcp http: session %.8s opened", s->id);
        return s;
}

/* One message, as a compact line, to the session's server.c. */
static int session_write(session *s, const json_t *msg)
{
        _cleanup_free_ char *text = json_dumps(msg, JSON_COMPACT);
        if (!text)
                return -ENOMEM;
        size_t n = strlen(text);
        if (n + 1 > BRIDLE__RPC_LINE_MAX)
                return -EMSGSIZE;
        text[n++] = '\n'; /* over the NUL: sent by length */
        int r = 0;
        pthread_mutex_lock(&s->wlock);
        for (size_t off = 0; off < n && r == 0;) {
                struct pollfd p = {.fd = s->fd, .events = POLLOUT};
                int pr = poll(&p, 1, BRIDLE__MCP_WRITE_MS);
                if (pr < 0 && errno == EINTR)
                        continue;
                if (pr <= 0) {
                        r = pr < 0 ? -errno : -ETIMEDOUT;
                        break;
                }
                ssize_t w = send(s->fd, text + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (w < 0)
                        r = -errno;
                else
                        off += (size_t)w;
        }
        pthread_mutex_unlock(&s->wlock);
        return r;
}

/* ---- HTTP ------------------------------------------------------------------------------ */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body, const char *type,
                             const char *session_id)
{
        struct MHD_Response *r =
                MHD_create_response_from_buffer(body ? strlen(body) : 0, (void *)(body ?: ""), MHD_RESPMEM_MUST_COPY);
        if (!r)
                return MHD_NO;
        if (type)
                (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        if (session_id)
                (void)MHD_add_response_header(r, "Mcp-Session-Id", session_id);
        if (status == MHD_HTTP_UNAUTHORIZED)
                (void)MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
        if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
                (void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, POST, DELETE");
        enum MHD_Result ret = MHD_queue_response(c, status, r);
        MHD_destroy_response(r);
        return ret;
}

/* An error status with a JSON-RPC error body (id null unless given). */
static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const json_t *id, int code,
                                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const json_t *id, int code,
                                   const char *fmt, ...)
{
        char text[512];
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        _cleanup_(json_unrefp) json_t *e = bridle__rpc_error(id, code, text);
        _cleanup_free_ char *body = e ? json_dumps(e, JSON_COMPACT) : NULL;
        return reply(c, status, body ?: "", "application/json", NULL);
}

/* Constant time in the token's length whatever the header holds. */
static bool token_ok(const hsrv *hs, const char *auth)
{
        if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
                return false;
        const char *got = auth + 7;
        while (*got == ' ')
                got++;
        size_t n = strlen(got);
        unsigned char diff = (unsigned char)(n != hs->token_len);
        for (size_t i = 0; i < hs->token_len; i++)
                diff |= (unsigned char)(hs->token[i] ^ (i < n ? got[i] : 0));
        return diff == 0;
}

/* No Origin (not a browser), or a loopback one: http(s)://localhost|127.0.0.1|[::1](:port). */
static bool origin_ok(const char *origin)
{
        if (!origin)
                return true;
        const char *p = NULL;
        if (!strncasecmp(origin, "http://", 7))
                p = origin + 7;
        else if (!strncasecmp(origin, "https://", 8))
                p = origin + 8;
        if (!p)
                return false;
        static const char *const hosts[] = {"localhost", "127.0.0.1", "[::1]"};
        size_t hl = 0;
        for (size_t i = 0; i < ELEMENTSOF(hosts) && !hl; i++)
                if (!strncasecmp(p, hosts[i], strlen(hosts[i])))
                        hl = strlen(hosts[i]);
        if (!hl)
                return false;
        p += hl;
        if (*p == ':') {
                p++;
                size_t d = strspn(p, "0123456789");
                if (d == 0 || d > 5)
                        return false;
                p += d;
        }
        return *p == '\0' || (p[0] == '/' && p[1] == '\0');
}

static bool version_ok(const char *v)
{
        if (!v)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(bridle__mcp_versions); i++)
                if (!strcmp(v, bridle__mcp_versions[i]))
                        return true;
        return false;
}

static bool accepts_sse(struct MHD_Connection *c)
{
        const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
        return a && strcasestr(a, "text/event-stream");
}

/* The client closed its side (a client does not half-close and still read). */
static bool peer_gone(int fd)
{
        struct pollfd p = {.fd = fd, .events = POLLRDHUP};
        return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        (void)pos;
        stream *st = cls;
        hsrv *hs = st->hs;
        ssize_t ret = MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&hs->lock);
        /* Bounded: each round waits a second; keepalives every KEEPALIVE_S. */
        for (;;) {
                if (st->head) {
                        ev *e = st->head;
                        size_t n = e->len - st->off;
                        if (n > max)
                                n = max;
                        memcpy(buf, e->text + st->off, n);
                        st->off += n;
                        if (st->off == e->len) {
                                st->head = e->next;
                                if (!st->head)
                                        st->tail = NULL;
                                st->off = 0;
                                free(e->text);
                                free(e);
                        }
                        st->idle_s = 0;
                        ret = (ssize_t)n;
                        break;
                }
                if (st->done || hs->stopping)
                        break;
                if (st->idle_s >= KEEPALIVE_S && max >= 14) {
                        st->idle_s = 0;
                        memcpy(buf, ": keepalive\n\n", 13);
                        ret = 13;
                        break;
                }
                struct timespec ts;
                (void)clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += 1;
                if (pthread_cond_timedwait(&hs->cond, &hs->lock, &ts) == ETIMEDOUT) {
                        st->idle_s++;
                        if (peer_gone(st->conn_fd)) { /* what comes next goes elsewhere */
                                st->closed = true;
                                ret = MHD_CONTENT_READER_END_WITH_ERROR;
                                break;
                        }
                }
        }
        pthread_mutex_unlock(&hs->lock);
        return ret;
}

static void sse_free(void *cls)
{
        stream *st = cls;
        hsrv *hs = st->hs;
        pthread_mutex_lock(&hs->lock);
        st->closed = true;
        stream_unref(st);
        pthread_mutex_unlock(&hs->lock);
}

/* An SSE response over st (a reference of its own). */
static enum MHD_Result reply_sse(struct MHD_Connection *c, stream *st, const char *session_id)
{
        hsrv *hs = st->hs;
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        pthread_mutex_lock(&hs->lock);
        st->ref++;
        st->conn_fd = ci ? ci->connect_fd : -EBADF;
        pthread_mutex_unlock(&hs->lock);
        struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, sse_read, st, sse_free);
        if (!r) {
                sse_free(st);
                return MHD_NO;
        }
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        if (session_id)
                (void)MHD_add_response_header(r, "Mcp-Session-Id", session_id);
        enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return ret;
}

/* json mode: wait for the response (or the session's or the server's end). */
static enum MHD_Result reply_json_wait(struct MHD_Connection *c, stream *st, const char *session_id)
{
        hsrv *hs = st->hs;
        pthread_mutex_lock(&hs->lock);
        while (!st->done && !hs->stopping) {
                struct timespec ts;
                (void)clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += 1;
                (void)pthread_cond_timedwait(&hs->cond, &hs->lock, &ts);
        }
        _cleanup_free_ char *body = st->head ? TAKE_PTR(st->head->text) : NULL;
        st->closed = true;
        pthread_mutex_unlock(&hs->lock);
        if (!body)
                return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, BRIDLE__RPC_INTERNAL_ERROR,
                                   "the session ended before answering");
        return reply(c, MHD_HTTP_OK, body, "application/json", session_id);
}

static void session_release(hsrv *hs, session *s)
{
        pthread_mutex_lock(&hs->lock);
        session_unref(s);
        pthread_mutex_unlock(&hs->lock);
}

static enum MHD_Result reply_write_error(struct MHD_Connection *c, const json_t *id, int r)
{
        if (r == -EMSGSIZE)
                return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, id, BRIDLE__RPC_INVALID_REQUEST,
                                   "the message is over %zu bytes", BRIDLE__RPC_LINE_MAX - 1);
        return reply_error(c, MHD_HTTP_NOT_FOUND, id, -32001, "the session is gone: %s", strerror(-r));
}

static enum MHD_Result do_post(hsrv *hs, struct MHD_Connection *c, req *rq)
{
        if (rq->too_big)
                return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, NULL, BRIDLE__RPC_INVALID_REQUEST,
                                   "the body is over %zu bytes", BODY_MAX);
        bridle__rpc_msg m;
        int code = 0;
        char why[160];
        if (bridle__rpc_parse(rq->body ?: "", rq->len, &m, &code, why, sizeof(why)) < 0) {
                enum MHD_Result ret = reply_error(c, MHD_HTTP_BAD_REQUEST,
                                                  code == BRIDLE__RPC_PARSE_ERROR ? NULL : m.id, code, "%s", why);
                bridle__rpc_msg_clear(&m);
                return ret;
        }
        const char *sid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Mcp-Session-Id");
        session *s = NULL;
        bool created = false;
        enum MHD_Result ret;
        if (!sid) {
                if (m.kind != BRIDLE__RPC_REQUEST || strcmp(m.method, "initialize") != 0) {
                        ret = reply_error(c, MHD_HTTP_BAD_REQUEST, m.id, BRIDLE__RPC_INVALID_REQUEST,
                                          "no Mcp-Session-Id: a session starts with initialize");
                        goto out;
                }
                bool full = false;
                s = session_new(hs, &full);
                if (!s) {
                        ret = full ? reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, m.id, -32000,
                                                 "too many sessions (at most %zu): end one with DELETE", hs->max)
                                   : reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, m.id, BRIDLE__RPC_INTERNAL_ERROR,
                                                 "no new session: the server is stopping or out of resources");
                        goto out;
                }
                created = true;
        } else {
                pthread_mutex_lock(&hs->lock);
                s = session_find(hs, sid);
                pthread_mutex_unlock(&hs->lock);
                if (!s) {
                        ret = reply_error(c, MHD_HTTP_NOT_FOUND, m.id, -32001, "no session '%.40s'", sid);
                        goto out;
                }
        }

        if (m.kind != BRIDLE__RPC_REQUEST) { /* a notification or a response: accepted */
                int r = session_write(s, m.msg);
                ret = r < 0 ? reply_write_error(c, NULL, r) : reply(c, MHD_HTTP_ACCEPTED, NULL, NULL, NULL);
                goto out;
        }

        bool sse = accepts_sse(c);
        stream *st = NULL;
        bool dup = false, full = false;
        pthread_mutex_lock(&hs->lock);
        for (size_t i = 0; i < s->npend; i++)
                dup = dup || json_equal(s->pend[i].id, (json_t *)m.id);
        full = s->npend >= PENDING_MAX;
        if (!dup && !full && (st = stream_new(hs, sse))) {
                s->pend[s->npend].id = json_deep_copy(m.id);
                s->pend[s->npend++].st = st;
                st->ref++; /* the pending entry's; ours is st's first */
                if (sse)
                        backlog_flush(s, st);
        }
        pthread_mutex_unlock(&hs->lock);
        if (!st) {
                ret = dup ? reply_error(c, MHD_HTTP_BAD_REQUEST, m.id, BRIDLE__RPC_INVALID_REQUEST,
                                        "a request with this id is already waiting")
                          : reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, m.id, BRIDLE__RPC_INTERNAL_ERROR,
                                        full ? "too many requests waiting in this session" : "out of memory");
                goto out;
        }
        int r = session_write(s, m.msg);
        if (r < 0) {
                pthread_mutex_lock(&hs->lock);
                for (size_t i = 0; i < s->npend; i++)
                        if (s->pend[i].st == st) {
                                pend_remove(s, i);
                                break;
                        }
                stream_unref(st);
                pthread_mutex_unlock(&hs->lock);
                ret = reply_write_error(c, m.id, r);
                if (created)
                        end_session(hs, s);
                goto out;
        }
        ret = sse ? reply_sse(c, st, created ? s->id : NULL) : reply_json_wait(c, st, created ? s->id : NULL);
        pthread_mutex_lock(&hs->lock);
        stream_unref(st);
        pthread_mutex_unlock(&hs->lock);
out:
        if (s)
                session_release(hs, s);
        bridle__rpc_msg_clear(&m);
        return ret;
}

static enum MHD_Result do_get(hsrv *hs, struct MHD_Connection *c, const char *sid)
{
        if (!accepts_sse(c))
                return reply_error(c, MHD_HTTP_NOT_ACCEPTABLE, NULL, BRIDLE__RPC_INVALID_REQUEST,
                                   "GET opens an event stream: Accept: text/event-stream");
        pthread_mutex_lock(&hs->lock);
        session *s = session_find(hs, sid);
        stream *st = NULL;
        bool busy = false;
        if (s) {
                if (s->get && !stream_open(s->get)) {
                        stream_unref(s->get);
                        s->get = NULL;
                }
                busy = s->get != NULL;
                if (!busy && (st = stream_new(hs, true))) {
                        s->get = st;
                        st->ref++;
                        backlog_flush(s, st);
                }
                session_unref(s);
        }
        pthread_mutex_unlock(&hs->lock);
        if (!s)
                return reply_error(c, MHD_HTTP_NOT_FOUND, NULL, -32001, "no session '%.40s'", sid);
        if (!st)
                return reply_error(c, busy ? MHD_HTTP_CONFLICT : MHD_HTTP_SERVICE_UNAVAILABLE, NULL,
                                   BRIDLE__RPC_INVALID_REQUEST,
                                   busy ? "this session's event stream is already open" : "out of memory");
        enum MHD_Result ret = reply_sse(c, st, NULL);
        pthread_mutex_lock(&hs->lock);
        stream_unref(st);
        pthread_mutex_unlock(&hs->lock);
        return ret;
}

static enum MHD_Result do_delete(hsrv *hs, struct MHD_Connection *c, const char *sid)
{
        pthread_mutex_lock(&hs->lock);
        session *s = session_find(hs, sid);
        pthread_mutex_unlock(&hs->lock);
        if (!s)
                return reply_error(c, MHD_HTTP_NOT_FOUND, NULL, -32001, "no session '%.40s'", sid);
        end_session(hs, s);
        session_release(hs, s);
        return reply(c, MHD_HTTP_OK, NULL, NULL, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
        (void)version;
        hsrv *hs = cls;
        req *rq = *con_cls;
        if (!rq) { /* the headers: every check before the body is read */
                if (strcmp(url, "/mcp") != 0)
                        return reply_error(c, MHD_HTTP_NOT_FOUND, NULL, -32001, "not found: the endpoint is /mcp");
                if (!token_ok(hs, MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION)))
                        return reply_error(c, MHD_HTTP_UNAUTHORIZED, NULL, -32001,
                                           "unauthorized: send Authorization: Bearer <token>");
                if (!origin_ok(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin")))
                        return reply_error(c, MHD_HTTP_FORBIDDEN, NULL, -32001,
                                           "forbidden: only a loopback Origin may call this server");
                if (strcmp(method, "POST") && strcmp(method, "GET") && strcmp(method, "DELETE"))
                        return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, -32001,
                                           "method not allowed: GET, POST or DELETE");
                const char *pv = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "MCP-Protocol-Version");
                if (!version_ok(pv))
                        return reply_error(c, MHD_HTTP_BAD_REQUEST, NULL, BRIDLE__RPC_INVALID_REQUEST,
                                           "unsupported MCP-Protocol-Version '%.40s' (bridle speaks %s, %s, %s)", pv,
                                           bridle__mcp_versions[0], bridle__mcp_versions[1],
                                           bridle__mcp_versions[2]);
                const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
                if (cl && strtoull(cl, NULL, 10) > BODY_MAX)
                        return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, NULL, BRIDLE__RPC_INVALID_REQUEST,
                                           "the body is over %zu bytes", BODY_MAX);
                if (!(rq = bridle__calloc(1, sizeof(*rq))))
                        return MHD_NO;
                *con_cls = rq;
                return MHD_YES;
        }
        if (*upload_size > 0) {
                size_t n = *upload_size;
                *upload_size = 0;
                if (rq->too_big || rq->len + n > BODY_MAX) {
                        rq->too_big = true;
                        return MHD_YES;
                }
                if (rq->len + n + 1 > rq->cap) {
                        size_t cap = rq->cap ? rq->cap : 4096;
                        while (cap < rq->len + n + 1)
                                cap *= 2;
                        char *b = bridle__realloc(rq->body, cap);
                        if (!b)
                                return MHD_NO;
                        rq->body = b;
                        rq->cap = cap;
                }
                memcpy(rq->body + rq->len, upload, n);
                rq->len += n;
                rq->body[rq->len] = '\0';
                return MHD_YES;
        }
        pthread_mutex_lock(&hs->lock);
        bool stopping = hs->stopping;
        pthread_mutex_unlock(&hs->lock);
        if (stopping)
                return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, -32000, "the server is stopping");
        if (!strcmp(method, "POST"))
                return do_post(hs, c, rq);
        const char *sid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Mcp-Session-Id");
        if (!sid)
                return reply_error(c, MHD_HTTP_BAD_REQUEST, NULL, BRIDLE__RPC_INVALID_REQUEST,
                                   "no Mcp-Session-Id header");
        return !strcmp(method, "GET") ? do_get(hs, c, sid) : do_delete(hs, c, sid);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode tc)
{
        (void)cls, (void)c, (void)tc;
        req *rq = *con_cls;
        if (rq) {
                free(rq->body);
                free(rq);
        }
        *con_cls = NULL;
}

/* ---- the address ------------------------------------------------------------------------- */

/* "PORT", "HOST:PORT" or "[V6]:PORT" -> a bound, listening socket and its URL. */
static int listen_on(const char *addr, int *ret_fd, char *url, size_t cap, bool *ret_loopback, bool *ret_v6,
                     bridle_error *err)
{
        char host[256] = "127.0.0.1";
        const char *port = addr;
        if (addr[0] == '[') {
                const char *e = strchr(addr, ']');
                if (!e || e[1] != ':' || (size_t)(e - addr - 1) >= sizeof(host))
                        return bridle__err(err, -EINVAL, "bad address '%s': [V6]:PORT", addr);
                memcpy(host, addr + 1, (size_t)(e - addr - 1));
                host[e - addr - 1] = '\0';
                port = e + 2;
        } else if (strchr(addr, ':')) {
                const char *e = strrchr(addr, ':');
                if ((size_t)(e - addr) >= sizeof(host) || e == addr || memchr(addr, ':', (size_t)(e - addr)))
                        return bridle__err(err, -EINVAL, "bad address '%s': HOST:PORT ([V6]:PORT for IPv6)", addr);
                memcpy(host, addr, (size_t)(e - addr));
                host[e - addr] = '\0';
                port = e + 1;
        }
        if (!*port || strspn(port, "0123456789") != strlen(port) || strtoul(port, NULL, 10) > 65535)
                return bridle__err(err, -EINVAL, "bad port in '%s'", addr);
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
        struct addrinfo *ai = NULL;
        int g = getaddrinfo(host, port, &hints, &ai);
        if (g != 0)
                return bridle__err(err, -EINVAL, "address '%s': %s", host, gai_strerror(g));
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        int r = 0;
        if (fd < 0)
                r = -errno;
        else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
                 (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
                 bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0)
                r = -errno;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        if (r == 0 && getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
                r = -errno;
        freeaddrinfo(ai);
        if (r < 0) {
                bridle__close(fd);
                return bridle__err(err, r, "listening on '%s'", addr);
        }
        char ip[INET6_ADDRSTRLEN] = "";
        unsigned p;
        if (ss.ss_family == AF_INET6) {
                const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&ss;
                (void)inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof(ip));
                p = ntohs(a6->sin6_port);
                *ret_loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
                (void)snprintf(url, cap, "http://[%s]:%u/mcp", ip, p);
                *ret_v6 = true;
        } else {
                const struct sockaddr_in *a4 = (const struct sockaddr_in *)&ss;
                (void)inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof(ip));
                p = ntohs(a4->sin_port);
                *ret_loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
                (void)snprintf(url, cap, "http://%s:%u/mcp", ip, p);
                *ret_v6 = false;
        }
        *ret_fd = fd;
        return 0;
}

/* ---- the server ---------------------------------------------------------------------------- */

/* The manifest and the policy load (each session loads them again). */
static int check_files(const bridle_mcp_serve_opts *so, bridle_error *err)
{
        int r = 0;
        if (so->policy_path) {
                bridle__policy *p = NULL;
                r = bridle__policy_load(so->policy_path, &p, err);
                bridle__policy_free(p);
        }
        if (r == 0 && so->manifest_path) {
                bridle_manifest *m = NULL;
                r = bridle_manifest_load(so->manifest_path, &m, err);
                bridle_manifest_free(m);
        }
        return r;
}

static void reap_dead(hsrv *hs)
{
        /* Bounded by the table: one session a round. */
        for (size_t n = 0; n < hs->max + 1; n++) {
                session *dead = NULL;
                pthread_mutex_lock(&hs->lock);
                for (size_t i = 0; !dead && i < hs->nsess; i++)
                        if (hs->sess[i]->dead && !hs->sess[i]->ending)
                                dead = hs->sess[i];
                pthread_mutex_unlock(&hs->lock);
                if (!dead)
                        return;
                end_session(hs, dead);
        }
}

int bridle_mcp_serve_http(const bridle_mcp_http_opts *o, bridle_error *err)
{
        if (!o || !o->token || !o->token[0])
                return bridle__err(err, -EINVAL, "mcp serve --http: no token");
        int r = check_files(&o->serve, err);
        if (r < 0)
                return r;
        hsrv hs = {.o = o, .max = o->max_sessions ?: SESSIONS_DFLT};
        if (hs.max > 1024)
                return bridle__err(err, -EINVAL, "mcp serve --http: at most 1024 sessions");
        _cleanup_free_ session **table = bridle__calloc(hs.max, sizeof(session *));
        _cleanup_free_ char *token = bridle__strdup(o->token);
        if (!table || !token)
                return bridle__err(err, -ENOMEM, "mcp serve --http");
        hs.sess = table;
        hs.token = token;
        hs.token_len = strlen(token);

        int fd = -EBADF;
        char url[128];
        bool loopback = false, v6 = false;
        r = listen_on(o->addr ?: "127.0.0.1:0", &fd, url, sizeof(url), &loopback, &v6, err);
        if (r < 0)
                return r;
        pthread_mutex_init(&hs.lock, NULL);
        pthread_cond_init(&hs.cond, NULL);
        unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | (v6 ? MHD_USE_IPv6 : 0);
        struct MHD_Daemon *d = MHD_start_daemon(
                flags, 0, NULL, NULL, on_request, &hs, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED,
                on_completed, &hs, MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
                (unsigned)600, MHD_OPTION_END);
        if (!d) {
                bridle__close(fd);
                pthread_cond_destroy(&hs.cond);
                pthread_mutex_destroy(&hs.lock);
                return bridle__err(err, -EIO, "mcp serve --http: the HTTP server did not start");
        }
        if (o->on_listening)
                o->on_listening(url, loopback, o->userdata);
        bridle__log(6, "mcp http: listening on %s", url);

        /* Until stopped: the stop flag is the caller's; dead sessions are reaped here. */
        while (!(o->serve.stop && *o->serve.stop)) {
                (void)poll(NULL, 0, STOP_POLL_MS);
                reap_dead(&hs);
        }

        pthread_mutex_lock(&hs.lock);
        hs.stopping = true;
        pthread_cond_broadcast(&hs.cond);
        pthread_mutex_unlock(&hs.lock);
        /* Bounded by the table: each round ends one session. */
        for (size_t n = 0; n < hs.max + 1; n++) {
                pthread_mutex_lock(&hs.lock);
                session *s = hs.nsess ? hs.sess[0] : NULL;
                pthread_mutex_unlock(&hs.lock);
                if (!s)
                        break;
                end_session(&hs, s);
        }
        MHD_stop_daemon(d); /* joins the connections' threads; closes the socket */
        pthread_cond_destroy(&hs.cond);
        pthread_mutex_destroy(&hs.lock);
        return 0;
}
