// Stage 1: static, DHCP and SD-only variants, wrapped at the board's scriptaddr, refusing a stage 2 over stage 1.
import { describe, expect, it } from 'vitest';
import { checkStage2Placement, stage1Script } from '../../../shared/boot/stage1';
import { boards } from '../../../shared/boards';
import { ImagerError } from '../../../shared/errors';

const rpi4 = boards.rpi4;
const base = { stage2Address: rpi4.stage2Address, stage1Address: rpi4.scriptAddress, stage2Name: 'boot2.scr' };

describe('stage 1', () => {
  it('sets a static address and fetches stage 2 over TFTP', () => {
    expect(stage1Script({ ...base, mode: 'tftp', network: { method: 'static', serverIp: '192.168.1.10', boardIp: '192.168.1.50' } })).toBe(
      'setenv serverip 192.168.1.10\nsetenv ipaddr 192.168.1.50\ntftpb 0xC00000 boot2.scr\nsource 0xC00000\n',
    );
  });

  it('adds netmask and gateway when given', () => {
    const text = stage1Script({
      ...base,
      mode: 'tftp',
      network: { method: 'static', serverIp: '10.0.0.1', boardIp: '10.0.1.2', netmask: '255.255.0.0', gateway: '10.0.0.254' },
    });
    expect(text).toBe(
      'setenv serverip 10.0.0.1\nsetenv ipaddr 10.0.1.2\nsetenv netmask 255.255.0.0\nsetenv gatewayip 10.0.0.254\ntftpb 0xC00000 boot2.scr\nsource 0xC00000\n',
    );
  });

  it('uses DHCP without autoload, then the TFTP server set by hand', () => {
    expect(stage1Script({ ...base, mode: 'tftp', network: { method: 'dhcp', serverIp: '192.168.1.10' } })).toBe(
      'setenv autoload no\ndhcp\nsetenv serverip 192.168.1.10\ntftpb 0xC00000 boot2.scr\nsource 0xC00000\n',
    );
    expect(stage1Script({ ...base, mode: 'tftp', network: { method: 'dhcp' } })).toBe(
      'setenv autoload no\ndhcp\ntftpb 0xC00000 boot2.scr\nsource 0xC00000\n',
    );
  });

  it("sets U-Boot's TFTP windowsize and block size before the first TFTP load, so every later load uses them", () => {
    const text = stage1Script({ ...base, mode: 'tftp', network: { method: 'dhcp' }, tftp: { windowsize: 16, blocksize: 1468 } });
    expect(text).toBe(
      'setenv autoload no\ndhcp\nsetenv tftpblocksize 1468\nsetenv tftpwindowsize 16\ntftpb 0xC00000 boot2.scr\nsource 0xC00000\n',
    );
    expect(stage1Script({ ...base, mode: 'tftp', network: { method: 'dhcp' }, tftp: {} })).not.toContain('tftpwindowsize');
    expect(stage1Script({ ...base, mode: 'sd', tftp: { windowsize: 16 } })).not.toContain('tftpwindowsize');
  });

  it('loads stage 2 from the card in SD-only mode', () => {
    expect(stage1Script({ ...base, mode: 'sd', sdLoadCommand: rpi4.sdLoadCommand })).toBe(
      'load mmc ${devnum}:1 0xC00000 boot2.scr\nsource 0xC00000\n',
    );
  });

  it('works with the QEMU board addresses and its broadcast server address', () => {
    const q = boards['qemu-virt'];
    const text = stage1Script({
      mode: 'tftp',
      network: { method: 'static', serverIp: q.defaultServerIp!, boardIp: '10.0.2.15' },
      stage2Address: q.stage2Address,
      stage1Address: q.scriptAddress,
      stage2Name: 'boot2.scr',
    });
    expect(text).toContain('tftpb 0x40C00000 boot2.scr\nsource 0x40C00000\n');
  });

  it('refuses invalid addresses with the field that is wrong', () => {
    const subject = (network: Parameters<typeof stage1Script>[0]['network']) => {
      try {
        stage1Script({ ...base, mode: 'tftp', network });
      } catch (error) {
        return (error as ImagerError).subject;
      }
      return 'accepted';
    };
    expect(subject({ method: 'static', serverIp: '192.168.1.300', boardIp: '192.168.1.2' })).toBe('serverIp');
    expect(subject({ method: 'static', serverIp: '192.168.1.1', boardIp: '' })).toBe('boardIp');
    expect(subject({ method: 'static', serverIp: '192.168.1.1', boardIp: '192.168.1.2', netmask: 'x' })).toBe('netmask');
    expect(subject(undefined)).toBe('network');
  });

  it('refuses a stage-2 address whose 2 MiB slot covers stage 1', () => {
    expect(() => stage1Script({ ...base, mode: 'sd', stage2Address: rpi4.scriptAddress })).toThrow(/overwrite stage 1/);
    expect(() => stage1Script({ ...base, mode: 'sd', stage2Address: rpi4.scriptAddress - 0x200000 + 1 })).toThrow(ImagerError);
    expect(() => stage1Script({ ...base, mode: 'sd', stage2Address: rpi4.scriptAddress - 0x200000 })).not.toThrow();
    // ImageBuilder's own choice on QEMU (RAM base + 2 MiB) is exactly where U-Boot put stage 1.
    expect(() => checkStage2Placement(0x40200000, 200, 0x40200000)).toThrow(/0x40200000/);
    expect(() => checkStage2Placement(0x40200000, 200, 0x40200000 + 199)).toThrow();
    expect(() => checkStage2Placement(0x40200000, 200, 0x40200000 + 200)).not.toThrow();
    expect(() => checkStage2Placement(0x40200000, 200, 0x40400000)).not.toThrow();
  });
});
