// The profiles domain's front door for the CLI: profile files the user names.
export { loadProfileFile, readProfileText } from './service';
