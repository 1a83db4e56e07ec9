/**
 * Issue 3 acceptance: `POST /fhir/$process-message` answers with a response message: `ok` once the
 * message is applied, `fatal-error` with an OperationOutcome naming the elements when it is
 * refused (by the adapter, or by the FHIR server against the hub profiles).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { Bundle, Communication, MessageHeader, OperationOutcome, Task } from 'fhir/r4.js';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import { readFhirXml, writeFhirXml } from '../../../src/fhir/fhir-xml.js';
import {
  byIdentifier,
  diagnostics,
  dropPrefix,
  post,
  startTestHub,
  testPrefix,
} from '../../fixtures/ingest/hub-helpers.js';
import {
  fhirTaskMessage,
  IDENTIFIER_BASE,
  MEDICAID_SYSTEM,
  newPerson,
} from '../../fixtures/ingest/samples.js';

const COMMUNICATION_SYSTEM = 'https://sunrise-hcbs.example.org/communication';

function communicationMessage(medicaid: string, messageId: string, communicationId: string): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'message',
    entry: [
      {
        fullUrl: `urn:uuid:${messageId}`,
        resource: {
          resourceType: 'MessageHeader',
          id: messageId,
          eventCoding: {
            system: `${IDENTIFIER_BASE}/fhir/CodeSystem/hub-message-event`,
            code: 'communication',
          },
          source: { endpoint: 'https://sunrise-hcbs.example.org/fhir' },
          sender: { reference: 'Organization/sunrise-hcbs' },
        },
      },
      {
        fullUrl: 'urn:uuid:p1',
        resource: { resourceType: 'Patient', identifier: [{ system: MEDICAID_SYSTEM, value: medicaid }] },
      },
      {
        fullUrl: 'urn:uuid:c1',
        resource: {
          resourceType: 'Communication',
          identifier: [{ system: COMMUNICATION_SYSTEM, value: communicationId }],
          status: 'completed',
          subject: { reference: 'urn:uuid:p1' },
          sender: { reference: 'Organization/sunrise-hcbs' },
          sent: '2025-03-14T12:00:00-05:00',
          payload: [{ contentString: 'Aide reports the participant is settling in after discharge.' }],
        },
      },
    ],
  };
}

/** The response MessageHeader and the OperationOutcome it points at. */
function readResponse(bundle: Bundle): { header: MessageHeader; outcome: OperationOutcome } {
  const header = bundle.entry?.[0]?.resource as MessageHeader;
  const outcome = bundle.entry?.find((e) => e.fullUrl === header.response?.details?.reference)
    ?.resource as OperationOutcome;
  return { header, outcome };
}

