import type { Readable } from 'node:stream';
import { readRecords } from './records';
import type { DatasetRules } from './rules';
import { InputTap, readHeader, type TransformResult } from './transform';

/**
 * Files too large for one invocation are transformed in byte ranges, side by side, and put back
 * together: a planner reads the file once, delimiting records exactly as the transform does
 * (`readRecords`), and cuts it at record boundaries; each range is transformed by the same code
 * as a whole file (`pseudonymize` with the range's start and the file's header); the parts,
 * concatenated in order, are what one pass over the file writes, and their results combine into
 * the one pass's result.
 */

/** One range of a file: bytes [start, end), starting on `line`. */
export interface RangeItem {
  readonly index: number;
  readonly start: number;
  readonly end: number;
  readonly line: number;
}

export interface RangePlan {
  readonly items: readonly RangeItem[];
  /** For CSV: the header's columns, which the ranges after the first do not hold. */
  readonly header?: readonly string[];
  /** The whole file's SHA-256 and size, as the manifest records them. */
  readonly input: { readonly sha256: string; readonly bytes: number };
  /** Set when the file as a whole cannot be processed (its header, say): no ranges then. */
  readonly fileRejection?: string;
}

/**
 * Cuts a file into ranges of at least `rangeBytes` (the last may be shorter), each starting at a
 * record boundary. The first range starts at byte 0, so it holds the byte-order mark and the
 * header, which its transform reads and writes as one pass would.
 */
export async function planRanges(
  input: Readable,
  dataset: DatasetRules,
  rangeBytes: number,
): Promise<RangePlan> {
  if (!(Number.isInteger(rangeBytes) && rangeBytes > 0)) {
    throw new Error(`rangeBytes ${rangeBytes}: expected a whole number of bytes above 0`);
  }
  const tap = new InputTap();
  input.on('error', (err) => tap.destroy(err));
  input.pipe(tap);
  const starts: { start: number; line: number }[] = [{ start: 0, line: 1 }];
  let header: string[] | undefined;
  let fileRejection: string | undefined;
  let first = true;
  for await (const record of readRecords(tap, dataset.format)) {
    if (first && dataset.format === 'csv') {
      first = false;
      const read = readHeader(record, dataset);
      if ('problem' in read) {
        fileRejection = read.problem;
        break;
      }
      header = read.columns;
      continue;
    }
    first = false;
    if (record.offset - starts[starts.length - 1].start >= rangeBytes) {
      starts.push({ start: record.offset, line: record.line });
    }
  }
  if (fileRejection) {
    input.unpipe(tap);
    input.destroy();
    return { items: [], input: { sha256: '', bytes: tap.bytes }, fileRejection };
  }
  if (dataset.format === 'csv' && header === undefined) {
    return {
      items: [],
      input: { sha256: tap.digest(), bytes: tap.bytes },
      fileRejection: 'empty file: no header row',
    };
  }
  const bytes = tap.bytes;
  return {
    items: starts.map((s, index) => ({
      index,
      start: s.start,
      end: index + 1 < starts.length ? starts[index + 1].start : bytes,
      line: s.line,
    })),
    ...(header ? { header } : {}),
    input: { sha256: tap.digest(), bytes },
  };
}

/**
 * The result of the whole file from its ranges' results (in order), its hash and size from the
 * plan, and the curated output's hash and size as the parts, concatenated, give them.
 */
export function combineResults(
  plan: RangePlan,
  parts: readonly TransformResult[],
  output: { readonly sha256: string; readonly bytes: number },
): TransformResult {
  if (parts.length === 0 || parts.length !== plan.items.length) {
    throw new Error(`${parts.length} range result(s) for a plan of ${plan.items.length} range(s)`);
  }
  const reasons: Record<string, number> = {};
  for (const part of parts) {
    if (part.fileRejection) throw new Error(`range of a planned file rejected whole: ${part.fileRejection}`);
    for (const [reason, count] of Object.entries(part.quarantined.reasons)) {
      reasons[reason] = (reasons[reason] ?? 0) + count;
    }
  }
  const sum = (f: (r: TransformResult) => number) => parts.reduce((total, r) => total + f(r), 0);
  const [first] = parts;
  return {
    dataset: first.dataset,
    ruleVersion: first.ruleVersion,
    rules: first.rules,
    input: { ...plan.input, records: sum((r) => r.input.records) },
    output: { ...output, records: sum((r) => r.output.records) },
    quarantined: { records: sum((r) => r.quarantined.records), reasons },
    asOf: first.asOf,
  };
}
