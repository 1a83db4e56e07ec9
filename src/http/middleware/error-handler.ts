import type { ErrorRequestHandler, RequestHandler } from 'express';
import { InvalidInputError } from '../../errors/hub-error.js';
import { outcome, toOperationOutcome } from '../../errors/to-operation-outcome.js';
import type { Logger } from '../../logging/logger.js';
import { errorPage } from '../../ui/views.js';
import { JSON_TOO_DEEP } from './hardening.js';
import { sendFhir } from '../fhir-format.js';

/**
 * The one place where errors become HTTP answers: an OperationOutcome with the error's status; for
 * a browser on the staff pages, the same issues as a page it can read.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const bodyError = fromBodyParser(err);
    const { status, outcome: body } = toOperationOutcome(bodyError ?? err);
    const requestId = res.locals.requestId as string | undefined;
    if (status === 503) {
      // A dependency is away (Redis, the FHIR server): the sender is told when to try again.
      res.set('Retry-After', '5');
      const error = body.issue.map((i) => i.diagnostics).join('; ');
      logger.warn(
        { error, requestId, method: req.method, path: req.path },
        'request refused: a dependency is away',
      );
    } else if (status >= 500) {
      logger.error({ err, requestId, method: req.method, path: req.path }, 'request failed');
    }
    if (req.path.startsWith('/ui') && req.accepts(['json', 'html']) === 'html') {
      res.status(status).type('html').send(errorPage(status, body));
      return;
    }
    sendFhir(req, res, status, body);
  };
}

/** Unknown route: 404 as an OperationOutcome, like every other error. */
export const notFound: RequestHandler = (req, res) => {
  sendFhir(req, res, 404, outcome('error', 'not-found', `No route for ${req.method} ${req.path}`));
};

/** express.json() errors carry `type` and `status`; they are the client's fault. */
function fromBodyParser(err: unknown): InvalidInputError | undefined {
  const e = err as { type?: string; status?: number; message?: string };
  if (typeof e?.type === 'string' && typeof e.status === 'number' && e.status < 500) {
    const error = new InvalidInputError(`Request body rejected: ${e.message ?? e.type}`);
    return Object.assign(error, { status: e.type === JSON_TOO_DEEP ? 400 : e.status });
  }
  return undefined;
}
