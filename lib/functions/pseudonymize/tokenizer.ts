import { createHmac, randomBytes } from 'node:crypto';
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

export function normalizeIdentifier(value: string, how: Normalizer): string {
  const trimmed = value.trim();
  switch (how) {
    case 'trim':
      return trimmed;
    case 'lowercase':
      return trimmed.toLowerCase();
    case 'digits':
      return trimmed.replace(/\D/g, '');
  }
}

export interface TokenizerOptions {
  /** MAC calls in flight at once. */
  readonly concurrency?: number;
  /** Distinct identifiers whose tokens are remembered (least recently used dropped first). */
  readonly cacheSize?: number;
}

/**
 * Turns identifiers into deterministic tokens: base64url of HMAC-SHA-256 over `domain \0 value`.
 * The same value in the same domain gives the same token under the same key, in any dataset.
 * Tokens are resolved a batch at a time: each distinct, uncached input is MACed once, several
 * calls in flight, so a file costs one call per distinct identifier, not per record.
 */
export class Tokenizer {
  private readonly cache = new Map<string, string>();
  private readonly concurrency: number;
  private readonly cacheSize: number;

  constructor(
    readonly provider: MacProvider,
    options: TokenizerOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 16;
    this.cacheSize = options.cacheSize ?? 200_000;
  }

  static input(domain: string, value: string): string {
    return `${domain}\u0000${value}`;
  }

  /** The token of each input, MACing those not yet known. */
  async resolve(inputs: Iterable<string>): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    const missing: string[] = [];
    for (const input of inputs) {
      if (result.has(input)) continue;
      const cached = this.cache.get(input);
      if (cached === undefined) {
        missing.push(input);
        result.set(input, '');
      } else {
        // Refresh its place in the least-recently-used order.
        this.cache.delete(input);
        this.cache.set(input, cached);
        result.set(input, cached);
      }
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
    this.cache.set(input, token);
    if (this.cache.size > this.cacheSize) {
      this.cache.delete(this.cache.keys().next().value as string);
    }
  }
}
