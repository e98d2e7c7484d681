// Offers to store a plain Dom0 kernel Image gzip'd (Xen decompresses it), and says how many bytes a gzip'd one saves every boot.
import { useState } from 'react';
import type { ComponentInfo, GzippedKernel } from '../../../shared/api/boot';
import type { ImagerErrorData } from '../../../shared/errors';
import { gzipKernel } from '../actions';
import { ErrorNotice } from './ErrorNotice';

const mib = (bytes: number) => (bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${Math.round(bytes / 1024)} KiB`);

export function KernelGzipOffer({
  file,
  info,
  onStored,
}: {
  file: string;
  info: ComponentInfo | undefined;
  onStored: (gzipped: GzippedKernel) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [stored, setStored] = useState<GzippedKernel>();
  const [error, setError] = useState<ImagerErrorData>();
  if (stored && stored.path === file) {
    return (
      <span className="ok block" data-testid="kernel-gzip-saved">
        Stored gzip’d: {mib(stored.originalSize)} → {mib(stored.size)}, {mib(stored.originalSize - stored.size)} less to load at every boot.
      </span>
    );
  }
  if (info?.kind === 'gzip' && info.size !== undefined && info.unpackedSize && info.unpackedSize > info.size) {
    return (
      <span className="block" data-testid="kernel-gzip-saved">
        Gzip’d: {mib(info.unpackedSize)} unpacked, {mib(info.unpackedSize - info.size)} less to load; Xen decompresses it.
      </span>
    );
  }
  if (info?.kind !== 'arm64-image') return null;
  const store = () => {
    setBusy(true);
    setError(undefined);
    gzipKernel(file)
      .then(
        (gzipped) => {
          setStored(gzipped);
          onStored(gzipped);
        },
        (failure: ImagerErrorData) => setError(failure),
      )
      .finally(() => setBusy(false));
  };
  return (
    <span className="block">
      <button type="button" className="secondary" onClick={store} disabled={busy} data-testid="kernel-gzip">
        {busy ? 'Compressing…' : 'Store it gzip’d'}
      </button>{' '}
      Xen decompresses a gzip’d Dom0 kernel itself: about a third of the bytes to load over TFTP or from the card.
      {error && <ErrorNotice error={error} onDismiss={() => setError(undefined)} />}
    </span>
  );
}
