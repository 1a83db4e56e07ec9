import { describe, expect, it } from '@jest/globals';
import AdmZip from 'adm-zip';
import iconv from 'iconv-lite';
import { decodeCsv, ExportArchiveError, unzipExport } from '../../../src/adapters/hmis/read-export.js';

const NAMES = 'PersonalID,FirstName\n1,Øyvind\n2,Bête\n3,François\n4,Zoë\n5,Adrián\n';

function zipOf(files: Record<string, string>): Buffer {
  const zip = new AdmZip();
  for (const [name, text] of Object.entries(files)) {
    zip.addFile(name, Buffer.from(text));
  }
  return zip.toBuffer();
}

/** adm-zip cleans names it writes, so hostile names are patched into the bytes afterwards. */
function renamed(zip: Buffer, from: string, to: string): Buffer {
  expect(to).toHaveLength(from.length);
  return Buffer.from(zip.toString('latin1').split(from).join(to), 'latin1');
}

describe('decodeCsv', () => {
  it('reads UTF-8 without a byte-order mark', () => {
    expect(decodeCsv(Buffer.from(NAMES, 'utf8'))).toBe(NAMES);
  });

  it('reads UTF-8 with a byte-order mark and drops the mark', () => {
    expect(decodeCsv(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(NAMES)]))).toBe(NAMES);
  });

  it('reads UTF-16LE and UTF-16BE by their byte-order marks', () => {
    expect(decodeCsv(Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(NAMES, 'utf-16le')]))).toBe(
      NAMES,
    );
    expect(decodeCsv(Buffer.concat([Buffer.from([0xfe, 0xff]), iconv.encode(NAMES, 'utf-16be')]))).toBe(
      NAMES,
    );
  });

  it('falls back to Windows-1252 for bytes that are not UTF-8', () => {
    expect(decodeCsv(iconv.encode(NAMES, 'windows-1252'))).toBe(NAMES);
  });

  it('keeps Windows-1252 typographic quotes and dashes as such', () => {
    const text = 'PersonalID,LastName\n1,O’Brien\n2,Smith–Jones\n';
    expect(decodeCsv(iconv.encode(text, 'windows-1252'))).toBe(text);
  });

  it('reads MacRoman when its letters make far more sense than Windows-1252', () => {
    expect(decodeCsv(iconv.encode(NAMES, 'macintosh'))).toBe(NAMES);
  });

  it('turns CRLF and bare CR line endings into LF', () => {
    expect(decodeCsv(Buffer.from('a,b\r\n1,2\r3,4\n5,6'))).toBe('a,b\n1,2\n3,4\n5,6');
  });
});

describe('unzipExport', () => {
  const limits = { maxEntries: 5, maxFileBytes: 1000, maxTotalBytes: 1500 };

  it('returns every file by entry name, folders included', () => {
    const files = unzipExport(
      zipOf({ 'export/Client.csv': 'PersonalID\n1\n', 'export/Export.csv': 'ExportID\n9\n' }),
      limits,
    );
    expect([...files.keys()].sort()).toEqual(['export/Client.csv', 'export/Export.csv']);
    expect(files.get('export/Client.csv')!.toString()).toBe('PersonalID\n1\n');
  });

  it.each([
    ['xx/Client.csv', '../Client.csv', /climbs out of its folder/],
    ['xClient.csv', '/Client.csv', /absolute path/],
    ['xyClient.csv', 'C:Client.csv', /names a drive/],
  ])('refuses the archive when an entry is %s -> %s', (from, to, why) => {
    const zip = renamed(zipOf({ [from]: 'x' }), from, to);
    expect(() => unzipExport(zip, limits)).toThrow(ExportArchiveError);
    expect(() => unzipExport(zip, limits)).toThrow(why);
  });

  it('refuses an archive with too many entries', () => {
    const many = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`f${i}.csv`, 'x']));
    expect(() => unzipExport(zipOf(many), limits)).toThrow(/holds 6 entries; at most 5/);
  });

  it('refuses a file that inflates past the per-file limit, before inflating it', () => {
    expect(() => unzipExport(zipOf({ 'Services.csv': 'a'.repeat(1001) }), limits)).toThrow(
      /"Services.csv" inflates to 1001 bytes; at most 1000/,
    );
  });

  it('refuses files that together inflate past the total limit', () => {
    const zip = zipOf({ 'a.csv': 'a'.repeat(900), 'b.csv': 'b'.repeat(900) });
    expect(() => unzipExport(zip, limits)).toThrow(/more than 1500 bytes in all/);
  });

  it('refuses an entry that lies about its size (a zip bomb) instead of inflating it', () => {
    const zip = zipOf({ 'Client.csv': 'a'.repeat(5000) });
    // Declare 10 bytes in the local and the central header.
    const local = zip.indexOf('Client.csv');
    zip.writeUInt32LE(10, local - 30 + 22);
    const central = zip.lastIndexOf('Client.csv');
    zip.writeUInt32LE(10, central - 46 + 24);
    expect(() => unzipExport(zip, { ...limits, maxFileBytes: 100_000 })).toThrow(/"Client.csv" is damaged/);
  });

  it('refuses bytes that are not a zip archive', () => {
    expect(() => unzipExport(Buffer.from('PersonalID\n1\n'), limits)).toThrow(/not a readable zip archive/);
  });
});
