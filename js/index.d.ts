// Types of the switchyard package (the same for the node, browser and workerd entries).

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export declare const systemClock: Clock;

/** A clock whose time moves only when told: for tests and simulations. */
export declare class ManualClock implements Clock {
  constructor(start?: number);
  now(): number;
  setTimeout(fn: () => void, ms: number): number;
  clearTimeout(handle: unknown): void;
  /** Timers not yet fired. */
  readonly pending: number;
  /** Moves time forward, firing due timers in order and letting async work settle after each. */
  advance(ms: number): Promise<void>;
  /** Fires everything up to limitMs ahead (default one hour). */
  runAll(limitMs?: number): Promise<void>;
}

/**
 * The key-value store the core keeps health in (cooldowns, failure windows).
 * Synchronous against a local view. A store that throws is warned about once
 * and read as empty meanwhile: requests never fail because of it.
 */
export interface KeyValueStore {
  get(key: string): string | undefined;
  put(key: string, value: string, ttlMs: number): void;
  /** Adds to a counter; the TTL is set at creation and not renewed. Returns the sum. */
  add(key: string, delta: number, ttlMs: number): number;
  /**
   * Optional. Calls |listener| synchronously with the key of every change
   * (null: any key may have changed), whoever made it; returns a function
   * that stops it. A store that has it lets the Router keep a copy of the
   * keys it reads and ask again only after a change; without it every read
   * goes to the store.
   */
  watch?(listener: (key: string | null) => void): () => void;
}

export declare class MemoryStore implements KeyValueStore {
  constructor(options?: { clock?: { now(): number }; maxEntries?: number });
  get(key: string): string | undefined;
  put(key: string, value: string, ttlMs: number): void;
  add(key: string, delta: number, ttlMs: number): number;
  watch(listener: (key: string | null) => void): () => void;
  readonly size: number;
}

/** A counter or entry another instance wrote, as a SharedStore backend reports it. */
export interface RemoteEntry {
  key: string;
  value: string;
  /** What is left of its life; <= 0: never expires. */
  ttlMs: number;
  /** A kv_add sum, whose value is the fleet's total. */
  counter?: boolean;
}

/** A write as a SharedStore pushes it; a put's ttlMs is what is left of its life, 0 = never. */
export type BackendChange =
  | { kind: 'put'; key: string; value: string; ttlMs: number }
  | { kind: 'add'; key: string; delta: number; ttlMs: number };

/** Where a SharedStore pushes its writes: Redis, a Durable Object, or your own. */
export interface SharedStoreBackend {
  /** Applies the changes; resolves with each counter's new fleet total (and remote entries learnt of); rejects when unreachable. */
  push(changes: BackendChange[]): Promise<{ totals?: Map<string, { value: number; ttlMs: number }>; remote?: RemoteEntry[] } | void>;
}

/**
 * A fleet's store seen through a synchronous local view: writes apply at once
 * and are pushed in coalesced batches (a cooldown right after the entry point
 * that wrote it, counters within counterDelayMs); other instances' writes
 * come in through applyRemote. Requests never wait on the backend.
 */
export declare class SharedStore implements KeyValueStore {
  constructor(options?: { clock?: { now(): number }; maxEntries?: number; maxPending?: number; autoPush?: boolean; counterDelayMs?: number });
  attach(backend: SharedStoreBackend): void;
  get(key: string): string | undefined;
  watch(listener: (key: string | null) => void): () => void;
  put(key: string, value: string, ttlMs: number): void;
  add(key: string, delta: number, ttlMs: number): number;
  applyRemote(entries: RemoteEntry[]): void;
  /** Resolves when every write so far was pushed, or a push failed (offline: at once). */
  flushed(): Promise<void>;
  /** Pushes now, even nothing (a poll for a backend whose answer carries remote entries). */
  sync(): Promise<void>;
  /** The backend is reachable again: push what waited. */
  reconnected(): void;
  readonly size: number;
  readonly pending: number;
  readonly online: boolean;
  readonly stats: { pushes: number; pushedChanges: number; failedPushes: number; dropped: number; remoteApplied: number };
  status(): { kind: string; online: boolean; entries: number; pending: number; [k: string]: unknown };
}

/** One event of the core: every decision it makes. Never holds an API key. */
export interface RouterEvent {
  t: number;
  type: 'request' | 'attempt_start' | 'attempt_end' | 'first_token' | 'backoff' | 'cooldown' | 'fallback' | 'deliver' | 'config_warning'
    | 'breaker_open' | 'breaker_close' | 'probe' | 'retry_denied' | 'hedge';
  req?: number;
  [field: string]: unknown;
}

export interface RouterOptions {
  /** The transport as a fetch function (the mock provider's fits). Default: node:http(s) with keep-alive on Node, the runtime's fetch elsewhere. */
  fetch?: typeof fetch;
  /** Where health is kept (default: a MemoryStore). */
  store?: KeyValueStore;
  clock?: Clock;
  /** Seeds the core's PRNG: the same seed replays the same choices. Default: random. */
  seed?: number | bigint;
  /** Where os.environ/NAME and provider keys are read (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Which build of the core: 'emscripten' (default, the one the package ships), 'clang'
   * (wasi-libc build, in a checkout of the repository), or a module or bytes. */
  wasm?: 'clang' | 'emscripten' | WebAssembly.Module | BufferSource;
  /**
   * Every event of the core. Default: config warnings to console.warn, once each.
   * Called synchronously while the core runs: completion() and close() made from
   * here start once it has returned, and health() throws. An exception thrown here
   * is rethrown from a microtask of its own; the core carries on.
   */
  onEvent?: (event: RouterEvent) => void;
}

