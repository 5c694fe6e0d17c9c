import { ValidationError } from '../shared/errors.ts';
import { clientInfo } from '../shared/client.ts';
import type { AuthActivityCommand, RecordLoginFailed } from './commands.ts';
import type { AuthActivityEvent } from './events.ts';
import type { AuthActivityState } from './evolve.ts';

const PSEUDONYM = /^[0-9a-f]{64}$/;

/**
 * Authentication outcomes are facts to record, not requests to judge: nothing in the stream's
 * past can refuse them, so the decider never looks at its state. It only keeps the record clean
 * (a known user or a pseudonym, never both; the client's text cut to size).
 */
export function decideAuthActivity(command: AuthActivityCommand, _state: AuthActivityState): AuthActivityEvent[] {
  const { data } = command;
  const client = clientInfo(data.client.ip, data.client.userAgent);
  switch (command.type) {
    case 'RecordLoginSucceeded':
      return [{ type: 'LoginSucceeded', data: { userId: command.data.userId, sessionId: command.data.sessionId, client, at: data.now } }];
    case 'RecordLoginFailed':
      return [loginFailed(command, client)];
    case 'RecordLogout':
      return [{ type: 'LoggedOut', data: { userId: command.data.userId, sessionId: command.data.sessionId, client, at: data.now } }];
    case 'RecordRefreshTokenReuse':
      return [{ type: 'RefreshTokenReuseDetected', data: { userId: command.data.userId, sessionId: command.data.sessionId, client, at: data.now } }];
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

function loginFailed({ data }: RecordLoginFailed, client: ReturnType<typeof clientInfo>): AuthActivityEvent {
  if ((data.userId === null) === (data.emailPseudonym === null)) {
    throw new ValidationError('INVALID_SUBJECT', 'a failed login names either a known user or an email pseudonym');
  }
  if (data.emailPseudonym !== null && !PSEUDONYM.test(data.emailPseudonym)) {
    throw new ValidationError('INVALID_SUBJECT', 'an email pseudonym is 64 lower-case hex digits (HMAC-SHA-256)');
  }
  return {
    type: 'LoginFailed',
    data: {
      userId: data.userId,
      emailPseudonym: data.emailPseudonym,
      reason: data.userId === null ? 'unknown_email' : 'wrong_password',
      client,
      at: data.now,
    },
  };
}
