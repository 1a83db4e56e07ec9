import { Fhir } from 'fhir';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * FHIR XML, the specification's second wire format (README, "FHIR XML"): read into the JSON form
 * the rest of the hub works with, and written for callers that ask for it. The element definitions
 * come from FHIR.js's R4 tables; the reading is ours, so that an element R4 does not define, a
 * repeated single element or a malformed primitive is reported with its path instead of being
 * dropped, and decimals, integers and booleans become JSON numbers and booleans.
 * @see https://hl7.org/fhir/R4/xml.html
 */

/** A problem reading a document, by the FHIR path of its element (the adapters' field issue). */
export interface FieldIssue {
  readonly field: string;
  readonly message: string;
}

export const FHIR_XML_TYPES = ['application/fhir+xml', 'application/xml', 'text/xml'] as const;

const FHIR_NS = 'http://hl7.org/fhir';
/** Deeper than any R4 resource nests (a Bundle of Parameters of contained resources included). */
const MAX_DEPTH = 64;

interface Property {
  readonly _name: string;
  readonly _type: string;
  readonly _multiple: boolean;
  readonly _properties?: readonly Property[];
}
interface Definition {
  readonly _kind: 'resource' | 'complex-type' | 'primitive-type';
  readonly _properties: readonly Property[];
}
/** What fast-xml-parser gives for an element: its children by name (always lists), its attributes under `@`. */
interface XmlElement {
  readonly '@'?: Record<string, string>;
  readonly '#text'?: string;
  readonly [child: string]: unknown;
}

let fhirJs: Fhir | undefined;
/** FHIR.js, loaded on first use: its R4 tables are large and most hubs never see XML. */
function library(): Fhir {
  fhirJs ??= new Fhir();
  return fhirJs;
}
function definitions(): Record<string, Definition> {
  return library().parser.parsedStructureDefinitions as unknown as Record<string, Definition>;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: '@',
  isArray: (_name, _path, _leaf, isAttribute) => !isAttribute,
  // Narrative XHTML is kept as written, not read as FHIR elements.
  stopNodes: ['*.div'],
  parseAttributeValue: false,
  parseTagValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

/** True when a body is XML rather than JSON: its first character, after a byte-order mark and spaces. */
export function looksLikeXml(text: string): boolean {
  return /^\uFEFF?\s*</.test(text);
}

/**
 * A FHIR resource sent as JSON or as XML (told apart by its first character, after a byte-order
 * mark and spaces), in its JSON form; or why it cannot be read.
 */
export function readFhirDocument(
  body: Buffer,
): { readonly resource: Record<string, unknown> } | { readonly issues: FieldIssue[] } {
  const text = body.toString('utf8').replace(/^\uFEFF/, '');
  if (looksLikeXml(text)) {
    return readFhirXml(text);
  }
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value)
      ? { resource: value as Record<string, unknown> }
      : { issues: [{ field: 'resourceType', message: 'is not a FHIR resource' }] };
  } catch (err) {
    return { issues: [{ field: 'Bundle', message: `not valid JSON: ${(err as Error).message}` }] };
  }
}

/**
 * A FHIR resource in XML, as its JSON form; or the issues that stop it being read, each naming the
 * element by its FHIR path (`Bundle.entry[2].resource.Patient.birthDate`).
 */
