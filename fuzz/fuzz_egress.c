/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: what a sandbox sends the egress proxy (request heads) and what
 * an origin answers (response heads). Invariants: a parsed request has a
 * normalised host that the parser would accept again, a port in 1..65535, a
 * rewritten head that ends the head and says "Connection: close" and has no
 * proxy headers; refusals carry a 4xx/5xx status.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "egress/egress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(const char *buf, size_t len)
{
        size_t end = bridle__egress_head_end(buf, len);
        if (!end)
                return;
        if (end > len || memcmp(buf + end - 4, "\r\n\r\n", 4) != 0)
                abort();
        struct bridle__egress_req req;
        int status = 0;
        char why[256];
        if (bridle__egress_req_parse(buf, end, &req, &status, why, sizeof(why)) < 0) {
                if (status < 400 || status > 599)
                        abort();
                return;
        }
        char again[256];
        if (req.port == 0 || req.port > 65535 || !req.host[0] ||
            (!strchr(req.host, ':') &&
             bridle__egress_host_norm(req.host, strlen(req.host), again, sizeof(again)) < 0))
                abort();
        if (req.connect)
                return;
        char *out = NULL;
        size_t n = 0;
        if (bridle__egress_req_rewrite(buf, &req, &out, &n) < 0)
                return;
        if (n < 4 || strlen(out) != n || memcmp(out + n - 4, "\r\n\r\n", 4) != 0 ||
            bridle__egress_head_end(out, n) != n || !strstr(out, "\r\nConnection: close\r\n") ||
            strcasestr(out, "\nproxy-"))
                abort();
        free(out);
}

static void check_response(const char *buf, size_t len)
{
        size_t end = bridle__egress_head_end(buf, len);
        if (!end)
                return;
        char *out = NULL;
        size_t n = 0;
        int status = 0;
        if (bridle__egress_resp_rewrite(buf, end, &out, &n, &status) < 0)
                return;
        if (status < 0 || status > 999 || n < 4 || memcmp(out + n - 4, "\r\n\r\n", 4) != 0 ||
            bridle__egress_head_end(out, n) != n)
                abort();
        free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > BRIDLE__EGRESS_MAX_RHEAD)
                return 0;
        char *buf = malloc(size + 1);
        if (!buf)
                return 0;
        memcpy(buf, data, size);
        buf[size] = '\0';
        if (size <= BRIDLE__EGRESS_MAX_HEAD)
                check_request(buf, size);
        check_response(buf, size);
        free(buf);
        return 0;
}
