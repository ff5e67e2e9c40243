// Where TLS certificates, keys and CA bundles come from. A SecretSource hands out the
// current material and tells its subscribers when it changed; consumers build a new
// SecureContext then, so new handshakes use the new material while established
// connections keep theirs.
//
// The file-backed source reads DataSource `filename`s (and inline values) once, then
// watches the directories holding the files: any change there re-reads every file, and
// subscribers hear of it only when some bytes differ. Watching the directory, not the
// file, also catches a file replaced by rename and Kubernetes' symlink swap of a mounted
// secret. A read that fails (a file briefly missing mid-rotation) keeps the old material;
// the next event tries again. The control plane will push secrets over SDS later: that is
// another SecretSource behind the same interface.

import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import type { CommonTlsContext, DataSource } from '../../config/model.js';

export interface CertificateMaterial {
  /** PEM certificate chain. */
  readonly certificateChain: Buffer;
  /** PEM private key. */
  readonly privateKey: Buffer;
}

export interface TlsMaterial {
  readonly certificates: readonly CertificateMaterial[];
  /** PEM CA bundle, or null when the context has no trusted_ca. */
  readonly trustedCa: Buffer | null;
}

export interface SecretSource {
  /** The latest material. */
  current(): TlsMaterial;
  /** `onChange` runs after the material changed. */
  subscribe(onChange: () => void): void;
  /** Stops watching. */
  close(): void;
}

/** Reads the context's DataSources now (throws with the file name when one cannot be read). */
export function readTlsMaterial(ctx: CommonTlsContext): TlsMaterial {
  return {
    certificates: ctx.tlsCertificates.map((c) => ({
      certificateChain: readDataSource(c.certificateChain),
      privateKey: readDataSource(c.privateKey),
    })),
    trustedCa:
      ctx.validationContext?.trustedCa == null ? null : readDataSource(ctx.validationContext.trustedCa),
  };
}

function readDataSource(ds: DataSource): Buffer {
  return ds.kind === 'inline' ? ds.value : readFileSync(ds.path);
}

function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  if (a.certificates.length !== b.certificates.length) return false;
  for (let i = 0; i < a.certificates.length; i++) {
    if (!a.certificates[i].certificateChain.equals(b.certificates[i].certificateChain)) return false;
    if (!a.certificates[i].privateKey.equals(b.certificates[i].privateKey)) return false;
  }
  if (a.trustedCa === null || b.trustedCa === null) return a.trustedCa === b.trustedCa;
  return a.trustedCa.equals(b.trustedCa);
}

/** Every `filename` of the context. */
function filesOf(ctx: CommonTlsContext): string[] {
  const out: string[] = [];
  const add = (ds: DataSource | null | undefined) => {
    if (ds != null && ds.kind === 'filename') out.push(ds.path);
  };
  for (const c of ctx.tlsCertificates) {
    add(c.certificateChain);
    add(c.privateKey);
  }
  add(ctx.validationContext?.trustedCa);
  return out;
}

class FileSecretSource implements SecretSource {
  private material: TlsMaterial;
  private readonly listeners: (() => void)[] = [];
  private readonly watchers: FSWatcher[] = [];
  private pending = false;
  private closed = false;

  constructor(
    private readonly ctx: CommonTlsContext,
    private readonly onError: (message: string) => void,
  ) {
    this.material = readTlsMaterial(ctx);
    const dirs = new Set(filesOf(ctx).map((f) => dirname(f)));
    for (const dir of dirs) {
      try {
        const w = watch(dir, { persistent: false }, () => this.schedule());
        w.on('error', (err) => this.onError(`watching ${dir}: ${err.message}`));
        this.watchers.push(w);
      } catch (err) {
        this.onError(`cannot watch ${dir} for certificate changes: ${(err as Error).message}`);
      }
    }
  }

  current(): TlsMaterial {
    return this.material;
  }

  subscribe(onChange: () => void): void {
    this.listeners.push(onChange);
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers) w.close();
    this.watchers.length = 0;
  }

  /** One re-read per burst of events (a rotation writes several files). */
  private schedule(): void {
    if (this.pending || this.closed) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      if (!this.closed) this.reread();
    });
  }

  private reread(): void {
    let next: TlsMaterial;
    try {
      next = readTlsMaterial(this.ctx);
    } catch {
      return; // mid-rotation; the event that completes it re-reads
    }
    if (sameMaterial(next, this.material)) return;
    this.material = next;
    for (const l of this.listeners) l();
  }
}

/**
 * A source over the context's files (watched) and inline values. Throws when a file
 * cannot be read now; `onError` hears of watch problems later.
 */
export function createFileSecretSource(
  ctx: CommonTlsContext,
  onError: (message: string) => void,
): SecretSource {
  return new FileSecretSource(ctx, onError);
}
