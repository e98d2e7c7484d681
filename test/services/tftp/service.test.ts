// The TFTP domain service: start/stop/status through the contract's shapes, live transfers as tftp:transfer events.
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TftpLimitEvent, TftpTransferEvent } from '../../../shared/api/tftp';
import type { ServiceHost } from '../../../electron/services/index';
import { createTftpService } from '../../../electron/services/tftp/service';
import { readScriptImage } from '../../../shared/boot/script-image';
import { testProfile, writeTestComponents } from '../../helpers/components';
import { fetchFile, freePort, tempRoot, ubootOptions } from './helpers';

function fakeHost(events: TftpTransferEvent[], limits: TftpLimitEvent[] = []): ServiceHost {
  return {
    transport: 'browser',
    emit: ((name: string, payload: unknown) => {
      if (name === 'tftp:transfer') events.push(payload as TftpTransferEvent);
      if (name === 'tftp:limit') limits.push(payload as TftpLimitEvent);
    }) as ServiceHost['emit'],
    openExternal: async () => {},
  };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the tftp service', () => {
  it('starts on a root, reports status, streams request/progress/done events, and stops', async () => {
    const root = tempRoot();
    cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
    fs.writeFileSync(path.join(root, 'boot2.scr'), Buffer.alloc(40_000, 1));
    const events: TftpTransferEvent[] = [];
    const service = createTftpService(fakeHost(events), '/nonexistent/components');
    cleanups.push(() => service.dispose?.());
    const port = await freePort();

    const status = await service.tftpStart({ root, address: '127.0.0.1', port });
    expect(status).toMatchObject({ running: true, address: '127.0.0.1', port, root, active: [] });

    const result = await fetchFile({ port, file: 'boot2.scr', options: ubootOptions() });
    expect(result.data.length).toBe(40_000);
    await vi.waitFor(() => expect(events.map((event) => event.kind)).toContain('done'));
    expect(events[0]).toMatchObject({ kind: 'request', file: 'boot2.scr', client: { address: '127.0.0.1' } });
    expect(events.at(-1)).toMatchObject({ kind: 'done', file: 'boot2.scr', bytes: 40_000 });

    await expect(fetchFile({ port, file: 'missing' })).rejects.toMatchObject({ code: 1 });
    await vi.waitFor(() => expect(events.at(-1)).toMatchObject({ kind: 'error', file: 'missing', code: 1 }));
    expect((await service.tftpStatus()).log.map((entry) => entry.message)).toContain('missing: not in the TFTP root');

    await service.tftpStop();
    expect(await service.tftpStatus()).toMatchObject({ running: false, active: [], log: [] });
    await expect(fetchFile({ port, file: 'boot2.scr', timeoutMs: 50, retries: 3 })).rejects.toThrow(/timed out/);
  });

  it('passes the limits the server applies to the UI as tftp:limit events, and keeps them in the log', async () => {
    const root = tempRoot();
    cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
    fs.writeFileSync(path.join(root, 'boot2.scr'), Buffer.alloc(3000, 2));
    const limits: TftpLimitEvent[] = [];
    const service = createTftpService(fakeHost([], limits), '/nonexistent/components');
    cleanups.push(() => service.dispose?.());
    const port = await freePort();
    await service.tftpStart({ root, address: '127.0.0.1', port });
    const result = await fetchFile({
      port,
      file: 'boot2.scr',
      options: [
        ['timeout', 255],
        ['blksize', 65464],
        ['windowsize', 64],
      ],
    });
    expect(result.oack).toEqual({ blksize: '65464', windowsize: '1' });
    expect(limits.map((event) => event.limit)).toEqual(['timeout', 'window']);
    expect(limits[0]).toMatchObject({ kind: 'limit', file: 'boot2.scr', client: { address: '127.0.0.1' }, suppressed: 0 });
    const log = (await service.tftpStatus()).log.map((entry) => entry.message);
    expect(log.some((message) => /asked timeout 255 s for boot2\.scr: declined/.test(message))).toBe(true);
  });

  it('restarts on new settings and stops everything on dispose', async () => {
    const root = tempRoot();
    cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
    const service = createTftpService(fakeHost([]), '/nonexistent/components');
    const [first, second] = [await freePort(), await freePort()];
    await service.tftpStart({ root, port: first });
    const status = await service.tftpStart({ root, port: second });
    expect(status).toMatchObject({ address: '127.0.0.1', port: second });
    await service.dispose?.();
    expect((await service.tftpStatus()).running).toBe(false);
    // both ports are free again
    for (const port of [first, second]) {
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, '127.0.0.1', () => resolve());
      });
      socket.close();
    }
  });

  it('refuses a root that is not a folder, with a hint', async () => {
    const service = createTftpService(fakeHost([]), '/nonexistent/components');
    await expect(service.tftpStart({ root: '/nonexistent/tftp', port: await freePort() })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'The TFTP root /nonexistent/tftp is not a folder.',
    });
  });

  it('serves a profile: stage 2 generated in memory, Xen, Dom0 and the device tree from disk', async () => {
    const dir = tempRoot('xpi-tftp-profile-');
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const components = writeTestComponents(dir);
    const profile = testProfile(components);
    const service = createTftpService(fakeHost([]), '/nonexistent/components');
    cleanups.push(() => service.dispose?.());
    const port = await freePort();
    const status = await service.tftpStart({ profile, port });
    expect(status).toMatchObject({ running: true, port, root: 'profile "Test profile"' });
    expect(status.serving).toEqual(expect.arrayContaining(['boot2.scr', 'xen', 'Image', 'initrd.cpio', 'board.dtb']));

    const stage2 = await fetchFile({ port, file: 'boot2.scr', options: ubootOptions() });
    const script = readScriptImage(new Uint8Array(stage2.data)).source;
    expect(script).toMatch(/^tftpb 0xE00000 Image$/m);
    expect(script).toMatch(/^booti 0x\w+ - 0x\w+$/m);
    const kernel = await fetchFile({ port, file: 'Image', options: ubootOptions() });
    expect(Buffer.from(kernel.data).equals(fs.readFileSync(components.kernel))).toBe(true);
  });

  it('refuses a profile that boots from the card, and keeps the running server', async () => {
    const dir = tempRoot('xpi-tftp-profile-');
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const components = writeTestComponents(dir);
    const service = createTftpService(fakeHost([]), '/nonexistent/components');
    cleanups.push(() => service.dispose?.());
    const port = await freePort();
    await service.tftpStart({ profile: testProfile(components), port });
    await expect(service.tftpStart({ profile: testProfile(components, 'sd'), port })).rejects.toMatchObject({ code: 'NOTHING_TO_SERVE' });
    expect((await service.tftpStatus()).running).toBe(true);
  });

  it('lists this machine’s IPv4 addresses with loopback last', async () => {
    const service = createTftpService(fakeHost([]), '/nonexistent/components');
    const addresses = await service.localAddresses();
    expect(addresses.at(-1)).toMatchObject({ address: '127.0.0.1', internal: true, cidr: '127.0.0.1/8' });
    expect(addresses.every((entry) => /^\d+\.\d+\.\d+\.\d+$/.test(entry.address))).toBe(true);
  });
});
