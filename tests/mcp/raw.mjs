// SPDX-License-Identifier: MIT
// Malformed and out-of-order JSON-RPC sent raw to `bridle mcp serve`:
//   node raw.mjs BRIDLE
// Each line sent expects one answer (or none); answers come in order.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const bridle = process.argv[2];
let checks = 0;
function ok(cond, what, extra) {
  if (!cond) {
    console.error(`FAIL: ${what}: ${JSON.stringify(extra)}`);
    process.exit(1);
  }
  console.error(`ok ${++checks} - ${what}`);
}
const L = (o) => (typeof o === "string" ? o : JSON.stringify(o));
// [line, expected answer: {id, code} | {id, result: fn} | null]
const steps = [
  ["this is not json", { id: null, code: -32700 }, "not JSON: parse error, id null"],
  ['{"jsonrpc":"2.0","id":1,"method":"tools/list"', { id: null, code: -32700 }, "truncated JSON"],
  [{ jsonrpc: "2.0", id: 1, method: "tools/list" }, { id: 1, code: -32600 }, "a request before initialize"],
  [{ jsonrpc: "2.0", id: 2, method: "ping" }, { id: 2, result: (r) => JSON.stringify(r) === "{}" }, "ping before initialize"],
  [{ jsonrpc: "2.0", id: 3, method: "initialize", params: {} }, { id: 3, code: -32602 }, "initialize without a version"],
  [{ jsonrpc: "2.0", id: 4, method: "initialize", params: { protocolVersion: "1999-01-01", capabilities: {} } },
    { id: 4, result: (r) => r.protocolVersion === "2025-11-25" && r.capabilities.tools && r.serverInfo.name === "bridle" },
    "initialize with an unknown version: the newest"],
  [{ jsonrpc: "2.0", id: 5, method: "initialize", params: { protocolVersion: "2025-03-26", capabilities: {} } },
    { id: 5, code: -32600 }, "a second initialize"],
  [{ jsonrpc: "2.0", method: "notifications/initialized" }, null, "a notification is not answered"],
  [{ jsonrpc: "2.0", method: "no/such/notification" }, null, "an unknown notification is not answered"],
  [{ jsonrpc: "2.0", id: 99, result: {} }, null, "a response to nothing is dropped"],
  [{ jsonrpc: "2.0", id: 6, method: "no/such/method" }, { id: 6, code: -32601 }, "unknown method"],
  [{ jsonrpc: "1.0", id: 7, method: "ping" }, { id: 7, code: -32600 }, "jsonrpc 1.0"],
  [{ jsonrpc: "2.0", id: { x: 1 }, method: "ping" }, { id: null, code: -32600 }, "an object id"],
  ["[]", { id: null, code: -32600 }, "a batch"],
  ["42", { id: null, code: -32600 }, "not an object"],
  [{ jsonrpc: "2.0", id: "s8", method: "tools/call", params: { name: "nope", arguments: {} } },
    { id: "s8", code: -32602 }, "unknown tool (string id)"],
  [{ jsonrpc: "2.0", id: 9, method: "tools/call", params: { arguments: {} } }, { id: 9, code: -32602 }, "tools/call without a name"],
  [{ jsonrpc: "2.0", id: 10, method: "tools/call", params: { name: "read_file", arguments: { path: ["x"] } } },
    { id: 10, code: -32602 }, "arguments against the schema"],
  [{ jsonrpc: "2.0", id: 11, method: "tools/call", params: { name: "read_file", arguments: "x" } },
    { id: 11, code: -32602 }, "arguments not an object"],
  [{ jsonrpc: "2.0", id: 12, method: "tools/list", params: { cursor: "zzz" } }, { id: 12, code: -32602 }, "a cursor never given"],
  [{ jsonrpc: "2.0", id: 13, method: "tools/list" }, { id: 13, result: (r) => r.tools.length === 9 }, "tools/list"],
  [{ jsonrpc: "2.0", id: 14, method: "tools/call", params: { name: "exec_command", arguments: { cmd: "touch x" } } },
    { id: 14, result: (r) => r.isError === true }, "ask without elicitation: isError"],
];

