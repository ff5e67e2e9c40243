// Envoy's notion of an "internal" downstream address (RFC 1918, loopback, RFC 4193
// unique-local): requests from such peers are treated as coming from inside, e.g. their
// x-request-id is preserved even when preserve_external_request_id is false.

export function isInternalAddress(ip: string): boolean {
  if (ip.includes(':')) {
    const lower = ip.toLowerCase();
    return lower === '::1' || lower.startsWith('fc') || lower.startsWith('fd');
  }
  const dot = ip.indexOf('.');
  const a = Number(ip.slice(0, dot));
  if (a === 10 || a === 127) return true;
  const b = Number(ip.slice(dot + 1, ip.indexOf('.', dot + 1)));
  return (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}
