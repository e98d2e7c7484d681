// Step 1: choose the path (Xen with U-Boot, or a ready-made image) and the profile to start from.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ProfileSummary } from '../../../shared/api';
import { PROFILE_IMPORT_MAX_BYTES } from '../../../shared/api/profiles';
import { ImagerError } from '../../../shared/errors';
import { boards, boardIds, type BoardId } from '../../../shared/boards';
import { defaultProfile } from '../../../shared/profile/defaults';
import { api } from '../api/client';
import { TextField } from '../components/Field';
import type { StepProps } from '../wizard/Wizard';

export function StartStep({ wizard, replaceDraft, showError }: StepProps) {
  const { state, setPath, setReadyImage, go } = wizard;
  const [profiles, setProfiles] = useState<ProfileSummary[] | undefined>();
  const [undo, setUndo] = useState<{ token: string; name: string } | undefined>();
  const [renaming, setRenaming] = useState<{ id: string; name: string } | undefined>();
  const fileInput = useRef<HTMLInputElement>(null);

  const refresh = useCallback(() => api.profilesList().then(setProfiles, showError), [showError]);
  useEffect(() => {
    void refresh();
    // profiles opened with the app (file argument, double-click) open straight away
    const openSummary = (summary: ProfileSummary) => {
      void refresh();
      replaceDraft(async () => {
        const loaded = await api.profileLoad(summary.id);
        return { profile: loaded.profile, savedId: loaded.id, saved: true };
      });
    };
    void api.profilePendingOpen().then((pending) => pending.forEach(openSummary), showError);
    return api.on('profile:opened', openSummary);
  }, [refresh, replaceDraft, showError]);

  const open = (summary: ProfileSummary) =>
    replaceDraft(async () => {
      const loaded = await api.profileLoad(summary.id);
      return { profile: loaded.profile, savedId: loaded.id, saved: loaded.migratedFrom === undefined };
    });

  const act = (work: Promise<unknown>) => void work.then(refresh, showError);

  const exportProfile = async (summary: ProfileSummary) => {
    const text = await api.profileExport(summary.id);
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    link.download = `${summary.id}.xenpi`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  };

  const importFile = async (file: File) => {
    // Refused here, before reading: a large file would not fit one message to the app.
    if (file.size > PROFILE_IMPORT_MAX_BYTES) {
      throw new ImagerError({
        code: 'FILE_TOO_LARGE',
        subject: file.name,
        message: `${file.name} is ${(file.size / 1e6).toFixed(1)} MB; a profile file is at most ${PROFILE_IMPORT_MAX_BYTES / 1e6} MB.`,
        hint: 'Choose a profile file the app exported (.xenpi) or saved (.json); they are a few kilobytes.',
      });
    }
    const summary = await api.profileImport(await file.text(), file.name);
    await refresh();
    open(summary);
  };

  return (
    <div>
      <fieldset>
        <legend>What do you want to do?</legend>
        <label className="choice">
          <input type="radio" name="path" checked={state.path === 'xen'} onChange={() => setPath('xen')} />
          <span>
            Set up Xen with U-Boot
            <small>Build the whole boot chain: config.txt, U-Boot, the two boot scripts, Xen, Dom0 — on the card or over TFTP.</small>
          </span>
        </label>
        <label className="choice">
          <input type="radio" name="path" checked={state.path === 'image'} onChange={() => setPath('image')} />
          <span>
            Flash a ready-made image
            <small>Write an image that already contains Xen, such as Project EVE’s live.raw for the Raspberry Pi 4, as it is.</small>
          </span>
        </label>
      </fieldset>

      {state.path === 'image' ? (
        <div>
          <TextField
            label="Image file or URL"
            value={state.readyImage.path}
            placeholder="/home/me/Downloads/live.raw"
            hint="A .img, .raw, .img.xz, .img.gz or .zip file on this computer, or an http(s) URL."
            monospace
            testId="ready-image"
            onChange={(path) => setReadyImage({ ...state.readyImage, path })}
          />
          <TextField
            label="SHA-256 (optional)"
            value={state.readyImage.sha256}
            hint="When given, the image is checked against it before anything is written."
            problem={state.readyImage.sha256 && !/^[0-9a-fA-F]{64}$/.test(state.readyImage.sha256) ? { severity: 'error', message: 'A SHA-256 is 64 hexadecimal digits.' } : undefined}
            monospace
            onChange={(sha256) => setReadyImage({ ...state.readyImage, sha256: sha256.trim() })}
          />
        </div>
      ) : (
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
                      return { profile: defaultProfile(id), saved: false };
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
              <button type="button" className="secondary" onClick={() => (act(api.profileRestore(undo.token)), setUndo(undefined))}>
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
                        act(api.profileRename(p.id, renaming.name));
                        setRenaming(undefined);
                      }}
                    >
                      <label htmlFor={`rename-${p.id}`} className="sr-only">
                        New name for {p.name}
                      </label>
                      <input id={`rename-${p.id}`} className="profile-name-input" value={renaming.name} autoFocus onChange={(e) => setRenaming({ id: p.id, name: e.target.value })} />
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
                    <button type="button" className="primary" disabled={p.status !== 'ok'} onClick={() => open(p)} aria-label={`Open ${p.name}`}>
                      Open
                    </button>
                    <button type="button" className="secondary" disabled={p.status !== 'ok'} onClick={() => setRenaming({ id: p.id, name: p.name })} aria-label={`Rename ${p.name}`}>
                      Rename
                    </button>
                    <button type="button" className="secondary" disabled={p.status !== 'ok'} onClick={() => act(api.profileDuplicate(p.id))} aria-label={`Duplicate ${p.name}`}>
                      Duplicate
                    </button>
                    <button type="button" className="secondary" disabled={p.status !== 'ok'} onClick={() => void exportProfile(p).catch(showError)} aria-label={`Export ${p.name}`}>
                      Export
                    </button>
                    <button
                      type="button"
                      className="danger"
                      aria-label={`Delete ${p.name}`}
                      onClick={() =>
                        act(
                          api.profileDelete(p.id).then(({ undoToken }) => {
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
      )}
    </div>
  );
}
