/* SPDX-License-Identifier: MIT */
/* The Landlock helper, applied for real in forked children. */
#include "testutil.h"
#include "childcheck.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sandbox/initproto.h"
#include "sandbox/landlock.h"

struct fixture {
        char *dir;
        int abi;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        if (!f)
                return -1;
        f->dir = bridle_test_tmpdir();
        f->abi = bridle__landlock_abi();
        *state = f;
        return f->dir ? 0 : -1;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        bridle_test_rmrf(f->dir);
        free(f->dir);
        free(f);
        return 0;
}

static int skip_without_landlock(const struct fixture *f)
{
        if (f->abi > 0)
                return 0;
        (void)fprintf(stderr, "skip: the kernel has no Landlock (ABI 0)\n");
        return 77;
}

/* A file outside every rule, which the host has. */
static const char *outside_file(void)
{
        return access("/etc/hostname", R_OK) == 0 ? "/etc/hostname" : "/etc/passwd";
}

static int apply_basic(const struct fixture *f, unsigned flags)
{
        struct bridle__ll_rule rules[] = {
                {"/usr", BRIDLE__LL_READ | BRIDLE__LL_EXEC},
                {f->dir, BRIDLE__LL_READ | BRIDLE__LL_WRITE},
                {"/nonexistent/bridle-landlock-test", BRIDLE__LL_READ}, /* skipped */
        };
        return bridle__landlock_apply(rules, sizeof(rules) / sizeof(rules[0]), flags);
}

static int child_filesystem(void *arg)
{
        const struct fixture *f = arg;
        int r = skip_without_landlock(f);
        if (r)
                return r;
        char path[4096];
        (void)snprintf(path, sizeof(path), "%s/written", f->dir);
        CHECK(apply_basic(f, 0) == 0);

        errno = 0;
        CHECK(open(outside_file(), O_RDONLY | O_CLOEXEC) < 0 && errno == EACCES);
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        CHECK(fd >= 0);
        CHECK(write(fd, "ok", 2) == 2);
        (void)close(fd);
        CHECK(unlink(path) == 0);
        errno = 0;
        CHECK(open("/usr/bridle-landlock-test", O_WRONLY | O_CREAT | O_CLOEXEC, 0600) < 0 &&
              errno == EACCES);
        fd = open("/usr", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(fd >= 0);
        (void)close(fd);
        return CHILD_RESULT();
}

static void test_filesystem_rules(void **state)
{
        BRIDLE_ASSERT_CHILD(child_filesystem, *state);
}

static int child_file_rule(void *arg)
{
        const struct fixture *f = arg;
        int r = skip_without_landlock(f);
        if (r)
                return r;
        /* A rule naming a regular file keeps only the rights files can have. */
        struct bridle__ll_rule rules[] = {{"/etc/passwd", BRIDLE__LL_READ | BRIDLE__LL_WRITE}};
        CHECK(bridle__landlock_apply(rules, 1, 0) == 0);
        int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0);
        (void)close(fd);
        errno = 0;
        CHECK(open("/etc/group", O_RDONLY | O_CLOEXEC) < 0 && errno == EACCES);
        return CHILD_RESULT();
}

static void test_file_rule(void **state)
{
        BRIDLE_ASSERT_CHILD(child_file_rule, *state);
}

static int listen_tcp(struct sockaddr_in *ret)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(a);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0 ||
            getsockname(fd, (struct sockaddr *)&a, &len) < 0)
                return -1;
        *ret = a;
        return fd;
}

static int child_tcp(void *arg)
{
        const struct fixture *f = arg;
        if (f->abi < 4) {
                (void)fprintf(stderr, "skip: Landlock ABI %d has no network rules\n", f->abi);
                return 77;
        }
        struct sockaddr_in a;
        int lfd = listen_tcp(&a);
        CHECK(lfd >= 0);
        CHECK(apply_basic(f, BRIDLE__LL_NO_TCP) == 0);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0);
        errno = 0;
        CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno == EACCES);
        (void)close(fd);
        (void)close(lfd);
        return CHILD_RESULT();
}

static void test_no_tcp(void **state)
{
        BRIDLE_ASSERT_CHILD(child_tcp, *state);
}

/* The abstract socket is made by the test process, outside the child's domain. */
static int child_scopes(void *arg)
{
        const struct sockaddr_un *addr = arg;
        int abi = bridle__landlock_abi();
        if (abi < 6) {
                (void)fprintf(stderr, "skip: Landlock ABI %d has no scoping\n", abi);
                return 77;
        }
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0);
        CHECK(bridle__landlock_apply(NULL, 0, 0) == 0);
        socklen_t len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(addr->sun_path + 1);
        errno = 0;
        CHECK(connect(fd, (const struct sockaddr *)addr, len) < 0 && errno == EPERM);
        (void)close(fd);
        errno = 0;
        CHECK(kill(getppid(), 0) < 0 && errno == EPERM);
        return CHILD_RESULT();
}

static void test_scopes(void **state)
{
        (void)state;
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        (void)snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "bridle-ll-test-%d", getpid());
        socklen_t len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(addr.sun_path + 1);
        int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(lfd >= 0);
        assert_int_equal(bind(lfd, (struct sockaddr *)&addr, len), 0);
        assert_int_equal(listen(lfd, 1), 0);
        int st = bridle_test_in_child(child_scopes, &addr);
        (void)close(lfd);
        if (st == 77)
                skip();
        assert_int_equal(st, 0);
}

static int child_bad_input(void *arg)
{
        (void)arg;
        struct bridle__ll_rule rules[] = {{NULL, BRIDLE__LL_READ}};
        int abi = bridle__landlock_abi();
        CHECK(bridle__landlock_apply(NULL, 1, 0) == -EINVAL);
        CHECK(bridle__landlock_apply(rules, 1, 0) == (abi > 0 ? -EINVAL : -EOPNOTSUPP));
        return CHILD_RESULT();
}

static void test_bad_input(void **state)
{
        (void)state;
        BRIDLE_ASSERT_CHILD(child_bad_input, NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bad_input),
                cmocka_unit_test_setup_teardown(test_filesystem_rules, setup, teardown),
                cmocka_unit_test_setup_teardown(test_file_rule, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_tcp, setup, teardown),
                cmocka_unit_test(test_scopes),
        };
        return cmocka_run_group_tests_name("landlock", tests, NULL, NULL);
}
