// After a write, the TFTP step of "what to do next" names this computer only when the server address is one of its own.
import { describe, expect, it } from 'vitest';
import { tftpServerNextStep } from '../../../shared/network/next-step';

describe('the TFTP server in what to do next', () => {
  it('says to start the built-in server here when the address is this computer’s', () => {
    expect(tftpServerNextStep('192.168.1.10', ['192.168.1.10', '127.0.0.1'])).toBe(
      'Start the TFTP server (Network boot step) on this computer at 192.168.1.10, with the board on the same network.',
    );
  });

  it('says the address is another machine’s, with this computer’s addresses and both ways on', () => {
    const step = tftpServerNextStep('192.168.1.10', ['10.0.0.7', '127.0.0.1']);
    expect(step).toMatch(
      /^The board will ask 192\.168\.1\.10 for its files, and that is not this computer \(this computer is 10\.0\.0\.7\): /,
    );
    expect(step).toContain('serve the TFTP files (Review → Export) from 192.168.1.10');
    expect(step).toContain('set the TFTP server to one of this computer’s addresses in the Network boot step');
    expect(step).not.toMatch(/127\.0\.0\.1/);
  });

  it('keeps to the address alone while this computer’s are not known, and names DHCP’s server when there is none', () => {
    expect(tftpServerNextStep('192.168.1.10', undefined)).toContain('on this computer at 192.168.1.10');
    expect(tftpServerNextStep(undefined, ['10.0.0.7'])).toMatch(/DHCP server names as the TFTP server/);
  });
});
