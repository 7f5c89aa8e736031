// npm start: the router against the mock provider over HTTP on 127.0.0.1,
// with no API key. One request is served after a retry, one by a fallback,
// and each says which deployment answered. (The OpenAI-compatible gateway
// will take this command over; see the README.)
import { Router } from 'switchyard';
import { createMockProvider } from 'switchyard/mock';

const mock = createMockProvider();
mock.configure('eu-flaky', { statuses: [503, 503], latencyMs: 40 }); // fails twice, then recovers
mock.configure('us-steady', { latencyMs: 60 });
mock.configure('claude-down', { down: true }); // refuses connections
mock.configure('mini', { latencyMs: 20 });
const server = await mock.listen({ port: 0 });

const config = `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: azure/gpt-4o-eu, api_base: ${server.url}/eu-flaky, api_key: mock-key, api_version: "2024-10-21", order: 1}
    model_info: {id: eu-flaky}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_base: ${server.url}/us-steady/v1, api_key: mock-key, order: 2}
    model_info: {id: us-steady}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: ${server.url}/claude-down, api_key: mock-key}
    model_info: {id: claude-down}
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: ${server.url}/mini/v1, api_key: mock-key}
    model_info: {id: mini}
router_settings:
  fallbacks: [{claude: [gpt-4o-mini]}]
`;

const router = await Router.create(config, {
  onEvent: (e) => {
    if (e.type === 'attempt_end' && e.class !== 'ok') console.log(`  ${e.deployment}: ${e.status || 'no answer'} (${e.class}) after ${e.latency_ms} ms`);
    if (e.type === 'backoff') console.log(`  waiting ${Math.round(e.ms)} ms before retry ${e.retry}`);
    if (e.type === 'cooldown') console.log(`  cooling ${e.deployment} until +${Math.round(e.until - e.t)} ms`);
    if (e.type === 'fallback') console.log(`  falling back from ${e.from} to ${e.to}`);
  },
});

async function ask(model) {
  console.log(`\n> ${model}`);
  const res = await router.completion({ model, messages: [{ role: 'user', content: 'Say hello' }] });
  const r = res.switchyard;
  console.log(`< "${res.choices[0].message.content}"`);
  console.log(`  answered by deployment ${r.deployment} (${r.model}) in group ${r.model_group}, ` +
    `${r.attempts} attempt(s), ${r.fallbacks} fallback(s)`);
}

try {
  await ask('gpt-4o'); // eu-flaky answers 503: retried at once on us-steady
  await ask('claude'); // claude-down refuses: served by the gpt-4o-mini fallback
} finally {
  await router.close();
  await server.close();
}
