// Step 6: everything that will be written, before anything is — config.txt, both scripts, the memory map, the file lists.
import { useEffect, useState } from 'react';
import type { BootPreview } from '../../../shared/api/boot';
import type { Destination } from '../../../shared/boot/generate';
import { hexAddress } from '../../../shared/boot/address';
import { tftpTransferFor } from '../../../shared/boot/tftp-transfer';
import type { ImagerErrorData } from '../../../shared/errors';
import type { Profile } from '../../../shared/profile/schema';
import { fieldLabel } from '../../../shared/profile/field-words';
import { previewBoot } from '../actions';
import { asErrorData, ErrorNotice } from '../components/ErrorNotice';
import { ExportPanel } from '../components/ExportPanel';
import { QemuPanel } from '../components/QemuPanel';
import type { StepProps } from '../wizard/step-props';
import { STEPS, type StepId } from '../wizard/steps';
import { stepOfPath } from '../wizard/validation';

export function ReviewStep(props: StepProps) {
  const { wizard, validation } = props;
  const { draft } = wizard.state;
  const [preview, setPreview] = useState<BootPreview | undefined>();
  // the preview's own failure stays on this step and goes with the next preview, unlike a global error notice
  const [failure, setFailure] = useState<ImagerErrorData | undefined>();

  useEffect(() => {
    if (!validation.parses) return;
    let current = true;
    const timer = setTimeout(() => {
      previewBoot(draft).then(
        (result) => current && (setPreview(result), setFailure(undefined)),
        (reason: unknown) => current && setFailure(asErrorData(reason)),
      );
    }, 150);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [draft, validation.parses]);

  // a draft the host cannot read gets no preview: its problems, each with its field and step, are the review
  if (!validation.parses) return <ReviewProblems problems={validation.problems.filter((p) => p.severity === 'error')} go={wizard.go} />;
  if (failure) return <ErrorNotice error={failure} />;
  if (!preview) return <p>Generating…</p>;
  const textFiles = preview.files.filter((file) => file.preview !== undefined);
  const listed = (where: Destination): ListedFile[] => [
    ...preview.files.filter((f) => f.destination === where).map((f) => ({ name: f.name, size: f.size, what: f.description })),
    ...preview.components
      .filter((c) => c.destination === where)
      .map((c) => ({ name: c.target, size: c.size, what: roleWords(c.role, c.target) })),
  ];
  const tftpRoot = listed('tftp-root');
  const bootPartition = listed('boot-partition');

  return (
    <div data-testid="review">
      {preview.problems.length > 0 && <ReviewProblems problems={preview.problems} go={wizard.go} />}
      {preview.warnings.map((warning) => (
        <p key={warning} className="notice warn">
          {warning}
        </p>
      ))}

      {draft.boot.mode === 'tftp' && (
        <p className="notice" data-testid="review-tftp">
          {tftpSummary(draft)}
        </p>
      )}

      {textFiles.map((file) => (
        <section key={file.name} aria-label={file.name}>
          <div className="row">
            <h3>{file.name}</h3>
            {/* the description takes what is left of the row and wraps there: Copy stays beside the name */}
            <span className="field-hint grow">
              {file.description} · {file.destination === 'tftp-root' ? 'TFTP root' : 'boot partition'}
            </span>
            <button
              type="button"
              className="secondary"
              onClick={() => void navigator.clipboard?.writeText(file.preview ?? '')}
              aria-label={`Copy ${file.name}`}
            >
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

      {draft.boot.mode === 'tftp' ? (
        <div className="grid-2">
          <FileList title="Boot partition (SD card)" files={bootPartition} />
          <FileList title="TFTP root (this computer)" files={tftpRoot} />
        </div>
      ) : (
        <FileList title="Boot partition (SD card)" files={bootPartition} />
      )}
      <ExportPanel {...props} disabled={preview.problems.length > 0} />
      <QemuPanel {...props} disabledBecause={problemsFirst(preview.problems)} />
    </div>
  );
}

/** Who serves the Pi and how U-Boot fetches, from the settings stage 1 writes: "TFTP: this app's built-in server, …". */
function tftpSummary(draft: Profile): string {
  const transfer = tftpTransferFor(draft);
  const server = draft.boot.network?.serverIp ? ` at ${draft.boot.network.serverIp}` : ' (the one DHCP names)';
  const who =
    (draft.boot.tftp?.server ?? 'built-in') === 'built-in' ? `this app’s built-in server${server}` : `another TFTP server${server}`;
  const blocks = transfer.blocksize !== undefined ? `${transfer.blocksize}-byte blocks` : 'blocks of U-Boot’s own size';
  const window = (transfer.windowsize ?? 1) > 1 ? `in windows of ${transfer.windowsize}` : 'one at a time (lock-step)';
  const retry = transfer.timeoutMs !== undefined ? `, retrying after ${transfer.timeoutMs / 1000} s` : '';
  return `TFTP: ${who}; U-Boot fetches ${blocks} ${window}${retry}.`;
}

/** Why nothing can be tried yet, naming the fields: "Fix Device tree (Components step) first: …". */
function problemsFirst(problems: Array<{ path: string }>): string | undefined {
  if (problems.length === 0) return undefined;
  const byStep = new Map<string, Set<string>>();
  for (const p of problems) {
    const step = STEPS.find((s) => s.id === stepOfPath(p.path))!.title;
    byStep.set(step, (byStep.get(step) ?? new Set()).add(fieldLabel(p.path)));
  }
  const groups = [...byStep].map(([step, fields]) => `${[...fields].join(', ')} (${step} step)`);
  return `Fix ${groups.join('; ')} first: the list at the top of this step says what is wrong.`;
}

/** "Nothing can be generated until these are fixed", each problem under its field's name, which leads to its step. */
function ReviewProblems({ problems, go }: { problems: Array<{ path: string; message: string }>; go: (step: StepId) => void }) {
  return (
    <div className="notice error" role="alert" data-testid="review-problems">
      <p>
        <strong>Nothing can be generated until these are fixed:</strong>
      </p>
      <ul>
        {problems.map((p) => {
          const step = STEPS.find((s) => s.id === stepOfPath(p.path))!;
          return (
            <li key={p.path + p.message}>
              <button type="button" className="link" onClick={() => go(step.id)} data-testid="review-problem-field">
                {fieldLabel(p.path)}
              </button>{' '}
              <span className="field-hint">({step.title} step)</span>: {p.message}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

interface ListedFile {
  name: string;
  size: number | undefined;
  what: string;
}

/** What a component is for, in words; the two device trees of a fresh card especially, since they share a file name. */
function roleWords(role: string, target: string): string {
  if (role === 'device-tree') return 'The device tree Xen boots with (stage 2 loads it)';
  if (role === 'u-boot') return 'U-Boot, started by the firmware (config.txt: kernel=u-boot.bin)';
  if (role === 'xen') return 'Xen';
  if (role === 'dom0-kernel') return 'Dom0’s kernel';
  if (role === 'dom0-ramdisk') return 'Dom0’s ramdisk';
  if (role.startsWith('firmware'))
    return target.endsWith('.dtb') ? 'The tree the firmware hands to U-Boot (not the one Xen boots with)' : 'Raspberry Pi firmware';
  if (role.startsWith('overlay')) return 'Device-tree overlay';
  const domU = /^domU(\d+)-(kernel|ramdisk|passthrough-dtb)$/.exec(role);
  if (domU) return `DomU ${domU[1]}’s ${domU[2] === 'passthrough-dtb' ? 'passthrough tree' : domU[2]}`;
  return role;
}

function FileList({ title, files }: { title: string; files: ListedFile[] }) {
  return (
    <section aria-label={title}>
      <h3>{title}</h3>
      <table className="data files">
        <tbody>
          {files.map((file) => (
            <tr key={file.name}>
              <td>
                <code className="break">{file.name}</code>
                <span className="block field-hint">{file.what}</span>
              </td>
              <td className="num">{file.size === undefined ? 'missing' : file.size.toLocaleString('en')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
