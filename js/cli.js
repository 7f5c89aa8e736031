#!/usr/bin/env node
// switchyard serve [--config config.yaml] [--port 4000] [--host 127.0.0.1]
// Without --config: an embedded config whose deployments are the mock
// provider's (started in this process on 127.0.0.1), one of them flaky, so
// retries, cooldowns and fallbacks can be seen with no API key.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { startGateway } from './gateway.js';

const DEMO_CONFIG = (mock) => `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: ${mock}/flaky/v1, api_key: mock-key, order: 1}
    model_info: {id: gpt-4o-flaky}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: ${mock}/steady/v1, api_key: mock-key, order: 2}
    model_info: {id: gpt-4o-steady}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: ${mock}/claude-down, api_key: mock-key}
    model_info: {id: claude-down}
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: ${mock}/mini/v1, api_key: mock-key}
    model_info: {id: gpt-4o-mini}
router_settings:
  fallbacks: [{claude: [gpt-4o-mini]}]
  allowed_fails: 1
`;

/** Two requests through the gateway itself, showing a retry and a fallback. */
async function demonstrate(url) {
  const ask = async (model, what) => {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Say hello' }] }),
    });
    const body = await res.json();
    const h = (n) => res.headers.get(`x-switchyard-${n}`);
    console.error(`switchyard demo: ${model} (${what}): HTTP ${res.status}, answered by deployment ${h('deployment')} ` +
      `of group ${h('model-group')} after ${h('attempts')} attempt(s): "${body.choices?.[0]?.message?.content}"`);
  };
  await ask('gpt-4o', 'gpt-4o-flaky answers 503, retried on gpt-4o-steady');
  await ask('claude', 'claude-down refuses connections, served by the gpt-4o-mini fallback');
  console.error(`switchyard demo: try it yourself:\n  curl -si ${url}/v1/chat/completions -H 'content-type: application/json' ` +
    `-d '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}'`);
}

const USAGE = 'usage: switchyard serve [--config config.yaml] [--port 4000] [--host 127.0.0.1]';

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { config: { type: 'string' }, port: { type: 'string', default: '4000' }, host: { type: 'string', default: '127.0.0.1' } },
  });
  if (positionals[0] !== 'serve') {
    console.error(USAGE);
    return 2;
  }
  let config;
  let mockServer;
  if (values.config) {
    config = await readFile(values.config, 'utf8');
  } else {
    const { createMockProvider } = await import('./mock/index.js');
    const mock = createMockProvider();
    // flaky: its first answer is a 503 (so the startup demo shows a retry), then it fails half the time.
    mock.configure('flaky', { statuses: [503], failRate: 0.5, latencyMs: 80 });
    mock.configure('steady', { latencyMs: 120 });
    mock.configure('claude-down', { down: true });
    mock.configure('mini', { latencyMs: 60 });
    mockServer = await mock.listen({ port: 0 });
    config = DEMO_CONFIG(mockServer.url);
  }
  let gateway;
  try {
    gateway = await startGateway(config, { port: Number(values.port), host: values.host });
  } catch (err) {
    console.error(`switchyard: ${err.message}`);
    await mockServer?.close();
    return 1;
  }
  console.error(`switchyard: gateway on ${gateway.url}${mockServer ? ` (embedded demo config, mock provider on ${mockServer.url})` : ''}`);
  console.error(`switchyard: live dashboard ${gateway.url}/ui, in-browser demo ${gateway.url}/demo`);
  if (mockServer) await demonstrate(gateway.url);
  const stop = async () => {
    await gateway.close();
    await mockServer?.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return undefined;
}

const code = await main();
if (code !== undefined) process.exit(code);
