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

/** One record as the file holds it. */
export interface RawRecord {
  /** The line the record starts on, from 1. */
  readonly line: number;
  /** Its first byte's offset in the file. */
  readonly offset: number;
  /** Its bytes, line ending included. */
  readonly bytes: Buffer;
}

/** Where to start reading: a whole file, or a range of one cut at a record boundary. */
export interface RecordStart {
  /** The offset in the file of the first byte read. Default 0. */
  readonly offset?: number;
  /** The line the first byte is on. Default 1. */
  readonly line?: number;
}

/**
 * Finds where CSV records end, across chunks: the scan resumes where the last chunk ran out,
 * so a long quoted field is not scanned again as more of it arrives.
 */
class CsvBoundary {
  /** Where the next search resumes, relative to the record's start. */
  private resume = 0;
  /** Set while the scan is inside a quoted field. */
  private quoted = false;

  /** The end (past its line feed) of the record that starts at `from`, or -1 if `buf` ends first. */
  end(buf: Buffer, from: number, eof: boolean): number {
    let i = from + this.resume;
    for (;;) {
      if (this.quoted) {
        const close = buf.indexOf(QUOTE, i);
        if (close === -1 || (close + 1 === buf.length && !eof)) {
          // The quote at the very end may be the first of an escaped pair: wait for more.
          this.resume = (close === -1 ? buf.length : close) - from;
          return -1;
        }
        if (buf[close + 1] === QUOTE) {
          i = close + 2;
          continue;
        }
        this.quoted = false;
        i = close + 1;
      }
      const lf = buf.indexOf(LF, i);
      const quote = buf.indexOf(QUOTE, i);
      if (quote === -1 || (lf !== -1 && lf < quote)) {
        if (lf === -1) {
          this.resume = buf.length - from;
          return -1;
        }
        this.resume = 0;
        return lf + 1;
      }
      if (quote === from || buf[quote - 1] === COMMA) this.quoted = true;
      i = quote + 1;
    }
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
 * lines). At the end of the stream, what is left is the last record, line feed or not.
 */
export async function* readRecords(
  input: AsyncIterable<Buffer | string>,
  format: DatasetFormat,
  start: RecordStart = {},
): AsyncGenerator<RawRecord> {
  const csv = format === 'csv' ? new CsvBoundary() : undefined;
  let buf: Buffer = Buffer.alloc(0);
  /** The file offset of buf[0]. */
  let base = start.offset ?? 0;
  let line = start.line ?? 1;
  let from = 0;
  let atFileStart = base === 0;

  function* drain(eof: boolean): Generator<RawRecord> {
    if (atFileStart) {
      if (buf.length < BOM.length && !eof) return;
      if (buf.subarray(0, BOM.length).equals(BOM)) from = BOM.length;
      atFileStart = false;
    }
    while (from < buf.length) {
      let end = csv ? csv.end(buf, from, eof) : buf.indexOf(LF, from);
      if (!csv && end !== -1) end++;
      if (end === -1) {
        if (!eof) return;
        end = buf.length;
      }
      const bytes = buf.subarray(from, end);
      if (!blank(bytes)) yield { line, offset: base + from, bytes };
      line += csv ? lineFeeds(bytes) : bytes[bytes.length - 1] === LF ? 1 : 0;
      from = end;
    }
  }

  for await (const chunk of input) {
    const next = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (from >= buf.length) {
      base += buf.length;
      buf = next;
    } else {
      base += from;
      buf = Buffer.concat([buf.subarray(from), next]);
    }
    from = 0;
    yield* drain(false);
  }
  yield* drain(true);
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
