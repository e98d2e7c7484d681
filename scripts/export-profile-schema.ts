// Writes resources/profile.schema.json from the zod profile schema (run: npx tsx scripts/export-profile-schema.ts).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { profileJsonSchema } from '../shared/profile/schema';

export const schemaFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'resources', 'profile.schema.json');

export function profileSchemaText(): string {
  return JSON.stringify(profileJsonSchema(), null, 2) + '\n';
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(schemaFile, profileSchemaText());
  console.log(`Wrote ${path.relative(process.cwd(), schemaFile)}`);
}
