// The pages in a real browser: Debian's headless Chromium (/usr/bin/chromium,
// installed by scripts/install-deps.sh), driven by playwright-core (no
// browser download). A missing Chromium fails these tests; it never skips
// them.
//  - The in-browser demo (examples/browser/) from a plain static file server:
//    the core and the mock provider run in the page. One deployment is set
//    failing through its control; the requests sent with the page's buttons
//    are all answered by the others, and the failing one shows cooling.
//  - The gateway's dashboard (/ui) against a gateway with a master key and
//    the mock provider over HTTP: refused without the key, then opened with
//    ?key=, it draws the routes of requests sent to the gateway and the
//    failing deployment cooling, live over Server-Sent Events. The gateway's
//    /demo serves the demo and only the package files it needs.
// Screenshots go to test-artifacts/ (gitignored). Everything listens on
// 127.0.0.1 and waits only by bounded polling for a condition.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createMockProvider } from 'switchyard/mock';
import { startGateway } from '../../js/gateway.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = join(ROOT, 'test-artifacts');
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// SY_UPDATE_SCREENSHOTS=1 also writes docs/demo.png and docs/ui.png.
const UPDATE_DOCS = process.env.SY_UPDATE_SCREENSHOTS === '1';

let context;
let profile;
let statics;
const pageErrors = [];

