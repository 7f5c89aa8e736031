// A fleet sharing health through a real redis-server, started here on a
// loopback port: two gateway processes, one mock provider. A cooldown
// written by one process must be honoured by the other within 250 ms;
// Redis stopped, stalled or restarted must fail no request, and sharing
// must resume once it is back. Also the store alone: counters summed across
// instances, memory bounded while Redis is away.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMockProvider } from 'switchyard/mock';
import { RedisStore } from 'switchyard/redis';

const CLI = new URL('../../js/cli.js', import.meta.url).pathname;
const hasRedis = (() => {
  try {
    execFileSync('redis-server', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

async function freePort() {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** Polls |check| every few ms until it returns a truthy value, for at most |ms|. */
async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A redis-server of our own on |port|: no persistence, no protected mode past loopback. */
class RedisServer {
  constructor(port) { this.port = port; }

  async start() {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '',
      '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = once(this.proc, 'exit');
    // Ready once it accepts a connection (probing by binding the port
    // ourselves could take it from under the starting server).
    await until(() => {
      if (this.proc.exitCode !== null) throw new Error(`redis-server exited ${this.proc.exitCode}`);
      return new Promise((resolve) => {
        const c = connect(this.port, '127.0.0.1', () => {
          c.destroy();
          resolve(true);
        });
        c.once('error', () => resolve(false));
      });
    }, 5000, `redis-server on ${this.port}`);
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGKILL'); // as a crash would: no goodbye to the clients
    await this.exited;
  }

  pause() { this.proc.kill('SIGSTOP'); }

  resume() { this.proc.kill('SIGCONT'); }
}

/** `switchyard serve` in a process of its own; resolves with its URL. */
async function startGateway(configPath) {
  const proc = spawn(process.execPath, [CLI, 'serve', '--config', configPath, '--port', '0'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.setEncoding('utf8');
  const url = await new Promise((resolve, reject) => {
    proc.stderr.on('data', (d) => {
      err += d;
      const m = /gateway on (http:\/\/[^\s]+)/.exec(err);
      if (m) resolve(m[1]);
    });
    proc.once('exit', (code) => reject(new Error(`gateway exited ${code}: ${err}`)));
  });
  return { proc, url, stderr: () => err, stop: async () => { proc.kill('SIGTERM'); await once(proc, 'exit'); } };
}

const ask = async (gw, model = 'gpt-4o') => {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.arrayBuffer();
  return { status: res.status, deployment: res.headers.get('x-switchyard-deployment') };
};

const coolingOn = async (gw, id) => {
  const res = await fetch(`${gw.url}/health`);
  const health = await res.json();
  return health.deployments.find((d) => d.id === id)?.state === 'cooling';
};

describe('a fleet of two gateway processes sharing Redis', { skip: !hasRedis && 'redis-server not installed' }, () => {
  const mock = createMockProvider();
  let redis;
  let mockServer;
  let a;
  let b;

  before(async () => {
    redis = new RedisServer(await freePort());
    await redis.start();
    mockServer = await mock.listen({ port: 0 });
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-redis-'));
    const config = join(dir, 'config.yaml');
    // Two deployments in one group: 'limited' answers 429 whenever it is
    // told to; 'steady' always serves. cooldown_time is long, so a cooldown
    // seen anywhere is the one under test.
    await writeFile(config, `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: ${mockServer.url}/limited/v1, api_key: sk-mock, order: 1}
    model_info: {id: limited}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: ${mockServer.url}/steady/v1, api_key: sk-mock, order: 2}
    model_info: {id: steady}
router_settings:
  redis_host: 127.0.0.1
  redis_port: ${redis.port}
  cooldown_time: 2
  num_retries: 2
`);
    [a, b] = await Promise.all([startGateway(config), startGateway(config)]);
  });

  after(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await redis?.stop();
    await mockServer?.close();
  });

  /**
   * Gateway |from| meets a 429 on 'limited' and cools it; returns the ms
   * until |to| shows it cooling, measured from |from|'s answer (the cooldown
   * was written before that answer, so this over-estimates).
   */
  async function convergence(from, to) {
    mock.configure('limited', { statuses: [429] });
    const first = await ask(from);
    assert.deepEqual(first, { status: 200, deployment: 'steady' }, 'the 429 is retried on the sibling');
    const t0 = performance.now();
    await until(() => coolingOn(to, 'limited'), 5000, 'the other gateway to see the cooldown');
    return performance.now() - t0;
  }

  test('a cooldown set by one process is honoured by the other within 250 ms', async () => {
    // Warm both processes (connections, compiled code), so that the figure
    // below is the store's, not a first request's.
    for (const gw of [a, b]) {
      assert.deepEqual(await ask(gw), { status: 200, deployment: 'limited' });
      assert.equal(await coolingOn(gw, 'limited'), false);
    }
    const ms = await convergence(a, b);
    console.log(`# cross-process cooldown convergence: ${ms.toFixed(1)} ms`);
    assert.ok(ms < 250, `converged in ${ms.toFixed(1)} ms`);
    const calls = mock.callsTo('limited');
    const storeOf = async (gw) => (await fetch(`${gw.url}/health`).then((r) => r.json())).store;
    const before = await storeOf(b);
    for (let i = 0; i < 10; i++) assert.deepEqual(await ask(b), { status: 200, deployment: 'steady' });
    assert.equal(mock.callsTo('limited'), calls, 'b sent nothing to the deployment a cooled');
    // Round trips to Redis: none on a request's path (it was answered from
    // the local view); its usage goes out afterwards, at most one push each
    // one at a time, fewer under concurrency (counters are batched).
    await until(async () => (await storeOf(b)).pending === 0, 1000, 'the usage to be pushed');
    const sequential = ((await storeOf(b)).pushes - before.pushes) / 10;
    const burst0 = await storeOf(b);
    await Promise.all(Array.from({ length: 50 }, () => ask(b)));
    await until(async () => (await storeOf(b)).pending === 0, 1000, 'the usage to be pushed');
    const burst = ((await storeOf(b)).pushes - burst0.pushes) / 50;
    console.log(`# Redis pushes per request: ${sequential.toFixed(2)} one at a time, ${burst.toFixed(2)} in a burst of 50`);
    assert.ok(sequential <= 1 && sequential > 0, `${sequential} pushes per sequential request`);
    assert.ok(burst < sequential, `a burst shares pushes (${burst} per request)`);
    assert.equal((await storeOf(b)).kind, 'redis');
    // The cooldown ends on its own (cooldown_time 2 s) everywhere.
    await until(async () => !(await coolingOn(b, 'limited')) && !(await coolingOn(a, 'limited')), 5000, 'the cooldown to end');
    assert.deepEqual(await ask(b), { status: 200, deployment: 'limited' });
  });

  test('Redis killed, stalled and restarted: no request fails, and sharing resumes', async () => {
    mock.configure('limited', {});
    const load = async (n) => {
      const answers = await Promise.all(Array.from({ length: n }, (_, i) => ask(i % 2 ? a : b)));
      return answers.filter((x) => x.status !== 200).length;
    };
    assert.equal(await load(20), 0);

    redis.pause(); // slow: connections stay open, nothing answers
    const t0 = performance.now();
    assert.equal(await load(20), 0, 'no request fails while Redis stalls');
    const stalled = performance.now() - t0;
    assert.ok(stalled < 2000, `requests did not wait for the stalled store (${stalled.toFixed(0)} ms for 20)`);
    redis.resume();

    await redis.stop();
    assert.equal(await load(40), 0, 'no request fails while Redis is down');
    // A cooldown while Redis is down stays local, and requests still route around it.
    mock.configure('limited', { statuses: [429] });
    assert.deepEqual(await ask(a), { status: 200, deployment: 'steady' });
    assert.ok(await coolingOn(a, 'limited'));

    await redis.start(); // same port: a restart with empty memory
    await until(async () => (await fetch(`${a.url}/health`).then((r) => r.json())).store?.connected
      && (await fetch(`${b.url}/health`).then((r) => r.json())).store?.connected, 5000, 'both gateways to reconnect');
    await until(() => coolingOn(b, 'limited'), 1000, 'the outbox pushed on reconnect to reach b');
    // And a new cooldown crosses again within the bound (after the old one ends).
    await until(async () => !(await coolingOn(b, 'limited')) && !(await coolingOn(a, 'limited')), 5000, 'the cooldown to end');
    const ms = await convergence(b, a);
    console.log(`# convergence after a Redis restart: ${ms.toFixed(1)} ms`);
    assert.ok(ms < 250, `converged in ${ms.toFixed(1)} ms after the restart`);
    assert.match(a.stderr() + b.stderr(), /redis: .*serving from local state/, 'the outage was reported');
  });
});

describe('RedisStore on its own', { skip: !hasRedis && 'redis-server not installed' }, () => {
  let redis;
  before(async () => {
    redis = new RedisServer(await freePort());
    await redis.start();
  });
  after(() => redis?.stop());

  test('counters are the fleet-wide sum; a new instance reads the state back', async () => {
    const x = new RedisStore({ port: redis.port, log: () => {} });
    const y = new RedisStore({ port: redis.port, log: () => {} });
    await Promise.all([x.connect(), y.connect()]);
    x.add('sy:f:d1', 1, 60_000);
    x.add('sy:f:d1', 1, 60_000);
    assert.equal(y.add('sy:f:d1', 1, 60_000), 1, 'a local add answers at once, from the local view');
    await until(() => x.get('sy:f:d1') === '3' && y.get('sy:f:d1') === '3', 2000, 'both to count 3');
    x.put('sy:cd:d1', '99999999999999 rate_limit', 30_000);
    await x.flushed();
    const z = new RedisStore({ port: redis.port, log: () => {} });
    await z.connect();
    await until(() => z.get('sy:cd:d1') === '99999999999999 rate_limit' && z.get('sy:f:d1') === '3', 2000, 'the resync');
    assert.equal(x.stats.failedPushes + y.stats.failedPushes, 0);
    await Promise.all([x.close(), y.close(), z.close()]);
  });

  test('while Redis is away, memory stays bounded and nothing throws; queued writes reach it on reconnect', async () => {
    const logs = [];
    const s = new RedisStore({ port: redis.port, maxPending: 100, maxEntries: 1000, log: (m) => logs.push(m) });
    await s.connect();
    await redis.stop();
    await until(() => !s.connected, 2000, 'the client to notice');
    for (let i = 0; i < 5000; i++) s.add(`sy:f:k${i}`, 1, 60_000);
    s.put('sy:cd:last', '1 rate_limit', 60_000);
    await s.flushed();
    assert.ok(s.pending <= 100, `${s.pending} writes queued`);
    assert.ok(s.size <= 1000, `${s.size} entries in the local view`);
    assert.ok(s.stats.dropped >= 4900, 'the oldest queued writes were dropped and counted');
    assert.ok(logs.some((m) => /serving from local state/.test(m)));
    assert.ok(!logs.some((m) => /sy:f:k/.test(m)), 'the log is not flooded per write');
    await redis.start();
    const peer = new RedisStore({ port: redis.port, log: () => {} });
    await peer.connect();
    await until(() => peer.get('sy:cd:last') === '1 rate_limit', 3000, 'the queued cooldown to be pushed on reconnect');
    await Promise.all([s.close(), peer.close()]);
  });

  test('a password in the URL never reaches the log', async () => {
    const logs = [];
    const s = new RedisStore({ url: `redis://:s3cret-pass@127.0.0.1:${await freePort()}`, log: (m) => logs.push(m) });
    await s.connect(300);
    s.put('sy:cd:x', '1 auth', 1000);
    await s.flushed();
    assert.ok(logs.length > 0, 'the failure was logged');
    assert.ok(!logs.join('\n').includes('s3cret-pass'));
    await s.close();
  });
});
