// The boot domain's front door for the CLI: the one way from a profile to its boot bundle, and what is done with it.
export { readComponentFacts } from './facts';
export { gzipKernelFile } from './gzip-kernel';
export { bootPartitionEdit, prepareBoot, provenanceProblems, readProfileFiles, readyBoot, type PreparedBoot } from './prepare';
export { writeBootFiles } from './service';
