import type { Server, ServerResponse } from 'node:http';

/** An HTTP server that can stop without waiting on its clients' keep-alive connections. */
export interface DrainableServer {
  /**
   * Stops accepting connections and resolves once every connection has closed. An answer still
   * being made goes out with `Connection: close` and its connection closes after it, so an idle
   * keep-alive connection holds nothing; what is still open after `graceMs` is cut. Resolves
   * with the number of answers cut.
   */
  readonly drain: (graceMs: number) => Promise<number>;
}

/**
 * Watches `server`'s requests so that {@link DrainableServer.drain} can close each connection
 * as soon as its answer is out. Without it Node closes only the connections idle at the moment
 * of `close()`; one answering then stays open for the keep-alive timeout after its answer.
 */
export function drainable(server: Server): DrainableServer {
  const answering = new Set<ServerResponse>();
  let draining = false;
  server.prependListener('request', (_req, res: ServerResponse) => {
    answering.add(res);
    if (draining) {
      res.shouldKeepAlive = false;
    }
    res.once('finish', () => {
      if (draining) {
        // Once the answer has left, its connection is idle: close it now, not at the keep-alive timeout.
        setImmediate(() => server.closeIdleConnections());
      }
    });
    res.once('close', () => answering.delete(res));
  });
  return {
    drain: (graceMs) => {
      draining = true;
      for (const res of answering) {
        if (!res.headersSent) {
          res.shouldKeepAlive = false;
        }
      }
      return new Promise<number>((resolve) => {
        let cut = 0;
        const timer = setTimeout(() => {
          cut = answering.size;
          server.closeAllConnections();
        }, graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve(cut);
        });
        server.closeIdleConnections();
      });
    },
  };
}
