import { execFile } from 'node:child_process';
import { appendFile, cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

// The fence (.dependency-cruiser.cjs, docs/architecture.md) runs here, so `npm test` fails when an
// import breaks the house's rules; the planted violations prove it can fail.

const ROOT = resolve(import.meta.dirname, '../../..');
const CLI = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const run = promisify(execFile);

interface Violation {
  readonly rule: { readonly name: string };
  readonly from: string;
  readonly to: string;
}

async function violationsIn(cwd: string): Promise<Violation[]> {
  const args = [CLI, 'src', '--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'json'];
  const { stdout } = await run(process.execPath, args, { cwd, maxBuffer: 64 * 1024 * 1024 }).catch(
    (err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }),
  );
  return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('the fence', () => {
  it('finds no violation in src/', async () => {
    const found = await violationsIn(ROOT);
    expect(found.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  }, 60_000);

  describe('on a copy of src/ with planted violations', () => {
    let copy: string;
    let found: Violation[];

    beforeAll(async () => {
      copy = await mkdtemp(join(tmpdir(), 'fence-'));
      await cp(join(ROOT, 'src'), join(copy, 'src'), { recursive: true });
      await cp(join(ROOT, 'tsconfig.json'), join(copy, 'tsconfig.json'));
      await symlink(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
      // A mapper reaching the FHIR server.
      await appendFile(
        join(copy, 'src/mappers/types.ts'),
        "\nexport { FhirGateway as Planted } from '../fhir/fhir-gateway.js';\n",
      );
      // A rule imported upward: coordination reaching into routing (a folder cycle).
      await appendFile(
        join(copy, 'src/coordination/plan-diff.ts'),
        "\nexport { messageIdFor as planted } from '../routing/deliver-plan-change.js';\n",
      );
      // A mapper opening a socket, in an import that also names a type.
      await appendFile(
        join(copy, 'src/mappers/support.ts'),
        "\nimport net, { type Socket } from 'node:net';\nexport const planted: [typeof net, Socket?] = [net];\n",
      );
      // An HTTP route driving BullMQ itself (beside a type), and a service importing a route.
      await appendFile(
        join(copy, 'src/http/create-app.ts'),
        "\nimport { Worker as Planted, type Job as PlantedJob } from 'bullmq';\nexport const planted: [typeof Planted, PlantedJob?] = [Planted];\n",
      );
      await appendFile(
        join(copy, 'src/routing/catch-up.ts'),
        "\nexport { createApp as planted } from '../http/create-app.js';\n",
      );
      // A folder nobody placed in the layers.
      await writeFile(join(copy, 'src/ingest/stray.ts'), "export { x } from '../stray/x.js';\n");
      await mkdir(join(copy, 'src/stray'));
      await writeFile(join(copy, 'src/stray/x.ts'), 'export const x = 1;\n');
      found = await violationsIn(copy);
    }, 60_000);

    afterAll(async () => {
      await rm(copy, { recursive: true, force: true });
    });

    it.each([
      ['pure-mappers-and-rules', 'src/mappers/types.ts', 'src/fhir/fhir-gateway.ts'],
      ['pure-mappers-and-rules', 'src/mappers/support.ts', 'net'],
      ['layers: coordination', 'src/coordination/plan-diff.ts', 'src/routing/deliver-plan-change.ts'],
      ['queues-own-bullmq', 'src/http/create-app.ts', 'bullmq'],
      ['http-is-a-door', 'src/routing/catch-up.ts', 'src/http/create-app.ts'],
      ['layers: routing', 'src/routing/catch-up.ts', 'src/http/create-app.ts'],
      ['no-unknown-folder', 'src/ingest/stray.ts', 'src/stray/x.ts'],
    ])('reports %s (%s -> %s)', (rule, from, to) => {
      expect(found).toContainEqual(
        expect.objectContaining({
          rule: expect.objectContaining({ name: rule }),
          from,
          to: expect.stringContaining(to),
        }),
      );
    });

    it('reports nothing but the planted imports', () => {
      const planted = new Set([
        'src/mappers/types.ts',
        'src/mappers/support.ts',
        'src/coordination/plan-diff.ts',
        'src/http/create-app.ts',
        'src/routing/catch-up.ts',
        'src/ingest/stray.ts',
      ]);
      expect(found.filter((v) => !planted.has(v.from))).toEqual([]);
    });
  });
});
