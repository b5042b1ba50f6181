/* SPDX-License-Identifier: MIT */
/*
 * `bridle mcp serve --http` (include/bridle/mcp.h, docs/mcp.md): the MCP
 * streamable HTTP transport in front of server.c. The protocol stays in
 * server.c: each session is one bridle_mcp_serve in its own thread over a
 * socketpair (http_session.c: sessions, their streams and the routing of
 * the server's messages); this file is the HTTP side: checks (token, Origin,
 * path, version, size), POST, GET, DELETE, SSE responses, the address.
 *
 * libmicrohttpd runs a thread per connection: handlers and SSE content
 * readers may block on the hub's condition variable, waking at least every
 * second to notice the server stopping or the client leaving.
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
#include "mcp/http_session.h"
#include "mcp/jsonrpc.h"
#include "mcp/server.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fd.h"

#define BODY_MAX        ((size_t)8 << 20) /* one POST */
#define CONN_MAX        64                /* connections at a time */
#define KEEPALIVE_S     15                /* an SSE comment after this long idle */
#define STOP_POLL_MS    250
#define SESSIONS_DFLT   8
#define IDLE_DFLT_S     3600 /* a session with nothing going on ends after an hour */

typedef struct http {
        bridle__mcpd_hub hub;
        char *token;
        size_t token_len;
} http;

typedef struct req {
        char *body;
        size_t len, cap;
        bool too_big;
} req;

static void json_unrefp(json_t **p)
{
        json_decref(*p);
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
static bool token_ok(const http *hs, const char *auth)
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
        bridle__mcpd_stream *st = cls;
        bridle__mcpd_hub *hub = st->hub;
        ssize_t ret = MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&hub->lock);
        /* Bounded: each round waits a second; keepalives every KEEPALIVE_S. */
        for (;;) {
                if (st->head) {
                        bridle__mcpd_ev *e = st->head;
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
                if (st->done || hub->stopping)
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
                if (pthread_cond_timedwait(&hub->cond, &hub->lock, &ts) == ETIMEDOUT) {
                        st->idle_s++;
                        if (peer_gone(st->conn_fd)) { /* what comes next goes elsewhere */
                                st->closed = true;
                                ret = MHD_CONTENT_READER_END_WITH_ERROR;
                                break;
                        }
                }
        }
        pthread_mutex_unlock(&hub->lock);
        return ret;
}

static void sse_free(void *cls)
{
        bridle__mcpd_stream *st = cls;
        bridle__mcpd_hub *hub = st->hub;
        pthread_mutex_lock(&hub->lock);
        st->closed = true;
        bridle__mcpd_stream_unref(st);
        pthread_mutex_unlock(&hub->lock);
}

static void stream_put(bridle__mcpd_stream *st)
{
        bridle__mcpd_hub *hub = st->hub;
        pthread_mutex_lock(&hub->lock);
        bridle__mcpd_stream_unref(st);
        pthread_mutex_unlock(&hub->lock);
}

/* An SSE response over st (a reference of its own). */
static enum MHD_Result reply_sse(struct MHD_Connection *c, bridle__mcpd_stream *st, const char *session_id)
{
        bridle__mcpd_hub *hub = st->hub;
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        pthread_mutex_lock(&hub->lock);
        st->ref++;
        st->conn_fd = ci ? ci->connect_fd : -EBADF;
        pthread_mutex_unlock(&hub->lock);
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
static enum MHD_Result reply_json_wait(struct MHD_Connection *c, bridle__mcpd_stream *st, const char *session_id)
{
        bridle__mcpd_hub *hub = st->hub;
        pthread_mutex_lock(&hub->lock);
        while (!st->done && !hub->stopping) {
                struct timespec ts;
                (void)clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += 1;
                (void)pthread_cond_timedwait(&hub->cond, &hub->lock, &ts);
        }
        _cleanup_free_ char *body = st->head ? TAKE_PTR(st->head->text) : NULL;
        st->closed = true;
        pthread_mutex_unlock(&hub->lock);
        if (!body)
                return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, BRIDLE__RPC_INTERNAL_ERROR,
                                   "the session ended before answering");
        return reply(c, MHD_HTTP_OK, body, "application/json", session_id);
}

