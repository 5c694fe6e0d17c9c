/**
 * Domain errors carry a stable machine-readable `code` (SCREAMING_SNAKE) and the HTTP status the
 * API answers with, so one error handler can map every broken rule without knowing the domain.
 */
export class DomainError extends Error {
  readonly code: string;
  readonly statusCode: number;

  constructor(code: string, message: string, statusCode: number) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.statusCode = statusCode;
  }
}

/** 400: the command's data breaks a rule on its own (syntax, length, range). */
export class ValidationError extends DomainError {
  constructor(code: string, message: string) {
    super(code, message, 400);
  }
}

/** 403: the actor's role or ownership does not allow the command. */
export class ForbiddenError extends DomainError {
  constructor(code: string, message: string) {
    super(code, message, 403);
  }
}

/** 404: the aggregate (or the member inside it) does not exist, or no longer exists. */
export class NotFoundError extends DomainError {
  constructor(code: string, message: string) {
    super(code, message, 404);
  }
}

/**
 * 409: a business conflict with the current state (EMAIL_TAKEN, LAST_ADMIN, TENANT_DELETED...).
 * A deleted tenant answers TENANT_DELETED only to its members; the command handler answers
 * 404 NOT_FOUND to outsiders before any decider runs, so a deleted tenant's existence never leaks.
 */
export class ConflictError extends DomainError {
  constructor(code: string, message: string) {
    super(code, message, 409);
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}
