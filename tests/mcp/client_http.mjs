// SPDX-License-Identifier: MIT
// `bridle mcp serve --http` held to the official MCP TypeScript SDK's
// streamable HTTP client:
//   node client_http.mjs URL TOKEN
// The server was started with a policy that allows read_file, write_file,
// exec_command and asks about `touch` (tests/integration/mcp_serve_http.sh).
// Initialize, list the tools, call tools, an approval through elicitation
// (approved, approve false, declined), the wrong token refused, then DELETE
// of the session. Exits 1 on the first failure.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { answerApprovals, checkApprovals } from "./approvals.mjs";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error("usage: node client_http.mjs URL TOKEN");
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

function connect(capabilities, tok = token) {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${tok}` } },
  });
  const client = new Client({ name: "bridle-http-test", version: "0.0.0" }, { capabilities });
  return { client, transport };
}

// ---- the wrong token: refused ----
{
  const { client, transport } = connect({}, "not-the-token");
  let failed = false;
  try {
    await client.connect(transport);
  } catch (e) {
    failed = /401|nauthorized/.test(String(e));
  }
  ok(failed, "a wrong token: initialize refused (401)");
}

// ---- tools ----
{
  const { client, transport } = connect({});
  await client.connect(transport);
  ok(client.getServerVersion()?.name === "bridle", "serverInfo names bridle", client.getServerVersion());
  ok(typeof transport.sessionId === "string" && /^[0-9a-f]{32}$/.test(transport.sessionId),
    "a 128-bit hex Mcp-Session-Id", transport.sessionId);
  const { tools } = await client.listTools();
  ok(tools.length === 9 && tools.some((t) => t.name === "exec_command"), "tools/list: nine tools",
    tools.map((t) => t.name));

  let r = await client.callTool({ name: "read_file", arguments: { path: "hello.txt" } });
  ok(!r.isError && text(r).includes("hello over http"), "read_file: the manifest's file", r);
  r = await client.callTool({ name: "write_file", arguments: { path: "a.txt", content: "alpha\n" } });
  ok(!r.isError, "write_file", r);
  r = await client.callTool({ name: "read_file", arguments: { path: "a.txt" } });
  ok(!r.isError && text(r).includes("alpha"), "read_file: what write_file wrote", r);
  r = await client.callTool({ name: "exec_command", arguments: { cmd: "echo out-$((6*7)); cat a.txt" } });
  ok(!r.isError && text(r).includes("out-42") && text(r).includes("alpha"), "exec_command in the workspace", r);
  r = await client.callTool({ name: "exec_command", arguments: { cmd: "touch nope.txt" } });
  ok(r.isError && /elicitation/.test(text(r)), "ask without elicitation: refused", r);
  await client.ping();
  ok(true, "ping");
  await transport.terminateSession();
  ok(transport.sessionId === undefined, "DELETE ended the session");
  await client.close();
}

// ---- approvals through elicitation (sent on the tools/call's event stream) ----
{
  const { client, transport } = connect({ elicitation: {} });
  const asked = answerApprovals(client);
  await client.connect(transport);
  await checkApprovals(client, asked, ok, text, "elicitation accepted: it ran");
  await transport.terminateSession();
  await client.close();
}
console.error(`all ${checks} checks passed`);
