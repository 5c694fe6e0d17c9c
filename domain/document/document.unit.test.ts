import t from 'tap';
import { given } from '../../test/support/given-when-then.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../shared/errors.ts';
import type { Role } from '../shared/roles.ts';
import {
  documentDecider,
  documentStreamId,
  type CreateDocument,
  type DocumentCommand,
  type DocumentCreated,
  type DocumentEvent,
  type UpdateDocument,
} from './index.ts';

const tenantId = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
const documentId = 'd0c00000-0000-4000-8000-000000000001';
const fileId = 'a1b2c3d4-0000-4000-8000-000000000001';
const owner = '6f1c2a9e-1b2c-4d3e-8f40-5a6b7c8d9e01';
const someoneElse = '0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d';
const now = '2025-01-02T03:04:05.000Z';
const later = '2025-01-03T00:00:00.000Z';
const expiresAt = '2025-01-03T01:00:00.000Z';

const create = (data: Partial<CreateDocument['data']> = {}): DocumentCommand => ({
  type: 'CreateDocument',
  data: { documentId, tenantId, fileId, filename: 'report.pdf', contentType: 'application/pdf', size: 1024, ownerId: owner, actorRole: 'user', now, ...data },
});
const created: DocumentCreated = {
  type: 'DocumentCreated',
  data: {
    documentId,
    tenantId,
    fileId,
    title: 'report.pdf',
    description: '',
    tags: [],
    filename: 'report.pdf',
    contentType: 'application/pdf',
    size: 1024,
    ownerId: owner,
    createdAt: now,
  },
};
const createdWith = (data: Partial<DocumentCreated['data']>): DocumentCreated => ({ ...created, data: { ...created.data, ...data } });
const update = (data: Partial<UpdateDocument['data']>): DocumentCommand => ({
  type: 'UpdateDocument',
  data: { actorId: owner, actorRole: 'user', now: later, ...data },
});
const updated = (changes: { title?: string; description?: string; tags?: string[] }): DocumentEvent => ({
  type: 'DocumentUpdated',
  data: { documentId, tenantId, ...changes, updatedAt: later },
});
const remove = (actorId = owner, actorRole: Role = 'user'): DocumentCommand => ({ type: 'DeleteDocument', data: { actorId, actorRole, now: later } });
const deleted = (deletedBy = owner): DocumentEvent => ({ type: 'DocumentDeleted', data: { documentId, tenantId, fileId, deletedBy, deletedAt: later } });
const issueUrl = (expiresInSeconds = 3600, actorId = someoneElse): DocumentCommand => ({
  type: 'IssueDownloadUrl',
  data: { actorId, expiresInSeconds, expiresAt, now: later },
});

t.test('stream id', async (t) => {
  t.equal(documentStreamId(documentId), `document-${documentId}`);
});

