import { Type } from 'typebox';

export { ErrorResponse } from '../core/adapters/http.ts';

/** What every write answers: the id, the aggregate's new version (also the ETag) and the event position. */
export const CommandAccepted = Type.Object({
  id: Type.String(),
  version: Type.Optional(Type.Integer()),
  position: Type.Integer({ description: 'global position of the last event appended; send it as X-Min-Position to the query API' }),
});

export const TenantParams = Type.Object({ tenantId: Type.String({ format: 'uuid' }) });
