// Types of switchyard/mock/server (js/mock/server.js): the mock over real HTTP, Node only.
import type { MockProvider, MockProviderOptions, MockServer } from './index.js';

export * from './index.js';

/** Serves `provider` over HTTP on a loopback address (default 127.0.0.1, port 0 = any free port). */
export function startMockServer(provider: MockProvider, opts?: { host?: string; port?: number }): Promise<MockServer>;
/** Alias of startMockServer. */
export const listen: typeof startMockServer;
/** A provider and its server in one call. */
export function createMockServer(
  options?: MockProviderOptions & { host?: string; port?: number },
): Promise<MockServer & { provider: MockProvider }>;
