// Retargeting a profile to QEMU's virt board: the user's choices stay, the board's facts change.
import { describe, expect, it } from 'vitest';
import { qemuTrialProfile } from '../../../shared/emulator/trial-profile';
import { qemuBootArgs, qemuDumpDtbArgs } from '../../../shared/emulator/machine';
import { defaultProfile } from '../../../shared/profile/defaults';
import { profileSchema } from '../../../shared/profile/schema';
import { validateProfile } from '../../../shared/profile';

describe('a Raspberry Pi profile as the emulator boots it', () => {
  const rpi = defaultProfile('rpi4');
  rpi.overlays = ['overlays/disable-bt.dtbo'];
  rpi.console.syncConsole = true;
  rpi.dom0!.memoryMb = 1500;
  rpi.dom0!.rootOnCard = true;

  const { profile, changes } = qemuTrialProfile(rpi, { deviceTree: '/tmp/run/virt.dtb' });

  it('takes the virt board’s addresses, console and dumped device tree', () => {
    expect(profile.board).toBe('qemu-virt');
    expect(profile.boot).toMatchObject({ memoryStart: '0x40000000', memoryEnd: '0xC0000000', stage2Address: '0x40C00000' });
    expect(profile.console.uart).toBe('pl011');
    expect(profile.deviceTree).toBe('/tmp/run/virt.dtb');
    expect(profile.overlays).toEqual([]);
  });

  it('reaches the imager’s TFTP server through QEMU’s broadcast relay', () => {
    expect(profile.boot.network).toEqual({ method: 'static', serverIp: '255.255.255.255', boardIp: '10.0.2.15' });
  });

  it('keeps the user’s choices that the emulator can honour', () => {
    expect(profile.console.syncConsole).toBe(true);
    expect(profile.xen.binary).toBe(rpi.xen.binary);
    expect(profile.dom0!.kernel).toBe(rpi.dom0!.kernel);
    expect(profile.dom0!.memoryMb).toBe(1024); // half the emulator's 2 GiB
  });

  it('makes a Dom0 crash end the boot at once (panic=-1 with QEMU’s -no-reboot)', () => {
    expect(profile.dom0!.commandLine).toBe('console=hvc0 earlycon=xen earlyprintk=xen clk_ignore_unused panic=-1');
    expect(changes).toContain('panic=-1 added to Dom0’s command line, so a Dom0 crash ends the trial at once instead of hanging it');
    const own = qemuTrialProfile({ ...rpi, dom0: { ...rpi.dom0!, commandLine: 'console=hvc0 panic=5' } }, { deviceTree: 'x' });
    expect(own.profile.dom0!.commandLine).toBe('console=hvc0 panic=5');
    expect(own.changes.some((change) => change.includes('panic'))).toBe(false);
  });

  it('points a hand-written Xen command line at the virt board’s UART', () => {
    const own = qemuTrialProfile(
      { ...rpi, xen: { ...rpi.xen, commandLine: 'console=dtuart dtuart=serial1 dom0_mem=512M' } },
      { deviceTree: 'x' },
    );
    expect(own.profile.xen.commandLine).toBe('console=dtuart dtuart=/pl011@9000000 dom0_mem=512M');
  });

  it('loads QEMU’s own tree in place of the Pi firmware’s, and says so', () => {
    const trial = qemuTrialProfile(
      { ...rpi, deviceTreeSource: 'firmware', console: { ...rpi.console, baud: 230400 } },
      { deviceTree: 'virt.dtb' },
    );
    expect(trial.profile).toMatchObject({ deviceTreeSource: 'file', deviceTree: 'virt.dtb', console: { baud: 115200 } });
    expect(trial.changes.join('\n')).toMatch(/firmware’s device tree replaced by QEMU’s own/);
  });

  it('says what it changed, in words', () => {
    expect(changes.join('\n')).toMatch(/Raspberry Pi 4 Model B → QEMU virt/);
    expect(changes.join('\n')).toMatch(/overlays left out/);
    expect(changes.join('\n')).toMatch(/1500 MB → 1024 MB/);
    expect(changes.join('\n')).toMatch(/root file system on the card left out/);
  });

  it('swaps in Debian’s parts when asked, and stays a valid profile', () => {
    const debian = qemuTrialProfile(rpi, {
      deviceTree: 'virt.dtb',
      parts: { xen: '/c/xen-4.17-arm64', dom0Kernel: '/c/vmlinuz', dom0Ramdisk: '/c/initrd' },
    });
    expect(debian.profile.xen.binary).toBe('/c/xen-4.17-arm64');
    expect(debian.profile.dom0).toMatchObject({ kernel: '/c/vmlinuz', ramdisk: '/c/initrd' });
    expect(profileSchema.safeParse(debian.profile).success).toBe(true);
    // the board's RAM is the emulator's too: the profile check passes a 4 GB Pi 4 profile retargeted to virt
    expect(rpi.ramMb).toBe(4096);
    expect(debian.profile.ramMb).toBe(2048);
    expect(validateProfile(debian.profile).problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(rpi.board).toBe('rpi4'); // the user's profile is untouched
  });

  it('fetches lock-step when another server already on port 69 serves the trial', () => {
    const external = qemuTrialProfile(rpi, { deviceTree: 'virt.dtb', externalTftp: true });
    expect(external.profile.boot.tftp).toEqual({ server: 'external' });
    expect(external.changes.join('\n')).toMatch(/lock-step/);
    expect(qemuTrialProfile(rpi, { deviceTree: 'virt.dtb' }).profile.boot.tftp).toBeUndefined();
  });
});

describe('the emulated board’s CPUs', () => {
  const virt = defaultProfile('qemu-virt');

  it('runs one CPU for Dom0 alone with one vCPU, and says so among the changes', () => {
    const trial = qemuTrialProfile(virt, { deviceTree: 'virt.dtb' });
    expect(trial.cpus).toBe(1);
    expect(trial.changes.join('\n')).toMatch(/the emulator runs 1 CPU, not 2/);
  });

  it('keeps both CPUs when a domain asks for more than one vCPU, a DomU runs, or another server serves the tree', () => {
    const twoVcpus = { ...virt, dom0: { ...virt.dom0!, vcpus: 2 } };
    const ownLine = { ...virt, xen: { ...virt.xen, extraArgs: 'dom0_max_vcpus=2' } };
    const withDomU = profileSchema.parse({ ...virt, domUs: [{ kernel: 'Image', memoryMb: 128, vcpus: 1 }] });
    const dom0less = profileSchema.parse({ ...virt, dom0: undefined, domUs: [{ kernel: 'Image', memoryMb: 128, vcpus: 1 }] });
    expect(qemuTrialProfile(virt, { deviceTree: 'virt.dtb', externalTftp: true }).cpus).toBe(2); // its tree is another server's
    for (const profile of [twoVcpus, ownLine, withDomU, dom0less]) {
      const trial = qemuTrialProfile(profile, { deviceTree: 'virt.dtb' });
      expect(trial.cpus).toBe(2);
      expect(trial.changes.join('\n')).not.toMatch(/CPU, not/);
    }
  });

  it('says when Dom0’s vCPUs are lowered to the emulator’s CPUs', () => {
    const rpi = defaultProfile('rpi4');
    const trial = qemuTrialProfile({ ...rpi, dom0: { ...rpi.dom0!, vcpus: 4 } }, { deviceTree: 'virt.dtb' });
    expect(trial.profile.dom0!.vcpus).toBe(2);
    expect(trial.changes).toContain('Dom0 vCPUs 4 → 2 (the emulator has 2 CPUs)');
  });
});

describe('the QEMU machine line', () => {
  it('dumps the device tree from the same machine, firmware included', () => {
    const boot = qemuBootArgs({ bios: '/u-boot.bin', sdImage: '/sd.img' });
    const dump = qemuDumpDtbArgs({ bios: '/u-boot.bin', dtbPath: '/virt.dtb' });
    const option = (args: string[], name: string) => args[args.indexOf(name) + 1];
    for (const name of ['-cpu', '-smp', '-m', '-bios']) expect(option(dump, name)).toBe(option(boot, name));
    expect(option(dump, '-machine')).toBe(`${option(boot, '-machine')},dumpdtb=/virt.dtb`);
    expect(boot).toContain('-no-reboot');
    expect(option(boot, '-m')).toBe('2048');
    expect(option(boot, '-smp')).toBe('2');
  });

  it('dumps the tree with as many CPUs as the boot runs (Xen starts each CPU the tree lists)', () => {
    const boot = qemuBootArgs({ bios: '/u-boot.bin', sdImage: '/sd.img', cpus: 1 });
    const dump = qemuDumpDtbArgs({ bios: '/u-boot.bin', dtbPath: '/virt.dtb', cpus: 1 });
    expect(boot[boot.indexOf('-smp') + 1]).toBe('1');
    expect(dump[dump.indexOf('-smp') + 1]).toBe('1');
  });
});

describe('a TFTP window the emulated board cannot take', () => {
  it('is lowered to 16 for the trial and said so; the Pi 4 profile keeps its own', () => {
    const rpi = defaultProfile('rpi4');
    rpi.boot.tftp = { server: 'built-in', windowsize: 32 };
    const { profile, changes } = qemuTrialProfile(rpi, { deviceTree: 'x' });
    expect(profile.boot.tftp!.windowsize).toBe(16);
    expect(changes).toContain(
      "TFTP windowsize 32 → 16: U-Boot's virtio-net driver holds 32 packets, so a larger window overflows it on the emulator (the Pi 4's GENET holds 256)",
    );
    expect(rpi.boot.tftp.windowsize).toBe(32);
    expect(validateProfile(rpi).problems.filter((p) => p.path === '$.boot.tftp.windowsize')).toEqual([]);
    const sixteen = qemuTrialProfile({ ...rpi, boot: { ...rpi.boot, tftp: { server: 'built-in', windowsize: 16 } } }, { deviceTree: 'x' });
    expect(sixteen.changes.some((c) => c.includes('windowsize'))).toBe(false);
  });

  it('is a warning in a QEMU virt profile', () => {
    const virt = defaultProfile('qemu-virt');
    virt.boot.tftp = { server: 'built-in', windowsize: 32 };
    expect(validateProfile(virt).problems).toContainEqual(
      expect.objectContaining({
        path: '$.boot.tftp.windowsize',
        severity: 'warning',
        message: expect.stringMatching(/^Windowsize 32 on QEMU virt/),
      }),
    );
  });
});
