// The wizard's steps, in order, each with what it is for (shown under its title).
export type StepId = 'start' | 'board' | 'components' | 'console' | 'network' | 'review' | 'target' | 'write';

export interface StepInfo {
  id: StepId;
  title: string;
  purpose: string;
}

export const STEPS: StepInfo[] = [
  {
    id: 'start',
    title: 'Start',
    purpose: 'Set up Xen with U-Boot, or flash a ready-made image. Open a saved profile or start from a default.',
  },
  { id: 'board', title: 'Board and Xen', purpose: 'The board you boot and the Xen version, with the memory and CPUs Dom0 gets.' },
  {
    id: 'components',
    title: 'Components',
    purpose: 'The files the boot chain loads: U-Boot, Xen, the Dom0 kernel and ramdisk, the device tree, the base image.',
  },
  { id: 'console', title: 'Console', purpose: 'The serial console (UART) Xen and Dom0 print to, and how verbose they are.' },
  { id: 'network', title: 'Network boot', purpose: 'Load stage 2 over TFTP from this computer, or keep everything on the SD card.' },
  {
    id: 'review',
    title: 'Review',
    purpose: 'Everything that will be written, before anything is: config.txt, both boot scripts, the memory map.',
  },
  { id: 'target', title: 'Target', purpose: 'Where it goes: an SD card, an image file, or a folder (TFTP root and boot files).' },
  { id: 'write', title: 'Write', purpose: 'Write, verify, and what to do next.' },
];

/** Steps the "flash a ready-made image" path shows: straight from the image to the target. */
export const IMAGE_PATH_STEPS: StepId[] = ['start', 'target', 'write'];
