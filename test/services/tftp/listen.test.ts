// Listening: a port already taken and a privileged port each give an error that says exactly what to do.
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTftpServer } from '../../../electron/services/tftp/server';
import { ImagerError } from '../../../shared/errors';
import { isRoot } from './helpers';

const unprivilegedPortStart = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));

describe('listening', () => {
  it('defaults to loopback and port 69, and reports where it listens', async () => {
    const server = createTftpServer({ port: 0 });
    const where = await server.listen();
    expect(where.address).toBe('127.0.0.1');
    expect(where.port).toBeGreaterThan(0);
    expect(server.listening).toEqual(where);
    expect(server.log.at(-1)?.message).toBe(`listening on 127.0.0.1:${where.port}`);
    await server.close();
  });

  it('names the other TFTP server when the port is taken (EADDRINUSE)', async () => {
    const squatter = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => squatter.bind(0, '127.0.0.1', () => resolve()));
    const { port } = squatter.address();
    try {
      const error = await createTftpServer({ address: '127.0.0.1', port })
        .listen()
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ImagerError);
      expect(error).toMatchObject({ code: 'ADDRESS_IN_USE', subject: `127.0.0.1:${port}` });
      expect((error as ImagerError).message).toMatch(/another program already uses UDP port \d+, probably another TFTP server \(tftpd-hpa/);
      expect((error as ImagerError).hint).toContain('sudo systemctl stop tftpd-hpa');
    } finally {
      squatter.close();
    }
  });

  it('says the address is not this machine’s (EADDRNOTAVAIL)', async () => {
    const error = await createTftpServer({ address: '192.0.2.77', port: 0 })
      .listen()
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/192\.0\.2\.77 is not an address of this machine/),
    });
  });

  it.skipIf(!isRoot || unprivilegedPortStart <= 69)(
    'tells an unprivileged user how to get port 69: the elevated helper, setcap, or a redirect (EACCES)',
    async () => {
      // a fresh process without the capability to bind low ports, as a user starts the app; it stays
      // root otherwise, so it can still read a checkout in a folder only root may enter (CI's clone)
      const script = path.join(import.meta.dirname, 'listen-69.ts');
      const tsx = path.resolve('node_modules/.bin/tsx');
      const output = await new Promise<string>((resolve, reject) => {
        execFile(
          'setpriv',
          ['--bounding-set=-net_bind_service', '--inh-caps=-net_bind_service', tsx, script],
          { timeout: 30_000, env: { ...process.env, HOME: '/tmp', TSX_DISABLE_CACHE: '1' } },
          (error, stdout, stderr) => (stdout ? resolve(stdout) : reject(error ?? new Error(stderr))),
        );
      });
      const error = JSON.parse(output) as { code: string; message: string; hint: string };
      expect(error.code).toBe('PERMISSION_DENIED');
      expect(error.message).toMatch(/Cannot listen for TFTP on 127\.0\.0\.1:69: UDP port 69 is privileged/);
      expect(error.hint).toContain('elevated helper');
      expect(error.hint).toMatch(/sudo setcap cap_net_bind_service=\+ep \/\S+node/);
      expect(error.hint).toContain('sudo iptables -t nat -A PREROUTING -p udp --dport 69 -j REDIRECT --to-port 6969');
    },
  );
});
