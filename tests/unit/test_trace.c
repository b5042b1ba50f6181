/* SPDX-License-Identifier: MIT */
/*
 * Traces (src/trace/, docs/trace.md): spans from a fixed, realistic run's
 * events, asserted field by field (names, parents, times, attributes,
 * events, the cap, redaction); the summary; the text, JSON lines and HTML
 * renderers.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "trace/trace.h"

#define RUN  "0123456789abcdef0123456789abcdef"
#define T0   1700000000000LL
#define KEY  "tk-test-9f8e7d6c5b4a39281706"
#define OKEY "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zQ7"

/* One event of the fixture. */
static json_t *ev(int seq, long long dt, const char *type, json_t *data)
{
        json_t *e = json_pack("{s:s, s:i, s:I, s:s, s:o}", "run_id", RUN, "seq", seq, "ts", (json_int_t)(T0 + dt),
                              "type", type, "data", data);
        assert_non_null(e);
        return e;
}

static json_t *call(const char *id, const char *name, const char *args)
{
        return json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "function_call", "id", "fc", "call_id", id, "name",
                         name, "arguments", args);
}

static char *long_args(void)
{
        size_t n = 10000;
        char *s = malloc(n + 64);
        assert_non_null(s);
        int k = snprintf(s, 64, "{\"path\":\"big.txt\",\"content\":\"");
        memset(s + k, 'x', n);
        strcpy(s + k + n, "\"}");
        return s;
}

/* A run: approval, a retry, a checkpoint, two tools (one fails), a handoff,
 * completed. The first tool's output holds the API key (its env variable
 * set by the test), an OpenAI-shaped key, an escape sequence and HTML. */
