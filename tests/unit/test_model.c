/* SPDX-License-Identifier: MIT */
/*
 * Model providers: request bodies, streams parsed without HTTP, the scripted
 * provider, scripts, prices, and both HTTP providers against the local fake
 * server (tests/server/fake-openai.mjs, skipped without node) with every fault.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "model/model.h"
#include "model/model_internal.h"
#include "testutil.h"
#include "util/alloc.h"
#include "util/cleanup.h"

#define KEY "sk-canary-7f3a9c0e51d24b86"

/* ---- helpers ----------------------------------------------------------------------- */

static json_t *J(const char *text)
{
        json_error_t e;
        json_t *j = json_loads(text, 0, &e);
        if (!j)
                fail_msg("bad JSON in test: %s: %s", e.text, text);
        return j;
}

static char *tmpdir;

static char *write_tmp(const char *name, const char *text)
{
        char *path = NULL;
        assert_true(asprintf(&path, "%s/%s", tmpdir, name) > 0);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
        return path;
}

/* What the callbacks saw. */
struct rec {
        char text[8192];
        size_t tlen;
        int deltas, items, retries;
        char classes[256];
        unsigned last_delay;
};

static void on_text(void *ud, const char *t, size_t n)
{
        struct rec *r = ud;
        assert_true(r->tlen + n < sizeof(r->text));
        memcpy(r->text + r->tlen, t, n);
        r->tlen += n;
        r->deltas++;
}

static void on_item(void *ud, const json_t *item)
{
        struct rec *r = ud;
        assert_true(json_is_object(item));
        r->items++;
}

static void on_retry(void *ud, unsigned attempt, const char *cls, const char *msg, unsigned delay)
{
        struct rec *r = ud;
        r->retries++;
        assert_int_equal(attempt, (unsigned)r->retries);
        assert_non_null(msg);
        assert_null(strstr(msg, KEY));
        size_t l = strlen(r->classes);
        (void)snprintf(r->classes + l, sizeof(r->classes) - l, "%s%s", l ? "," : "", cls);
        r->last_delay = delay;
}

static bridle__model_events events(struct rec *r)
{
        memset(r, 0, sizeof(*r));
        return (bridle__model_events){on_text, on_item, on_retry, r};
}

/* ---- request bodies -------------------------------------------------------------------- */

static json_t *build(const struct model_provider *p, const char *model, const char *instr,
                     const json_t *input, const json_t *tools)
{
        bridle__model_cfg cfg = {.provider = p->name, .model = model};
        bridle__model_req req = {.instructions = instr, .input = input, .tools = tools};
        char *body = NULL;
        size_t len = 0;
        bridle_error err = {0};
        assert_int_equal(p->build(&cfg, &req, &body, &len, &err), 0);
        assert_int_equal(len, strlen(body));
        json_t *j = J(body);
        free(body);
        return j;
}

static void test_responses_body(void **state)
{
        (void)state;
        json_t *input = J("[{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":"
                          "\"input_text\",\"text\":\"hi\"}]}]");
        json_t *tools = J("[{\"type\":\"function\",\"name\":\"read_file\",\"parameters\":{}},"
                          "{\"type\":\"shell\"}]");
        json_t *b = build(&bridle__provider_responses, "gpt-5.1", "be brief", input, tools);
        assert_string_equal(json_string_value(json_object_get(b, "model")), "gpt-5.1");
        assert_string_equal(json_string_value(json_object_get(b, "instructions")), "be brief");
        assert_true(json_equal(json_object_get(b, "input"), input));
        assert_true(json_equal(json_object_get(b, "tools"), tools));
        assert_true(json_is_true(json_object_get(b, "stream")));
        assert_true(json_is_false(json_object_get(b, "store")));
        assert_true(json_is_true(json_object_get(b, "parallel_tool_calls")));
        assert_string_equal(json_string_value(json_array_get(json_object_get(b, "include"), 0)),
                            "reasoning.encrypted_content");
        json_decref(b);
        /* no tools, no instructions, not a reasoning model */
        b = build(&bridle__provider_responses, "gpt-4o", NULL, input, NULL);
        assert_null(json_object_get(b, "tools"));
        assert_null(json_object_get(b, "parallel_tool_calls"));
        assert_null(json_object_get(b, "instructions"));
        assert_null(json_object_get(b, "include"));
        json_decref(b);
        json_decref(input);
        json_decref(tools);
}

