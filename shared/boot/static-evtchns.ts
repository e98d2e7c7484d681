// Static event channels between dom0less DomUs (DOMU_STATIC_EVTCHNS[n]="local_port remote_domU remote_port; ..."), and the
// phandles ImageBuilder hands out for them and for CPU pools, counting down from the highest valid one.
import { ImagerError } from '../errors';

/** The highest valid phandle: ImageBuilder hands out new ones counting down from it, so they never meet the tree's own. */
export const LAST_PHANDLE = 0xfffffffe;

/** ImageBuilder's get_next_phandle: one counter for the whole script, written `0x%x`. */
export class PhandleCounter {
  private next = LAST_PHANDLE;
  take(): string {
    return `0x${(this.next--).toString(16)}`;
  }
}

interface EventChannel {
  definition: string;
  localPort: string;
  remoteDomU: string;
  remotePort: string;
}

function evtchnError(index: number, what: 'Malformed' | 'Invalid', definition: string, problem: string): ImagerError {
  const line = `${what} evtchn definition: '${definition}' in DOMU_STATIC_EVTCHNS[${index}]`;
  return new ImagerError({
    code: 'IMAGEBUILDER_CONFIG',
    subject: `DOMU_STATIC_EVTCHNS[${index}]`,
    message: `DOMU_STATIC_EVTCHNS[${index}]: the channel "${definition.trim()}" ${problem}.`,
    hint: 'Write each channel as "local_port remote_domU remote_port", channels separated by ";" (e.g. "10 1 11; 12 1 13").',
    details: { exitStatus: 1, imageBuilderMessage: line },
  });
}

/** The definitions as bash's `IFS=';' read -ra` splits them (a trailing ";" adds none). */
function definitions(text: string): string[] {
  const fields = text.split('\n')[0]!.split(';');
  if (fields.length > 1 && fields[fields.length - 1] === '') fields.pop();
  return fields;
}

/** One definition read into three words as `read -r local_port remote_dom_idx remote_port` does. */
function channel(definition: string, index: number): EventChannel {
  const match = /^(\S+)(?:[ \t]+(\S+)(?:[ \t]+(.*\S))?)?/.exec(definition.replace(/^[ \t]+/, ''));
  if (!match?.[2] || !match[3]) throw evtchnError(index, 'Malformed', definition, 'needs three numbers');
  return { definition, localPort: match[1]!, remoteDomU: match[2], remotePort: match[3] };
}

/** Every endpoint named by any DomU (booted or not), each given a phandle in order; with the lines ImageBuilder prints. */
export function eventChannelPhandles(texts: Array<string | undefined>, counter: PhandleCounter, notices: string[]): Map<string, string> {
  const phandles = new Map<string, string>();
  texts.forEach((text, index) => {
    if (!text) return;
    for (const definition of definitions(text)) {
      const { localPort, remoteDomU, remotePort } = channel(definition, index);
      const local = `${index},${localPort}`;
      const remote = `${remoteDomU},${remotePort}`;
      if (local === remote) throw evtchnError(index, 'Invalid', definition, 'connects a port to itself');
      for (const [key, side] of [
        [local, 'Local'],
        [remote, 'Remote'],
      ] as const) {
        if (phandles.has(key)) continue;
        phandles.set(key, counter.take());
        notices.push(`${side} endpoint '${key}' is assigned phandle '${phandles.get(key)!}'`);
      }
    }
  });
  return phandles;
}

/** One `xen,evtchn-v1` node per channel of a DomU: its own phandle, and its port with the other end's phandle. */
export function eventChannelLines(node: string, index: number, text: string, phandles: Map<string, string>): string[] {
  return definitions(text).flatMap((definition) => {
    const { localPort, remoteDomU, remotePort } = channel(definition, index);
    const path = `${node}/evtchn@${localPort}`;
    return [
      `fdt mknod ${node} evtchn@${localPort}`,
      `fdt set ${path} phandle <${phandles.get(`${index},${localPort}`)!}>`,
      `fdt set ${path} compatible "xen,evtchn-v1"`,
      `fdt set ${path} xen,evtchn <${localPort} ${phandles.get(`${remoteDomU},${remotePort}`)!}>`,
    ];
  });
}
