/* SPDX-License-Identifier: MIT */
/* Which addresses the sandbox may never reach; host names; host lists; the test map. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress/egress.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

struct v4_range {
        uint32_t net;
        unsigned bits;
        const char *what;
};

static const struct v4_range v4_blocked[] = {
        {0x00000000u, 8, "'this network' address"},  /* 0/8 */
        {0x0a000000u, 8, "private address"},         /* 10/8 */
        {0x64400000u, 10, "shared (CGNAT) address"}, /* 100.64/10 */
        {0x7f000000u, 8, "loopback address"},        /* 127/8 */
        {0xa9fe0000u, 16, "link-local address"},     /* 169.254/16 */
        {0xac100000u, 12, "private address"},        /* 172.16/12 */
        {0xc0000000u, 24, "reserved address"},       /* 192.0.0/24 */
        {0xc0000200u, 24, "documentation address"},  /* 192.0.2/24 */
        {0xc0a80000u, 16, "private address"},        /* 192.168/16 */
        {0xc6120000u, 15, "benchmarking address"},   /* 198.18/15 */
        {0xc6336400u, 24, "documentation address"},  /* 198.51.100/24 */
        {0xcb007100u, 24, "documentation address"},  /* 203.0.113/24 */
        {0xe0000000u, 4, "multicast address"},       /* 224/4 */
        {0xf0000000u, 4, "reserved address"},        /* 240/4, broadcast included */
};

static const char *v4_class(uint32_t a)
{
        for (size_t i = 0; i < ELEMENTSOF(v4_blocked); i++) {
                uint32_t mask = v4_blocked[i].bits ? ~0u << (32 - v4_blocked[i].bits) : 0;
                if ((a & mask) == v4_blocked[i].net)
                        return v4_blocked[i].what;
        }
        return NULL;
}