t.test('CreateDocument', async (t) => {
  t.test('a user or an admin creates; the title defaults to the filename', async (t) => {
    given(documentDecider, []).when(create()).then(t, [created]);
    given(documentDecider, [])
      .when(create({ title: '  ' }))
      .then(t, [created]);
    given(documentDecider, [])
      .when(create({ actorRole: 'admin' }))
      .then(t, [created]);
  });
  t.test('keeps a trimmed title, description and tags', async (t) => {
    given(documentDecider, [])
      .when(create({ title: ' Q1 ', description: ' numbers ', tags: ['finance', ' q1 ', 'année_2025', 'v1.2-final'] }))
      .then(t, [createdWith({ title: 'Q1', description: 'numbers', tags: ['finance', 'q1', 'année_2025', 'v1.2-final'] })]);
  });
  t.test('a viewer cannot create', async (t) => {
    given(documentDecider, [])
      .when(create({ actorRole: 'viewer' }))
      .thenThrows(t, 'FORBIDDEN', ForbiddenError);
  });
  t.test('cannot be created twice', async (t) => {
    given(documentDecider, [created]).when(create()).thenThrows(t, 'DOCUMENT_EXISTS', ConflictError);
  });
  t.test('title 1..255 characters', async (t) => {
    given(documentDecider, [])
      .when(create({ title: 't'.repeat(255) }))
      .then(t, [createdWith({ title: 't'.repeat(255) })]);
    given(documentDecider, [])
      .when(create({ title: 't'.repeat(256) }))
      .thenThrows(t, 'INVALID_TITLE', ValidationError);
  });
  t.test('description at most 2000 characters', async (t) => {
    given(documentDecider, [])
      .when(create({ description: 'd'.repeat(2000) }))
      .then(t, [createdWith({ description: 'd'.repeat(2000) })]);
    given(documentDecider, [])
      .when(create({ description: 'd'.repeat(2001) }))
      .thenThrows(t, 'INVALID_DESCRIPTION', ValidationError);
  });
  t.test('tags: at most 20, each 1..50 letters, digits, _ . -, unique', async (t) => {
    const twenty = Array.from({ length: 20 }, (_, index) => `tag${index}`);
    given(documentDecider, [])
      .when(create({ tags: twenty }))
      .then(t, [createdWith({ tags: twenty })]);
    given(documentDecider, [])
      .when(create({ tags: [...twenty, 'one-more'] }))
      .thenThrows(t, 'INVALID_TAGS', ValidationError);
    given(documentDecider, [])
      .when(create({ tags: ['x'.repeat(50)] }))
      .then(t, [createdWith({ tags: ['x'.repeat(50)] })]);
    for (const tag of ['x'.repeat(51), '', 'two words', 'a/b', 'semi;colon']) {
      given(documentDecider, [])
        .when(create({ tags: [tag] }))
        .thenThrows(t, 'INVALID_TAGS', ValidationError);
    }
    given(documentDecider, [])
      .when(create({ tags: ['same', 'same'] }))
      .thenThrows(t, 'INVALID_TAGS', ValidationError);
  });
  t.test('filename: 1..255, no slashes, control or bidirectional control characters, no NUL or unpaired surrogate', async (t) => {
    for (const filename of [
      '',
      '../etc/passwd',
      'a\\b.txt',
      'bad\nname',
      'f'.repeat(256),
      'invoice\u202Efdp.exe',
      'a\u2067b.pdf',
      'a\u0000b',
      'half\ud83d.pdf',
    ]) {
      given(documentDecider, []).when(create({ filename })).thenThrows(t, 'INVALID_FILENAME', ValidationError);
    }
  });
  t.test('size must be positive', async (t) => {
    given(documentDecider, [])
      .when(create({ size: 0 }))
      .thenThrows(t, 'INVALID_SIZE', ValidationError);
  });
});

t.test('UpdateDocument', async (t) => {
  t.test('the owner updates only what changed', async (t) => {
    given(documentDecider, [created])
      .when(update({ title: 'Q1 report', description: '', tags: ['q1'] }))
      .then(t, [updated({ title: 'Q1 report', tags: ['q1'] })]);
  });
  t.test('an empty description clears it', async (t) => {
    given(documentDecider, [createdWith({ description: 'old' })])
      .when(update({ description: '' }))
      .then(t, [updated({ description: '' })]);
  });
  t.test('nothing changed is a no-op', async (t) => {
    given(documentDecider, [created]).when(update({})).then(t, []);
    given(documentDecider, [created])
      .when(update({ title: ' report.pdf ', description: '', tags: [] }))
      .then(t, []);
  });
  t.test('an admin can update any document', async (t) => {
    given(documentDecider, [created])
      .when(update({ title: 'By admin', actorId: someoneElse, actorRole: 'admin' }))
      .then(t, [updated({ title: 'By admin' })]);
  });
  t.test('another user cannot', async (t) => {
    given(documentDecider, [created])
      .when(update({ title: 'Mine now', actorId: someoneElse }))
      .thenThrows(t, 'NOT_OWNER', ForbiddenError);
  });
  t.test('a viewer cannot, even the owner', async (t) => {
    given(documentDecider, [created])
      .when(update({ title: 'x', actorRole: 'viewer' }))
      .thenThrows(t, 'FORBIDDEN', ForbiddenError);
  });
  t.test('validates the new values', async (t) => {
    given(documentDecider, [created])
      .when(update({ title: ' ' }))
      .thenThrows(t, 'INVALID_TITLE', ValidationError);
    given(documentDecider, [created])
      .when(update({ description: 'd'.repeat(2001) }))
      .thenThrows(t, 'INVALID_DESCRIPTION', ValidationError);
    given(documentDecider, [created])
      .when(update({ tags: ['a', 'a'] }))
      .thenThrows(t, 'INVALID_TAGS', ValidationError);
  });
  t.test('a deleted or unknown document is not found', async (t) => {
    given(documentDecider, [created, deleted()])
      .when(update({ title: 'x' }))
      .thenThrows(t, 'DOCUMENT_NOT_FOUND', NotFoundError);
    given(documentDecider, [])
      .when(update({ title: 'x' }))
      .thenThrows(t, 'DOCUMENT_NOT_FOUND', NotFoundError);
  });
});

