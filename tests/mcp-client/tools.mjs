// SPDX-License-Identifier: MIT
// A scripted MCP stdio server for tests/integration/run_mcp.sh (an agent run
// using an MCP server's tools). Tools:
//   add {a, b}      read-only: the sum
//   note {text}     appends text to $NOTE_FILE (a side effect outside the sandbox)
//   slow {text}     appends "start <text>" to $NOTE_FILE, then answers after 60 s
//   crash {}        says so on stderr and exits with status 3
//   grow {}         adds the tool "extra" and sends notifications/tools/list_changed
//   extra {}        (after grow) answers "extra works"
//   vanish {}       sends notifications/tools/list_changed, then exits for good:
//                   it leaves $NOTE_FILE.gone, and a start that finds it exits 5
// Every start appends "started PID" to $NOTE_FILE.
import * as fs from "node:fs";
import * as readline from "node:readline";

const note = (line) => { if (process.env.NOTE_FILE) fs.appendFileSync(process.env.NOTE_FILE, line + "\n"); };
const send = (m) => process.stdout.write(JSON.stringify({ jsonrpc: "2.0", ...m }) + "\n");
const obj = (props, required) => ({ type: "object", properties: props, required: required || [] });
const tools = [
  { name: "add", description: "Add two numbers.", annotations: { readOnlyHint: true },
    inputSchema: obj({ a: { type: "number" }, b: { type: "number" } }, ["a", "b"]) },
  { name: "note", description: "Write a note outside the sandbox.", inputSchema: obj({ text: { type: "string" } }, ["text"]) },
  { name: "slow", description: "Write a note, slowly.", inputSchema: obj({ text: { type: "string" } }, ["text"]) },
  { name: "crash", description: "Exit.", inputSchema: obj({}) },
  { name: "grow", description: "Add a tool.", inputSchema: obj({}) },
  { name: "vanish", description: "Go away.", inputSchema: obj({}) },
];
if (process.env.NOTE_FILE && fs.existsSync(process.env.NOTE_FILE + ".gone")) {
  process.stderr.write("refusing to start\n");
  process.exit(5);
}
note("started " + process.pid);
const text = (id, t, isError) => send({ id, result: { content: [{ type: "text", text: t }], isError: !!isError } });

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const m = JSON.parse(line);
  if (m.method === "initialize") {
    send({ id: m.id, result: { protocolVersion: "2025-06-18", capabilities: { tools: { listChanged: true } },
                               serverInfo: { name: "bridle-test-tools", version: "1" } } });
  } else if (m.method === "tools/list") {
    send({ id: m.id, result: { tools } });
  } else if (m.method === "tools/call") {
    const a = m.params.arguments || {};
    switch (m.params.name) {
      case "add": return text(m.id, String(a.a + a.b));
      case "note": note(a.text); return text(m.id, "noted " + a.text);
      case "slow": note("start " + a.text); setTimeout(() => text(m.id, "slow done"), 60000); return;
      case "crash": process.stderr.write("crashing on purpose\n"); process.exit(3); return;
      case "grow":
        if (!tools.find((t) => t.name === "extra"))
          tools.push({ name: "extra", description: "Added later.", inputSchema: obj({}) });
        send({ method: "notifications/tools/list_changed" });
        return text(m.id, "grown");
      case "extra": return text(m.id, "extra works");
      case "vanish":
        fs.writeFileSync(process.env.NOTE_FILE + ".gone", "");
        send({ method: "notifications/tools/list_changed" });
        text(m.id, "vanishing");
        process.exit(0); // writes to a pipe are synchronous on Linux: both went out
        return;
      default: return text(m.id, "no tool " + m.params.name, true);
    }
  } else if (m.id !== undefined && m.method) {
    send({ id: m.id, error: { code: -32601, message: "method not found" } });
  }
});
