/* SPDX-License-Identifier: MIT */
/* ${NAME} filled in from the environment (src/util/envexpand.h). */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/envexpand.h"

static void test_expand(void **state)
{
        (void)state;
        (void)setenv("BRIDLE_T_TOKEN", "s3cret", 1);
        (void)setenv("BRIDLE_T_EMPTY", "", 1);
        (void)unsetenv("BRIDLE_T_UNSET");
        static const struct {
                const char *in, *out;
        } ok[] = {
                {"plain", "plain"},
                {"", ""},
                {"Bearer ${BRIDLE_T_TOKEN}", "Bearer s3cret"},
                {"${BRIDLE_T_TOKEN}${BRIDLE_T_TOKEN}", "s3crets3cret"},
                {"a${BRIDLE_T_EMPTY}b", "ab"},
                {"$BRIDLE_T_TOKEN", "$BRIDLE_T_TOKEN"}, /* only the braced form */
                {"cost: $5", "cost: $5"},
                {"${unclosed", "${unclosed"},
                {"$", "$"},
        };
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                char *out = NULL;
                bridle_error err = {0};
                assert_int_equal(bridle__env_expand("h", ok[i].in, &out, &err), 0);
                assert_string_equal(out, ok[i].out);
                free(out);
        }
        char *out = NULL;
        bridle_error err = {0};
        assert_int_equal(bridle__env_expand("headers.X", "${BRIDLE_T_UNSET}", &out, &err), BRIDLE_E_INVALID);
        assert_string_equal(err.msg, "headers.X: $BRIDLE_T_UNSET is not set");
        assert_null(out);
        assert_int_equal(bridle__env_expand("headers.X", "a${}b", &out, &err), BRIDLE_E_INVALID);
        assert_non_null(strstr(err.msg, "a bad ${...}"));
        /* a value that grows past the cap */
        char *big = malloc(40000);
        assert_non_null(big);
        memset(big, 'x', 39999);
        big[39999] = '\0';
        (void)setenv("BRIDLE_T_BIG", big, 1);
        assert_int_equal(bridle__env_expand("h", "${BRIDLE_T_BIG}${BRIDLE_T_BIG}", &out, &err), BRIDLE_E_LIMIT);
        free(big);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_expand),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
