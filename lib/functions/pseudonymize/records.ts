import { isUtf8 } from 'node:buffer';
import type { DatasetFormat } from './rules';

/**
 * Record boundaries of CSV (RFC 4180) and JSON Lines files, found in their bytes, so that a
 * record's line, byte offset and raw text are exact in any line-ending convention, and so that a
 * file can be cut at record boundaries into byte ranges that are transformed apart (the planner
 * of large files) with the same result as one pass over it.
 *
 * The rule that delimits a CSV record: it ends at the first line feed outside a quoted field. A
 * quote opens a quoted field only where a field starts (at the start of the record or after a
 * comma); inside one, two quotes are a quote and one quote closes it. Anywhere else a quote is
 * text, so a stray quote never swallows the records after it. `csvFields` reads the fields by the
 * same rule and says what is malformed.
 */

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The longest record kept whole; a longer one is quarantined by its offset, length and first bytes. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** One record as the file holds it. */
export interface RawRecord {
  /** The line the record starts on, from 1. */
  readonly line: number;
  /** Its first byte's offset in the file. */
  readonly offset: number;
  /** Its bytes, line ending included (the first MAX_RECORD_BYTES only, when `length` is more). */
  readonly bytes: Buffer;
  /** Its length in bytes. */
  readonly length: number;
}

/** Where to start reading: a whole file, or a range of one cut at a record boundary. */
export interface RecordStart {
  /** The offset in the file of the first byte read. Default 0. */
  readonly offset?: number;
  /** The line the first byte is on. Default 1. */
  readonly line?: number;
}

/**
 * Finds where CSV records end, a chunk at a time: what the scan knows at the end of a chunk
 * (inside a quoted field, at a field's start, a quote that may be the first of a pair) is kept
 * for the next, so no byte is scanned twice and no chunk is copied to be scanned.
 */
class CsvBoundary {
  private quoted = false;
  /** The byte before the scan's position is a comma, or the record starts there. */
  private fieldStart = true;
  /** Inside a quoted field, the previous chunk ended on a quote. */
  private quoteAtEnd = false;

  /** The index past the line feed that ends the record in `buf` from `from`, or -1. */
  end(buf: Buffer, from: number): number {
    let i = from;
    if (this.quoteAtEnd) {
      this.quoteAtEnd = false;
      if (i < buf.length && buf[i] === QUOTE) i++;
      else {
        this.quoted = false;
        this.fieldStart = false;
      }
    }
    for (;;) {
      if (this.quoted) {
        const close = buf.indexOf(QUOTE, i);
        if (close === -1) return -1;
        if (close + 1 === buf.length) {
          // The first of an escaped pair, or the closing quote: the next chunk says.
          this.quoteAtEnd = true;
          return -1;
        }
        if (buf[close + 1] === QUOTE) {
          i = close + 2;
          continue;
        }
        this.quoted = false;
        this.fieldStart = false;
        i = close + 1;
      }
      const lf = buf.indexOf(LF, i);
      const quote = buf.indexOf(QUOTE, i);
      if (quote === -1 || (lf !== -1 && lf < quote)) {
        if (lf === -1) {
          if (buf.length > i) this.fieldStart = buf[buf.length - 1] === COMMA;
          return -1;
        }
        this.quoted = false;
        this.fieldStart = true;
        return lf + 1;
      }
      if (quote > i ? buf[quote - 1] === COMMA : this.fieldStart) this.quoted = true;
      this.fieldStart = false;
      i = quote + 1;
    }
  }

  /** At the end of the file: the record ends with it. */
  reset(): void {
    this.quoted = false;
    this.fieldStart = true;
    this.quoteAtEnd = false;
  }
}

function lineFeeds(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(LF); i !== -1; i = buf.indexOf(LF, i + 1)) n++;
  return n;
}

function blank(buf: Buffer): boolean {
  return buf.length === 1 ? buf[0] === LF : buf.length === 2 && buf[0] === CR && buf[1] === LF;
}

