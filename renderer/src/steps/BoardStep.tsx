// Step 2: the board and its RAM, the Xen version (with what it means on a Pi 4, and what Debian offers), and Dom0's memory and CPUs.
import { useState } from 'react';
import { boards, boardIds, domainMemoryLimit, ramLabel, type BoardId } from '../../../shared/boards';
import { defaultProfile } from '../../../shared/profile/defaults';
import { dom0MemoryLimitMb, fitDom0Memory, ramOnBoard, withBoardRam } from '../../../shared/profile/fit-memory';
import type { Profile } from '../../../shared/profile/schema';
import { checkXenVersion, xenVersions } from '../../../shared/xen-versions';
import { Field, NumberField, TextField } from '../components/Field';
import { XenOffersPanel } from '../components/XenOffersPanel';
import type { StepProps } from '../wizard/step-props';

/** Moves a profile to another board: its addresses, console and board files follow; the user's own files stay. */
export function switchBoard(draft: Profile, board: BoardId): Profile {
  if (draft.board === board) return draft;
  const from = defaultProfile(draft.board);
  const to = defaultProfile(board);
  const keep = (value: string | undefined, fromDefault: string | undefined, toDefault: string | undefined) =>
    value === fromDefault ? toDefault : value;
  const network =
    draft.boot.network?.method === 'static' && draft.boot.network.serverIp === from.boot.network?.serverIp
      ? to.boot.network
      : draft.boot.network;
  return fitDom0Memory({
    ...draft,
    board,
    ramMb: ramOnBoard(draft, board),
    name: draft.name === from.name ? to.name : draft.name,
    console: { ...draft.console, uart: to.console.uart },
    boot: {
      ...draft.boot,
      memoryStart: to.boot.memoryStart,
      memoryEnd: to.boot.memoryEnd,
      stage2Address: to.boot.stage2Address,
      ...(network && { network }),
    },
    deviceTree: keep(draft.deviceTree, from.deviceTree, to.deviceTree) ?? to.deviceTree,
    ubootBinary: keep(draft.ubootBinary, from.ubootBinary, to.ubootBinary),
  });
}

/** "Dom0 memory 1024 MB → 768 MB, to fit a 1 GB Raspberry Pi 4": said when a RAM or board change lowered it. */
function loweredNote(before: Profile, after: Profile): string {
  const was = before.dom0?.memoryMb;
  const now = after.dom0?.memoryMb;
  if (was === undefined || now === undefined || now >= was) return '';
  return `Dom0 memory lowered from ${was} MB to ${now} MB, the most that fits a ${ramLabel(domainMemoryLimit(boards[after.board], after.ramMb).ramMiB)} ${boards[after.board].name} in steps of 128 MB.`;
}

export function BoardStep({ wizard, validation }: StepProps) {
  const { draft } = wizard.state;
  const [fitNote, setFitNote] = useState('');
  const version = xenVersions.find((v) => v.version === draft.xen.version.trim());
  const check = checkXenVersion(draft.xen.version, draft.board);
  const dom0 = draft.dom0;
  const board = boards[draft.board];
  const memory = domainMemoryLimit(board, draft.ramMb);
  const dom0Limit = dom0MemoryLimitMb(draft);
  // the note is worked out from the draft the change starts from, so it says what this change did
  const change = (update: (d: Profile) => Profile) => {
    const after = update(draft);
    setFitNote(loweredNote(draft, after));
    wizard.edit(() => after);
  };
  return (
    <div>
      <fieldset>
        <legend>Board</legend>
        {boardIds.map((id) => (
          <label key={id} className="choice">
            <input
              type="radio"
              name="board"
              checked={draft.board === id}
              onChange={() => change((d) => switchBoard(d, id))}
              data-testid={`board-${id}`}
            />
            <span>
              {boards[id].name}
              <small>
                {id === 'rpi4'
                  ? 'The real board: the card boots U-Boot, then Xen.'
                  : 'Try a configuration on this computer before touching hardware (“Try in QEMU” on the Review step).'}
              </small>
            </span>
          </label>
        ))}
      </fieldset>

      <TextField
        label="Xen version"
        value={draft.xen.version}
        list="xen-versions"
        testId="xen-version"
        hint={version ? `Xen ${version.version} (${version.year}): ${version.notes}` : 'Xen 4.14 or newer is needed on a Raspberry Pi 4.'}
        problem={check.severity === 'ok' ? validation.at('$.xen.version') : { severity: check.severity, message: check.message }}
        onChange={(value) => wizard.edit((d) => ({ ...d, xen: { ...d.xen, version: value } }))}
      />
      <datalist id="xen-versions">
        {xenVersions.map((v) => (
          <option key={v.version} value={v.version}>{`${v.version} (${v.year})`}</option>
        ))}
      </datalist>
      <XenOffersPanel
        board={draft.board}
        chosen={draft.xen.version.trim()}
        onChoose={(v) => wizard.edit((d) => ({ ...d, xen: { ...d.xen, version: v } }))}
      />

      <h3>Memory and CPUs</h3>
      <div className="grid-2">
        <Field
          label="Board RAM"
          hint={`U-Boot declares ${memory.declaredMiB} MiB of it to Xen, which keeps about ${memory.declaredMiB - memory.limitMiB} MiB: Dom0 and the DomUs share ${memory.limitMiB} MiB.`}
          problem={validation.at('$.ramMb')}
        >
          {(aria) => (
            <select
              {...aria}
              value={memory.ramMiB}
              onChange={(e) => change((d) => withBoardRam(d, Number(e.target.value)))}
              data-testid="board-ram"
            >
              {board.ramSizesMiB.map((size) => (
                <option key={size} value={size}>
                  {ramLabel(size)}
                </option>
              ))}
            </select>
          )}
        </Field>
        {dom0 && (
          <NumberField
            label="Dom0 memory"
            unit="MiB"
            value={dom0.memoryMb}
            min={128}
            step={128}
            testId="dom0-memory"
            hint={`Passed to Xen as dom0_mem (by default a quarter of the board's RAM, so guests have room); the rest is free for guests.${dom0Limit !== undefined ? ` At most ${dom0Limit} MB fits on this board${draft.domUs.some((d) => !d.noBoot) ? ' next to the DomUs' : ''}.` : ''}`}
            problem={validation.at('$.dom0.memoryMb')}
            onChange={(memoryMb) => {
              setFitNote('');
              wizard.edit((d) => (d.dom0 ? { ...d, dom0: { ...d.dom0, memoryMb } } : d));
            }}
          />
        )}
      </div>
      <p role="status" className={fitNote ? 'notice' : 'sr-only'} data-testid="dom0-fit-note">
        {fitNote}
      </p>
      {dom0 ? (
        <div className="grid-2">
          <NumberField
            label="Dom0 vCPUs"
            value={dom0.vcpus}
            min={1}
            max={board.cpus}
            hint={`dom0_max_vcpus. The ${board.name} has ${board.cpus} CPUs.`}
            problem={validation.at('$.dom0.vcpus')}
            onChange={(vcpus) => wizard.edit((d) => (d.dom0 ? { ...d, dom0: { ...d.dom0, vcpus } } : d))}
          />
        </div>
      ) : (
        <p className="notice">This profile has no Dom0 (“true dom0less”): Xen starts only the DomUs it lists.</p>
      )}
    </div>
  );
}