t.test('DeleteDocument', async (t) => {
  t.test('the owner or an admin deletes', async (t) => {
    given(documentDecider, [created]).when(remove()).then(t, [deleted()]);
    given(documentDecider, [created])
      .when(remove(someoneElse, 'admin'))
      .then(t, [deleted(someoneElse)]);
  });
  t.test('another user or a viewer cannot', async (t) => {
    given(documentDecider, [created]).when(remove(someoneElse)).thenThrows(t, 'NOT_OWNER', ForbiddenError);
    given(documentDecider, [created]).when(remove(someoneElse, 'viewer')).thenThrows(t, 'FORBIDDEN', ForbiddenError);
  });
  t.test('twice, or unknown, is not found', async (t) => {
    given(documentDecider, [created, deleted()]).when(remove()).thenThrows(t, 'DOCUMENT_NOT_FOUND', NotFoundError);
    given(documentDecider, []).when(remove()).thenThrows(t, 'DOCUMENT_NOT_FOUND', NotFoundError);
  });
});

t.test('IssueDownloadUrl', async (t) => {
  const issued: DocumentEvent[] = [{ type: 'DownloadUrlIssued', data: { documentId, tenantId, issuedTo: someoneElse, issuedAt: later, expiresAt } }];
  t.test('any member gets a URL for 1..86400 seconds, and it is recorded', async (t) => {
    given(documentDecider, [created]).when(issueUrl(1)).then(t, issued);
    given(documentDecider, [created]).when(issueUrl(86_400)).then(t, issued);
  });
  t.test('other durations are refused', async (t) => {
    for (const seconds of [0, -1, 86_401, 1.5]) {
      given(documentDecider, [created]).when(issueUrl(seconds)).thenThrows(t, 'INVALID_EXPIRES_IN', ValidationError);
    }
  });
  t.test('a deleted document is not found', async (t) => {
    given(documentDecider, [created, deleted()]).when(issueUrl()).thenThrows(t, 'DOCUMENT_NOT_FOUND', NotFoundError);
  });
});

t.test('evolve', async (t) => {
  const downloadUrlIssued: DocumentEvent = { type: 'DownloadUrlIssued', data: { documentId, tenantId, issuedTo: owner, issuedAt: later, expiresAt } };
  given(documentDecider, []).thenState(t, { status: 'initial' });
  given(documentDecider, [created, updated({ title: 'Q1', tags: ['q1'] }), updated({ description: 'numbers' }), downloadUrlIssued]).thenState(t, {
    status: 'active',
    ...created.data,
    title: 'Q1',
    description: 'numbers',
    tags: ['q1'],
    updatedAt: later,
  });
  given(documentDecider, [created, deleted(someoneElse)]).thenState(t, {
    status: 'deleted',
    documentId,
    tenantId,
    fileId,
    ownerId: owner,
    deletedBy: someoneElse,
    deletedAt: later,
  });
});