static void test_chat_body(void **state)
{
        (void)state;
        json_t *input =
                J("[{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
                  "\"text\":\"hi\"}]},"
                  "{\"type\":\"reasoning\",\"id\":\"rs_1\",\"summary\":[]},"
                  "{\"type\":\"message\",\"role\":\"assistant\",\"id\":\"msg_1\",\"content\":[{"
                  "\"type\":\"output_text\",\"text\":\"let me look\",\"annotations\":[]}]},"
                  "{\"type\":\"function_call\",\"id\":\"fc_1\",\"call_id\":\"call_1\",\"name\":"
                  "\"read_file\",\"arguments\":\"{\\\"path\\\":\\\"a\\\"}\"},"
                  "{\"type\":\"function_call\",\"id\":\"fc_2\",\"call_id\":\"call_2\",\"name\":"
                  "\"ls\",\"arguments\":\"{}\"},"
                  "{\"type\":\"function_call_output\",\"call_id\":\"call_1\",\"output\":\"A\"},"
                  "{\"type\":\"function_call_output\",\"call_id\":\"call_2\",\"output\":\"B\"},"
                  "{\"type\":\"function_call\",\"id\":\"fc_3\",\"call_id\":\"call_3\",\"name\":"
                  "\"ls\",\"arguments\":\"{}\"},"
                  "{\"type\":\"function_call_output\",\"call_id\":\"call_3\",\"output\":\"C\"},"
                  "{\"type\":\"message\",\"role\":\"user\",\"content\":\"thanks\"}]");
        json_t *tools = J("[{\"type\":\"function\",\"name\":\"read_file\",\"description\":\"d\","
                          "\"parameters\":{\"type\":\"object\"},\"strict\":false},"
                          "{\"type\":\"shell\"}]");
        json_t *b = build(&bridle__provider_chat, "gpt-4o", "be brief", input, tools);
        json_t *want =
                J("[{\"role\":\"system\",\"content\":\"be brief\"},"
                  "{\"role\":\"user\",\"content\":\"hi\"},"
                  "{\"role\":\"assistant\",\"content\":\"let me look\",\"tool_calls\":["
                  "{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"read_file\","
                  "\"arguments\":\"{\\\"path\\\":\\\"a\\\"}\"}},"
                  "{\"id\":\"call_2\",\"type\":\"function\",\"function\":{\"name\":\"ls\","
                  "\"arguments\":\"{}\"}}]},"
                  "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"A\"},"
                  "{\"role\":\"tool\",\"tool_call_id\":\"call_2\",\"content\":\"B\"},"
                  "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
                  "{\"id\":\"call_3\",\"type\":\"function\",\"function\":{\"name\":\"ls\","
                  "\"arguments\":\"{}\"}}]},"
                  "{\"role\":\"tool\",\"tool_call_id\":\"call_3\",\"content\":\"C\"},"
                  "{\"role\":\"user\",\"content\":\"thanks\"}]");
        if (!json_equal(json_object_get(b, "messages"), want)) {
                char *s = json_dumps(json_object_get(b, "messages"), JSON_INDENT(1));
                fail_msg("messages: %s", s);
        }
        json_t *wtools = J("[{\"type\":\"function\",\"function\":{\"name\":\"read_file\","
                           "\"description\":\"d\",\"parameters\":{\"type\":\"object\"}}}]");
        assert_true(json_equal(json_object_get(b, "tools"), wtools));
        assert_true(json_is_true(
                json_object_get(json_object_get(b, "stream_options"), "include_usage")));
        assert_true(json_is_true(json_object_get(b, "stream")));
        assert_true(json_is_true(json_object_get(b, "parallel_tool_calls")));
        json_decref(b);
        json_decref(want);
        json_decref(wtools);
        /* only native tools: no tools key at all */
        json_t *native = J("[{\"type\":\"shell\"}]");
        b = build(&bridle__provider_chat, "gpt-4o", NULL, input, native);
        assert_null(json_object_get(b, "tools"));
        assert_null(json_object_get(b, "parallel_tool_calls"));
        assert_string_equal(json_string_value(json_object_get(
                                    json_array_get(json_object_get(b, "messages"), 0), "role")),
                            "user");
        json_decref(b);
        json_decref(native);
        json_decref(input);
        json_decref(tools);
}

/* ---- streams without HTTP ---------------------------------------------------------------- */

/* Feed text one byte at a time; returns the end's result. */
static int stream(const struct model_provider *p, const char *text, struct rec *r,
                  struct model_stream *st)
{
        static bridle__model_events ev;
        ev = events(r);
        bridle__stream_init(st, p, &ev);
        size_t n = strlen(text);
        for (size_t i = 0; i < n; i++)
                if (bridle__stream_feed(st, text + i, 1) < 0)
                        return BRIDLE_E_MODEL;
        return bridle__stream_end(st);
}

static const char responses_ok[] =
        "event: response.created\n"
        "data: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\"}}\n\n"
        "event: response.output_text.delta\n"
        "data: {\"type\":\"response.output_text.delta\",\"delta\":\"Hel\"}\n\n"
        ": keep-alive\n\n"
        "event: response.output_text.delta\r\n"
        "data: {\"type\":\"response.output_text.delta\",\"delta\":\"lo\"}\r\n\r\n"
        "event: response.brand_new_event\n"
        "data: {\"type\":\"response.brand_new_event\",\"x\":1}\n\n"
        "event: response.output_item.done\n"
        "data: {\"type\":\"response.output_item.done\",\"item\":{\"type\":\"message\"}}\n\n"
        "event: response.completed\n"
        "data: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"output\":["
        "{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\","
        "\"text\":\"Hello\"}]},{\"type\":\"mystery_item\",\"payload\":{\"k\":[1,2]}}],"
        "\"usage\":{\"input_tokens\":11,\"input_tokens_details\":{\"cached_tokens\":3},"
        "\"output_tokens\":5,\"output_tokens_details\":{\"reasoning_tokens\":2}}}}\n\n";

static void test_responses_stream(void **state)
{
        (void)state;
        struct rec r;
        struct model_stream st;
        assert_int_equal(stream(&bridle__provider_responses, responses_ok, &r, &st), 0);
        assert_true(st.completed);
        assert_string_equal(st.response_id, "resp_1");
        assert_int_equal(r.tlen, 5);
        assert_memory_equal(r.text, "Hello", 5);
        assert_int_equal(r.deltas, 2);
        assert_int_equal(r.items, 1);
        assert_int_equal(json_array_size(st.output), 2);
        json_t *mystery = J("{\"type\":\"mystery_item\",\"payload\":{\"k\":[1,2]}}");
        assert_true(json_equal(json_array_get(st.output, 1), mystery));
        json_decref(mystery);
        assert_int_equal(st.usage.input_tokens, 11);
        assert_int_equal(st.usage.cached_tokens, 3);
        assert_int_equal(st.usage.output_tokens, 5);
        assert_int_equal(st.usage.reasoning_tokens, 2);
        bridle__stream_release(&st);
}

static void expect_fail(const struct model_provider *p, const char *text, const char *cls,
                        const char *msg_part)
{
        struct rec r;
        struct model_stream st;
        assert_int_equal(stream(p, text, &r, &st), BRIDLE_E_MODEL);
        assert_non_null(st.fail_class);
        if (strcmp(st.fail_class, cls) != 0 || !strstr(st.fail_msg, msg_part))
                fail_msg("got %s '%s', want %s '%s'", st.fail_class, st.fail_msg, cls, msg_part);
        bridle__stream_release(&st);
}

static void test_responses_stream_errors(void **state)
{
        (void)state;
        /* cut before response.completed */
        char cut[sizeof(responses_ok)];
        memcpy(cut, responses_ok, sizeof(cut));
        *strstr(cut, "event: response.completed") = '\0';
        expect_fail(&bridle__provider_responses, cut, "truncated", "response.completed");
        /* cut in the middle of the final event's data line */
        memcpy(cut, responses_ok, sizeof(cut));
        cut[sizeof(cut) - 30] = '\0';
        expect_fail(&bridle__provider_responses, cut, "truncated", "response.completed");
        expect_fail(&bridle__provider_responses, "data: {\"type\":\"response.created\"\n\n",
                    "protocol", "malformed event");
        expect_fail(&bridle__provider_responses, "data: [1,2]\n\n", "protocol", "not an object");
        expect_fail(&bridle__provider_responses,
                    "data: {\"type\":\"response.failed\",\"response\":{\"id\":\"r\",\"error\":{"
                    "\"code\":\"server_error\",\"message\":\"boom\"}}}\n\n",
                    "server", "response failed: server_error: boom");
        expect_fail(&bridle__provider_responses,
                    "data: {\"type\":\"response.failed\",\"response\":{\"error\":{"
                    "\"code\":\"invalid_prompt\",\"message\":\"no\"}}}\n\n",
                    "refused", "invalid_prompt");
        expect_fail(&bridle__provider_responses,
                    "event: error\ndata: {\"type\":\"error\",\"code\":\"rate_limit_exceeded\","
                    "\"message\":\"slow down\"}\n\n",
                    "rate_limit", "slow down");
}

