/* SPDX-License-Identifier: MIT */
/*
 * The sessions of `bridle mcp serve --http` (http_session.h): a
 * bridle_mcp_serve() and a router thread each, the streams their messages
 * go to, and the table of sessions.
 */
#include "mcp/http_session.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "mcp/jsonrpc.h"
#include "mcp/server.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fd.h"

static void json_unrefp(json_t **p)
{
        json_decref(*p);
}

/* ---- events and streams (hub->lock held) ------------------------------------------- */

static void ev_free_all(bridle__mcpd_ev *e)
{
        while (e) {
                bridle__mcpd_ev *n = e->next;
                free(e->text);
                free(e);
                e = n;
        }
}

bridle__mcpd_stream *bridle__mcpd_stream_new(bridle__mcpd_hub *hub, bool sse)
{
        bridle__mcpd_stream *st = bridle__calloc(1, sizeof(*st));
        if (st) {
                st->hub = hub;
                st->ref = 1;
                st->sse = sse;
                st->conn_fd = -EBADF;
        }
        return st;
}

void bridle__mcpd_stream_unref(bridle__mcpd_stream *st)
{
        if (!st || --st->ref > 0)
                return;
        ev_free_all(st->head);
        free(st);
}

/* Add a message (one line of JSON) to a stream: an SSE event with an id, or as is. */
static int stream_push(bridle__mcpd_session *s, bridle__mcpd_stream *st, const char *line, size_t len)
{
        bridle__mcpd_ev *e = bridle__calloc(1, sizeof(*e));
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

bool bridle__mcpd_stream_open(const bridle__mcpd_stream *st)
{
        return st && !st->closed && !st->done;
}

/* Hand the session's backlog to a stream that just opened. */
static void backlog_flush(bridle__mcpd_session *s, bridle__mcpd_stream *st)
{
        while (s->bl_head) {
                bridle__mcpd_ev *e = s->bl_head;
                s->bl_head = e->next;
                if (!s->bl_head)
                        s->bl_tail = NULL;
                s->nbl--;
                (void)stream_push(s, st, e->text, e->len);
                free(e->text);
                free(e);
        }
}

static void backlog_add(bridle__mcpd_session *s, const char *line, size_t len)
{
        if (s->nbl >= BRIDLE__MCP_HTTP_BACKLOG_MAX) { /* the oldest goes */
                bridle__mcpd_ev *e = s->bl_head;
                s->bl_head = e->next;
                if (!s->bl_head)
                        s->bl_tail = NULL;
                s->nbl--;
                e->next = NULL;
                ev_free_all(e);
                bridle__log(5, "mcp http: a server message dropped (no stream to carry it)");
        }
        bridle__mcpd_ev *e = bridle__calloc(1, sizeof(*e));
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

static void pend_remove(bridle__mcpd_session *s, size_t i)
{
        json_decref(s->pend[i].id);
        bridle__mcpd_stream_unref(s->pend[i].st);
        memmove(s->pend + i, s->pend + i + 1, (s->npend - i - 1) * sizeof(s->pend[0]));
        s->npend--;
}

/* The session's streams end (it is over). */
static void session_close_streams(bridle__mcpd_session *s)
{
        while (s->npend > 0) {
                s->pend[0].st->done = true;
                pend_remove(s, 0);
        }
        if (s->get) {
                s->get->done = true;
                bridle__mcpd_stream_unref(s->get);
                s->get = NULL;
        }
}

/* ---- sessions -------------------------------------------------------------------------- */

static void session_unref(bridle__mcpd_session *s) /* hub->lock held */
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

/* A live session by id, a new reference (hub->lock held). */
static int64_t mono_ms(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bridle__mcpd_session *session_find(bridle__mcpd_hub *hub, const char *id)
{
        for (size_t i = 0; id && i < hub->nsess; i++)
                if (!hub->sess[i]->dead && !hub->sess[i]->ending && !strcmp(hub->sess[i]->id, id)) {
                        hub->sess[i]->ref++;
                        hub->sess[i]->last_ms = mono_ms();
                        return hub->sess[i];
                }
        return NULL;
}

/* Lock held: nothing in flight or open, and no request for idle_ms. */
static bool session_idle(const bridle__mcpd_hub *hub, const bridle__mcpd_session *s, int64_t now)
{
        return hub->idle_ms && s->ref == 1 && s->npend == 0 && !(s->get && bridle__mcpd_stream_open(s->get)) &&
               now - s->last_ms >= (int64_t)hub->idle_ms;
}

/* One server message: to its POST, or a stream that can carry it, or the backlog. */
static void route(bridle__mcpd_session *s, const char *line, size_t len)
{
        bridle__mcpd_hub *hub = s->hub;
        _cleanup_(json_unrefp) json_t *j = json_loadb(line, len, 0, NULL);
        if (!json_is_object(j))
                return;
        const json_t *id = json_object_get(j, "id");
        bool response = id && !json_object_get(j, "method");
        pthread_mutex_lock(&hub->lock);
        if (response) {
                size_t i = 0;
                while (i < s->npend && !json_equal(s->pend[i].id, (json_t *)id))
                        i++;
                if (i < s->npend) {
                        bridle__mcpd_stream *st = s->pend[i].st;
                        bool lost = st->closed;
                        if (!lost)
                                (void)stream_push(s, st, line, len);
                        st->done = true;
                        pend_remove(s, i);
                        /* Its stream broke: the GET stream (a client reopens
                         * it to resume), else the next stream to open. */
                        if (lost && bridle__mcpd_stream_open(s->get))
                                (void)stream_push(s, s->get, line, len);
                        else if (lost)
                                backlog_add(s, line, len);
                } else {
                        bridle__log(6, "mcp http: a response to no request waiting dropped");
                }
        } else {
                bridle__mcpd_stream *to = NULL;
                for (size_t i = 0; !to && i < s->npend; i++)
                        if (s->pend[i].st->sse && bridle__mcpd_stream_open(s->pend[i].st))
                                to = s->pend[i].st;
                if (!to && bridle__mcpd_stream_open(s->get))
                        to = s->get;
                if (to)
                        (void)stream_push(s, to, line, len);
                else
                        backlog_add(s, line, len);
        }
        pthread_cond_broadcast(&hub->cond);
        pthread_mutex_unlock(&hub->lock);
}

static void *route_main(void *arg)
{
        bridle__mcpd_session *s = arg;
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
        pthread_mutex_lock(&s->hub->lock);
        s->dead = true;
        session_close_streams(s);
        pthread_cond_broadcast(&s->hub->cond);
        pthread_mutex_unlock(&s->hub->lock);
        return NULL;
}

static void *serve_main(void *arg)
{
        bridle__mcpd_session *s = arg;
        bridle_mcp_serve_opts so = *s->hub->serve;
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
void bridle__mcpd_session_end(bridle__mcpd_session *s)
{
        bridle__mcpd_hub *hub = s->hub;
        pthread_mutex_lock(&hub->lock);
        if (s->ending) {
                pthread_mutex_unlock(&hub->lock);
                return;
        }
        s->ending = true;
        for (size_t i = 0; i < hub->nsess; i++)
                if (hub->sess[i] == s) {
                        memmove(hub->sess + i, hub->sess + i + 1, (hub->nsess - i - 1) * sizeof(hub->sess[0]));
                        hub->nsess--;
                        break;
                }
        pthread_mutex_unlock(&hub->lock);
        __atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
        (void)shutdown(s->fd, SHUT_WR); /* server.c reads the end of its input */
        if (s->serve_started)
                (void)pthread_join(s->serve_thr, NULL);
        if (s->route_started)
                (void)pthread_join(s->route_thr, NULL);
        pthread_mutex_lock(&hub->lock);
        session_close_streams(s);
        pthread_cond_broadcast(&hub->cond);
        session_unref(s); /* the table's */
        pthread_mutex_unlock(&hub->lock);
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
bridle__mcpd_session *bridle__mcpd_session_new(bridle__mcpd_hub *hub, bool *ret_full)
{
        *ret_full = false;
        bridle__mcpd_session *s = bridle__calloc(1, sizeof(*s));
        int sv[2] = {-EBADF, -EBADF};
        if (!s)
                return NULL;
        s->hub = hub;
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
        s->last_ms = mono_ms();
        pthread_mutex_lock(&hub->lock);
        if (hub->stopping || hub->nsess >= hub->max) {
                *ret_full = !hub->stopping;
                s->ref = 1;
                session_unref(s);
                pthread_mutex_unlock(&hub->lock);
                return NULL;
        }
        hub->sess[hub->nsess++] = s;
        s->serve_started = pthread_create(&s->serve_thr, NULL, serve_main, s) == 0;
        s->route_started = s->serve_started && pthread_create(&s->route_thr, NULL, route_main, s) == 0;
        pthread_mutex_unlock(&hub->lock);
        if (!s->route_started) {
                bridle__mcpd_session_end(s);
                pthread_mutex_lock(&hub->lock);
                session_unref(s);
                pthread_mutex_unlock(&hub->lock);
                return NULL;
        }
        bridle__log(6, "mcp http: session %.8s opened", s->id);
        return s;
}

/* One message, as a compact line, to the session's server.c. */
int bridle__mcpd_session_write(bridle__mcpd_session *s, const json_t *msg)
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

void bridle__mcpd_hub_reap(bridle__mcpd_hub *hub)
{
        /* Bounded by the table: one session a round. */
        for (size_t n = 0; n < hub->max + 1; n++) {
                bridle__mcpd_session *dead = NULL;
                pthread_mutex_lock(&hub->lock);
                int64_t now = mono_ms();
                for (size_t i = 0; !dead && i < hub->nsess; i++)
                        if ((hub->sess[i]->dead || session_idle(hub, hub->sess[i], now)) && !hub->sess[i]->ending)
                                dead = hub->sess[i];
                pthread_mutex_unlock(&hub->lock);
                if (!dead)
                        return;
                bridle__mcpd_session_end(dead);
        }
}

bridle__mcpd_session *bridle__mcpd_session_get(bridle__mcpd_hub *hub, const char *id)
{
        pthread_mutex_lock(&hub->lock);
        bridle__mcpd_session *s = session_find(hub, id);
        pthread_mutex_unlock(&hub->lock);
        return s;
}

void bridle__mcpd_session_put(bridle__mcpd_session *s)
{
        if (!s)
                return;
        bridle__mcpd_hub *hub = s->hub;
        pthread_mutex_lock(&hub->lock);
        session_unref(s);
        pthread_mutex_unlock(&hub->lock);
}

int bridle__mcpd_session_expect(bridle__mcpd_session *s, const json_t *id, bridle__mcpd_stream *st)
{
        bridle__mcpd_hub *hub = s->hub;
        int r = 0;
        pthread_mutex_lock(&hub->lock);
        for (size_t i = 0; r == 0 && i < s->npend; i++)
                if (json_equal(s->pend[i].id, (json_t *)id))
                        r = -EEXIST;
        if (r == 0 && s->npend >= BRIDLE__MCP_HTTP_PENDING_MAX)
                r = -ENOSPC;
        json_t *copy = r == 0 ? json_deep_copy(id) : NULL;
        if (r == 0 && !copy)
                r = -ENOMEM;
        if (r == 0) {
                s->pend[s->npend].id = copy;
                s->pend[s->npend++].st = st;
                st->ref++;
                if (st->sse)
                        backlog_flush(s, st);
        }
        pthread_mutex_unlock(&hub->lock);
        return r;
}

void bridle__mcpd_session_forget(bridle__mcpd_session *s, bridle__mcpd_stream *st)
{
        pthread_mutex_lock(&s->hub->lock);
        for (size_t i = 0; i < s->npend; i++)
                if (s->pend[i].st == st) {
                        pend_remove(s, i);
                        break;
                }
        pthread_mutex_unlock(&s->hub->lock);
}

int bridle__mcpd_session_attach_get(bridle__mcpd_session *s, bridle__mcpd_stream *st)
{
        pthread_mutex_lock(&s->hub->lock);
        if (s->get) { /* the new one wins: the old may be a dead connection not noticed yet */
                s->get->done = true;
                bridle__mcpd_stream_unref(s->get);
        }
        s->get = st;
        st->ref++;
        backlog_flush(s, st);
        pthread_cond_broadcast(&s->hub->cond);
        pthread_mutex_unlock(&s->hub->lock);
        return 0;
}

/* ---- the table --------------------------------------------------------------------------- */

int bridle__mcpd_hub_init(bridle__mcpd_hub *hub, const bridle_mcp_serve_opts *serve, size_t max, uint64_t idle_ms)
{
        *hub = (bridle__mcpd_hub){.serve = serve, .max = max, .idle_ms = idle_ms};
        if (!(hub->sess = bridle__calloc(max, sizeof(hub->sess[0]))))
                return -ENOMEM;
        pthread_mutex_init(&hub->lock, NULL);
        pthread_cond_init(&hub->cond, NULL);
        return 0;
}

void bridle__mcpd_hub_stop(bridle__mcpd_hub *hub)
{
        pthread_mutex_lock(&hub->lock);
        hub->stopping = true;
        pthread_cond_broadcast(&hub->cond);
        pthread_mutex_unlock(&hub->lock);
        /* Bounded by the table: each round ends one session. */
        for (size_t n = 0; n < hub->max + 1; n++) {
                pthread_mutex_lock(&hub->lock);
                bridle__mcpd_session *s = hub->nsess ? hub->sess[0] : NULL;
                pthread_mutex_unlock(&hub->lock);
                if (!s)
                        break;
                bridle__mcpd_session_end(s);
        }
}

void bridle__mcpd_hub_release(bridle__mcpd_hub *hub)
{
        pthread_cond_destroy(&hub->cond);
        pthread_mutex_destroy(&hub->lock);
        free(hub->sess);
        hub->sess = NULL;
}
