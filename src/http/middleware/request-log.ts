import type { RequestHandler } from 'express';
import type { Logger } from '../../logging/logger.js';

/**
 * One log line per request: method, path, status, duration. The query string is left out on
 * purpose: FHIR searches carry identifiers and names, which are PHI.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info(
        { method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 },
        'request',
      );
    });
    next();
  };
}
