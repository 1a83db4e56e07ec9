import type { Request, Response } from 'express';
import { FHIR_XML_TYPES, writeFhirXml } from '../fhir/fhir-xml.js';

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

/** Answers with a FHIR resource, as JSON or XML as the caller asked (see `wantsXml`). */
export function sendFhir(req: Request, res: Response, status: number, resource: object): void {
  if (wantsXml(req)) {
    res.status(status).type('application/fhir+xml').send(writeFhirXml(resource));
  } else {
    res.status(status).type('application/fhir+json').json(resource);
  }
}
