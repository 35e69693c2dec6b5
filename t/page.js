// Drives the webhooks page in headless Chromium (t/76-page.t runs it):
//   node t/page.js BASE REPO RECEIVER ARTIFACTS
// BASE is nginx's URL, the page at BASE/status; REPO the repository whose
// hooks it manages; RECEIVER a test receiver's URL; ARTIFACTS where the
// screenshots go.  Prints one JSON object of what it saw; t/76-page.t
// judges it.

'use strict';

const { chromium } = require('playwright-core');

const [base, repo, receiver, artifacts] = process.argv.slice(2);
const token = 'demo-owner';
const seen = { console: [], load_console: [], steps: [] };

async function api(method, path, body) {
    const res = await fetch(base + path, {
        method,
        headers: { Authorization: 'token ' + token,
                   Accept: 'application/vnd.github+json',
                   'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
    return { status: res.status, json };
}

async function main() {
    const browser = await chromium.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    const context = await browser.newContext({
        httpCredentials: { username: 'octocat', password: token },
        viewport: { width: 1200, height: 1000 },
    });
    const page = await context.newPage();
    let loading = true;
    page.on('console', (m) => {
        if (m.type() === 'error') {
            (loading ? seen.load_console : seen.console).push(m.text());
        }
    });
    page.on('pageerror', (e) => seen.console.push('pageerror: ' + e.message));
    page.setDefaultTimeout(10000);

    const shot = async (name) => {
        await page.screenshot({ path: `${artifacts}/${name}.png`,
                                fullPage: true });
        seen.steps.push(name);
    };
    const flash = async (re) => {
        await page.waitForFunction((src) => {
            const f = document.getElementById('flash');
            return !f.hidden && new RegExp(src).test(f.textContent);
        }, re.source);
        return page.textContent('#flash');
    };

    // the page, for the repository
    await page.goto(`${base}/status#${encodeURIComponent(repo)}`);
    await page.waitForSelector('#hooks-section:not([hidden])');
    await page.waitForSelector('#figures-table td');
    seen.title = await page.title();
    seen.figures = await page.$$eval('#figures-table td',
                                     (tds) => tds.length);
    loading = false;
    await shot('1-list');

    // add a hook through the form
    await page.click('#add-hook');
    await page.fill('#hook-form [name=url]', `${receiver}/ok/page`);
    await page.selectOption('#hook-form [name=content_type]', 'json');
    await page.fill('#hook-form [name=secret]', 'page-s3cret');
    await page.check('#hook-form [name=insecure_ssl][value="1"]');
    await page.check('#hook-form [name=which][value=some]');
    await page.uncheck('#hook-form [name=event][value=push]');
    await page.check('#hook-form [name=event][value=push]');
    await page.check('#hook-form [name=event][value=issues]');
    await page.uncheck('#hook-form [name=active]');
    await shot('2-add-form');
    await page.click('#form-submit');
    seen.add_flash = await flash(/created/);
    await page.waitForSelector('#hook-section:not([hidden])');
    const id = await page.$eval('#hooks tbody tr', (tr) => tr.dataset.id);
    seen.hook_id = id;
    seen.created = (await api('GET', `/repos/${repo}/hooks/${id}`)).json;
    await shot('3-added');

    // edit: activate, push kept, issues removed, pull_request added,
    // the secret kept
    await page.click('#hook-edit');
    seen.keep_secret_checked =
        await page.isChecked('#hook-form [name=keep_secret]');
    await page.uncheck('#hook-form [name=event][value=issues]');
    await page.check('#hook-form [name=event][value=pull_request]');
    await page.check('#hook-form [name=active]');
    await page.click('#form-submit');
    seen.edit_flash = await flash(/updated/);
    await page.waitForSelector('#hook-section:not([hidden])');
    seen.edited = (await api('GET', `/repos/${repo}/hooks/${id}`)).json;
    await shot('4-edited');

    // ping, then its delivery with request and response
    await page.click('#hook-ping');
    seen.ping_flash = await flash(/Ping sent/);
    let row = null;
    for (let i = 0; i < 50 && !row; i++) {
        await page.click('#deliveries-reload');
        await page.waitForTimeout(200);
        row = await page.$('#deliveries tbody tr');
        if (row && !/200/.test(await row.textContent())) row = null;
    }
    seen.ping_row = row ? await row.textContent() : null;
    const guid = row ? await row.getAttribute('data-guid') : null;
    seen.ping_guid = guid;
    if (row) await (await row.$('a')).click();
    await page.waitForSelector('#delivery:not([hidden])');
    seen.request_headers = await page.textContent('#request-headers');
    seen.request_payload = await page.textContent('#request-payload');
    seen.response_code = await page.textContent('#response-code');
    seen.response_body = await page.textContent('#response-body');
    seen.response_headers = await page.textContent('#response-headers');
    await shot('5-delivery');

    // Redeliver: a new delivery under the same GUID
    await page.click('#redeliver');
    seen.redeliver_flash = await flash(/Redelivery/);
    let rows = [];
    for (let i = 0; i < 50; i++) {
        await page.click('#deliveries-reload');
        await page.waitForTimeout(200);
        rows = await page.$$eval('#deliveries tbody tr', (trs) => trs.map(
            (tr) => ({ id: tr.dataset.id, guid: tr.dataset.guid,
                       text: tr.textContent })));
        if (rows.length >= 2 && rows.every((r) => /200/.test(r.text))) break;
    }
    seen.rows_after_redeliver = rows;
    await shot('6-redelivered');

    // markup in a payload is shown as text
    const hostile = '<img src=x onerror="document.title=\'owned\'">';
    const ev = await fetch(base + '/_webhooks/events', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json',
                   'X-GitHub-Event': 'push' },
        body: JSON.stringify({ ref: hostile,
                               repository: { full_name: repo } }),
    });
    seen.hostile_status = ev.status;
    let push = null;
    for (let i = 0; i < 50 && !push; i++) {
        await page.click('#deliveries-reload');
        await page.waitForTimeout(200);
        push = await page.$('#deliveries tbody tr:has(td:text-is("push"))');
    }
    if (push) await (await push.$('a')).click();
    await page.waitForFunction(() => /onerror/.test(
        document.getElementById('request-payload').textContent));
    seen.hostile_shown = (await page.textContent('#request-payload'))
        .includes(JSON.stringify(hostile).slice(1, -1));
    seen.hostile_title = await page.title();
    await shot('6b-markup-as-text');

    // deactivate, activate again, send a test push
    await page.click('#hook-toggle');
    seen.deactivate_flash = await flash(/deactivated/);
    seen.deactivated = (await api('GET', `/repos/${repo}/hooks/${id}`))
        .json.active;
    await page.waitForFunction(() =>
        document.getElementById('hook-toggle').textContent === 'Activate');
    await page.click('#hook-toggle');
    seen.activate_flash = await flash(/is active/);
    seen.activated = (await api('GET', `/repos/${repo}/hooks/${id}`))
        .json.active;
    await page.click('#hook-test');
    seen.test_flash = await flash(/Test push sent/);

    // a bad URL: GitHub's 422, as the API words it
    await page.click('#hook-edit');
    await page.fill('#hook-form [name=url]', 'not a url');
    await page.click('#form-submit');
    seen.bad_flash = await flash(/Validation Failed|422/);
    seen.bad_api = (await api('PATCH', `/repos/${repo}/hooks/${id}`,
                              { config: { url: 'not a url' } })).json;
    await shot('7-bad-url');
    await page.click('#form-cancel');

    // delete
    await page.click(`#hooks a[data-id="${id}"]`);
    await page.waitForSelector('#hook-section:not([hidden])');
    await page.click('#hook-delete');
    seen.delete_flash = await flash(/deleted/);
    seen.after_delete = (await api('GET', `/repos/${repo}/hooks/${id}`)).status;
    seen.list_after_delete = await page.$$eval('#hooks tbody tr',
                                               (trs) => trs.length);
    await shot('8-deleted');

    // nothing the page showed was taken as HTML
    seen.injected = await page.$$eval('img, iframe, object, embed',
                                      (els) => els.length);

    await browser.close();
}

main().then(
    () => { process.stdout.write(JSON.stringify(seen) + '\n'); },
    (e) => {
        seen.error = String(e && e.stack || e);
        process.stdout.write(JSON.stringify(seen) + '\n');
        process.exitCode = 1;
    });
