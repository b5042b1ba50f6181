// SPDX-License-Identifier: MIT
// A scripted MCP server over streamable HTTP (node:http only) for
// tests/integration/mcp_client_http.sh:
//
//   node scripted_http.mjs MODE
//
// It listens on 127.0.0.1 (a free port) and prints {"port":N} first, then one
// JSON line per request it saw: {"m":"POST"|"GET"|"DELETE","sid":...,"ver":...,
// "lei":Last-Event-ID,"accept":...,"x":X-Test header,"rpc":method or "answer:<id>"}.
// Modes (all answer initialize, tools/list and tools/call echo):
//   resume    tools/call "resumable": an SSE stream with retry: 100, a priming
//             event (id r-1), a notification (id r-2), then the connection is
//             dropped; a GET with Last-Event-ID r-2 replays the answer (id r-3).
//             "closed": a priming event (id c-1), then the server ends the stream
//             cleanly (polling); a GET with Last-Event-ID c-1 brings the answer.
//             "unresumable": ids, then dropped; every GET resuming it is dropped too.
//   get       the GET stream: retry: 200, a priming event, list_changed (g-2), a
//             ping request (g-3); once the ping is answered the stream ends; a
//             GET with Last-Event-ID g-3 is held open.
//   noresume  tools/call "cut": an SSE stream without ids dropped mid-way;
//             "gone": one without ids ended without the answer.
//   noget     GET and DELETE answer 405.
//   flap      every GET stream: retry: 10, a priming event (id f-N), then it ends.
// Other GETs are held open without events. Bounded: exits after 120 s.
import http from "node:http";

const mode = process.argv[2] || "resume";
const SID = "sess-42";
const log = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const rpc = (id, result) => JSON.stringify({ jsonrpc: "2.0", id, result });
const text = (t) => ({ content: [{ type: "text", text: t }] });
const sseHead = (res) => {
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
  res.flushHeaders();
};
const ev = (res, id, data) => res.write((id ? `id: ${id}\n` : "") + `data: ${data}\n\n`);
const drop = (res) => setTimeout(() => res.socket && res.socket.destroy(), 100);

const answers = {}; // the answer kept for a resumable stream, by its last id
let pingAnswered = null; // resolves when the GET stream's ping is answered
const pingDone = new Promise((r) => (pingAnswered = r));
let gets = 0;

function onCall(msg, res) {
  const name = msg.params?.name;
  const args = msg.params?.arguments || {};
  if (name === "echo") {
    sseHead(res);
    ev(res, "e-1", "");
    ev(res, "e-2", rpc(msg.id, text("echo: " + (args.message ?? ""))));
    res.end();
  } else if (name === "resumable" && mode === "resume") {
    sseHead(res);
    res.write("retry: 100\n");
    ev(res, "r-1", "");
    ev(res, "r-2", JSON.stringify({ jsonrpc: "2.0", method: "notifications/message",
                                    params: { level: "info", data: "working" } }));
    answers["r-2"] = { id: "r-3", data: rpc(msg.id, text("resumed answer")) };
    drop(res);
  } else if (name === "closed" && mode === "resume") {
    sseHead(res);
    res.write("retry: 50\n");
    ev(res, "c-1", "");
    answers["c-1"] = { id: "c-2", data: rpc(msg.id, text("polled answer")) };
    res.end();
  } else if (name === "unresumable" && mode === "resume") {
    sseHead(res);
    ev(res, "u-1", "");
    drop(res);
  } else if (name === "cut" && mode === "noresume") {
    sseHead(res);
    ev(res, null, JSON.stringify({ jsonrpc: "2.0", method: "notifications/message",
                                   params: { level: "info", data: "half" } }));
    drop(res);
  } else if (name === "gone" && mode === "noresume") {
    sseHead(res);
    res.end(": nothing more\n\n");
  } else {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(rpc(msg.id, { content: [{ type: "text", text: "no such tool" }], isError: true }));
  }
}

function onPost(req, res, body) {
  let msg;
  try {
    msg = JSON.parse(body);
  } catch {
    res.writeHead(400).end();
    return;
  }
  const entry = { m: "POST", sid: req.headers["mcp-session-id"] ?? null,
                  ver: req.headers["mcp-protocol-version"] ?? null, accept: req.headers.accept ?? null,
                  x: req.headers["x-test"] ?? null,
                  rpc: msg.method ?? "answer:" + msg.id };
  log(entry);
  if (msg.method === "initialize") {
    res.writeHead(200, { "Content-Type": "application/json", "Mcp-Session-Id": SID });
    res.end(rpc(msg.id, { protocolVersion: "2025-11-25", capabilities: { tools: { listChanged: true } },
                          serverInfo: { name: "scripted-http", version: "1" } }));
    return;
  }
  if (entry.sid !== SID) {
    res.writeHead(400, { "Content-Type": "text/plain" }).end("no session");
    return;
  }
  if (msg.method === undefined || msg.id === undefined) { // notifications and answers
    if (msg.id === "srv-ping-1" && msg.result) pingAnswered();
    res.writeHead(202).end();
    return;
  }
  if (msg.method === "tools/list") {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(rpc(msg.id, { tools: ["echo", "resumable", "closed", "unresumable", "cut", "gone"].map(
      (name) => ({ name, inputSchema: { type: "object" } })) }));
    return;
  }
  if (msg.method === "tools/call") {
    onCall(msg, res);
    return;
  }
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ jsonrpc: "2.0", id: msg.id, error: { code: -32601, message: "method not found" } }));
}

function onGet(req, res) {
  const lei = req.headers["last-event-id"] ?? null;
  log({ m: "GET", sid: req.headers["mcp-session-id"] ?? null, ver: req.headers["mcp-protocol-version"] ?? null,
        accept: req.headers.accept ?? null, x: req.headers["x-test"] ?? null, lei });
  if (mode === "noget") {
    res.writeHead(405, { Allow: "POST" }).end();
    return;
  }
  if (lei && /^[ruc]-/.test(lei)) { // resuming an answer stream
    const a = answers[lei];
    if (!a) {
      req.socket.destroy();
      return;
    }
    sseHead(res);
    ev(res, a.id, a.data);
    res.end();
    return;
  }
  gets++;
  sseHead(res);
  if (mode === "get" && gets === 1) {
    res.write("retry: 200\n");
    ev(res, "g-1", "");
    ev(res, "g-2", JSON.stringify({ jsonrpc: "2.0", method: "notifications/tools/list_changed" }));
    ev(res, "g-3", JSON.stringify({ jsonrpc: "2.0", id: "srv-ping-1", method: "ping" }));
    const limit = setTimeout(() => res.end(), 10000);
    pingDone.then(() => {
      clearTimeout(limit);
      res.end();
    });
    return;
  }
  if (mode === "flap") {
    res.write("retry: 10\n");
    ev(res, "f-" + gets, "");
    res.end();
    return;
  }
  res.write(": open\n\n"); // held open until the client goes
}

const server = http.createServer((req, res) => {
  if (req.url !== "/mcp") {
    res.writeHead(404).end();
    return;
  }
  if (req.method === "POST") {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c) => (body += c));
    req.on("end", () => onPost(req, res, body));
  } else if (req.method === "GET") {
    onGet(req, res);
  } else if (req.method === "DELETE") {
    log({ m: "DELETE", sid: req.headers["mcp-session-id"] ?? null });
    res.writeHead(mode === "noget" ? 405 : 200).end();
  } else {
    res.writeHead(405).end();
  }
});
server.listen(0, "127.0.0.1", () => log({ port: server.address().port }));
setTimeout(() => process.exit(0), 120000).unref();
