// A webhook receiver as GitHub users write them: @octokit/webhooks with
// its Node middleware, which takes an event only when X-Hub-Signature-256
// is the HMAC-SHA256 of the body under the shared secret.
//
// Usage: node receiver.mjs <port> <secret> <logfile>
// Listens on 127.0.0.1:<port>:
//   POST /hook  createNodeMiddleware (JSON deliveries only: it answers 415
//               to any other Content-Type, 400 to a bad signature)
//   POST /form  content_type "form" deliveries, which the middleware does
//               not take: the signature is checked with the library's
//               verify() over the raw "payload=..." body, then the decoded
//               payload goes to webhooks.receive()
// Appends JSON lines to <logfile>:
//   {"kind":"accepted","path","id","name","payload","headers"}  an event the
//       library handed to onAny (signature verified)
//   {"kind":"response","path","method","id","hook_id","event",
//    "content_type","status"}  every request, with the status answered

import { AsyncLocalStorage } from "node:async_hooks";
import { appendFileSync } from "node:fs";
import { createServer } from "node:http";
import { Webhooks, createNodeMiddleware } from "@octokit/webhooks";

const [port, secret, logfile] = process.argv.slice(2);
if (!port || !secret || !logfile) {
  console.error("usage: node receiver.mjs <port> <secret> <logfile>");
  process.exit(2);
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const webhooks = new Webhooks({ secret, log: quiet });
const middleware = createNodeMiddleware(webhooks, { path: "/hook", log: quiet });
const current = new AsyncLocalStorage();

function record(obj) {
  appendFileSync(logfile, JSON.stringify(obj) + "\n");
}

webhooks.onAny(({ id, name, payload }) => {
  const req = current.getStore();
  record({
    kind: "accepted", path: req ? req.url : null, id, name, payload,
    headers: req ? req.headers : null,
  });
});

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function answer(res, status, text) {
  res.writeHead(status, { "content-type": "text/plain",
                          "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function form(req, res) {
  if (req.method !== "POST") return answer(res, 404, "not found\n");
  const type = req.headers["content-type"] || "";
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/.test(type)) {
    return answer(res, 415, "form deliveries only\n");
  }
  const raw = await readBody(req);
  const sig = req.headers["x-hub-signature-256"];
  if (!sig || !(await webhooks.verify(raw, sig).catch(() => false))) {
    return answer(res, 400, "signature does not match\n");
  }
  const fields = new URLSearchParams(raw);
  const keys = [...fields.keys()];
  let payload;
  try {
    if (keys.length !== 1 || keys[0] !== "payload") throw new Error(keys);
    payload = JSON.parse(fields.get("payload"));
  } catch {
    return answer(res, 400, "body is not payload=<JSON>\n");
  }
  await webhooks.receive({
    id: req.headers["x-github-delivery"],
    name: req.headers["x-github-event"], payload,
  });
  return answer(res, 200, "ok\n");
}

const server = createServer((req, res) => {
  res.on("finish", () => record({
    kind: "response", path: req.url, method: req.method,
    id: req.headers["x-github-delivery"] ?? null,
    hook_id: req.headers["x-github-hook-id"] ?? null,
    event: req.headers["x-github-event"] ?? null,
    content_type: req.headers["content-type"] ?? null,
    status: res.statusCode,
  }));

  current.run(req, async () => {
    try {
      if (req.url === "/form") return await form(req, res);
      const handled = await middleware(req, res);
      if (!handled && !res.headersSent) answer(res, 404, "not found\n");
    } catch (e) {
      console.error(e);
      if (!res.headersSent) answer(res, 500, "receiver error\n");
    }
  });
});

server.listen(Number(port), "127.0.0.1");
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
