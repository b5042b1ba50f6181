/* SPDX-License-Identifier: MIT */
#define BRIDLE__ARCHIVE_IMPL
#include "snapshot/archive_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "util/error.h"

struct bridle__archive_api bridle__archive;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_result;
static char load_error[256];

static void load(void)
{
        void *h = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                const char *e = dlerror();
                (void)snprintf(load_error, sizeof(load_error), "%s", e ? e : "not found");
                load_result = BRIDLE_E_UNSUPPORTED;
                return;
        }
#define BRIDLE__ARCHIVE_SYM(f)                                                          \
        if (!(bridle__archive.f = (__typeof__(f) *)dlsym(h, #f))) {                      \
                (void)snprintf(load_error, sizeof(load_error), "no symbol '%s'", #f);    \
                load_result = BRIDLE_E_UNSUPPORTED;                                      \
                return;                                                                  \
        }
        BRIDLE__ARCHIVE_FUNCS(BRIDLE__ARCHIVE_SYM)
#undef BRIDLE__ARCHIVE_SYM
}

int bridle__archive_load(bridle_error *err)
{
        (void)pthread_once(&once, load);
        if (load_result < 0)
                return bridle__err(err, load_result,
                                   "snapshots need libarchive (Debian: apt-get install libarchive13): %s",
                                   load_error);
        return 0;
}
