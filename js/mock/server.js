// The mock provider over real HTTP, on 127.0.0.1 only.
import { createServer } from 'node:http';

/**
 * @param {ReturnType<import('./index.js').createMockProvider>} provider
 * @param {{port?: number}} [options]
 * @returns {Promise<{url: string, close(): Promise<void>}>}
 */
export async function startMockServer(provider, { port = 0 } = {}) {
  const sockets = new Set();
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const ac = new AbortController();
    res.on('close', () => { if (!res.writableEnded) ac.abort(); });
    let out;
    try {
      out = await provider.handle(req.method, req.url, req.headers, Buffer.concat(chunks).toString('utf8'), ac.signal);
    } catch {
      return; // the client went away
    }
    if (out === 'down') return req.socket.destroy();
    res.writeHead(out.status, out.headers);
    if (!out.frames) return res.end(out.body);
    const b = out.behaviour;
    for (let i = 0; i < out.frames.length; i++) {
      if (b.cutAfterChunks !== undefined && i >= b.cutAfterChunks) return req.socket.destroy();
      if (i > 0 && b.tokenIntervalMs) await new Promise((r) => setTimeout(r, b.tokenIntervalMs));
      if (ac.signal.aborted) return;
      res.write(out.frames[i]);
    }
    res.end();
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address();
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
