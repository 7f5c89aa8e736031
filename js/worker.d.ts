// Types of switchyard/worker: the Cloudflare Worker entry.

export interface WorkerOptions {
  /** Name of the Durable Object binding that shares health (default 'SWITCHYARD_STATE').
   * Without that binding, each isolate keeps its own health. */
  binding?: string;
  /** Name of the one object every isolate meets in (default 'switchyard'). */
  objectName?: string;
  /** A request syncs with the object when the isolate's view is older than this (default 100 ms),
   * or when writes are waiting. */
  syncIntervalMs?: number;
  /** The upstream transport (default: the Worker's fetch). */
  fetch?: typeof fetch;
  /** One JSON line per request with its route (default: console.log). */
  log?: (line: string) => void;
  /** Bodies above this get 413 (default 10 MiB). */
  maxBodyBytes?: number;
}

export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
}

/** A module worker: `export default createWorker(config)`. */
export interface SwitchyardWorker {
  fetch(request: Request, env: Record<string, unknown>, ctx: ExecutionContextLike): Promise<Response>;
}

/**
 * The OpenAI-compatible gateway as a module worker: POST /v1/chat/completions
 * (streaming included) and /v1/embeddings, GET /v1/models, /health,
 * /health/liveliness, /health/readiness. One Router per isolate, built on the
 * first request; `os.environ/NAME` in the config reads the Worker's env
 * (secrets). /metrics is not served: its counters would be one isolate's.
 */
export declare function createWorker(config: object | string, options?: WorkerOptions): SwitchyardWorker;

/**
 * The Durable Object holding the fleet's shared health. Re-export it from the
 * Worker's main module and bind it (default binding name SWITCHYARD_STATE).
 */
export declare class SwitchyardState {
  constructor(state?: unknown, env?: unknown, options?: { maxEntries?: number });
  fetch(request: Request): Promise<Response>;
}
