// config.txt merge: keeps user lines, replaces conflicts, respects sections, adds disable-bt for PL011, idempotent, with a diff.
import { describe, expect, it } from 'vitest';
import { CONFIG_TXT_MARKER, configTxtWantedFor, mergeConfigTxt } from '../../../shared/boot/config-txt';

const raspiOs = `# For more options and information see
# http://rptl.io/configtxt

# Uncomment some or all of these to enable the optional hardware interfaces
#dtparam=i2c_arm=on

# Enable audio (loads snd_bcm2835)
dtparam=audio=on

# Automatically load overlays for detected cameras
camera_auto_detect=1

# Enable DRM VC4 V3D driver
dtoverlay=vc4-kms-v3d
max_framebuffers=2

# Run in 64-bit mode
arm_64bit=1

[cm4]
otg_mode=1

[all]
`;

describe('config.txt merge', () => {
  it('writes the needed lines into an empty card', () => {
    const merged = mergeConfigTxt(undefined, { consoleUart: 'mini' });
    expect(merged.text).toBe(`${CONFIG_TXT_MARKER}\narm_64bit=1\nkernel=u-boot.bin\nenable_uart=1\nenable_gic=1\ninit_uart_baud=115200\n`);
    expect(merged.changed).toBe(true);
  });

  it('keeps every Raspberry Pi OS line and adds only what is missing at the end of [all]', () => {
    const merged = mergeConfigTxt(raspiOs, { consoleUart: 'mini' });
    expect(merged.text).toBe(`${raspiOs}${CONFIG_TXT_MARKER}\nkernel=u-boot.bin\nenable_uart=1\nenable_gic=1\ninit_uart_baud=115200\n`);
    expect(merged.diff).toContain('+kernel=u-boot.bin\n+enable_uart=1\n');
    expect(merged.diff).toMatch(/^@@ -\d+,\d+ \+\d+,\d+ @@/);
  });

  it('is idempotent: merging twice changes nothing', () => {
    for (const uart of ['mini', 'pl011'] as const) {
      const once = mergeConfigTxt(raspiOs, { consoleUart: uart });
      const twice = mergeConfigTxt(once.text, { consoleUart: uart });
      expect(twice).toEqual({ text: once.text, diff: '', changed: false });
    }
  });

  it('replaces a conflicting value instead of adding a second key', () => {
    const merged = mergeConfigTxt('arm_64bit=0\nkernel=kernel8.img\nenable_uart=1\n', { consoleUart: 'mini' });
    expect(merged.text).toBe(
      'arm_64bit=1\nkernel=u-boot.bin\nenable_uart=1\n\n' + `${CONFIG_TXT_MARKER}\nenable_gic=1\ninit_uart_baud=115200\n`,
    );
    expect(merged.diff).toContain('-arm_64bit=0\n-kernel=kernel8.img\n+arm_64bit=1\n+kernel=u-boot.bin\n');
  });

  it('respects sections: a [pi4] value is replaced, a [pi3] value is left alone', () => {
    const text = '[pi3]\nkernel=pi3.img\n[pi4]\nkernel=kernel8.img\nenable_uart=0\n[all]\narm_64bit=1\n';
    const merged = mergeConfigTxt(text, { consoleUart: 'mini' });
    expect(merged.text).toBe(
      `[pi3]\nkernel=pi3.img\n[pi4]\nkernel=u-boot.bin\nenable_uart=1\n[all]\narm_64bit=1\n\n${CONFIG_TXT_MARKER}\nenable_gic=1\ninit_uart_baud=115200\n`,
    );
  });

  it('opens an [all] section when the file ends inside a model section', () => {
    const merged = mergeConfigTxt('[pi3]\nkernel=pi3.img\n', { consoleUart: 'mini' });
    expect(merged.text).toBe(
      `[pi3]\nkernel=pi3.img\n\n[all]\n${CONFIG_TXT_MARKER}\narm_64bit=1\nkernel=u-boot.bin\nenable_uart=1\nenable_gic=1\ninit_uart_baud=115200\n`,
    );
  });

  it('does not count settings under a conditional filter such as [gpio4=1]', () => {
    const merged = mergeConfigTxt('[gpio4=1]\nkernel=u-boot.bin\n', { consoleUart: 'mini' });
    expect(merged.text).toContain('[all]\n');
    expect(merged.text.match(/kernel=u-boot.bin/g)).toHaveLength(2);
  });

  it('adds dtoverlay=disable-bt for the PL011 console, or turns miniuart-bt into it', () => {
    expect(mergeConfigTxt(undefined, { consoleUart: 'pl011' }).text).toContain(
      'enable_uart=1\nenable_gic=1\ninit_uart_baud=115200\ndtoverlay=disable-bt\n',
    );
    const swapped = mergeConfigTxt(
      'dtoverlay=miniuart-bt\narm_64bit=1\nkernel=u-boot.bin\nenable_uart=1\nenable_gic=1\ninit_uart_baud=115200\n',
      { consoleUart: 'pl011' },
    );
    expect(swapped.text).toBe('dtoverlay=disable-bt\narm_64bit=1\nkernel=u-boot.bin\nenable_uart=1\nenable_gic=1\ninit_uart_baud=115200\n');
    const kept = mergeConfigTxt('dtoverlay=vc4-kms-v3d\ndtoverlay=disable-bt\n', { consoleUart: 'pl011' });
    expect(kept.text.match(/disable-bt/g)).toHaveLength(1);
  });

  it('comments out disable-bt for the mini UART console, which needs GPIO 14/15', () => {
    const merged = mergeConfigTxt('dtoverlay=disable-bt\narm_64bit=1\nkernel=u-boot.bin\nenable_uart=1\n', { consoleUart: 'mini' });
    expect(merged.text.split('\n')[0]).toMatch(/^#dtoverlay=disable-bt {2}# off:/);
    expect(mergeConfigTxt(merged.text, { consoleUart: 'mini' }).changed).toBe(false);
  });

  it('keeps CRLF line endings and a missing final newline elsewhere', () => {
    const merged = mergeConfigTxt('dtparam=audio=on\r\narm_64bit=1\r\n', { consoleUart: 'mini' });
    expect(merged.text).toBe(
      `dtparam=audio=on\r\narm_64bit=1\r\n\r\n${CONFIG_TXT_MARKER}\r\nkernel=u-boot.bin\r\nenable_uart=1\r\nenable_gic=1\r\ninit_uart_baud=115200\r\n`,
    );
    const complete = 'arm_64bit=1\nkernel=u-boot.bin\nenable_uart=1\nenable_gic=1\ninit_uart_baud=115200';
    expect(mergeConfigTxt(complete, { consoleUart: 'mini' })).toEqual({ text: complete, diff: '', changed: false });
  });

  it('takes the console choice from a profile', () => {
    expect(configTxtWantedFor({ console: { uart: 'pl011' } })).toEqual({ consoleUart: 'pl011', kernel: 'u-boot.bin' });
  });

  it('keeps the Pi 4 on the GIC-400 Xen drives, even when an old config.txt turned it off', () => {
    const merged = mergeConfigTxt('[pi4]\nenable_gic=0\n[all]\n', { consoleUart: 'mini' });
    expect(merged.text).toContain('[pi4]\nenable_gic=1\n');
    expect(merged.text.match(/enable_gic/g)).toHaveLength(1);
  });

  it('sets the console rate the firmware programs the UART with, replacing an old one', () => {
    expect(mergeConfigTxt(undefined, configTxtWantedFor({ console: { uart: 'mini', baud: 230400 } })).text).toContain(
      '\ninit_uart_baud=230400\n',
    );
    const replaced = mergeConfigTxt('init_uart_baud=9600\n', { consoleUart: 'mini', baud: 921600 });
    expect(replaced.text.match(/init_uart_baud=\d+/g)).toEqual(['init_uart_baud=921600']);
  });
});
