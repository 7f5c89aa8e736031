// A LiteLLM proxy config (object or YAML text) made ready for the core:
// os.environ/NAME values resolved, and the provider environment attached.
import { parse as parseYaml } from 'yaml';

const PROVIDER_ENV = ['OPENAI_API_KEY', 'OPENAI_API_BASE', 'ANTHROPIC_API_KEY', 'ANTHROPIC_API_BASE',
  'AZURE_API_KEY', 'AZURE_API_BASE', 'AZURE_API_VERSION'];

/**
 * @param {object | string} config a config object, or YAML (or JSON) text
 * @param {Record<string, string | undefined>} env
 * @returns {{ json: string, config: any }}
 */
export function resolveConfig(config, env) {
  let obj = config;
  if (typeof config === 'string') {
    try {
      obj = parseYaml(config);
    } catch (err) {
      throw new Error(`invalid config: not valid YAML: ${err.message.split('\n')[0]}`);
    }
  }
  if (obj === null || obj === undefined) obj = {};
  const resolved = resolveEnv(obj, env, '');
  if (resolved && typeof resolved === 'object' && !Array.isArray(resolved)) {
    const provider = {};
    for (const name of PROVIDER_ENV) {
      const v = env[name] ?? (name === 'OPENAI_API_BASE' ? env.OPENAI_BASE_URL : undefined);
      if (v) provider[name] = v;
    }
    if (Object.keys(provider).length) resolved.provider_env = provider;
  }
  return { json: JSON.stringify(resolved), config: resolved };
}

function resolveEnv(value, env, path) {
  if (typeof value === 'string' && value.startsWith('os.environ/')) {
    const name = value.slice('os.environ/'.length);
    const v = env[name];
    if (v === undefined) throw new Error(`invalid config: ${path || 'config'}: environment variable ${name} is not set`);
    return v;
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveEnv(v, env, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveEnv(v, env, path ? `${path}.${k}` : k);
    return out;
  }
  return value;
}

/**
 * Redis connection options from LiteLLM's router_settings keys.
 * @param {any} settings router_settings
 * @returns {{ url?: string, host?: string, port?: number, password?: string } | null}
 */
export function redisOptionsFrom(settings) {
  if (!settings || typeof settings !== 'object') return null;
  const { redis_url: url, redis_host: host, redis_port: port, redis_password: password } = settings;
  if (!url && !host) return null;
  return { url: url || undefined, host: host || undefined, port: port === undefined ? undefined : Number(port), password: password || undefined };
}
