// The only two IPC channels: calls into the contract, and events out of it.
export const INVOKE_CHANNEL = 'imager:invoke';
export const EVENT_CHANNEL = 'imager:event';