/** Serves the repository's files as they are: the demo needs nothing more. */
function staticServer() {
  const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };
  const server = createServer(async (req, res) => {
    let path = decodeURIComponent(new URL(req.url, 'http://static').pathname);
    if (path.endsWith('/')) path += 'index.html';
    if (path.split('/').includes('..')) return res.writeHead(400).end();
    try {
      const bytes = await readFile(join(ROOT, path));
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(bytes);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Polls |fn| in the page until it returns a truthy value, for at most |ms|. */
async function until(page, what, fn, arg, ms = 15_000) {
  try {
    return await page.waitForFunction(fn, arg, { timeout: ms, polling: 50 });
  } catch (err) {
    await page.screenshot({ path: join(ARTIFACTS, `failed-${what.replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => {});
    throw new Error(`browser: waited ${ms} ms for ${what}: ${err.message.split('\n')[0]}; page errors: ${pageErrors.join(' | ') || 'none'}`);
  }
}

async function newPage() {
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  return page;
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: the browser tests need Debian's chromium (bash scripts/install-deps.sh installs it)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  profile = mkdtempSync(join(tmpdir(), 'sy-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 860 }, timeout: 30_000,
  });
  statics = await staticServer();
});

after(async () => {
  await context?.close();
  await new Promise((resolve) => (statics ? statics.close(resolve) : resolve()));
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test('demo: the router runs in the page; a failing deployment is cooled and the others answer', async () => {
  const page = await newPage();
  await page.goto(`http://127.0.0.1:${statics.address().port}/examples/browser/`);
  await until(page, 'the core to start', () => document.querySelector('#status')?.dataset.state === 'live');
  await until(page, 'four deployment cards', () => document.querySelectorAll('.card[data-deployment]').length === 4);

  await page.selectOption('[data-deployment="gpt-4o-east"] select[data-control=mode]', 'failing');
  await page.selectOption('[data-deployment="gpt-4o-east"] select[data-control=param]', '503');
  // Send until the failing deployment has been tried and taken out of
  // rotation (the shuffle picks it at random), at most 6 bursts: cooled
  // down, or, after 5 failures in a row, ejected by its circuit breaker
  // (which then shows instead, for longer).
  for (let i = 0; i < 6; i++) {
    await page.click('#burst');
    const cooled = await until(page, 'the burst to be answered', () => {
      const rows = [...document.querySelectorAll('.req')];
      return rows.length > 0 && rows.every((r) => r.dataset.state !== 'pending') &&
        (['cooling', 'ejected'].includes(document.querySelector('[data-deployment="gpt-4o-east"].card')?.dataset.state) ? 'out' : 'not yet');
    });
    if ((await cooled.jsonValue()) === 'out') break;
  }
  const east = page.locator('.card[data-deployment="gpt-4o-east"]');
  const eastState = await east.getAttribute('data-state');
  assert.ok(['cooling', 'ejected'].includes(eastState), `gpt-4o-east is shown cooling (or ejected): ${eastState}`);
  assert.match(await east.locator('.badge').textContent(), /^(cooling|ejected) \d+(\.\d)? s$/);
  const rows = await page.$$eval('.req', (els) => els.map((e) => ({ ...e.dataset })));
  assert.ok(rows.length >= 10);
  for (const r of rows) {
    assert.equal(r.state, 'ok', `request #${r.id} answered`);
    assert.notEqual(r.deployment, 'gpt-4o-east', `request #${r.id} answered by another deployment`);
  }
  assert.ok(rows.some((r) => r.attempts.includes('gpt-4o-east:503')), 'a route shows the failed attempt on gpt-4o-east');
  // Drawn as a route: the failed attempt, then the one that answered.
  const retried = page.locator('.req', { has: page.locator('.chip.attempt.fail[data-deployment="gpt-4o-east"]') }).first();
  assert.ok(await retried.locator('.chip.attempt.ok').count() >= 1);

  // A fallback: claude's only deployment down, served by gpt-4o.
  await page.selectOption('[data-deployment="claude-sonnet"] select[data-control=mode]', 'down');
  await page.selectOption('#model', 'claude');
  await page.click('#send');
  await until(page, 'a fallback drawn', () => {
    const row = document.querySelector('.req');
    return row?.dataset.state === 'ok' && row.querySelector('.chip.fallback') && row.dataset.attempts.startsWith('claude-sonnet:0');
  });
  const top = await page.$eval('.req', (e) => ({ ...e.dataset, text: e.textContent }));
  assert.match(top.deployment, /^gpt-4o-(azure|west)$/);
  assert.match(top.text, /claude → gpt-4o/);
  const counts = await page.$eval('[data-slot=counts]', (e) => Object.fromEntries([...e.querySelectorAll('[data-count]')].map((c) => [c.dataset.count, Number(c.querySelector('b').textContent)])));
  assert.ok(counts.fallbacks >= 1 && counts.cooldowns >= 1 && counts.ok >= 11 && counts.failed === 0, JSON.stringify(counts));

  await page.screenshot({ path: join(ARTIFACTS, 'demo.png'), fullPage: true });
  if (UPDATE_DOCS) await page.screenshot({ path: join(ROOT, 'docs/demo.png'), fullPage: true });
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('gateway /ui: behind the master key, live routes and cooldowns over SSE; /demo served', async () => {
  const MASTER = 'sk-ui-master-0001';
  const mock = createMockProvider({ seed: 3 });
  mock.configure('east', { latencyMs: 40 });
  mock.configure('west', { latencyMs: 25 });
  mock.configure('claude', { down: true });
  const upstream = await mock.listen({ port: 0 });
  const u = upstream.url;
  const gateway = await startGateway(`
model_list:
  - {model_name: gpt-4o, litellm_params: {model: openai/gpt-4o, api_base: ${u}/east/v1, api_key: sk-up-e, order: 1}, model_info: {id: east}}
  - {model_name: gpt-4o, litellm_params: {model: openai/gpt-4o, api_base: ${u}/west/v1, api_key: sk-up-w, order: 2}, model_info: {id: west}}
  - {model_name: claude, litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: ${u}/claude, api_key: sk-up-c}, model_info: {id: claude}}
router_settings:
  allowed_fails: 1
  cooldown_time: 30
  fallbacks: [{claude: [gpt-4o]}]
general_settings:
  master_key: ${MASTER}
`, { port: 0, log: () => {} });
  const g = gateway.url;
  const ask = (model) => fetch(`${g}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  try {
    // The key: refused without it, wrong, or as a bad cookie.
    assert.equal((await fetch(`${g}/ui/`)).status, 401);
    assert.equal((await fetch(`${g}/ui/events`)).status, 401);
    assert.equal((await fetch(`${g}/ui/?key=wrong`, { redirect: 'manual' })).status, 401);
    assert.equal((await fetch(`${g}/ui/`, { headers: { cookie: 'switchyard_ui=abc' } })).status, 401);
    assert.equal((await fetch(`${g}/demo/`, { redirect: 'manual' })).status, 401);
    assert.equal((await fetch(`${g}/ui/state`, { headers: { authorization: `Bearer ${MASTER}` } })).status, 200);
    const given = await fetch(`${g}/ui?key=${MASTER}`, { redirect: 'manual' });
    assert.equal(given.status, 303);
    assert.equal(given.headers.get('location'), '/ui/');
    const cookie = given.headers.get('set-cookie');
    assert.match(cookie, /^switchyard_ui=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict$/);
    assert.equal(cookie.includes(MASTER), false, 'the cookie is not the key');
    const jar = { cookie: cookie.split(';')[0] };

    // /demo: the page and the package files it imports, nothing else.
    const get = (p) => fetch(`${g}${p}`, { headers: jar, redirect: 'manual' });
    assert.equal((await get('/demo')).headers.get('location'), '/demo/examples/browser/');
    assert.match((await get('/demo/examples/browser/')).headers.get('content-type'), /^text\/html/);
    assert.match((await get('/demo/js/browser.js')).headers.get('content-type'), /^text\/javascript/);
    assert.match((await get('/demo/js/ui/style.css')).headers.get('content-type'), /^text\/css/);
    const wasm = await get('/demo/wasm/switchyard.wasm');
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    assert.deepEqual([...new Uint8Array(await wasm.arrayBuffer()).slice(0, 4)], [0, 0x61, 0x73, 0x6d]);
    for (const p of ['/demo/package.json', '/demo/js/../package.json', '/demo/js/%2e%2e/package.json', '/demo/js/..%2fpackage.json',
      '/demo/wasm/switchyard.wasi.wasm', '/demo/src/host.h', '/demo/js/.hidden.js', '/demo/node_modules/yaml/package.json',
      '/demo/examples/worker/worker.js', '/ui/assets/server.js', '/ui/assets/../server.js']) {
      const r = await get(p);
      assert.ok(r.status === 404, `${p}: ${r.status}`);
    }
    // The API paths still want the bearer header: the cookie is only the pages'.
    assert.equal((await fetch(`${g}/health`, { headers: jar })).status, 401);

    const page = await newPage();
    await page.goto(`${g}/ui?key=${MASTER}`);
    assert.equal(new URL(page.url()).pathname, '/ui/');
    assert.equal(page.url().includes(MASTER), false, 'the key is dropped from the address');
    await until(page, 'the event stream', () => document.querySelector('#conn')?.dataset.state === 'live');
    await until(page, 'three deployment cards', () => document.querySelectorAll('.card[data-deployment]').length === 3);

    mock.configure('east', { statuses: [503], repeat: true, latencyMs: 20 });
    for (let i = 0; i < 4; i++) assert.equal((await ask('gpt-4o')).status, 200);
    assert.equal((await ask('claude')).status, 200);

    await until(page, 'east shown cooling', () => document.querySelector('.card[data-deployment="east"]')?.dataset.state === 'cooling');
    await until(page, 'five routes drawn', () => [...document.querySelectorAll('.req')].filter((r) => r.dataset.state === 'ok').length === 5);
    const rows = await page.$$eval('.req', (els) => els.map((e) => ({ ...e.dataset, group: e.querySelector('.req-group').textContent, text: e.textContent })));
    for (const r of rows) assert.equal(r.deployment, 'west', `request #${r.id} answered by west`);
    assert.ok(rows.some((r) => r.attempts === 'east:503 west:200'), rows.map((r) => r.attempts).join(' | '));
    assert.equal(rows[0].group, 'claude', 'the model asked for');
    assert.equal(rows[0].attempts, 'claude:0 west:200', 'claude refused the connection, west answered (east is cooling)');
    assert.match(rows[0].text, /claude → gpt-4o/);
    const east = page.locator('.card[data-deployment="east"]');
    assert.match(await east.locator('.badge').textContent(), /^cooling \d+(\.\d)? s$/);
    assert.match(await east.locator('.stat b').nth(2).textContent(), /^\d+%$/);
    assert.notEqual(await east.locator('.stat b').nth(2).textContent(), '0%');
    assert.equal(await page.locator('.card[data-deployment="west"]').getAttribute('data-state'), 'healthy');

    // The snapshot a new page starts from has the same past.
    const state = await (await fetch(`${g}/ui/state`, { headers: jar })).json();
    assert.equal(state.tracker.requests.length, 5);
    assert.equal(JSON.stringify(state).includes('sk-up-'), false, 'no upstream key in what the pages see');

    await page.screenshot({ path: join(ARTIFACTS, 'ui.png'), fullPage: true });
    if (UPDATE_DOCS) await page.screenshot({ path: join(ROOT, 'docs/ui.png'), fullPage: true });

    // The demo from the gateway boots and answers in the same browser (the cookie is set).
    const demo = await newPage();
    await demo.goto(`${g}/demo`);
    await until(demo, 'the demo core to start from /demo', () => document.querySelector('#status')?.dataset.state === 'live');
    await demo.click('#send');
    await until(demo, 'the demo to answer from /demo', () => document.querySelector('.req')?.dataset.state === 'ok');
    await demo.close();
    await page.close();
    assert.deepEqual(pageErrors, []);
  } finally {
    await gateway.close(2000);
    await upstream.close();
  }
});
