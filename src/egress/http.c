/* SPDX-License-Identifier: MIT */
/* HTTP/1.1 proxy heads: the client's request, the origin's response, our own answers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "egress/egress.h"
#include "util/alloc.h"
#include "util/cleanup.h"

size_t bridle__egress_head_end(const char *buf, size_t len)
{
        for (size_t i = 3; i < len; i++)
                if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' &&
                    buf[i - 3] == '\r')
                        return i + 1;
        return 0;
}

static int fail(int *ret_status, int status, char *why, size_t cap, const char *msg)
{
        *ret_status = status;
        (void)snprintf(why, cap, "%s", msg);
        return -EINVAL;
}

static bool is_token(const char *s, size_t n)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c <= 32 || c >= 127 || strchr("()<>@,;:\\\"/[]?={}", c))
                        return false;
        }
        return true;
}

/* 1..5 decimal digits; 0 when malformed. */
static unsigned parse_port(const char *p, const char *end)
{
        if (p == end || end - p > 5)
                return 0;
        unsigned port = 0;
        for (; p < end; p++) {
                if (*p < '0' || *p > '9')
                        return 0;
                port = port * 10 + (unsigned)(*p - '0');
        }
        return port;
}

/* "host:port" / "[v6]:port" (port required when need_port), into req. */
static int parse_authority(const char *a, size_t len, bool need_port, unsigned def_port,
                           struct bridle__egress_req *req)
{
        const char *colon = NULL;
        if (len && a[0] == '[') {
                const char *close = memchr(a, ']', len);
                if (!close)
                        return -EINVAL;
                if ((size_t)(close - a) + 1 < len) {
                        if (close[1] != ':')
                                return -EINVAL;
                        colon = close + 1;
                }
        } else {
                colon = memchr(a, ':', len);
                if (colon && memchr(colon + 1, ':', len - (size_t)(colon - a) - 1))
                        return -EINVAL;
        }
        size_t hl = colon ? (size_t)(colon - a) : len;
        unsigned port = def_port;
        if (colon)
                port = parse_port(colon + 1, a + len);
        else if (need_port)
                return -EINVAL;
        if (port == 0 || port > 65535)
                return -EINVAL;
        if (bridle__egress_host_norm(a, hl, req->host, sizeof(req->host)) < 0)
                return -EINVAL;
        req->port = port;
        return 0;
}

/* Header lines after the first: "name: value" with a token name, CRLF or LF
 * ends, no NUL, no CR elsewhere. */
static bool headers_valid(const char *p, const char *end)
{
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                if (!nl)
                        return false;
                const char *le = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
                if (le == p)
                        return nl + 1 == end; /* the empty line ends the head */
                const char *colon = memchr(p, ':', (size_t)(le - p));
                if (!colon || !is_token(p, (size_t)(colon - p)))
                        return false;
                for (const char *q = colon; q < le; q++)
                        if (*q == '\0' || *q == '\r')
                                return false;
                p = nl + 1;
        }
        return false;
}

/* An absolute http:// URL (t, tl bytes; a space follows it in the head) into
 * req's host, port and path. NULL, or what is wrong with it. */
static const char *parse_url(const char *t, size_t tl, struct bridle__egress_req *req)
{
        if (tl >= 8 && strncasecmp(t, "https://", 8) == 0)
                return "https:// URLs go through CONNECT (set HTTPS_PROXY)";
        if (tl < 7 || strncasecmp(t, "http://", 7) != 0)
                return "a proxy request needs an absolute http:// URL";
        const char *a = t + 7, *end = t + tl;
        size_t al = strcspn(a, "/?# ");
        if (a + al > end)
                al = (size_t)(end - a);
        if (memchr(a, '@', al))
                return "user information in the URL is refused";
        if (parse_authority(a, al, false, 80, req) < 0)
                return "malformed host in the URL";
        req->path = a + al;
        req->path_len = (size_t)(end - req->path);
        for (size_t i = 0; i < req->path_len; i++)
                if ((unsigned char)req->path[i] <= 32 || req->path[i] == 127)
                        return "malformed URL";
        if (req->path_len && req->path[0] == '#')
                req->path_len = 0;
        return NULL;
}

