// Browser mode's file dialog: host folders listed through the contract (confined to the places the host names), for
// choosing a file, a folder, or where a new file goes. The desktop app uses the native dialog instead.
import { useEffect, useRef, useState } from 'react';
import type { FolderListing, PickRequest } from '../../../shared/api/files';
import { formatDriveSize } from '../../../shared/drives/types';
import type { ImagerErrorData } from '../../../shared/errors';
import { listHostFolder } from '../actions';
import { asErrorData, ErrorNotice } from './ErrorNotice';

interface FileBrowserProps {
  request: PickRequest;
  onPick: (path: string) => void;
  onClose: () => void;
}

function folderOf(start: string | undefined): string | undefined {
  const value = start?.trim();
  if (!value || !value.includes('/')) return undefined;
  return value.endsWith('/') ? value : value.slice(0, value.lastIndexOf('/')) || '/';
}

export function FileBrowser({ request, onPick, onClose }: FileBrowserProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [listing, setListing] = useState<FolderListing | undefined>();
  const [error, setError] = useState<ImagerErrorData | undefined>();
  const [typed, setTyped] = useState('');
  const [newName, setNewName] = useState(request.want === 'new-file' ? (request.start?.split('/').pop() ?? '') : '');

  const open = (folder?: string) =>
    listHostFolder(folder).then(
      (result) => {
        setListing(result);
        setTyped(result.path);
        setError(undefined);
      },
      (reason: unknown) => setError(asErrorData(reason)),
    );

  useEffect(() => {
    dialog.current?.showModal();
    // start where the field points when the host may show it, else at home
    listHostFolder(folderOf(request.start))
      .catch(() => listHostFolder())
      .then(
        (result) => {
          setListing(result);
          setTyped(result.path);
        },
        (reason: unknown) => setError(asErrorData(reason)),
      );
  }, [request.start]);

  const choose = (path: string) => {
    dialog.current?.close();
    onPick(path);
  };
  const wantsFolder = request.want === 'folder';

  return (
    <dialog
      ref={dialog}
      className="confirm file-browser"
      aria-labelledby="file-browser-title"
      onCancel={(event) => (event.preventDefault(), onClose())}
      data-testid="file-browser"
    >
      <h2 id="file-browser-title">{request.title}</h2>
      <p className="field-hint">
        Files on the computer running the app
        {request.extensions?.length ? `; usually ${request.extensions.map((e) => `.${e}`).join(', ')}` : ''}.
      </p>
      <form
        className="row"
        onSubmit={(event) => {
          event.preventDefault();
          void open(typed);
        }}
      >
        <label htmlFor="file-browser-path" className="sr-only">
          Folder
        </label>
        <input
          id="file-browser-path"
          className="mono grow path-input"
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          spellCheck={false}
        />
        <button type="submit" className="secondary">
          Go
        </button>
      </form>
      <div className="file-browser-body">
        <nav aria-label="Places" className="places">
          {listing?.places.map((place) => (
            <button key={place.path} type="button" className="link block" onClick={() => void open(place.path)} title={place.path}>
              {place.label}
            </button>
          ))}
        </nav>
        <div className="grow">
          {error && <ErrorNotice error={error} />}
          {listing && (
            <ul className="entries" aria-label={`In ${listing.path}`} data-testid="file-browser-entries">
              {listing.parent && (
                <li>
                  <button type="button" className="entry" onClick={() => void open(listing.parent)}>
                    ↑ Up to {listing.parent}
                  </button>
                </li>
              )}
              {listing.entries.map((entry) => (
                <li key={entry.path}>
                  {entry.kind === 'folder' ? (
                    <button type="button" className="entry" onClick={() => void open(entry.path)} aria-label={`Folder ${entry.name}`}>
                      {entry.name}/
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="entry"
                      disabled={request.want !== 'file'}
                      onClick={() => choose(entry.path)}
                      aria-label={`File ${entry.name}`}
                    >
                      {entry.name} <span className="meta">{entry.size !== undefined && formatDriveSize(entry.size)}</span>
                    </button>
                  )}
                </li>
              ))}
              {listing.entries.length === 0 && <li className="field-hint">Nothing here.</li>}
              {listing.truncated && (
                <li className="field-hint">Only the first {listing.entries.length} entries are shown: type a narrower folder above.</li>
              )}
            </ul>
          )}
        </div>
      </div>
      {request.want === 'new-file' && listing && (
        <div className="row">
          <label htmlFor="file-browser-name">File name</label>
          <input
            id="file-browser-name"
            className="mono grow path-input"
            value={newName}
            onChange={(e) => setNewName(e.target.value)}
            spellCheck={false}
          />
        </div>
      )}
      <div className="row confirm-actions">
        <button type="button" className="secondary" onClick={() => (dialog.current?.close(), onClose())}>
          Cancel
        </button>
        {wantsFolder && listing && (
          <button type="button" className="primary" onClick={() => choose(listing.path)} data-testid="file-browser-choose-folder">
            Choose this folder
          </button>
        )}
        {request.want === 'new-file' && listing && (
          <button
            type="button"
            className="primary"
            disabled={!newName.trim() || newName.includes('/')}
            onClick={() => choose(`${listing.path.replace(/\/$/, '')}/${newName.trim()}`)}
          >
            Save here
          </button>
        )}
      </div>
    </dialog>
  );
}
