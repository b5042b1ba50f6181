#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Holds fake-openai.mjs to the official `openai` SDK: starts the server on a
// script, lets the SDK's stream helpers rebuild responses from its events,
// and asserts that they hold exactly the script's items, text, tool calls and
// usage. Also: 401 with --require-key, 429 and Retry-After, faults the SDK sees,
// 404, the past-the-end 400, the request log, --loop, --chunk.
// Exit 0 when all holds; 1 with a message on the first mismatch.
//
//   node tests/server/check.mjs          (needs `npm ci` in tests/server)

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';

const here = path.dirname(fileURLToPath(import.meta.url));
const SERVER = path.join(here, 'fake-openai.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-openai-check.'));
const servers = [];
let checks = 0;

function fail(msg) {
  process.stderr.write(`FAIL: ${msg}\n`);
  cleanup();
  process.exit(1);
}
function cleanup() {
  for (const s of servers) s.proc.kill('SIGTERM');
  fs.rmSync(tmp, { recursive: true, force: true });
}
function ok(what) {
  checks++;
  process.stderr.write(`ok ${checks} - ${what}\n`);
}
const show = (v) => JSON.stringify(v);
function eq(got, want, what) {
  if (show(got) !== show(want)) fail(`${what}: got ${show(got)}, wanted ${show(want)}`);
  ok(what);
}
function truthy(v, what) {
  if (!v) fail(what);
  ok(what);
}
// Every key of want is in got with a deeply equal value (got may hold more).
function subset(got, want, what) {
  const walk = (g, w, at) => {
    if (w === null || typeof w !== 'object') {
      if (g !== w) fail(`${what}: at ${at}: got ${show(g)}, wanted ${show(w)}`);
      return;
    }
    if (g === null || typeof g !== 'object' || Array.isArray(g) !== Array.isArray(w))
      fail(`${what}: at ${at}: got ${show(g)}, wanted ${show(w)}`);
    if (Array.isArray(w) && g.length !== w.length)
      fail(`${what}: at ${at}: ${g.length} elements, wanted ${w.length}: ${show(g)}`);
    for (const k of Object.keys(w)) walk(g[k], w[k], `${at}.${k}`);
  };
  walk(got, want, '$');
  ok(what);
}
async function rejects(promise, what) {
  try {
    await promise;
  } catch (e) {
    ok(what);
    return e;
  }
  fail(`${what}: it did not fail`);
}

// Starts the server on a script; resolves once it printed `listening PORT`.
async function start(script, args = []) {
  const name = `s${servers.length}`;
  const file = path.join(tmp, `${name}.json`);
  const log = path.join(tmp, `${name}.log`);
  fs.writeFileSync(file, JSON.stringify(script));
  const proc = spawn(process.execPath, [SERVER, '--script', file, '--log', log, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const s = { proc, log, port: 0 };
  servers.push(s);
  s.port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the server did not say `listening` within 10 s')), 10000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /^listening (\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before listening: ${out}`));
    });
  }).catch((e) => fail(e.message));
  s.base = `http://127.0.0.1:${s.port}/v1`;
  s.client = (opts = {}) => new OpenAI({ apiKey: 'sk-dummy', baseURL: s.base, maxRetries: 0, timeout: 20000, logLevel: 'off', ...opts });
  s.logLines = () =>
    fs
      .readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l)
      .map((l) => JSON.parse(l));
  return s;
}

// ---- the script ----------------------------------------------------------------------

const argsA = { path: 'src/main.c', start_line: 10, end_line: 42, note: 'naïve ✓ — ok' };
const textA = 'Héllo, wörld! Ünïcödé ✓ and 😀 emoji: a text long enough to be split into many deltas.';
const summaryA = ['First I think about the request.', 'Then I pick a tool ✓.'];
const usageA = { input_tokens: 123, cached_tokens: 45, output_tokens: 67, reasoning_tokens: 8 };
const shellA = { type: 'shell_call', action: { commands: ['ls -la', 'cat a.txt'], timeout_ms: 10000 } };
const patchA = {
  type: 'apply_patch_call',
  call_id: 'call_patch',
  operation: { type: 'update_file', path: 'a.txt', diff: '@@\n-old\n+new\n' },
};
const unknownA = { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'q' } };

