// A fleet's shared store in Redis: the core reads a local view (SharedStore)
// and never waits on Redis; this file carries the view's writes out and
// other instances' writes in.
//
// Out: one EVAL per batch of writes. The script applies the batch
// atomically (SET with PX for puts; INCRBYFLOAT, PEXPIRE NX and PTTL for
// counters, so a window's TTL is set once, at creation) and PUBLISHes what
// it did, counter totals included, on one channel. One round trip carries
// both the write and the notification, and the totals the script returns
// correct the local counters. The script text is sent each time (~0.8 kB
// on loopback) rather than loaded once, so a restarted Redis needs no
// NOSCRIPT handling.
//
// In: a second connection subscribed to that channel applies what other
// instances published (its own messages are recognised by an instance id).
// After every (re)connect, the state in Redis is read back with SCAN, so
// what was missed while away is caught up.
//
// Redis away, restarting or stalled: commands fail at once instead of
// queueing (disableOfflineQueue), a push that gets no answer in
// pushTimeoutMs counts as failed, and SharedStore keeps the writes
// (bounded) for the reconnect. No request ever waits for any of this.
import { createClient } from '@redis/client';
import { SharedStore } from './shared.js';

const SCRIPT = `
local msg = {}
local totals = {}
for i = 1, #KEYS do
  local kind, v, ttl = ARGV[3 * i], ARGV[3 * i + 1], tonumber(ARGV[3 * i + 2])
  if kind == 'p' then
    if ttl > 0 then redis.call('SET', KEYS[i], v, 'PX', ttl) else redis.call('SET', KEYS[i], v) end
    msg[#msg + 1] = {KEYS[i], v, ttl, 0}
  else
    local total = redis.call('INCRBYFLOAT', KEYS[i], v)
    if ttl > 0 then redis.call('PEXPIRE', KEYS[i], ttl, 'NX') end
    local left = redis.call('PTTL', KEYS[i])
    totals[#totals + 1] = total
    totals[#totals + 1] = left
    msg[#msg + 1] = {KEYS[i], total, left, 1}
  end
end
redis.call('PUBLISH', ARGV[2], cjson.encode({o = ARGV[1], e = msg}))
return totals
`;

/** A value the core keeps with kv_add: written back by SCAN as a counter. */
const NUMERIC = /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i;

export class RedisStore extends SharedStore {
  #client;
  #subscriber;
  #id;
  #channel;
  #prefix;
  #pushTimeoutMs;
  #retryTimer = null;
  #closed = false;
  #log;
  #secret;

