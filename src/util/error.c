/* SPDX-License-Identifier: MIT */
#include "util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* glibc's strerrordesc_np() is thread-safe and not localised; musl (which
 * bridle-init is built with) has only strerror(). */
#if defined(__GLIBC__)
#define errno_text(e) strerrordesc_np(e)
#else
#define errno_text(e) strerror(e)
#endif

static bridle_log_fn log_fn;
static void *log_userdata;

static const struct {
        int code;
        const char *text;
} codes[] = {
        { BRIDLE_E_INVALID, "invalid input" },
        { BRIDLE_E_UNSUPPORTED, "not supported by this host" },
        { BRIDLE_E_SANDBOX, "sandbox could not be made" },
        { BRIDLE_E_LIMIT, "limit reached" },
        { BRIDLE_E_TIMEOUT, "timed out" },
        { BRIDLE_E_FORBIDDEN, "forbidden by the host" },
        { BRIDLE_E_PROTOCOL, "protocol error" },
        { BRIDLE_E_MODEL, "model provider failed" },
        { BRIDLE_E_TOOL, "tool failed" },
        { BRIDLE_E_BUDGET, "budget or turn limit reached" },
        { BRIDLE_E_INTERRUPTED, "interrupted" },
        { BRIDLE_E_WAITING, "waiting for an approval" },
};

const char *bridle_strerror(int code)
{
        if (code == 0)
                return "success";
        for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
                if (codes[i].code == code)
                        return codes[i].text;
        if (code < 0 && code > -4096)
                return errno_text(-code) ? errno_text(-code) : "unknown error";
        return "unknown error";
}

void bridle_error_clear(bridle_error *err)
{
        if (!err)
                return;
        err->code = 0;
        err->msg[0] = '\0';
}

int bridle__err(bridle_error *err, int code, const char *fmt, ...)
{
        if (!err)
                return code;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < sizeof(err->msg) && code > -1000 && code < 0)
                (void)snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s",
                               errno_text(-code) ? errno_text(-code) : "unknown error");
        err->code = code;
        return code;
}

int bridle__err_prefix(bridle_error *err, const char *fmt, ...)
{
        if (!err)
                return -EINVAL;
        char prefix[256];
        char old[sizeof(err->msg)];
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof(old));
        (void)snprintf(err->msg, sizeof(err->msg), "%.255s: %.250s", prefix, old);
        return err->code;
}

void bridle_log_set(bridle_log_fn fn, void *userdata)
{
        log_fn = fn;
        log_userdata = userdata;
}

void bridle__log(int level, const char *fmt, ...)
{
        if (!log_fn)
                return;
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        log_fn(level, buf, log_userdata);
}

const char *bridle_version(void)
{
        return BRIDLE_VERSION;
}
