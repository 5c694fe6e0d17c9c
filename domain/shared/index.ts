export * from './decider.ts';
export * from './errors.ts';
export * from './roles.ts';
export * from './message.ts';
export * from './validation.ts';
export * from './client.ts';
