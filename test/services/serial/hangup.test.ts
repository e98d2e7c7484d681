// A line that is hung up must say so. serialport 13 reads again at once when read(2) returns 0 (bindings-cpp issue
// 162), which is what a tty returns once its adapter is gone: the console stayed "open" and a core spun at 100%. It
// happened one unplug in about 30 on a pty pair, and failed CI once.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readUnix } from '../../../electron/services/serial/binding';
import { createSerialService } from '../../../electron/services/serial/service';
import type { SerialStateEvent } from '../../../shared/api/serial';
import { haveSocat, startPtyPair } from '../../helpers/pty-pair';

describe('a hung-up serial line', () => {
  it('reads 0 bytes as a disconnection, not as a reason to read again', async () => {
    // a FIFO whose writer has gone returns 0 from read(2), as a hung-up tty does
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangup-'));
    const fifo = path.join(dir, 'line');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    fs.closeSync(fs.openSync(fifo, 'w'));
    const port = { fd, isOpen: true, poller: { once: () => undefined } };
    try {
      await expect(readUnix(port, Buffer.alloc(64), 0, 64)).rejects.toMatchObject({ disconnect: true });
    } finally {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!haveSocat)(
    'says the adapter went away on every one of 30 unplugs, without spinning the CPU',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangup-'));
      const states: SerialStateEvent[] = [];
      const service = createSerialService(
        {
          transport: 'browser',
          emit: (name, payload) => name === 'serial:state' && states.push(payload as SerialStateEvent),
          openExternal: async () => undefined,
        },
        { logsDir: path.join(dir, 'logs'), reconnectIntervalMs: 60_000 },
      );
      try {
        for (let i = 0; i < 30; i++) {
          const pair = await startPtyPair(dir);
          const session = await service.serialOpen({ path: pair.adapter });
          states.length = 0;
          const cpu = process.cpuUsage();
          await pair.unplug();
          const started = Date.now();
          while (!states.some((s) => s.sessionId === session.sessionId && s.state === 'lost')) {
            if (Date.now() - started > 3000) {
              const used = process.cpuUsage(cpu);
              throw new Error(`unplug ${i + 1}: no "lost" state after 3 s (${((used.user + used.system) / 1000).toFixed(0)} ms of CPU)`);
            }
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          await service.serialClose(session.sessionId);
        }
      } finally {
        await service.dispose?.();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
