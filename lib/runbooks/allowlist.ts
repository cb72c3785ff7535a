import { lookup } from "node:dns/promises";
import net from "node:net";

import { z } from "zod";

import type { Queryable } from "@/lib/incidents/events";
import type { ActorType } from "@/lib/generated/prisma/enums";
import { checkStoredText } from "@/lib/runbooks/text";

// The hosts that runbook steps may send requests to, managed by admins.
// Every attempt of a step checks its URL against the list as it is then
// and resolves the host once. The request then connects only to the
// addresses that were checked, so a DNS answer that changes in between
// cannot lead it elsewhere.

export type AllowedHost = {
  id: number;
  host: string;
  port: number | null;
  note: string;
  actorType: ActorType;
  actorId: number | null;
  actorName: string;
  createdAt: Date;
};

export type AllowlistActor = {
  type: ActorType;
  id: number | null;
  name: string;
};

export const MAX_NOTE_LENGTH = 500;

const HOSTNAME_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * Normalises a host as WHATWG URL parsing does for a request URL: lower
 * case, punycode, IPv4 in dotted decimal, IPv6 compressed and without
 * brackets, no trailing dot. Returns null when it is not a valid host.
 */
export function normalizeHost(value: string): string | null {
  const bare = value.startsWith("[") && value.endsWith("]") ? value.slice(1, -1) : value;
  if (net.isIPv6(bare)) {
    return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  }
  let hostname: string;
  try {
    hostname = new URL(`http://${bare}/`).hostname;
  } catch {
    return null;
  }
  hostname = hostname.replace(/\.$/, "");
  if (net.isIPv4(hostname)) return hostname;
  if (hostname.length === 0 || hostname.length > 253) return null;
  const labels = hostname.split(".");
  return labels.every((label) => HOSTNAME_LABEL.test(label)) ? hostname : null;
}

