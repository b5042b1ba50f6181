// SPDX-License-Identifier: MIT
// `bridle mcp serve` held to the official MCP TypeScript SDK's client:
//   node client.mjs BRIDLE DIR
// DIR: a scratch directory (the manifest and the policy are written there).
// Lists the tools, calls each one, checks the gateway's deny and ask (refused
// without elicitation; approved and declined through elicitation), and the
// errors for an unknown tool and bad arguments. Exits 1 on the first failure.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { answerApprovals, checkApprovals } from "./approvals.mjs";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const [bridle, dir] = process.argv.slice(2);
if (!bridle || !dir) {
  console.error("usage: node client.mjs BRIDLE DIR");
  process.exit(2);
}
let checks = 0;
function ok(cond, what, extra) {
  if (!cond) {
    console.error(`FAIL: ${what}${extra !== undefined ? ": " + JSON.stringify(extra).slice(0, 2000) : ""}`);
    process.exit(1);
  }
  checks++;
  console.error(`ok ${checks} - ${what}`);
}
const text = (r) => (r.content || []).filter((c) => c.type === "text").map((c) => c.text).join("");

const manifest = join(dir, "manifest.yaml");
const policy = join(dir, "policy.yaml");
writeFileSync(
  manifest,
  "version: 1\nentries:\n  - {type: file, path: hello.txt, content: \"hello world\\n\"}\nnetwork: none\n",
);
writeFileSync(
  policy,
  [
    "default: ask",
    "tools:",
    "  exec_command: allow",
    "  write_stdin: allow",
    "  read_file: allow",
    "  write_file: allow",
    "  list_dir: allow",
    "  search: allow",
    "  apply_patch: allow",
    "  snapshot: allow",
    "  restore: allow",
    "commands:",
    "  - {prefix: [rm], decision: deny, reason: \"nothing is deleted here\"}",
    "  - {prefix: [touch], decision: ask}",
    "",
  ].join("\n"),
);

async function connect(capabilities) {
  const transport = new StdioClientTransport({
    command: bridle,
    args: ["mcp", "serve", "--manifest", manifest, "--policy", policy],
    stderr: "inherit",
  });
  const client = new Client({ name: "bridle-test", version: "0.0.0" }, { capabilities });
  return { client, transport };
}

async function expectRpcError(p, code, what) {
  try {
    const r = await p;
    ok(false, what + ": wanted error " + code, r);
  } catch (e) {
    ok(e instanceof McpError && e.code === code, `${what}: error ${code}`, { code: e.code, msg: e.message });
    return e;
  }
}

