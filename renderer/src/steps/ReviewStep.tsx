// Step 6: everything that will be written, before anything is — config.txt, both scripts, the memory map, the file lists.
import { useEffect, useState } from 'react';
import type { BootPreview } from '../../../shared/api/boot';
import { hexAddress } from '../../../shared/boot/address';
import { api } from '../api/client';
import { ExportPanel } from '../components/ExportPanel';
import { QemuPanel } from '../components/QemuPanel';
import type { StepProps } from '../wizard/Wizard';

export function ReviewStep(props: StepProps) {
  const { wizard, showError } = props;
  const { draft } = wizard.state;
  const [preview, setPreview] = useState<BootPreview | undefined>();

  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      api.bootPreview(draft).then((result) => current && setPreview(result), showError);
    }, 150);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [draft, showError]);

  if (!preview) return <p>Generating…</p>;
  const textFiles = preview.files.filter((file) => file.preview !== undefined);
  const tftpRoot = [...preview.files.filter((f) => f.destination === 'tftp-root').map((f) => ({ name: f.name, size: f.size })), ...preview.components.filter((c) => c.destination === 'tftp-root').map((c) => ({ name: c.target, size: c.size }))];
  const bootPartition = [...preview.files.filter((f) => f.destination === 'boot-partition').map((f) => ({ name: f.name, size: f.size })), ...preview.components.filter((c) => c.destination === 'boot-partition').map((c) => ({ name: c.target, size: c.size }))];

  return (
    <div data-testid="review">
      {preview.problems.length > 0 && (
        <div className="notice error" role="alert" data-testid="review-problems">
          <p>
            <strong>Nothing can be generated until these are fixed:</strong>
          </p>
          <ul>
            {preview.problems.map((p) => (
              <li key={p.path + p.message}>
                {p.message} <code className="field-hint">{p.path}</code>
              </li>
            ))}
          </ul>
        </div>
      )}
      {preview.warnings.map((warning) => (
        <p key={warning} className="notice warn">
          {warning}
        </p>
      ))}

      {textFiles.map((file) => (
        <section key={file.name} aria-label={file.name}>
          <div className="row">
            <h3>{file.name}</h3>
            <span className="field-hint">
              {file.description} · {file.destination === 'tftp-root' ? 'TFTP root' : 'boot partition'}
            </span>
            <span className="header-spacer" />
            <button type="button" className="secondary" onClick={() => void navigator.clipboard?.writeText(file.preview ?? '')} aria-label={`Copy ${file.name}`}>
              Copy
            </button>
          </div>
          <pre className="code-block" tabIndex={0} data-testid={`preview-${file.name}`}>
            {file.preview}
          </pre>
        </section>
      ))}

      {preview.memoryMap.length > 0 && (
        <>
          <h3>Memory map</h3>
          <table className="data" data-testid="memory-map">
            <thead>
              <tr>
                <th>File</th>
                <th className="num">Address</th>
                <th className="num">Size</th>
                <th className="num">End</th>
              </tr>
            </thead>
            <tbody>
              {preview.memoryMap.map((entry) => (
                <tr key={entry.file + entry.address}>
                  <td>
                    <code>{entry.file}</code>
                  </td>
                  <td className="num">{hexAddress(entry.address)}</td>
                  <td className="num">{entry.size.toLocaleString('en')}</td>
                  <td className="num">{hexAddress(entry.end)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}

      <div className="grid-2">
        <FileList title="Boot partition (SD card)" files={bootPartition} />
        {draft.boot.mode === 'tftp' && <FileList title="TFTP root (this computer)" files={tftpRoot} />}
      </div>
      <ExportPanel {...props} disabled={preview.problems.length > 0} />
      <QemuPanel {...props} disabled={preview.problems.length > 0} />
    </div>
  );
}

function FileList({ title, files }: { title: string; files: Array<{ name: string; size: number | undefined }> }) {
  return (
    <section aria-label={title}>
      <h3>{title}</h3>
      <table className="data">
        <tbody>
          {files.map((file) => (
            <tr key={file.name}>
              <td>
                <code>{file.name}</code>
              </td>
              <td className="num">{file.size === undefined ? 'missing' : file.size.toLocaleString('en')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
