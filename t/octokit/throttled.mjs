// Drives an API that nginx's limit_req holds to a few calls a second, as
// a careful GitHub client does: Octokit with @octokit/plugin-throttling,
// which waits as the Retry-After of a secondary rate limit says, then
// tries again.
// Usage: node throttled.mjs <baseUrl> <token> <path> <n>
// Makes <n> GET <path> calls at once and prints one JSON line:
// {"statuses": [...], "limits": [{"retryAfter", "retryCount"}...],
//  "ms": elapsed}.  Exits non-zero on any call that still failed.

import { Octokit } from "@octokit/rest";
import { throttling } from "@octokit/plugin-throttling";

const [baseUrl, token, path, n] = process.argv.slice(2);
if (!baseUrl || !token || !path || !n) {
  console.error("usage: node throttled.mjs <baseUrl> <token> <path> <n>");
  process.exit(2);
}

const limits = [];
const ThrottledOctokit = Octokit.plugin(throttling);

const octokit = new ThrottledOctokit({
  baseUrl,
  auth: token,
  userAgent: "ngx-webhooks-tests",
  request: { retries: 0 },
  log: { debug() {}, info() {}, warn() {}, error: console.error },
  throttle: {
    onRateLimit: (retryAfter, options, o, retryCount) => {
      limits.push({ kind: "primary", retryAfter, retryCount });
      return retryCount < 10;
    },
    onSecondaryRateLimit: (retryAfter, options, o, retryCount) => {
      limits.push({ kind: "secondary", retryAfter, retryCount });
      return retryCount < 10;
    },
  },
});

const start = Date.now();

const results = await Promise.allSettled(
  Array.from({ length: Number(n) }, () => octokit.request(`GET ${path}`)));

const statuses = results.map((r) =>
  r.status === "fulfilled" ? r.value.status : (r.reason.status || 0));

console.log(JSON.stringify({ statuses, limits, ms: Date.now() - start }));

for (const r of results) {
  if (r.status === "rejected") {
    console.error(String(r.reason && r.reason.stack ? r.reason.stack
                                                    : r.reason));
    process.exit(1);
  }
}
