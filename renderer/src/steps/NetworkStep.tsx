// Step 5: TFTP or SD-only; the addresses stage 1 sets; and the built-in TFTP server with live transfers.
import { boards } from '../../../shared/boards';
import type { NetworkProfile, Profile } from '../../../shared/profile/schema';
import { TextField } from '../components/Field';
import { TftpPanel } from '../components/TftpPanel';
import { OpenConsoleButton } from '../console/OpenConsoleButton';
import type { StepProps } from '../wizard/step-props';

type StaticNetwork = Extract<NetworkProfile, { method: 'static' }>;

export function NetworkStep(props: StepProps) {
  const { wizard, validation } = props;
  const { draft } = wizard.state;
  const board = boards[draft.board];
  const network = draft.boot.network;
  const setBoot = (patch: Partial<Profile['boot']>) => wizard.edit((d) => ({ ...d, boot: { ...d.boot, ...patch } }));
  const setStatic = (patch: Partial<StaticNetwork>) =>
    wizard.edit((d) => (d.boot.network?.method === 'static' ? { ...d, boot: { ...d.boot, network: { ...d.boot.network, ...patch } } } : d));
  const optional = (value: string) => (value.trim() ? value.trim() : undefined);

  return (
    <div>
      <fieldset>
        <legend>How stage 1 gets the rest</legend>
        <label className="choice">
          <input
            type="radio"
            name="mode"
            checked={draft.boot.mode === 'tftp'}
            data-testid="mode-tftp"
            onChange={() => setBoot({ mode: 'tftp', network: network ?? { method: 'dhcp' } })}
          />
          <span>
            Network boot (TFTP)
            <small>
              The card holds only U-Boot and stage 1; Xen, Dom0 and the device tree come from this computer. Change them without touching
              the card.
            </small>
          </span>
        </label>
        <label className="choice">
          <input
            type="radio"
            name="mode"
            checked={draft.boot.mode === 'sd'}
            data-testid="mode-sd"
            onChange={() => setBoot({ mode: 'sd' })}
          />
          <span>
            SD card only
            <small>
              Everything goes on the card’s boot partition ({board.sdLoadCommand}: the card U-Boot found boot.scr on). No server needed.
            </small>
          </span>
        </label>
      </fieldset>

      {draft.boot.mode === 'tftp' && (
        <>
          <fieldset>
            <legend>Board address</legend>
            <label className="choice">
              <input
                type="radio"
                name="method"
                checked={network?.method === 'static'}
                data-testid="method-static"
                onChange={() =>
                  setBoot({
                    network: {
                      method: 'static',
                      serverIp: network?.serverIp ?? board.defaultServerIp ?? '',
                      boardIp: '',
                      netmask: '255.255.255.0',
                    } as StaticNetwork,
                  })
                }
              />
              <span>
                Static address
                <small>Stage 1 sets ipaddr and serverip itself: fast, and no DHCP server needed.</small>
              </span>
            </label>
            <label className="choice">
              <input
                type="radio"
                name="method"
                checked={network?.method === 'dhcp'}
                data-testid="method-dhcp"
                onChange={() => setBoot({ network: { method: 'dhcp', ...(network?.serverIp && { serverIp: network.serverIp }) } })}
              />
              <span>
                DHCP
                <small>Stage 1 runs dhcp; the TFTP server address can still be set here.</small>
              </span>
            </label>
          </fieldset>

          <div className="grid-2">
            <TextField
              label="TFTP server address"
              value={network?.serverIp ?? ''}
              monospace
              list="local-addresses"
              testId="server-ip"
              hint={
                board.defaultServerIp
                  ? `This computer as the board sees it. Under QEMU use ${board.defaultServerIp}: QEMU hands it to this computer.`
                  : 'This computer as the board sees it: one of its addresses on the Pi’s network.'
              }
              problem={validation.at('$.boot.network.serverIp')}
              onChange={(value) =>
                wizard.edit((d) => {
                  const n = d.boot.network;
                  if (!n) return d;
                  return {
                    ...d,
                    boot: {
                      ...d.boot,
                      network:
                        n.method === 'static'
                          ? { ...n, serverIp: value.trim() }
                          : { method: 'dhcp', ...(optional(value) && { serverIp: value.trim() }) },
                    },
                  };
                })
              }
            />
            {network?.method === 'static' && (
              <>
                <TextField
                  label="Board address (ipaddr)"
                  value={network.boardIp}
                  monospace
                  testId="board-ip"
                  problem={validation.at('$.boot.network.boardIp')}
                  onChange={(value) => setStatic({ boardIp: value.trim() })}
                />
                <TextField
                  label="Netmask (optional)"
                  value={network.netmask ?? ''}
                  monospace
                  placeholder="255.255.255.0"
                  problem={validation.at('$.boot.network.netmask')}
                  onChange={(value) => setStatic({ netmask: optional(value) })}
                />
                <TextField
                  label="Gateway (optional)"
                  value={network.gateway ?? ''}
                  monospace
                  hint="Only when the server is on another subnet."
                  problem={validation.at('$.boot.network.gateway')}
                  onChange={(value) => setStatic({ gateway: optional(value) })}
                />
              </>
            )}
          </div>
          {validation.at('$.boot.network') && <p className="notice error">{validation.at('$.boot.network')!.message}</p>}
          <TftpPanel {...props} />
          <p className="row">
            With the server running, watch the board ask for each file beside its console:{' '}
            <OpenConsoleButton baud={draft.console.baud} testId="network-open-console" />
          </p>
        </>
      )}
    </div>
  );
}