static const char chat_ok[] =
        "data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"role\":"
        "\"assistant\",\"content\":\"\"}}],\"usage\":null}\n\n"
        "data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
        "\"Let me \"}}]}\n\n"
        "data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
        "\"look.\"}}]}\n\n"
        "data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{"
        "\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"read_"
        "\",\"arguments\":\"\"}}]}}]}\n\n"
        "data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{"
        "\"index\":1,\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"ls\","
        "\"arguments\":\"{}\"}}]}}]}\n\n"
        "data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{"
        "\"index\":0,\"function\":{\"name\":\"file\",\"arguments\":\"{\\\"path\"}}]}}]}\n\n"
        "data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{"
        "\"index\":0,\"function\":{\"arguments\":\"\\\":\\\"a\\\"}\"}}]}}]}\n\n"
        "data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{},"
        "\"finish_reason\":\"tool_calls\"}]}\n\n"
        "data: {\"id\":\"chatcmpl-9\",\"choices\":[],\"usage\":{\"prompt_tokens\":20,"
        "\"completion_tokens\":9,\"prompt_tokens_details\":{\"cached_tokens\":8},"
        "\"completion_tokens_details\":{\"reasoning_tokens\":1}}}\n\n"
        "data: [DONE]\n\n";

static void test_chat_stream(void **state)
{
        (void)state;
        struct rec r;
        struct model_stream st;
        assert_int_equal(stream(&bridle__provider_chat, chat_ok, &r, &st), 0);
        assert_int_equal(r.tlen, 12);
        assert_memory_equal(r.text, "Let me look.", 12);
        assert_int_equal(r.items, 3);
        json_t *want = J(
                "[{\"type\":\"message\",\"id\":\"msg_chatcmpl-9\",\"role\":\"assistant\","
                "\"status\":"
                "\"completed\",\"content\":[{\"type\":\"output_text\",\"text\":\"Let me look.\","
                "\"annotations\":[]}]},"
                "{\"type\":\"function_call\",\"id\":\"fc_call_a\",\"call_id\":\"call_a\",\"name\":"
                "\"read_file\",\"arguments\":\"{\\\"path\\\":\\\"a\\\"}\",\"status\":\"completed\"}"
                ","
                "{\"type\":\"function_call\",\"id\":\"fc_call_b\",\"call_id\":\"call_b\",\"name\":"
                "\"ls\",\"arguments\":\"{}\",\"status\":\"completed\"}]");
        if (!json_equal(st.output, want)) {
                char *s = json_dumps(st.output, JSON_INDENT(1));
                fail_msg("output: %s", s);
        }
        json_decref(want);
        assert_string_equal(st.response_id, "chatcmpl-9");
        assert_int_equal(st.usage.input_tokens, 20);
        assert_int_equal(st.usage.cached_tokens, 8);
        assert_int_equal(st.usage.output_tokens, 9);
        assert_int_equal(st.usage.reasoning_tokens, 1);
        bridle__stream_release(&st);

        char cut[sizeof(chat_ok)];
        memcpy(cut, chat_ok, sizeof(cut));
        *strstr(cut, "data: [DONE]") = '\0';
        expect_fail(&bridle__provider_chat, cut, "truncated", "[DONE]");
        expect_fail(&bridle__provider_chat, "data: {\"choices\":[{\"index\":0,\n\n", "protocol",
                    "malformed chunk");
        expect_fail(&bridle__provider_chat,
                    "data: {\"error\":{\"code\":\"server_error\",\"message\":\"oops\"}}\n\n",
                    "server", "oops");
}

/* A response with only text and one without anything. */
static void test_chat_stream_edges(void **state)
{
        (void)state;
        struct rec r;
        struct model_stream st;
        assert_int_equal(stream(&bridle__provider_chat, "data: [DONE]\n\n", &r, &st), 0);
        assert_int_equal(json_array_size(st.output), 0);
        bridle__stream_release(&st);
        /* tool call deltas without an index continue the last call */
        assert_int_equal(
                stream(&bridle__provider_chat,
                       "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"c1\","
                       "\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\"}}]}}]}\n\n"
                       "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{"
                       "\"function\":{\"arguments\":\"\\\":1}\"}}]}}]}\n\n"
                       "data: [DONE]\n\n",
                       &r, &st),
                0);
        assert_int_equal(json_array_size(st.output), 1);
        assert_string_equal(
                json_string_value(json_object_get(json_array_get(st.output, 0), "arguments")),
                "{\"a\":1}");
        bridle__stream_release(&st);
        /* too many tool calls */
        expect_fail(&bridle__provider_chat,
                    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":"
                    "100000,\"id\":\"x\"}]}}]}\n\n",
                    "protocol", "tool calls");
}

/* Allocation failures while parsing a stream: "oom", no leak, then success. */
static void test_stream_alloc_failures(void **state)
{
        (void)state;
        const struct model_provider *provs[] = {&bridle__provider_chat,
                                                &bridle__provider_responses};
        const char *texts[] = {chat_ok, responses_ok};
        for (size_t p = 0; p < 2; p++) {
                bool ok = false;
                for (unsigned long n = 1; n < 500 && !ok; n++) {
                        struct rec r;
                        struct model_stream st;
                        bridle__alloc_fail_at(n);
                        int rc = stream(provs[p], texts[p], &r, &st);
                        bridle__alloc_fail_at(0);
                        if (rc == 0)
                                ok = true;
                        else
                                assert_string_equal(st.fail_class, "oom");
                        bridle__stream_release(&st);
                }
                assert_true(ok);
        }
}

/* ---- scripted provider and script files -------------------------------------------------------
 */

