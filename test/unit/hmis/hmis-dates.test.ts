import { describe, expect, it } from '@jest/globals';
import { parseHmisDate } from '../../../src/adapters/hmis/hmis-dates.js';

describe('parseHmisDate', () => {
  it.each([
    ['2023-02-07', { date: '2023-02-07' }],
    ['2015-09-10 13:37:31', { date: '2015-09-10', time: '13:37:31' }],
    ['2015-09-10T13:37', { date: '2015-09-10', time: '13:37:00' }],
    ['02-07-2023 12:00:00', { date: '2023-02-07', time: '12:00:00' }],
    ['9-10-2015 21:39:00', { date: '2015-09-10', time: '21:39:00' }],
    ['9/10/2015 21:39:00', { date: '2015-09-10', time: '21:39:00' }],
    ['12-31-2015', { date: '2015-12-31' }],
    ['7/14/16', { date: '2016-07-14' }],
    ['7/14/16 09:59:00', { date: '2016-07-14', time: '09:59:00' }],
    ['08-MAY-67', { date: '1967-05-08' }],
    ['08-may-1967', { date: '1967-05-08' }],
  ])('reads %s', (text, expected) => {
    expect(parseHmisDate(text, 2017)).toEqual(expected);
  });

  it('reads a two-digit year as the latest year not after the export year', () => {
    expect(parseHmisDate('1/1/17', 2017)).toEqual({ date: '2017-01-01' });
    expect(parseHmisDate('1/1/18', 2017)).toEqual({ date: '1918-01-01' });
    expect(parseHmisDate('17-JUN-20', 2017)).toEqual({ date: '1920-06-17' });
    expect(parseHmisDate('17-JUN-20', 2026)).toEqual({ date: '2020-06-17' });
    expect(parseHmisDate('04-28-19 05:17:00', 2026)).toEqual({ date: '2019-04-28', time: '05:17:00' });
  });

  it.each([
    ['2023-02-30', /not a calendar date/],
    ['13/01/2020', /not a calendar date/],
    ['2/29/23', /not a calendar date/],
    ['2023-01-01 25:00:00', /impossible time of day/],
    ['08-MAI-67', /unknown month name "MAI"/],
    ['yesterday', /not a date/],
    ['20230207', /not a date/],
  ])('refuses %s', (text, why) => {
    expect(parseHmisDate(text, 2024)).toMatch(why);
  });

  it('takes leap days from the resolved century', () => {
    expect(parseHmisDate('2/29/00', 2024)).toEqual({ date: '2000-02-29' });
    expect(parseHmisDate('2/29/00', 1999)).toMatch(/not a calendar date/);
  });
});
