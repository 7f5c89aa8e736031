// The processes a bench starts (gateways, mocks, peers), and their end: each
// is stopped with SIGTERM, then SIGKILL after a grace period; all of them on
// the bench's own exit or interruption, so no server outlives a run.
import { spawn } from 'node:child_process';

const children = new Set();

/**
 * Starts `node ...args` with |stdio| (file descriptors or 'ignore'/'ipc'
 * entries) and |env| added to this process's environment; under |wrap|
 * (a command and its arguments, such as valgrind's) when given.
 * @returns {import('node:child_process').ChildProcess & { exited: Promise<{code: number | null, sig: string | null}> }}
 */
export function startNode(args, { cwd, stdio, env = {}, wrap = [] }) {
  const [cmd, ...argv] = [...wrap, process.execPath, ...args];
  const child = spawn(cmd, argv, { cwd, stdio, env: { ...process.env, ...env } });
  child.exited = new Promise((r) => child.once('exit', (code, sig) => { children.delete(child); r({ code, sig }); }));
  children.add(child);
  return child;
}

export async function stop(child, graceMs = 3000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  try { process.kill(child.pid, 'SIGTERM'); } catch { return; }
  const t = setTimeout(() => { try { process.kill(child.pid, 'SIGKILL'); } catch {} }, graceMs);
  await child.exited;
  clearTimeout(t);
}

export const stopAll = () => Promise.all([...children].map((c) => stop(c)));

/** On exit, SIGKILL what is left; on SIGINT/SIGTERM, stop everything first (|log| says so). */
export function stopOnExit(log) {
  process.on('exit', () => { for (const c of children) try { process.kill(c.pid, 'SIGKILL'); } catch {} });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, async () => { log(`${sig}: stopping`); await stopAll(); process.exit(130); });
}