/**
 * The records of a byte stream, with their lines and offsets. A UTF-8 byte-order mark at the
 * start of the file is not part of the first record. Blank lines are not records (they count as
 * lines). At the end of the stream, what is left is the last record, line feed or not. A record
 * is assembled from its chunks once its end is found; beyond MAX_RECORD_BYTES only its length is
 * kept, with its first bytes.
 */
export async function* readRecords(
  input: AsyncIterable<Buffer | string>,
  format: DatasetFormat,
  start: RecordStart = {},
): AsyncGenerator<RawRecord> {
  const csv = format === 'csv' ? new CsvBoundary() : undefined;
  let offset = start.offset ?? 0;
  let line = start.line ?? 1;
  /** The current record's chunks (up to MAX_RECORD_BYTES), its length and line feeds so far. */
  let parts: Buffer[] = [];
  let kept = 0;
  let length = 0;
  let feeds = 0;
  let lastByte = -1;
  let head: Buffer | undefined = offset === 0 ? Buffer.alloc(0) : undefined;

  const take = (piece: Buffer) => {
    length += piece.length;
    feeds += csv ? lineFeeds(piece) : 0;
    if (piece.length > 0) lastByte = piece[piece.length - 1];
    if (kept < MAX_RECORD_BYTES) {
      const room = piece.subarray(0, MAX_RECORD_BYTES - kept);
      parts.push(room);
      kept += room.length;
    }
  };
  const finish = (): RawRecord | undefined => {
    const bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    const record = length === 0 || blank(bytes) ? undefined : { line, offset, bytes, length };
    offset += length;
    line += csv ? feeds : lastByte === LF ? 1 : 0;
    parts = [];
    kept = 0;
    length = 0;
    feeds = 0;
    return record;
  };

  function* scan(chunk: Buffer): Generator<RawRecord> {
    let from = 0;
    while (from < chunk.length) {
      const end = csv ? csv.end(chunk, from) : chunk.indexOf(LF, from);
      if (end === -1) {
        take(chunk.subarray(from));
        return;
      }
      take(chunk.subarray(from, csv ? end : end + 1));
      from = csv ? end : end + 1;
      const record = finish();
      if (record) yield record;
    }
  }

  for await (const piece of input) {
    let chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
    if (head) {
      // The byte-order mark may straddle chunks: hold the file's first bytes until there are three.
      head = Buffer.concat([head, chunk]);
      if (head.length < BOM.length) continue;
      chunk = head;
      head = undefined;
      if (chunk.subarray(0, BOM.length).equals(BOM)) {
        chunk = chunk.subarray(BOM.length);
        offset += BOM.length;
      }
    }
    yield* scan(chunk);
  }
  if (head && head.length > 0) yield* scan(head);
  csv?.reset();
  const last = finish();
  if (last) yield last;
}

/** A record's text without its line ending, or why it has none (it is not UTF-8). */
export function recordText(bytes: Buffer): string | undefined {
  if (!isUtf8(bytes)) return undefined;
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === LF) end--;
  if (end > 0 && bytes[end - 1] === CR) end--;
  return bytes.toString('utf8', 0, end);
}

/** A CSV record's fields, or what is malformed in it (a reason that quotes no data). */
export function csvFields(text: string): string[] | { readonly error: string } {
  if (!text.includes('"')) return text.split(',');
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === QUOTE) {
      let value = '';
      let j = i + 1;
      for (;;) {
        const close = text.indexOf('"', j);
        if (close === -1) return { error: 'malformed CSV: a quoted field is not closed' };
        value += text.slice(j, close);
        if (text.charCodeAt(close + 1) === QUOTE) {
          value += '"';
          j = close + 2;
          continue;
        }
        i = close + 1;
        break;
      }
      fields.push(value);
      if (i === text.length) return fields;
      if (text.charCodeAt(i) !== COMMA) return { error: 'malformed CSV: text after a closing quote' };
      i++;
      continue;
    }
    const comma = text.indexOf(',', i);
    const value = comma === -1 ? text.slice(i) : text.slice(i, comma);
    if (value.includes('"')) return { error: 'malformed CSV: a quote inside an unquoted field' };
    fields.push(value);
    if (comma === -1) return fields;
    i = comma + 1;
  }
}