describe('POST /fhir/$process-message', () => {
  const prefix = testPrefix();
  const person = newPerson();
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub(prefix);
  });

  afterAll(async () => {
    await hub?.close();
    await dropPrefix(prefix);
  });

  it('applies a message and answers a response message with code ok', async () => {
    const messageId = `m-${person.tag}`;
    const answer = await post(
      hub,
      '/fhir/$process-message',
      communicationMessage(person.medicaid, messageId, `C-${person.tag}`),
      'application/fhir+json',
    );
    expect(answer.status).toBe(200);
    const bundle = answer.body as Bundle;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'message' });
    const { header, outcome } = readResponse(bundle);
    expect(header.response).toMatchObject({ identifier: messageId, code: 'ok' });
    expect(header.destination?.[0]?.receiver?.reference).toBe('Organization/sunrise-hcbs');
    expect(diagnostics(outcome)).toEqual([
      expect.stringMatching(new RegExp(`^message ${messageId}: applied as Patient/.+, Communication/`)),
    ]);
    const [communication] = await byIdentifier<Communication>(
      hub.fhir,
      'Communication',
      COMMUNICATION_SYSTEM,
      `C-${person.tag}`,
    );
    expect(communication?.subject?.reference).toMatch(/^Patient\//);
  });

  it('reads a message sent as FHIR XML and answers in XML, or in JSON when asked', async () => {
    const send = (messageId: string, accept: string) =>
      request(hub.url)
        .post('/fhir/$process-message')
        .set('content-type', 'application/fhir+xml')
        .set('accept', accept)
        .send(writeFhirXml(communicationMessage(person.medicaid, messageId, `CX-${messageId}`)));
    const xml = await send(`x-${person.tag}`, 'application/fhir+xml');
    expect({ status: xml.status, type: xml.type }).toEqual({ status: 200, type: 'application/fhir+xml' });
    const read = readFhirXml(xml.text);
    expect(
      'resource' in read && readResponse(read.resource as unknown as Bundle).header.response,
    ).toMatchObject({ identifier: `x-${person.tag}`, code: 'ok' });
    const json = await send(`j-${person.tag}`, 'application/fhir+json');
    expect({ status: json.status, type: json.type }).toEqual({ status: 200, type: 'application/fhir+json' });
    expect(readResponse(json.body as Bundle).header.response?.code).toBe('ok');
  });

  it('names the element of an XML message that R4 does not define, as a 400', async () => {
    const xml = writeFhirXml(communicationMessage(person.medicaid, `u-${person.tag}`, `CU-${person.tag}`));
    const answer = await request(hub.url)
      .post('/fhir/$process-message')
      .set('content-type', 'application/fhir+xml')
      .set('accept', 'application/fhir+json')
      .send(xml.replace('<status value="completed"/>', '<status value="completed"/><mood value="calm"/>'));
    expect(answer.status).toBe(400);
    expect((answer.body as OperationOutcome).issue?.[0]?.expression).toEqual([
      'Bundle.entry[2].resource.Communication.mood',
    ]);
  });

  it('answers a message accepted for processing 202, without an error code, and gives its response later', async () => {
    const messageId = `async-${person.tag}`;
    const accepted = await request(hub.url)
      .post('/fhir/$process-message?async=true')
      .set('content-type', 'application/fhir+json')
      .send(JSON.stringify(communicationMessage(person.medicaid, messageId, `CA-${person.tag}`)));
    expect(accepted.status).toBe(202);
    expect((accepted.body as OperationOutcome).resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(accepted.body)).not.toMatch(/transient-error/);
    const location = accepted.headers['content-location'] as string;
    expect(location).toMatch(/\/fhir\/\$process-message\/responses\/sunrise-hcbs\.fhir-message\./);
    const path = new URL(location).pathname;
    let answer = await request(hub.url).get(path);
    for (let i = 0; i < 100 && answer.status === 202; i++) {
      await new Promise((r) => setTimeout(r, 200));
      answer = await request(hub.url).get(path);
    }
    expect(answer.status).toBe(200);
    expect(readResponse(answer.body as Bundle).header.response).toMatchObject({
      identifier: messageId,
      code: 'ok',
    });
    expect(
      (await request(hub.url).get('/fhir/$process-message/responses/sunrise-hcbs.fhir-message.nope')).status,
    ).toBe(404);
  });

  it('answers fatal-error with the OperationOutcome for a message the adapter refuses', async () => {
    const message = communicationMessage(person.medicaid, `bad-${person.tag}`, `CB-${person.tag}`);
    (message.entry![0]!.resource as MessageHeader).eventCoding!.code = 'lab-result';
    delete (message.entry![2]!.resource as Communication).identifier;
    const answer = await post(hub, '/fhir/$process-message', message, 'application/fhir+json');
    expect(answer.status).toBe(422);
    const { header, outcome } = readResponse(answer.body as Bundle);
    expect(header.response).toMatchObject({ identifier: `bad-${person.tag}`, code: 'fatal-error' });
    expect(outcome.issue).toEqual([
      expect.objectContaining({
        severity: 'error',
        location: ['MessageHeader.eventCoding.code'],
        diagnostics: expect.stringMatching(
          /MessageHeader\.eventCoding\.code: must be one of careplan-update/,
        ),
      }),
      expect.objectContaining({
        severity: 'error',
        location: ['Bundle.entry[2].resource.identifier'],
        diagnostics: expect.stringMatching(/Communication needs an identifier with system and value/),
      }),
    ]);
  });

  it('answers fatal-error with the server reasons when the FHIR server refuses what the message maps to', async () => {
    const message = fhirTaskMessage(
      person,
      'sunrise-hcbs',
      'Organization/sunrise-hcbs',
      `noowner-${person.tag}`,
    );
    const task = (message.entry as Array<{ resource: Record<string, unknown> }>)[2]!.resource;
    delete task.owner; // the hub Task profile requires an owner
    const answer = await post(hub, '/fhir/$process-message', message, 'application/fhir+json');
    const { header, outcome } = readResponse(answer.body as Bundle);
    expect({ status: answer.status, code: header.response?.code }).toEqual({
      status: 422,
      code: 'fatal-error',
    });
    expect(diagnostics(outcome).join('\n')).toMatch(/owner/i);
    expect(
      await byIdentifier<Task>(hub.fhir, 'Task', 'https://sunrise-hcbs.example.org/task', `T-${person.tag}`),
    ).toEqual([]);
  });

  it('replays a record the FHIR server refused from the record it stored, without the partner resending', async () => {
    const message = fhirTaskMessage(
      person,
      'sunrise-hcbs',
      'Organization/sunrise-hcbs',
      `replay-${person.tag}`,
    );
    delete (message.entry as Array<{ resource: Record<string, unknown> }>)[2]!.resource.owner;
    await post(hub, '/fhir/$process-message', message, 'application/fhir+json');
    const listed = await request(hub.url).get('/admin/rejected?partner=sunrise-hcbs');
    const rejection = (
      listed.body as Array<{ id: string; stage: string; location: string; record?: unknown }>
    ).find((r) => r.location === `message replay-${person.tag}`)!;
    expect(rejection.stage).toBe('write');
    expect(rejection.record).toBeDefined();

    const replay = await request(hub.url).post(`/admin/rejected/${rejection.id}/replay`);
    expect(replay.status).toBe(202);
    expect((await request(hub.url).get(`/admin/rejected/${rejection.id}`)).status).toBe(404);
    // still invalid, so the server refuses it again and it is listed again, ready for the next fix
    await waitUntil(async () => {
      const again = await request(hub.url).get('/admin/rejected?partner=sunrise-hcbs');
      return (again.body as Array<{ id: string; location: string }>).some(
        (r) => r.location === `message replay-${person.tag}` && r.id !== rejection.id,
      );
    });
  });
});

async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) {
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('condition not met');
}