export function readFhirXml(
  text: string,
): { readonly resource: Record<string, unknown> } | { readonly issues: FieldIssue[] } {
  const body = text.replace(/^\uFEFF/, '');
  if (/<!DOCTYPE/i.test(body)) {
    return { issues: [{ field: 'XML', message: 'a DOCTYPE is not allowed in FHIR XML' }] };
  }
  // Measured before parsing: a parser walking millions of nested elements could exhaust the stack.
  if (nestingOf(body) > MAX_DEPTH * 2) {
    return { issues: [{ field: 'XML', message: `elements nest deeper than ${MAX_DEPTH * 2}` }] };
  }
  const valid = XMLValidator.validate(body);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    return {
      issues: [{ field: 'XML', message: `not well-formed XML at line ${line}, column ${col}: ${msg}` }],
    };
  }
  let document: Record<string, XmlElement[]>;
  try {
    document = parser.parse(body) as Record<string, XmlElement[]>;
  } catch (err) {
    return { issues: [{ field: 'XML', message: `could not be read: ${(err as Error).message}` }] };
  }
  const roots = Object.keys(document);
  if (roots.length !== 1 || document[roots[0]!]!.length !== 1) {
    return { issues: [{ field: 'XML', message: 'a FHIR XML document holds exactly one resource' }] };
  }
  const name = roots[0]!;
  const root = document[name]![0]!;
  if (root['@']?.xmlns !== FHIR_NS) {
    return { issues: [{ field: name, message: `the resource must be in the FHIR namespace ${FHIR_NS}` }] };
  }
  const issues: FieldIssue[] = [];
  const resource = readResource(name, root, name, issues, 0);
  return issues.length > 0 || !resource ? { issues } : { resource };
}

/** A resource as FHIR XML (FHIR.js writes the elements in their defined order). */
export function writeFhirXml(resource: object): string {
  return library().objToXml(resource);
}

function readResource(
  name: string,
  element: XmlElement,
  path: string,
  issues: FieldIssue[],
  depth: number,
): Record<string, unknown> | undefined {
  const definition = definitions()[name];
  if (definition?._kind !== 'resource' || name === 'Resource' || name === 'DomainResource') {
    issues.push({ field: path, message: `${name} is not an R4 resource type` });
    return undefined;
  }
  return { resourceType: name, ...readComplex(element, definition._properties, path, issues, depth) };
}

function readComplex(
  element: XmlElement,
  properties: readonly Property[],
  path: string,
  issues: FieldIssue[],
  depth: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (depth > MAX_DEPTH) {
    issues.push({ field: path, message: `nested deeper than ${MAX_DEPTH} elements` });
    return out;
  }
  for (const [attribute, value] of Object.entries(element['@'] ?? {})) {
    if (attribute === 'xmlns' || attribute.startsWith('xmlns:') || attribute.startsWith('xsi:')) {
      continue;
    }
    if (properties.some((p) => p._name === attribute)) {
      out[attribute] = value;
    } else {
      issues.push({ field: `${path}@${attribute}`, message: 'is not an attribute R4 defines here' });
    }
  }
  if (element['#text']?.trim()) {
    issues.push({ field: path, message: 'FHIR elements carry no text; values go in the value attribute' });
  }
  for (const [name, children] of Object.entries(element)) {
    if (name === '@' || name === '#text') {
      continue;
    }
    const property = properties.find((p) => p._name === name);
    if (!property) {
      issues.push({ field: `${path}.${name}`, message: 'is not an element R4 defines here' });
      continue;
    }
    const list = children as XmlElement[];
    if (!property._multiple && list.length > 1) {
      issues.push({ field: `${path}.${name}`, message: `may appear once, appears ${list.length} times` });
    }
    const at = (i: number): string => (property._multiple ? `${path}.${name}[${i}]` : `${path}.${name}`);
    const kind = kindOf(property);
    if (kind.of === 'primitive') {
      const read = list.map((child, i) => readPrimitive(child, kind.type, at(i), issues, depth));
      place(out, name, read, property._multiple);
    } else {
      const read = list.map((child, i) => readElement(child, kind, at(i), issues, depth + 1));
      out[name] = property._multiple ? read : read[0];
    }
  }
  return out;
}

type Kind =
  | { readonly of: 'primitive'; readonly type: string }
  | { readonly of: 'resource' }
  | { readonly of: 'xhtml' }
  | { readonly of: 'complex'; readonly properties: readonly Property[] };