const entryA = {
  items: [
    { type: 'reasoning', summary: summaryA },
    { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: textA }] },
    { type: 'function_call', name: 'read_file', arguments: argsA },
    { type: 'function_call', name: 'list_dir', arguments: '{"path":"."}', call_id: 'call_given' },
    shellA,
    patchA,
    unknownA,
  ],
  usage: usageA,
};
const entryB = [{ type: 'message', content: 'Short plain answer.' }];
const chatUsageA = { input_tokens: 50, cached_tokens: 20, output_tokens: 30, reasoning_tokens: 4 };
const entryChatTools = {
  items: [
    { type: 'reasoning', summary: ['hidden in chat'] },
    { type: 'message', content: 'Let me look ✓.' },
    { type: 'function_call', name: 'read_file', arguments: argsA },
    { type: 'function_call', name: 'grep', arguments: { pattern: 'TODO', path: 'src' } },
    shellA,
  ],
  usage: chatUsageA,
};
const entryChatText = [{ type: 'message', content: [{ type: 'output_text', text: 'All dône.' }] }];

function wantResponsesItems(callBase) {
  return [
    { type: 'reasoning', summary: summaryA.map((t) => ({ type: 'summary_text', text: t })) },
    { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: textA, annotations: [] }] },
    { type: 'function_call', name: 'read_file', arguments: JSON.stringify(argsA), call_id: `call_${callBase + 1}`, status: 'completed' },
    { type: 'function_call', name: 'list_dir', arguments: '{"path":"."}', call_id: 'call_given' },
    { ...shellA, call_id: `call_${callBase + 3}`, status: 'completed' },
    { ...patchA, status: 'completed' },
    unknownA,
  ];
}
const wantUsageA = {
  input_tokens: 123,
  input_tokens_details: { cached_tokens: 45 },
  output_tokens: 67,
  output_tokens_details: { reasoning_tokens: 8 },
  total_tokens: 190,
};

function checkIds(out, what) {
  const prefix = { reasoning: 'rs_', message: 'msg_', function_call: 'fc_' };
  out.forEach((it, i) => {
    if (prefix[it.type] && !(typeof it.id === 'string' && it.id.startsWith(prefix[it.type])))
      fail(`${what}: item ${i} (${it.type}) has id ${show(it.id)}`);
  });
  ok(`${what}: ids filled with their prefixes`);
}

// ---- Responses API through client.responses.stream() -------------------------------------

