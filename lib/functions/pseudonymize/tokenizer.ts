import { createHmac, randomBytes } from 'node:crypto';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import type { Normalizer } from './rules';

/** Computes HMAC-SHA-256 of a message with a key the caller never sees. */
export interface MacProvider {
  mac(message: Uint8Array): Promise<Uint8Array>;
  /** Calls made so far (for the benchmark and the logs). */
  readonly calls: number;
}

/** The minimal surface of the AWS SDK's KMS client the stage uses. */
export interface KmsLike {
  send(command: unknown): Promise<{ Mac?: Uint8Array }>;
}

/**
 * HMAC-SHA-256 by AWS KMS (`GenerateMac`) with an HMAC key: the key never leaves KMS. `command`
 * builds the SDK command (the handler passes `GenerateMacCommand`), so this module does not load
 * the SDK itself.
 */
export class KmsMac implements MacProvider {
  calls = 0;
  constructor(
    private readonly kms: KmsLike,
    private readonly keyId: string,
    private readonly command: (input: {
      KeyId: string;
      MacAlgorithm: 'HMAC_SHA_256';
      Message: Uint8Array;
    }) => unknown,
  ) {}

  async mac(message: Uint8Array): Promise<Uint8Array> {
    this.calls++;
    const out = await this.kms.send(
      this.command({ KeyId: this.keyId, MacAlgorithm: 'HMAC_SHA_256', Message: message }),
    );
    if (!out.Mac) throw new Error(`KMS GenerateMac with key ${this.keyId} returned no MAC`);
    return out.Mac;
  }
}

/**
 * HMAC-SHA-256 with a key held in this process. For dry runs and tests only: its tokens differ
 * from the deployed stage's, and a key in memory is not how production keys are kept.
 */
export class LocalMac implements MacProvider {
  calls = 0;
  constructor(
    private readonly key: Buffer = randomBytes(32),
    /** Simulated round-trip per call, for the benchmark. */
    private readonly latencyMs = 0,
  ) {}

  async mac(message: Uint8Array): Promise<Uint8Array> {
    this.calls++;
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    return createHmac('sha256', this.key).update(message).digest();
  }
}

/** A value a normaliser cannot read as what it normalises (an e-mail address, a phone number). */
export class NotNormalizable extends Error {
  constructor(readonly expected: string) {
    super(`expected ${expected}`);
  }
}

const EMAIL = /^[^@\s]+@[^@\s]+$/;
const phones = new Map<string, string>();

/**
 * A value in the form its normaliser gives (see NORMALIZERS): NFC and trimmed first, always.
 * `country` is the default country of phone numbers.
 */
export function normalizeIdentifier(value: string, how: Normalizer, country = 'US'): string {
  const text = value.normalize('NFC').trim();
  switch (how) {
    case 'trim':
      return text;
    case 'lowercase':
      return text.toLowerCase();
    case 'digits':
      return text.replace(/\D/g, '');
    case 'name':
      // Default case folding, as upper- then lower-casing gives it (ß and SS agree, so do ς and σ).
      return text.replace(/\s+/g, ' ').toUpperCase().toLowerCase().normalize('NFC');
    case 'email': {
      const address = text.toLowerCase();
      if (!EMAIL.test(address)) throw new NotNormalizable('an e-mail address');
      return address;
    }
    case 'phone':
      return phoneE164(text, country);
  }
}

/** A phone number in E.164, remembered: the same numbers recur in a file, and parsing is the cost. */
function phoneE164(text: string, country: string): string {
  const memo = `${country}\u0000${text}`;
  const known = phones.get(memo);
  if (known !== undefined) return known;
  const number = parsePhoneNumberFromString(text, { defaultCountry: country as CountryCode, extract: false });
  if (!number?.isPossible()) throw new NotNormalizable('a phone number');
  // An extension is part of the number: two extensions of one line are two people's phones.
  const e164 = number.ext ? `${number.number};ext=${number.ext}` : number.number;
  if (phones.size >= 50_000) phones.clear();
  phones.set(memo, e164);
  return e164;
}

export interface TokenizerOptions {
  /** MAC calls in flight at once. */
  readonly concurrency?: number;
  /** Distinct identifiers whose tokens are remembered, at most (the least recently used are dropped). */
  readonly cacheSize?: number;
}

/**
 * Turns identifiers into deterministic tokens: base64url of HMAC-SHA-256 over
 * `scope \0 domain \0 value`. The same value in the same domain and scope gives the same token
 * under the same key.
 * Tokens are resolved a batch at a time: each distinct, uncached input is MACed once, several
 * calls in flight, so a file costs one call per distinct identifier, not per record.
 */
export class Tokenizer {
  /**
   * Tokens remembered, in two generations: a hit in the older one moves to the newer; when the
   * newer is full it becomes the older and the older is dropped. Recently used tokens stay, as
   * with least-recently-used order, without its cost of a delete and an insert per hit.
   */
  private recent = new Map<string, string>();
  private older = new Map<string, string>();
  private readonly concurrency: number;
  private readonly generation: number;

  constructor(
    readonly provider: MacProvider,
    options: TokenizerOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 16;
    this.generation = Math.max(1, Math.floor((options.cacheSize ?? 200_000) / 2));
  }

  /** What is MACed for a raw object's key (no scope: keys are named the same for every dataset). */
  static input(domain: string, value: string): string {
    return `${domain}\u0000${value}`;
  }

  /** What is MACed for an identifier (token scheme 2): its scope, its domain and its value. */
  static scoped(scope: string, domain: string, value: string): string {
    return `${scope}\u0000${domain}\u0000${value}`;
  }

  /** The token of an input if it is remembered. */
  known(input: string): string | undefined {
    const token = this.recent.get(input);
    if (token !== undefined) return token;
    const old = this.older.get(input);
    if (old !== undefined) this.remember(input, old);
    return old;
  }

  /** The token of each input, MACing those not yet known (each once, several calls in flight). */
  async resolve(inputs: Iterable<string>): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    const missing: string[] = [];
    for (const input of inputs) {
      if (result.has(input)) continue;
      const known = this.known(input);
      if (known === undefined) missing.push(input);
      result.set(input, known ?? '');
    }
    let next = 0;
    const worker = async () => {
      while (next < missing.length) {
        const input = missing[next++];
        const token = Buffer.from(await this.provider.mac(Buffer.from(input, 'utf8'))).toString('base64url');
        result.set(input, token);
        this.remember(input, token);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, missing.length) }, worker));
    return result;
  }

  private remember(input: string, token: string): void {
    if (this.recent.size >= this.generation) {
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(input, token);
  }
}
