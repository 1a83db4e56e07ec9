import { describe, expect, it } from '@jest/globals';
import type { HubError } from '../../../src/errors/hub-error.js';
import { wholeNumberParam } from '../../../src/http/query-params.js';

const RANGE = { min: 1, max: 500 };

function refusal(query: Record<string, unknown>): HubError {
  try {
    wholeNumberParam(query as never, 'limit', RANGE);
  } catch (err) {
    return err as HubError;
  }
  throw new Error(`accepted ${JSON.stringify(query)}`);
}

describe('a whole-number query parameter', () => {
  it('reads digits within the range, and an absent or blank one as not given', () => {
    expect(wholeNumberParam({ limit: '25' }, 'limit', RANGE)).toBe(25);
    expect(wholeNumberParam({ limit: ' 25 ' }, 'limit', RANGE)).toBe(25);
    expect(wholeNumberParam({}, 'limit', RANGE)).toBeUndefined();
    expect(wholeNumberParam({ limit: '' }, 'limit', RANGE)).toBeUndefined();
  });

  it.each(['0', '501', '0x10', '1e2', '-5', '2.5', 'ten'])('refuses %p, naming the parameter', (value) => {
    const err = refusal({ limit: value });
    expect(err.status).toBe(400);
    expect(err.issues).toEqual([
      expect.objectContaining({
        code: 'value',
        expression: ['limit'],
        diagnostics: expect.stringMatching(/1 to 500/),
      }),
    ]);
  });

  it('refuses the parameter given twice', () => {
    expect(refusal({ limit: ['5', '6'] }).issues[0]?.expression).toEqual(['limit']);
  });
});
