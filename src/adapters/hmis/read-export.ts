import AdmZip from 'adm-zip';
import iconv from 'iconv-lite';
import { InvalidInputError } from '../../errors/hub-error.js';

/** Bounds on an uploaded export, so a hostile or broken archive cannot exhaust memory. */
export interface ExportLimits {
  /** Most entries (files and folders) the archive may hold. */
  readonly maxEntries: number;
  /** Most bytes one file may inflate to. */
  readonly maxFileBytes: number;
  /** Most bytes all files together may inflate to. */
  readonly maxTotalBytes: number;
}

/**
 * Defaults sized for one CoC's export: HUD's FY2024 export has about 25 files; a large
 * Services.csv runs to tens of MB.
 */
export const DEFAULT_EXPORT_LIMITS: ExportLimits = {
  maxEntries: 100,
  maxFileBytes: 200 * 1024 * 1024,
  maxTotalBytes: 500 * 1024 * 1024,
};

/** The archive is not a usable HMIS export: not a zip, unsafe entry names, or over a limit. */
export class ExportArchiveError extends InvalidInputError {}

/**
 * Reads the files of a zipped HMIS export into memory, by entry name as stored (folders kept:
 * `export/Client.csv`). Refuses the whole archive, with an {@link ExportArchiveError} naming the
 * entry, when an entry could escape a folder (`..`, absolute paths, drive letters) or when a
 * limit is exceeded. Sizes are checked before inflating, and adm-zip caps inflation at the
 * declared size and checks each entry's CRC, so an entry lying about its size fails too.
 */
export function unzipExport(zip: Buffer, limits: ExportLimits = DEFAULT_EXPORT_LIMITS): Map<string, Buffer> {
  let entries: AdmZip.IZipEntry[];
  try {
    entries = new AdmZip(zip).getEntries();
  } catch (err) {
    throw new ExportArchiveError(`The export is not a readable zip archive: ${(err as Error).message}`);
  }
  if (entries.length > limits.maxEntries) {
    throw new ExportArchiveError(
      `The export holds ${entries.length} entries; at most ${limits.maxEntries} are allowed`,
    );
  }
  for (const entry of entries) {
    const unsafe = unsafeName(entry.entryName);
    if (unsafe) {
      throw new ExportArchiveError(`The export entry "${entry.entryName}" is refused: ${unsafe}`);
    }
  }
  const files = new Map<string, Buffer>();
  let total = 0;
  for (const entry of entries) {
    if (entry.isDirectory) {
      continue;
    }
    const declared = entry.header.size;
    if (declared > limits.maxFileBytes) {
      throw new ExportArchiveError(
        `The export entry "${entry.entryName}" inflates to ${declared} bytes; at most ${limits.maxFileBytes} are allowed per file`,
      );
    }
    total += declared;
    if (total > limits.maxTotalBytes) {
      throw new ExportArchiveError(`The export inflates to more than ${limits.maxTotalBytes} bytes in all`);
    }
    let data: Buffer;
    try {
      data = entry.getData();
    } catch (err) {
      throw new ExportArchiveError(
        `The export entry "${entry.entryName}" is damaged: ${(err as Error).message}`,
      );
    }
    files.set(entry.entryName, data);
  }
  return files;
}

/** Why an entry name could write or read outside the export's folder; undefined when it is safe. */
function unsafeName(name: string): string | undefined {
  const parts = name.split(/[\\/]/);
  if (parts.includes('..')) {
    return 'it climbs out of its folder (..)';
  }
  if (name.startsWith('/') || name.startsWith('\\')) {
    return 'it is an absolute path';
  }
  if (/^[A-Za-z]:/.test(name)) {
    return 'it names a drive';
  }
  if (name.includes('\0')) {
    return 'it contains a NUL character';
  }
  return undefined;
}

/**
 * Decodes one CSV file to text with `\n` line endings.
 *
 * - A byte-order mark decides: UTF-8, UTF-16LE or UTF-16BE (the mark is dropped).
 * - Otherwise bytes that are valid UTF-8 are UTF-8 (ASCII included).
 * - Otherwise the file is single-byte: Windows-1252, unless MacRoman reads it clearly better.
 *   Both are tried and each non-ASCII character is scored by whether it looks like part of a
 *   name: a letter scores +1, unless it is a capital inside a lower-case word (`FranÁois`, the
 *   MacRoman reading of Windows-1252 `ç`) or a small letter glued to a following capital
 *   (`OíBrien`); typographic punctuation (curly quotes, dashes) scores 0; any other symbol, control
 *   or undefined byte scores -1 (`Bête` in MacRoman is byte 0x90, undefined in Windows-1252).
 *   MacRoman wins only on a strictly higher score; Windows-1252 is by far the commoner.
 */
export function decodeCsv(bytes: Buffer): string {
  return normaliseLineEndings(decodeBytes(bytes));
}

function decodeBytes(bytes: Buffer): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return bytes.subarray(3).toString('utf8');
  }
  if (bytes[0] === 0xff && bytes[1] === 0xfe) {
    return iconv.decode(bytes.subarray(2), 'utf-16le');
  }
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    return iconv.decode(bytes.subarray(2), 'utf-16be');
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Not UTF-8: a single-byte encoding.
  }
  const windows = iconv.decode(bytes, 'windows-1252');
  const mac = iconv.decode(bytes, 'macintosh');
  return plausibility(mac) > plausibility(windows) ? mac : windows;
}

const TYPOGRAPHIC = new Set('‘’‚“”„–—…•«»‹›'.split(''));

function plausibility(text: string): number {
  let score = 0;
  // Both candidate encodings map every byte to one UTF-16 unit, so indexing by unit is safe.
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c.charCodeAt(0) < 0x80) {
      continue;
    }
    if (/\p{L}/u.test(c)) {
      const prev = text.charAt(i - 1);
      const next = text.charAt(i + 1);
      const capitalInWord = /\p{Lu}/u.test(c) && /\p{L}/u.test(prev) && /\p{Ll}/u.test(next);
      const smallBeforeCapital = /\p{Ll}/u.test(c) && /\p{Lu}/u.test(next);
      score += capitalInWord || smallBeforeCapital ? -1 : 1;
    } else if (!TYPOGRAPHIC.has(c)) {
      score -= 1;
    }
  }
  return score;
}

function normaliseLineEndings(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}
