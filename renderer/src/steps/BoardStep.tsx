// Step 2: the board, the Xen version (with what it means on a Pi 4), and Dom0's memory and CPUs.
import { boards, boardIds, type BoardId } from '../../../shared/boards';
import { defaultProfile } from '../../../shared/profile/defaults';
import type { Profile } from '../../../shared/profile/schema';
import { checkXenVersion, xenVersions } from '../../../shared/xen-versions';
import { NumberField, TextField } from '../components/Field';
import type { StepProps } from '../wizard/Wizard';

/** Moves a profile to another board: its addresses, console and board files follow; the user's own files stay. */
export function switchBoard(draft: Profile, board: BoardId): Profile {
  if (draft.board === board) return draft;
  const from = defaultProfile(draft.board);
  const to = defaultProfile(board);
  const keep = (value: string | undefined, fromDefault: string | undefined, toDefault: string | undefined) => (value === fromDefault ? toDefault : value);
  const network = draft.boot.network?.method === 'static' && draft.boot.network.serverIp === from.boot.network?.serverIp ? to.boot.network : draft.boot.network;
  return {
    ...draft,
    board,
    name: draft.name === from.name ? to.name : draft.name,
    console: { ...draft.console, uart: to.console.uart },
    boot: { ...draft.boot, memoryStart: to.boot.memoryStart, memoryEnd: to.boot.memoryEnd, stage2Address: to.boot.stage2Address, ...(network && { network }) },
    deviceTree: keep(draft.deviceTree, from.deviceTree, to.deviceTree) ?? to.deviceTree,
    ubootBinary: keep(draft.ubootBinary, from.ubootBinary, to.ubootBinary),
  };
}

export function BoardStep({ wizard, validation }: StepProps) {
  const { draft } = wizard.state;
  const version = xenVersions.find((v) => v.version === draft.xen.version.trim());
  const check = checkXenVersion(draft.xen.version, draft.board);
  const dom0 = draft.dom0;
  return (
    <div>
      <fieldset>
        <legend>Board</legend>
        {boardIds.map((id) => (
          <label key={id} className="choice">
            <input type="radio" name="board" checked={draft.board === id} onChange={() => wizard.edit((d) => switchBoard(d, id))} data-testid={`board-${id}`} />
            <span>
              {boards[id].name}
              <small>{id === 'rpi4' ? 'The real board: the card boots U-Boot, then Xen.' : 'Try a configuration on this computer before touching hardware (“Try in QEMU” on the Review step).'}</small>
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

      {dom0 ? (
        <div className="grid-2">
          <NumberField
            label="Dom0 memory"
            unit="MiB"
            value={dom0.memoryMb}
            min={128}
            step={128}
            testId="dom0-memory"
            hint="Passed to Xen as dom0_mem. The rest is free for guests."
            problem={validation.at('$.dom0.memoryMb')}
            onChange={(memoryMb) => wizard.edit((d) => (d.dom0 ? { ...d, dom0: { ...d.dom0, memoryMb } } : d))}
          />
          <NumberField
            label="Dom0 vCPUs"
            value={dom0.vcpus}
            min={1}
            max={boards[draft.board].cpus}
            hint={`dom0_max_vcpus. The ${boards[draft.board].name} has ${boards[draft.board].cpus} CPUs.`}
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
