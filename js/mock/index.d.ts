// Types of switchyard/mock (js/mock/index.js) and switchyard/mock/server (js/mock/server.js).

/** Every delay and timestamp of the mock goes through a clock. */
export interface MockClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** A clock that moves only when told to: for tests and simulations. */
export interface ManualClock extends MockClock {
  /** Number of pending timers. */
  readonly pending: number;
  /** Moves time forward by `ms`, firing due timers in order and flushing promise jobs between them. */
  advance(ms: number): Promise<void>;
}

export type ProviderKind = 'openai' | 'azure' | 'anthropic';
export type Endpoint = 'chat' | 'embeddings' | 'models' | 'messages' | 'unknown';

/** One scripted answer of `statuses`. */
export interface ScriptedAnswer {
  /** An HTTP status, `'net'` (connection refused) or `'hang'` (no answer until the client aborts). */
  status: number | 'net' | 'hang';
  /**
   * Refines the error body: `context` (context window exceeded), `filter` / `policy`
   * (content filter; with status 200: `finish_reason: "content_filter"`), `quota`,
   * `overloaded`, `malformed` (with 200: a broken JSON body), `html` (a proxy's HTML page).
   */
  variant?: string;
  /** Overrides the deployment's `latencyMs` for this answer. */
  latencyMs?: number;
  /** Extra response headers, e.g. `{ 'retry-after-ms': '1500' }`. */
  headers?: Record<string, string>;
}

/**
 * How one deployment behaves. Everything is optional and composes; the order
 * in which the checks apply is documented at the top of js/mock/index.js.
 */
export interface MockBehaviour {
  /**
   * Answers consumed one per valid call (requests refused for their path, key,
   * version or body do not consume one), then healthy; cycled with `repeat`.
   * A string is `STATUS[@LATENCY_MS][:VARIANT]`, `net` or `hang`, as in the spec cases.
   * Any status gets the provider's real error body for it.
   */
  statuses?: Array<number | string | ScriptedAnswer>;
  repeat?: boolean;
  /** Probability that a call fails with `failStatus`, drawn from a PRNG seeded by `options.seed` and the deployment name. */
  failRate?: number;
  /** Status of `failRate` failures: default 529 for Anthropic, 503 otherwise. */
  failStatus?: number;
  /** Delay before the response head (for every answer, errors included). */
  latencyMs?: number;
  /** Streams: delay from the head (which carries the opening frames) to the first content chunk. */
  firstTokenMs?: number;
  /** Streams: delay between content chunks. */
  tokenIntervalMs?: number;
  /**
   * Streams: the connection drops after `n` content chunks (before the closing frames).
   * In process the body stream errors with `TypeError('terminated')` (as undici's);
   * over HTTP the socket is destroyed.
   */
  cutAfterChunks?: number;
  /**
   * Streams: after `n` content chunks, a mid-stream error and the end of the stream:
   * Anthropic `event: error` with `overloaded_error`; OpenAI a `data: {"error":{...}}`
   * line and no `[DONE]`.
   */
  errorAfterChunks?: number;
  /** Connection refused: in process fetch rejects with `TypeError('fetch failed')` whose `cause.code` is `ECONNREFUSED`; over HTTP the socket is destroyed. */
  down?: boolean;
  /** No call is ever answered; the client's abort (or server close) ends it. */
  hang?: boolean;
  /**
   * Per-minute limits over a sliding 60 s window of admitted requests. `tpm` counts prompt
   * tokens (ceil(chars / 4)). Over the limit: 429 with the provider's error body, `retry-after`
   * (seconds) and, for OpenAI and Azure, `retry-after-ms` and `x-ratelimit-*` headers
   * (`x-ratelimit-reset-requests` like "1s"); for Anthropic `anthropic-ratelimit-*` headers with
   * RFC 3339 resets. Successful answers carry the remaining counts too.
   */
  rateLimit?: { rpm?: number; tpm?: number };
  /** Maximum prompt tokens; longer prompts get OpenAI's `context_length_exceeded` or Anthropic's "prompt is too long". */
  contextWindow?: number;
  /** Words (case-insensitive) whose presence in the prompt trips the content filter. */
  contentFilter?: string[];
  /** `error` (default): OpenAI 400 `content_policy_violation`, Azure 400 `content_filter`, Anthropic 400; `finish_reason`: 200 with `content_filter` (Anthropic: `stop_reason: "refusal"`). */
  contentFilterMode?: 'error' | 'finish_reason';
  /** The only key accepted (Authorization Bearer, `api-key` or `x-api-key` by provider); others get a 401 that never shows the whole key. */
  apiKey?: string;
  /** OpenAI and Azure 429 `insufficient_quota`; Anthropic 400 "Your credit balance is too low...". */
  quotaExhausted?: boolean;
  /** Anthropic 529 `overloaded_error`; OpenAI and Azure 503. */
  overloaded?: boolean;
  /** 200 with a body cut short (streams: a broken first content chunk). */
  malformed?: boolean;
  /** The reply text, or a function of the request. Default: "Hello from N (model). You said: ...". */
  reply?: string | ((req: MockRequestInfo) => string | Promise<string>);
  /** Extra headers on every response of this deployment. */
  headers?: Record<string, string>;
  /** Embedding length when the request gives no `dimensions` (default 16). */
  embeddingDimensions?: number;
  /** Ids listed by `GET /N/v1/models` (default `['mock-model']`). */
  models?: string[];
}

