// Merges what the boot chain needs into a Raspberry Pi config.txt: keeps every user line, replaces conflicts, idempotent.
import { unifiedLineDiff } from '../text/line-diff';

export interface ConfigTxtWanted {
  /** 'mini' = serial1 on GPIO 14/15 (enable_uart=1); 'pl011' = serial0, which needs Bluetooth moved off it (disable-bt). */
  consoleUart: 'mini' | 'pl011';
  /** The file the firmware starts instead of Linux; default u-boot.bin. */
  kernel?: string;
  /** The console's baud rate: the firmware programs the UART at it, and U-Boot and Xen keep what they find. Default 115200. */
  baud?: number;
  /** Further single-valued settings to enforce, e.g. { gpu_mem: '16' }. */
  settings?: Record<string, string>;
}

export interface ConfigTxtMerge {
  text: string;
  /** Unified diff of the change ('' when nothing changed). */
  diff: string;
  changed: boolean;
}

/** The rate U-Boot, Xen and Linux use unless told otherwise. */
export const DEFAULT_BAUD = 115200;
/** The rates offered: standard ones the Pi's UARTs reach from their fixed clocks. */
export const BAUD_RATES = [115200, 230400, 460800, 921600, 57600, 38400, 19200, 9600];

export const CONFIG_TXT_MARKER = '# Added by Xen Pi Imager: start U-Boot (then Xen) in 64-bit mode with a serial console';
const PI4_MODELS = new Set(['all', 'pi4', 'pi400', 'cm4']);
const MODEL_FILTER = /^(pi\d.*|cm\d.*|none)$/i;
const DISABLE_BT = new Set(['disable-bt', 'pi3-disable-bt']);
const MINIUART_BT = new Set(['miniuart-bt', 'pi3-miniuart-bt']);

interface Line {
  text: string;
  /** Whether the firmware reads this line on a Pi 4 (the section filters allow it). */
  forPi4: boolean;
  key?: string;
  value?: string;
}

interface Parsed {
  lines: Line[];
  /** Whether lines appended at the end would apply to every board (no filter open). */
  endsInAll: boolean;
}

function parse(text: string): Parsed {
  let model = 'all';
  let conditional = false;
  const lines = text.split(/\r?\n/).map((raw): Line => {
    const filter = /^\s*\[([^\]]*)\]\s*$/.exec(raw);
    if (filter) {
      const name = filter[1]!.trim().toLowerCase();
      if (name === 'all') [model, conditional] = ['all', false];
      else if (MODEL_FILTER.test(name)) model = name;
      else conditional = true; // [HDMI:1], [EDID=...], [gpio4=1], [0x...], [tryboot]: only sometimes
      return { text: raw, forPi4: false };
    }
    const forPi4 = PI4_MODELS.has(model) && !conditional;
    const setting = /^\s*([A-Za-z0-9_.+-]+)\s*=\s*(.*?)\s*$/.exec(raw);
    if (!setting || raw.trimStart().startsWith('#')) return { text: raw, forPi4 };
    return { text: raw, forPi4, key: setting[1]!, value: setting[2]! };
  });
  return { lines, endsInAll: model === 'all' && !conditional };
}

function singleSettings(wanted: ConfigTxtWanted): Array<[string, string]> {
  return [
    ['arm_64bit', '1'],
    ['kernel', wanted.kernel ?? 'u-boot.bin'],
    ['enable_uart', '1'],
    // Xen needs the GIC-400: with 0 the firmware routes interrupts through the legacy controller, which Xen cannot drive.
    ['enable_gic', '1'],
    // The only place the rate is set: U-Boot skips the Pi's UART set-up and Xen's drivers keep the rate they find.
    ['init_uart_baud', String(wanted.baud ?? DEFAULT_BAUD)],
    ...Object.entries(wanted.settings ?? {}),
  ];
}

const overlayName = (value: string) => value.split(',')[0]!.trim();

/** Applies the settings to the parsed lines in place; returns the lines still missing. */
function enforce(lines: Line[], wanted: ConfigTxtWanted): string[] {
  const missing: string[] = [];
  for (const [key, value] of singleSettings(wanted)) {
    const present = lines.filter((line) => line.forPi4 && line.key === key);
    if (present.length === 0) missing.push(`${key}=${value}`);
    // Every Pi-4 line for the key gets the value: the firmware applies them in order, so any one could win.
    for (const line of present) if (line.value !== value) Object.assign(line, { text: `${key}=${value}`, value });
  }
  const overlays = lines.filter((line) => line.forPi4 && line.key === 'dtoverlay');
  if (wanted.consoleUart === 'pl011') {
    const moved = overlays.filter((line) => MINIUART_BT.has(overlayName(line.value!)));
    for (const line of moved) Object.assign(line, { text: 'dtoverlay=disable-bt', value: 'disable-bt' });
    if (moved.length === 0 && !overlays.some((line) => DISABLE_BT.has(overlayName(line.value!)))) missing.push('dtoverlay=disable-bt');
  } else {
    // disable-bt takes GPIO 14/15 away from the mini UART the console uses: keep the line, but as a comment.
    for (const line of overlays.filter((l) => DISABLE_BT.has(overlayName(l.value!)))) {
      Object.assign(line, {
        text: `#${line.text.trimStart()}  # off: the console uses the mini UART (serial1)`,
        key: undefined,
        value: undefined,
      });
    }
  }
  return missing;
}

/** Merges the boot chain's needs into `existing` (undefined or '' for a card without config.txt). */
export function mergeConfigTxt(existing: string | undefined, wanted: ConfigTxtWanted): ConfigTxtMerge {
  const before = existing ?? '';
  const eol = before.includes('\r\n') ? '\r\n' : '\n';
  const hadFinalNewline = before === '' || /\n$/.test(before);
  const parsed = parse(before.replace(/\r?\n$/, ''));
  const lines = before === '' ? [] : parsed.lines;
  const missing = enforce(lines, wanted);
  const out = lines.map((line) => line.text);
  if (missing.length > 0) {
    const last = out[out.length - 1]?.trim() ?? '';
    if (last !== '' && !(parsed.endsInAll && /^\[[^\]]*\]$/.test(last))) out.push('');
    if (out.length > 0 && !parsed.endsInAll) out.push('[all]');
    if (!out.includes(CONFIG_TXT_MARKER)) out.push(CONFIG_TXT_MARKER);
    out.push(...missing);
  }
  const text = out.length === 0 ? '' : out.join(eol) + (hadFinalNewline || missing.length > 0 ? eol : '');
  const beforeLines = before === '' ? [] : before.replace(/\r?\n$/, '').split(/\r?\n/);
  const afterLines = text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
  return { text, diff: unifiedLineDiff(beforeLines, afterLines), changed: text !== before };
}

/** What a profile needs from config.txt (the console UART choice decides disable-bt, its baud rate init_uart_baud). */
export function configTxtWantedFor(profile: { console: { uart: 'mini' | 'pl011'; baud?: number } }): ConfigTxtWanted {
  return {
    consoleUart: profile.console.uart,
    kernel: 'u-boot.bin',
    ...(profile.console.baud !== undefined && { baud: profile.console.baud }),
  };
}
