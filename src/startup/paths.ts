import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: `src/startup` and `dist/startup` both sit two levels below it. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The script that builds, starts, waits for and stops the local HAPI server. */
export const HAPI_SCRIPT = path.join(REPO_ROOT, 'fhir-server', 'bin', 'hapi');