static const char script_yaml[] =
        "# two turns\n"
        "- - type: message\n"
        "    content: Hello there\n"
        "  - name: read_file\n"
        "    arguments: {path: a.txt}\n"
        "  - type: shell_call\n"
        "    action: {commands: [ls]}\n"
        "- items:\n"
        "    - content: done\n"
        "  usage: {input_tokens: 100, cached_tokens: 20, output_tokens: 7}\n";

static void test_script_load(void **state)
{
        (void)state;
        char *path = write_tmp("s.yaml", script_yaml);
        json_t *script = NULL;
        bridle_error err = {0};
        assert_int_equal(bridle__script_load(path, &script, &err), 0);
        json_t *want = J(
                "[[{\"type\":\"message\",\"role\":\"assistant\",\"id\":\"msg_s1_1\",\"content\":[{"
                "\"type\":\"output_text\",\"text\":\"Hello there\",\"annotations\":[]}]},"
                "{\"type\":\"function_call\",\"id\":\"fc_s1_2\",\"call_id\":\"call_s1_2\",\"name\":"
                "\"read_file\",\"arguments\":\"{\\\"path\\\":\\\"a.txt\\\"}\"},"
                "{\"type\":\"shell_call\",\"call_id\":\"call_s1_3\",\"action\":{\"commands\":["
                "\"ls\"]"
                "}}],"
                "{\"items\":[{\"type\":\"message\",\"role\":\"assistant\",\"id\":\"msg_s2_1\","
                "\"content\":[{\"type\":\"output_text\",\"text\":\"done\",\"annotations\":[]}]}],"
                "\"usage\":{\"input_tokens\":100,\"cached_tokens\":20,\"output_tokens\":7}}]");
        if (!json_equal(script, want)) {
                char *s = json_dumps(script, JSON_INDENT(1));
                fail_msg("script: %s", s);
        }
        json_decref(want);

        bridle__model_cfg cfg = {.provider = "scripted", .script = script, .script_name = "s.yaml"};
        bridle__model *m = NULL;
        assert_int_equal(bridle__model_new(&cfg, &m, &err), 0);
        struct rec r;
        bridle__model_events ev = events(&r);
        bridle__model_resp resp;
        bridle__model_req req = {.turn_index = 0};
        assert_int_equal(bridle__model_call(m, &req, &ev, &resp, &err), 0);
        assert_int_equal(json_array_size(resp.output), 3);
        assert_int_equal(r.items, 3);
        assert_int_equal(r.tlen, 11);
        /* a deep copy: changing it leaves the script alone */
        json_object_set_new(json_array_get(resp.output, 0), "type", json_string("changed"));
        assert_string_equal(json_string_value(json_object_get(
                                    json_array_get(json_array_get(script, 0), 0), "type")),
                            "message");
        bridle__model_resp_clear(&resp);
        req.turn_index = 1;
        assert_int_equal(bridle__model_call(m, &req, &ev, &resp, &err), 0);
        assert_int_equal(resp.usage.input_tokens, 100);
        assert_int_equal(resp.usage.cached_tokens, 20);
        assert_int_equal(resp.usage.output_tokens, 7);
        bridle__model_resp_clear(&resp);
        req.turn_index = 2;
        assert_int_equal(bridle__model_call(m, &req, &ev, &resp, &err), BRIDLE_E_MODEL);
        assert_string_equal(err.msg, "script 's.yaml' has no turn 3 (it has 2)");
        assert_string_equal(resp.error_class, "script");
        bridle__model_resp_clear(&resp);
        m = bridle__model_free(m);
        json_decref(script);
        free(path);
}

static void test_script_errors(void **state)
{
        (void)state;
        static const struct {
                const char *text, *want;
        } cases[] = {
                {"{a: 1}\n", ":1:1: a script is a list of turns, got mapping"},
                {"- - name: f\n    arguments: 3\n", ":2:16: turn 1, item 1: 'arguments' must be"},
                {"- []\n- - {x: 1}\n", ":2:5: turn 2, item 1: an item needs a 'type'"},
                {"- - type: message\n    content: 5\n",
                 ":2:14: turn 1, item 1: a message's 'content'"},
                {"- - type: function_call\n", ":1:5: turn 1, item 1: a function_call's 'name'"},
                {"- items: []\n  extra: 1\n", ":2:3: turn 1: unknown key 'extra'"},
                {"- 7\n", ":1:3: turn 1: a turn must be a list"},
                {"- [\n", "bad.yaml:"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *path = write_tmp("bad.yaml", cases[i].text);
                json_t *script = NULL;
                bridle_error err = {0};
                assert_int_equal(bridle__script_load(path, &script, &err) < 0, 1);
                assert_null(script);
                if (!strstr(err.msg, cases[i].want) || strncmp(err.msg, path, strlen(path)) != 0)
                        fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].want);
                free(path);
        }
        bridle_error err = {0};
        json_t *s = J("[[{\"type\":\"function_call\",\"name\":\"f\",\"arguments\":{}}]]");
        assert_int_equal(bridle__script_check(s, "x", &err), BRIDLE_E_INVALID);
        assert_string_equal(err.msg,
                            "x: turn 1, item 1: a function_call's 'arguments' must be a string");
        json_decref(s);
}

static void test_model_new_errors(void **state)
{
        (void)state;
        bridle__model *m = NULL;
        bridle_error err = {0};
        bridle__model_cfg cfg = {.provider = "anthropic", .model = "x"};
        assert_int_equal(bridle__model_new(&cfg, &m, &err), BRIDLE_E_INVALID);
        assert_non_null(strstr(err.msg, "unknown model provider 'anthropic'"));
        cfg = (bridle__model_cfg){.provider = "openai-chat"};
        assert_int_equal(bridle__model_new(&cfg, &m, &err), BRIDLE_E_INVALID);
        cfg = (bridle__model_cfg){.provider = "scripted"};
        assert_int_equal(bridle__model_new(&cfg, &m, &err), BRIDLE_E_INVALID);
        assert_null(m);
}

/* ---- prices ---------------------------------------------------------------------------------- */

