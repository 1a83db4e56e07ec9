import type { Request, Response } from 'express';
import { InvalidInputError } from '../errors/hub-error.js';
import { FHIR_XML_TYPES, looksLikeXml, readFhirDocument, writeFhirXml } from '../fhir/fhir-xml.js';
import { assertJsonDepth } from './middleware/hardening.js';

/**
 * The FHIR wire formats at the HTTP door: a resource read from a body in JSON or XML, and answers
 * in the format the caller asked for (README, "FHIR XML").
 */

const JSON_TYPES = ['application/fhir+json', 'application/json'];
const XML_FORMATS = new Set<string>(['xml', ...FHIR_XML_TYPES]);

/**
 * Whether the caller wants FHIR XML: `_format` first (FHIR's override for clients that cannot set
 * `Accept`), then `Accept`; a caller that states no preference gets the format it sent in.
 * @see https://hl7.org/fhir/R4/http.html#mime-type
 */
export function wantsXml(req: Request): boolean {
  const format = req.query._format;
  if (typeof format === 'string') {
    return XML_FORMATS.has(format.toLowerCase());
  }
  const accept = req.headers.accept?.trim();
  if (!accept || accept === '*/*') {
    const sent = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    return (FHIR_XML_TYPES as readonly string[]).includes(sent);
  }
  const best = req.accepts([...JSON_TYPES, ...FHIR_XML_TYPES]);
  return typeof best === 'string' && (FHIR_XML_TYPES as readonly string[]).includes(best);
}

/** A FHIR resource from a request body (JSON or XML); one that cannot be read is a 400 naming why. */
export function readFhirBody(raw: Buffer): Record<string, unknown> {
  const text = raw.toString('utf8');
  if (!looksLikeXml(text)) {
    assertJsonDepth(text);
  }
  const read = readFhirDocument(raw);
  if ('issues' in read) {
    throw new InvalidInputError(
      'The body is not a FHIR resource in JSON or XML',
      read.issues.map((i) => ({
        severity: 'error',
        code: 'structure',
        diagnostics: i.message,
        expression: [i.field],
      })),
    );
  }
  return read.resource;
}

/** Answers with a FHIR resource, as JSON or XML as the caller asked (see `wantsXml`). */
export function sendFhir(req: Request, res: Response, status: number, resource: object): void {
  if (wantsXml(req)) {
    res.status(status).type('application/fhir+xml').send(writeFhirXml(resource));
  } else {
    res.status(status).type('application/fhir+json').json(resource);
  }
}