static uint32_t v4_at(const uint8_t *b)
{
        return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static bool zero(const uint8_t *b, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (b[i])
                        return false;
        return true;
}

static const char *v6_class(const uint8_t *b)
{
        if (zero(b, 15) && b[15] <= 1)
                return b[15] ? "loopback address" : "unspecified address";
        /* IPv4 inside IPv6: mapped ::ffff:a.b.c.d, compatible ::a.b.c.d,
         * NAT64 64:ff9b::/96, SIIT ::ffff:0:a.b.c.d. The embedded address decides. */
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        static const uint8_t siit[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
        static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
        if (memcmp(b, mapped, 12) == 0 || memcmp(b, siit, 12) == 0 || memcmp(b, nat64, 12) == 0 ||
            zero(b, 12)) {
                const char *c = v4_class(v4_at(b + 12));
                return c ? c : NULL;
        }
        if (b[0] == 0x20 && b[1] == 0x02) /* 6to4: 2002:AABB:CCDD::/48 */
                return v4_class(v4_at(b + 2));
        if ((b[0] & 0xfe) == 0xfc)
                return "private address (ULA)";
        if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
                return "link-local address";
        if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
                return "site-local address";
        if (b[0] == 0xff)
                return "multicast address";
        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
                return "documentation address";
        if (b[0] == 0x01 && zero(b + 1, 7)) /* 100::/64 discard */
                return "discard address";
        return NULL;
}

bool bridle__egress_addr_blocked(const struct sockaddr *sa, char *why, size_t cap)
{
        char text[INET6_ADDRSTRLEN] = "?";
        const char *c;
        if (sa->sa_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
                c = v4_class(ntohl(in->sin_addr.s_addr));
                (void)inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
        } else if (sa->sa_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
                c = v6_class(in6->sin6_addr.s6_addr);
                (void)inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
        } else {
                c = "not an internet address";
        }
        if (c && why && cap)
                (void)snprintf(why, cap, "%s %s", c, text);
        return c != NULL;
}

int bridle__egress_host_norm(const char *in, size_t len, char *out, size_t cap)
{
        bool v6 = false;
        if (len >= 2 && in[0] == '[' && in[len - 1] == ']') {
                in++;
                len -= 2;
                v6 = true;
        }
        if (!v6 && len > 1 && in[len - 1] == '.')
                len--;
        if (len == 0 || len > 253 || len >= cap)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                char ch = in[i];
                if (ch >= 'A' && ch <= 'Z')
                        ch = (char)(ch - 'A' + 'a');
                bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                          ch == '.' || ch == '_' || (v6 && ch == ':');
                if (!ok)
                        return -EINVAL;
                out[i] = ch;
        }
        out[len] = '\0';
        if (v6) {
                struct in6_addr a;
                if (inet_pton(AF_INET6, out, &a) != 1)
                        return -EINVAL;
        }
        return 0;
}

bool bridle_egress_host_listed(const char *const *list, const char *host)
{
        char h[256];
        if (!list || !host || bridle__egress_host_norm(host, strlen(host), h, sizeof(h)) < 0)
                return false;
        size_t n = strlen(h);
        for (; *list; list++) {
                const char *a = *list;
                if (a[0] == '*' && a[1] == '.') {
                        size_t m = strlen(a + 1); /* ".domain" */
                        if (n > m && strcasecmp(h + n - m, a + 1) == 0)
                                return true;
                } else {
                        size_t al = strlen(a);
                        if (al && a[al - 1] == '.')
                                al--;
                        if (al == n && strncasecmp(a, h, n) == 0)
                                return true;
                }
        }
        return false;
}

/* "IP:PORT" or "[IP6]:PORT". */
static int parse_addr(const char *s, size_t len, struct bridle__egress_map_entry *e)
{
        char buf[80];
        if (len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = '\0';
        char *colon = strrchr(buf, ':');
        if (!colon)
                return -EINVAL;
        *colon = '\0';
        char *end = NULL;
        unsigned long port = strtoul(colon + 1, &end, 10);
        if (!colon[1] || *end || port == 0 || port > 65535)
                return -EINVAL;
        char *ip = buf;
        size_t il = strlen(ip);
        memset(&e->addr, 0, sizeof(e->addr));
        if (il >= 2 && ip[0] == '[' && ip[il - 1] == ']') {
                ip[il - 1] = '\0';
                struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&e->addr;
                a6->sin6_family = AF_INET6;
                a6->sin6_port = htons((uint16_t)port);
                if (inet_pton(AF_INET6, ip + 1, &a6->sin6_addr) != 1)
                        return -EINVAL;
                e->addrlen = sizeof(*a6);
                return 0;
        }
        struct sockaddr_in *a4 = (struct sockaddr_in *)&e->addr;
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, ip, &a4->sin_addr) != 1)
                return -EINVAL;
        e->addrlen = sizeof(*a4);
        return 0;
}

#define MAP_MAX 64

int bridle__egress_map_parse(const char *spec, struct bridle__egress_map_entry **ret, size_t *ret_n,
                             bridle_error *err)
{
        _cleanup_free_ struct bridle__egress_map_entry *v = NULL;
        size_t n = 0;
        for (const char *p = spec; p && *p;) {
                size_t len = strcspn(p, ",");
                const char *eq = memchr(p, '=', len);
                if (len == 0) {
                        p++;
                        continue;
                }
                if (n >= MAP_MAX)
                        return bridle__err(err, BRIDLE_E_LIMIT,
                                           "egress test map: more than %d entries", MAP_MAX);
                struct bridle__egress_map_entry *nv = bridle__realloc(v, (n + 1) * sizeof(*v));
                if (!nv)
                        return bridle__err(err, -ENOMEM, "egress test map");
                v = nv;
                if (!eq ||
                    bridle__egress_host_norm(p, (size_t)(eq - p), v[n].host, sizeof(v[n].host)) <
                            0 ||
                    parse_addr(eq + 1, len - (size_t)(eq - p) - 1, &v[n]) < 0)
                        return bridle__err(err, BRIDLE_E_INVALID,
                                           "egress test map: '%.*s' is not HOST=IP:PORT", (int)len,
                                           p);
                n++;
                p += len;
        }
        *ret_n = n;
        *ret = TAKE_PTR(v);
        return 0;
}
