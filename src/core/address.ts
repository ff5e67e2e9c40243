// Printing socket addresses the way Envoy does, for stats, logs and the admin API.

/** "ip:port", with IPv6 literals bracketed ("[::1]:80"). */
export function formatAddress(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** An IPv4-mapped IPv6 address ("::ffff:10.0.0.1", from dual-stack sockets) as plain IPv4. */
export function plainIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
