// SPDX-License-Identifier: MIT
// A scripted MCP stdio server for tests/integration/mcp_client.sh: the cases
// the real servers do not show.
//   node scripted.mjs paged         tools/list in 3 pages; before page 1 it sends
//                                   a ping and an unknown request and a stale answer;
//                                   page 3 names what the client answered
//   node scripted.mjs endless       tools/list always has a new nextCursor
//   node scripted.mjs version V     initialize answers protocol version V
//   node scripted.mjs silent        never answers
import * as readline from "node:readline";

const mode = process.argv[2] || "paged";
const version = process.argv[3] || "2025-06-18";
const send = (m) => process.stdout.write(JSON.stringify({ jsonrpc: "2.0", ...m }) + "\n");
const answers = {};
let page = 0;

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const m = JSON.parse(line);
  if (mode === "silent") return;
  if (!m.method) {
    answers[m.id] = m; // the client's answers to our requests
    return;
  }
  if (m.method === "initialize") {
    send({ id: m.id, result: { protocolVersion: mode === "version" ? version : "2025-06-18",
                               capabilities: { tools: { listChanged: true } },
                               serverInfo: { name: "scripted", version: "1" } } });
  } else if (m.method === "tools/list") {
    page++;
    const tool = (name) => ({ name, inputSchema: { type: "object" } });
    if (mode === "endless") {
      send({ id: m.id, result: { tools: [tool("t" + page)], nextCursor: "c" + page } });
    } else if (page === 1) {
      send({ id: "s1", method: "ping" });
      send({ id: "s2", method: "sampling/createMessage", params: {} });
      send({ id: 999, result: {} }); // an answer to nothing
      send({ method: "notifications/tools/list_changed" });
      send({ id: m.id, result: { tools: [tool("a"), { description: "no name" }], nextCursor: "c2" } });
    } else if (page === 2 && m.params && m.params.cursor === "c2") {
      setTimeout(() => send({ id: m.id, result: { tools: [tool("b")], nextCursor: "c3" } }), 50);
    } else if (m.params && m.params.cursor === "c3") {
      const ping = answers.s1 && answers.s1.result && Object.keys(answers.s1.result).length === 0;
      const unknown = answers.s2 && answers.s2.error && answers.s2.error.code === -32601;
      send({ id: m.id, result: { tools: [tool(ping ? "ping_answered" : "ping_missing"),
                                         tool(unknown ? "unknown_refused" : "unknown_missing")] } });
    } else {
      send({ id: m.id, error: { code: -32602, message: "bad cursor" } });
    }
  } else if (m.id !== undefined) {
    send({ id: m.id, error: { code: -32601, message: "method not found" } });
  }
});
