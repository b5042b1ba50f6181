/* SPDX-License-Identifier: MIT */
/* bridle: shared public definitions (errors, logging, export macro). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(BRIDLE_BUILDING_LIBRARY)
#define BRIDLE_EXPORT __attribute__((visibility("default")))
#else
#define BRIDLE_EXPORT
#endif

/*
 * Errors. Every fallible function returns an int: 0 (or a count) on success,
 * a negative value on failure: -errno, or one of BRIDLE_E_* below. The same
 * value is stored in err->code when err is not NULL, with a message that is
 * lower-case, has no trailing period and quotes the thing that failed.
 * Codes never change meaning once released.
 */
enum bridle_errcode {
        BRIDLE_E_INVALID = -1000,     /* malformed input (manifest, option, frame) */
        BRIDLE_E_UNSUPPORTED = -1001, /* the host lacks a kernel feature */
        BRIDLE_E_SANDBOX = -1002,     /* the sandbox could not be made */
        BRIDLE_E_LIMIT = -1003,       /* a size or count cap was reached */
        BRIDLE_E_TIMEOUT = -1004,     /* a wall-clock limit was reached */
        BRIDLE_E_FORBIDDEN = -1005,   /* the host forbids namespaces (policy, AppArmor) */
        BRIDLE_E_PROTOCOL = -1006,    /* a peer broke the wire protocol */
        BRIDLE_E_MODEL = -1007,       /* the model provider failed (HTTP, stream, refusal) */
        BRIDLE_E_TOOL = -1008,        /* a tool failed in a way the model cannot fix */
        BRIDLE_E_BUDGET = -1009,      /* max_turns or a budget stopped the run (resumable) */
        BRIDLE_E_INTERRUPTED = -1010, /* a signal stopped the run (resumable) */
        BRIDLE_E_WAITING = -1011,     /* the run waits for an approval (resumable) */
};

typedef struct bridle_error {
        int code;      /* 0, -errno, or BRIDLE_E_* */
        char msg[512]; /* lower-case, no trailing period, 'quoted' subjects */
} bridle_error;

/* A static description of a code (either range). Never NULL. */
BRIDLE_EXPORT const char *bridle_strerror(int code);

/* Clear an error object. */
BRIDLE_EXPORT void bridle_error_clear(bridle_error *err);

/*
 * Logging. The library never writes to stdout or stderr; it reports through
 * this optional callback. Levels follow syslog: 3 error, 4 warning, 6 info, 7 debug.
 */
typedef void (*bridle_log_fn)(int level, const char *msg, void *userdata);
BRIDLE_EXPORT void bridle_log_set(bridle_log_fn fn, void *userdata);

/* The library's version string, e.g. "0.1.0". */
BRIDLE_EXPORT const char *bridle_version(void);

#ifdef __cplusplus
}
#endif
