import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PUBLISHED_SCHEMAS, publishedText } from '../../../src/cli/schemas.js';
import { REPO_ROOT } from '../../support/test-env.js';

const FOLDER = path.join(REPO_ROOT, 'schemas');

describe('the published schemas (schemas/)', () => {
  it('are exactly the schemas the code validates with (npm run hub -- schemas writes them)', () => {
    expect(readdirSync(FOLDER).sort()).toEqual(Object.keys(PUBLISHED_SCHEMAS).sort());
    for (const file of Object.keys(PUBLISHED_SCHEMAS)) {
      const published: unknown = JSON.parse(readFileSync(path.join(FOLDER, file), 'utf8'));
      expect({ file, schema: published }).toEqual({ file, schema: JSON.parse(publishedText(file)) });
    }
  });

  it('are named by the example files, for editors', () => {
    const partner = readFileSync(path.join(REPO_ROOT, 'config/partners/northside-bh.yaml'), 'utf8');
    expect(partner.split('\n')[0]).toBe('# yaml-language-server: $schema=../../schemas/partner.schema.json');
  });
});
