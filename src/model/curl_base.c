/* SPDX-License-Identifier: MIT */
/* What every HTTP request of bridle's sets on its libcurl handle (curl_dl.h). */
#include "model/curl_dl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

char *bridle__curl_noproxy(void)
{
        static const char loopback[] = "localhost,127.0.0.1,::1";
        const char *env = getenv("no_proxy");
        if (!env || !*env)
                env = getenv("NO_PROXY");
        if (!env || !*env)
                return bridle__strdup(loopback);
        if (strcmp(env, "*") == 0)
                return bridle__strdup("*");
        char *s = NULL;
        if (asprintf(&s, "%s,%s", env, loopback) < 0)
                return NULL;
        return s;
}

CURLcode bridle__curl_base_opts(CURL *e, const bridle__curl_base *b)
{
        CURLcode c = CURLE_OK;
        /* The first failing setopt wins; later ones are then skipped. */
#define SET(opt, val)                                                                              \
        if (c == CURLE_OK)                                                                         \
        c = curl_easy_setopt(e, opt, val)
        if (b->url)
                SET(CURLOPT_URL, b->url);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_TCP_NODELAY, 1L);
        SET(CURLOPT_HTTPHEADER, b->headers);
        SET(CURLOPT_WRITEFUNCTION, b->on_body);
        SET(CURLOPT_WRITEDATA, b->ud);
        SET(CURLOPT_HEADERFUNCTION, b->on_header);
        SET(CURLOPT_HEADERDATA, b->ud);
        SET(CURLOPT_ERRORBUFFER, b->errbuf);
        SET(CURLOPT_USERAGENT, "bridle/" BRIDLE_VERSION);
        SET(CURLOPT_FOLLOWLOCATION, 0L);
        SET(CURLOPT_CONNECTTIMEOUT_MS, b->connect_timeout_ms ? b->connect_timeout_ms : 30000L);
        SET(CURLOPT_NOPROXY, b->noproxy);
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
#undef SET
        return c;
}
