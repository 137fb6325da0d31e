/**
 * Server-side request forgery guard for outgoing webhooks: a workspace's URL must not make this server
 * call itself, the cloud's metadata service or the private network. Only http(s); every address the
 * host resolves to must be public (IPv4 and IPv6, IPv4-mapped and NAT64 forms read as their IPv4),
 * unless WEBHOOK_ALLOW_PRIVATE=true. Checked at registration and again at each delivery, inside the
 * connection's own DNS lookup (`guardedLookup`), so the address connected to is the one checked.
 */
import { BlockList, isIP } from "node:net";
import dns from "node:dns";
import type { LookupFunction } from "node:net";

const blocked = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], // "this network", unspecified
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata (169.254.169.254)
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const) blocked.addSubnet(network, prefix, "ipv4");
for (const [network, prefix] of [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["fc00::", 7], // unique-local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated)
  ["ff00::", 8], // multicast
  ["2001:db8::", 32], // documentation
  ["100::", 64], // discard
] as const) blocked.addSubnet(network, prefix, "ipv6");

/** The IPv4 address an IPv6 one carries (::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::a.b.c.d), else null. */
function embeddedIpv4(address: string): string | null {
  const words = expandIpv6(address);
  if (!words) return null;
  const head = words.slice(0, 6);
  const mapped = head.slice(0, 5).every((w) => w === 0) && (head[5] === 0xffff || head[5] === 0);
  const nat64 = words[0] === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((w) => w === 0);
  if (!mapped && !nat64) return null;
  if (head[5] === 0 && !nat64 && words[6] === 0 && words[7]! <= 1) return null; // :: and ::1 themselves
  return `${words[6]! >> 8}.${words[6]! & 0xff}.${words[7]! >> 8}.${words[7]! & 0xff}`;
}

function expandIpv6(address: string): number[] | null {
  let text = address.replace(/^\[|\]$/g, "").split("%")[0]!;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split(".").map(Number) as [number, number, number, number];
    text = text.slice(0, -dotted[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [left, right] = text.includes("::") ? text.split("::") : [text, null];
  const leftWords = left ? left.split(":") : [];
  const rightWords = right ? right.split(":") : [];
  const missing = 8 - leftWords.length - rightWords.length;
  if (right === null ? missing !== 0 : missing < 0) return null;
  const words = [...leftWords, ...Array<string>(right === null ? 0 : missing).fill("0"), ...rightWords].map((w) => parseInt(w, 16));
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : null;
}

/** Why `address` (an IP literal) may not be called, or null when it is a public address. */
export function privateAddressReason(address: string): string | null {
  const bare = address.replace(/^\[|\]$/g, "");
  const family = isIP(bare);
  if (family === 0) return `${address} is not an IP address`;
  if (family === 4) return blocked.check(bare, "ipv4") ? `${bare} is a loopback, private, link-local, multicast or reserved address` : null;
  const inner = embeddedIpv4(bare);
  if (inner !== null) {
    const reason = privateAddressReason(inner);
    return reason === null ? null : `${bare} carries ${inner}: ${reason}`;
  }
  return blocked.check(bare, "ipv6") ? `${bare} is a loopback, private, link-local, multicast or reserved address` : null;
}

export class WebhookUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookUrlError";
  }
}

/** Parses an endpoint URL: http(s), a host, no credentials. Throws WebhookUrlError saying what to fix. */
export function parseWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlError("must be an absolute http:// or https:// URL, e.g. https://example.com/hooks/waha-campaigns");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new WebhookUrlError(`must be an http:// or https:// URL, not ${url.protocol}`);
  if (url.username || url.password) throw new WebhookUrlError("must not contain a user name or password: deliveries are signed instead (X-Webhook-Signature)");
  if (!url.hostname) throw new WebhookUrlError("must name a host");
  return url;
}

export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

/** The system's resolver, given 5 s: a registration never hangs on a host whose DNS does not answer. */
export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${hostname} did not resolve within 5 s`)), 5_000);
    dns.promises.lookup(hostname, { all: true, verbatim: true }).then(resolve, reject).finally(() => clearTimeout(timer));
  });

/**
 * Checks that the URL's host is, or resolves only to, public addresses (unless private ones are
 * allowed). Throws WebhookUrlError naming the address refused.
 */
export async function assertDeliverableUrl(url: URL, options: { allowPrivate: boolean; resolve?: Resolver }): Promise<void> {
  if (options.allowPrivate) return;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (isIP(host)) {
    const reason = privateAddressReason(host);
    if (reason) throw new WebhookUrlError(`is refused: ${reason} (set WEBHOOK_ALLOW_PRIVATE=true to deliver inside your network)`);
    return;
  }
  let addresses: Array<{ address: string }>;
  try {
    addresses = await (options.resolve ?? systemResolver)(host);
  } catch {
    throw new WebhookUrlError(`is refused: the host ${host} does not resolve`);
  }
  if (addresses.length === 0) throw new WebhookUrlError(`is refused: the host ${host} does not resolve`);
  for (const { address } of addresses) {
    const reason = privateAddressReason(address);
    if (reason) throw new WebhookUrlError(`is refused: ${host} resolves to ${reason} (set WEBHOOK_ALLOW_PRIVATE=true to deliver inside your network)`);
  }
}

/**
 * A `lookup` for http(s).request that refuses private addresses: the socket connects only to an
 * address checked here, so a DNS answer that changes between the check and the connection (DNS
 * rebinding) cannot reach the private network.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true, verbatim: true }, (error, addresses) => {
      if (error) return callback(error, "", 0);
      const list = addresses as unknown as dns.LookupAddress[];
      const refused = allowPrivate ? null : list.map((a) => privateAddressReason(a.address)).find((r) => r !== null);
      if (refused) return callback(Object.assign(new Error(`refused: ${hostname} resolves to ${refused}`), { code: "EWEBHOOKPRIVATE" }), "", 0);
      if (list.length === 0) return callback(Object.assign(new Error(`${hostname} does not resolve`), { code: "ENOTFOUND" }), "", 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}
