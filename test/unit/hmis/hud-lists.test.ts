import { describe, expect, it } from '@jest/globals';
import { FY2022_LIVING_SITUATIONS, LIVING_SITUATIONS } from '../../../src/adapters/hmis/hud-lists.js';

describe('HUD living situation lists', () => {
  const byCategory = (category: string) =>
    [...LIVING_SITUATIONS]
      .filter(([, e]) => e.category === category)
      .map(([code]) => code)
      .sort((a, b) => a - b);

  it('groups the FY2024 codes as HUD does', () => {
    expect(byCategory('homeless')).toEqual([101, 116, 118]);
    expect(byCategory('institutional')).toEqual([204, 205, 206, 207, 215, 225]);
    expect(byCategory('temporary')).toEqual([302, 312, 313, 314, 327, 329, 332, 335, 336]);
    expect(byCategory('permanent')).toEqual([410, 411, 421, 422, 423, 426, 435]);
    expect(byCategory('other')).toEqual([17, 24]);
    expect(byCategory('unknown')).toEqual([8, 9, 30, 37, 99]);
  });

  it('maps every FY2022 code onto an FY2024 code', () => {
    for (const [old, code] of FY2022_LIVING_SITUATIONS) {
      expect([old, LIVING_SITUATIONS.has(code)]).toEqual([old, true]);
    }
    expect(FY2022_LIVING_SITUATIONS.get(16)).toBe(116);
    expect(FY2022_LIVING_SITUATIONS.get(19)).toBe(435);
  });
});
