import { describe, expect, it } from '@jest/globals';
import type { Task } from 'fhir/r4.js';
import { changeResource } from '../../../src/fhir/change-resource.js';
import { FhirServerError, VersionConflictError } from '../../../src/fhir/fhir-errors.js';

/**
 * A one-Task server that keeps versions and honours If-Match; `meanwhile` runs once, just before
 * the first write lands, as another writer would.
 */
function server(initial: Task, meanwhile?: (t: Task) => Task) {
  let stored: Task = { ...initial, meta: { versionId: '1' } };
  const writes: { ifMatch: string | undefined; accepted: boolean }[] = [];
  let interfere = meanwhile;
  const bump = (t: Task): Task => ({ ...t, meta: { versionId: String(Number(stored.meta!.versionId) + 1) } });
  const fhir = {
    read: async <T>() => stored as unknown as T,
    update: async <T>(t: T, opts: { ifMatch?: string } = {}): Promise<T> => {
      if (interfere) {
        stored = bump(interfere(stored));
        interfere = undefined;
      }
      const accepted = opts.ifMatch === stored.meta!.versionId;
      writes.push({ ifMatch: opts.ifMatch, accepted });
      if (!accepted) {
        throw new VersionConflictError(412, 'PUT Task/t1', undefined);
      }
      stored = bump(t as unknown as Task);
      return stored as unknown as T;
    },
  };
  return { fhir, writes, stored: () => stored };
}

const open: Task = { resourceType: 'Task', id: 't1', status: 'requested', intent: 'order' };
const close = (t: Task): Task | undefined =>
  t.status === 'requested' ? { ...t, status: 'completed' } : undefined;

describe('changeResource', () => {
  it('writes the change with If-Match on the version read', async () => {
    const s = server(open);
    const read = s.stored();
    const saved = await changeResource(s.fhir, read, close);
    expect(saved.status).toBe('completed');
    expect(s.writes).toEqual([{ ifMatch: '1', accepted: true }]);
  });

  it('applies the change again to what another writer left, keeping its note', async () => {
    const s = server(open, (t) => ({ ...t, note: [{ text: 'Called the family' }] }));
    const saved = await changeResource(s.fhir, s.stored(), close);
    expect(saved.status).toBe('completed');
    expect(saved.note).toEqual([{ text: 'Called the family' }]);
    expect(s.writes).toEqual([
      { ifMatch: '1', accepted: false },
      { ifMatch: '2', accepted: true },
    ]);
  });

  it('drops the change when, read again, it no longer applies', async () => {
    const s = server(open, (t) => ({ ...t, status: 'cancelled' }));
    const saved = await changeResource(s.fhir, s.stored(), close);
    expect(saved.status).toBe('cancelled');
    expect(s.writes).toHaveLength(1);
  });

  it('passes on an error that is not a version conflict', async () => {
    const failing = {
      read: async <T>() => open as unknown as T,
      update: async () => {
        throw new FhirServerError(500, 'PUT Task/t1', undefined);
      },
    };
    await expect(changeResource(failing, open, close)).rejects.toBeInstanceOf(FhirServerError);
  });

  it('gives up after four conflicts in a row', async () => {
    let writes = 0;
    const busy = {
      read: async <T>() => ({ ...open, meta: { versionId: String(writes + 1) } }) as unknown as T,
      update: async () => {
        writes++;
        throw new VersionConflictError(412, 'PUT Task/t1', undefined);
      },
    };
    await expect(changeResource(busy, open, close)).rejects.toBeInstanceOf(VersionConflictError);
    expect(writes).toBe(4);
  });
});