/** Returns why `raw` is not a host name or IP literal, or null when it is one. */
function hostProblem(raw: string): string | null {
  if (raw.includes("://")) {
    return "must be a host name or IP address without a scheme, such as hooks.example.com";
  }
  if (/[/?#]/.test(raw)) {
    return "must be a host name or IP address without a path or query";
  }
  if (raw.includes("@")) {
    return "must be a host name or IP address without a user name";
  }
  if (raw.includes("*")) {
    return "must name one host because wildcards are not supported";
  }
  if (/\s/.test(raw)) {
    return "must not contain spaces";
  }
  const bare = raw.startsWith("[") && raw.endsWith("]") ? raw.slice(1, -1) : raw;
  if (!net.isIPv6(bare) && /:\d*$/.test(raw)) {
    return "must not include a port, so give the port in the port field";
  }
  const host = normalizeHost(raw);
  if (host === null) {
    return `must be a host name (letters, digits, - and _ between dots) or an IP address, got ${JSON.stringify(raw.slice(0, 60))}`;
  }
  if (net.isIP(host) !== 0 && isMetadataAddress(host)) {
    return `must not be a link-local or cloud metadata address, got ${host}; steps may never call such an address`;
  }
  if (METADATA_HOST_NAMES.has(host)) {
    return `must not be a cloud metadata host name, got ${host}; steps may never call it`;
  }
  return null;
}

export const allowedHostInputSchema = z.strictObject({
  host: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .superRefine((value, context) => {
      const problem = hostProblem(value);
      if (problem) context.addIssue({ code: "custom", message: problem });
    })
    .transform((value) => normalizeHost(value)!),
  port: z.number().int().min(1).max(65535).nullable().default(null),
  note: z.string().trim().max(MAX_NOTE_LENGTH).superRefine(checkStoredText).default(""),
});

export type AllowedHostInput = z.output<typeof allowedHostInputSchema>;

type AllowedHostRow = {
  id: number;
  host: string;
  port: number | null;
  note: string;
  actor_type: ActorType;
  actor_id: number | null;
  actor_name: string;
  created_at: Date;
};

function toAllowedHost(row: AllowedHostRow): AllowedHost {
  return {
    id: row.id,
    host: row.host,
    port: row.port,
    note: row.note,
    actorType: row.actor_type,
    actorId: row.actor_id,
    actorName: row.actor_name,
    createdAt: row.created_at,
  };
}

const ALLOWED_HOST_COLUMNS = `id, host, port, note, actor_type, actor_id, actor_name, created_at`;

/** Lists the allowlist ordered by host and port. */
export async function listAllowedHosts(db: Queryable): Promise<AllowedHost[]> {
  const { rows } = await db.query<AllowedHostRow>(
    `SELECT ${ALLOWED_HOST_COLUMNS} FROM runbook_allowed_host
      ORDER BY host, port NULLS FIRST`,
  );
  return rows.map(toAllowedHost);
}

/**
 * Adds a host to the allowlist and returns the new entry, or null when the
 * same host and port are already on it.
 */
export async function addAllowedHost(
  db: Queryable,
  input: AllowedHostInput,
  actor: AllowlistActor,
): Promise<AllowedHost | null> {
  const { rows } = await db.query<AllowedHostRow>(
    `INSERT INTO runbook_allowed_host (host, port, note, actor_type, actor_id, actor_name)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (host, COALESCE(port, 0)) DO NOTHING
     RETURNING ${ALLOWED_HOST_COLUMNS}`,
    [input.host, input.port, input.note, actor.type, actor.id, actor.name],
  );
  return rows[0] ? toAllowedHost(rows[0]) : null;
}

/** Deletes one entry and returns it, or null when no entry has that id. */
export async function deleteAllowedHost(
  db: Queryable,
  id: number,
): Promise<AllowedHost | null> {
  const { rows } = await db.query<AllowedHostRow>(
    `DELETE FROM runbook_allowed_host WHERE id = $1 RETURNING ${ALLOWED_HOST_COLUMNS}`,
    [id],
  );
  return rows[0] ? toAllowedHost(rows[0]) : null;
}

/** Formats an entry as host or host:port, with IPv6 in brackets. */
export function formatAllowedHost(entry: Pick<AllowedHost, "host" | "port">): string {
  const host = net.isIPv6(entry.host) ? `[${entry.host}]` : entry.host;
  return entry.port === null ? host : `${host}:${entry.port}`;
}

// Link-local addresses, which include the cloud metadata endpoint
// 169.254.169.254, AWS's IPv6 metadata endpoint and Alibaba Cloud's
// 100.100.100.200. net.BlockList also matches IPv4-mapped IPv6 addresses
// such as ::ffff:169.254.169.254 against the IPv4 subnet.
const METADATA_ADDRESSES = new net.BlockList();
METADATA_ADDRESSES.addSubnet("169.254.0.0", 16, "ipv4");
METADATA_ADDRESSES.addAddress("100.100.100.200", "ipv4");
METADATA_ADDRESSES.addSubnet("fe80::", 10, "ipv6");
METADATA_ADDRESSES.addAddress("fd00:ec2::254", "ipv6");

// Google Cloud's metadata server names, which resolve to 169.254.169.254
// only inside Google Cloud. checkDestination refuses any name that
// resolves to a metadata address, so this list only rejects them early.
const METADATA_HOST_NAMES = new Set(["metadata.google.internal", "metadata"]);

/**
 * IPv6 prefixes whose last 32 bits carry an IPv4 address that a gateway or
 * the host's stack may connect to: NAT64 (64:ff9b::/96, RFC 6052) and
 * IPv4-compatible addresses (::/96, RFC 4291).
 */
const IPV4_EMBEDDING_PREFIXES = new net.BlockList();
IPV4_EMBEDDING_PREFIXES.addSubnet("64:ff9b::", 96, "ipv6");
IPV4_EMBEDDING_PREFIXES.addSubnet("::", 96, "ipv6");

/** Returns the IPv4 address in the last 32 bits of an IPv6 address. */
function embeddedIpv4(address: string): string {
  const groups = expandIpv6(address);
  const high = groups[6]!;
  const low = groups[7]!;
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
}

/** Expands an IPv6 address, with or without an IPv4 tail, to its 8 groups. */
function expandIpv6(address: string): number[] {
  let text = address;
  const ipv4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (ipv4Tail) {
    const octets = ipv4Tail[1]!.split(".").map(Number);
    text = `${text.slice(0, ipv4Tail.index)}${((octets[0]! << 8) | octets[1]!).toString(16)}:${((octets[2]! << 8) | octets[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const headGroups = head === "" ? [] : head!.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array(missing).fill("0"), ...tailGroups];
  return groups.map((group) => parseInt(group, 16));
}

/**
 * Checks whether an address is link-local or a cloud metadata endpoint,
 * also when it is written as an IPv4-mapped, IPv4-compatible or NAT64
 * IPv6 address of one.
 */
export function isMetadataAddress(address: string): boolean {
  if (net.isIPv4(address)) return METADATA_ADDRESSES.check(address, "ipv4");
  if (!net.isIPv6(address)) return false;
  if (METADATA_ADDRESSES.check(address, "ipv6")) return true;
  if (IPV4_EMBEDDING_PREFIXES.check(address, "ipv6")) {
    return METADATA_ADDRESSES.check(embeddedIpv4(address), "ipv4");
  }
  return false;
}

export type ResolveHost = (
  hostname: string,
) => Promise<Array<{ address: string; family: number }>>;

const systemResolve: ResolveHost = (hostname) =>
  lookup(hostname, { all: true, verbatim: true });

export type Destination =
  | {
      allowed: true;
      /** The checked addresses, in resolver order, that the request may connect to. */
      addresses: Array<{ address: string; family: 4 | 6 }>;
      /** The allowlist entry that allowed the host, as host or host:port. */
      entry: string;
    }
  | { allowed: false; reason: string }
  | { allowed: "unresolved"; reason: string };

function effectivePort(url: URL): number {
  if (url.port !== "") return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}

/**
 * Returns the entry that allows the URL's host and port, or undefined. This
 * is the list part of checkDestination, without resolving the host.
 */
export function findAllowedEntry(
  entries: ReadonlyArray<Pick<AllowedHost, "host" | "port">>,
  url: URL,
): Pick<AllowedHost, "host" | "port"> | undefined {
  const hostname = normalizeHost(url.hostname);
  const port = effectivePort(url);
  return entries.find(
    (candidate) =>
      candidate.host === hostname && (candidate.port === null || candidate.port === port),
  );
}

/**
 * Checks a request URL against the allowlist as it is now. Its host (and
 * port, for an entry with a port) must be on the list. No address the host
 * resolves to may be link-local or a metadata endpoint, not even one that
 * is on the list as an IP literal. Returns the addresses to connect to, or
 * why the request must not be sent. A host that does not resolve is
 * "unresolved", a failure worth retrying, not a refusal.
 */
export async function checkDestination(
  db: Queryable,
  url: URL,
  resolve: ResolveHost = systemResolve,
): Promise<Destination> {
  const hostname = normalizeHost(url.hostname);
  const port = effectivePort(url);
  if (hostname === null) {
    return { allowed: false, reason: `the URL's host ${url.hostname} is not a valid host` };
  }
  const entries = await listAllowedHosts(db);
  const entry = findAllowedEntry(entries, url);
  if (!entry) {
    const display = formatAllowedHost({ host: hostname, port });
    return {
      allowed: false,
      reason: `${display} is not on the runbook allowlist; an admin can add it under Settings, Runbook allowlist`,
    };
  }

  let addresses: Array<{ address: string; family: number }>;
  if (net.isIP(hostname)) {
    addresses = [{ address: hostname, family: net.isIPv6(hostname) ? 6 : 4 }];
  } else {
    try {
      addresses = await resolve(hostname);
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).message;
      return { allowed: "unresolved", reason: `could not resolve ${hostname}: ${code}` };
    }
    if (addresses.length === 0) {
      return { allowed: "unresolved", reason: `could not resolve ${hostname}: no addresses` };
    }
  }

  for (const { address } of addresses) {
    if (isMetadataAddress(address)) {
      return {
        allowed: false,
        reason:
          address === hostname
            ? `${hostname} is a link-local or cloud metadata address, which steps may never call, even when it is on the allowlist`
            : `${hostname} resolves to ${address}, a link-local or cloud metadata address, which steps may never call`,
      };
    }
  }
  return {
    allowed: true,
    addresses: addresses.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 })),
    entry: formatAllowedHost(entry),
  };
}
