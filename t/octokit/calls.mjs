// Runs Octokit REST calls against a test nginx, one after the other.
// Usage: node calls.mjs <baseUrl> <token> <calls>
// <calls> is a JSON array of {"op": label, "call": "repos.pingWebhook",
// "params": {...}}.  Prints one JSON line per call:
// {"op", "call", "status", "data", "headers"}; an HTTP error is printed
// with its status, response body and "error": "HttpError".  Exits
// non-zero on anything else (no server, a bug in the script).

import { Octokit } from "@octokit/rest";

const [baseUrl, token, callsJson] = process.argv.slice(2);
if (!baseUrl || !token || !callsJson) {
  console.error("usage: node calls.mjs <baseUrl> <token> <calls-json>");
  process.exit(2);
}

const octokit = new Octokit({
  baseUrl,
  auth: token,
  userAgent: "ngx-webhooks-tests",
  request: { retries: 0 },
  log: { debug() {}, info() {}, warn: console.error, error: console.error },
});

function emit(op, call, res, extra = {}) {
  const headers = {};
  for (const h of ["location", "link", "content-type"]) {
    if (res.headers && res.headers[h] !== undefined) headers[h] = res.headers[h];
  }
  console.log(JSON.stringify({
    op, call, status: res.status,
    data: res.data === undefined || res.data === "" ? null : res.data,
    headers, ...extra,
  }));
}

async function main() {
  for (const { op, call, params = {} } of JSON.parse(callsJson)) {
    const [ns, method] = call.split(".");
    const fn = octokit.rest[ns] && octokit.rest[ns][method];
    if (typeof fn !== "function") throw new Error(`no Octokit method ${call}`);
    try {
      emit(op, call, await fn(params));
    } catch (e) {
      if (e.name !== "HttpError" || typeof e.status !== "number") throw e;
      emit(op, call, { status: e.status, data: e.response && e.response.data,
                       headers: (e.response && e.response.headers) || {} },
           { error: e.name });
    }
  }
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
