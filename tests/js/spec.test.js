// Runs every spec case of tests/spec/ on the native build (sy_spec) and on
// both wasm builds, and checks the three event logs are identical to each
// other and to the case's log block, with every request answered once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSpecCases, formatEvent } from './spec-cases.js';
import { caseInput, runOnWasm } from './spec-host.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const specBin = process.env.SY_SPEC_BIN ?? `${root}build/native/sy_spec`;
const modules = {
  clang: new WebAssembly.Module(readFileSync(`${root}wasm/switchyard.wasi.wasm`)),
  emscripten: new WebAssembly.Module(readFileSync(`${root}wasm/switchyard.wasm`)),
};

function runNative(input) {
  assert.ok(existsSync(specBin), `native spec runner missing at ${specBin}: build with scripts/test.sh`);
  const r = spawnSync(specBin, { input: JSON.stringify(input), encoding: 'utf8' });
  assert.equal(r.status, 0, `sy_spec failed: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n').filter(Boolean);
  const summary = JSON.parse(lines.pop()).summary;
  return { events: lines, summary };
}

const cases = loadSpecCases(`${root}tests/spec`);
assert.ok(cases.length >= 15, 'the spec cases are found');

for (const c of cases) {
  test(`spec ${c.file}: ${c.title}`, async () => {
    const input = await caseInput(c);
    const native = runNative(input);
    const log = native.events.map((e) => formatEvent(JSON.parse(e)));
    if (process.env.SPEC_PRINT) console.log(`--- ${c.file}: ${c.title}\n${log.join('\n')}`);
    assert.deepEqual(log, c.expected, 'native log matches the case');
    for (const [name, module] of Object.entries(modules)) {
      const wasm = await runOnWasm(module, input);
      assert.deepEqual(wasm.events, native.events, `${name} wasm log is identical to native`);
      assert.deepEqual(wasm.summary.deliveries, native.summary.deliveries, `${name} deliveries`);
      assert.deepEqual(wasm.summary.statuses, native.summary.statuses, `${name} statuses`);
      assert.equal(wasm.summary.inflight, 0);
    }
    const begun = c.steps.filter((s) => s.request).length;
    assert.equal(Object.keys(native.summary.deliveries).length, begun, 'every request answered');
    for (const n of Object.values(native.summary.deliveries)) assert.equal(n, 1, 'answered exactly once');
    assert.equal(native.summary.inflight, 0);
  });
}