static enum MHD_Result reply_write_error(struct MHD_Connection *c, const json_t *id, int r)
{
        if (r == -EMSGSIZE)
                return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, id, BRIDLE__RPC_INVALID_REQUEST,
                                   "the message is over %zu bytes", BRIDLE__RPC_LINE_MAX - 1);
        return reply_error(c, MHD_HTTP_NOT_FOUND, id, -32001, "the session is gone: %s", strerror(-r));
}

/* The session a POST goes to (*ret; NULL: answered here with an error):
 * named, or new (*ret_created) for an initialize without one. */
static enum MHD_Result post_session(http *hs, struct MHD_Connection *c, const bridle__rpc_msg *m,
                                    bridle__mcpd_session **ret, bool *ret_created)
{
        const char *sid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Mcp-Session-Id");
        *ret_created = !sid;
        if (sid) {
                *ret = bridle__mcpd_session_get(&hs->hub, sid);
                return *ret ? MHD_YES : reply_error(c, MHD_HTTP_NOT_FOUND, m->id, -32001, "no session '%.40s'", sid);
        }
        if (m->kind != BRIDLE__RPC_REQUEST || strcmp(m->method, "initialize") != 0)
                return reply_error(c, MHD_HTTP_BAD_REQUEST, m->id, BRIDLE__RPC_INVALID_REQUEST,
                                   "no Mcp-Session-Id: a session starts with initialize");
        bool full = false;
        *ret = bridle__mcpd_session_new(&hs->hub, &full);
        if (*ret)
                return MHD_YES;
        if (full)
                return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, m->id, -32000,
                                   "too many sessions (at most %zu): end one with DELETE", hs->hub.max);
        return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, m->id, BRIDLE__RPC_INTERNAL_ERROR,
                           "no new session: the server is stopping or out of resources");
}

/* A request: its stream waits for the response, then the message goes to the server. */
static enum MHD_Result post_request(http *hs, struct MHD_Connection *c, const bridle__rpc_msg *m,
                                    bridle__mcpd_session *s, bool created)
{
        bool sse = accepts_sse(c);
        bridle__mcpd_stream *st = bridle__mcpd_stream_new(&hs->hub, sse);
        int r = st ? bridle__mcpd_session_expect(s, m->id, st) : -ENOMEM;
        if (r < 0) {
                if (st)
                        stream_put(st);
                if (r == -EEXIST)
                        return reply_error(c, MHD_HTTP_BAD_REQUEST, m->id, BRIDLE__RPC_INVALID_REQUEST,
                                           "a request with this id is already waiting");
                return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, m->id, BRIDLE__RPC_INTERNAL_ERROR,
                                   r == -ENOSPC ? "too many requests waiting in this session" : "out of memory");
        }
        enum MHD_Result ret;
        r = bridle__mcpd_session_write(s, m->msg);
        if (r < 0) {
                bridle__mcpd_session_forget(s, st);
                ret = reply_write_error(c, m->id, r);
                if (created)
                        bridle__mcpd_session_end(s);
        } else {
                const char *sid = created ? s->id : NULL;
                ret = sse ? reply_sse(c, st, sid) : reply_json_wait(c, st, sid);
        }
        stream_put(st);
        return ret;
}

static enum MHD_Result do_post(http *hs, struct MHD_Connection *c, req *rq)
{
        if (rq->too_big)
                return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, NULL, BRIDLE__RPC_INVALID_REQUEST,
                                   "the body is over %zu bytes", BODY_MAX);
        bridle__rpc_msg m;
        int code = 0;
        char why[160];
        enum MHD_Result ret;
        bridle__mcpd_session *s = NULL;
        bool created = false;
        if (bridle__rpc_parse(rq->body ?: "", rq->len, &m, &code, why, sizeof(why)) < 0)
                ret = reply_error(c, MHD_HTTP_BAD_REQUEST, code == BRIDLE__RPC_PARSE_ERROR ? NULL : m.id, code, "%s",
                                  why);
        else if ((ret = post_session(hs, c, &m, &s, &created)) != MHD_YES || !s)
                ; /* answered */
        else if (m.kind == BRIDLE__RPC_REQUEST)
                ret = post_request(hs, c, &m, s, created);
        else { /* a notification or a response: accepted */
                int r = bridle__mcpd_session_write(s, m.msg);
                ret = r < 0 ? reply_write_error(c, NULL, r) : reply(c, MHD_HTTP_ACCEPTED, NULL, NULL, NULL);
        }
        bridle__mcpd_session_put(s);
        bridle__rpc_msg_clear(&m);
        return ret;
}