static json_t *fixture(void)
{
        char *big = long_args();
        json_t *agents = json_pack(
                "{s:s, s:{s:{s:s, s:s, s:s, s:s, s:s, s:[s,s]}, s:{s:s, s:s, s:s, s:s}}}", "entry", "coder", "agents",
                "coder", "name", "coder", "model", "gpt-4o-mini", "provider", "openai-responses", "api_key_env",
                "BRIDLE_TRACE_TEST_KEY", "instructions", "Fix it.", "tools", "exec_command", "write_file", "reviewer",
                "name", "reviewer", "model", "gpt-5-mini", "provider", "openai-chat", "api_key_env",
                "BRIDLE_TRACE_TEST_KEY");
        char out1[512];
        (void)snprintf(out1, sizeof(out1),
                       "ran tests\nkey=%s\nother=%s\n\x1b[31mred\x1b[0m <script>alert(1)</script><img src=x "
                       "onerror=alert(2)>",
                       KEY, OKEY);
        json_t *e = json_pack("[o,o,o,o,o,o,o,o,o,o,o,o,o,o,o,o,o,o,o,o,o,o,o,o,o]",
                ev(1, 0, "run.started",
                   json_pack("{s:s, s:s, s:s, s:o, s:{s:i}, s:{s:s}, s:{s:s}}", "task", "fix the bug", "agent",
                             "coder", "agent_file", "/a/coder.yaml", "agents", agents, "options", "max_turns", 10,
                             "policy", "default", "ask", "manifests", "/a/m.yaml", "abc")),
                ev(2, 10, "sandbox.created", json_pack("{s:s, s:s}", "sandbox_id", "sb1", "manifest", "/a/m.yaml")),
                ev(3, 20, "model.request",
                   json_pack("{s:i, s:s, s:s, s:i}", "turn", 0, "agent", "coder", "model", "gpt-4o-mini", "items", 1)),
                ev(4, 120, "model.retry",
                   json_pack("{s:i, s:i, s:s, s:s, s:i}", "turn", 0, "attempt", 1, "class", "rate_limit", "message",
                             "HTTP 429", "delay_ms", 100)),
                ev(5, 400, "model.response",
                   json_pack("{s:i, s:s, s:s, s:[o,o], s:{s:i, s:i, s:i, s:i}, s:f, s:i}", "turn", 0, "agent",
                             "coder", "response_id", "resp_1", "output",
                             call("c1", "exec_command", "{\"cmd\":\"make test\"}"),
                             call("c2", "write_file", big), "usage", "input_tokens", 1000, "cached_tokens", 200,
                             "output_tokens", 50, "reasoning_tokens", 10, "cost_usd", 0.0002, "retries", 1)),
                ev(6, 410, "gateway.decision",
                   json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "call_id", "c1", "name", "exec_command", "decision",
                             "allow", "rule", "commands[0] prefix [make]", "reason", "", "command", "make test")),
                ev(7, 411, "gateway.decision",
                   json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "call_id", "c2", "name", "write_file", "decision",
                             "ask", "rule", "tools.write_file", "reason", "writes need a person", "command", "")),
                ev(8, 412, "approval.requested",
                   json_pack("{s:s, s:s, s:s, s:s, s:s}", "call_id", "c2", "name", "write_file", "arguments", big,
                             "rule", "tools.write_file", "reason", "writes need a person")),
                ev(9, 413, "run.status",
                   json_pack("{s:s, s:s}", "status", "awaiting_approval", "reason", "1 call waits for approval")),
                ev(10, 5000, "approval.given",
                   json_pack("{s:s, s:s, s:b, s:s}", "call_id", "c2", "decision", "approve", "always", 0, "by", "cli")),
                ev(11, 5001, "run.resumed", json_pack("{s:i}", "attempt", 2)),
                ev(12, 5100, "checkpoint",
                   json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i}", "snapshot_id", "snap1", "sandbox_id", "sb1",
                             "reason", "before_call", "call_id", "c1", "calls", 0, "ms", 40, "bytes", 1234)),
                ev(13, 5100, "tool.started",
                   json_pack("{s:i, s:s, s:s, s:s, s:b}", "turn", 0, "call_id", "c1", "name", "exec_command",
                             "arguments", "{\"cmd\":\"make test\"}", "writes", 1)),
                ev(14, 5350, "tool.finished",
                   json_pack("{s:i, s:s, s:s, s:b, s:{s:s, s:s, s:s}, s:i}", "turn", 0, "call_id", "c1", "name",
                             "exec_command", "ok", 1, "output_item", "type", "function_call_output", "call_id", "c1",
                             "output", out1, "duration_ms", 250)),
                ev(15, 5360, "tool.started",
                   json_pack("{s:i, s:s, s:s, s:s, s:b}", "turn", 0, "call_id", "c2", "name", "write_file",
                             "arguments", big, "writes", 1)),
                ev(16, 5380, "tool.finished",
                   json_pack("{s:i, s:s, s:s, s:b, s:{s:s, s:s, s:s}, s:i}", "turn", 0, "call_id", "c2", "name",
                             "write_file", "ok", 0, "output_item", "type", "function_call_output", "call_id", "c2",
                             "output", "disk full\nnothing written", "duration_ms", 20)),
                ev(17, 5400, "model.request",
                   json_pack("{s:i, s:s, s:s, s:i}", "turn", 1, "agent", "coder", "model", "gpt-4o-mini", "items", 5)),
                ev(18, 5600, "model.response",
                   json_pack("{s:i, s:s, s:s, s:[o], s:{s:i, s:i}, s:f, s:i}", "turn", 1, "agent", "coder",
                             "response_id", "resp_2", "output", call("c3", "transfer_to_reviewer", "{}"), "usage",
                             "input_tokens", 500, "output_tokens", 20, "cost_usd", 0.0001, "retries", 0)),
                ev(19, 5610, "tool.started",
                   json_pack("{s:i, s:s, s:s, s:s, s:b}", "turn", 1, "call_id", "c3", "name", "transfer_to_reviewer",
                             "arguments", "{}", "writes", 0)),
                ev(20, 5611, "tool.finished",
                   json_pack("{s:i, s:s, s:s, s:b, s:{s:s, s:s}, s:i}", "turn", 1, "call_id", "c3", "name",
                             "transfer_to_reviewer", "ok", 1, "output_item", "call_id", "c3", "output",
                             "{\"assistant\":\"reviewer\"}", "duration_ms", 0)),
                ev(21, 5612, "handoff", json_pack("{s:s, s:s, s:s}", "from", "coder", "to", "reviewer", "call_id", "c3")),
                ev(22, 5700, "model.request",
                   json_pack("{s:i, s:s, s:s, s:i}", "turn", 2, "agent", "reviewer", "model", "gpt-5-mini", "items",
                             9)),
                ev(23, 5900, "model.response",
                   json_pack("{s:i, s:s, s:s, s:[{s:s, s:s, s:[{s:s, s:s}]}], s:{s:i, s:i}, s:f, s:i}", "turn", 2,
                             "agent", "reviewer", "response_id", "resp_3", "output", "type", "message", "role",
                             "assistant", "content", "type", "output_text", "text", "All good", "usage",
                             "input_tokens", 700, "output_tokens", 30, "cost_usd", 0.00003, "retries", 0)),
                ev(24, 5910, "run.status", json_pack("{s:s, s:s}", "status", "completed", "final_output", "All good")),
                ev(25, 6000, "sandbox.destroyed", json_pack("{s:s}", "sandbox_id", "sb1")));
        free(big);
        assert_non_null(e);
        return e;
}

