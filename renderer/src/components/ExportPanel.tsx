// Export the generated files to a folder: DIR/boot for the card's boot partition, DIR/tftp for the TFTP root.
import { useState } from 'react';
import type { ExportResult } from '../../../shared/api/boot';
import { exportBootFiles } from '../actions';
import type { StepProps } from '../wizard/step-props';
import { PathField } from './PathField';

export function ExportPanel({ wizard, showError, disabled }: StepProps & { disabled: boolean }) {
  const [folder, setFolder] = useState('');
  const [result, setResult] = useState<ExportResult | undefined>();
  return (
    <section aria-labelledby="export-title">
      <h3 id="export-title">Export to a folder</h3>
      <div className="row export-row">
        <div className="grow">
          <PathField
            label="Folder (full path)"
            value={folder}
            want="folder"
            placeholder="/home/me/xen-boot"
            testId="export-folder"
            onChange={setFolder}
          />
        </div>
        <button
          type="button"
          className="secondary"
          disabled={disabled || !folder.trim()}
          onClick={() => void exportBootFiles(wizard.state.draft, folder).then(setResult, showError)}
        >
          Export
        </button>
      </div>
      {result && (
        <p role="status" className="field-hint" data-testid="export-result">
          Wrote {result.written.length} files to {result.dir}: {result.written.join(', ')}
        </p>
      )}
    </section>
  );
}
