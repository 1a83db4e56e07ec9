import { Router } from 'express';
import { isForwarded, isLoopback } from '../middleware/admin-auth.js';

/** What `/ready` reports for one dependency. */
interface DependencyStatus {
  status: 'up' | 'down';
  error?: string;
  [detail: string]: string | undefined;
}

/**
 * A dependency check: resolves when the dependency is usable (with details worth showing, such
 * as how Redis persists), rejects with why not.
 */
export type DependencyCheck = () => Promise<void | Readonly<Record<string, string>>>;

/**
 * `GET /health`: the process is alive (no dependency is consulted).
 * `GET /ready`: every dependency answers; 503 names the ones that do not. Why one is down (an
 * error message can name hosts, ports, users) is told only to a caller on this machine.
 */
export function healthRoutes(checks: Record<string, DependencyCheck>): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/ready', async (req, res) => {
    const local = isLoopback(req.socket.remoteAddress) && !isForwarded(req);
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          const details = await check();
          return [name, { status: 'up', ...(details ?? {}) }] as [string, DependencyStatus];
        } catch (err) {
          const down: DependencyStatus = local
            ? { status: 'down', error: (err as Error).message }
            : { status: 'down' };
          return [name, down] as [string, DependencyStatus];
        }
      }),
    );
    const ready = results.every(([, r]) => r.status === 'up');
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'unavailable', dependencies: Object.fromEntries(results) });
  });
  return router;
}