/* ---- lookups over the spans ---------------------------------------------------------- */

static const json_t *span(const json_t *spans, const char *name)
{
        size_t i;
        const json_t *s;
        json_array_foreach(spans, i, s) if (!strcmp(json_string_value(json_object_get(s, "name")), name)) return s;
        fail_msg("no span '%s'", name);
        return NULL;
}

static const json_t *child(const json_t *spans, const json_t *parent, const char *name)
{
        size_t i;
        const json_t *s;
        const char *pid = json_string_value(json_object_get(parent, "span_id"));
        json_array_foreach(spans, i, s)
        {
                const char *p = json_string_value(json_object_get(s, "parent_span_id"));
                if (p && !strcmp(p, pid) && !strcmp(json_string_value(json_object_get(s, "name")), name))
                        return s;
        }
        return NULL;
}

static const char *sattr(const json_t *s, const char *k)
{
        return json_string_value(json_object_get(json_object_get(s, "attributes"), k));
}

static long long iattr(const json_t *s, const char *k)
{
        const json_t *v = json_object_get(json_object_get(s, "attributes"), k);
        assert_true(json_is_integer(v));
        return (long long)json_integer_value(v);
}

static long long num(const json_t *s, const char *k)
{
        return (long long)json_integer_value(json_object_get(s, k));
}

static bool is_parent(const json_t *p, const json_t *c)
{
        const char *a = json_string_value(json_object_get(p, "span_id"));
        const char *b = json_string_value(json_object_get(c, "parent_span_id"));
        return a && b && !strcmp(a, b);
}

static json_t *build(size_t cap)
{
        json_t *events = fixture();
        json_t *spans = NULL;
        bridle_error err = {0};
        int r = bridle__trace_build(events, cap, &spans, &err);
        json_decref(events);
        if (r < 0)
                fail_msg("build: %s", err.msg);
        return spans;
}

static int setup(void **state)
{
        (void)state;
        return setenv("BRIDLE_TRACE_TEST_KEY", KEY, 1);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_tree(void **state)
{
        (void)state;
        json_t *spans = build(256);
        /* run, 2 agents, sandbox, 3 turns, 3 chats, 3 tools, 2 gateways, approval, 2 execs, checkpoint, handoff */
        assert_int_equal(json_array_size(spans), 20);
        const json_t *run = span(spans, "run");
        assert_null(json_object_get(run, "parent_span_id"));
        assert_string_equal(json_string_value(json_object_get(run, "trace_id")), RUN);
        assert_int_equal(num(run, "start_ms"), T0);
        assert_int_equal(num(run, "end_ms"), T0 + 6000);
        assert_string_equal(json_string_value(json_object_get(run, "status")), "ok");
        assert_string_equal(sattr(run, "bridle.run.status"), "completed");
        assert_string_equal(sattr(run, "bridle.task"), "fix the bug");
        assert_string_equal(sattr(run, "bridle.final_output"), "All good");
        assert_int_equal(iattr(run, "gen_ai.usage.input_tokens"), 2200);
        assert_int_equal(iattr(run, "gen_ai.usage.output_tokens"), 100);
        assert_int_equal(iattr(run, "bridle.turns"), 3);
        assert_int_equal(json_array_size(json_object_get(run, "events")), 3); /* 2 status, resumed */
        /* sorted by start; the first span is the run */
        assert_ptr_equal(json_array_get(spans, 0), run);

        const json_t *coder = span(spans, "agent coder"), *rev = span(spans, "agent reviewer");
        assert_true(is_parent(run, coder) && is_parent(run, rev));
        assert_int_equal(num(coder, "end_ms"), T0 + 5612);
        assert_int_equal(num(rev, "start_ms"), T0 + 5612);
        assert_int_equal(num(rev, "end_ms"), T0 + 6000);
        assert_string_equal(sattr(rev, "gen_ai.request.model"), "gpt-5-mini");
        assert_string_equal(sattr(rev, "gen_ai.system"), "openai");

        const json_t *t1 = span(spans, "turn 1");
        assert_true(is_parent(coder, t1));
        assert_int_equal(num(t1, "start_ms"), T0 + 20);
        const json_t *chat = child(spans, t1, "chat gpt-4o-mini");
        assert_non_null(chat);
        assert_string_equal(json_string_value(json_object_get(chat, "kind")), "client");
        assert_int_equal(num(chat, "start_ms"), T0 + 20);
        assert_int_equal(num(chat, "end_ms"), T0 + 400);
        assert_string_equal(sattr(chat, "gen_ai.operation.name"), "chat");
        assert_string_equal(sattr(chat, "gen_ai.system"), "openai");
        assert_string_equal(sattr(chat, "gen_ai.response.id"), "resp_1");
        assert_int_equal(iattr(chat, "gen_ai.usage.input_tokens"), 1000);
        assert_int_equal(iattr(chat, "gen_ai.usage.output_tokens"), 50);
        assert_int_equal(iattr(chat, "bridle.usage.cached_tokens"), 200);
        const json_t *evs = json_object_get(chat, "events");
        assert_int_equal(json_array_size(evs), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(evs, 0), "name")), "retry");
        assert_int_equal(num(json_array_get(evs, 0), "time_ms"), T0 + 120);
        assert_string_equal(sattr(json_array_get(evs, 0), "class"), "rate_limit");
        const json_t *calls = json_object_get(json_object_get(chat, "attributes"), "bridle.response.calls");
        assert_int_equal(json_array_size(calls), 2);
        assert_string_equal(json_string_value(json_array_get(calls, 1)), "write_file");

        const json_t *chat3 = span(spans, "chat gpt-5-mini");
        assert_true(is_parent(span(spans, "turn 3"), chat3));
        assert_true(is_parent(rev, span(spans, "turn 3")));
        assert_string_equal(sattr(chat3, "bridle.response.text"), "All good");
        json_decref(spans);
}

