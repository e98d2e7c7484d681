// A field for a file or folder path: typed (quotes and `~/` understood), chosen with Browse… (the native dialog in the
// desktop app, the page's own host-folder browser in browser mode), or dropped onto it (the desktop app knows the path).
import { useState, type DragEvent, type ReactNode } from 'react';
import type { PickRequest } from '../../../shared/api/files';
import { cleanTypedPath } from '../../../shared/text/typed-path';
import { droppedFilePath, hasNativeDialogs, pickWithNativeDialog } from '../actions';
import { useAppInfo } from './app-info';
import { asErrorData } from './ErrorNotice';
import { Field, type FieldProblem } from './Field';
import { FileBrowser } from './FileBrowser';

interface PathFieldProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  /** What Browse… looks for: a file to read, a folder, or a new file's place. */
  want: PickRequest['want'];
  extensions?: string[];
  hint?: ReactNode;
  problem?: FieldProblem | undefined;
  placeholder?: string;
  testId?: string;
}

export function PathField({ label, value, onChange, want, extensions, hint, problem, placeholder, testId }: PathFieldProps) {
  const info = useAppInfo();
  const [browsing, setBrowsing] = useState(false);
  const [note, setNote] = useState<FieldProblem | undefined>();
  const [dragging, setDragging] = useState(false);
  const request: PickRequest = {
    want,
    title: want === 'folder' ? `Choose a folder: ${label}` : `Choose ${label}`,
    ...(extensions && { extensions }),
    ...(value.trim() && { start: value.trim() }),
  };

  const set = (typed: string) => {
    setNote(undefined);
    onChange(cleanTypedPath(typed, info?.homeDir));
  };
  const browse = () => {
    setNote(undefined);
    if (!hasNativeDialogs) return setBrowsing(true);
    pickWithNativeDialog(request).then(
      (picked) => picked && onChange(picked),
      (reason: unknown) => setNote({ severity: 'error', message: asErrorData(reason).message }),
    );
  };
  const drop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const file = event.dataTransfer.files[0];
    if (!file) return;
    const path = droppedFilePath(file);
    if (path) set(path);
    else
      setNote({
        severity: 'warning',
        message: `The browser does not tell the app where “${file.name}” lives: choose it with Browse…, or type its path.`,
      });
  };

  return (
    <div
      className={`path-field${dragging ? ' dragging' : ''}`}
      onDragOver={(event) => {
        if (!event.dataTransfer.types.includes('Files')) return;
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={drop}
    >
      <Field label={label} hint={hint} problem={note ?? problem}>
        {(aria) => (
          <div className="path-row">
            <input
              {...aria}
              type="text"
              value={value}
              placeholder={placeholder}
              className="mono"
              data-testid={testId}
              spellCheck={false}
              onChange={(event) => set(event.target.value)}
            />
            <button
              type="button"
              className="secondary"
              onClick={browse}
              aria-label={`Browse for ${label}`}
              data-testid={testId && `${testId}-browse`}
            >
              Browse…
            </button>
          </div>
        )}
      </Field>
      {browsing && (
        <FileBrowser
          request={request}
          onClose={() => setBrowsing(false)}
          onPick={(path) => {
            setBrowsing(false);
            set(path);
          }}
        />
      )}
    </div>
  );
}
