// Child of listen.test.ts: tries port 69 as whoever runs it and prints the error as JSON.
import { createTftpServer } from '../../../electron/services/tftp/server';
import { ImagerError } from '../../../shared/errors';

try {
  const server = createTftpServer({ address: '127.0.0.1', port: 69 });
  await server.listen();
  await server.close();
  console.log(JSON.stringify({ code: 'LISTENED' }));
} catch (error) {
  console.log(JSON.stringify(error instanceof ImagerError ? error.toJSON() : { code: 'OTHER', message: String(error) }));
}