export interface RouteTry {
  deployment: string;
  group: string;
  status: number;
  class: string;
  latency_ms: number;
}

/** How a request was served. */
/** A non-streamed answer with `raw: true`: the upstream's JSON text (OpenAI's shape) and the route taken. */
export interface RawAnswer {
  text: string;
  switchyard: Route;
}

export interface Route {
  model_group: string | null;
  deployment: string | null;
  model: string | null;
  attempts: number;
  fallbacks: number;
  tries: RouteTry[];
  /** The answer's usage times the deployment's input/output_cost_per_token; absent when unknown. */
  cost?: number;
}

export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  content: string | null | Array<{ type: string; text?: string; [k: string]: unknown }>;
  [k: string]: unknown;
}

export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  /** Retries for this request (overrides the config). */
  num_retries?: number;
  /** Overall deadline in seconds. */
  timeout?: number;
  /** Group names, provider models, or objects overriding model/api_key/api_base/api_version. */
  fallbacks?: Array<string | { model?: string; api_key?: string; api_base?: string; api_version?: string }>;
  disable_fallbacks?: boolean;
  /**
   * tags: with router_settings.enable_tag_filtering, the deployments this
   * request may use (their `tags`); fallback_chain: a name of
   * router_settings.fallback_chains whose groups are this request's fallbacks.
   */
  metadata?: { tags?: string[]; fallback_chain?: string; [k: string]: unknown };
  api_key?: string;
  api_base?: string;
  api_version?: string;
  [param: string]: unknown;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{ index: number; message: { role: 'assistant'; content: string | null; [k: string]: unknown }; finish_reason: string }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  /** Non-enumerable: how the request was served. */
  readonly switchyard: Route;
  [k: string]: unknown;
}

export declare class SwitchyardError extends Error {
  /** The HTTP status a gateway answers with (400, 401, 404, 429, 499, 502, 504, ...). */
  status: number;
  type: string;
  code: string;
  route: Route;
  /** When every deployment is rate limited or cooling: how long until one is back. */
  retryAfterMs?: number;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{ index: number; delta: { role?: string; content?: string | null; [k: string]: unknown }; finish_reason: string | null }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  [k: string]: unknown;
}

/**
 * A streamed answer, handed out when the stream committed at its first
 * content token: failures before that were retried or fell back, or reject
 * the completion. A failure after it throws from the iteration.
 */
export declare class ChunkStream implements AsyncIterable<ChatCompletionChunk> {
  /** The route: model_group, deployment and attempts at the commit; complete once the stream ends. */
  switchyard: Partial<Route>;
  /** Stops the stream and aborts the upstream attempt. */
  cancel(): void;
  [Symbol.asyncIterator](): AsyncIterator<ChatCompletionChunk>;
}

export declare class Router {
  /** Builds a router from a LiteLLM proxy config (object or YAML text). Rejects naming the bad key. */
  static create(config: object | string, options?: RouterOptions): Promise<Router>;
  /** Serves one chat completion; rejects with a SwitchyardError. */
  completion(body: ChatCompletionRequest & { stream: true }): Promise<ChunkStream>;
  completion(body: ChatCompletionRequest): Promise<ChatCompletion>;
  /** The same from the request's JSON text, handed to the core as it is (no JSON.stringify): a ChunkStream when it asks for a stream. */
  completion(json: string): Promise<ChatCompletion | ChunkStream>;
  /**
   * raw: a non-streamed answer as the upstream's text, unparsed, with its route: what a proxy
   * that forwards the answer wants (no JSON.parse and JSON.stringify of it). Streams are as without it.
   */
  completion(body: ChatCompletionRequest | string, options: { raw: true }): Promise<RawAnswer | ChunkStream>;
  /** Serves one embeddings request ({model, input}, or its JSON text); rejects with a SwitchyardError. */
  embedding(body: { model: string; input: string | string[] | number[] | number[][]; [k: string]: unknown } | string, options: { raw: true }): Promise<RawAnswer>;
  embedding(body: { model: string; input: string | string[] | number[] | number[][]; [k: string]: unknown } | string): Promise<{ object: 'list'; data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>; model: string; usage?: object; readonly switchyard: Route }>;
  /** Every deployment with its health now, as the core sees it. API keys are never included. */
  health(): Array<{ id: string; model_group: string; model: string; cooling_until: number; reason: string | null; failures: number;
    /** This minute's attempts and tokens, and attempts in flight (fleet-wide with a shared store). */
    rpm: number; tpm: number; inflight: number;
    /** The circuit breaker: null when closed; open until breaker_until (ms); half-open while probes decide. */
    breaker: 'open' | 'half_open' | null; breaker_until: number }>;
  /** The store health is kept in: a MemoryStore, or the SharedStore / RedisStore given or configured. */
  /**
   * The routing decision alone, as a dry run: the id of the deployment a request for model group
   * |model| would be sent to now (no tags, not streamed), or null when the group is unknown or
   * nothing in it is available. Nothing is sent or counted; it draws from the router's random numbers.
   */
  route(model: string): string | null;
  readonly store: KeyValueStore;
  /** Requests in flight in the core. */
  readonly inflight: number;
  /** Live bytes of the core's heap. */
  readonly heapBytes: number;
  /** Answers what is in flight with 499, stops timers, frees the core. */
  close(): Promise<void>;
}