static void test_prices(void **state)
{
        (void)state;
        bool known = false;
        unsetenv("BRIDLE_PRICES");
        setenv("BRIDLE_HOME", tmpdir, 1); /* no prices.yaml there */
        bridle__model_prices_reload();
        bridle__model_usage u = {
                .input_tokens = 1000000, .cached_tokens = 0, .output_tokens = 1000000};
        assert_float_equal(bridle__model_cost("gpt-5.1", &u, &known), 11.25, 1e-9);
        assert_true(known);
        u.cached_tokens = 1000000;
        assert_float_equal(bridle__model_cost("gpt-5.1", &u, &known), 10.125, 1e-9);
        u = (bridle__model_usage){.input_tokens = 2000000, .cached_tokens = 1000000};
        assert_float_equal(bridle__model_cost("gpt-4o-2024-08-06", &u, &known), 2.5 + 1.25, 1e-9);
        assert_true(known);
        assert_float_equal(bridle__model_cost("gpt-4o-mini", &u, &known), 0.15 + 0.075, 1e-9);
        assert_float_equal(bridle__model_cost("llama-3", &u, &known), 0, 0);
        assert_false(known);

        char *path = write_tmp("p.yaml", "llama-3: {input: 1, cached_input: 0.5, output: 2}\n"
                                         "gpt-5.1: {input: 10, output: 20}\n"
                                         "broken: {input: cheap}\n");
        setenv("BRIDLE_PRICES", path, 1);
        bridle__model_prices_reload();
        assert_float_equal(bridle__model_cost("llama-3", &u, &known), 1 + 0.5, 1e-9);
        assert_true(known);
        /* cached_input defaults to input */
        assert_float_equal(bridle__model_cost("gpt-5.1", &u, &known), 20, 1e-9);
        assert_float_equal(bridle__model_cost("broken", &u, &known), 0, 0);
        assert_false(known);
        unsetenv("BRIDLE_PRICES");
        bridle__model_prices_reload();
        assert_float_equal(bridle__model_cost("llama-3", &u, &known), 0, 0);
        free(path);
}

static void test_retry_after_parse(void **state)
{
        (void)state;
        assert_int_equal(bridle__http_retry_after("5", 60000), 5000);
        assert_int_equal(bridle__http_retry_after(" 0\r\n", 60000), 0);
        assert_int_equal(bridle__http_retry_after("1.5", 60000), 1500);
        assert_int_equal(bridle__http_retry_after("120", 60000), 60000);
        assert_int_equal(bridle__http_retry_after("soon", 60000), -1);
        assert_int_equal(bridle__http_retry_after("-3", 60000), -1);
        assert_int_equal(bridle__http_retry_after("", 60000), -1);
        assert_int_equal(bridle__http_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 60000), 0);
        char date[64];
        time_t t = time(NULL) + 30;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        int64_t ms = bridle__http_retry_after(date, 60000);
        assert_true(ms > 20000 && ms <= 30000);
}

/* ---- against the fake server ---------------------------------------------------------------- */

struct server {
        pid_t pid;
        int port;
        char *script, *log;
};
static struct server srv = {.pid = -1};

static void server_stop(void)
{
        if (srv.pid > 0) {
                (void)kill(srv.pid, SIGTERM);
                (void)waitpid(srv.pid, NULL, 0);
        }
        srv.pid = -1;
        free(srv.script);
        free(srv.log);
        srv.script = srv.log = NULL;
}

static int teardown(void **state)
{
        (void)state;
        server_stop();
        return 0;
}

static bool have_node(void)
{
        const char *path = getenv("PATH");
        char buf[4096];
        if (!path)
                path = "/usr/bin:/bin";
        for (const char *p = path; *p;) {
                size_t n = strcspn(p, ":");
                (void)snprintf(buf, sizeof(buf), "%.*s/node", (int)n, p);
                if (access(buf, X_OK) == 0)
                        return true;
                p += n + (p[n] == ':');
        }
        return false;
}

/* Start the server with a script (JSON text) and extra arguments; skip() without node. */
static void server_start(const char *script, const char *const *extra)
{
        const char *src = getenv("BRIDLE_SRCDIR");
        char js[4096];
        (void)snprintf(js, sizeof(js), "%s/tests/server/fake-openai.mjs", src ? src : ".");
        if (!have_node() || access(js, R_OK) != 0) {
                print_message("no node or no %s: skipped\n", js);
                skip();
        }
        server_stop();
        srv.script = write_tmp("script.json", script);
        assert_true(asprintf(&srv.log, "%s/log-%d.jsonl", tmpdir, rand()) > 0);
        const char *argv[32] = {"node",   js,  "--script", srv.script,
                                "--port", "0", "--log",    srv.log};
        size_t argc = 8;
        for (size_t i = 0; extra && extra[i] && argc < 30; i++)
                argv[argc++] = extra[i];
        int fds[2];
        assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (dup2(fds[1], 1) < 0)
                        _exit(127);
                execvp("node", (char *const *)argv);
                _exit(127);
        }
        close(fds[1]);
        srv.pid = pid;
        char line[256] = "";
        size_t len = 0;
        for (int i = 0; i < 100 && !memchr(line, '\n', len); i++) {
                struct pollfd p = {.fd = fds[0], .events = POLLIN};
                if (poll(&p, 1, 100) <= 0)
                        continue;
                ssize_t n = read(fds[0], line + len, sizeof(line) - 1 - len);
                if (n <= 0)
                        break;
                len += (size_t)n;
                line[len] = '\0';
        }
        close(fds[0]);
        if (sscanf(line, "listening %d", &srv.port) != 1)
                fail_msg("fake server did not start: '%s'", line);
}

static bridle__model *model(const char *provider, const char *key, unsigned stall_ms)
{
        char base[128];
        (void)snprintf(base, sizeof(base), "http://127.0.0.1:%d/v1", srv.port);
        bridle__model_cfg cfg = {
                .provider = provider,
                .model = "gpt-5.1",
                .base_url = base,
                .api_key = key,
                .backoff_ms = 1,
                .stall_ms = stall_ms,
        };
        bridle__model *m = NULL;
        bridle_error err = {0};
        if (bridle__model_new(&cfg, &m, &err) < 0)
                fail_msg("model_new: %s", err.msg);
        return m;
}

static json_t *user_input(void)
{
        return J("[{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
                 "\"text\":\"hi\"}]}]");
}

static int call(bridle__model *m, struct rec *r, bridle__model_resp *resp, bridle_error *err,
                unsigned *budget)
{
        json_t *input = user_input();
        json_t *tools = J("[{\"type\":\"function\",\"name\":\"read_file\",\"parameters\":{"
                          "\"type\":\"object\"}}]");
        bridle__model_req req = {.instructions = "be brief",
                                 .input = input,
                                 .tools = tools,
                                 .run_retries_left = budget};
        bridle__model_events ev = events(r);
        memset(err, 0, sizeof(*err));
        int rc = bridle__model_call(m, &req, &ev, resp, err);
        json_decref(input);
        json_decref(tools);
        if (rc < 0)
                assert_null(strstr(err->msg, KEY));
        return rc;
}

