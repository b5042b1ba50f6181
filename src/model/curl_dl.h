/* SPDX-License-Identifier: MIT */
/*
 * libcurl, loaded when a model is first called over HTTP (dlopen), not when
 * bridle starts: its dependency chain (TLS, Kerberos, LDAP, SSH, IDN, ...
 * about 30 libraries) cost every `bridle` start ~10 ms, sandbox commands
 * included. Include this instead of <curl/curl.h>; call bridle__curl_load()
 * before any curl_* call (bridle__http_new does).
 */
#pragma once

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "bridle/common.h"

#define BRIDLE__CURL_FUNCS(X) \
        X(curl_easy_cleanup) \
        X(curl_easy_getinfo) \
        X(curl_easy_init) \
        X(curl_easy_perform) \
        X(curl_easy_setopt) \
        X(curl_easy_strerror) \
        X(curl_getdate) \
        X(curl_global_init) \
        X(curl_multi_add_handle) \
        X(curl_multi_cleanup) \
        X(curl_multi_info_read) \
        X(curl_multi_init) \
        X(curl_multi_perform) \
        X(curl_multi_poll) \
        X(curl_multi_remove_handle) \
        X(curl_slist_append) \
        X(curl_slist_free_all)

struct bridle__curl_api {
#define BRIDLE__CURL_PTR(f) __typeof__(f) *f;
        BRIDLE__CURL_FUNCS(BRIDLE__CURL_PTR)
#undef BRIDLE__CURL_PTR
};

extern struct bridle__curl_api bridle__curl;

/* 0, or BRIDLE_E_UNSUPPORTED naming the library when it cannot be loaded. */
int bridle__curl_load(bridle_error *err);

/* curl_base.c: what every request of bridle's sets (models, OTLP, MCP). */
typedef struct bridle__curl_base {
        const char *url;            /* NULL: set by the caller */
        struct curl_slist *headers;
        curl_write_callback on_body, on_header; /* both get ud */
        void *ud;
        char *errbuf;               /* CURL_ERROR_SIZE bytes */
        const char *noproxy;        /* bridle__curl_noproxy() */
        long connect_timeout_ms;    /* 0: 30 s */
} bridle__curl_base;
/* No signals, TCP_NODELAY, the headers, the callbacks, the error buffer,
 * bridle's User-Agent, no redirects, http and https only, the no-proxy list,
 * the connect time limit. CURLE_OK or the first failing option's code. */
CURLcode bridle__curl_base_opts(CURL *e, const bridle__curl_base *b);
/* The no-proxy list: $no_proxy (or $NO_PROXY) with loopback always added,
 * "*" kept as is; loopback is never proxied. malloc'd, NULL on ENOMEM. */
char *bridle__curl_noproxy(void);

#ifndef BRIDLE__CURL_IMPL
/* curl.h wraps these two in argument-count macros; ours replace them. */
#undef curl_easy_getinfo
#undef curl_easy_setopt
#define curl_easy_cleanup (*bridle__curl.curl_easy_cleanup)
#define curl_easy_getinfo (*bridle__curl.curl_easy_getinfo)
#define curl_easy_init (*bridle__curl.curl_easy_init)
#define curl_easy_perform (*bridle__curl.curl_easy_perform)
#define curl_easy_setopt (*bridle__curl.curl_easy_setopt)
#define curl_easy_strerror (*bridle__curl.curl_easy_strerror)
#define curl_getdate (*bridle__curl.curl_getdate)
#define curl_global_init (*bridle__curl.curl_global_init)
#define curl_multi_add_handle (*bridle__curl.curl_multi_add_handle)
#define curl_multi_cleanup (*bridle__curl.curl_multi_cleanup)
#define curl_multi_info_read (*bridle__curl.curl_multi_info_read)
#define curl_multi_init (*bridle__curl.curl_multi_init)
#define curl_multi_perform (*bridle__curl.curl_multi_perform)
#define curl_multi_poll (*bridle__curl.curl_multi_poll)
#define curl_multi_remove_handle (*bridle__curl.curl_multi_remove_handle)
#define curl_slist_append (*bridle__curl.curl_slist_append)
#define curl_slist_free_all (*bridle__curl.curl_slist_free_all)
#endif