const child = spawn(bridle, ["mcp", "serve"], { stdio: ["pipe", "pipe", "inherit"] });
const answers = [];
const rl = createInterface({ input: child.stdout });
rl.on("line", (l) => answers.push(l));
for (const [line] of steps) child.stdin.write(L(line) + "\n");
child.stdin.end();
const code = await new Promise((res) => child.on("close", (c) => res(c)));
ok(code === 0, "the server ends at EOF with status 0", code);
const expected = steps.filter((s) => s[1] !== null);
ok(answers.length === expected.length, `${expected.length} answers`, answers);
expected.forEach(([, want, what], i) => {
  let a;
  try {
    a = JSON.parse(answers[i]);
  } catch {
    ok(false, what + ": the answer is JSON", answers[i]);
  }
  ok(a.jsonrpc === "2.0" && JSON.stringify(a.id) === JSON.stringify(want.id), what + ": id", a);
  if (want.code !== undefined) ok(a.error?.code === want.code && typeof a.error.message === "string", what, a);
  else ok(a.result && want.result(a.result), what, a);
});

// ---- phase 2: an approval asked while other messages arrive ----
// The answers to the server's elicitation requests are sent ahead: the server
// reads one message at a time, so they arrive while it waits. Requests other
// than ping wait for the approval; a cancelled call is not answered.
const init = { jsonrpc: "2.0", id: 1, method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: { elicitation: {} }, clientInfo: { name: "raw", version: "0" } } };
const lines2 = [
  init,
  { jsonrpc: "2.0", method: "notifications/initialized" },
  { jsonrpc: "2.0", id: 20, method: "tools/call", params: { name: "exec_command", arguments: { cmd: "touch approved.txt" } } },
  { jsonrpc: "2.0", id: 21, method: "ping" },
  { jsonrpc: "2.0", id: 22, method: "tools/list" },
  "garbage while waiting",
  { jsonrpc: "2.0", id: 77, result: { action: "accept", content: { approve: true } } }, // not the pending id
  { jsonrpc: "2.0", id: 1, result: { action: "accept", content: { approve: true } } },
  { jsonrpc: "2.0", id: 23, method: "tools/call", params: { name: "exec_command", arguments: { cmd: "touch cancelled.txt" } } },
  { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 23, reason: "changed my mind" } },
  { jsonrpc: "2.0", id: 24, method: "tools/call", params: { name: "exec_command", arguments: { cmd: "touch refused.txt" } } },
  { jsonrpc: "2.0", id: 3, error: { code: -32603, message: "no UI here" } },
  { jsonrpc: "2.0", id: 25, method: "tools/call", params: { name: "list_dir", arguments: {} } },
];
const child2 = spawn(bridle, ["mcp", "serve"], { stdio: ["pipe", "pipe", "inherit"] });
const got = [];
createInterface({ input: child2.stdout }).on("line", (l) => got.push(JSON.parse(l)));
for (const l of lines2) child2.stdin.write(L(l) + "\n");
child2.stdin.end();
const code2 = await new Promise((res) => child2.on("close", (c) => res(c)));
ok(code2 === 0, "phase 2: the server ends at EOF with status 0", code2);
const seq = got.map((a) => (a.method ? `${a.method}#${a.id}` : `${a.id}:${a.error ? a.error.code : "ok"}`));
const want2 = ["1:ok", "elicitation/create#1", "21:ok", "null:-32700", "20:ok", "22:ok", "elicitation/create#2",
  "elicitation/create#3", "24:ok", "25:ok"];
ok(JSON.stringify(seq) === JSON.stringify(want2), "phase 2: the order of messages", seq);
ok(got[0].result.protocolVersion === "2025-06-18", "phase 2: the client's version is kept", got[0]);
ok(got[1].params.requestedSchema.properties.approve.type === "boolean" && got[1].params.message.includes("touch approved.txt"),
  "phase 2: the elicitation names the call", got[1]);
ok(got[4].result.isError === false, "phase 2: the approved call ran", got[4]);
ok(got[5].result.tools.length === 9, "phase 2: the queued tools/list answered after", got[5]);
ok(got[8].result.isError === true && /no UI here/.test(got[8].result.content[0].text), "phase 2: an error answer refuses", got[8]);
const listing = got[9].result.content[0].text;
ok(listing.includes("approved.txt") && !listing.includes("cancelled.txt") && !listing.includes("refused.txt"),
  "phase 2: only the approved command ran", listing);
console.error(`all ${checks} checks passed`);
