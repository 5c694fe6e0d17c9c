export * from './shared/index.ts';
export * from './events.ts';
export * from './user/index.ts';
export * from './tenant/index.ts';
export * from './membership/index.ts';
export * from './file/index.ts';
export * from './document/index.ts';
export * from './notification-inbox/index.ts';
