import { crisisUpdateSchema } from '../adapters/crisis-update/parse-crisis-update.js';
import { servicePlanSchema } from '../adapters/service-plan/schema.js';
import { HOOK_SECRET_HEADER } from '../fhir/subscriptions.js';
import { DELIVERY_STEPS } from '../routing/delivery-status.js';
import {
  acknowledgmentSchema,
  assignmentSchema,
  consentSchema,
  endMembershipSchema,
  handoverSchema,
  huddleSchema,
  loginSchema,
  referralMoveSchema,
  reportSchema,
} from './request-schemas.js';

// The OpenAPI 3.1 description of every HTTP route but the staff pages under /ui (HTML for a
// browser), served at /openapi.json (README, "API reference"). Request bodies are the very
// schemas the routes validate with; a test fails when a route is missing here or a path here
// has no route.

type Json = Record<string, unknown>;
type Security = 'partner' | 'staff' | 'admin' | 'scraper' | 'hook' | 'none';

interface Operation {
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  /** Who may call it when `AUTH_REQUIRED` is on; with it off, partner routes are open. */
  readonly security: Security;
  readonly parameters?: readonly Json[];
  readonly body?: Json;
  readonly responses: Record<string, string | Json>;
}

const OUTCOME = '#/components/schemas/OperationOutcome';
const fhirJson = (ref = '#/components/schemas/FhirResource'): Json => ({
  'application/fhir+json': { schema: { $ref: ref } },
  'application/fhir+xml': { schema: { type: 'string' } },
});
const json = (schema: Json): Json => ({ 'application/json': { schema } });
const outcome = (description: string): Json => ({ description, content: fhirJson(OUTCOME) });
const pathParam = (name: string, description: string, pattern = '^[A-Za-z0-9.-]{1,64}$'): Json => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string', pattern },
});
const query = (name: string, description: string, schema: Json = { type: 'string' }): Json => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});

/** A search of the message log, as GET /admin/messages and its bulk replay take it. */
const messageSearch = [
  query('key', 'A business key, exactly (any case)'),
  query('partner', 'Only this partner'),
  query('format', 'Only this format'),
  query('status', 'rejected: with a rejected record; accepted: with none', {
    type: 'string',
    enum: ['accepted', 'rejected'],
  }),
  query('from', 'Received at or after (date or date-time with offset)'),
  query('to', 'Received before (date or date-time with offset)'),
];

const partnerId = pathParam(
  'partnerId',
  "The partner's id, its file name in config/partners/",
  '^[a-z0-9-]{1,64}$',
);
const participant = pathParam('id', "The participant's Patient id on the FHIR server");
const queueJob = [
  pathParam('queue', 'Queue name', '^[a-z-]{1,64}$'),
  pathParam('jobId', 'Job id', '^.{1,200}$'),
];
const format = query('_format', 'json or xml: the answer in this FHIR format (else Accept, else as sent)', {
  type: 'string',
  enum: ['json', 'xml', 'application/fhir+json', 'application/fhir+xml'],
});
const wait = query('wait', 'Seconds (up to 60) to wait for the records to be applied before answering', {
  type: 'integer',
  minimum: 0,
  maximum: 60,
});
const refused = {
  '400': outcome('Unreadable: the issues name the record and field'),
  '401': outcome('No valid token'),
  '403': outcome("Another partner's data, or a scope the token lacks"),
};

const INGEST_BODIES: Json = {
  'application/fhir+json': { schema: { $ref: '#/components/schemas/FhirResource' } },
  'application/fhir+xml': { schema: { type: 'string' } },
  'application/json': {
    schema: {
      oneOf: [
        { $ref: '#/components/schemas/ServicePlan' },
        { $ref: '#/components/schemas/CrisisUpdate' },
        { $ref: '#/components/schemas/FhirResource' },
      ],
    },
  },
  'text/csv': { schema: { type: 'string', description: 'EVV visits, or one HMIS CSV file' } },
  'application/zip': { schema: { type: 'string', format: 'binary', description: 'An HMIS CSV export' } },
  'x-application/hl7-v2+er7': { schema: { type: 'string', description: 'HL7 v2 ADT messages' } },
};

