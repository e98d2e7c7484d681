// The profile domain in one import: schema, defaults, migrations and validation.
export * from './schema';
export * from './defaults';
export * from './migrate';
export * from './check';
