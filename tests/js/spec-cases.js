// Reads the spec cases of tests/spec/*.md (the format is in tests/spec/README.md)
// into plain objects that both the native runner and the wasm runner take.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

const DEFAULT_LATENCY = 10;
const CHAT = (model) => ({ model, messages: [{ role: 'user', content: 'hi' }] });

/**
 * Parses one answer token: STATUS[@LATENCY][:VARIANT][{name:value;...}],
 * `net` or `hang`.
 * @param {string} token
 */
export function parseAnswer(token) {
  const m = /^(\d{3}|net|hang)(?:@(\d+))?(?::([a-z_]+))?(?:\{([^}]*)\})?$/.exec(token);
  if (!m) throw new Error(`bad answer "${token}"`);
  const headers = {};
  for (const pair of (m[4] || '').split(';').filter(Boolean)) {
    const i = pair.indexOf(':');
    headers[pair.slice(0, i).trim().toLowerCase()] = pair.slice(i + 1).trim();
  }
  const status = m[1] === 'net' ? 0 : m[1] === 'hang' ? -1 : Number(m[1]);
  return { status, latency: m[2] ? Number(m[2]) : DEFAULT_LATENCY, variant: m[3] || '', headers };
}

function parseScript(text, where) {
  const upstreams = {};
  const steps = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    let m = /^upstream\s+([\w-]+)(?:\s+(openai|anthropic))?\s*:\s*(.*)$/.exec(line);
    if (m) {
      const [, name, kind = 'openai', rest] = m;
      const [listed, then = '200'] = rest.split(/\s+then\s+/);
      upstreams[name] = {
        kind,
        answers: listed.split(/\s+/).filter(Boolean).map(parseAnswer),
        default: parseAnswer(then.trim()),
      };
      continue;
    }
    m = /^(?:at\s+(\d+)\s+)?(request|cancel)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`${where}: cannot read script line "${line}"`);
    const at = m[1] === undefined ? undefined : Number(m[1]);
    if (m[2] === 'cancel') steps.push({ at, cancel: Number(m[3]) });
    else steps.push({ at, request: m[3].startsWith('{') ? JSON.parse(m[3]) : CHAT(m[3]) });
  }
  return { upstreams, steps };
}

/**
 * Every case of every spec file in |dir|.
 * @param {string} dir
 * @returns {{file: string, title: string, config: object, upstreams: object,
 *   steps: object[], expected: string[]}[]}
 */
export function loadSpecCases(dir) {
  const cases = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md').sort()) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const section of text.split(/^## /m).slice(1)) {
      const title = section.slice(0, section.indexOf('\n')).trim();
      const blocks = {};
      for (const b of section.matchAll(/^```(\w+)\n([\s\S]*?)^```/gm)) blocks[b[1]] = b[2];
      const where = `${file}: ${title}`;
      if (blocks.config === undefined || blocks.script === undefined || blocks.log === undefined)
        throw new Error(`${where}: needs config, script and log blocks`);
      cases.push({
        file,
        title,
        config: parseYaml(blocks.config) ?? {},
        ...parseScript(blocks.script, where),
        expected: blocks.log.split('\n').filter((l) => l.trim()),
      });
    }
  }
  return cases;
}

/**
 * One event as a log line: `t=MS TYPE key=value ...`, fields in the order
 * the core wrote them; strings bare unless they hold blanks or are empty.
 * @param {Record<string, unknown>} ev
 */
export function formatEvent(ev) {
  const { t, type, ...rest } = ev;
  const parts = [`t=${t}`, type];
  for (const [k, v] of Object.entries(rest)) {
    const s = typeof v === 'string' && v !== '' && !/\s/.test(v) ? v : JSON.stringify(v);
    parts.push(`${k}=${s}`);
  }
  return parts.join(' ');
}
