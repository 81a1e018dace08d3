import * as ipaddr from 'ipaddr.js';

/** An IPv4 range as the inclusive span of addresses it covers. */
export interface Cidr {
  readonly text: string;
  readonly prefix: number;
  readonly first: number;
  readonly last: number;
}

/**
 * Parses a dotted-decimal IPv4 CIDR block whose prefix length lies in [minPrefix, maxPrefix] and
 * whose host bits are zero. Returns the reason in `error` instead of throwing.
 */
export function parseCidr(text: string, minPrefix = 0, maxPrefix = 32): { cidr?: Cidr; error?: string } {
  const [address, prefixText, ...rest] = text.split('/');
  if (
    rest.length > 0 ||
    prefixText === undefined ||
    !/^\d{1,2}$/.test(prefixText) ||
    !ipaddr.IPv4.isValidFourPartDecimal(address ?? '')
  ) {
    return { error: 'expected an IPv4 CIDR block such as 10.10.0.0/16' };
  }
  const prefix = Number(prefixText);
  if (prefix < minPrefix || prefix > maxPrefix) {
    return { error: `expected a prefix length from /${minPrefix} to /${maxPrefix}` };
  }
  const network = ipaddr.IPv4.networkAddressFromCIDR(text).toString();
  if (network !== address) {
    return { error: `host bits are set; expected the network address ${network}/${prefix}` };
  }
  const first = toNumber(network);
  return { cidr: { text, prefix, first, last: first + 2 ** (32 - prefix) - 1 } };
}

/** True when both blocks parse and share at least one address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a).cidr;
  const y = parseCidr(b).cidr;
  return x !== undefined && y !== undefined && x.first <= y.last && y.first <= x.last;
}

function toNumber(address: string): number {
  return ipaddr.IPv4.parse(address)
    .toByteArray()
    .reduce((n, byte) => n * 256 + byte, 0);
}