static void test_tools(void **state)
{
        (void)state;
        json_t *spans = build(256);
        const json_t *coder = span(spans, "agent coder");
        const json_t *ex = span(spans, "tool exec_command");
        assert_true(is_parent(coder, ex));
        assert_int_equal(num(ex, "start_ms"), T0 + 410); /* from its gateway decision */
        assert_int_equal(num(ex, "end_ms"), T0 + 5350);
        assert_string_equal(sattr(ex, "gen_ai.tool.name"), "exec_command");
        assert_string_equal(sattr(ex, "gen_ai.tool.call.id"), "c1");
        assert_string_equal(sattr(ex, "gen_ai.operation.name"), "execute_tool");
        assert_string_equal(sattr(ex, "bridle.tool.arguments"), "{\"cmd\":\"make test\"}");
        assert_string_equal(sattr(ex, "bridle.decision"), "allow");
        assert_string_equal(json_string_value(json_object_get(ex, "status")), "ok");
        const json_t *gw = child(spans, ex, "gateway");
        assert_non_null(gw);
        assert_string_equal(sattr(gw, "bridle.decision"), "allow");
        assert_string_equal(sattr(gw, "bridle.rule"), "commands[0] prefix [make]");
        assert_int_equal(num(gw, "start_ms"), num(gw, "end_ms"));
        const json_t *x = child(spans, ex, "sandbox exec");
        assert_non_null(x);
        assert_int_equal(num(x, "start_ms"), T0 + 5100);
        assert_int_equal(num(x, "end_ms"), T0 + 5350);
        assert_string_equal(sattr(x, "bridle.sandbox.id"), "sb1");

        /* redaction: the known key and the OpenAI-shaped one are gone */
        const char *out = sattr(ex, "bridle.tool.output");
        assert_non_null(out);
        assert_null(strstr(out, KEY));
        assert_null(strstr(out, "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zQ7"));
        assert_non_null(strstr(out, "[REDACTED:"));
        assert_non_null(strstr(out, "ran tests"));

        const json_t *wf = span(spans, "tool write_file");
        assert_string_equal(json_string_value(json_object_get(wf, "status")), "error");
        assert_string_equal(json_string_value(json_object_get(wf, "status_message")), "disk full");
        /* the cap: 10 KiB of arguments cut to 256 bytes, and said */
        const char *args = sattr(wf, "bridle.tool.arguments");
        assert_int_equal(strlen(args), 256);
        assert_true(json_is_true(json_object_get(json_object_get(wf, "attributes"), "bridle.tool.arguments.truncated")));
        assert_null(json_object_get(json_object_get(wf, "attributes"), "bridle.tool.output.truncated"));
        const json_t *ap = child(spans, wf, "approval");
        assert_non_null(ap);
        assert_int_equal(num(ap, "start_ms"), T0 + 412);
        assert_int_equal(num(ap, "end_ms"), T0 + 5000);
        assert_string_equal(sattr(ap, "bridle.approval.decision"), "approve");
        assert_string_equal(sattr(ap, "bridle.approval.by"), "cli");
        assert_string_equal(sattr(ap, "bridle.rule"), "tools.write_file");
        assert_string_equal(sattr(child(spans, wf, "gateway"), "bridle.decision"), "ask");
        assert_string_equal(json_string_value(json_object_get(child(spans, wf, "sandbox exec"), "status")), "error");

        /* a handoff call runs in no sandbox */
        const json_t *tr = span(spans, "tool transfer_to_reviewer");
        assert_null(child(spans, tr, "sandbox exec"));
        const json_t *run = span(spans, "run");
        const json_t *h = span(spans, "handoff");
        assert_true(is_parent(run, h));
        assert_string_equal(sattr(h, "bridle.handoff.from"), "coder");
        assert_string_equal(sattr(h, "bridle.handoff.to"), "reviewer");
        const json_t *ck = span(spans, "checkpoint");
        assert_true(is_parent(run, ck));
        assert_int_equal(num(ck, "start_ms"), T0 + 5060);
        assert_int_equal(num(ck, "end_ms"), T0 + 5100);
        assert_string_equal(sattr(ck, "bridle.snapshot.id"), "snap1");
        assert_int_equal(iattr(ck, "bridle.checkpoint.bytes"), 1234);
        const json_t *sb = span(spans, "sandbox");
        assert_int_equal(num(sb, "start_ms"), T0 + 10);
        assert_int_equal(num(sb, "end_ms"), T0 + 6000);
        json_decref(spans);
}