export interface MockRequestInfo {
  deployment: string;
  kind: ProviderKind;
  endpoint: Endpoint;
  model: string | null;
  body: any;
  /** Text of the last user message. */
  prompt: string;
  /** Request headers, keys redacted. */
  headers: Record<string, string>;
}

/** One received request, as booked in `provider.calls`. */
export interface MockCall {
  seq: number;
  deployment: string | null;
  /** Alias of `deployment`. */
  name: string | null;
  kind: ProviderKind;
  /** Alias of `kind`. */
  provider: ProviderKind;
  endpoint: Endpoint;
  method: string;
  /** Path and query string. */
  path: string;
  model: string | null;
  stream: boolean;
  /** Lower-case names; `authorization`, `api-key`, `x-api-key`, cookies shown as `[REDACTED]`. */
  headers: Record<string, string>;
  /** Parsed JSON body, or null. */
  body: any;
  auth: 'ok' | 'missing' | 'invalid' | 'unchecked';
  /** Clock time at arrival. */
  time: number;
  /** Clock time when the answer ended (or was refused, cut or aborted). */
  end: number | null;
  /** HTTP status answered; 0 when none. */
  status: number;
  outcome:
    | 'pending' | 'ok' | 'error' | 'refused' | 'hang' | 'aborted' | 'cancelled'
    | 'cut' | 'stream_error' | 'malformed' | 'content_filter';
  /**
   * Why: not_found, auth, version, bad_request, quota, rate_limit, scripted, fail_rate,
   * overloaded, context_window, content_filter, malformed, cut, stream_error, down, hang; null when ok.
   */
  reason: string | null;
}

export interface Frame {
  delay: number;
  text: string;
  content?: boolean;
  tail?: boolean;
}

/** What the mock will do with one request (low level: for custom transports). */
export type Plan =
  | { type: 'refuse'; call: MockCall }
  | { type: 'hang'; delayMs: number; call: MockCall }
  | {
      type: 'http';
      delayMs: number;
      status: number;
      headers: Record<string, string>;
      body?: string;
      frames?: Frame[];
      cut?: boolean;
      outcome: string;
      call: MockCall;
    };

export interface PlanSink {
  refuse(): void;
  head(status: number, headers: Record<string, string>): void;
  write(text: string): void;
  end(): void;
  cut(): void;
}

export interface MockProviderOptions {
  /** Seeds ids, request ids and `failRate` draws (default 1). */
  seed?: number;
  /** Default: Date.now and the global timers. */
  clock?: MockClock;
  /** Unknown deployment names answer 404 instead of a healthy default. */
  strict?: boolean;
  /** Initial behaviours by deployment name (restored by `reset()`). */
  deployments?: Record<string, MockBehaviour>;
  /** Merged under every deployment's own behaviour. */
  defaults?: MockBehaviour;
  /** Base for relative URLs given to `fetch` (default `http://mock`); the host is otherwise ignored. */
  origin?: string;
  /** `calls` keeps about this many newest entries (default 100000). */
  maxCalls?: number;
}