int bridle__egress_req_parse(const char *buf, size_t head_len, struct bridle__egress_req *ret,
                             int *ret_status, char *why, size_t cap)
{
        struct bridle__egress_req req;
        memset(&req, 0, sizeof(req));
        req.head_len = head_len;
        const char *eol = memchr(buf, '\r', head_len);
        if (!eol || eol + 1 >= buf + head_len || eol[1] != '\n' ||
            memchr(buf, '\0', (size_t)(eol - buf)))
                return fail(ret_status, 400, why, cap, "malformed request line");
        if (!headers_valid(eol + 2, buf + head_len))
                return fail(ret_status, 400, why, cap, "malformed header line");
        size_t ll = (size_t)(eol - buf);
        const char *sp1 = memchr(buf, ' ', ll);
        const char *sp2 = sp1 ? memrchr(sp1 + 1, ' ', ll - (size_t)(sp1 + 1 - buf)) : NULL;
        if (!sp1 || !sp2 || (size_t)(sp1 - buf) >= sizeof(req.method) ||
            !is_token(buf, (size_t)(sp1 - buf)))
                return fail(ret_status, 400, why, cap, "malformed request line");
        const char *ver = sp2 + 1;
        size_t vl = (size_t)(eol - ver);
        if (vl != 8 || (memcmp(ver, "HTTP/1.1", 8) != 0 && memcmp(ver, "HTTP/1.0", 8) != 0))
                return fail(ret_status, 505, why, cap,
                            "only HTTP/1.0 and HTTP/1.1 are spoken here");
        memcpy(req.method, buf, (size_t)(sp1 - buf));
        req.version = ver;
        const char *t = sp1 + 1;
        size_t tl = (size_t)(sp2 - t);
        if (strcmp(req.method, "CONNECT") == 0) {
                req.connect = true;
                if (parse_authority(t, tl, true, 0, &req) < 0)
                        return fail(ret_status, 400, why, cap, "CONNECT wants host:port");
        } else {
                const char *msg = parse_url(t, tl, &req);
                if (msg)
                        return fail(ret_status, 400, why, cap, msg);
        }
        *ret = req;
        return 0;
}

/* Header lines of a head: calls fn(name, name_len, line, line_len) for each. */
struct hdr {
        const char *name;
        size_t name_len;
        const char *line; /* the whole line, CRLF included */
        size_t line_len;
        const char *value;
        size_t value_len;
};

static bool next_header(const char **p, const char *end, struct hdr *h)
{
        const char *s = *p;
        if (end - s < 2 || (s[0] == '\r' && s[1] == '\n'))
                return false;
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl)
                return false;
        const char *colon = memchr(s, ':', (size_t)(nl - s));
        h->line = s;
        h->line_len = (size_t)(nl + 1 - s);
        h->name = s;
        h->name_len = colon ? (size_t)(colon - s) : 0;
        const char *v = colon ? colon + 1 : nl;
        const char *ve = nl > s && nl[-1] == '\r' ? nl - 1 : nl;
        while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
        h->value = v;
        h->value_len = (size_t)(ve - v);
        *p = nl + 1;
        return true;
}

static bool name_is(const struct hdr *h, const char *n)
{
        size_t l = strlen(n);
        return h->name_len == l && strncasecmp(h->name, n, l) == 0;
}