static void test_ids(void **state)
{
        (void)state;
        json_t *a = build(0), *b = build(64);
        assert_int_equal(json_array_size(a), json_array_size(b));
        json_t *seen = json_object();
        size_t i;
        json_t *s;
        json_array_foreach(a, i, s)
        {
                const char *id = json_string_value(json_object_get(s, "span_id"));
                assert_int_equal(strlen(id), 16);
                assert_int_equal(strspn(id, "0123456789abcdef"), 16);
                assert_null(json_object_get(seen, id));
                json_object_set_new(seen, id, json_true());
                /* stable: the same ids from the same events */
                assert_string_equal(id, json_string_value(json_object_get(json_array_get(b, i), "span_id")));
                /* every parent is a span of the trace, ends are not before starts */
                const char *p = json_string_value(json_object_get(s, "parent_span_id"));
                assert_true(!p || json_object_get(seen, p));
                assert_true(num(s, "end_ms") >= num(s, "start_ms"));
        }
        /* the default cap keeps the 10 KiB arguments' first 4096 bytes */
        assert_int_equal(strlen(sattr(span(a, "tool write_file"), "bridle.tool.arguments")), BRIDLE__TRACE_ATTR_CAP);
        json_decref(seen);
        json_decref(a);
        json_decref(b);
}

static void test_summary(void **state)
{
        (void)state;
        json_t *events = fixture();
        json_t *spans = NULL;
        assert_int_equal(bridle__trace_build(events, 0, &spans, NULL), 0);
        json_t *s = bridle__trace_summary(events, spans);
        assert_non_null(s);
        assert_string_equal(json_string_value(json_object_get(s, "run_id")), RUN);
        assert_string_equal(json_string_value(json_object_get(s, "status")), "completed");
        assert_string_equal(json_string_value(json_object_get(s, "agent")), "coder");
        assert_string_equal(json_string_value(json_object_get(s, "final_output")), "All good");
        assert_int_equal(num(s, "turns"), 3);
        assert_int_equal(num(json_object_get(s, "tokens"), "input"), 2200);
        assert_int_equal(num(json_object_get(s, "tokens"), "output"), 100);
        assert_float_equal(json_number_value(json_object_get(s, "cost_usd")), 0.00033, 1e-12);
        assert_float_equal(json_number_value(json_object_get(s, "sandbox_seconds")), 5.99, 1e-9);
        const json_t *m = json_object_get(json_object_get(s, "models"), "gpt-4o-mini");
        assert_int_equal(num(m, "requests"), 2);
        assert_int_equal(num(m, "input_tokens"), 1500);
        assert_float_equal(json_number_value(json_object_get(m, "cost_usd")), 0.0003, 1e-12);
        assert_int_equal(num(json_object_get(json_object_get(s, "models"), "gpt-5-mini"), "requests"), 1);
        const json_t *tools = json_object_get(s, "tools");
        assert_int_equal(num(json_object_get(tools, "exec_command"), "calls"), 1);
        assert_int_equal(num(json_object_get(tools, "exec_command"), "failed"), 0);
        assert_int_equal(num(json_object_get(tools, "write_file"), "failed"), 1);
        assert_int_equal(num(json_object_get(tools, "write_file"), "denied"), 0);
        json_decref(s);
        json_decref(spans);
        json_decref(events);
}