/* The server's log: one JSON object per request. */
static json_t *read_log(void)
{
        json_t *all = json_array();
        FILE *f = fopen(srv.log, "re");
        if (!f)
                return all;
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0)
                json_array_append_new(all, J(line));
        free(line);
        fclose(f);
        return all;
}

static const char two_items[] =
        "[{\"items\":[{\"type\":\"message\",\"content\":\"Hello, world\"},"
        "{\"type\":\"function_call\",\"name\":\"read_file\",\"arguments\":{\"path\":\"a\"}},"
        "{\"type\":\"function_call\",\"name\":\"ls\",\"arguments\":{}},"
        "{\"type\":\"mystery_item\",\"payload\":[1,{\"x\":true}]}],"
        "\"usage\":{\"input_tokens\":40,\"cached_tokens\":16,\"output_tokens\":12,"
        "\"reasoning_tokens\":5}}]";

static void check_two_items(const char *provider)
{
        static const char *const chunk[] = {"--chunk", "3", NULL};
        server_start(two_items, chunk);
        bridle__model *m = model(provider, KEY, 0);
        struct rec r;
        bridle__model_resp resp;
        bridle_error err;
        if (call(m, &r, &resp, &err, NULL) < 0)
                fail_msg("%s", err.msg);
        bool chat = strcmp(provider, "openai-chat") == 0;
        assert_int_equal(r.tlen, 12);
        assert_memory_equal(r.text, "Hello, world", 12);
        assert_true(r.deltas >= 4); /* chunks of 3 bytes */
        size_t n = json_array_size(resp.output);
        assert_int_equal(n, chat ? 3 : 4);
        assert_int_equal(r.items, (int)n);
        json_t *msg = json_array_get(resp.output, 0);
        assert_string_equal(json_string_value(json_object_get(msg, "type")), "message");
        assert_string_equal(json_string_value(json_object_get(
                                    json_array_get(json_object_get(msg, "content"), 0), "text")),
                            "Hello, world");
        for (size_t i = 1; i <= 2; i++) {
                json_t *fc = json_array_get(resp.output, i);
                assert_string_equal(json_string_value(json_object_get(fc, "type")),
                                    "function_call");
                assert_non_null(json_string_value(json_object_get(fc, "call_id")));
                json_t *args = J(json_string_value(json_object_get(fc, "arguments")));
                json_t *want = J(i == 1 ? "{\"path\":\"a\"}" : "{}");
                assert_true(json_equal(args, want));
                json_decref(args);
                json_decref(want);
        }
        assert_string_equal(
                json_string_value(json_object_get(json_array_get(resp.output, 1), "name")),
                "read_file");
        assert_string_equal(
                json_string_value(json_object_get(json_array_get(resp.output, 2), "name")), "ls");
        if (!chat) {
                json_t *want = J("{\"type\":\"mystery_item\",\"payload\":[1,{\"x\":true}]}");
                assert_true(json_equal(json_array_get(resp.output, 3), want));
                json_decref(want);
        }
        assert_int_equal(resp.usage.input_tokens, 40);
        assert_int_equal(resp.usage.cached_tokens, 16);
        assert_int_equal(resp.usage.output_tokens, 12);
        assert_int_equal(resp.usage.reasoning_tokens, 5);
        assert_int_equal(resp.retries, 0);
        assert_non_null(resp.response_id);
        bridle__model_resp_clear(&resp);

        /* what went on the wire */
        json_t *log = read_log();
        assert_int_equal(json_array_size(log), 1);
        json_t *req = json_array_get(log, 0);
        json_t *body = json_object_get(req, "body");
        assert_string_equal(json_string_value(json_object_get(req, "path")),
                            chat ? "/v1/chat/completions" : "/v1/responses");
        assert_string_equal(json_string_value(json_object_get(body, "model")), "gpt-5.1");
        assert_true(json_is_true(json_object_get(body, "stream")));
        if (chat)
                assert_string_equal(
                        json_string_value(json_object_get(
                                json_array_get(json_object_get(body, "messages"), 0), "content")),
                        "be brief");
        else
                assert_true(json_is_false(json_object_get(body, "store")));
        json_decref(log);
        bridle__model_free(m);
}

static void test_server_responses(void **state)
{
        (void)state;
        check_two_items("openai-responses");
}

static void test_server_chat(void **state)
{
        (void)state;
        check_two_items("openai-chat");
}

/* Each retried fault, for both providers: one retry, then the answer. */
static void test_server_retried(void **state)
{
        (void)state;
        static const struct {
                const char *fault, *cls;
        } faults[] = {
                {"\"429\"", "rate_limit"},     {"\"500\"", "server"},
                {"\"503\"", "server"},         {"\"reset\"", "network"},
                {"\"truncate\"", "truncated"}, {"{\"type\":\"stall\",\"ms\":3000}", "stall"},
        };
        static const char *const providers[] = {"openai-responses", "openai-chat"};
        for (size_t p = 0; p < 2; p++)
                for (size_t i = 0; i < ELEMENTSOF(faults); i++) {
                        char script[512];
                        (void)snprintf(script, sizeof(script),
                                       "[{\"faults\":[%s],\"items\":[{\"type\":\"message\","
                                       "\"content\":\"after\"}]}]",
                                       faults[i].fault);
                        server_start(script, NULL);
                        bridle__model *m = model(providers[p], KEY, 300);
                        struct rec r;
                        bridle__model_resp resp;
                        bridle_error err;
                        if (call(m, &r, &resp, &err, NULL) < 0)
                                fail_msg("%s %s: %s", providers[p], faults[i].fault, err.msg);
                        if (resp.retries != 1 || strcmp(r.classes, faults[i].cls) != 0)
                                fail_msg("%s %s: %u retries, classes '%s'", providers[p],
                                         faults[i].fault, resp.retries, r.classes);
                        assert_int_equal(r.retries, 1);
                        assert_int_equal(json_array_size(resp.output), 1);
                        /* text streamed by the cut attempt, then the whole answer */
                        assert_true(r.tlen >= 5);
                        assert_memory_equal(r.text + r.tlen - 5, "after", 5);
                        bridle__model_resp_clear(&resp);
                        bridle__model_free(m);
                        json_t *log = read_log();
                        assert_int_equal(json_array_size(log), 2);
                        json_decref(log);
                }
}

