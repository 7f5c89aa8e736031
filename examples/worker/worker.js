// A Switchyard gateway on Cloudflare Workers. The API keys are secrets
// (wrangler secret put OPENAI_API_KEY ...), read through os.environ/NAME.
import { createWorker, SwitchyardState } from 'switchyard/worker';

// The Durable Object that shares cooldowns and usage across isolates:
// wrangler.toml binds it as SWITCHYARD_STATE.
export { SwitchyardState };

export default createWorker(`
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_key: os.environ/ANTHROPIC_API_KEY}
router_settings:
  num_retries: 2
  fallbacks: [{gpt-4o: [claude]}]
general_settings:
  master_key: os.environ/SWITCHYARD_MASTER_KEY
`);
