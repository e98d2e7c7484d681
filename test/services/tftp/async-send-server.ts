// Child of send-path.test.ts: a server whose every send completes asynchronously (node --test-udp-no-try-send), until stdin closes.
import fs from 'node:fs';
import { createTftpServer } from '../../../electron/services/tftp/server';

// argv[2]: a JSON file with the root, the default timeout and the in-memory files (base64)
const { root, timeoutMs, files } = JSON.parse(fs.readFileSync(process.argv[2]!, 'utf8')) as {
  root: string;
  timeoutMs: number;
  files: Record<string, string>;
};
const memory = new Map(Object.entries(files).map(([name, base64]) => [name, new Uint8Array(Buffer.from(base64, 'base64'))]));
// every client is 127.0.0.1, 120 transfers at once: its share of the slots is the whole table
const server = createTftpServer({
  root,
  files: memory,
  address: '127.0.0.1',
  port: 0,
  timeoutMs,
  maxRetries: 30,
  maxTransfers: 200,
  maxTransfersPerClient: 200,
});
const { port } = await server.listen();
console.log(JSON.stringify({ port }));
process.stdin.resume();
process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
