import { Type, type Static } from 'typebox';
import type { TenantEvent } from './events.ts';

type TenantDetails = {
  tenantId: string;
  name: string;
  slug: string;
  databaseName: string;
  /** The tenant server its database is on (TenantPlaced); `main` for tenants older than placement. */
  server: string;
  createdBy: string;
  createdAt: string;
};

export type TenantState =
  | { status: 'initial' }
  | ({ status: 'provisioning'; failedAttempts: number; lastFailure: string | null } & TenantDetails)
  | ({ status: 'active'; provisionedAt: string } & TenantDetails)
  | ({ status: 'deleted'; provisionedAt: string | null; deletedBy: string; deletedAt: string } & TenantDetails);

/** The tenant's lifecycle as other aggregates receive it (e.g. membership commands' tenantStatus). */
export const TenantStatusSchema = Type.Union([Type.Literal('provisioning'), Type.Literal('active'), Type.Literal('deleted')]);
export type TenantStatus = Static<typeof TenantStatusSchema>;

export const initialTenantState = (): TenantState => ({ status: 'initial' });

export function evolveTenant(state: TenantState, event: TenantEvent): TenantState {
  switch (event.type) {
    case 'TenantCreated':
      return { status: 'provisioning', ...event.data, server: 'main', failedAttempts: 0, lastFailure: null };
    case 'TenantPlaced':
      return state.status === 'initial' ? state : { ...state, server: event.data.server, databaseName: event.data.database };
    case 'TenantRenamed':
      return state.status === 'initial' ? state : { ...state, name: event.data.name };
    case 'TenantProvisioned':
      return state.status === 'provisioning' ? { ...detailsOf(state), status: 'active', provisionedAt: event.data.provisionedAt } : state;
    case 'TenantProvisioningFailed':
      return state.status === 'provisioning' ? { ...state, failedAttempts: state.failedAttempts + 1, lastFailure: event.data.reason } : state;
    case 'TenantDeleted':
      return state.status === 'initial' || state.status === 'deleted'
        ? state
        : {
            ...detailsOf(state),
            status: 'deleted',
            provisionedAt: state.status === 'active' ? state.provisionedAt : null,
            deletedBy: event.data.deletedBy,
            deletedAt: event.data.deletedAt,
          };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

function detailsOf(state: TenantDetails): TenantDetails {
  const { tenantId, name, slug, databaseName, server, createdBy, createdAt } = state;
  return { tenantId, name, slug, databaseName, server, createdBy, createdAt };
}