const BATCH_STATUS: Json = {
  type: 'object',
  required: ['id', 'partner', 'format', 'receivedAt', 'status'],
  properties: {
    id: { type: 'string' },
    partner: { type: 'string' },
    format: { type: 'string' },
    receivedAt: { type: 'string', format: 'date-time' },
    status: { enum: ['queued', 'processing', 'done'] },
    counts: {
      type: 'object',
      properties: Object.fromEntries(
        ['records', 'accepted', 'applied', 'rejected', 'skipped', 'pending', 'failed'].map((k) => [
          k,
          { type: 'integer' },
        ]),
      ),
    },
    httpStatus: { type: 'integer' },
    outcome: { $ref: OUTCOME },
  },
};

const OPERATIONS: Record<string, Record<string, Operation>> = {
  '/health': {
    get: {
      summary: 'Liveness: the process answers',
      tag: 'Operations',
      security: 'none',
      responses: { '200': 'Alive' },
    },
  },
  '/ready': {
    get: {
      summary: 'Readiness: start-up finished, the FHIR server and Redis answer',
      tag: 'Operations',
      security: 'none',
      responses: { '200': 'Ready, with each check', '503': 'Not ready, naming the failing check' },
    },
  },
  '/metrics': {
    get: {
      summary: 'Prometheus metrics: ingest, application, delivery latency, acknowledgment age, queues',
      tag: 'Operations',
      security: 'scraper',
      responses: {
        '200': {
          description: 'Prometheus text format',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
      },
    },
  },
  '/openapi.json': {
    get: {
      summary: 'This document',
      tag: 'Operations',
      security: 'none',
      responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
    },
  },
  '/auth/token': {
    post: {
      summary: 'SMART Backend Services token: a partner signs a JWT with its key and gets an access token',
      tag: 'Partners',
      security: 'none',
      body: {
        'application/x-www-form-urlencoded': {
          schema: {
            type: 'object',
            required: ['grant_type', 'client_assertion_type', 'client_assertion'],
            properties: {
              grant_type: { const: 'client_credentials' },
              client_assertion_type: { const: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' },
              client_assertion: {
                type: 'string',
                description: 'The JWT, signed with a key in the partner file',
              },
              scope: { type: 'string', description: 'SMART system scopes, for example system/Task.u' },
            },
          },
        },
      },
      responses: {
        '200': { description: 'The access token', content: json({ type: 'object' }) },
        '400': {
          description: 'invalid_request, invalid_client or invalid_scope (RFC 6749)',
          content: json({ type: 'object' }),
        },
      },
    },
  },
  '/.well-known/smart-configuration': {
    get: {
      summary: 'SMART discovery (token endpoint, scopes)',
      tag: 'Partners',
      security: 'none',
      responses: { '200': 'SMART configuration' },
    },
  },
  '/fhir/.well-known/smart-configuration': {
    get: {
      summary: 'SMART discovery under the FHIR base',
      tag: 'FHIR',
      security: 'none',
      responses: { '200': 'SMART configuration' },
    },
  },
  '/ingest/{partnerId}/{format}': {
    post: {
      summary: "A partner's records in one of its formats",
      description:
        'Good records go in when others in the same batch are refused; the OperationOutcome has one issue per record. ' +
        'The partner file lists the formats a partner may send (README, "Inbound formats").',
      tag: 'Ingest',
      security: 'partner',
      parameters: [
        partnerId,
        pathParam(
          'format',
          'hl7v2-adt, service-plan, evv-csv, crisis-update, hmis-csv, fhir-message or fhir-transaction',
          '^[a-z0-9-]{1,40}$',
        ),
        wait,
        format,
        {
          name: 'Prefer',
          in: 'header',
          required: false,
          description:
            'respond-async: the batch is stored and answered 202 at once, with Content-Location naming its status',
          schema: { type: 'string' },
        },
      ],
      body: INGEST_BODIES,
      responses: {
        '200': outcome('Every record applied'),
        '202': outcome('Accepted: some records queued, or some refused while others went in'),
        ...refused,
        '409': outcome('A record that would undo a newer step'),
        '413': outcome('Larger than INGEST_MAX_BODY_BYTES'),
        '415': outcome('A content type the format does not take'),
        '422': outcome('Every record refused'),
      },
    },
  },
  '/ingest/{partnerId}/batches/{id}': {
    get: {
      summary: 'Where a batch sent with Prefer: respond-async stands (only its sender reads it)',
      tag: 'Ingest',
      security: 'partner',
      parameters: [partnerId, pathParam('id', 'From Content-Location', '^[0-9a-f-]{36}$')],
      responses: {
        '200': {
          description: 'Done: counts, and the outcome a synchronous call would have had',
          content: json(BATCH_STATUS),
        },
        '202': {
          description: 'Queued or processing: counts so far (X-Progress)',
          content: json(BATCH_STATUS),
        },
        '404': outcome('No such batch of this partner'),
      },
    },
  },
  '/fhir/metadata': {
    get: {
      summary: 'CapabilityStatement of what the hub serves',
      tag: 'FHIR',
      security: 'none',
      parameters: [format],
      responses: { '200': { description: 'CapabilityStatement', content: fhirJson() } },
    },
  },
  '/fhir': {
    post: {
      summary: 'A transaction or batch Bundle; answered with a transaction-response or batch-response',
      tag: 'FHIR',
      security: 'partner',
      parameters: [format],
      body: fhirJson(),
      responses: {
        '200': { description: 'The response Bundle, an entry per entry', content: fhirJson() },
        ...refused,
        '422': outcome('The transaction was refused'),
      },
    },
  },
  '/fhir/$process-message': {
    post: {
      summary: 'A FHIR message (Bundle of type message)',
      description:
        'Answered with a response message when processed within the wait, else 202 with Content-Location to poll.',
      tag: 'FHIR',
      security: 'partner',
      parameters: [format],
      body: fhirJson(),
      responses: {
        '200': { description: 'The response message', content: fhirJson() },
        '202': outcome('Accepted for processing; Content-Location names where the response will be'),
        ...refused,
      },
    },
  },
  '/fhir/$process-message/responses/{jobId}': {
    get: {
      summary: 'The response to a message accepted for processing',
      tag: 'FHIR',
      security: 'partner',
      parameters: [pathParam('jobId', 'From Content-Location', '^[A-Za-z0-9.-]{1,200}$'), format],
      responses: {
        '200': { description: 'The response message', content: fhirJson() },
        '202': outcome('Still processing'),
        '404': outcome('No such message'),
      },
    },
  },
  '/fhir/{type}/{id}': {
    get: {
      summary:
        'Read a resource about a participant whose care team the partner is on (ETag, Last-Modified, If-None-Match)',
      tag: 'FHIR',
      security: 'partner',
      parameters: [
        pathParam('type', 'FHIR resource type', '^[A-Z][A-Za-z]{1,64}$'),
        pathParam('id', 'Resource id'),
        format,
      ],
      responses: {
        '200': { description: 'The resource', content: fhirJson() },
        '304': 'Not modified',
        ...refused,
        '404': outcome('No such resource'),
      },
    },
  },
  '/fhir/Subscription/$topic-list': {
    get: {
      summary: 'The topics partners may subscribe to (Subscriptions R5 Backport, R4)',
      tag: 'Subscriptions',
      security: 'partner',
      parameters: [format],
      responses: {
        '200': { description: 'Parameters, one subscription-topic-canonical per topic', content: fhirJson() },
      },
    },
  },
  '/fhir/Subscription': {
    post: {
      summary:
        'Subscribe to a topic: a backport R4 Subscription with a rest-hook channel on the partner’s delivery address',
      tag: 'Subscriptions',
      security: 'partner',
      parameters: [format],
      body: fhirJson(),
      responses: {
        '201': { description: 'The Subscription, requested; the handshake follows', content: fhirJson() },
        ...refused,
      },
    },
  },
  '/fhir/Subscription/{id}': {
    get: {
      summary: 'One of the partner’s subscriptions, with its status (requested, active, error)',
      tag: 'Subscriptions',
      security: 'partner',
      parameters: [pathParam('id', 'Subscription id'), format],
      responses: {
        '200': { description: 'The Subscription', content: fhirJson() },
        '404': outcome('No such subscription of this partner'),
      },
    },
    delete: {
      summary: 'End a subscription',
      tag: 'Subscriptions',
      security: 'partner',
      parameters: [pathParam('id', 'Subscription id')],
      responses: { '204': 'Ended', '404': outcome('No such subscription of this partner') },
    },
  },
  '/fhir/Subscription/{id}/$status': {
    get: {
      summary: 'The subscription’s status and event count (backport $status)',
      tag: 'Subscriptions',
      security: 'partner',
      parameters: [pathParam('id', 'Subscription id'), format],
      responses: {
        '200': { description: 'A Bundle of the status Parameters', content: fhirJson() },
        '404': outcome('No such subscription of this partner'),
      },
    },
  },
  '/fhir/Subscription/{id}/$events': {
    get: {
      summary: 'Past events by number (backport $events), to catch up after an outage',
      tag: 'Subscriptions',
      security: 'partner',
      parameters: [
        pathParam('id', 'Subscription id'),
        query('eventsSinceNumber', 'First event number (inclusive)', { type: 'string', pattern: '^\\d+$' }),
        query('eventsUntilNumber', 'Last event number (inclusive)', { type: 'string', pattern: '^\\d+$' }),
        format,
      ],
      responses: {
        '200': { description: 'A query-event notification Bundle', content: fhirJson() },
        '404': outcome('No such subscription of this partner'),
      },
    },
  },
  '/partners/{partnerId}/acknowledgments': {
    post: {
      summary: 'Acknowledge a plan version: received, accepted or completed',
      tag: 'Partners',
      security: 'partner',
      parameters: [partnerId],
      body: json(acknowledgmentSchema),
      responses: {
        '200': { description: 'The acknowledgment Task', content: fhirJson() },
        ...refused,
        '404': outcome('No acknowledgment open for that version'),
      },
    },
  },
  '/partners/{partnerId}/tasks': {
    get: {
      summary:
        'Tasks the partner owns (or, role=requester, the referrals it made), the FHIR polling fallback',
      tag: 'Partners',
      security: 'partner',
      parameters: [
        partnerId,
        query('role', 'owner (default) or requester', { type: 'string', enum: ['owner', 'requester'] }),
        query('status', 'Task status (owner default: requested)'),
        query(
          '_lastUpdated',
          'A FHIR date or instant with an optional prefix, such as gt2026-01-01T00:00:00Z',
        ),
        format,
      ],
      responses: { '200': { description: 'A searchset Bundle', content: fhirJson() }, ...refused },
    },
  },
  '/partners/{partnerId}/tasks/{id}/status': {
    post: {
      summary: 'A step on a referral by its owner, or its cancellation by its requester',
      tag: 'Partners',
      security: 'partner',
      parameters: [partnerId, pathParam('id', 'Task id')],
      body: json(referralMoveSchema),
      responses: {
        '200': { description: 'The Task after the step', content: fhirJson() },
        ...refused,
        '409': outcome('Not a step from its status'),
      },
    },
  },
  '/careplans/{id}/versions/{version}/deliveries': {
    get: {
      summary:
        'Where each partner stands with a plan version: queued, delivered, acknowledged, withheld, failed',
      tag: 'Partners',
      security: 'partner',
      parameters: [
        pathParam('id', 'CarePlan id'),
        pathParam('version', 'Version id', '^[0-9]{1,9}$'),
        query('notYet', 'Only partners not yet at this step', { type: 'string', enum: [...DELIVERY_STEPS] }),
      ],
      responses: {
        '200': { description: 'One entry per partner', content: json({ type: 'array' }) },
        ...refused,
      },
    },
  },
  '/tasks/{id}/report': {
    post: {
      summary: 'The owning agency closes an obligation: completed, or refused by the participant',
      tag: 'Partners',
      security: 'partner',
      parameters: [pathParam('id', 'Task id')],
      body: json(reportSchema),
      responses: {
        '200': { description: 'The closed Task', content: fhirJson() },
        ...refused,
        '404': outcome('No such obligation'),
      },
    },
  },
  '/participants/{id}/coordinator': {
    get: {
      summary: 'The coordinator of the day',
      tag: 'Coordination',
      security: 'staff',
      parameters: [
        participant,
        query('date', 'YYYY-MM-DD (default today)', { type: 'string', format: 'date' }),
      ],
      responses: { '200': 'The coordinator', '404': outcome('Nobody named: the roster alert') },
    },
    post: {
      summary: 'Name a coordinator, or absence cover',
      tag: 'Coordination',
      security: 'staff',
      parameters: [participant],
      body: json(assignmentSchema),
      responses: {
        '200': 'The assignment',
        '400': outcome('Invalid body'),
        '403': outcome('Not a decision right of this role'),
      },
    },
  },
  '/participants/{id}/coordinator/handover': {
    post: {
      summary: 'Hand the coordinator role over from a day',
      tag: 'Coordination',
      security: 'staff',
      parameters: [participant],
      body: json(handoverSchema),
      responses: { '200': 'The handover', '400': outcome('Invalid body') },
    },
  },
  '/participants/{id}/consents': {
    post: {
      summary: "The participant's 42 CFR Part 2 consent to disclosure to a partner",
      tag: 'Coordination',
      security: 'staff',
      parameters: [participant],
      body: json(consentSchema),
      responses: {
        '201': { description: 'The Consent', content: fhirJson() },
        '400': outcome('Invalid body'),
      },
    },
  },
  '/participants/{id}/care-team/{partnerId}/end': {
    post: {
      summary: "End an agency's place on the participant's care team",
      tag: 'Coordination',
      security: 'staff',
      parameters: [participant, partnerId],
      body: json(endMembershipSchema),
      responses: {
        '200': 'The care team after the change',
        '400': outcome('Invalid body'),
        '404': outcome('Not on the care team'),
      },
    },
  },
  '/consents/{id}/revoke': {
    post: {
      summary: 'Revoke a consent',
      tag: 'Coordination',
      security: 'staff',
      parameters: [pathParam('id', 'Consent id')],
      responses: {
        '200': { description: 'The Consent, inactive', content: fhirJson() },
        '404': outcome('No such consent'),
      },
    },
  },
  '/roster': {
    get: {
      summary: "Today's huddle roster, ranked, each with its reasons",
      tag: 'Coordination',
      security: 'staff',
      parameters: [
        query('agency', 'Only participants this agency serves'),
        query('flag', 'Only participants with this flag'),
        query('limit', 'At most this many entries (1-1000; default all), the next part in Link: rel="next"', {
          type: 'integer',
          minimum: 1,
          maximum: 1000,
        }),
        query('offset', 'Skip this many entries of the ranked roster (default 0)', {
          type: 'integer',
          minimum: 0,
        }),
      ],
      responses: {
        '200': { description: 'The roster: generatedAt, total, entries', content: json({ type: 'object' }) },
        '400': outcome('A limit or offset that is not a whole number in range'),
      },
    },
  },
  '/huddles': {
    post: {
      summary: 'Record a huddle: attendance, decisions (each a Task), closed actions',
      tag: 'Coordination',
      security: 'staff',
      body: json(huddleSchema),
      responses: { '201': 'The huddle', '400': outcome('Invalid body') },
    },
  },
  '/huddles/{id}': {
    get: {
      summary: 'A huddle from the log',
      tag: 'Coordination',
      security: 'staff',
      parameters: [pathParam('id', 'Huddle id')],
      responses: { '200': 'The huddle', '404': outcome('No such huddle') },
    },
  },
  '/staff/login': {
    post: {
      summary: 'A staff session (bearer token, 8 hours) with the account’s role',
      tag: 'Staff',
      security: 'none',
      body: json(loginSchema),
      responses: { '200': 'The session token', '401': outcome('Wrong user name or password') },
    },
  },
  '/audit/participants/{id}': {
    get: {
      summary: 'Every AuditEvent about a participant, newest first (auditors)',
      tag: 'Staff',
      security: 'staff',
      parameters: [participant],
      responses: { '200': { description: 'A Bundle of AuditEvents', content: fhirJson() } },
    },
  },
  '/admin/rejected': {
    get: {
      summary: 'Rejected records, newest first, a page at a time (Link: rel="next" names the next page)',
      tag: 'Admin',
      security: 'admin',
      parameters: [
        query('partner', 'Only this partner'),
        query('limit', 'Rejections per page (1 to 500, default 500)', {
          type: 'integer',
          minimum: 1,
          maximum: 500,
        }),
        query('before', "The next page's cursor, from the previous page's Link header"),
      ],
      responses: { '200': { description: 'Rejections', content: json({ type: 'array' }) } },
    },
  },
  '/admin/rejected/{id}': {
    get: {
      summary: 'One rejected record, with its raw form and issues',
      tag: 'Admin',
      security: 'admin',
      parameters: [pathParam('id', 'Rejection id', '^.{1,200}$')],
      responses: { '200': 'The rejection', '404': outcome('No such rejection') },
    },
    delete: {
      summary: 'Discard a rejected record',
      tag: 'Admin',
      security: 'admin',
      parameters: [pathParam('id', 'Rejection id', '^.{1,200}$')],
      responses: { '204': 'Discarded', '404': 'No such rejection' },
    },
  },
  '/admin/rejected/{id}/replay': {
    post: {
      summary: 'Replay a rejected record, as stored or corrected in the body',
      tag: 'Admin',
      security: 'admin',
      parameters: [pathParam('id', 'Rejection id', '^.{1,200}$')],
      body: INGEST_BODIES,
      responses: {
        '200': outcome('Applied'),
        '202': outcome('Accepted'),
        '404': outcome('No such rejection'),
        '422': outcome('Refused again (kept as a new rejection)'),
      },
    },
  },
  '/admin/messages': {
    get: {
      summary:
        'The message log: inbound messages newest first, by business key (MSH-10, plan id, visit id, PersonalID, participant identifier, job id, written resource), a page at a time',
      tag: 'Admin',
      security: 'admin',
      parameters: [
        ...messageSearch,
        query('limit', 'Messages per page (1 to 500, default 100)', {
          type: 'integer',
          minimum: 1,
          maximum: 500,
        }),
        query('before', "The next page's cursor, from the previous page's Link header"),
      ],
      responses: { '200': { description: 'Logged messages', content: json({ type: 'array' }) } },
    },
  },
  '/admin/messages/replay': {
    post: {
      summary:
        "Replay the rejected records of a search's messages (the search in the query string, as GET /admin/messages takes it), by a job: at most `limit`, `perSecond` a second",
      tag: 'Admin',
      security: 'admin',
      parameters: [
        ...messageSearch,
        query('limit', 'Records replayed at most (1 to 1000, default 100)', {
          type: 'integer',
          minimum: 1,
          maximum: 1000,
        }),
        query('perSecond', 'Replays a second at most (1 to 50, default 5)', {
          type: 'number',
          minimum: 1,
          maximum: 50,
        }),
      ],
      responses: { '202': 'Queued; Location names its status', '400': outcome('A parameter out of range') },
    },
  },
  '/admin/messages/replays/{id}': {
    get: {
      summary:
        'Where a bulk replay stands: its state and, once done, how many records it replayed and how many were accepted',
      tag: 'Admin',
      security: 'admin',
      parameters: [pathParam('id', 'Bulk replay id', '^bulk-replay\\.[0-9a-f-]{36}$')],
      responses: { '200': 'The bulk replay', '404': outcome('No such bulk replay') },
    },
  },
  '/admin/identities': {
    get: {
      summary:
        'Records held for an identity conflict, each with the participant it names and the participants its identifiers point at',
      tag: 'Admin',
      security: 'admin',
      responses: { '200': { description: 'Held records', content: json({ type: 'array' }) } },
    },
  },
  '/admin/identities/{id}': {
    post: {
      summary:
        'Decide a held record: the same person as `patientId` (one it points at), a different person (with `corrected` identifier values by system), or discard; with a `reason`, audited',
      tag: 'Admin',
      security: 'admin',
      parameters: [pathParam('id', 'Rejection id of the held record', '^.{1,200}$')],
      body: {
        'application/json': {
          schema: {
            type: 'object',
            required: ['decision', 'reason'],
            properties: {
              decision: { type: 'string', enum: ['same', 'different', 'discard'] },
              patientId: { type: 'string' },
              corrected: { type: 'object', additionalProperties: { type: 'string' } },
              reason: { type: 'string', maxLength: 500 },
            },
          },
        },
      },
      responses: {
        '200': "What was decided, and the replay's logged message",
        '400': outcome('A decision or reason missing, or a participant the record does not point at'),
        '404': outcome('No such held record'),
      },
    },
  },
  '/admin/messages/{id}': {
    get: {
      summary:
        'One message across its legs: each record now, what it wrote, the plan versions it made, each partner’s delivery and acknowledgment, its replays',
      tag: 'Admin',
      security: 'admin',
      parameters: [pathParam('id', 'Message id', '^[0-9a-f-]{36}$')],
      responses: { '200': 'The message and its legs', '404': outcome('No such message') },
    },
  },
  '/admin/dead-letters': {
    get: {
      summary: 'Jobs that failed for good, per queue',
      tag: 'Admin',
      security: 'admin',
      parameters: [query('queue', 'Only this queue')],
      responses: { '200': { description: 'Dead letters', content: json({ type: 'array' }) } },
    },
  },
  '/admin/dead-letters/{queue}/{jobId}': {
    get: {
      summary: 'One dead letter with its attempts',
      tag: 'Admin',
      security: 'admin',
      parameters: queueJob,
      responses: { '200': 'The dead letter', '404': outcome('No such dead letter') },
    },
  },
  '/admin/dead-letters/{queue}/{jobId}/replay': {
    post: {
      summary: 'Replay a dead letter',
      tag: 'Admin',
      security: 'admin',
      parameters: queueJob,
      responses: { '202': outcome('Queued again'), '404': outcome('No such dead letter') },
    },
  },
  '/admin/queues': {
    get: {
      summary: 'The queue dashboard (bull-board), a web page with its own API beneath',
      tag: 'Admin',
      security: 'admin',
      responses: { '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } },
    },
  },
  '/hooks/fhir/{path}': {
    post: {
      summary: "The FHIR server's rest-hook notifications of the hub's own subscriptions",
      description:
        'Carries the shared secret header the hub set on its subscriptions; a notification is a hint, the hub reads the version itself.',
      tag: 'Internal',
      security: 'hook',
      parameters: [pathParam('path', 'Type/id of the changed resource', '^.{0,200}$')],
      body: fhirJson(),
      responses: { '200': outcome('Received'), '401': outcome('Not a notification of the hub') },
    },
    put: {
      summary: 'The same, as HAPI sends it when the subscription has a payload',
      tag: 'Internal',
      security: 'hook',
      parameters: [pathParam('path', 'Type/id of the changed resource', '^.{0,200}$')],
      body: fhirJson(),
      responses: { '200': outcome('Received'), '401': outcome('Not a notification of the hub') },
    },
  },
  '/demo/inbox/{partnerId}/$process-message': {
    post: {
      summary: "Demo only (DEMO_INBOX): a stand-in for a demo partner's FHIR messaging endpoint",
      tag: 'Demo',
      security: 'none',
      parameters: [partnerId],
      body: fhirJson(),
      responses: { '200': { description: 'A response message', content: fhirJson() } },
    },
  },
  '/demo/inbox/{partnerId}': {
    get: {
      summary: 'Demo only: what the stand-in inbox received',
      tag: 'Demo',
      security: 'none',
      parameters: [partnerId],
      responses: { '200': { description: 'Received messages', content: json({ type: 'array' }) } },
    },
  },
};

const SECURITY: Record<Security, Json[]> = {
  partner: [{ partnerToken: [] }],
  staff: [{ staffSession: [] }],
  admin: [{ staffSession: [] }, { adminToken: [] }],
  scraper: [{ adminToken: [] }],
  hook: [{ hookSecret: [] }],
  none: [],
};

function operation(method: string, path: string, op: Operation): Json {
  const responses = Object.fromEntries(
    Object.entries(op.responses).map(([code, r]) => [code, typeof r === 'string' ? { description: r } : r]),
  );
  return {
    operationId: `${method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.tag],
    security: SECURITY[op.security],
    ...(op.parameters ? { parameters: op.parameters } : {}),
    ...(op.body ? { requestBody: { required: true, content: op.body } } : {}),
    responses,
  };
}

/** The document, for a hub whose public URL is `publicUrl`. */
export function openApiDocument(publicUrl: string): Json {
  const paths = Object.fromEntries(
    Object.entries(OPERATIONS).map(([path, ops]) => [
      path,
      Object.fromEntries(Object.entries(ops).map(([method, op]) => [method, operation(method, path, op)])),
    ]),
  );
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'http://json-schema.org/draft-07/schema#',
    info: {
      title: 'Care coordination hub',
      version: '0.1.0',
      description:
        "The hub's HTTP API beside its FHIR surface (GET /fhir/metadata). With AUTH_REQUIRED on, partner routes need a SMART Backend Services token for the partner in the path, with the scope for the action; staff routes need a staff session with the right role.",
    },
    servers: [{ url: publicUrl }],
    tags: [
      'Ingest',
      'FHIR',
      'Partners',
      'Coordination',
      'Staff',
      'Admin',
      'Operations',
      'Internal',
      'Demo',
    ].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        partnerToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'SMART Backend Services access token from POST /auth/token',
        },
        staffSession: { type: 'http', scheme: 'bearer', description: 'Staff session from POST /staff/login' },
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'ADMIN_TOKEN (unset: loopback callers only)',
        },
        hookSecret: { type: 'apiKey', in: 'header', name: HOOK_SECRET_HEADER },
      },
      schemas: {
        OperationOutcome: {
          type: 'object',
          required: ['resourceType', 'issue'],
          properties: {
            resourceType: { const: 'OperationOutcome' },
            issue: {
              type: 'array',
              items: {
                type: 'object',
                required: ['severity', 'code'],
                properties: {
                  severity: { enum: ['fatal', 'error', 'warning', 'information'] },
                  code: { type: 'string' },
                  diagnostics: { type: 'string', description: 'Names the record and the field' },
                  expression: { type: 'array', items: { type: 'string' } },
                },
              },
            },
          },
        },
        FhirResource: {
          type: 'object',
          required: ['resourceType'],
          properties: { resourceType: { type: 'string' } },
          description: 'A FHIR R4 resource (http://hl7.org/fhir/R4/fhir.schema.json)',
        },
        ServicePlan: servicePlanSchema,
        CrisisUpdate: crisisUpdateSchema,
      },
    },
  };
}
