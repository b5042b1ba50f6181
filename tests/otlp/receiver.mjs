// SPDX-License-Identifier: MIT
// A local OTLP/HTTP trace receiver for tests (127.0.0.1 only).
//
//   node tests/otlp/receiver.mjs --out FILE [--port N] [--fail N] [--fail-status S] [--partial N]
//
// POST /v1/traces with Content-Type application/json (and Content-Encoding gzip
// or none). Each body is checked against OpenTelemetry's own protobuf
// definitions (@opentelemetry/otlp-transformer's generated opentelemetry-proto
// root, protobufjs): the OTLP JSON mapping (hex trace/span ids, decimal string
// nanoseconds, enum integers) is turned into a message, encoded to protobuf
// binary, decoded again and compared with what was sent, so a misnamed field
// or a wrong type shows as a difference. Plus checks of its own (ids, times,
// kinds, the resource's service.name).
//
// --out FILE: one JSON line per request: {"n","path","headers" (lower-cased),
//   "encoding","ok","error"?,"request"? (the decoded request, ids in hex)}.
// --fail N: the first N requests get --fail-status (default 503) with
//   Retry-After: 0, before any check (logged with "failed": true).
// --partial N: accepted requests answer partialSuccess {rejectedSpans: N}.
// Prints "listening PORT" when ready; runs until SIGTERM/SIGINT.
import { createServer } from 'node:http';
import { appendFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const Req = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const out = opt('--out');
const port = Number(opt('--port', '0'));
let failLeft = Number(opt('--fail', '0'));
const failStatus = Number(opt('--fail-status', '503'));
const partial = Number(opt('--partial', '0'));
if (!out) {
  process.stderr.write('usage: receiver.mjs --out FILE [--port N] [--fail N] [--fail-status S] [--partial N]\n');
  process.exit(2);
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const NANOS = /^[0-9]{1,20}$/;

// Field names of the OTLP JSON mapping, per message.
const FIELDS = {
  request: ['resourceSpans'],
  resourceSpans: ['resource', 'scopeSpans', 'schemaUrl'],
  resource: ['attributes', 'droppedAttributesCount'],
  scopeSpans: ['scope', 'spans', 'schemaUrl'],
  scope: ['name', 'version', 'attributes', 'droppedAttributesCount'],
  span: ['traceId', 'spanId', 'traceState', 'parentSpanId', 'flags', 'name', 'kind', 'startTimeUnixNano',
    'endTimeUnixNano', 'attributes', 'droppedAttributesCount', 'events', 'droppedEventsCount', 'links',
    'droppedLinksCount', 'status'],
  event: ['timeUnixNano', 'name', 'attributes', 'droppedAttributesCount'],
  status: ['message', 'code'],
  keyValue: ['key', 'value'],
  anyValue: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'],
};

function fields(what, o, where) {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error(`${where}: not an object`);
  for (const k of Object.keys(o)) if (!FIELDS[what].includes(k)) throw new Error(`${where}: unknown field '${k}'`);
}

function checkValue(v, where) {
  fields('anyValue', v, where);
  const ks = Object.keys(v);
  if (ks.length !== 1) throw new Error(`${where}: an AnyValue holds exactly one of its fields, got [${ks}]`);
  const k = ks[0];
  const x = v[k];
  if (k === 'stringValue' && typeof x !== 'string') throw new Error(`${where}.stringValue: not a string`);
  if (k === 'boolValue' && typeof x !== 'boolean') throw new Error(`${where}.boolValue: not a boolean`);
  if (k === 'intValue' && !(typeof x === 'string' && /^-?[0-9]{1,19}$/.test(x)))
    throw new Error(`${where}.intValue: not a decimal string: ${JSON.stringify(x)}`);
  if (k === 'doubleValue' && typeof x !== 'number') throw new Error(`${where}.doubleValue: not a number`);
  if (k === 'arrayValue') (x.values || []).forEach((e, i) => checkValue(e, `${where}.arrayValue[${i}]`));
  if (k === 'kvlistValue') checkAttrs(x.values || [], `${where}.kvlistValue`);
}

function checkAttrs(attrs, where) {
  if (!Array.isArray(attrs)) throw new Error(`${where}: attributes are not an array`);
  const seen = new Set();
  attrs.forEach((a, i) => {
    fields('keyValue', a, `${where}[${i}]`);
    if (typeof a.key !== 'string' || !a.key) throw new Error(`${where}[${i}]: no key`);
    if (seen.has(a.key)) throw new Error(`${where}: key '${a.key}' twice`);
    seen.add(a.key);
    checkValue(a.value, `${where}[${i}](${a.key})`);
  });
}

function checkSpan(s, where) {
  fields('span', s, where);
  if (!HEX32.test(s.traceId || '')) throw new Error(`${where}.traceId: not 32 lower-case hex digits: ${s.traceId}`);
  if (!HEX16.test(s.spanId || '')) throw new Error(`${where}.spanId: not 16 lower-case hex digits: ${s.spanId}`);
  if ('parentSpanId' in s && !HEX16.test(s.parentSpanId)) throw new Error(`${where}.parentSpanId: not 16 hex digits`);
  if (typeof s.name !== 'string' || !s.name) throw new Error(`${where}.name: missing`);
  if (!Number.isInteger(s.kind) || s.kind < 1 || s.kind > 5) throw new Error(`${where}.kind: not 1..5: ${s.kind}`);
  for (const t of ['startTimeUnixNano', 'endTimeUnixNano'])
    if (typeof s[t] !== 'string' || !NANOS.test(s[t])) throw new Error(`${where}.${t}: not a decimal string`);
  if (BigInt(s.endTimeUnixNano) < BigInt(s.startTimeUnixNano)) throw new Error(`${where}: ends before it starts`);
  checkAttrs(s.attributes || [], `${where}.attributes`);
  (s.events || []).forEach((e, i) => {
    fields('event', e, `${where}.events[${i}]`);
    if (typeof e.timeUnixNano !== 'string' || !NANOS.test(e.timeUnixNano))
      throw new Error(`${where}.events[${i}].timeUnixNano: not a decimal string`);
    checkAttrs(e.attributes || [], `${where}.events[${i}].attributes`);
  });
  if (s.status !== undefined) {
    fields('status', s.status, `${where}.status`);
    if (s.status.code !== undefined && ![0, 1, 2].includes(s.status.code))
      throw new Error(`${where}.status.code: not 0..2`);
  }
}

function checkRequest(j) {
  fields('request', j, 'request');
  if (!Array.isArray(j.resourceSpans) || !j.resourceSpans.length) throw new Error('no resourceSpans');
  j.resourceSpans.forEach((rs, i) => {
    const w = `resourceSpans[${i}]`;
    fields('resourceSpans', rs, w);
    fields('resource', rs.resource || {}, `${w}.resource`);
    checkAttrs(rs.resource?.attributes || [], `${w}.resource.attributes`);
    const svc = (rs.resource?.attributes || []).find((a) => a.key === 'service.name');
    if (!svc || !svc.value.stringValue) throw new Error(`${w}.resource: no service.name`);
    (rs.scopeSpans || []).forEach((ss, k) => {
      fields('scopeSpans', ss, `${w}.scopeSpans[${k}]`);
      if (ss.scope) fields('scope', ss.scope, `${w}.scopeSpans[${k}].scope`);
      (ss.spans || []).forEach((s, n) => checkSpan(s, `${w}.scopeSpans[${k}].spans[${n}]`));
    });
  });
}

// The OTLP JSON mapping -> protobufjs's object form: ids hex -> bytes.
function toProtoObject(v, key) {
  if (Array.isArray(v)) return v.map((e) => toProtoObject(e));
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = toProtoObject(x, k);
    return o;
  }
  if (key === 'traceId' || key === 'spanId' || key === 'parentSpanId') return Buffer.from(v, 'hex');
  return v;
}

// protobufjs's object form (bytes as base64) -> the OTLP JSON mapping.
function fromProtoObject(v, key) {
  if (Array.isArray(v)) return v.map((e) => fromProtoObject(e));
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = fromProtoObject(x, k);
    return o;
  }
  if (key === 'traceId' || key === 'spanId' || key === 'parentSpanId') return Buffer.from(v, 'base64').toString('hex');
  return v;
}

