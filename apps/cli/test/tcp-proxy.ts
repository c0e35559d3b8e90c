import { createServer, type Server, Socket } from 'node:net';

/** A loopback TCP proxy in front of one server, for tests of a server that stops answering. */
export interface TcpProxy {
  port: number;
  /** `url` with host and port replaced by the proxy's. */
  urlFor(url: string): string;
  /** From now on nothing is forwarded in either direction and new connections get no answer: a frozen server. */
  freeze(): void;
  /** Drops every connection (the server sees its clients go) and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts a proxy to `target` on a free loopback port. Freezing it hangs only the connections of
 * the test that made it, never the shared test server.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let frozen = false;
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };
  const forward = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => {
      if (!frozen) to.write(chunk);
    });
    from.on('close', () => {
      if (!frozen) to.destroy();
    });
  };
  const server: Server = createServer((client) => {
    track(client);
    if (frozen) return;
    const upstream = new Socket();
    track(upstream);
    upstream.connect(target.port, target.host);
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    urlFor(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    freeze() {
      frozen = true;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
