/* SPDX-License-Identifier: MIT */
/* The secret scanner (src/guard/): hits, misses, known values, redaction. */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/guard.h"
#include "util/alloc.h"
#include "util/cleanup.h"

#define KIND(k) BRIDLE__SECRET_##k

struct hit_case {
        const char *text;
        enum bridle__secret_kind kind; /* of the first finding */
        const char *secret;            /* must be gone after redaction */
};

#define PEM_RSA                                                                                    \
        "-----BEGIN RSA PRIVATE KEY-----\n"                                                        \
        "MIIEowIBAAKCAQEAx4UbaDzY5Sk1qnZlBXpI0mHkwQRsb4Gk8dnAhhNwFwDPxJrJ\n"                       \
        "q9wE3xkN6Zr8xC4pQ0FJ2h2x8j5q7GZ5ZbCqjYgZ8nPqZ0Gk7u1dN2v9QeZzW1Q\n"                        \
        "-----END RSA PRIVATE KEY-----\n"

static const struct hit_case hits[] = {
        {"key=sk-proj-AbCdEf1234567890GhIjKlMnOpQrStUvWx", KIND(OPENAI_KEY),
         "sk-proj-AbCdEf1234567890GhIjKlMnOpQrStUvWx"},
        {"OPENAI_API_KEY=sk-Abc123def456GHI789jkl012MNO345pqr678STU901vw", KIND(OPENAI_KEY),
         "Abc123def456GHI789jkl012MNO345pqr678STU901vw"},
        {"sk-svcacct-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa", KIND(OPENAI_KEY), "Zx9Yw8Vu7Ts6Rq5Po4"},
        {"export ANTHROPIC_API_KEY=\"sk-ant-api03-AbCdEf1234567890_GhIjKlMnOp-QrStUvWx\"",
         KIND(ANTHROPIC_KEY), "AbCdEf1234567890_GhIjKlMnOp"},
        {"aws_access_key_id = AKIAIOSFODNN7EXAMPLE", KIND(AWS_ACCESS_KEY), "AKIAIOSFODNN7EXAMPLE"},
        {"\"AccessKeyId\": \"ASIAY34FZKBOKMUTVV7A\",", KIND(AWS_ACCESS_KEY),
         "ASIAY34FZKBOKMUTVV7A"},
        {"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", KIND(AWS_SECRET_KEY),
         "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
        {"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY goes with AKIAIOSFODNN7EXAMPLE",
         KIND(AWS_SECRET_KEY), "wJalrXUtnFEMI/K7MDENG"},
        {"token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 ok", KIND(GITHUB_TOKEN),
         "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"},
        {"gho_16C7e42F292c6912E7710c838347Ae178B4a", KIND(GITHUB_TOKEN), "16C7e42F292c6912E7710c8"},
        {"GH_TOKEN=github_pat_11ABCDEFG0123456789_"
         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW",
         KIND(GITHUB_TOKEN), "github_pat_11ABCDEFG0123456789_abcdefghij"},
        {"url = https://oauth2:glpat-AbCdEf1234567890xYz_@gitlab.example.com/repo.git",
         KIND(URL_PASSWORD), "glpat-AbCdEf1234567890xYz_"},
        {"GITLAB_TOKEN=glpat-AbCdEf1234567890xYz_", KIND(GITLAB_TOKEN),
         "glpat-AbCdEf1234567890xYz_"},
        {"SLACK_BOT_TOKEN=xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
         KIND(SLACK_TOKEN), "xoxb-1234567890-1234567890123"},
        {"xoxp-2222222222-3333333333-444444444444-abcdef", KIND(SLACK_TOKEN), "xoxp-2222222222"},
        {"stripe.api_key = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'", KIND(STRIPE_KEY),
         "sk_live_4eC39HqLyjWDarjtT1zdp7dc"},
        {"rk_live_51HxYzAbCdEfGhIjKlMnOpQr", KIND(STRIPE_KEY), "rk_live_51HxYzAbCdEf"},
        {"maps?key=AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe&q=x", KIND(GOOGLE_API_KEY),
         "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe"},
        {"jwt: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4g"
         "RG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
         KIND(JWT), "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"},
        {"Authorization: Bearer abcdef0123456789ABCDEF", KIND(BEARER_TOKEN),
         "abcdef0123456789ABCDEF"},
        {"{\"headers\": {\"Authorization\": \"Basic dXNlcjpwYXNzd29yZA==\"}}", KIND(BEARER_TOKEN),
         "dXNlcjpwYXNzd29yZA=="},
        {"curl -H 'authorization: token 0123456789abcdef0123' https://api", KIND(BEARER_TOKEN),
         "0123456789abcdef0123"},
        {"send it as bearer AbCdEf0123456789xyzW please", KIND(BEARER_TOKEN),
         "AbCdEf0123456789xyzW"},
        {"key:\n" PEM_RSA "done", KIND(PRIVATE_KEY), "MIIEowIBAAKCAQEAx4Ub"},
        {"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
         "-----END OPENSSH PRIVATE KEY-----",
         KIND(PRIVATE_KEY), "b3BlbnNzaC1rZXktdjEAAAAABG5vbmU"},
        {"[... 100 bytes cut ...]\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
         KIND(PRIVATE_KEY), "MIIEvQIBADANBgkqhkiG9w0"},
        {"DATABASE_URL=postgres://admin:hunter2@db.example.com:5432/app", KIND(URL_PASSWORD),
         "hunter2"},
        {"fetching https://user:p%40ss-w0rd@example.com/x", KIND(URL_PASSWORD), "p%40ss-w0rd"},
        {"token: 8fKz2LmQ9xRt4VbN7wYc1HjD5sGpE3uA", KIND(HIGH_ENTROPY),
         "8fKz2LmQ9xRt4VbN7wYc1HjD5sGpE3uA"},
        {"SECRET_KEY_BASE=Zk3mQ8pL2xR7vN1cW9tY4bH6jD0sF5gA+uE/iO==", KIND(HIGH_ENTROPY),
         "Zk3mQ8pL2xR7vN1cW9tY4bH6jD0sF5gA"},
        {"{\"output\":\"line one\\nghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789\\n\"}",
         KIND(GITHUB_TOKEN), "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"},
        {"client_secret: \"Q7dT2kX9mB4vL8nR1cY6wP3sH0jF5gZa\"", KIND(HIGH_ENTROPY),
         "Q7dT2kX9mB4vL8nR1cY6wP3sH0jF5gZa"},
};

static const char *const misses[] = {
        "commit e83c5163316f89bfbde7d9ab23ca2e25604af290 (HEAD -> main)",
        "sha256sum: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  file.txt",
        "id: 123e4567-e89b-12d3-a456-426614174000",
        "<img "
        "src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
        "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\">",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt "
        "ut "
        "labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation "
        "ullamco.",
        "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
        "src/guard/detect.c:123:45: warning: unused variable 'x' [-Wunused-variable]",
        "scikit-learn is imported as sklearn; sk-learn-compatible-estimator-wrapper is a package",
        "task-1234567890123456789012345 finished",
        "AKIA1234 is too short",
        "ghp_short",
        "\"integrity\": "
        "\"sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kx"
        "vUR62cA8sC0tjHhoRPYQ==\"",
        "class AbstractSingletonProxyFactoryBean implements Serializable",
        "see http://example.com:8080/path@v2 for details",
        "git clone git@github.com:org/repo.git",
        "https://user@example.com/",
        "curl -H \"Authorization: Bearer $TOKEN\" https://api.example.com",
        "the header eyJhbGciOiJIUzI1NiJ9 alone",
        "The bearer of this letter is a friend.",
        "-----BEGIN "
        "CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\n"
        "RTESMBAGA1UEChMJQmFsdGltb3JlMRMwEQYDVQQLEwpDeWJlclRydXN0MSIwIAYD\n"
        "-----END CERTIFICATE-----",
        "image: alpine@sha256:21a3deaa0d32a8057914f36584b5288d2e5ecc984380bc0118285c70fa8c9300",
        "1234567890 9876543210 3.14159265358979323846",
        "version v1.2.3-beta.4+build.567",
        "supercalifragilisticexpialidocious-antidisestablishmentarianism",
        "password= and https://example.com/?token=",
        "md5: 0123456789abcdef0123456789abcdef",
        "github.com/pkg/errors v0.9.1 h1:FEBLx1zS214owpjy7qsBeixbURkuhQAwrK5UwLGTwt4=",
        "import org.apache.commons.lang3.StringUtils;",
        "C:\\Users\\Admin\\AppData\\Local\\Temp\\build-output-directory",
        "write to john.doe@example.com",
        "xoxb-notreal",
        "/nix/store/0c0kjl5s0vzbfqnb6ks0zwbbbfmlpj2z-bash-5.2-p15/bin/bash",
        "arn:aws:iam::123456789012:role/MyApplicationRole",
        "node_modules/@babel/plugin-transform-modules-commonjs/lib/index.js",
        "getUserAccountSettingsForTenantRegion returned",
        "",
        "sk-",
        "a://b:c",
};

static void test_hits(void **state)
{
        (void)state;
        assert_true(ELEMENTSOF(hits) >= 30);
        for (size_t i = 0; i < ELEMENTSOF(hits); i++) {
                const char *t = hits[i].text;
                bridle__secret_finding f[4];
                long n = bridle__secrets_scan(NULL, t, strlen(t), f, 4, NULL);
                if (n < 1 || f[0].kind != hits[i].kind)
                        fail_msg("hit %zu: '%s': %ld findings, first %s, expected %s", i, t, n,
                                 n > 0 ? bridle__secret_kind_name(f[0].kind) : "-",
                                 bridle__secret_kind_name(hits[i].kind));
                char *out = NULL;
                size_t count = 0;
                assert_int_equal(
                        bridle__secrets_redact(NULL, t, strlen(t), &out, NULL, &count, NULL), 0);
                assert_int_equal((long)count, n);
                if (strstr(out, hits[i].secret))
                        fail_msg("hit %zu: '%s' still in '%s'", i, hits[i].secret, out);
                char tag[64];
                (void)snprintf(tag, sizeof(tag), "[REDACTED:%s]",
                               bridle__secret_kind_name(hits[i].kind));
                assert_non_null(strstr(out, tag));
                free(out);
        }
}

static void test_misses(void **state)
{
        (void)state;
        assert_true(ELEMENTSOF(misses) >= 30);
        for (size_t i = 0; i < ELEMENTSOF(misses); i++) {
                bridle__secret_finding f[1];
                long n = bridle__secrets_scan(NULL, misses[i], strlen(misses[i]), f, 1, NULL);
                if (n != 0)
                        fail_msg("miss %zu: '%s': %ld findings, first %s at %zu+%zu", i, misses[i],
                                 n, bridle__secret_kind_name(f[0].kind), f[0].offset, f[0].length);
                char *out = NULL;
                assert_int_equal(bridle__secrets_redact(NULL, misses[i], strlen(misses[i]), &out,
                                                        NULL, NULL, NULL),
                                 0);
                assert_string_equal(out, misses[i]);
                free(out);
        }
}

static char *redact(const bridle__secrets *s, const char *t, size_t *count)
{
        char *out = NULL;
        assert_int_equal(bridle__secrets_redact(s, t, strlen(t), &out, NULL, count, NULL), 0);
        return out;
}

static void test_redact_shape(void **state)
{
        (void)state;
        size_t c = 0;
        char *o = redact(NULL, "Authorization: Bearer abcdef0123456789ABCDEF\r\nHost: x", &c);
        assert_string_equal(o, "Authorization: Bearer [REDACTED:bearer_token]\r\nHost: x");
        assert_int_equal(c, 1);
        free(o);
        o = redact(NULL, "postgres://admin:hunter2@db/app and AKIAIOSFODNN7EXAMPLE", &c);
        assert_string_equal(o, "postgres://admin:[REDACTED:url_password]@db/app and "
                               "[REDACTED:aws_access_key]");
        assert_int_equal(c, 2);
        free(o);
        o = redact(NULL, "a\n" PEM_RSA "b", &c);
        assert_string_equal(o, "a\n[REDACTED:private_key]\nb");
        free(o);
        /* findings in order, not overlapping */
        const char *t = "AKIAIOSFODNN7EXAMPLE ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 x";
        bridle__secret_finding f[4];
        assert_int_equal(bridle__secrets_scan(NULL, t, strlen(t), f, 4, NULL), 2);
        assert_int_equal(f[0].offset, 0);
        assert_int_equal(f[0].length, 20);
        assert_int_equal(f[1].offset, 21);
        assert_int_equal(f[1].length, 40);
        /* max 0: only the count */
        assert_int_equal(bridle__secrets_scan(NULL, t, strlen(t), NULL, 0, NULL), 2);
}

static void test_json_stays_valid(void **state)
{
        (void)state;
        json_t *o = json_pack(
                "{s:s, s:[s, s]}", "out", "line\nghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789\n\"q\"",
                "more", "Bearer abcdef0123456789ABCDEF", "\xc3\xa9t\xc3\xa9 AKIAIOSFODNN7EXAMPLE");
        char *text = json_dumps(o, JSON_COMPACT);
        size_t c = 0;
        char *red = redact(NULL, text, &c);
        assert_int_equal(c, 3);
        json_error_t je;
        json_t *back = json_loads(red, 0, &je);
        assert_non_null(back);
        assert_string_equal(json_string_value(json_object_get(back, "out")),
                            "line\n[REDACTED:github_token]\n\"q\"");
        json_decref(back);
        /* the same on the tree */
        assert_int_equal(bridle__secrets_redact_json(NULL, o, NULL), 3);
        assert_string_equal(json_string_value(json_array_get(json_object_get(o, "more"), 1)),
                            "\xc3\xa9t\xc3\xa9 [REDACTED:aws_access_key]");
        json_decref(o);
        free(text);
        free(red);
}

static void test_known(void **state)
{
        (void)state;
        bridle__secrets *s = NULL;
        assert_int_equal(bridle__secrets_new(&s, NULL), 0);
        bridle_error err;
        assert_int_equal(bridle__secrets_add_known(s, "short", 5, &err), BRIDLE_E_INVALID);
        const char *key = "harness-key-0001";
        assert_int_equal(bridle__secrets_add_known(s, key, strlen(key), NULL), 0);
        const char *odd = "pa\"ss\\w/rd-1234";
        assert_int_equal(bridle__secrets_add_known(s, odd, strlen(odd), NULL), 0);
        /* adding the same value twice is fine */
        assert_int_equal(bridle__secrets_add_known(s, key, strlen(key), NULL), 0);

        size_t c = 0;
        char *o = redact(s, "the key is harness-key-0001.", &c);
        assert_string_equal(o, "the key is [REDACTED:known].");
        free(o);
        o = redact(s, "split harness-key-\n0001 over lines", &c);
        assert_string_equal(o, "split [REDACTED:known] over lines");
        free(o);
        o = redact(s, "crlf harn\r\ness-key-00\r\n01!", &c);
        assert_string_equal(o, "crlf [REDACTED:known]!");
        free(o);
        o = redact(s, "{\"t\":\"harness-key-\\n0001\"}", &c);
        assert_string_equal(o, "{\"t\":\"[REDACTED:known]\"}");
        free(o);
        /* JSON-escaped forms of a value with a quote, a backslash and a slash */
        o = redact(s, "{\"p\":\"pa\\\"ss\\\\w/rd-1234\"}", &c);
        assert_string_equal(o, "{\"p\":\"[REDACTED:known]\"}");
        assert_int_equal(c, 1);
        free(o);
        o = redact(s, "{\"p\":\"pa\\\"ss\\\\w\\/rd-1234\"}", &c);
        assert_string_equal(o, "{\"p\":\"[REDACTED:known]\"}");
        free(o);
        o = redact(s, "raw pa\"ss\\w/rd-1234 end", &c);
        assert_string_equal(o, "raw [REDACTED:known] end");
        free(o);
        /* many times, adjacent, and inside a detector's finding */
        o = redact(s, "harness-key-0001harness-key-0001 x harness-key-0001", &c);
        assert_string_equal(o, "[REDACTED:known][REDACTED:known] x [REDACTED:known]");
        free(o);
        o = redact(s, "https://u:harness-key-0001@h/", &c);
        assert_string_equal(o, "https://u:[REDACTED:known]@h/");
        free(o);
        /* not a near miss */
        o = redact(s, "harness-key-0002 harness-key-000", &c);
        assert_int_equal(c, 0);
        free(o);
        /* too many values */
        for (int i = 0; i < BRIDLE__SECRETS_MAX_KNOWN + 2; i++) {
                char v[32];
                (void)snprintf(v, sizeof(v), "value-number-%04d", i);
                int r = bridle__secrets_add_known(s, v, strlen(v), NULL);
                if (r < 0) {
                        assert_int_equal(r, BRIDLE_E_LIMIT);
                        break;
                }
                assert_true(i < BRIDLE__SECRETS_MAX_KNOWN);
        }
        s = bridle__secrets_free(s);
        assert_null(s);
}

static void test_binary_and_edges(void **state)
{
        (void)state;
        /* NUL bytes and high bytes around a key */
        char t[200];
        size_t n = 0;
        memcpy(t + n, "\x00\xff\xfe", 3);
        n += 3;
        memcpy(t + n, "AKIAIOSFODNN7EXAMPLE", 20);
        n += 20;
        memcpy(t + n, "\x00\x80", 2);
        n += 2;
        bridle__secret_finding f[2];
        assert_int_equal(bridle__secrets_scan(NULL, t, n, f, 2, NULL), 1);
        assert_int_equal(f[0].offset, 3);
        char *out = NULL;
        size_t ol = 0;
        assert_int_equal(bridle__secrets_redact(NULL, t, n, &out, &ol, NULL, NULL), 0);
        assert_int_equal(ol, 3 + strlen("[REDACTED:aws_access_key]") + 2);
        assert_memory_equal(out + 3, "[REDACTED:aws_access_key]", 25);
        free(out);
        /* truncated forms at the end of the text */
        static const char *const ends[] = {
                "sk-", "-----BEGIN ", "https://a:", "Authorization:", "eyJabcdefghij.",
                "xox", "AKIA",        "\\",         "\\u12",          "bearer "};
        for (size_t i = 0; i < ELEMENTSOF(ends); i++)
                assert_true(bridle__secrets_scan(NULL, ends[i], strlen(ends[i]), NULL, 0, NULL) >=
                            0);
        /* empty */
        assert_int_equal(bridle__secrets_scan(NULL, NULL, 0, NULL, 0, NULL), 0);
        assert_int_equal(bridle__secrets_redact(NULL, NULL, 0, &out, &ol, NULL, NULL), 0);
        assert_string_equal(out, "");
        free(out);
}

static void test_large_linear(void **state)
{
        (void)state;
        /* Adversarial shapes repeated: each must stay a single pass (no timing
         * assert; a quadratic scanner would take minutes here). */
        static const char *const units[] = {"a://",
                                            "sk-a",
                                            "-----BEGIN X-----",
                                            "Bearer ",
                                            "AAAA",
                                            "eyJa.",
                                            "\\n",
                                            "authorization: ",
                                            "https://u:p",
                                            "-----BEGIN PRIVATE KEY-----",
                                            "-----END ",
                                            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY AKIA"};
        size_t n = 4 << 20;
        char *big = malloc(n);
        assert_non_null(big);
        for (size_t u = 0; u < ELEMENTSOF(units); u++) {
                size_t l = strlen(units[u]);
                for (size_t k = 0; k < n; k++)
                        big[k] = units[u][k % l];
                long r = bridle__secrets_scan(NULL, big, n, NULL, 0, NULL);
                assert_true(r >= 0);
        }
        free(big);
}

static void test_alloc_failures(void **state)
{
        (void)state;
        for (unsigned long nth = 1; nth < 200; nth++) {
                bridle__secrets *s = NULL;
                bridle__alloc_fail_at(nth);
                int r = bridle__secrets_new(&s, NULL);
                if (r == 0)
                        r = bridle__secrets_add_known(s, "harness-key-0001", 16, NULL);
                char *out = NULL;
                if (r == 0)
                        r = bridle__secrets_redact(s, "x harness-key-0001 AKIAIOSFODNN7EXAMPLE", 39,
                                                   &out, NULL, NULL, NULL);
                bridle__alloc_fail_at(0);
                if (r == 0) {
                        assert_string_equal(out, "x [REDACTED:known] [REDACTED:aws_access_key]");
                        free(out);
                        bridle__secrets_free(s);
                        return;
                }
                assert_int_equal(r, -ENOMEM);
                assert_null(out);
                bridle__secrets_free(s);
        }
        fail_msg("never succeeded");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hits),         cmocka_unit_test(test_misses),
                cmocka_unit_test(test_redact_shape), cmocka_unit_test(test_json_stays_valid),
                cmocka_unit_test(test_known),        cmocka_unit_test(test_binary_and_edges),
                cmocka_unit_test(test_large_linear), cmocka_unit_test(test_alloc_failures),
        };
        return cmocka_run_group_tests_name("secrets", tests, NULL, NULL);
}
