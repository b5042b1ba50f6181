/* SPDX-License-Identifier: MIT */
/* bridle doctor: host checks and the user-namespace verdict. */
#include "testutil.h"
#include "childcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bridle/doctor.h"

static void test_run_fills_checks(void **state)
{
        (void)state;
        bridle_doctor_check checks[BRIDLE_DOCTOR_MAX_CHECKS];
        bridle_error err = {0};
        int n = bridle_doctor_run(checks, BRIDLE_DOCTOR_MAX_CHECKS, &err);
        assert_true(n >= 8);
        int seen_userns = 0;
        for (int i = 0; i < n; i++) {
                const bridle_doctor_check *c = &checks[i];
                print_message("%-18s %d %s | %s\n", c->name, c->status, c->detail, c->fix);
                assert_true(c->name[0] != '\0');
                assert_true(c->detail[0] != '\0');
                assert_true(c->status >= BRIDLE_DOCTOR_OK && c->status <= BRIDLE_DOCTOR_MISSING);
                if (c->status == BRIDLE_DOCTOR_MISSING)
                        assert_true(c->fix[0] != '\0');
                if (strcmp(c->name, "user namespaces") == 0)
                        seen_userns = 1;
        }
        assert_true(seen_userns);
}

static void test_run_respects_max(void **state)
{
        (void)state;
        bridle_doctor_check checks[2];
        memset(checks, 0xab, sizeof(checks));
        assert_int_equal(bridle_doctor_run(checks, 1, NULL), 1);
        assert_true(checks[0].name[0] != '\0');
        assert_int_equal((unsigned char)checks[1].name[0], 0xab); /* untouched */
        assert_int_equal(bridle_doctor_run(NULL, 0, NULL), 0);
        bridle_error err = {0};
        assert_int_equal(bridle_doctor_run(NULL, 3, &err), -EINVAL);
        assert_int_equal(err.code, -EINVAL);
}

static int host_allows_userns(void)
{
        bridle_error err = {0};
        int r = bridle_doctor_userns_allowed(&err);
        if (r != 1)
                print_message("userns not allowed: %s\n", err.msg);
        return r;
}

static void test_userns_allowed_here(void **state)
{
        (void)state;
        if (geteuid() != 0) {
                print_message("skip: this host's verdict is only known when run as root\n");
                skip();
        }
        assert_int_equal(host_allows_userns(), 1);
}

static int write_file(const char *path, const char *s)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, s, strlen(s));
        int r = n == (ssize_t)strlen(s) ? 0 : -errno;
        (void)close(fd);
        return r;
}

/* A forbidding host: a user namespace (root mapped) whose own
 * max_user_namespaces is 0, so no nested one can be made. */
static int child_forbidden(void *arg)
{
        (void)arg;
        char map[64];
        unsigned uid = geteuid(), gid = getegid();
        if (unshare(CLONE_NEWUSER) < 0) {
                (void)fprintf(stderr, "skip: cannot create a user namespace here: %s\n", strerror(errno));
                return 77;
        }
        CHECK(write_file("/proc/self/setgroups", "deny") == 0);
        (void)snprintf(map, sizeof(map), "0 %u 1\n", uid);
        CHECK(write_file("/proc/self/uid_map", map) == 0);
        (void)snprintf(map, sizeof(map), "0 %u 1\n", gid);
        CHECK(write_file("/proc/self/gid_map", map) == 0);
        CHECK(write_file("/proc/sys/user/max_user_namespaces", "0") == 0);

        bridle_error err = {0};
        int r = bridle_doctor_userns_allowed(&err);
        (void)fprintf(stderr, "verdict %d: %s\n", r, err.msg);
        CHECK(r == 0);
        CHECK(err.code == BRIDLE_E_FORBIDDEN);
        CHECK(strstr(err.msg, "max_user_namespaces") != NULL);
        CHECK(strstr(err.msg, "fix:") != NULL);

        bridle_doctor_check checks[BRIDLE_DOCTOR_MAX_CHECKS];
        int n = bridle_doctor_run(checks, BRIDLE_DOCTOR_MAX_CHECKS, NULL);
        CHECK(n > 0);
        CHECK(strcmp(checks[0].name, "user namespaces") == 0);
        CHECK(checks[0].status == BRIDLE_DOCTOR_MISSING && checks[0].fix[0] != '\0');
        return CHILD_RESULT();
}

static void test_userns_forbidden(void **state)
{
        (void)state;
        BRIDLE_ASSERT_CHILD(child_forbidden, NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_run_fills_checks),
                cmocka_unit_test(test_run_respects_max),
                cmocka_unit_test(test_userns_allowed_here),
                cmocka_unit_test(test_userns_forbidden),
        };
        return cmocka_run_group_tests_name("doctor", tests, NULL, NULL);
}
