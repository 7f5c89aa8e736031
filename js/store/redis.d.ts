// Types of switchyard/redis (js/store/redis.js).
import { SharedStore } from '../index.js';

export interface RedisStoreOptions {
  /** redis://[:password@]host:port[/db]; or host/port/password. */
  url?: string;
  host?: string;
  port?: number;
  password?: string;
  /** Put before every key and the channel, so routers of different configs can share one Redis. */
  prefix?: string;
  clock?: { now(): number };
  /** Entries in the local view (default 100000). */
  maxEntries?: number;
  /** Writes kept while Redis is away; the oldest are dropped past it (default 10000). */
  maxPending?: number;
  /** A push with no answer after this counts as failed (default 1000 ms). */
  pushTimeoutMs?: number;
  /** Longest wait between reconnect tries (default 500 ms). */
  reconnectMaxMs?: number;
  /** Where outages are reported, once each; never with the password. Default console.warn. */
  log?: (message: string) => void;
}

/** The fleet's shared health in Redis: one EVAL per batch of writes, pub/sub for the others', SCAN after reconnects. */
export declare class RedisStore extends SharedStore {
  constructor(options: RedisStoreOptions);
  /** Connects, waiting at most waitMs (default 1000); it goes on connecting in the background. */
  connect(waitMs?: number): Promise<void>;
  /** Whether both connections (commands, subscription) are up. */
  readonly connected: boolean;
  status(): { kind: 'redis'; connected: boolean; online: boolean; entries: number; pending: number; [k: string]: unknown };
  /** Pushes what is queued, then closes both connections. */
  close(): Promise<void>;
}