static enum MHD_Result do_get(http *hs, struct MHD_Connection *c, const char *sid)
{
        if (!accepts_sse(c))
                return reply_error(c, MHD_HTTP_NOT_ACCEPTABLE, NULL, BRIDLE__RPC_INVALID_REQUEST,
                                   "GET opens an event stream: Accept: text/event-stream");
        bridle__mcpd_session *s = bridle__mcpd_session_get(&hs->hub, sid);
        if (!s)
                return reply_error(c, MHD_HTTP_NOT_FOUND, NULL, -32001, "no session '%.40s'", sid);
        bridle__mcpd_stream *st = bridle__mcpd_stream_new(&hs->hub, true);
        int r = st ? bridle__mcpd_session_attach_get(s, st) : -ENOMEM;
        bridle__mcpd_session_put(s);
        enum MHD_Result ret;
        if (r == 0)
                ret = reply_sse(c, st, NULL);
        else
                ret = reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, BRIDLE__RPC_INTERNAL_ERROR, "out of memory");
        if (st)
                stream_put(st);
        return ret;
}

static enum MHD_Result do_delete(http *hs, struct MHD_Connection *c, const char *sid)
{
        bridle__mcpd_session *s = bridle__mcpd_session_get(&hs->hub, sid);
        if (!s)
                return reply_error(c, MHD_HTTP_NOT_FOUND, NULL, -32001, "no session '%.40s'", sid);
        bridle__mcpd_session_end(s);
        bridle__mcpd_session_put(s);
        return reply(c, MHD_HTTP_OK, NULL, NULL, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
        (void)version;
        http *hs = cls;
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
        pthread_mutex_lock(&hs->hub.lock);
        bool stopping = hs->hub.stopping;
        pthread_mutex_unlock(&hs->hub.lock);
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

int bridle_mcp_serve_http(const bridle_mcp_http_opts *o, bridle_error *err)
{
        if (!o || !o->token || !o->token[0])
                return bridle__err(err, -EINVAL, "mcp serve --http: no token");
        size_t max = o->max_sessions ?: SESSIONS_DFLT;
        if (max > 1024)
                return bridle__err(err, -EINVAL, "mcp serve --http: at most 1024 sessions");
        int r = check_files(&o->serve, err);
        if (r < 0)
                return r;
        int fd = -EBADF;
        char url[128];
        bool loopback = false, v6 = false;
        r = listen_on(o->addr ?: "127.0.0.1:0", &fd, url, sizeof(url), &loopback, &v6, err);
        if (r < 0)
                return r;
        http hs = {.token = bridle__strdup(o->token), .token_len = strlen(o->token)};
        uint64_t idle_ms = o->session_idle_s == BRIDLE_MCP_IDLE_NEVER ? 0
                           : (uint64_t)(o->session_idle_s ?: IDLE_DFLT_S) * 1000;
        if (!hs.token || bridle__mcpd_hub_init(&hs.hub, &o->serve, max, idle_ms) < 0) {
                free(hs.token);
                bridle__close(fd);
                return bridle__err(err, -ENOMEM, "mcp serve --http");
        }
        unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | (v6 ? MHD_USE_IPv6 : 0);
        struct MHD_Daemon *d = MHD_start_daemon(
                flags, 0, NULL, NULL, on_request, &hs, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED,
                on_completed, &hs, MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
                (unsigned)600, MHD_OPTION_END);
        if (!d) {
                bridle__close(fd);
                bridle__mcpd_hub_release(&hs.hub);
                free(hs.token);
                return bridle__err(err, -EIO, "mcp serve --http: the HTTP server did not start");
        }
        if (o->on_listening)
                o->on_listening(url, loopback, o->userdata);
        bridle__log(6, "mcp http: listening on %s", url);

        /* Until stopped (the stop flag is the caller's); dead and idle sessions are reaped here. */
        while (!(o->serve.stop && *o->serve.stop)) {
                (void)poll(NULL, 0, STOP_POLL_MS);
                bridle__mcpd_hub_reap(&hs.hub);
        }
        bridle__mcpd_hub_stop(&hs.hub);
        MHD_stop_daemon(d); /* joins the connections' threads; closes the socket */
        bridle__mcpd_hub_release(&hs.hub);
        free(hs.token);
        return 0;
}
