// On the Start step: the saved profiles — open, rename, duplicate, export, delete with undo — import, and the defaults.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ProfileSummary } from '../../../shared/api';
import { boards, boardIds, type BoardId } from '../../../shared/boards';
import { defaultProfile } from '../../../shared/profile/defaults';
import {
  deleteProfile,
  downloadProfile,
  duplicateProfile,
  importProfileFile,
  listProfiles,
  loadProfile,
  onHostEvent,
  renameProfile,
  restoreProfile,
} from '../actions';
import type { StepProps } from '../wizard/step-props';

export function ProfileLibrary({ wizard, replaceDraft, showError }: Pick<StepProps, 'wizard' | 'replaceDraft' | 'showError'>) {
  const { go, state, markRenamed } = wizard;
  const [profiles, setProfiles] = useState<ProfileSummary[] | undefined>();
  const [undo, setUndo] = useState<{ token: string; name: string } | undefined>();
  const [renaming, setRenaming] = useState<{ id: string; name: string } | undefined>();
  const fileInput = useRef<HTMLInputElement>(null);

  const refresh = useCallback(() => listProfiles().then(setProfiles, showError), [showError]);
  useEffect(() => {
    void refresh();
    // a profile opened with the app (double-click, second instance) joins the list
    return onHostEvent('profile:opened', () => void refresh());
  }, [refresh]);

  const open = (summary: ProfileSummary, note?: string) =>
    replaceDraft(async () => {
      const loaded = await loadProfile(summary.id);
      const migrated =
        loaded.migratedFrom !== undefined ? ' It was made by an older version of the app: Save keeps it in today’s format.' : '';
      return {
        profile: loaded.profile,
        savedId: loaded.id,
        saved: loaded.migratedFrom === undefined,
        note: `${note ?? `Opened “${loaded.profile.name}”.`}${migrated} Its steps are open in the list on the left.`,
      };
    });

  const act = (work: Promise<unknown>) => void work.then(refresh, showError);

  const importFile = async (file: File) => {
    const summary = await importProfileFile(file);
    await refresh();
    open(
      summary,
      summary.renamedFrom === undefined
        ? `Imported and opened “${summary.name}”.`
        : `Imported “${summary.renamedFrom}” as “${summary.name}”: a saved profile already had that name, and both are kept.`,
    );
  };

  return (
    <>
      <fieldset>
        <legend>Start from a default</legend>
        <div className="row">
          {boardIds.map((id: BoardId) => (
            <button
              key={id}
              type="button"
              className="secondary"
              data-testid={`new-${id}`}
              onClick={() =>
                replaceDraft(async () => {
                  go('board');
                  return {
                    profile: defaultProfile(id),
                    saved: false,
                    note: `A new profile from the ${boards[id].name} defaults: Save keeps it.`,
                  };
                })
              }
            >
              New for {boards[id].name}
            </button>
          ))}
          <button type="button" className="secondary" onClick={() => fileInput.current?.click()}>
            Import a profile file…
          </button>
          <input
            ref={fileInput}
            type="file"
            accept=".xenpi,.json,application/json"
            className="sr-only"
            aria-label="Profile file to import"
            data-testid="import-profile"
            tabIndex={-1}
            onChange={(event) => {
              const file = event.target.files?.[0];
              event.target.value = '';
              if (file) importFile(file).catch(showError);
            }}
          />
        </div>
      </fieldset>

      <h3>Saved profiles</h3>
      {undo && (
        <div className="notice row" role="status">
          Deleted “{undo.name}”.
          <button type="button" className="secondary" onClick={() => (act(restoreProfile(undo.token)), setUndo(undefined))}>
            Undo
          </button>
        </div>
      )}
      {profiles === undefined ? (
        <p>Loading…</p>
      ) : profiles.length === 0 ? (
        <p className="field-hint">No saved profiles yet. Start from a default; Save keeps it here for next time.</p>
      ) : (
        <ul className="profile-list" aria-label="Saved profiles, most recent first" data-testid="profiles">
          {profiles.map((p) => (
            <li key={p.id} className={p.status === 'ok' ? undefined : 'damaged'}>
              {renaming?.id === p.id ? (
                <form
                  className="row"
                  onSubmit={(event) => {
                    event.preventDefault();
                    const name = renaming.name.trim();
                    // renaming the open profile renames the draft too, or the next Save would bring the old name back
                    act(renameProfile(p.id, name).then(() => p.id === state.savedId && markRenamed(name)));
                    setRenaming(undefined);
                  }}
                >
                  <label htmlFor={`rename-${p.id}`} className="sr-only">
                    New name for {p.name}
                  </label>
                  <input
                    id={`rename-${p.id}`}
                    className="profile-name-input"
                    value={renaming.name}
                    autoFocus
                    onChange={(e) => setRenaming({ id: p.id, name: e.target.value })}
                  />
                  <button type="submit" className="primary" disabled={!renaming.name.trim()}>
                    Rename
                  </button>
                  <button type="button" className="secondary" onClick={() => setRenaming(undefined)}>
                    Cancel
                  </button>
                </form>
              ) : (
                <span>
                  <span className="name">{p.name}</span>{' '}
                  {p.id === state.savedId && (
                    <span className="badge" data-testid="open-now">
                      open now
                    </span>
                  )}{' '}
                  <span className="meta">
                    {p.description} · {new Date(p.modified).toLocaleString()}
                  </span>
                  {p.status !== 'ok' && (
                    <span className="field-problem error block">
                      {p.status === 'unsupported' ? 'Made by a newer version of the app: ' : 'Damaged, kept as it is: '}
                      {p.problem}
                    </span>
                  )}
                </span>
              )}
              <span className="actions">
                <button
                  type="button"
                  className="primary"
                  disabled={p.status !== 'ok'}
                  onClick={() => open(p)}
                  aria-label={`Open ${p.name}`}
                >
                  Open
                </button>
                <button
                  type="button"
                  className="secondary"
                  disabled={p.status !== 'ok'}
                  onClick={() => setRenaming({ id: p.id, name: p.name })}
                  aria-label={`Rename ${p.name}`}
                >
                  Rename
                </button>
                <button
                  type="button"
                  className="secondary"
                  disabled={p.status !== 'ok'}
                  onClick={() => act(duplicateProfile(p.id))}
                  aria-label={`Duplicate ${p.name}`}
                >
                  Duplicate
                </button>
                <button
                  type="button"
                  className="secondary"
                  disabled={p.status !== 'ok'}
                  onClick={() => void downloadProfile(p).catch(showError)}
                  aria-label={`Export ${p.name}`}
                >
                  Export
                </button>
                <button
                  type="button"
                  className="danger"
                  aria-label={`Delete ${p.name}`}
                  onClick={() =>
                    act(
                      deleteProfile(p.id).then(({ undoToken }) => {
                        setUndo({ token: undoToken, name: p.name });
                      }),
                    )
                  }
                >
                  Delete
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