  /**
   * @param {{ url?: string, host?: string, port?: number, password?: string,
   *   prefix?: string, clock?: {now(): number}, maxEntries?: number, maxPending?: number,
   *   pushTimeoutMs?: number, reconnectMaxMs?: number, log?: (msg: string) => void }} options
   *   prefix: put before every key and the channel, so routers with
   *   different configs can share one Redis.
   */
  constructor(options) {
    super(options);
    const { url, host = '127.0.0.1', port = 6379, password, prefix = '', pushTimeoutMs = 1000, reconnectMaxMs = 500 } = options;
    this.#id = globalThis.crypto.randomUUID();
    this.#prefix = prefix;
    this.#channel = `${prefix}sy:changes`;
    this.#pushTimeoutMs = pushTimeoutMs;
    this.#secret = password ?? (url ? new URL(url).password : '');
    this.#log = options.log ?? ((m) => console.warn(m));
    const connection = {
      ...(url ? { url } : { socket: { host, port } }),
      ...(password ? { password } : {}),
    };
    // Quick, capped reconnects: sharing resumes within reconnectMaxMs of
    // Redis coming back. Commands fail at once while it is away.
    const socket = { ...connection.socket, connectTimeout: 2000, reconnectStrategy: (n) => Math.min(50 * 2 ** n, reconnectMaxMs) };
    this.#client = createClient({ ...connection, socket, disableOfflineQueue: true });
    this.#subscriber = this.#client.duplicate();
    for (const [c, name] of [[this.#client, 'redis'], [this.#subscriber, 'redis subscriber']]) {
      let reported = false;
      c.on('error', (err) => {
        // Once per outage: a reconnect loop must not flood the log.
        if (!reported) this.#log(`switchyard: ${name}: ${this.#scrub(err?.message ?? String(err))}; serving from local state`);
        reported = true;
      });
      c.on('ready', () => {
        reported = false;
        if (c === this.#client) this.reconnected();
        // Once both are up (the subscriber resubscribes by itself), read
        // back what was missed: nothing published from then on is lost.
        if (this.connected) this.#resync();
      });
    }
    this.attach({ push: (changes) => this.#push(changes) });
  }

  /**
   * Connects both connections, waiting at most |waitMs| (then they go on
   * connecting in the background; requests are served meanwhile).
   */
  async connect(waitMs = 1000) {
    const both = Promise.all([
      this.#client.connect(),
      this.#subscriber.connect().then(() => this.#subscriber.subscribe(this.#channel, (m) => this.#onMessage(m))),
    ]).catch(() => {}); // errors are reported by the 'error' handlers; reconnects go on
    let timer;
    await Promise.race([both, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }

  /** Whether both connections are up. */
  get connected() { return this.#client.isReady && this.#subscriber.isReady; }

  status() { return { ...super.status(), kind: 'redis', connected: this.connected }; }

  async close() {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    await this.flushed();
    await Promise.allSettled([this.#client, this.#subscriber].map((c) => quit(c)));
  }

  async #push(changes) {
    if (!this.#client.isReady) throw new Error('redis not connected');
    const keys = [];
    const args = [this.#id, this.#channel];
    for (const c of changes) {
      keys.push(this.#prefix + c.key);
      args.push(c.kind === 'put' ? 'p' : 'a', c.kind === 'put' ? c.value : String(c.delta), String(Math.round(c.ttlMs)));
    }
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('redis push timed out')), this.#pushTimeoutMs);
    });
    try {
      const reply = await Promise.race([
        this.#client.sendCommand(['EVAL', SCRIPT, String(keys.length), ...keys, ...args]),
        timeout,
      ]);
      const totals = new Map();
      let i = 0;
      for (const c of changes) {
        if (c.kind !== 'add') continue;
        totals.set(c.key, { value: Number(reply[i]), ttlMs: Number(reply[i + 1]) });
        i += 2;
      }
      return { totals };
    } catch (err) {
      this.#retryLater();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A failed push while the client still looks connected (a stall): try again shortly. */
  #retryLater() {
    if (this.#closed || this.#retryTimer) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#client.isReady) this.reconnected();
    }, 250);
    this.#retryTimer.unref?.();
  }

  #onMessage(message) {
    let m;
    try {
      m = JSON.parse(message);
    } catch {
      return; // not ours: the channel is shared with nobody else by design, so ignore noise
    }
    if (!m || m.o === this.#id || !Array.isArray(m.e)) return;
    const p = this.#prefix.length;
    this.applyRemote(m.e.filter((e) => Array.isArray(e) && typeof e[0] === 'string' && e[0].startsWith(this.#prefix))
      .map(([key, value, ttl, counter]) => ({ key: key.slice(p), value: String(value), ttlMs: Number(ttl), counter: counter === 1 })));
  }

  /** Reads back every key of the core's schema: what was missed while away. */
  async #resync() {
    try {
      const p = this.#prefix.length;
      for await (const keys of this.#client.scanIterator({ MATCH: `${this.#prefix}sy:*`, COUNT: 500 })) {
        const batch = (Array.isArray(keys) ? keys : [keys]).filter((k) => k !== this.#channel);
        if (!batch.length) continue;
        const multi = this.#client.multi();
        for (const k of batch) multi.get(k).pTTL(k);
        const replies = await multi.exec();
        const entries = [];
        batch.forEach((k, i) => {
          const value = replies[2 * i];
          const ttl = Number(replies[2 * i + 1]);
          if (value === null || ttl === -2) return;
          entries.push({ key: k.slice(p), value: String(value), ttlMs: ttl, counter: NUMERIC.test(String(value)) });
        });
        this.applyRemote(entries);
      }
    } catch (err) {
      this.#log(`switchyard: redis resync failed: ${this.#scrub(err?.message ?? String(err))}`);
    }
  }

  /** The password never reaches a log line, whatever the client put in its message. */
  #scrub(text) {
    return this.#secret ? text.split(this.#secret).join('***') : text;
  }
}

/**
 * Closes a connection: politely when it is up (its replies are awaited for
 * a second at most, since a stalled server never answers), at once when it
 * is still trying to connect, where close() would wait forever.
 */
async function quit(client) {
  if (!client.isOpen) return;
  if (!client.isReady) return client.destroy();
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(resolve, 1000, 'late')));
  const how = await Promise.race([client.close().catch(() => {}), late]);
  clearTimeout(timer);
  if (how === 'late') client.destroy();
}
