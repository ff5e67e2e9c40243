// `original_ip_detection_extensions` of the HTTP connection manager: how the trusted client
// address is found when a plain x-forwarded-for count does not fit the network in front
// (an L4 load balancer or CDN that puts the client in its own header). Envoy's two
// extensions, with its rule that they never mix with use_remote_address or
// xff_num_trusted_hops. The proxy side is src/proxy/http/client-address.ts.

import { type FieldReader, readMessage } from './fields.js';
import { readHttpStatus } from './http-status.js';
import type { OriginalIpDetection } from './model.js';
import { isHeaderName } from './validate-headers.js';

export const CUSTOM_HEADER_DETECTION_TYPE_URL =
  'type.googleapis.com/envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig';
export const XFF_DETECTION_TYPE_URL =
  'type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig';

/**
 * Reads `original_ip_detection_extensions` of the HCM `r`; null when absent or empty.
 * `useRemoteAddress` and `xffNumTrustedHops` are the HCM's, which the extensions exclude.
 */
export function readOriginalIpDetection(
  r: FieldReader,
  useRemoteAddress: boolean,
  xffNumTrustedHops: number,
): OriginalIpDetection[] | null {
  const items = r.list('original_ip_detection_extensions');
  if (items.length === 0) return null;
  if (useRemoteAddress)
    r.issue(
      'original_ip_detection_extensions',
      'original IP detection extensions and use_remote_address may not be mixed',
    );
  if (xffNumTrustedHops > 0)
    r.issue(
      'original_ip_detection_extensions',
      'original IP detection extensions and xff_num_trusted_hops may not be mixed',
    );
  const out: OriginalIpDetection[] = [];
  for (let i = 0; i < items.length; i++) {
    const e = readMessage(items[i], `${r.at('original_ip_detection_extensions')}[${i}]`, r.issues);
    e.string('name');
    const typed = e.requiredMessage('typed_config');
    const typeUrl = typed.string('@type');
    if (typeUrl === CUSTOM_HEADER_DETECTION_TYPE_URL) out.push(readCustomHeader(typed));
    else if (typeUrl === XFF_DETECTION_TYPE_URL) {
      out.push({ kind: 'xff', xffNumTrustedHops: typed.uint32('xff_num_trusted_hops', 0) });
      typed.done();
    } else {
      typed.issue(
        '@type',
        `unsupported original IP detection extension '${typeUrl ?? ''}'; supported: ${CUSTOM_HEADER_DETECTION_TYPE_URL}, ${XFF_DETECTION_TYPE_URL}`,
      );
      typed.ignoreRest();
    }
    e.done();
  }
  return out;
}

function readCustomHeader(c: FieldReader): OriginalIpDetection {
  const name = c.requiredString('header_name');
  if (name !== '' && !isHeaderName(name)) c.issue('header_name', `'${name}' is not a valid header name`);
  const trusted = c.boolean('allow_extension_to_set_address_as_trusted', false);
  const status = readHttpStatus(c, 'reject_with_status');
  c.done();
  return {
    kind: 'custom_header',
    headerName: name.toLowerCase(),
    trusted,
    // Envoy answers codes outside 400-511 with 403.
    rejectStatus: status === null ? null : status >= 400 && status <= 511 ? status : 403,
  };
}