async function responsesStream(s) {
  const client = s.client();
  const events = [];
  const argDeltas = [];
  const textDeltas = [];
  const stream = client.responses.stream({ model: 'gpt-test', input: 'do the thing', instructions: 'be brief' });
  stream.on('event', (e) => events.push(e));
  stream.on('response.function_call_arguments.delta', (e) => argDeltas.push(e));
  stream.on('response.output_text.delta', (e) => textDeltas.push(e.delta));
  const r = await stream.finalResponse();

  eq(r.status, 'completed', 'responses stream: status');
  truthy(/^resp_/.test(r.id), `responses stream: id ${r.id} starts with resp_`);
  eq(r.object, 'response', 'responses stream: object');
  eq(r.model, 'gpt-test', 'responses stream: the request model is echoed');
  subset(r.output, wantResponsesItems(0), 'responses stream: the SDK rebuilds the script items');
  checkIds(r.output, 'responses stream');
  eq(r.output_text, textA, 'responses stream: output_text');
  eq(r.usage, wantUsageA, 'responses stream: usage from the script');
  eq(
    events.map((e) => e.sequence_number),
    events.map((_, i) => i),
    'responses stream: sequence_number counts 0, 1, 2, ...',
  );
  eq(events[0].type, 'response.created', 'responses stream: the first event is response.created');
  eq(events[1].type, 'response.in_progress', 'responses stream: then response.in_progress');
  eq(events.at(-1).type, 'response.completed', 'responses stream: the last event is response.completed');
  const types = new Set(events.map((e) => e.type));
  for (const t of [
    'response.output_item.added',
    'response.content_part.added',
    'response.output_text.delta',
    'response.output_text.done',
    'response.content_part.done',
    'response.function_call_arguments.delta',
    'response.function_call_arguments.done',
    'response.output_item.done',
    'response.reasoning_summary_text.delta',
  ])
    truthy(types.has(t), `responses stream: has ${t} events`);
  const firstCall = argDeltas.filter((e) => e.output_index === 2);
  truthy(firstCall.length >= 2, `responses stream: arguments split across ${firstCall.length} deltas`);
  eq(firstCall.at(-1).snapshot, JSON.stringify(argsA), 'responses stream: the SDK snapshot of the arguments');
  truthy(
    textDeltas.every((d) => Buffer.byteLength(d) <= 4 || [...d].length === 1),
    'responses stream: text deltas of at most 4 bytes (--chunk default), whole characters',
  );
  truthy(!textDeltas.some((d) => d.includes('\ufffd')), 'responses stream: no character split in a delta');
  eq(textDeltas.join(''), textA, 'responses stream: the deltas add up to the text');

  // Default usage: ceil(request body bytes / 4) and ceil(output JSON bytes / 4).
  const r2 = await client.responses.stream({ model: 'gpt-test', input: 'again' }).finalResponse();
  subset(r2.output, [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Short plain answer.' }] }], 'responses stream: a plain-string content');
  const logged = s.logLines().at(-1);
  const bodyBytes = Buffer.byteLength(JSON.stringify(logged.body));
  const clean = r2.output.map(({ parsed_arguments, ...it }) =>
    it.type === 'message' ? { ...it, content: it.content.map(({ parsed, ...c }) => c) } : it,
  );
  const outBytes = Buffer.byteLength(JSON.stringify(clean));
  eq(
    r2.usage,
    {
      input_tokens: Math.ceil(bodyBytes / 4),
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: Math.ceil(outBytes / 4),
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: Math.ceil(bodyBytes / 4) + Math.ceil(outBytes / 4),
    },
    'responses stream: default usage from the sizes',
  );
}

// ---- Chat Completions through client.chat.completions.stream() ------------------------------

async function chatStream(s) {
  const client = s.client();
  const argDeltas = [];
  const stream = client.chat.completions.stream({
    model: 'gpt-chat',
    messages: [{ role: 'user', content: 'go' }],
    stream_options: { include_usage: true },
  });
  stream.on('tool_calls.function.arguments.delta', (e) => argDeltas.push(e));
  const c = await stream.finalChatCompletion();
  eq(c.object, 'chat.completion', 'chat stream: object');
  eq(c.model, 'gpt-chat', 'chat stream: model');
  const ch = c.choices[0];
  eq(c.choices.length, 1, 'chat stream: one choice');
  eq(ch.finish_reason, 'tool_calls', 'chat stream: finish_reason tool_calls');
  eq(ch.message.role, 'assistant', 'chat stream: role');
  eq(ch.message.content, 'Let me look ✓.', 'chat stream: content (reasoning and shell_call skipped)');
  eq(
    ch.message.tool_calls.map((t) => ({ id: t.id, type: t.type, name: t.function.name, arguments: t.function.arguments })),
    [
      { id: 'call_5', type: 'function', name: 'read_file', arguments: JSON.stringify(argsA) },
      { id: 'call_6', type: 'function', name: 'grep', arguments: JSON.stringify({ pattern: 'TODO', path: 'src' }) },
    ],
    'chat stream: the tool calls (ids continue the script numbering)',
  );
  truthy(argDeltas.filter((e) => e.index === 0).length >= 2, 'chat stream: arguments split across deltas');
  eq(
    c.usage,
    {
      prompt_tokens: 50,
      completion_tokens: 30,
      total_tokens: 80,
      prompt_tokens_details: { cached_tokens: 20, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 4, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    },
    'chat stream: usage from the script',
  );

  // Without include_usage: no usage chunk.
  const c2 = await client.chat.completions.stream({ model: 'gpt-chat', messages: [{ role: 'user', content: 'and?' }] }).finalChatCompletion();
  eq(c2.choices[0].finish_reason, 'stop', 'chat stream: finish_reason stop');
  eq(c2.choices[0].message.content, 'All dône.', 'chat stream: text only');
  eq(c2.choices[0].message.tool_calls, undefined, 'chat stream: no tool calls');
  eq(c2.usage, undefined, 'chat stream: no usage without stream_options.include_usage');
}

// ---- stream:false for both ---------------------------------------------------------------------

async function nonStreaming(s) {
  const client = s.client();
  const r = await client.responses.create({ model: 'gpt-test', input: 'x' });
  eq(r.status, 'completed', 'responses json: status');
  subset(r.output, wantResponsesItems(7), 'responses json: the script items (call ids continue)');
  eq(r.output_text, textA, 'responses json: output_text');
  eq(r.usage, wantUsageA, 'responses json: usage');
  const c = await client.chat.completions.create({ model: 'gpt-chat', messages: [{ role: 'user', content: 'go' }] });
  eq(c.object, 'chat.completion', 'chat json: object');
  eq(c.choices[0].finish_reason, 'tool_calls', 'chat json: finish_reason');
  eq(c.choices[0].message.content, 'Let me look ✓.', 'chat json: content');
  eq(c.choices[0].message.tool_calls.map((t) => t.id), ['call_12', 'call_13'], 'chat json: tool call ids');
  eq(c.usage.prompt_tokens_details.cached_tokens, 20, 'chat json: cached tokens');
  eq(c.usage.completion_tokens_details.reasoning_tokens, 4, 'chat json: reasoning tokens');
}

// ---- faults as the SDK sees them ---------------------------------------------------------------

async function faults() {
  const s = await start([
    { items: [{ type: 'message', content: 'after two faults' }], faults: ['429', { type: '500' }] },
    { items: [{ type: 'message', content: 'never' }], faults: [{ type: 'failed', message: 'it broke' }] },
    { items: [{ type: 'message', content: 'chat ok' }], faults: [{ type: 'failed', message: 'chat broke' }, 'truncate', 'reset', 'malformed'] },
  ]);
  // The SDK retries the 429 and the 500 by itself; the entry is served on the third request.
  const r = await s.client({ maxRetries: 2 }).responses.stream({ model: 'm', input: 'x' }).finalResponse();
  eq(r.output_text, 'after two faults', 'faults: the SDK retries 429 and 500 and gets the entry');
  eq(s.logLines().length, 3, 'faults: the two faults took a request each');

  const f = await s.client().responses.stream({ model: 'm', input: 'x' }).finalResponse();
  eq(f.status, 'failed', 'faults: response.failed gives a failed response');
  eq(f.error, { code: 'server_error', message: 'it broke' }, 'faults: with its error');

  // The failed fault did not consume entry 1: it is served now.
  const r1 = await s.client().responses.create({ model: 'm', input: 'x' });
  eq(r1.output_text, 'never', 'faults: a fault does not advance the entry');

  const client = s.client();
  const chat = () => client.chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).finalChatCompletion();
  const e1 = await rejects(chat(), 'faults: chat failed throws');
  truthy(String(e1.message).includes('chat broke'), `faults: with the message (${e1.message})`);
  const e2 = await rejects(chat(), 'faults: chat truncate throws (no finish_reason, no [DONE])');
  truthy(/finish_reason|ended/i.test(String(e2.message)), `faults: truncate: ${e2.message}`);
  await rejects(chat(), 'faults: chat reset throws');
  await rejects(chat(), 'faults: chat malformed throws');
  const c = await chat();
  eq(c.choices[0].message.content, 'chat ok', 'faults: the entry after its four faults');
}

// ---- keys, status codes, the log, --loop, --chunk ----------------------------------------------

async function keysAndStatus() {
  const s = await start([[{ type: 'message', content: 'keyed' }], { items: [], faults: [{ type: '429', retry_after: '7' }] }], [
    '--require-key',
    'sk-right-key',
  ]);
  const e = await rejects(
    s.client({ apiKey: 'sk-wrong-key' }).responses.create({ model: 'm', input: 'x' }),
    'key: a wrong key is refused',
  );
  eq(e.status, 401, 'key: status 401');
  eq(e.code, 'invalid_api_key', 'key: code invalid_api_key');
  eq(e.error?.message, 'Incorrect API key provided', 'key: message');
  truthy(!JSON.stringify(e.error).includes('sk-'), 'key: the error does not echo a key');
  const noKey = await fetch(`${s.base}/responses`, { method: 'POST', body: '{"model":"m"}' });
  eq(noKey.status, 401, 'key: no Authorization header gives 401');
  const r = await s.client({ apiKey: 'sk-right-key' }).responses.create({ model: 'm', input: 'x' });
  eq(r.output_text, 'keyed', 'key: the right key gets the first entry (401s consume nothing)');

  const auth = { authorization: 'Bearer sk-right-key', 'content-type': 'application/json' };
  const r429 = await fetch(`${s.base}/chat/completions`, { method: 'POST', headers: auth, body: '{"model":"m","stream":true}' });
  eq(r429.status, 429, '429: status');
  eq(r429.headers.get('retry-after'), '7', '429: Retry-After from the fault');
  eq((await r429.json()).error.code, 'rate_limit_exceeded', '429: error code');
  const empty = await s.client({ apiKey: 'sk-right-key' }).responses.create({ model: 'm', input: 'x' });
  eq(empty.output, [], 'an entry without items: empty output');

  const end = await fetch(`${s.base}/responses`, { method: 'POST', headers: auth, body: '{"model":"m"}' });
  eq(end.status, 400, 'past the end: 400');
  const n = s.logLines().length;
  eq((await end.json()).error.message, `fake-openai: the script has no entry for request ${n}`, 'past the end: message');
  const e2 = await rejects(s.client({ apiKey: 'sk-right-key' }).responses.create({ model: 'm', input: 'x' }), 'past the end: the SDK throws');
  eq(e2.status, 400, 'past the end: the SDK sees 400');

  const nf = await fetch(`http://127.0.0.1:${s.port}/v1/models`, { headers: auth });
  eq(nf.status, 404, '404 for another path');
  truthy(typeof (await nf.json()).error.message === 'string', '404 has a JSON error');
  const short = await fetch(`http://127.0.0.1:${s.port}/responses`, { method: 'POST', headers: auth, body: '{"model":"m"}' });
  eq(short.status, 400, '/responses (without /v1) is an endpoint too (past the end here)');

  const log = s.logLines();
  eq(log.map((l) => l.n), log.map((_, i) => i + 1), 'log: one line per request, n counts from 1');
  eq(log[0].path, '/v1/responses', 'log: path');
  eq(log[0].headers.authorization, 'Bearer sk-wrong-key', 'log: headers (lower-cased names)');
  eq(log[0].body.input, 'x', 'log: the parsed body');
  eq(log.at(-2).path, '/v1/models', 'log: the 404 is logged too');
}

async function loopAndChunk() {
  const s = await start([[{ type: 'function_call', name: 'f', arguments: { a: 1 } }]], ['--loop', '--chunk', '1']);
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const r = await s.client().responses.stream({ model: 'm', input: 'x' }).finalResponse();
    ids.push(r.output[0].call_id);
  }
  eq(ids, ['call_1', 'call_2', 'call_3'], '--loop: repeats the script, call ids stay unique');

  const s2 = await start([[{ type: 'message', content: 'aé😀b' }]], ['--chunk', '1']);
  const deltas = [];
  const st = s2.client().chat.completions.stream({ model: 'm', messages: [] });
  st.on('content', (d) => deltas.push(d));
  await st.finalChatCompletion();
  eq(deltas, ['a', 'é', '😀', 'b'], '--chunk 1: one character per delta, never a split character');
}

// ---- the raw wire: what the SDK is lenient about ---------------------------------------------

function sseBlocks(text) {
  if (!text.endsWith('\n\n')) fail(`wire: the stream does not end with a blank line: ${show(text.slice(-80))}`);
  return text.slice(0, -2).split('\n\n').map((b) => b.split('\n'));
}

async function wire() {
  const entry = [{ type: 'message', content: 'wire' }, { type: 'function_call', name: 'f', arguments: { a: 1 } }];
  const s = await start([entry, entry]);
  const post = (p, body) =>
    fetch(`${s.base}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const r = await post('/responses', { model: 'm', input: 'x', stream: true });
  eq(r.headers.get('content-type').split(';')[0], 'text/event-stream', 'wire: responses content-type');
  const blocks = sseBlocks(await r.text());
  truthy(
    blocks.every((b) => b.length === 2 && b[0].startsWith('event: ') && b[1].startsWith('data: ') && JSON.parse(b[1].slice(6)).type === b[0].slice(7)),
    'wire: responses: every event is `event: TYPE` + `data: JSON` with that type',
  );
  eq(blocks.at(-1)[0], 'event: response.completed', 'wire: responses: response.completed last, no [DONE]');
  const c = await post('/chat/completions', { model: 'm', messages: [], stream: true, stream_options: { include_usage: true } });
  const cb = sseBlocks(await c.text());
  truthy(cb.every((b) => b.length === 1 && b[0].startsWith('data: ')), 'wire: chat: data lines only');
  eq(cb.at(-1)[0], 'data: [DONE]', 'wire: chat: ends with data: [DONE]');
  const chunks = cb.slice(0, -1).map((b) => JSON.parse(b[0].slice(6)));
  truthy(chunks.every((k) => k.object === 'chat.completion.chunk' && k.id === chunks[0].id), 'wire: chat: chunks with one id');
  truthy(chunks.slice(0, -1).every((k) => k.usage === null && k.choices.length === 1), 'wire: chat: usage null before the last chunk');
  eq(chunks.at(-1).choices, [], 'wire: chat: the usage chunk has no choices');
  eq(chunks.at(-2).choices[0].finish_reason, 'tool_calls', 'wire: chat: finish_reason on the chunk before');
}

// ---- main -------------------------------------------------------------------------------------

const timer = setTimeout(() => fail('check.mjs took longer than 120 s'), 120000);
try {
  const main = await start([entryA, entryB, entryChatTools, entryChatText, entryA, entryChatTools]);
  await responsesStream(main);
  await chatStream(main);
  await nonStreaming(main);
  await faults();
  await keysAndStatus();
  await loopAndChunk();
  await wire();
} catch (e) {
  fail(`unexpected error: ${e && e.stack ? e.stack : e}`);
}
clearTimeout(timer);
cleanup();
process.stderr.write(`all ${checks} checks passed\n`);
process.exit(0);