/* Failures that are not retried: the class, the message, one request. */
static void test_server_fatal(void **state)
{
        (void)state;
        static const struct {
                const char *provider, *fault, *cls, *msg;
        } cases[] = {
                {"openai-responses", "\"malformed\"", "protocol", "malformed event"},
                {"openai-chat", "\"malformed\"", "protocol", "malformed chunk"},
                {"openai-responses", "\"400\"", "bad_request", ": 400 bad request"},
                {"openai-chat", "\"400\"", "bad_request", ": 400 bad request"},
                {"openai-responses", "\"404\"", "not_found", ": 404 not found"},
                {"openai-responses", "{\"type\":\"failed\",\"code\":\"server_error\"}", "server",
                 "response failed"},
                {"openai-responses", "{\"type\":\"failed\",\"code\":\"invalid_prompt\"}", "refused",
                 "invalid_prompt"},
                {"openai-responses", "\"error\"", NULL, "error event"},
                {"openai-chat", "\"failed\"", NULL, "error event"},
                {"openai-responses", "{\"type\":\"429\",\"code\":\"insufficient_quota\"}",
                 "rate_limit", "429 too many requests"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char script[512];
                (void)snprintf(script, sizeof(script),
                               "[{\"faults\":[%s],\"items\":[{\"type\":\"message\",\"content\":"
                               "\"x\"}]}]",
                               cases[i].fault);
                server_start(script, NULL);
                bridle__model *m = model(cases[i].provider, KEY, 0);
                struct rec r;
                bridle__model_resp resp;
                bridle_error err;
                assert_int_equal(call(m, &r, &resp, &err, NULL), BRIDLE_E_MODEL);
                assert_int_equal(err.code, BRIDLE_E_MODEL);
                char prefix[256];
                bool chat = strcmp(cases[i].provider, "openai-chat") == 0;
                (void)snprintf(prefix, sizeof(prefix),
                               "%s: POST http://127.0.0.1:%d/v1/%s: ", cases[i].provider, srv.port,
                               chat ? "chat/completions" : "responses");
                if (strncmp(err.msg, prefix, strlen(prefix)) != 0 ||
                    !strstr(err.msg, cases[i].msg) ||
                    (cases[i].cls && strcmp(resp.error_class, cases[i].cls) != 0))
                        fail_msg("case %zu: [%s] %s", i, resp.error_class, err.msg);
                assert_int_equal(resp.retries, 0);
                assert_int_equal(r.retries, 0);
                assert_null(strstr(err.msg, "after"));
                assert_null(resp.output);
                bridle__model_resp_clear(&resp);
                bridle__model_free(m);
                json_t *log = read_log();
                assert_int_equal(json_array_size(log), 1);
                json_decref(log);
        }
}

/* max_retries per call and the run's budget. */
static void test_server_budget(void **state)
{
        (void)state;
        server_start("[{\"faults\":[\"500\",\"500\",\"500\",\"500\",\"500\",\"500\",\"500\"],"
                     "\"items\":[{\"type\":\"message\",\"content\":\"ok\"}]}]",
                     NULL);
        char base[128];
        (void)snprintf(base, sizeof(base), "http://127.0.0.1:%d/v1", srv.port);
        bridle__model_cfg cfg = {.provider = "openai-responses",
                                 .model = "gpt-5",
                                 .base_url = base,
                                 .backoff_ms = 1,
                                 .max_retries = 2};
        bridle__model *m = NULL;
        bridle_error err;
        assert_int_equal(bridle__model_new(&cfg, &m, &err), 0);
        struct rec r;
        bridle__model_resp resp;
        /* 3 requests: the first and 2 retries */
        assert_int_equal(call(m, &r, &resp, &err, NULL), BRIDLE_E_MODEL);
        assert_string_equal(resp.error_class, "server");
        assert_int_equal(resp.retries, 2);
        assert_int_equal(r.retries, 2);
        assert_string_equal(r.classes, "server,server");
        char want[256];
        (void)snprintf(want, sizeof(want),
                       "openai-responses: POST http://127.0.0.1:%d/v1/responses: 500 internal "
                       "server error",
                       srv.port);
        assert_true(strncmp(err.msg, want, strlen(want)) == 0);
        assert_non_null(strstr(err.msg, "(after 2 retries)"));
        bridle__model_resp_clear(&resp);
        m = bridle__model_free(m);
        /* the run's budget stops first: 2 requests */
        cfg.max_retries = 4;
        assert_int_equal(bridle__model_new(&cfg, &m, &err), 0);
        unsigned budget = 1;
        assert_int_equal(call(m, &r, &resp, &err, &budget), BRIDLE_E_MODEL);
        assert_int_equal(budget, 0);
        assert_int_equal(resp.retries, 1);
        assert_non_null(strstr(err.msg, "(after 1 retry)"));
        bridle__model_resp_clear(&resp);
        /* an empty budget: no retry at all (1 request) */
        assert_int_equal(call(m, &r, &resp, &err, &budget), BRIDLE_E_MODEL);
        assert_int_equal(resp.retries, 0);
        assert_null(strstr(err.msg, "after"));
        bridle__model_resp_clear(&resp);
        /* one fault left: with budget, the retry succeeds */
        budget = 5;
        assert_int_equal(call(m, &r, &resp, &err, &budget), 0);
        assert_int_equal(resp.retries, 1);
        assert_int_equal(budget, 4);
        bridle__model_resp_clear(&resp);
        bridle__model_free(m);
        json_t *log = read_log();
        assert_int_equal(json_array_size(log), 3 + 2 + 1 + 2);
        json_decref(log);
}

/* Retry-After is honoured: the delay reported is the server's. */
static void test_server_retry_after(void **state)
{
        (void)state;
        server_start("[{\"faults\":[{\"type\":\"429\",\"retry_after\":\"1\"},"
                     "{\"type\":\"503\",\"retry_after_ms\":\"20\"}],"
                     "\"items\":[{\"type\":\"message\",\"content\":\"ok\"}]}]",
                     NULL);
        bridle__model *m = model("openai-responses", NULL, 0);
        struct rec r;
        bridle__model_resp resp;
        bridle_error err;
        bridle__model_events ev = events(&r);
        json_t *input = user_input();
        bridle__model_req req = {.input = input};
        assert_int_equal(bridle__model_call(m, &req, &ev, &resp, &err), 0);
        assert_int_equal(resp.retries, 2);
        assert_string_equal(r.classes, "rate_limit,server");
        assert_int_equal(r.last_delay, 20);
        bridle__model_resp_clear(&resp);
        json_decref(input);
        bridle__model_free(m);
}

/* The key travels only in the Authorization header, and never into a message. */
static void test_server_key(void **state)
{
        (void)state;
        static const char *const args[] = {"--require-key", KEY, NULL};
        server_start("[{\"faults\":[\"500\",\"400\"],\"items\":[{\"type\":\"message\",\"content\":"
                     "\"ok\"}]},[{\"type\":\"message\",\"content\":\"ok\"}]]",
                     args);
        bridle__model *m = model("openai-responses", KEY, 0);
        struct rec r;
        bridle__model_resp resp;
        bridle_error err;
        assert_int_equal(call(m, &r, &resp, &err, NULL), BRIDLE_E_MODEL); /* 500, then 400 */
        assert_string_equal(resp.error_class, "bad_request");
        assert_null(strstr(err.msg, KEY));
        bridle__model_resp_clear(&resp);
        assert_int_equal(call(m, &r, &resp, &err, NULL), 0);
        bridle__model_resp_clear(&resp);
        bridle__model_free(m);
        /* a wrong key: auth, not retried, and not in the message */
        m = model("openai-chat", "sk-canary-wrong-0123456789", 0);
        assert_int_equal(call(m, &r, &resp, &err, NULL), BRIDLE_E_MODEL);
        assert_string_equal(resp.error_class, "auth");
        assert_int_equal(resp.retries, 0);
        assert_null(strstr(err.msg, "sk-canary"));
        assert_non_null(strstr(err.msg, "401 unauthorized"));
        bridle__model_resp_clear(&resp);
        bridle__model_free(m);

        json_t *log = read_log();
        assert_int_equal(json_array_size(log), 4);
        size_t i;
        json_t *entry;
        json_array_foreach(log, i, entry)
        {
                json_t *h = json_object_get(entry, "headers");
                const char *auth = json_string_value(json_object_get(h, "authorization"));
                assert_non_null(auth);
                if (i < 3)
                        assert_string_equal(auth, "Bearer " KEY);
                json_object_del(h, "authorization");
                char *rest = json_dumps(entry, 0);
                assert_null(strstr(rest, "sk-canary"));
                free(rest);
        }
        json_decref(log);
}

/* Nothing listens: network errors, retried, then failed with the URL. */
static void test_connect_refused(void **state)
{
        (void)state;
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s >= 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof(a);
        assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
        close(s); /* bound, never listened: connections are refused */
        char base[128];
        (void)snprintf(base, sizeof(base), "http://user:pw@127.0.0.1:%d/v1/?q=1",
                       ntohs(a.sin_port));
        bridle__model_cfg cfg = {.provider = "openai-chat",
                                 .model = "gpt-4o",
                                 .base_url = base,
                                 .api_key = KEY,
                                 .backoff_ms = 1,
                                 .max_retries = 3};
        bridle__model *m = NULL;
        bridle_error err;
        assert_int_equal(bridle__model_new(&cfg, &m, &err), 0);
        struct rec r;
        bridle__model_resp resp;
        assert_int_equal(call(m, &r, &resp, &err, NULL), BRIDLE_E_MODEL);
        assert_string_equal(resp.error_class, "network");
        assert_int_equal(resp.retries, 3);
        assert_string_equal(r.classes, "network,network,network");
        char want[128];
        (void)snprintf(want, sizeof(want), "openai-chat: POST http://127.0.0.1:%d/v1/",
                       ntohs(a.sin_port));
        if (strncmp(err.msg, want, strlen(want)) != 0)
                fail_msg("%s", err.msg);
        assert_null(strstr(err.msg, "pw"));
        bridle__model_resp_clear(&resp);
        bridle__model_free(m);
}

/* Many calls on one model (one kept-alive connection), both providers. */
static void test_server_many(void **state)
{
        (void)state;
        static const char *const loop[] = {"--loop", NULL};
        server_start("[[{\"type\":\"message\",\"content\":\"a\"}],"
                     "[{\"type\":\"function_call\",\"name\":\"f\",\"arguments\":{\"n\":1}}]]",
                     loop);
        for (int p = 0; p < 2; p++) {
                bridle__model *m = model(p ? "openai-chat" : "openai-responses", KEY, 0);
                for (int i = 0; i < 100; i++) {
                        struct rec r;
                        bridle__model_resp resp;
                        bridle_error err;
                        if (call(m, &r, &resp, &err, NULL) < 0)
                                fail_msg("call %d: %s", i, err.msg);
                        assert_int_equal(json_array_size(resp.output), 1);
                        bridle__model_resp_clear(&resp);
                }
                bridle__model_free(m);
        }
}

static int group_setup(void **state)
{
        (void)state;
        tmpdir = bridle_test_tmpdir();
        signal(SIGPIPE, SIG_IGN);
        return tmpdir ? 0 : -1;
}

static int group_teardown(void **state)
{
        (void)state;
        server_stop();
        bridle_test_rmrf(tmpdir);
        free(tmpdir);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_responses_body),
                cmocka_unit_test(test_chat_body),
                cmocka_unit_test(test_responses_stream),
                cmocka_unit_test(test_responses_stream_errors),
                cmocka_unit_test(test_chat_stream),
                cmocka_unit_test(test_chat_stream_edges),
                cmocka_unit_test(test_stream_alloc_failures),
                cmocka_unit_test(test_script_load),
                cmocka_unit_test(test_script_errors),
                cmocka_unit_test(test_model_new_errors),
                cmocka_unit_test(test_prices),
                cmocka_unit_test(test_retry_after_parse),
                cmocka_unit_test_teardown(test_server_responses, teardown),
                cmocka_unit_test_teardown(test_server_chat, teardown),
                cmocka_unit_test_teardown(test_server_retried, teardown),
                cmocka_unit_test_teardown(test_server_fatal, teardown),
                cmocka_unit_test_teardown(test_server_budget, teardown),
                cmocka_unit_test_teardown(test_server_retry_after, teardown),
                cmocka_unit_test_teardown(test_server_key, teardown),
                cmocka_unit_test(test_connect_refused),
                cmocka_unit_test_teardown(test_server_many, teardown),
        };
        return cmocka_run_group_tests_name("model", tests, group_setup, group_teardown);
}
