import { ConflictError, ForbiddenError, NotFoundError } from '../shared/errors.ts';
import { requireTrimmedText } from '../shared/validation.ts';
import { clientInfo } from '../shared/client.ts';
import type { ChangePassword, EraseUser, RegisterUser, UpdateProfile, UserCommand } from './commands.ts';
import { requireValidEmail } from './email.ts';
import type { UserEvent } from './events.ts';
import type { UserState } from './evolve.ts';

type RegisteredUser = Extract<UserState, { status: 'registered' }>;

const DISPLAY_NAME = { code: 'INVALID_DISPLAY_NAME', label: 'displayName', min: 1, max: 100 };

export function decideUser(command: UserCommand, state: UserState): UserEvent[] {
  switch (command.type) {
    case 'RegisterUser':
      return registerUser(command, state);
    case 'ChangePassword':
      return changePassword(command, requireRegistered(state));
    case 'UpdateProfile':
      return updateProfile(command, requireRegistered(state));
    case 'EraseUser':
      return eraseUser(command, requireRegistered(state));
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

function registerUser({ data }: RegisterUser, state: UserState): UserEvent[] {
  if (state.status !== 'initial') throw new ConflictError('USER_EXISTS', 'this user is already registered');
  return [
    {
      type: 'UserRegistered',
      data: {
        userId: data.userId,
        email: requireValidEmail(data.email),
        displayName: requireTrimmedText(data.displayName, DISPLAY_NAME),
        registeredAt: data.now,
      },
    },
  ];
}

function changePassword({ data }: ChangePassword, user: RegisteredUser): UserEvent[] {
  requireSelf(data.actorId, user);
  const client = clientInfo(data.client.ip, data.client.userAgent);
  return [{ type: 'UserPasswordChanged', data: { userId: user.userId, changedAt: data.now, client } }];
}

function updateProfile({ data }: UpdateProfile, user: RegisteredUser): UserEvent[] {
  requireSelf(data.actorId, user);
  const displayName = requireTrimmedText(data.displayName, DISPLAY_NAME);
  if (displayName === user.displayName) return [];
  return [{ type: 'UserProfileUpdated', data: { userId: user.userId, displayName, updatedAt: data.now } }];
}

function eraseUser({ data }: EraseUser, user: RegisteredUser): UserEvent[] {
  requireSelf(data.actorId, user);
  return [{ type: 'SubjectErased', data: { userId: user.userId, tenantId: null, erasedBy: data.actorId, erasedAt: data.now } }];
}

function requireRegistered(state: UserState): RegisteredUser {
  if (state.status !== 'registered') throw new NotFoundError('USER_NOT_FOUND', 'user not found');
  return state;
}

function requireSelf(actorId: string, user: RegisteredUser): void {
  if (actorId !== user.userId) throw new ForbiddenError('FORBIDDEN', 'only the user can change their own account');
}
