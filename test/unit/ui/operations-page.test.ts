import { describe, expect, it } from '@jest/globals';
import { operationsPage } from '../../../src/ui/views.js';

const base = {
  viewer: { username: 'eli', role: 'engineer' },
  alerts: { active: [], history: [] },
  partners: [],
  deadLetters: [],
  rejected: [],
  timeZone: 'America/New_York',
} satisfies Parameters<typeof operationsPage>[0];

describe('the operations page', () => {
  it('links to the older rejections when there are more, and not on the last page', () => {
    const withMore = operationsPage({ ...base, rejectedNext: '1764900000000~a&b' });
    expect(withMore).toContain('href="/ui/operations?before=1764900000000%7Ea%26b"');
    expect(operationsPage(base)).not.toContain('Older rejections');
  });
});
