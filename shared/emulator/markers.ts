// The lines the imager's own Dom0 /init prints, so the console recogniser knows Dom0 userspace was reached.

/** Prefix of every line our Dom0 initramfs prints. Chosen so no kernel or Xen message can contain it. */
export const DOM0_MARKER = 'XEN-PI-IMAGER-DOM0';

export const dom0MarkerLines = {
  userspace: `${DOM0_MARKER} userspace reached`,
  /** Followed by " <major>.<minor><extra>" read from /sys/hypervisor/version. */
  xenVersion: `${DOM0_MARKER} xen-version`,
  /** Followed by the contents of /proc/xen/capabilities ("control_d" in Dom0). */
  capabilities: `${DOM0_MARKER} capabilities`,
  /** Followed by the name of the module or the step that failed. */
  failed: `${DOM0_MARKER} failed`,
  powerOff: `${DOM0_MARKER} powering off`,
  /** xenstored and xen-init-dom0 ran: `xl` works from here on. */
  toolstack: `${DOM0_MARKER} toolstack ready`,
  /** Printed just before the interactive shell on hvc0 starts (the board's Dom0 initramfs). */
  shell: `${DOM0_MARKER} shell on hvc0`,
} as const;
