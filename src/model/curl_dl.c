/* SPDX-License-Identifier: MIT */
#define BRIDLE__CURL_IMPL
#include "model/curl_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "util/error.h"

struct bridle__curl_api bridle__curl;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_result;
static char load_error[256];

static void load(void)
{
        void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                const char *e = dlerror();
                (void)snprintf(load_error, sizeof(load_error), "%s", e ? e : "not found");
                load_result = BRIDLE_E_UNSUPPORTED;
                return;
        }
#define BRIDLE__CURL_SYM(f)                                                             \
        if (!(bridle__curl.f = (__typeof__(f) *)dlsym(h, #f))) {                         \
                (void)snprintf(load_error, sizeof(load_error), "no symbol '%s'", #f);    \
                load_result = BRIDLE_E_UNSUPPORTED;                                      \
                return;                                                                  \
        }
        BRIDLE__CURL_FUNCS(BRIDLE__CURL_SYM)
#undef BRIDLE__CURL_SYM
}

int bridle__curl_load(bridle_error *err)
{
        (void)pthread_once(&once, load);
        if (load_result < 0)
                return bridle__err(err, load_result,
                                   "model providers need libcurl (Debian: apt-get install libcurl4): %s",
                                   load_error);
        return 0;
}