/* Is h named in a Connection header's comma list (value)? */
static bool named_in(const struct hdr *h, const char *v, size_t vl)
{
        for (size_t i = 0; i < vl;) {
                while (i < vl && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
                        i++;
                size_t s = i;
                while (i < vl && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
                        i++;
                if (i > s && i - s == h->name_len && strncasecmp(v + s, h->name, h->name_len) == 0)
                        return true;
        }
        return false;
}

static const char *const hop_by_hop[] = {
        "connection", "proxy-connection", "keep-alive", "proxy-authorization", "proxy-authenticate",
        "te",         "trailer",          "upgrade",
};

/* Copy the header lines from p to end into out, leaving out hop-by-hop ones
 * (and Host when drop_host). */
static char *copy_headers(char *out, const char *p, const char *end, bool drop_host)
{
        /* The Connection headers' lists first: the names they carry are hop-by-hop too. */
        struct hdr conn[8];
        size_t nconn = 0;
        struct hdr h;
        for (const char *q = p; next_header(&q, end, &h);)
                if (name_is(&h, "connection") && nconn < 8)
                        conn[nconn++] = h;
        while (next_header(&p, end, &h)) {
                bool drop = h.name_len == 0 || (drop_host && name_is(&h, "host")) ||
                            (h.name_len >= 6 &&
                             strncasecmp(h.name, "proxy-", 6) == 0); /* meant for us */
                for (size_t i = 0; !drop && i < sizeof(hop_by_hop) / sizeof(*hop_by_hop); i++)
                        drop = name_is(&h, hop_by_hop[i]);
                for (size_t i = 0; !drop && i < nconn; i++)
                        drop = named_in(&h, conn[i].value, conn[i].value_len);
                if (drop)
                        continue;
                memcpy(out, h.line, h.line_len);
                out += h.line_len;
                if (h.line_len < 2 || out[-2] != '\r') { /* a bare LF line: end it with CRLF */
                        out[-1] = '\r';
                        *out++ = '\n';
                }
        }
        return out;
}

int bridle__egress_req_rewrite(const char *buf, const struct bridle__egress_req *req, char **ret,
                               size_t *ret_len)
{
        const char *eol = memchr(buf, '\n', req->head_len);
        const char *end = buf + req->head_len;
        /* request line + headers (each may gain a CR) + Host + Connection */
        size_t cap = req->head_len * 2 + strlen(req->host) + 128;
        _cleanup_free_ char *out = bridle__malloc(cap);
        if (!out || !eol)
                return -ENOMEM;
        bool v6 = strchr(req->host, ':') != NULL;
        char *o = out;
        o += sprintf(o, "%s ", req->method);
        if (req->path_len == 0) {
                *o++ = '/';
        } else {
                if (req->path[0] == '?')
                        *o++ = '/';
                memcpy(o, req->path, req->path_len);
                o += req->path_len;
        }
        o += sprintf(o, " %.8s\r\n", req->version);
        o = copy_headers(o, eol + 1, end, true);
        if (req->port == 80)
                o += sprintf(o, v6 ? "Host: [%s]\r\n" : "Host: %s\r\n", req->host);
        else
                o += sprintf(o, v6 ? "Host: [%s]:%u\r\n" : "Host: %s:%u\r\n", req->host, req->port);
        o += sprintf(o, "Connection: close\r\n\r\n");
        *ret_len = (size_t)(o - out);
        *ret = TAKE_PTR(out);
        return 0;
}

int bridle__egress_resp_rewrite(const char *buf, size_t head_len, char **ret, size_t *ret_len,
                                int *ret_status)
{
        const char *eol = memchr(buf, '\n', head_len);
        if (!eol || head_len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' ||
            memchr(buf, '\0', head_len) || !headers_valid(eol + 1, buf + head_len))
                return -EINVAL; /* passed on as it is */
        int status = 0;
        for (int i = 9; i < 12; i++) {
                if (buf[i] < '0' || buf[i] > '9')
                        return -EINVAL;
                status = status * 10 + (buf[i] - '0');
        }
        _cleanup_free_ char *out = bridle__malloc(head_len * 2 + 64);
        if (!out)
                return -ENOMEM;
        size_t sl = (size_t)(eol + 1 - buf);
        memcpy(out, buf, sl);
        char *o = out + sl;
        if (sl < 2 || buf[sl - 2] != '\r') {
                o[-1] = '\r';
                *o++ = '\n';
        }
        o = copy_headers(o, eol + 1, buf + head_len, false);
        if (status >= 200)
                o += sprintf(o, "Connection: close\r\n");
        o += sprintf(o, "\r\n");
        *ret_status = status;
        *ret_len = (size_t)(o - out);
        *ret = TAKE_PTR(out);
        return 0;
}

static const char *status_text(int status)
{
        switch (status) {
        case 200:
                return "Connection established";
        case 400:
                return "Bad Request";
        case 403:
                return "Forbidden";
        case 405:
                return "Method Not Allowed";
        case 431:
                return "Request Header Fields Too Large";
        case 502:
                return "Bad Gateway";
        case 503:
                return "Service Unavailable";
        case 504:
                return "Gateway Timeout";
        case 505:
                return "HTTP Version Not Supported";
        default:
                return "Error";
        }
}

size_t bridle__egress_reply(char *out, size_t cap, int status, const char *body)
{
        int n;
        if (status == 200)
                n = snprintf(out, cap, "HTTP/1.1 200 Connection established\r\n\r\n");
        else
                n = snprintf(out, cap,
                             "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                             "Content-Length: %zu\r\nConnection: close\r\nProxy-Connection: "
                             "close\r\n\r\n"
                             "bridle egress: %s\n",
                             status, status_text(status), strlen(body) + 16, body);
        if (n < 0)
                return 0;
        return (size_t)n < cap ? (size_t)n : cap - 1;
}
