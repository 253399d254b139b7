/**
 * Listening TCP sockets on this (Linux) machine, read from /proc/net/tcp and /proc/net/tcp6: which local
 * address each listener is bound to. Inspection only: nothing here opens a connection.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';

export const canInspectSockets = existsSync('/proc/net/tcp') && existsSync('/proc/net/tcp6');

export interface ListeningSocket {
  family: 4 | 6;
  /** Dotted IPv4 or full (uncompressed) IPv6 text. */
  address: string;
  port: number;
  inode: string;
}

/** /proc/net/tcp* print each 32-bit word of an address in host byte order. */
function addressBytes(hex: string): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < hex.length; i += 8) {
    const word = [0, 2, 4, 6].map((j) => Number.parseInt(hex.slice(i + j, i + j + 2), 16));
    bytes.push(...(os.endianness() === 'LE' ? word.reverse() : word));
  }
  return bytes;
}

function format(bytes: number[]): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

/** Every socket in LISTEN state (st 0A). */
export function listeningSockets(): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const [file, family] of [
    ['/proc/net/tcp', 4],
    ['/proc/net/tcp6', 6],
  ] as const) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A') continue;
      const [addr, port] = cols[1]!.split(':') as [string, string];
      out.push({ family, address: format(addressBytes(addr)), port: Number.parseInt(port, 16), inode: cols[9]! });
    }
  }
  return out;
}

/** 127.0.0.0/8, ::1, or an IPv4-mapped 127.x address. Never the wildcard (0.0.0.0, ::). */
export function isLoopback(s: ListeningSocket): boolean {
  if (s.family === 4) return s.address.startsWith('127.');
  const g = s.address.split(':');
  const zeros = (n: number) => g.slice(0, n).every((x) => x === '0');
  if (zeros(7) && g[7] === '1') return true;
  return zeros(5) && g[5] === 'ffff' && Number.parseInt(g[6]!, 16) >> 8 === 127;
}

/** The socket inodes a process holds open (its own children's are readable). */
export function socketInodesOf(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  return inodes;
}
