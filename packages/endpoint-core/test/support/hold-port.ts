import { createServer, type Server } from 'node:net';

/**
 * Listens on 127.0.0.1:`port` once nothing else holds it (a reconnecting line binds it a moment at
 * a time), so that the next connection from that range must take another port: as a NAT gives a
 * new connection another port. Tries for 5 s.
 */
export async function holdPort(port: number): Promise<Server> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const server = createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', resolve);
      });
      return server;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
