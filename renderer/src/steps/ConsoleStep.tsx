// Step 4: the serial console — which UART, its speed, sync_console and log levels — with the lines they produce, live.
import { boards, consoleUart, type UartChoice } from '../../../shared/boards';
import { BAUD_RATES, configTxtWantedFor, mergeConfigTxt } from '../../../shared/boot/config-txt';
import { dom0CommandLineFor, xenCommandLineFor } from '../../../shared/boot/generate';
import type { Profile } from '../../../shared/profile/schema';
import { Field, TextField } from '../components/Field';
import type { StepProps } from '../wizard/step-props';

const LOG_LEVELS = ['default', 'error', 'warning', 'info', 'debug', 'all'] as const;

export function ConsoleStep({ wizard, validation }: StepProps) {
  const { draft } = wizard.state;
  const board = boards[draft.board];
  const setConsole = (patch: Partial<Profile['console']>) => wizard.edit((d) => ({ ...d, console: { ...d.console, ...patch } }));
  const configLines = board.usesConfigTxt ? mergeConfigTxt(undefined, configTxtWantedFor(draft)).text.trim() : undefined;
  const dom0Line = dom0CommandLineFor(draft);
  const uarts = Object.entries(board.uarts) as Array<[UartChoice, NonNullable<(typeof board.uarts)[UartChoice]>]>;

  return (
    <div>
      <fieldset>
        <legend>Console UART</legend>
        {uarts.map(([choice, uart]) => (
          <label key={choice} className="choice">
            <input
              type="radio"
              name="uart"
              checked={consoleUart(board, draft.console.uart) === uart}
              onChange={() => setConsole({ uart: choice })}
              data-testid={`uart-${choice}`}
            />
            <span>
              {uart.label} — <code>dtuart={uart.dtuart}</code>
              <small>
                {choice === 'mini'
                  ? 'Pins 8 (TX) and 10 (RX) with ground on pin 6. enable_uart=1 fixes the core clock so the baud rate holds. Xen finds it by path, which stays right when a tree swaps serial0 and serial1.'
                  : uart.needsDisableBt
                    ? 'The full UART on the same pins; Bluetooth loses it (dtoverlay=disable-bt). Steadier at high speed.'
                    : 'The emulated board’s only UART.'}
              </small>
            </span>
          </label>
        ))}
      </fieldset>

      <div className="grid-2">
        <Field
          label="Baud rate"
          hint="Set once, in config.txt (init_uart_baud): U-Boot and Xen keep the rate the Pi firmware sets, and Dom0 talks through Xen (hvc0)."
          problem={validation.at('$.console.baud')}
        >
          {(aria) => (
            <select {...aria} value={draft.console.baud} onChange={(e) => setConsole({ baud: Number(e.target.value) })}>
              {BAUD_RATES.map((rate) => (
                <option key={rate} value={rate}>
                  {rate}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Xen log level (loglvl)" hint="How much Xen prints about itself.">
          {(aria) => (
            <select
              {...aria}
              value={draft.console.logLevel}
              onChange={(e) => setConsole({ logLevel: e.target.value as Profile['console']['logLevel'] })}
            >
              {LOG_LEVELS.map((level) => (
                <option key={level}>{level}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Guest log level (guest_loglvl)" hint="How much Xen prints about guests.">
          {(aria) => (
            <select
              {...aria}
              value={draft.console.guestLogLevel}
              onChange={(e) => setConsole({ guestLogLevel: e.target.value as Profile['console']['guestLogLevel'] })}
            >
              {LOG_LEVELS.map((level) => (
                <option key={level}>{level}</option>
              ))}
            </select>
          )}
        </Field>
        <div className="field">
          <span className="fieldset-label">Debugging</span>
          <label className="choice">
            <input
              type="checkbox"
              checked={draft.console.syncConsole}
              onChange={(e) => setConsole({ syncConsole: e.target.checked })}
              data-testid="sync-console"
            />
            <span>
              sync_console
              <small>Xen flushes every character before going on: you see the last line before a crash. Slows the boot.</small>
            </span>
          </label>
        </div>
      </div>

      <TextField
        label="Extra Xen options"
        value={draft.xen.extraArgs}
        monospace
        hint="Words appended to the Xen command line, e.g. iommu=no."
        problem={validation.at('$.xen.extraArgs')}
        onChange={(extraArgs) => wizard.edit((d) => ({ ...d, xen: { ...d.xen, extraArgs } }))}
      />
      {draft.dom0 && (
        <TextField
          label="Dom0 command line (leave empty for the default)"
          value={draft.dom0.commandLine ?? ''}
          monospace
          hint="Dom0’s console under Xen is hvc0."
          problem={validation.at('$.dom0.commandLine')}
          onChange={(commandLine) =>
            wizard.edit((d) => (d.dom0 ? { ...d, dom0: { ...d.dom0, commandLine: commandLine || undefined } } : d))
          }
        />
      )}

      <h3>What this produces</h3>
      {configLines !== undefined && (
        <>
          <p className="field-hint">
            config.txt (merged into the card’s own; your other lines stay). enable_gic=1 keeps interrupts on the GIC-400, the only
            controller Xen drives:
          </p>
          <pre className="code-block" tabIndex={0} data-testid="config-lines">
            {configLines}
          </pre>
        </>
      )}
      <p className="field-hint">Xen command line:</p>
      <pre className="code-block" tabIndex={0} data-testid="xen-cmdline">
        {xenCommandLineFor(draft)}
      </pre>
      {dom0Line && (
        <>
          <p className="field-hint">Dom0 command line:</p>
          <pre className="code-block" tabIndex={0} data-testid="dom0-cmdline">
            {dom0Line}
          </pre>
        </>
      )}
      <p className="field-hint">
        Connect a 3.3 V USB serial adapter at {draft.console.baud} 8N1. Xen switches the console between itself and Dom0 when you press
        Ctrl-A three times.
      </p>
    </div>
  );
}
