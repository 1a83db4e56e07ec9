/**
 * Issue 3 acceptance: an MLLP client sending ADT messages gets `AA` for each good one and a NAK
 * with the reason for a bad one; a resent control id gets the same ACK without being applied
 * again; an A03 discharge produces a `discharge` event naming the Encounter.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Encounter } from 'fhir/r4.js';
import { sendMllp } from '../../../src/mllp/mllp-server.js';
import type { RunningHub } from '../../../src/startup/start-hub.js';
import {
  byIdentifier,
  dropPrefix,
  eventually,
  jobResult,
  startTestHub,
  testPrefix,
} from '../../fixtures/ingest/hub-helpers.js';
import { adt, IDENTIFIER_BASE, newPerson } from '../../fixtures/ingest/samples.js';

const VISIT_SYSTEM = `${IDENTIFIER_BASE}/sid/northside-bh/visit`;

/** The segments of an ACK, by segment id (first occurrence) and all ERR segments. */
function readAck(ack: string): { msa: string[]; err: string[] } {
  const segments = ack.split('\r').filter(Boolean);
  return {
    msa: segments.find((s) => s.startsWith('MSA|'))?.split('|') ?? [],
    err: segments.filter((s) => s.startsWith('ERR|')),
  };
}

describe('MLLP listener', () => {
  const prefix = testPrefix();
  const person = newPerson();
  const visit = `MV-${person.tag}`;
  let hub: RunningHub;
  const send = (message: string): Promise<string> => sendMllp('127.0.0.1', hub.mllpPort, message, 10000);

  /** Ingest jobs of this hub for one MSH-10. */
  const jobsFor = async (controlId: string) =>
    (await hub.queues.ingest.getJobs(['completed', 'active', 'waiting', 'delayed', 'failed'])).filter(
      (j) => j.data.sourceId === controlId,
    );

  beforeAll(async () => {
    hub = await startTestHub(prefix);
  });

  afterAll(async () => {
    await hub?.close();
    await dropPrefix(prefix);
  });

  it('answers AA to a good ADT message and applies it', async () => {
    const controlId = `MA01-${person.tag}`;
    const ack = await send(adt(person, { trigger: 'A01', controlId, visitNumber: visit }));
    expect(ack).toMatch(/^MSH\|\^~\\&\|HUB\|CARECOORD\|NBHEHR\|NORTHSIDE\|/);
    expect(readAck(ack).msa).toEqual(['MSA', 'AA', controlId]);
    const encounter = await eventually(
      async () => (await byIdentifier<Encounter>(hub.fhir, 'Encounter', VISIT_SYSTEM, visit))[0],
    );
    expect(encounter.status).toBe('in-progress');
  });

  it('answers AE naming the field for a message with bad content, and AR for an unsupported one', async () => {
    const controlId = `MBAD-${person.tag}`;
    const noPatientId = adt(person, { trigger: 'A01', controlId, visitNumber: `X-${person.tag}` }).replace(
      /PID\|1\|\|[^|]*\|/,
      'PID|1|||',
    );
    const ae = readAck(await send(noPatientId));
    expect(ae.msa).toEqual(['MSA', 'AE', controlId, 'at least one patient identifier (PID-3.1) is required']);
    expect(ae.err).toEqual([
      expect.stringMatching(/^ERR\|\|PID\^1\^3\|101\^Required field missing\^HL70357\|E\|/),
    ]);
    expect(await byIdentifier(hub.fhir, 'Encounter', VISIT_SYSTEM, `X-${person.tag}`)).toHaveLength(0);

    const lab = adt(person, { trigger: 'A01', controlId: `MORU-${person.tag}`, visitNumber: visit }).replace(
      'ADT^A01^ADT_A01',
      'ORU^R01^ORU_R01',
    );
    const ar = readAck(await send(lab));
    expect(ar.msa.slice(0, 3)).toEqual(['MSA', 'AR', `MORU-${person.tag}`]);
    expect(ar.msa[3]).toMatch(/message type ORU not supported/);

    const stranger = adt(person, {
      trigger: 'A01',
      controlId: `MUNK-${person.tag}`,
      visitNumber: visit,
      facility: 'NOBODY',
    });
    expect(readAck(await send(stranger)).msa).toEqual([
      'MSA',
      'AR',
      `MUNK-${person.tag}`,
      'Unknown sending facility "NOBODY"',
    ]);
  });

  it('answers a resent message with the same ACK and does not apply it again', async () => {
    const controlId = `MA01-${person.tag}`; // sent in the first test
    const [before] = await byIdentifier<Encounter>(hub.fhir, 'Encounter', VISIT_SYSTEM, visit);
    await new Promise((r) => setTimeout(r, 1100)); // a fresh ACK would carry a later MSH-7
    const first = await send(adt(person, { trigger: 'A01', controlId, visitNumber: visit }));
    const again = await send(adt(person, { trigger: 'A01', controlId, visitNumber: visit }));
    expect(again).toBe(first);
    expect(readAck(again).msa).toEqual(['MSA', 'AA', controlId]);
    expect(await jobsFor(controlId)).toHaveLength(1);
    const after = await byIdentifier<Encounter>(hub.fhir, 'Encounter', VISIT_SYSTEM, visit);
    expect(after[0]!.meta?.versionId).toBe(before!.meta?.versionId);
  });

  it('applies a different message that reuses a control id (a sender that reset its counter)', async () => {
    const controlId = `MA01-${person.tag}`; // sent in the first test
    const first = await send(adt(person, { trigger: 'A01', controlId, visitNumber: visit }));
    await new Promise((r) => setTimeout(r, 1100));
    const changed = await send(adt(person, { trigger: 'A01', controlId, visitNumber: visit, room: '999' }));
    expect(changed).not.toBe(first);
    expect(readAck(changed).msa).toEqual(['MSA', 'AA', controlId]);
    expect(await jobsFor(controlId)).toHaveLength(2);
    await eventually(async () => {
      const [encounter] = await byIdentifier<Encounter>(hub.fhir, 'Encounter', VISIT_SYSTEM, visit);
      return JSON.stringify(encounter?.location ?? []).includes('999');
    });
    // Its own resend now gets its own ACK back.
    expect(await send(adt(person, { trigger: 'A01', controlId, visitNumber: visit, room: '999' }))).toBe(
      changed,
    );
  });

  it('turns an A03 discharge into a discharge event naming the Encounter', async () => {
    const controlId = `MA03-${person.tag}`;
    const ack = await send(adt(person, { trigger: 'A03', controlId, visitNumber: visit }));
    expect(readAck(ack).msa).toEqual(['MSA', 'AA', controlId]);

    const [job] = await jobsFor(controlId);
    expect(job).toBeDefined();
    const outcome = await jobResult(hub, job!.id!);
    const [encounter] = await byIdentifier<Encounter>(hub.fhir, 'Encounter', VISIT_SYSTEM, visit);
    expect(encounter?.status).toBe('finished');
    expect(outcome.events).toEqual([
      { type: 'discharge', at: '2025-03-14T10:00:00-04:00', encounter: `Encounter/${encounter!.id}` },
    ]);
    expect(outcome.patient).toBe(encounter!.subject?.reference);
  });
});
