#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// fake-openai: a local test server speaking OpenAI's Responses API and Chat
// Completions wire formats (JSON and SSE streaming), answering from a script,
// with fault injection. No dependencies: node:http only. See README.md.
//
//   node fake-openai.mjs --script FILE.json [--port N] [--log FILE] [--chunk N]
//                        [--delay-ms N] [--require-key KEY] [--loop | --by-outputs]
//                        [--random-faults SEED:PERCENT[:TYPES]] [--log-ts]
//
// On start it prints `listening PORT` on stdout; it exits on SIGTERM/SIGINT.

import http from 'node:http';
import fs from 'node:fs';

// ---- command line -----------------------------------------------------------

function usage(msg) {
  process.stderr.write(
    `fake-openai: ${msg}\n` +
      'usage: fake-openai.mjs --script FILE.json [--port N] [--log FILE] [--chunk N]\n' +
      '                       [--delay-ms N] [--require-key KEY] [--loop | --by-outputs]\n' +
      '                       [--random-faults SEED:PERCENT[:TYPE,...]] [--log-ts]\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    script: null,
    port: 0,
    log: null,
    chunk: 4,
    delayMs: 0,
    requireKey: null,
    loop: false,
    byOutputs: false,
    randomFaults: null,
    logTs: false,
  };
  const intArg = (name, v, min) => {
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < min) usage(`${name} wants an integer >= ${min}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let v;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const val = () => (v !== undefined ? v : argv[++i]);
    switch (a) {
      case '--script': o.script = val(); break;
      case '--port': o.port = intArg(a, val(), 0); break;
      case '--log': o.log = val(); break;
      case '--chunk': o.chunk = intArg(a, val(), 1); break;
      case '--delay-ms': o.delayMs = intArg(a, val(), 0); break;
      case '--require-key': o.requireKey = val(); break;
      case '--loop': o.loop = true; break;
      case '--by-outputs': o.byOutputs = true; break;
      case '--random-faults': o.randomFaults = parseRandomFaults(val()); break;
      case '--log-ts': o.logTs = true; break;
      case '-h': case '--help': usage('help');
      default: usage(`unknown argument '${a}'`);
    }
  }
  if (!o.script) usage('--script FILE.json is required');
  if (o.port > 65535) usage('--port is out of range');
  if (o.requireKey === undefined || o.requireKey === '') usage('--require-key wants a key');
  if (o.log === undefined || o.script === undefined) usage('an option is missing its value');
  if (o.logTs && !o.log) usage('--log-ts needs --log FILE');
  if (o.loop && o.byOutputs) usage('--loop and --by-outputs do not go together');
  return o;
}

// --random-faults SEED:PERCENT[:TYPE,...]: each model request fails with
// probability PERCENT/100, its fault's type drawn from TYPES (default
// 429,500,reset,truncate), both from a PRNG seeded with SEED.
function parseRandomFaults(v) {
  const m = typeof v === 'string' ? /^(\d+):(\d+)(?::(.+))?$/.exec(v) : null;
  if (!m) usage('--random-faults wants SEED:PERCENT[:TYPE,...]');
  const seed = Number(m[1]);
  const percent = Number(m[2]);
  if (seed > 0xffffffff) usage('--random-faults: SEED is a 32-bit unsigned integer');
  if (percent > 100) usage('--random-faults: PERCENT is 0 to 100');
  const types = (m[3] ?? '429,500,reset,truncate').split(',');
  const faults = types.map((t) => {
    try {
      return normFault(t, '--random-faults');
    } catch (e) {
      return usage(e.message);
    }
  });
  return { seed, percent, faults };
}

// mulberry32: a small seeded PRNG; next() is uniform in [0, 1).
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// --by-outputs: the entry answering a request is the number of tool results in
// its input (Responses: function_call_output, shell_call_output,
// apply_patch_call_output items; Chat: messages with role "tool").
const RESULT_TYPES = new Set(['function_call_output', 'shell_call_output', 'apply_patch_call_output']);
function countOutputs(kind, body) {
  if (kind === 'chat') {
    const msgs = Array.isArray(body.messages) ? body.messages : [];
    return msgs.filter((m) => m && typeof m === 'object' && m.role === 'tool').length;
  }
  const input = Array.isArray(body.input) ? body.input : [];
  return input.filter((it) => it && typeof it === 'object' && RESULT_TYPES.has(it.type)).length;
}

// ---- the script -------------------------------------------------------------

const FAULTS = new Set(['reset', 'truncate', 'malformed', 'stall', 'failed', 'error']);

function normFault(f, where) {
  if (typeof f === 'number') f = String(f);
  if (typeof f === 'string') f = { type: f };
  if (!f || typeof f !== 'object' || typeof f.type !== 'string')
    throw new Error(`${where}: a fault is a string or an object with a "type"`);
  if (typeof f.type === 'number') f.type = String(f.type);
  if (!FAULTS.has(f.type) && !/^[45]\d\d$/.test(f.type))
    throw new Error(`${where}: unknown fault '${f.type}'`);
  return f;
}

function loadScript(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file}: ${e.message}`);
  }
  let json;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not JSON: ${e.message}`);
  }
  if (!Array.isArray(json)) throw new Error(`${file}: the script is a JSON array of entries`);
  return json.map((e, i) => {
    const where = `${file}: entry ${i}`;
    if (Array.isArray(e)) e = { items: e };
    if (!e || typeof e !== 'object') throw new Error(`${where}: an entry is an array of items or an object`);
    const items = e.items ?? [];
    if (!Array.isArray(items)) throw new Error(`${where}: "items" is not an array`);
    items.forEach((it, j) => {
      if (!it || typeof it !== 'object' || typeof it.type !== 'string')
        throw new Error(`${where}: item ${j} is not an object with a "type"`);
    });
    const faults = (e.faults ?? []).map((f, j) => normFault(f, `${where} fault ${j}`));
    const usage = e.usage ?? null;
    if (usage !== null && typeof usage !== 'object') throw new Error(`${where}: "usage" is not an object`);
    return { items, usage, faults };
  });
}

// Deterministic ids: the k-th function call (shell call, patch call) of the
// script is call_k; with --loop the l-th pass continues the numbering.
function countCalls(script) {
  let calls = 0;
  const base = script.map((e) => {
    const b = calls;
    for (const it of e.items) if (['function_call', 'shell_call', 'apply_patch_call'].includes(it.type)) calls++;
    return b;
  });
  return { base, total: calls };
}

const clone = (x) => JSON.parse(JSON.stringify(x));

function textPart(p) {
  if (typeof p === 'string') return { type: 'output_text', text: p, annotations: [] };
  const q = clone(p);
  if (q.type === 'output_text') {
    if (typeof q.text !== 'string') q.text = String(q.text ?? '');
    if (!Array.isArray(q.annotations)) q.annotations = [];
  }
  return q;
}

// Fill ids, statuses and string arguments: the wire shape of each output item.
function normalizeItems(items, entryIdx, pass, callBase, callTotal) {
  let call = callBase + pass * callTotal;
  const tag = (n) => `${pass * 100000 + entryIdx + 1}_${n}`;
  return items.map((src, j) => {
    const it = clone(src);
    switch (it.type) {
      case 'message': {
        const content = typeof it.content === 'string' ? [it.content] : it.content ?? [];
        return {
          id: it.id ?? `msg_${tag(j)}`,
          type: 'message',
          status: it.status ?? 'completed',
          role: it.role ?? 'assistant',
          content: (Array.isArray(content) ? content : [content]).map(textPart),
        };
      }
      case 'function_call': {
        call++;
        let args = it.arguments ?? '{}';
        if (typeof args !== 'string') args = JSON.stringify(args);
        return {
          id: it.id ?? `fc_${tag(j)}`,
          type: 'function_call',
          status: it.status ?? 'completed',
          arguments: args,
          call_id: it.call_id ?? `call_${call}`,
          name: it.name ?? 'unnamed',
        };
      }
      case 'reasoning': {
        const summary = (it.summary ?? []).map((s) => (typeof s === 'string' ? { type: 'summary_text', text: s } : s));
        const out = { id: it.id ?? `rs_${tag(j)}`, type: 'reasoning', summary };
        for (const k of Object.keys(it)) if (!(k in out)) out[k] = it[k];
        return out;
      }
      case 'shell_call':
      case 'apply_patch_call': {
        call++;
        const pre = it.type === 'shell_call' ? 'sh' : 'apc';
        const out = { id: it.id ?? `${pre}_${tag(j)}`, type: it.type, call_id: it.call_id ?? `call_${call}` };
        for (const k of Object.keys(it)) if (!(k in out)) out[k] = it[k];
        out.status ??= 'completed';
        if (it.type === 'shell_call') out.action ??= { commands: [] };
        return out;
      }
      default:
        return it;
    }
  });
}

function usageOf(entry, items, reqBytes) {
  const u = entry.usage ?? {};
  const outBytes = Buffer.byteLength(JSON.stringify(items));
  const num = (v, d) => (Number.isInteger(v) && v >= 0 ? v : d);
  const input = num(u.input_tokens, Math.ceil(reqBytes / 4));
  const output = num(u.output_tokens, Math.ceil(outBytes / 4));
  return {
    input,
    cached: num(u.cached_tokens, 0),
    output,
    reasoning: num(u.reasoning_tokens, 0),
  };
}

const responsesUsage = (u) => ({
  input_tokens: u.input,
  input_tokens_details: { cached_tokens: u.cached },
  output_tokens: u.output,
  output_tokens_details: { reasoning_tokens: u.reasoning },
  total_tokens: u.input + u.output,
});

const chatUsage = (u) => ({
  prompt_tokens: u.input,
  completion_tokens: u.output,
  total_tokens: u.input + u.output,
  prompt_tokens_details: { cached_tokens: u.cached, audio_tokens: 0 },
  completion_tokens_details: {
    reasoning_tokens: u.reasoning,
    audio_tokens: 0,
    accepted_prediction_tokens: 0,
    rejected_prediction_tokens: 0,
  },
});

// Split text into pieces of at most n UTF-8 bytes, never inside a character
// (a piece holds at least one character).
function chunks(text, n) {
  if (text === '') return [];
  if (Buffer.byteLength(text) <= n) return [text];
  const out = [];
  let cur = '';
  let bytes = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0);
    const b = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + b > n && cur !== '') {
      out.push(cur);
      cur = '';
      bytes = 0;
    }
    cur += ch;
    bytes += b;
  }
  if (cur !== '') out.push(cur);
  return out;
}

// ---- Responses API ------------------------------------------------------------

function responseObject(ctx, status, output, usage, error = null) {
  const b = ctx.body && typeof ctx.body === 'object' ? ctx.body : {};
  return {
    id: `resp_${ctx.n}`,
    object: 'response',
    created_at: ctx.created,
    status,
    background: false,
    error,
    incomplete_details: null,
    instructions: b.instructions ?? null,
    max_output_tokens: b.max_output_tokens ?? null,
    model: ctx.model,
    output,
    parallel_tool_calls: b.parallel_tool_calls ?? true,
    previous_response_id: b.previous_response_id ?? null,
    reasoning: b.reasoning ?? { effort: null, summary: null },
    store: b.store ?? false,
    temperature: b.temperature ?? 1,
    text: b.text ?? { format: { type: 'text' } },
    tool_choice: b.tool_choice ?? 'auto',
    tools: Array.isArray(b.tools) ? b.tools : [],
    top_p: b.top_p ?? 1,
    truncation: b.truncation ?? 'disabled',
    usage,
    user: null,
    metadata: b.metadata ?? {},
  };
}

// The events of one streamed response, in order, without sequence numbers.
function responsesEvents(ctx, items, usage, chunk) {
  const ev = [];
  ev.push({ type: 'response.created', response: responseObject(ctx, 'in_progress', [], null) });
  ev.push({ type: 'response.in_progress', response: responseObject(ctx, 'in_progress', [], null) });
  items.forEach((item, oi) => {
    const id = item.id;
    switch (item.type) {
      case 'message': {
        ev.push({
          type: 'response.output_item.added',
          output_index: oi,
          item: { id, type: 'message', status: 'in_progress', role: item.role, content: [] },
        });
        item.content.forEach((part, ci) => {
          const base = { item_id: id, output_index: oi, content_index: ci };
          if (part.type === 'output_text') {
            ev.push({ type: 'response.content_part.added', ...base, part: { ...part, text: '' } });
            for (const d of chunks(part.text, chunk))
              ev.push({ type: 'response.output_text.delta', ...base, delta: d, logprobs: [] });
            ev.push({ type: 'response.output_text.done', ...base, text: part.text, logprobs: [] });
          } else if (part.type === 'refusal') {
            const r = String(part.refusal ?? '');
            ev.push({ type: 'response.content_part.added', ...base, part: { type: 'refusal', refusal: '' } });
            for (const d of chunks(r, chunk)) ev.push({ type: 'response.refusal.delta', ...base, delta: d });
            ev.push({ type: 'response.refusal.done', ...base, refusal: r });
          } else {
            ev.push({ type: 'response.content_part.added', ...base, part });
          }
          ev.push({ type: 'response.content_part.done', ...base, part });
        });
        break;
      }
      case 'function_call': {
        ev.push({
          type: 'response.output_item.added',
          output_index: oi,
          item: { ...item, status: 'in_progress', arguments: '' },
        });
        for (const d of chunks(item.arguments, chunk))
          ev.push({ type: 'response.function_call_arguments.delta', item_id: id, output_index: oi, delta: d });
        ev.push({
          type: 'response.function_call_arguments.done',
          item_id: id,
          output_index: oi,
          name: item.name,
          arguments: item.arguments,
        });
        break;
      }
      case 'reasoning': {
        ev.push({ type: 'response.output_item.added', output_index: oi, item: { id, type: 'reasoning', summary: [] } });
        item.summary.forEach((part, si) => {
          const base = { item_id: id, output_index: oi, summary_index: si };
          const text = typeof part.text === 'string' ? part.text : '';
          ev.push({ type: 'response.reasoning_summary_part.added', ...base, part: { ...part, text: '' } });
          for (const d of chunks(text, chunk))
            ev.push({ type: 'response.reasoning_summary_text.delta', ...base, delta: d });
          ev.push({ type: 'response.reasoning_summary_text.done', ...base, text });
          ev.push({ type: 'response.reasoning_summary_part.done', ...base, part });
        });
        break;
      }
      case 'shell_call':
      case 'apply_patch_call':
        ev.push({ type: 'response.output_item.added', output_index: oi, item: { ...item, status: 'in_progress' } });
        break;
      default:
        ev.push({ type: 'response.output_item.added', output_index: oi, item });
        break;
    }
    ev.push({ type: 'response.output_item.done', output_index: oi, item });
  });
  ev.push({ type: 'response.completed', response: responseObject(ctx, 'completed', items, usage) });
  return ev;
}

// ---- Chat Completions -----------------------------------------------------------

function chatParts(items) {
  let text = '';
  let refusal = null;
  const calls = [];
  for (const it of items) {
    if (it.type === 'message') {
      for (const p of it.content) {
        if (p.type === 'output_text') text += p.text;
        else if (p.type === 'refusal') refusal = (refusal ?? '') + String(p.refusal ?? '');
      }
    } else if (it.type === 'function_call') {
      calls.push({ id: it.call_id, type: 'function', function: { name: it.name, arguments: it.arguments } });
    }
    // reasoning, shell_call, apply_patch_call and unknown items: no Chat form.
  }
  return { text, refusal, calls, finish: calls.length ? 'tool_calls' : 'stop' };
}

function chatCompletion(ctx, items, usage) {
  const { text, refusal, calls, finish } = chatParts(items);
  const message = { role: 'assistant', content: text === '' && (calls.length || refusal !== null) ? null : text, refusal };
  if (calls.length) message.tool_calls = calls;
  message.annotations = [];
  return {
    id: `chatcmpl-${ctx.n}`,
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
    usage: chatUsage(usage),
    service_tier: 'default',
    system_fingerprint: null,
  };
}

// The chunks of one streamed chat completion (without the final [DONE]).
function chatEvents(ctx, items, usage, chunk, includeUsage) {
  const { text, refusal, calls, finish } = chatParts(items);
  const ev = [];
  const mk = (delta, finish_reason = null) => {
    const c = {
      id: `chatcmpl-${ctx.n}`,
      object: 'chat.completion.chunk',
      created: ctx.created,
      model: ctx.model,
      service_tier: 'default',
      system_fingerprint: null,
      choices: [{ index: 0, delta, logprobs: null, finish_reason }],
    };
    if (includeUsage) c.usage = null;
    return c;
  };
  ev.push(mk({ role: 'assistant', content: '', refusal: null }));
  for (const d of chunks(text, chunk)) ev.push(mk({ content: d }));
  if (refusal !== null) for (const d of chunks(refusal, chunk)) ev.push(mk({ refusal: d }));
  calls.forEach((c, k) => {
    ev.push(mk({ tool_calls: [{ index: k, id: c.id, type: 'function', function: { name: c.function.name, arguments: '' } }] }));
    for (const d of chunks(c.function.arguments, chunk))
      ev.push(mk({ tool_calls: [{ index: k, function: { arguments: d } }] }));
  });
  ev.push(mk({}, finish));
  if (includeUsage) {
    const c = mk({});
    c.choices = [];
    c.usage = chatUsage(usage);
    ev.push(c);
  }
  return ev;
}

// ---- errors -------------------------------------------------------------------------

function errorBody(message, type, code = null, param = null) {
  return { error: { message, type, param, code } };
}

function statusError(status, f) {
  const msg = f.message;
  switch (status) {
    case 400: return errorBody(msg ?? 'fake-openai: injected bad request', 'invalid_request_error', f.code ?? null);
    case 401: return errorBody(msg ?? 'Incorrect API key provided', 'invalid_request_error', f.code ?? 'invalid_api_key');
    case 403: return errorBody(msg ?? 'fake-openai: injected forbidden', 'invalid_request_error', f.code ?? null);
    case 404: return errorBody(msg ?? 'fake-openai: injected not found', 'invalid_request_error', f.code ?? null);
    case 429:
      return errorBody(msg ?? 'Rate limit reached (fake-openai). Please try again later.', 'requests', f.code ?? 'rate_limit_exceeded');
    default:
      if (status >= 500)
        return errorBody(
          msg ?? 'The server had an error while processing your request. Sorry about that!',
          'server_error',
          f.code ?? null,
        );
      return errorBody(msg ?? `fake-openai: injected status ${status}`, 'invalid_request_error', f.code ?? null);
  }
}

// ---- the server ---------------------------------------------------------------------

function main() {
  const opt = parseArgs(process.argv.slice(2));
  let script;
  try {
    script = loadScript(opt.script);
  } catch (e) {
    process.stderr.write(`fake-openai: ${e.message}\n`);
    process.exit(2);
  }
  const callIds = countCalls(script);
  const logFd = opt.log ? fs.openSync(opt.log, 'a') : null;

  let nRequests = 0; // every request (the log's n)
  let entryPos = 0; // next entry to answer (counts all passes with --loop)
  let faultPos = 0; // faults of that entry already served
  const entryFaults = script.map(() => 0); // --by-outputs: faults served per entry
  const rand = opt.randomFaults ? prng(opt.randomFaults.seed) : null;

  // What answers a model request: { exhausted: true } past the script's end,
  // else { idx, pass, fault (or null), random (the fault was drawn) }. Called
  // once per model request; advances the script's position.
  const choose = (ctx) => {
    let random = null;
    if (rand) {
      const rf = opt.randomFaults;
      const hit = rand() * 100 < rf.percent;
      const pick = rand();
      if (hit) random = rf.faults[Math.min(rf.faults.length - 1, Math.floor(pick * rf.faults.length))];
    }
    if (opt.byOutputs) {
      const idx = countOutputs(ctx.kind, ctx.body);
      if (idx >= script.length) return { exhausted: true, idx };
      let fault = random;
      if (!fault && entryFaults[idx] < script[idx].faults.length) fault = script[idx].faults[entryFaults[idx]++];
      return { idx, pass: 0, fault, random: random !== null };
    }
    if (!opt.loop && entryPos >= script.length) return { exhausted: true, idx: entryPos };
    const idx = entryPos % script.length;
    const pass = Math.floor(entryPos / script.length);
    if (random) return { idx, pass, fault: random, random: true };
    const entry = script[idx];
    let fault = null;
    if (faultPos < entry.faults.length) fault = entry.faults[faultPos++];
    else {
      entryPos++;
      faultPos = 0;
    }
    return { idx, pass, fault, random: false };
  };

  const sendJson = (res, status, obj, headers = {}) => {
    const body = JSON.stringify(obj);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-request-id': `req_fake_${nRequests}`,
      ...headers,
    });
    res.end(body);
  };

  // Writes SSE events one after the other (with --delay-ms between them).
  // done(ok) runs after the last one was handed to the socket; ok is false when
  // the client went away.
  const writeEvents = (res, list, done) => {
    if (opt.delayMs === 0 || list.length === 0) {
      if (list.length) res.write(list.join(''));
      return done(!res.destroyed);
    }
    let i = 0;
    const step = () => {
      if (res.destroyed) return done(false);
      res.write(list[i++]);
      if (i >= list.length) return done(true);
      setTimeout(step, opt.delayMs);
    };
    step();
  };

  const sseHeaders = (res) =>
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-request-id': `req_fake_${nRequests}`,
    });

  // Cuts a connection once what was written has left (mid-body: the client
  // sees a transfer that ends early).
  const cut = (res) => {
    const sock = res.socket;
    if (!sock || sock.destroyed) return res.destroy();
    sock.write('', () => sock.destroy());
  };

  const stall = (res, ms) => {
    const t = setTimeout(() => cut(res), ms);
    res.on('close', () => clearTimeout(t));
  };

  function serve(req, res, ctx, bodyBytes, plan) {
    const isChat = ctx.kind === 'chat';
    const b = ctx.body;
    const stream = b.stream === true;
    const includeUsage = isChat && b.stream_options && b.stream_options.include_usage === true;

    if (plan.exhausted) {
      const why = opt.byOutputs ? ` (its input holds ${plan.idx} tool results)` : '';
      return sendJson(
        res,
        400,
        errorBody(`fake-openai: the script has no entry for request ${ctx.n}${why}`, 'invalid_request_error', 'fake_script_exhausted'),
      );
    }
    const { idx, pass, fault } = plan;
    const entry = script[idx];

    if (fault && /^\d+$/.test(fault.type)) {
      const status = Number(fault.type);
      const headers = {};
      if (status === 429 || fault.retry_after !== undefined) headers['retry-after'] = String(fault.retry_after ?? '0');
      if (fault.retry_after_ms !== undefined) headers['retry-after-ms'] = String(fault.retry_after_ms);
      return sendJson(res, status, statusError(status, fault), headers);
    }

    const items = normalizeItems(entry.items, idx, pass, callIds.base[idx], callIds.total);
    const u = usageOf(entry, items, bodyBytes);
    const failMsg = (fault && fault.message) || 'fake-openai: injected failure';

    if (!stream) {
      const obj = isChat ? chatCompletion(ctx, items, u) : responseObject(ctx, 'completed', items, responsesUsage(u));
      if (!fault) return sendJson(res, 200, obj);
      const text = JSON.stringify(obj);
      const half = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
      switch (fault.type) {
        case 'failed':
        case 'error':
          return sendJson(
            res,
            200,
            isChat
              ? errorBody(failMsg, 'server_error', fault.code ?? null)
              : responseObject(ctx, 'failed', [], null, { code: fault.code ?? 'server_error', message: failMsg }),
          );
        case 'malformed':
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end(half + '}{ not json');
        case 'truncate':
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end(half);
        case 'reset':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write(half);
          return cut(res);
        case 'stall':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.flushHeaders();
          return stall(res, fault.ms ?? 5000);
      }
      return;
    }

    // Streaming.
    let events;
    let frame;
    if (isChat) {
      events = chatEvents(ctx, items, u, opt.chunk, includeUsage);
      frame = (e) => `data: ${JSON.stringify(e)}\n\n`;
    } else {
      events = responsesEvents(ctx, items, responsesUsage(u), opt.chunk);
      let seq = 0;
      frame = (e) => {
        const o = { type: e.type, sequence_number: seq++, ...e };
        return `event: ${e.type}\ndata: ${JSON.stringify(o)}\n\n`;
      };
    }
    const afterOf = (dflt) => {
      const a = Number.isInteger(fault.after) && fault.after >= 0 ? fault.after : dflt;
      return Math.min(a, events.length - 1);
    };
    sseHeaders(res);
    if (!fault) {
      const out = events.map(frame);
      if (isChat) out.push('data: [DONE]\n\n');
      return writeEvents(res, out, () => res.end());
    }
    switch (fault.type) {
      case 'reset': {
        const out = events.slice(0, afterOf(Math.max(1, Math.floor(events.length / 2)))).map(frame);
        return writeEvents(res, out, (ok) => ok && cut(res));
      }
      case 'truncate': {
        const out = events.slice(0, afterOf(Math.max(1, Math.floor(events.length / 2)))).map(frame);
        return writeEvents(res, out, () => res.end());
      }
      case 'malformed': {
        const out = events.slice(0, afterOf(1)).map(frame);
        out.push(
          isChat
            ? 'data: {"id":"chatcmpl-broken","choices":[{"delta":{"content":"x"\n\n'
            : 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"x\n\n',
        );
        return writeEvents(res, out, () => res.end());
      }
      case 'stall': {
        const out = events.slice(0, afterOf(1)).map(frame);
        return writeEvents(res, out, (ok) => ok && stall(res, fault.ms ?? 5000));
      }
      case 'failed':
      case 'error': {
        const out = events.slice(0, isChat ? 1 : 2).map(frame);
        if (isChat) out.push(`data: ${JSON.stringify(errorBody(failMsg, 'server_error', fault.code ?? null))}\n\n`);
        else if (fault.type === 'failed')
          out.push(
            frame({
              type: 'response.failed',
              response: responseObject(ctx, 'failed', [], null, { code: fault.code ?? 'server_error', message: failMsg }),
            }),
          );
        else out.push(frame({ type: 'error', code: fault.code ?? 'server_error', message: failMsg, param: null }));
        return writeEvents(res, out, () => res.end());
      }
    }
  }

  const server = http.createServer({ noDelay: true, keepAlive: true }, (req, res) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => {
      const tArrived = opt.logTs ? Number(process.hrtime.bigint() / 1000n) / 1000 : 0;
      const raw = Buffer.concat(parts);
      const n = ++nRequests;
      const text = raw.toString('utf8');
      let body;
      let parsed = false;
      try {
        body = JSON.parse(text);
        parsed = true;
      } catch {
        body = text;
      }
      const path = (req.url || '').split('?')[0];
      let kind = null;
      if (path === '/v1/responses' || path === '/responses') kind = 'responses';
      else if (path === '/v1/chat/completions' || path === '/chat/completions') kind = 'chat';
      const isModelRequest =
        req.method === 'POST' &&
        kind !== null &&
        (opt.requireKey === null || req.headers.authorization === `Bearer ${opt.requireKey}`) &&
        parsed &&
        body &&
        typeof body === 'object' &&
        !Array.isArray(body);
      const plan = isModelRequest ? choose({ kind, body }) : null;
      if (logFd !== null) {
        const line = { n, method: req.method, path: req.url, headers: req.headers, body };
        // --log-ts: when the whole request had arrived, in ms on CLOCK_MONOTONIC
        // (libuv's clock: Python's time.monotonic() * 1000 on Linux)
        if (opt.logTs) line.t_mono_ms = tArrived;
        if (opt.byOutputs && plan) line.entry = plan.idx;
        if (plan && plan.random && !plan.exhausted) line.fault = plan.fault.type;
        fs.writeSync(logFd, JSON.stringify(line) + '\n');
      }
      if (plan && plan.random && !plan.exhausted) process.stderr.write(`fake-openai: request ${n}: random fault ${plan.fault.type}\n`);
      if (req.method !== 'POST' || kind === null) {
        return sendJson(
          res,
          404,
          errorBody(`fake-openai: no endpoint ${req.method} ${path}`, 'invalid_request_error', 'unknown_url'),
        );
      }
      if (opt.requireKey !== null && req.headers.authorization !== `Bearer ${opt.requireKey}`) {
        return sendJson(res, 401, errorBody('Incorrect API key provided', 'invalid_request_error', 'invalid_api_key'));
      }
      if (!parsed || !body || typeof body !== 'object' || Array.isArray(body)) {
        return sendJson(
          res,
          400,
          errorBody('We could not parse the JSON body of your request.', 'invalid_request_error', 'invalid_json'),
        );
      }
      const ctx = {
        n,
        kind,
        body,
        model: typeof body.model === 'string' ? body.model : 'fake-model',
        created: Math.floor(Date.now() / 1000),
      };
      try {
        serve(req, res, ctx, raw.length, plan);
      } catch (e) {
        process.stderr.write(`fake-openai: request ${n}: ${e.stack || e}\n`);
        if (!res.headersSent) sendJson(res, 500, errorBody(`fake-openai: internal error: ${e.message}`, 'server_error'));
        else res.destroy();
      }
    });
  });
  server.keepAliveTimeout = 120000;
  server.headersTimeout = 130000;
  server.requestTimeout = 0;
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
  });
  server.on('error', (e) => {
    process.stderr.write(`fake-openai: ${e.message}\n`);
    process.exit(1);
  });
  server.listen(opt.port, '127.0.0.1', () => {
    process.stdout.write(`listening ${server.address().port}\n`);
  });
  const quit = () => process.exit(0);
  process.on('SIGTERM', quit);
  process.on('SIGINT', quit);
}

main();