// proto3 leaves default values out: drop them on both sides before comparing.
function normal(v) {
  if (Array.isArray(v)) return v.length ? v.map(normal) : undefined;
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) {
      const x = normal(v[k]);
      if (x !== undefined) o[k] = x;
    }
    return Object.keys(o).length ? o : undefined;
  }
  if (v === '' || v === 0 || v === '0' || v === false || v === null) return undefined;
  return v;
}

// Through protobuf binary and back; throws when it does not come back the same.
function roundTrip(j) {
  const msg = Req.fromObject(toProtoObject(j));
  const bytes = Req.encode(msg).finish();
  const back = fromProtoObject(Req.toObject(Req.decode(bytes), { longs: String, enums: Number, bytes: String }));
  const a = JSON.stringify(normal(j));
  const b = JSON.stringify(normal(back));
  if (a !== b) {
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    throw new Error(`not the same through protobuf: sent ...${a.slice(Math.max(0, i - 80), i + 80)}... ` +
      `decoded ...${b.slice(Math.max(0, i - 80), i + 80)}...`);
  }
  return { back, bytes: bytes.length };
}

let n = 0;
const server = createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size <= 64 << 20) chunks.push(c);
  });
  req.on('end', () => {
    n += 1;
    const rec = { n, method: req.method, path: req.url, headers: req.headers, encoding: req.headers['content-encoding'] || null };
    const reply = (status, body, extra = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...extra });
      res.end(JSON.stringify(body));
    };
    if (failLeft > 0) {
      failLeft -= 1;
      appendFileSync(out, JSON.stringify({ ...rec, failed: true, ok: false }) + '\n');
      reply(failStatus, { code: 14, message: 'unavailable (test)' }, { 'retry-after': '0' });
      return;
    }
    try {
      if (req.method !== 'POST' || req.url !== '/v1/traces') throw Object.assign(new Error('not POST /v1/traces'), { status: 404 });
      if (!(req.headers['content-type'] || '').startsWith('application/json'))
        throw Object.assign(new Error(`content-type ${req.headers['content-type']}`), { status: 415 });
      let raw = Buffer.concat(chunks);
      rec.wire_bytes = raw.length;
      if (rec.encoding === 'gzip') raw = gunzipSync(raw);
      else if (rec.encoding) throw new Error(`content-encoding ${rec.encoding}`);
      const j = JSON.parse(raw.toString('utf8'));
      checkRequest(j);
      const { back, bytes } = roundTrip(j);
      rec.ok = true;
      rec.protobuf_bytes = bytes;
      rec.request = back;
      rec.raw = raw.toString('utf8');
      appendFileSync(out, JSON.stringify(rec) + '\n');
      reply(200, partial ? { partialSuccess: { rejectedSpans: String(partial), errorMessage: 'rejected (test)' } } : {});
    } catch (e) {
      rec.ok = false;
      rec.error = String(e.message || e);
      appendFileSync(out, JSON.stringify(rec) + '\n');
      reply(e.status || 400, { code: 3, message: rec.error });
    }
  });
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => server.close(() => process.exit(0)));