/* Display columns of a line: code points (the fixture has no wide ones). */
static size_t cols(const char *s, size_t n)
{
        size_t c = 0;
        for (size_t i = 0; i < n; i++)
                c += ((unsigned char)s[i] & 0xC0) != 0x80;
        return c;
}

static void test_text(void **state)
{
        (void)state;
        json_t *events = fixture();
        json_t *spans = NULL;
        assert_int_equal(bridle__trace_build(events, 0, &spans, NULL), 0);
        json_t *sum = bridle__trace_summary(events, spans);
        char *text = NULL;
        assert_int_equal(bridle__trace_text(sum, spans, 80, &text, NULL), 0);
        size_t lines = 0;
        for (const char *p = text; *p; lines++) {
                const char *nl = strchr(p, '\n');
                assert_non_null(nl);
                size_t n = (size_t)(nl - p);
                if (cols(p, n) > 80)
                        fail_msg("line %zu is %zu columns: %.*s", lines + 1, cols(p, n), (int)n, p);
                for (size_t i = 0; i < n; i++)
                        assert_true((unsigned char)p[i] >= 0x20 && p[i] != 0x7f);
                p = nl + 1;
        }
        assert_true(lines > 20);
        assert_non_null(strstr(text, "tool exec_command ok"));
        assert_non_null(strstr(text, "tool write_file FAILED"));
        assert_non_null(strstr(text, "approval approve by cli"));
        assert_non_null(strstr(text, "handoff coder -> reviewer"));
        assert_non_null(strstr(text, "completed"));
        assert_null(strstr(text, KEY));
        free(text);
        /* narrower: still within the width */
        assert_int_equal(bridle__trace_text(sum, spans, 50, &text, NULL), 0);
        for (const char *p = text; *p;) {
                const char *nl = strchr(p, '\n');
                assert_true(cols(p, (size_t)(nl - p)) <= 50);
                p = nl + 1;
        }
        free(text);
        json_decref(sum);
        json_decref(spans);
        json_decref(events);
}