function kindOf(property: Property): Kind {
  // Inside a BackboneElement every property carries a list, empty unless it is itself one.
  if (property._properties?.length) {
    return { of: 'complex', properties: property._properties };
  }
  if (property._type === 'Resource') {
    return { of: 'resource' };
  }
  if (property._type === 'xhtml') {
    return { of: 'xhtml' };
  }
  if (property._type.startsWith('#')) {
    return { of: 'complex', properties: contentReference(property._type) };
  }
  const definition = definitions()[property._type];
  return definition?._kind === 'primitive-type'
    ? { of: 'primitive', type: property._type }
    : { of: 'complex', properties: definition?._properties ?? [] };
}

/** `#Bundle.link`: an element defined elsewhere in the same resource. */
function contentReference(reference: string): readonly Property[] {
  const [type, ...steps] = reference.slice(1).split('.');
  let properties = definitions()[type!]?._properties ?? [];
  for (const step of steps) {
    properties = properties.find((p) => p._name === step)?._properties ?? [];
  }
  return properties;
}

function readElement(
  element: XmlElement,
  kind: Exclude<Kind, { of: 'primitive' }>,
  path: string,
  issues: FieldIssue[],
  depth: number,
): unknown {
  if (kind.of === 'resource') {
    const inner = Object.entries(element).filter(([name]) => name !== '@' && name !== '#text');
    if (inner.length !== 1 || (inner[0]![1] as XmlElement[]).length !== 1) {
      issues.push({ field: path, message: 'must hold exactly one resource' });
      return undefined;
    }
    const [name, list] = inner[0]!;
    return readResource(name, (list as XmlElement[])[0]!, `${path}.${name}`, issues, depth);
  }
  if (kind.of === 'xhtml') {
    const attributes = Object.entries(element['@'] ?? {})
      .map(([name, value]) => ` ${name}="${escapeAttribute(value)}"`)
      .join('');
    return `<div${attributes}>${element['#text'] ?? ''}</div>`;
  }
  return readComplex(element, kind.properties, path, issues, depth);
}

/** A primitive: its value (typed as JSON types it), and its id and extensions, if any. */
function readPrimitive(
  element: XmlElement,
  type: string,
  path: string,
  issues: FieldIssue[],
  depth: number,
): { value?: unknown; extra?: Record<string, unknown> } {
  const properties = definitions()[type]?._properties.filter((p) => p._name !== 'value') ?? [];
  const { value, ...attributes } = element['@'] ?? {};
  const extra = readComplex({ ...element, '@': attributes }, properties, path, issues, depth + 1);
  return {
    ...(value === undefined ? {} : { value: typed(value, type, path, issues) }),
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  };
}

function typed(value: string, type: string, path: string, issues: FieldIssue[]): unknown {
  if (type === 'boolean') {
    if (value !== 'true' && value !== 'false') {
      issues.push({ field: path, message: `"${value}" is not a boolean (true or false)` });
    }
    return value === 'true';
  }
  if (type === 'decimal' || type === 'integer' || type === 'positiveInt' || type === 'unsignedInt') {
    const pattern = type === 'decimal' ? /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/ : /^-?(0|[1-9]\d*)$/;
    if (!pattern.test(value)) {
      issues.push({ field: path, message: `"${value}" is not a valid ${type}` });
    }
    return Number(value);
  }
  return value;
}

/** JSON's split of a primitive: the values under `name`, ids and extensions under `_name`. */
function place(
  out: Record<string, unknown>,
  name: string,
  read: ReadonlyArray<{ value?: unknown; extra?: Record<string, unknown> }>,
  multiple: boolean,
): void {
  const values = read.map((r) => r.value ?? null);
  const extras = read.map((r) => r.extra ?? null);
  if (values.some((v) => v !== null)) {
    out[name] = multiple ? values : values[0];
  }
  if (extras.some((e) => e !== null)) {
    out[`_${name}`] = multiple ? extras : extras[0];
  }
}

/** The deepest element nesting of a document, by its tags alone (comments and CDATA aside, a bound). */
function nestingOf(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (const tag of text.matchAll(/<(\/?)[A-Za-z_][^>]*?(\/?)>/g)) {
    if (tag[1]) {
      depth--;
    } else if (!tag[2]) {
      depth++;
      deepest = Math.max(deepest, depth);
    }
  }
  return deepest;
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
