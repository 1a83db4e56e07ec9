// The fence: the house's rules on imports, checked in `npm test` (npm run fence).
// docs/architecture.md explains the layers and why each rule exists.

/** Folders from the top (may import anything below) to the bottom (imports nothing of ours). */
const LAYERS = [
  'cli',
  'startup',
  'http',
  'mllp',
  'ui',
  'demo',
  'alerts',
  'ingest',
  'routing',
  'subscriptions',
  'coordination',
  'outbound',
  'security',
  'mappers',
  'adapters',
  'metrics',
  'queues',
  'fhir',
  'tracing',
  'logging',
  'config',
  'time',
  'errors',
];

const layerRules = LAYERS.slice(1).map((folder, i) => ({
  name: `layers: ${folder}`,
  comment: `${folder}/ may import only the folders below it in docs/architecture.md (not ${LAYERS.slice(0, i + 1).join(', ')})`,
  severity: 'error',
  from: { path: `^src/${folder}/` },
  to: { path: `^src/(${LAYERS.slice(0, i + 1).join('|')})/` },
}));

/** Input and output: what pure code must not reach. */
const IO = [
  '^src/fhir/fhir-gateway\\.ts$',
  '^src/config/yaml-file\\.ts$',
  '^src/(queues|http|startup|outbound)/',
  '(^|/)node_modules/(bullmq|ioredis|fhir-kit-client|express)/',
  '^(node:)?(fs|fs/promises|net|http|https|child_process|worker_threads)$',
];

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-unknown-folder',
      comment: 'every folder of src/ has a place in the layers (add it to LAYERS and docs/architecture.md)',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/[^/]+/', pathNot: `^src/(${LAYERS.join('|')})/` },
    },
    {
      name: 'pure-mappers-and-rules',
      comment: 'adapters, mappers and *.rules.ts are pure: no FHIR gateway, queues, HTTP, files or sockets',
      severity: 'error',
      from: { path: '^src/(adapters|mappers)/|\\.rules\\.ts$' },
      to: { path: IO },
    },
    {
      name: 'gateway-owns-fhir-client',
      comment: 'only the FHIR gateway talks to fhir-kit-client (timeouts, retries, errors in one place)',
      severity: 'error',
      from: { pathNot: '^src/fhir/fhir-gateway\\.ts$' },
      to: { path: '(^|/)node_modules/fhir-kit-client/' },
    },
    {
      name: 'queues-own-bullmq',
      comment: 'only queue modules (*.queue.ts, queues/, the wiring in startup/) use BullMQ, even for types',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.queue\\.ts$|^src/queues/|^src/startup/' },
      to: { path: '(^|/)node_modules/bullmq/' },
    },
    {
      name: 'http-is-a-door',
      comment: 'routes call services; nothing below the HTTP layer imports it',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(http|startup|cli)/|^src/main\\.ts$' },
      to: { path: '^src/http/' },
    },
    {
      name: 'no-circular',
      comment: 'no module imports itself through others',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'],
    },
    exclude: { path: '^dist/' },
  },
};