static void test_jsonl_html(void **state)
{
        (void)state;
        json_t *events = fixture();
        json_t *spans = NULL;
        assert_int_equal(bridle__trace_build(events, 0, &spans, NULL), 0);
        char *text = NULL;
        assert_int_equal(bridle__trace_jsonl(spans, &text, NULL), 0);
        size_t n = 0;
        for (char *p = text, *nl; (nl = strchr(p, '\n')); p = nl + 1, n++) {
                json_error_t e;
                json_t *s = json_loadb(p, (size_t)(nl - p), 0, &e);
                assert_non_null(s);
                assert_true(json_equal(s, json_array_get(spans, n)));
                json_decref(s);
        }
        assert_int_equal(n, json_array_size(spans));
        free(text);

        json_t *sum = bridle__trace_summary(events, spans);
        assert_int_equal(bridle__trace_html(sum, spans, &text, NULL), 0);
        assert_non_null(strstr(text, "<section id=\"summary\">"));
        assert_non_null(strstr(text, "<section id=\"timeline\">"));
        assert_non_null(strstr(text, "<table id=\"decisions\">"));
        assert_non_null(strstr(text, "Content-Security-Policy"));
        /* the tool output's markup is text, escaped */
        assert_null(strstr(text, "<script>alert"));
        assert_null(strstr(text, "<img src=x"));
        assert_non_null(strstr(text, "&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert_null(strstr(text, KEY));
        assert_null(strstr(text, "http://"));
        assert_null(strstr(text, "https://"));
        /* one row per span */
        size_t rows = 0;
        for (const char *p = text; (p = strstr(p, "<details class=\"row span")); p++)
                rows++;
        assert_int_equal(rows, json_array_size(spans));
        free(text);
        json_decref(sum);
        json_decref(spans);
        json_decref(events);
}

/* A run that failed: a model error, a guardrail, a call left in flight. */
static void test_failed_run(void **state)
{
        (void)state;
        json_t *events = json_pack(
                "[o,o,o,o,o,o,o]",
                ev(1, 0, "run.started", json_pack("{s:s, s:s}", "task", "t", "agent", "a")),
                ev(2, 5, "guardrail.tripped",
                   json_pack("{s:s, s:i, s:s, s:s}", "kind", "input", "index", 0, "type", "regex", "reason", "no")),
                ev(3, 10, "model.request", json_pack("{s:i, s:s, s:s, s:i}", "turn", 0, "agent", "a", "model", "m", "items", 1)),
                ev(4, 20, "model.response",
                   json_pack("{s:i, s:s, s:[o]}", "turn", 0, "agent", "a", "output", call("c1", "exec_command", "{}"))),
                ev(5, 30, "tool.started", json_pack("{s:s, s:s, s:s}", "call_id", "c1", "name", "exec_command", "arguments", "{}")),
                ev(6, 40, "model.request", json_pack("{s:i, s:s, s:s, s:i}", "turn", 1, "agent", "a", "model", "m", "items", 3)),
                ev(7, 90, "model.error", json_pack("{s:i, s:s, s:s}", "turn", 1, "class", "auth", "message", "bad key")));
        assert_non_null(events);
        json_array_append_new(events, ev(8, 95, "run.status",
                                         json_pack("{s:s, s:s, s:s}", "status", "failed", "reason", "auth: bad key",
                                                   "where", "model")));
        json_t *spans = NULL;
        assert_int_equal(bridle__trace_build(events, 0, &spans, NULL), 0);
        const json_t *run = span(spans, "run");
        assert_string_equal(json_string_value(json_object_get(run, "status")), "error");
        assert_string_equal(json_string_value(json_object_get(run, "status_message")), "auth: bad key");
        const json_t *g = span(spans, "guardrail");
        assert_true(is_parent(run, g));
        assert_string_equal(json_string_value(json_object_get(g, "status")), "error");
        assert_string_equal(sattr(g, "bridle.guardrail.type"), "regex");
        const json_t *chat = child(spans, span(spans, "turn 2"), "chat m");
        assert_non_null(chat);
        assert_string_equal(json_string_value(json_object_get(chat, "status")), "error");
        assert_int_equal(num(chat, "end_ms"), T0 + 90);
        const json_t *e = json_array_get(json_object_get(chat, "events"), 0);
        assert_string_equal(json_string_value(json_object_get(e, "name")), "exception");
        assert_string_equal(sattr(e, "exception.type"), "auth");
        const json_t *t = span(spans, "tool exec_command");
        assert_int_equal(num(t, "end_ms"), T0 + 95); /* open: ends at the last event */
        assert_true(json_is_true(json_object_get(json_object_get(t, "attributes"), "bridle.incomplete")));
        json_t *sum = bridle__trace_summary(events, spans);
        assert_string_equal(json_string_value(json_object_get(sum, "status")), "failed");
        assert_string_equal(json_string_value(json_object_get(sum, "where")), "model");
        assert_int_equal(num(json_object_get(json_object_get(sum, "tools"), "exec_command"), "calls"), 1);
        json_decref(sum);
        json_decref(spans);
        json_decref(events);
}

/* Durability: a call in doubt rerun in a replacement sandbox, a replay, egress, a rewind. */
static void test_durable(void **state)
{
        (void)state;
        json_t *events = json_pack(
                "[o,o,o,o,o,o,o,o,o,o,o]",
                ev(1, 0, "run.started", json_pack("{s:s, s:s}", "task", "t", "agent", "a")),
                ev(2, 100, "sandbox.created", json_pack("{s:s}", "sandbox_id", "sb1")),
                ev(3, 200, "tool.started",
                   json_pack("{s:s, s:s, s:s, s:b}", "call_id", "c1", "name", "exec_command", "arguments", "{}", "writes", 1)),
                ev(4, 1000, "run.resumed", json_pack("{s:i}", "attempt", 2)),
                ev(5, 1010, "tool.in_doubt",
                   json_pack("{s:s, s:s, s:s, s:s}", "call_id", "c1", "name", "exec_command", "resolution", "rerun",
                             "checkpoint", "snap1")),
                ev(6, 1100, "sandbox.created",
                   json_pack("{s:s, s:s, s:s, s:s}", "sandbox_id", "sb2", "replaces", "sb1", "reason", "in_doubt",
                             "restored_from", "snap1")),
                ev(7, 1200, "tool.started",
                   json_pack("{s:s, s:s, s:s, s:b}", "call_id", "c1", "name", "exec_command", "arguments", "{}", "writes", 1)),
                ev(8, 1300, "egress.connection",
                   json_pack("{s:s, s:s, s:i, s:b, s:i}", "method", "CONNECT", "host", "example.org", "port", 443,
                             "allowed", 0, "status", 403)),
                ev(9, 1400, "tool.finished",
                   json_pack("{s:s, s:s, s:b, s:{s:s}}", "call_id", "c1", "name", "exec_command", "ok", 1, "output_item",
                             "output", "done")),
                ev(10, 1500, "tool.replayed",
                   json_pack("{s:s, s:s, s:b, s:i}", "call_id", "c1", "name", "exec_command", "ok", 1, "duration_ms", 7)),
                ev(11, 1600, "run.rewound", json_pack("{s:s, s:i}", "checkpoint", "snap1", "to_seq", 2)));
        assert_non_null(events);
        json_t *spans = NULL;
        assert_int_equal(bridle__trace_build(events, 0, &spans, NULL), 0);
        const json_t *sb1 = NULL, *sb2 = NULL;
        size_t i;
        const json_t *s;
        json_array_foreach(spans, i, s) if (!strcmp(json_string_value(json_object_get(s, "name")), "sandbox"))
        {
                if (!strcmp(sattr(s, "bridle.sandbox.id"), "sb1"))
                        sb1 = s;
                else
                        sb2 = s;
        }
        assert_non_null(sb1);
        assert_non_null(sb2);
        assert_int_equal(num(sb1, "end_ms"), T0 + 1100);
        assert_string_equal(sattr(sb1, "bridle.sandbox.replaced_by"), "sb2");
        assert_string_equal(sattr(sb2, "bridle.sandbox.replaces"), "sb1");
        assert_string_equal(sattr(sb2, "bridle.snapshot.id"), "snap1");
        assert_int_equal(num(sb2, "end_ms"), T0 + 1600);
        const json_t *egress = json_array_get(json_object_get(sb2, "events"), 0);
        assert_string_equal(json_string_value(json_object_get(egress, "name")), "egress");
        assert_string_equal(sattr(egress, "host"), "example.org");
        const json_t *tool = span(spans, "tool exec_command");
        const json_t *tev = json_object_get(tool, "events");
        assert_int_equal(json_array_size(tev), 3);
        assert_string_equal(json_string_value(json_object_get(json_array_get(tev, 0), "name")), "in_doubt");
        assert_string_equal(sattr(json_array_get(tev, 0), "resolution"), "rerun");
        assert_string_equal(json_string_value(json_object_get(json_array_get(tev, 1), "name")), "restarted");
        assert_string_equal(json_string_value(json_object_get(json_array_get(tev, 2), "name")), "replayed");
        assert_int_equal(num(tool, "start_ms"), T0 + 200);
        assert_int_equal(num(tool, "end_ms"), T0 + 1400);
        size_t execs = 0, incomplete = 0;
        json_array_foreach(spans, i, s) if (is_parent(tool, s))
        {
                execs++;
                incomplete += json_is_true(json_object_get(json_object_get(s, "attributes"), "bridle.incomplete"));
        }
        assert_int_equal(execs, 2);
        assert_int_equal(incomplete, 1);
        const json_t *rev = json_object_get(span(spans, "run"), "events");
        assert_string_equal(json_string_value(json_object_get(json_array_get(rev, json_array_size(rev) - 1), "name")),
                            "rewound");
        json_t *sum = bridle__trace_summary(events, spans);
        assert_float_equal(json_number_value(json_object_get(sum, "sandbox_seconds")), 1.5, 1e-9);
        assert_string_equal(json_string_value(json_object_get(sum, "status")), "running");
        json_decref(sum);
        json_decref(spans);
        json_decref(events);
}

static void test_errors(void **state)
{
        (void)state;
        json_t *spans = NULL;
        bridle_error err = {0};
        json_t *empty = json_array();
        assert_int_equal(bridle__trace_build(empty, 0, &spans, &err), BRIDLE_E_INVALID);
        assert_non_null(strstr(err.msg, "no events"));
        json_array_append_new(empty, ev(1, 0, "model.request", json_object()));
        assert_int_equal(bridle__trace_build(empty, 0, &spans, &err), BRIDLE_E_INVALID);
        assert_non_null(strstr(err.msg, "run.started"));
        assert_null(spans);
        json_decref(empty);
        /* malformed events are skipped, not fatal */
        json_t *events = json_pack("[o, {s:s}, o]", ev(1, 0, "run.started", json_pack("{s:s, s:s}", "task", "t", "agent", "a")),
                                   "type", "tool.finished", ev(3, 5, "tool.finished", json_pack("{s:i}", "ok", 1)));
        assert_int_equal(bridle__trace_build(events, 0, &spans, &err), 0);
        assert_int_equal(json_array_size(spans), 2); /* run, agent a */
        json_decref(spans);
        json_decref(events);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tree),        cmocka_unit_test(test_tools),
                cmocka_unit_test(test_ids),         cmocka_unit_test(test_summary),
                cmocka_unit_test(test_text),        cmocka_unit_test(test_jsonl_html),
                cmocka_unit_test(test_failed_run),  cmocka_unit_test(test_durable),
                cmocka_unit_test(test_errors),
        };
        return cmocka_run_group_tests_name("trace", tests, setup, NULL);
}
