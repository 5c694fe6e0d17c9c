import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Address classes an outbound request (a webhook) must not reach unless configuration allows it. */
export const ADDRESS_CLASSES = ['loopback', 'private', 'link-local', 'multicast', 'unspecified', 'reserved'] as const;
export type AddressClass = (typeof ADDRESS_CLASSES)[number];

const RANGES: [AddressClass, string, number, 'ipv4' | 'ipv6'][] = [
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['private', '100.64.0.0', 10, 'ipv4'], // carrier-grade NAT: someone's internal network
  ['link-local', '169.254.0.0', 16, 'ipv4'], // includes cloud metadata endpoints (169.254.169.254)
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['reserved', '240.0.0.0', 4, 'ipv4'], // and the broadcast address
  ['reserved', '192.0.0.0', 24, 'ipv4'],
  ['reserved', '192.0.2.0', 24, 'ipv4'],
  ['reserved', '198.18.0.0', 15, 'ipv4'],
  ['reserved', '198.51.100.0', 24, 'ipv4'],
  ['reserved', '203.0.113.0', 24, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['private', 'fc00::', 7, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['multicast', 'ff00::', 8, 'ipv6'],
  ['reserved', '100::', 64, 'ipv6'],
  ['reserved', '2001:db8::', 32, 'ipv6'],
  ['reserved', '64:ff9b::', 96, 'ipv6'], // NAT64 could reach any IPv4 address, private ones included
];

// One list per class; IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) match the IPv4 rules.
const LISTS = new Map<AddressClass, BlockList>(ADDRESS_CLASSES.map((name) => [name, new BlockList()]));
for (const [name, network, prefix, family] of RANGES) LISTS.get(name)?.addSubnet(network, prefix, family);

/** The class of a non-public address, or null for a public one. */
export function classifyAddress(address: string): AddressClass | null {
  const family = isIP(address);
  if (family === 0) throw new Error(`not an IP address: ${address}`);
  for (const [name, list] of LISTS) if (list.check(address, family === 4 ? 'ipv4' : 'ipv6')) return name;
  return null;
}

/** WEBHOOK_ALLOW_PRIVATE ("loopback", "loopback,private", "all", "") as a set of classes. */
export function allowedClasses(setting: string): ReadonlySet<AddressClass> {
  const names = setting
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  if (names.includes('all')) return new Set(ADDRESS_CLASSES);
  const unknown = names.filter((name) => !(ADDRESS_CLASSES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`WEBHOOK_ALLOW_PRIVATE: unknown address classes ${unknown.join(', ')} (known: ${ADDRESS_CLASSES.join(', ')}, all)`);
  return new Set(names as AddressClass[]);
}

export class RefusedAddressError extends Error {
  readonly code = 'WEBHOOK_URL_NOT_ALLOWED';
  readonly statusCode = 422;
  constructor(host: string, address: string, addressClass: AddressClass) {
    super(`${host} resolves to ${address}, a ${addressClass} address: webhooks may only reach public addresses`);
    this.name = 'RefusedAddressError';
  }
}

function refusal(host: string, address: string, allowed: ReadonlySet<AddressClass>): RefusedAddressError | null {
  const addressClass = classifyAddress(address);
  return addressClass !== null && !allowed.has(addressClass) ? new RefusedAddressError(host, address, addressClass) : null;
}

/** A URL's host without IPv6 brackets. */
export const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * A `lookup` for http.request that refuses a host when any of its addresses is not allowed.
 * The check runs inside the connection's own resolution, so a DNS answer that changes between a
 * check and the connect (DNS rebinding) cannot slip through. IP literals never reach a lookup:
 * check them with `refusedLiteral` first.
 */
export function guardedLookup(allowed: ReadonlySet<AddressClass>): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as unknown as { address: string; family: number }[];
      for (const { address } of list) {
        const refused = refusal(hostname, address, allowed);
        if (refused) return callback(Object.assign(refused, { errno: undefined }) as NodeJS.ErrnoException, '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

/** For a host that is an IP literal: its refusal, or null. */
export function refusedLiteral(host: string, allowed: ReadonlySet<AddressClass>): RefusedAddressError | null {
  return isIP(host) === 0 ? null : refusal(host, host, allowed);
}

/** Resolves the URL's host (bounded) and refuses it when any address is not allowed. */
export async function assertPublicUrl(text: string, allowed: ReadonlySet<AddressClass>, timeoutMs = 5000): Promise<void> {
  const host = hostOf(new URL(text));
  const literal = refusedLiteral(host, allowed);
  if (literal) throw literal;
  if (isIP(host) !== 0) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(unresolvable(host, 'timed out')), timeoutMs);
    guardedLookup(allowed)(host, { all: true }, (err) => {
      clearTimeout(timer);
      if (err instanceof RefusedAddressError) reject(err);
      else if (err) reject(unresolvable(host, err.code ?? err.message));
      else resolve();
    });
  });
}

function unresolvable(host: string, why: string) {
  return Object.assign(new Error(`${host} does not resolve (${why})`), { code: 'WEBHOOK_HOST_UNRESOLVABLE', statusCode: 422 });
}