export interface MockServer {
  /** `http://127.0.0.1:PORT`; deployment N is at `${url}/N`. */
  url: string;
  port: number;
  /** Stops listening, drops open connections and cancels pending answers. */
  close(): Promise<void>;
}

export interface MockProvider {
  /**
   * WHATWG fetch over the mock, in process. Resolves to a real `Response`; honours `init.signal`
   * (rejects, or errors the body stream, with `signal.reason`).
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** Replaces deployment `name`'s behaviour and resets its counters; or configures several at once. */
  configure(name: string, behaviour: MockBehaviour): MockProvider;
  configure(behaviours: Record<string, MockBehaviour>): MockProvider;
  /** Back to the state right after creation: behaviours from `options.deployments`, no calls, fresh counters and PRNGs. */
  reset(): MockProvider;
  /** Every request received, in order (the array is cleared in place by `reset()`). */
  readonly calls: MockCall[];
  /** Number of calls received by deployment `name`. */
  callsTo(name: string): number;
  readonly clock: MockClock;
  /** Base URL of a deployment for the in-process fetch: `openai` -> `<origin>/N/v1`, others `<origin>/N`. */
  baseUrl(name: string, kind?: ProviderKind): string;
  /** Serves this provider over HTTP on 127.0.0.1 (Node only; loads ./server.js on demand). */
  listen(opts?: { host?: string; port?: number }): Promise<MockServer>;
  /** Low level: turns one request into a plan and books it in `calls`. */
  handle(request: { method?: string; url: string | URL; headers?: HeadersInit; body?: string }): Promise<Plan>;
  /** Low level: carries a plan out through the clock; returns a cancel function. */
  play(plan: Plan, sink: PlanSink): (why?: string) => void;
}

export function createMockProvider(options?: MockProviderOptions): MockProvider;

/**
 * The exact error a provider sends for a status (and variant), as the mock sends it.
 * `limit`/`tokens` are aliases of `contextWindow`/`promptTokens`.
 */
export function errorBody(
  kind: ProviderKind,
  status: number,
  ctx?: {
    variant?: string;
    model?: string | null;
    key?: string | null;
    contextWindow?: number;
    promptTokens?: number;
    limit?: number;
    tokens?: number;
    apiVersion?: string;
    requestId?: string;
    message?: string;
    type?: string;
    param?: string | null;
    code?: string | null;
    azureCode?: string;
  },
): { status: number; headers: Record<string, string>; body: string; contentType: string };

/** OpenAI's chat.completion body as JSON text (`azure` adds Azure's content-filter results). */
export function openaiCompletion(o: {
  id?: string;
  created?: number;
  model: string;
  content: string;
  promptTokens?: number;
  completionTokens?: number;
  finishReason?: string;
  azure?: boolean;
}): string;

/** Anthropic's message body as JSON text. */
export function anthropicMessage(o: {
  id?: string;
  model: string;
  content: string;
  inputTokens?: number;
  outputTokens?: number;
  stopReason?: string;
}): string;

/** Parses Server-Sent Events text into records (`event` is 'message' when absent). */
export function parseSSE(text: string): { event: string; data: string }[];
/** A manual clock starting at `start` (default 0). */
export function createManualClock(start?: number): ManualClock;
/** Reads `STATUS[@MS][:VARIANT]`, `net`, `hang`, a number or an object. */
export function parseScripted(entry: number | string | ScriptedAnswer): ScriptedAnswer;
/** ceil(chars / 4) over message contents, Anthropic's `system` and embedding inputs. */
export function estimatePromptTokens(body: any): number;
export function estimateTokens(text: string): number;
/** OpenAI's 401 masking: prefix, stars, last four; short keys all stars. */
export function maskKey(key: string): string;
/** Go duration text as in OpenAI's reset headers: "20ms", "1s", "1.5s", "6m0s". */
export function formatDuration(ms: number): string;
export function makeRng(seed: number): () => number;
export const systemClock: MockClock;

// js/mock/server.js (switchyard/mock/server) also exports:
//   startMockServer(provider, { host?, port? }): Promise<MockServer>   (alias: listen)
//   createMockServer(options & { host?, port? }): Promise<MockServer & { provider: MockProvider }>
