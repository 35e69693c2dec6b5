// Drives the hooks API of a test nginx with Octokit, as a GitHub client
// would.  Usage: node hooks.mjs <baseUrl> <token>
// Prints one JSON line per step: {"op", "status", "data", "headers"}; an
// expected error is printed with its status and response body.  Exits
// non-zero on any unexpected failure.

import { Octokit } from "@octokit/rest";

const [baseUrl, token = "demo-owner"] = process.argv.slice(2);
if (!baseUrl) {
  console.error("usage: node hooks.mjs <baseUrl> [token]");
  process.exit(2);
}

const octokit = new Octokit({
  baseUrl,
  auth: token,
  userAgent: "ngx-webhooks-tests",
  request: { retries: 0 },
  log: { debug() {}, info() {}, warn: console.error, error: console.error },
});

let requests = 0;
octokit.hook.before("request", () => {
  requests++;
});

const owner = "octo-org";
const repo = "octokit-repo";
const org = "octo-org";

function emit(op, res, extra = {}) {
  const headers = {};
  for (const h of ["location", "link", "content-type", "x-github-media-type"]) {
    if (res.headers && res.headers[h] !== undefined) headers[h] = res.headers[h];
  }
  console.log(JSON.stringify({
    op, status: res.status, data: res.data === undefined ? null : res.data,
    headers, ...extra,
  }));
}

// An expected failure: anything but a RequestError is a real one.
async function expectError(op, call) {
  try {
    const res = await call();
    emit(op, res, { unexpected: true });
  } catch (e) {
    if (e.name !== "HttpError" || typeof e.status !== "number") throw e;
    emit(op, { status: e.status, data: e.response && e.response.data,
               headers: (e.response && e.response.headers) || {} },
         { error: e.name });
  }
}

async function main() {
  // Repository hooks.

  let res = await octokit.rest.repos.createWebhook({
    owner, repo,
    config: { url: "https://example.com/octokit/repo", content_type: "json",
              secret: "octo-secret", insecure_ssl: "0" },
    events: ["push", "pull_request"],
    active: true,
  });
  emit("repos.createWebhook", res);
  const id = res.data.id;

  emit("repos.listWebhooks",
       await octokit.rest.repos.listWebhooks({ owner, repo }));
  emit("repos.getWebhook",
       await octokit.rest.repos.getWebhook({ owner, repo, hook_id: id }));
  emit("repos.updateWebhook",
       await octokit.rest.repos.updateWebhook({
         owner, repo, hook_id: id, active: false,
         add_events: ["issues"], remove_events: ["pull_request"],
       }));
  emit("repos.getWebhookConfigForRepo",
       await octokit.rest.repos.getWebhookConfigForRepo({
         owner, repo, hook_id: id }));
  emit("repos.updateWebhookConfigForRepo",
       await octokit.rest.repos.updateWebhookConfigForRepo({
         owner, repo, hook_id: id, content_type: "form", insecure_ssl: "1" }));
  emit("repos.deleteWebhook",
       await octokit.rest.repos.deleteWebhook({ owner, repo, hook_id: id }));

  await expectError("repos.getWebhook.deleted",
    () => octokit.rest.repos.getWebhook({ owner, repo, hook_id: id }));
  await expectError("repos.createWebhook.badUrl",
    () => octokit.rest.repos.createWebhook({
      owner, repo, config: { url: "not a url" } }));

  // Organization hooks.

  res = await octokit.rest.orgs.createWebhook({
    org, name: "web",
    config: { url: "https://example.com/octokit/org", content_type: "json",
              secret: "org-secret" },
    events: ["push"],
  });
  emit("orgs.createWebhook", res);
  const oid = res.data.id;

  emit("orgs.listWebhooks", await octokit.rest.orgs.listWebhooks({ org }));
  emit("orgs.getWebhook",
       await octokit.rest.orgs.getWebhook({ org, hook_id: oid }));
  emit("orgs.updateWebhook",
       await octokit.rest.orgs.updateWebhook({
         org, hook_id: oid, events: ["push", "fork"], active: false }));
  emit("orgs.getWebhookConfigForOrg",
       await octokit.rest.orgs.getWebhookConfigForOrg({ org, hook_id: oid }));
  emit("orgs.updateWebhookConfigForOrg",
       // not "url": Octokit takes that for the request's own URL
       await octokit.rest.orgs.updateWebhookConfigForOrg({
         org, hook_id: oid, content_type: "form", secret: "" }));
  emit("orgs.deleteWebhook",
       await octokit.rest.orgs.deleteWebhook({ org, hook_id: oid }));

  await expectError("orgs.getWebhook.deleted",
    () => octokit.rest.orgs.getWebhook({ org, hook_id: oid }));
  await expectError("orgs.createWebhook.badUrl",
    () => octokit.rest.orgs.createWebhook({
      org, name: "web", config: { url: "ftp://example.com/x" } }));

  // Pagination by the Link header: 5 hooks, 2 per page.

  const prepo = "octokit-paged";
  const ids = [];
  for (let i = 1; i <= 5; i++) {
    res = await octokit.rest.repos.createWebhook({
      owner, repo: prepo,
      config: { url: `https://example.com/octokit/paged/${i}` },
    });
    ids.push(res.data.id);
  }
  const first = await octokit.rest.repos.listWebhooks({
    owner, repo: prepo, per_page: 2 });
  emit("repos.listWebhooks.page1", first);

  const before = requests;
  const all = await octokit.paginate(octokit.rest.repos.listWebhooks, {
    owner, repo: prepo, per_page: 2 });
  console.log(JSON.stringify({
    op: "paginate", status: 200, data: all, created: ids,
    requests: requests - before,
  }));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  if (e && e.response) console.error(JSON.stringify(e.response.data));
  process.exit(1);
});