// ---- a client without elicitation: every tool ----
{
  const { client, transport } = await connect({});
  await client.connect(transport);
  const info = client.getServerVersion();
  ok(info && info.name === "bridle", "serverInfo names bridle", info);
  ok(client.getServerCapabilities()?.tools, "the tools capability", client.getServerCapabilities());

  const { tools, nextCursor } = await client.listTools();
  const names = tools.map((t) => t.name).sort();
  const want = ["apply_patch", "exec_command", "list_dir", "read_file", "restore", "search", "snapshot",
    "write_file", "write_stdin"];
  ok(JSON.stringify(names) === JSON.stringify(want), "tools/list: the nine tools", names);
  ok(nextCursor === undefined, "one page");
  ok(tools.every((t) => t.inputSchema?.type === "object" && t.description), "each has a description and an object schema");
  ok(tools.find((t) => t.name === "read_file").annotations?.readOnlyHint === true, "read_file is read-only");

  let r = await client.callTool({ name: "read_file", arguments: { path: "hello.txt" } });
  ok(!r.isError && text(r).includes("hello world"), "read_file: the manifest's file", r);

  r = await client.callTool({ name: "write_file", arguments: { path: "a.txt", content: "alpha\n" } });
  ok(!r.isError, "write_file", r);

  r = await client.callTool({ name: "list_dir", arguments: {} });
  ok(!r.isError && text(r).includes("a.txt") && text(r).includes("hello.txt"), "list_dir", r);

  r = await client.callTool({ name: "search", arguments: { pattern: "alp+ha" } });
  ok(!r.isError && text(r).includes("a.txt:1:alpha"), "search", r);

  r = await client.callTool({
    name: "apply_patch",
    arguments: { patch: "*** Begin Patch\n*** Update File: a.txt\n@@\n-alpha\n+beta\n*** End Patch\n" },
  });
  ok(!r.isError, "apply_patch", r);

  r = await client.callTool({ name: "exec_command", arguments: { cmd: "echo out-$((6*7)); cat a.txt" } });
  ok(!r.isError && text(r).includes("out-42") && text(r).includes("beta"), "exec_command: ran in the workspace", r);

  r = await client.callTool({ name: "exec_command", arguments: { cmd: "read x; echo got:$x", yield_time_ms: 300 } });
  const m = /session ID (\d+)/.exec(text(r));
  ok(!r.isError && m, "exec_command: a session still running", r);
  r = await client.callTool({
    name: "write_stdin",
    arguments: { session_id: Number(m[1]), chars: "yes\n", yield_time_ms: 5000 },
  });
  ok(!r.isError && text(r).includes("got:yes"), "write_stdin: the session read it", r);

  r = await client.callTool({ name: "snapshot", arguments: { label: "beta" } });
  const snap = r.structuredContent?.snapshot_id;
  ok(!r.isError && typeof snap === "string" && text(r).includes(snap), "snapshot: its id", r);
  await client.callTool({ name: "write_file", arguments: { path: "a.txt", content: "changed\n" } });
  r = await client.callTool({ name: "restore", arguments: { snapshot_id: snap } });
  ok(!r.isError && r.structuredContent?.restored_from === snap, "restore", r);
  r = await client.callTool({ name: "read_file", arguments: { path: "a.txt" } });
  ok(!r.isError && text(r).includes("beta") && !text(r).includes("changed"), "restore: the snapshot's workspace", r);

  r = await client.callTool({ name: "restore", arguments: { snapshot_id: "000000000000" } });
  ok(r.isError, "restore of no such snapshot: a tool error", r);

  r = await client.callTool({ name: "read_file", arguments: { path: "nope.txt" } });
  ok(r.isError, "read_file of a missing file: a tool error", r);

  r = await client.callTool({ name: "exec_command", arguments: { cmd: "rm a.txt" } });
  ok(r.isError && /denied/.test(text(r)) && text(r).includes("nothing is deleted here"), "deny: refused with the reason", r);
  r = await client.callTool({ name: "read_file", arguments: { path: "a.txt" } });
  ok(!r.isError, "deny: the file is still there", r);

  r = await client.callTool({ name: "exec_command", arguments: { cmd: "touch b.txt" } });
  ok(r.isError && /approval/.test(text(r)) && /elicitation/.test(text(r)), "ask without elicitation: refused", r);

  await expectRpcError(client.callTool({ name: "no_such_tool", arguments: {} }), -32602, "unknown tool");
  await expectRpcError(client.callTool({ name: "read_file", arguments: { path: 7 } }), -32602, "argument of the wrong type");
  await expectRpcError(client.callTool({ name: "read_file", arguments: { path: "x", extra: 1 } }), -32602, "unknown argument");
  await expectRpcError(client.callTool({ name: "write_file", arguments: { path: "x" } }), -32602, "missing argument");
  await client.ping();
  ok(true, "ping");
  await client.close();
}

// ---- a client with elicitation: approvals ----
{
  const { client, transport } = await connect({ elicitation: {} });
  const asked = answerApprovals(client);
  await client.connect(transport);
  await checkApprovals(client, asked, ok, text, "ask + elicitation accepted: it ran");
  await client.close();
}
console.error(`all ${checks} checks passed`);
