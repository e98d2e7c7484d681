// Step 5: TFTP or SD-only; the addresses stage 1 sets; who serves the Pi; and the built-in TFTP server with live transfers.
import { useState } from 'react';
import { boards } from '../../../shared/boards';
import { BUILT_IN_WINDOWSIZE, SAFE_BLOCKSIZE } from '../../../shared/boot/tftp-transfer';
import type { NetworkProfile, Profile } from '../../../shared/profile/schema';
import { NumberField, TextField } from '../components/Field';
import { TftpPanel } from '../components/TftpPanel';
import { OpenConsoleButton } from '../console/OpenConsoleButton';
import type { StepProps } from '../wizard/step-props';

type StaticNetwork = Extract<NetworkProfile, { method: 'static' }>;
type TftpTransferSettings = NonNullable<Profile['boot']['tftp']>;

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
          <TftpServerChoice {...props} />
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

/** Who serves the Pi, which decides what stage 1 asks of U-Boot's TFTP client; the window and block size on request. */
function TftpServerChoice({ wizard, validation }: StepProps) {
  const tftp = wizard.state.draft.boot.tftp;
  const server = tftp?.server ?? 'built-in';
  const setTftp = (patch: Partial<TftpTransferSettings>) =>
    wizard.edit((d) => {
      const next: TftpTransferSettings = { server: d.boot.tftp?.server ?? 'built-in', ...d.boot.tftp, ...patch };
      // an emptied number field goes back to the default, rather than staying in the profile as undefined
      for (const key of ['windowsize', 'blocksize'] as const) if (next[key] === undefined) delete next[key];
      return { ...d, boot: { ...d.boot, tftp: next } };
    });
  const given = (value: number) => (Number.isFinite(value) ? value : undefined);
  // open when the profile sets either size, and whenever one of them has a problem to show
  const [open, setOpen] = useState(tftp?.windowsize !== undefined || tftp?.blocksize !== undefined);
  const problem = validation.at('$.boot.tftp.windowsize') ?? validation.at('$.boot.tftp.blocksize');
  return (
    <>
      <fieldset>
        <legend>Which TFTP server will the Pi fetch from?</legend>
        <label className="choice">
          <input
            type="radio"
            name="tftp-server"
            checked={server === 'built-in'}
            data-testid="tftp-server-built-in"
            onChange={() => setTftp({ server: 'built-in' })}
          />
          <span>
            This app’s built-in server (fast: RFC 7440 windows)
            <small>
              Stage 1 has U-Boot take windows of {tftp?.windowsize ?? BUILT_IN_WINDOWSIZE} blocks of {tftp?.blocksize ?? SAFE_BLOCKSIZE}{' '}
              bytes and retry after 1 s. Start the server below.
            </small>
          </span>
        </label>
        <label className="choice">
          <input
            type="radio"
            name="tftp-server"
            checked={server === 'external'}
            data-testid="tftp-server-external"
            onChange={() => setTftp({ server: 'external' })}
          />
          <span>
            Another TFTP server (tftpd-hpa, dnsmasq…; lock-step, works with any)
            <small>
              Stage 1 keeps U-Boot’s own settings: one block per answer. Copy the TFTP root’s files (Review step) into that server’s folder.
            </small>
          </span>
        </label>
      </fieldset>
      <details className="advanced" open={open || problem !== undefined} onToggle={(e) => setOpen(e.currentTarget.open)}>
        <summary>Advanced: TFTP window and block size</summary>
        <div className="grid-2">
          <NumberField
            label="Window size"
            unit="blocks"
            value={tftp?.windowsize ?? Number.NaN}
            min={1}
            max={64}
            placeholder={server === 'built-in' ? `${BUILT_IN_WINDOWSIZE} (default)` : '1 (U-Boot’s default)'}
            testId="tftp-windowsize"
            hint="Blocks the server sends before U-Boot answers; lower it to 1 if transfers stall (a U-Boot built with the lwIP stack ignores it and fetches one block at a time)."
            problem={validation.at('$.boot.tftp.windowsize')}
            onChange={(value) => setTftp({ windowsize: given(value) })}
          />
          <NumberField
            label="Block size"
            unit="bytes"
            value={tftp?.blocksize ?? Number.NaN}
            min={512}
            max={SAFE_BLOCKSIZE}
            placeholder={`${SAFE_BLOCKSIZE} (default)`}
            testId="tftp-blocksize"
            hint={`Bytes in each block: lower it for a network with smaller packets (a VPN), and keep it at ${SAFE_BLOCKSIZE} or below, since larger blocks do not fit one Ethernet frame and need IP reassembly, which most U-Boots lack.`}
            problem={validation.at('$.boot.tftp.blocksize')}
            onChange={(value) => setTftp({ blocksize: given(value) })}
          />
        </div>
      </details>
    </>
  );
}
