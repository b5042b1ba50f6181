/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the sandbox escape suite. Each attack program runs
 * inside `bridle sandbox run`, performs one attack (possibly several
 * variants of it), prints exactly one line and exits with:
 *
 *   0   the attack failed the expected way
 *   1   the attack SUCCEEDED: a hole in the sandbox
 *   2   the attack failed, but not the expected way (a defence layer is
 *       missing, e.g. a syscall failed with ENOSYS where seccomp should
 *       have answered EPERM)
 *   77  skipped (the kernel lacks the feature)
 *
 * Checks are recorded with the helpers below; attack_finish() prints the
 * line and exits with the worst result seen.
 */
#ifndef BRIDLE_ESCAPE_ATTACK_H
#define BRIDLE_ESCAPE_ATTACK_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum { ATTACK_OK = 0, ATTACK_HOLE = 1, ATTACK_WEAK = 2, ATTACK_SKIP = 77 };

static char attack_line[4096];
static int attack_status = ATTACK_OK;

static inline const char *attack_errname(int e)
{
        const char *n = strerrorname_np(e);
        return n ? n : "E?";
}

static inline void attack_vnote(int status, const char *fmt, va_list ap)
{
        size_t len = strlen(attack_line);
        if (len + 3 < sizeof(attack_line)) {
                if (len > 0) {
                        strcpy(attack_line + len, "; ");
                        len += 2;
                }
                if (status == ATTACK_HOLE) {
                        snprintf(attack_line + len, sizeof(attack_line) - len, "SUCCEEDED: ");
                        len = strlen(attack_line);
                } else if (status == ATTACK_WEAK) {
                        snprintf(attack_line + len, sizeof(attack_line) - len, "UNEXPECTED: ");
                        len = strlen(attack_line);
                }
                vsnprintf(attack_line + len, sizeof(attack_line) - len, fmt, ap);
        }
        if (status == ATTACK_HOLE)
                attack_status = ATTACK_HOLE;
        else if (status == ATTACK_WEAK && attack_status == ATTACK_OK)
                attack_status = ATTACK_WEAK;
}

__attribute__((format(printf, 1, 2)))
static inline void note_ok(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        attack_vnote(ATTACK_OK, fmt, ap);
        va_end(ap);
}

/* The attack achieved something it must not. */
__attribute__((format(printf, 1, 2)))
static inline void note_hole(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        attack_vnote(ATTACK_HOLE, fmt, ap);
        va_end(ap);
}

/* The attack failed, but the sandbox did not behave as specified. */
__attribute__((format(printf, 1, 2)))
static inline void note_weak(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        attack_vnote(ATTACK_WEAK, fmt, ap);
        va_end(ap);
}

static inline _Noreturn void attack_finish(void)
{
        const char *tag = attack_status == ATTACK_HOLE ? "HOLE" :
                          attack_status == ATTACK_WEAK ? "WEAK" : "ok";
        printf("%s: %s: %s\n", program_invocation_short_name, tag,
               attack_line[0] ? attack_line : "(nothing checked)");
        fflush(stdout);
        _exit(attack_status);
}

__attribute__((format(printf, 1, 2)))
static inline _Noreturn void attack_skip(const char *fmt, ...)
{
        va_list ap;
        char buf[512];
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        printf("%s: SKIP: %s\n", program_invocation_short_name, buf);
        fflush(stdout);
        _exit(ATTACK_SKIP);
}

static inline bool errno_in(int e, const int *allowed)
{
        if (!allowed || !allowed[0])
                return true;
        for (; *allowed; allowed++)
                if (*allowed == e)
                        return true;
        return false;
}

static inline void expect_fail_(const char *what, long r, int e, const int *allowed)
{
        if (r >= 0) {
                note_hole("%s returned %ld", what, r);
                return;
        }
        if (errno_in(e, allowed))
                note_ok("%s: %s", what, attack_errname(e));
        else
                note_weak("%s failed with %s, expected %s", what, attack_errname(e),
                          attack_errname(allowed[0]));
}

/*
 * EXPECT_FAIL("what", call, EPERM, ...): the call must fail (return < 0)
 * with one of the listed errnos; success is a hole, another errno is WEAK.
 * EXPECT_FAIL_ANY("what", call): any failure is fine.
 */
#define EXPECT_FAIL(what, call, ...) do {                                      \
                errno = 0;                                                     \
                long r_ = (long)(call);                                        \
                int e_ = errno;                                                \
                expect_fail_((what), r_, e_, (const int[]){ __VA_ARGS__, 0 }); \
        } while (0)

#define EXPECT_FAIL_ANY(what, call) do {                                       \
                errno = 0;                                                     \
                long r_ = (long)(call);                                        \
                int e_ = errno;                                                \
                expect_fail_((what), r_, e_, (const int[]){ 0 });              \
        } while (0)

/*
 * Run syscall(nr, a..d) in a child so that a seccomp kill (SIGSYS) cannot
 * take the attack down. Success is a hole; a listed errno is fine; death by
 * SIGSYS is fine when sigsys_ok, otherwise WEAK.
 */
static inline void expect_syscall_fail_child_(const char *what, bool sigsys_ok, long nr, long a, long b,
                                              long c, long d, const int *allowed)
{
        int pfd[2];
        if (pipe(pfd) < 0) {
                note_weak("%s: pipe: %s", what, attack_errname(errno));
                return;
        }
        pid_t p = fork();
        if (p == 0) {
                close(pfd[0]);
                errno = 0;
                long res[2];
                res[0] = syscall(nr, a, b, c, d);
                res[1] = errno;
                if (write(pfd[1], res, sizeof(res)) < 0)
                        _exit(3);
                _exit(0);
        }
        close(pfd[1]);
        long res[2] = { 0, 0 };
        ssize_t n = p > 0 ? read(pfd[0], res, sizeof(res)) : -1;
        close(pfd[0]);
        int st = 0;
        if (p > 0)
                waitpid(p, &st, 0);
        if (n == (ssize_t)sizeof(res)) {
                expect_fail_(what, res[0], (int)res[1], allowed);
        } else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) {
                if (sigsys_ok)
                        note_ok("%s: killed by SIGSYS", what);
                else
                        note_weak("%s: killed by SIGSYS, expected %s", what, attack_errname(allowed[0]));
        } else {
                note_weak("%s: child ended with status %#x", what, st);
        }
}

#define EXPECT_SYSCALL_FAIL(what, sigsys_ok, nr, a, b, c, d, ...) \
        expect_syscall_fail_child_((what), (sigsys_ok), (nr), (long)(a), (long)(b), (long)(c), (long)(d), \
                                   (const int[]){ __VA_ARGS__, 0 })

/* Read a whole small file into buf (NUL-terminated); returns length or -errno. */
static inline long attack_read_file(const char *path, char *buf, size_t size)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        size_t n = fread(buf, 1, size - 1, f);
        buf[n] = '\0';
        fclose(f);
        return (long)n;
}

/* Marker that the runner puts into every host-side secret. */
#define HOST_SECRET_MARKER "BRIDLE-HOST-SECRET"

#endif
