import t from 'tap';
import { given } from '../../test/support/given-when-then.ts';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors.ts';
import { decideUpload, fileDecider, fileStreamId, type FileCommand, type FileEvent, type FileStored, type StoreFile } from './index.ts';

const tenantId = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
const fileId = 'a1b2c3d4-0000-4000-8000-000000000001';
const newFileId = 'a1b2c3d4-0000-4000-8000-000000000002';
const doc1 = 'd0c00000-0000-4000-8000-000000000001';
const doc2 = 'd0c00000-0000-4000-8000-000000000002';
const md5 = '9e107d9d372bb6826bd81d3542a419d6';
const sha256 = 'd7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592';
const now = '2025-01-02T03:04:05.000Z';
const later = '2025-01-03T00:00:00.000Z';

const store = (data: Partial<StoreFile['data']> = {}): StoreFile => ({
  type: 'StoreFile',
  data: { fileId, tenantId, s3Key: `${tenantId}/${fileId}`, md5, sha256, size: 43, contentType: 'text/plain', now, ...data },
});
const stored: FileStored = {
  type: 'FileStored',
  data: { fileId, tenantId, s3Key: `${tenantId}/${fileId}`, md5, sha256, size: 43, contentType: 'text/plain', storedAt: now },
};
const storedAgain: FileStored = {
  type: 'FileStored',
  data: { ...stored.data, fileId: newFileId, s3Key: `${tenantId}/${newFileId}` },
};
const attach = (documentId: string): FileCommand => ({ type: 'AttachDocument', data: { documentId } });
const detach = (documentId: string): FileCommand => ({ type: 'DetachDocument', data: { documentId } });
const attached = (documentId: string, id = fileId): FileEvent => ({ type: 'DocumentAttached', data: { fileId: id, documentId } });
const detached = (documentId: string, id = fileId): FileEvent => ({ type: 'DocumentDetached', data: { fileId: id, documentId } });
const scheduled = (reason = 'LAST_DOCUMENT_DETACHED'): FileEvent => ({
  type: 'FileDeletionScheduled',
  data: { fileId, s3Key: `${tenantId}/${fileId}`, reason },
});
const objectDeleted: FileEvent = { type: 'FileObjectDeleted', data: { fileId, s3Key: `${tenantId}/${fileId}`, deletedAt: later } };
const markDeleted = (id = fileId): FileCommand => ({ type: 'MarkFileObjectDeleted', data: { fileId: id, now: later } });
const schedule = (id = fileId, reason = 'orphan upload'): FileCommand => ({ type: 'ScheduleFileDeletion', data: { fileId: id, reason } });

t.test('stream id', async (t) => {
  t.equal(fileStreamId(tenantId, sha256, 43), `file-${tenantId}-${sha256}-43`);
});

t.test('StoreFile', async (t) => {
  t.test('the first upload of some content stores it', async (t) => {
    given(fileDecider, []).when(store()).then(t, [stored]);
  });
  t.test('the same content again is a no-op (first event wins)', async (t) => {
    given(fileDecider, [stored])
      .when(store({ fileId: newFileId, s3Key: 'other' }))
      .then(t, []);
  });
  t.test('after the object was scheduled for deletion or deleted, a new generation starts', async (t) => {
    const again = store({ fileId: newFileId, s3Key: `${tenantId}/${newFileId}` });
    given(fileDecider, [stored, scheduled()]).when(again).then(t, [storedAgain]);
    given(fileDecider, [stored, scheduled(), objectDeleted]).when(again).then(t, [storedAgain]);
  });
  t.test('a new generation needs a new fileId', async (t) => {
    given(fileDecider, [stored, scheduled(), objectDeleted]).when(store()).thenThrows(t, 'FILE_ID_REUSED', ConflictError);
  });
  t.test('other content in this stream is refused', async (t) => {
    given(fileDecider, [stored])
      .when(store({ size: 44 }))
      .thenThrows(t, 'FILE_IDENTITY_MISMATCH', ValidationError);
  });
  t.test('validates size, md5, sha256, content type and key', async (t) => {
    given(fileDecider, [])
      .when(store({ size: 0 }))
      .thenThrows(t, 'INVALID_SIZE', ValidationError);
    given(fileDecider, [])
      .when(store({ size: 1.5 }))
      .thenThrows(t, 'INVALID_SIZE', ValidationError);
    given(fileDecider, [])
      .when(store({ md5: md5.slice(1) }))
      .thenThrows(t, 'INVALID_MD5', ValidationError);
    given(fileDecider, [])
      .when(store({ md5: md5.toUpperCase() }))
      .thenThrows(t, 'INVALID_MD5', ValidationError);
    given(fileDecider, [])
      .when(store({ sha256: `${sha256.slice(1)}g` }))
      .thenThrows(t, 'INVALID_SHA256', ValidationError);
    given(fileDecider, [])
      .when(store({ contentType: ' ' }))
      .thenThrows(t, 'INVALID_CONTENT_TYPE', ValidationError);
    given(fileDecider, [])
      .when(store({ s3Key: '' }))
      .thenThrows(t, 'INVALID_S3_KEY', ValidationError);
  });
});

t.test('AttachDocument', async (t) => {
  t.test('attaches a document to the active file; twice is a no-op', async (t) => {
    given(fileDecider, [stored])
      .when(attach(doc1))
      .then(t, [attached(doc1)]);
    given(fileDecider, [stored, attached(doc1)])
      .when(attach(doc1))
      .then(t, []);
  });
  t.test('a file being deleted takes no document', async (t) => {
    given(fileDecider, [stored, scheduled()]).when(attach(doc1)).thenThrows(t, 'FILE_NOT_ACTIVE', ConflictError);
    given(fileDecider, [stored, scheduled(), objectDeleted]).when(attach(doc1)).thenThrows(t, 'FILE_NOT_ACTIVE', ConflictError);
  });
  t.test('an unknown file is not found', async (t) => {
    given(fileDecider, []).when(attach(doc1)).thenThrows(t, 'FILE_NOT_FOUND', NotFoundError);
  });
});

t.test('DetachDocument', async (t) => {
  t.test('detaching one of several documents keeps the file', async (t) => {
    given(fileDecider, [stored, attached(doc1), attached(doc2)])
      .when(detach(doc1))
      .then(t, [detached(doc1)]);
  });
  t.test('detaching the last document schedules the object deletion', async (t) => {
    given(fileDecider, [stored, attached(doc1), attached(doc2), detached(doc1)])
      .when(detach(doc2))
      .then(t, [detached(doc2), scheduled()]);
  });
  t.test('a document that is not attached is a no-op', async (t) => {
    given(fileDecider, [stored, attached(doc1)])
      .when(detach(doc2))
      .then(t, []);
    given(fileDecider, [stored, attached(doc1), detached(doc1), scheduled()])
      .when(detach(doc1))
      .then(t, []);
  });
  t.test('an unknown file is not found', async (t) => {
    given(fileDecider, []).when(detach(doc1)).thenThrows(t, 'FILE_NOT_FOUND', NotFoundError);
  });
});

t.test('ScheduleFileDeletion', async (t) => {
  t.test('schedules an unused file', async (t) => {
    given(fileDecider, [stored])
      .when(schedule())
      .then(t, [scheduled('orphan upload')]);
  });
  t.test('refuses while documents use it', async (t) => {
    given(fileDecider, [stored, attached(doc1)])
      .when(schedule())
      .thenThrows(t, 'FILE_IN_USE', ConflictError);
  });
  t.test('already scheduled, or another generation, is a no-op', async (t) => {
    given(fileDecider, [stored, scheduled()]).when(schedule()).then(t, []);
    given(fileDecider, [stored]).when(schedule(newFileId)).then(t, []);
  });
  t.test('needs a reason', async (t) => {
    given(fileDecider, [stored]).when(schedule(fileId, ' ')).thenThrows(t, 'INVALID_REASON', ValidationError);
  });
  t.test('an unknown file is not found', async (t) => {
    given(fileDecider, []).when(schedule()).thenThrows(t, 'FILE_NOT_FOUND', NotFoundError);
  });
});

t.test('MarkFileObjectDeleted', async (t) => {
  t.test('records the deletion of a scheduled object; twice is a no-op', async (t) => {
    given(fileDecider, [stored, scheduled()]).when(markDeleted()).then(t, [objectDeleted]);
    given(fileDecider, [stored, scheduled(), objectDeleted]).when(markDeleted()).then(t, []);
  });
  t.test('records an old generation deleted after a new one started', async (t) => {
    given(fileDecider, [stored, scheduled(), storedAgain]).when(markDeleted()).then(t, [objectDeleted]);
  });
  t.test('refuses for an object in use', async (t) => {
    given(fileDecider, [stored, attached(doc1)])
      .when(markDeleted())
      .thenThrows(t, 'FILE_DELETION_NOT_SCHEDULED', ConflictError);
  });
  t.test('an unknown file is not found', async (t) => {
    given(fileDecider, []).when(markDeleted()).thenThrows(t, 'FILE_NOT_FOUND', NotFoundError);
  });
});

t.test('decideUpload (StoreFile + AttachDocument)', async (t) => {
  const fold = (events: FileEvent[]) => events.reduce(fileDecider.evolve, fileDecider.initialState());
  t.same(decideUpload(store(), doc1, fold([])), { events: [stored, attached(doc1)], fileId, deduplicated: false });
  t.same(decideUpload(store({ fileId: newFileId }), doc2, fold([stored, attached(doc1)])), {
    events: [attached(doc2)],
    fileId,
    deduplicated: true,
  });
  t.same(decideUpload(store({ fileId: newFileId, s3Key: `${tenantId}/${newFileId}` }), doc2, fold([stored, scheduled()])), {
    events: [storedAgain, attached(doc2, newFileId)],
    fileId: newFileId,
    deduplicated: false,
  });
});

t.test('evolve', async (t) => {
  const file = stored.data;
  const object = { fileId, s3Key: `${tenantId}/${fileId}` };
  given(fileDecider, []).thenState(t, { status: 'initial' });
  given(fileDecider, [stored, attached(doc1), attached(doc2), detached(doc1)]).thenState(t, {
    status: 'active',
    file,
    documentIds: [doc2],
    pendingDeletions: [],
  });
  given(fileDecider, [stored, attached(doc1), detached(doc1), scheduled()]).thenState(t, {
    status: 'deletionScheduled',
    file,
    pendingDeletions: [object],
  });
  given(fileDecider, [stored, scheduled(), objectDeleted]).thenState(t, { status: 'deleted', file, pendingDeletions: [] });
  given(fileDecider, [stored, scheduled(), storedAgain]).thenState(t, {
    status: 'active',
    file: storedAgain.data,
    documentIds: [],
    pendingDeletions: [object],
  });
  given(fileDecider, [stored, scheduled(), storedAgain, objectDeleted]).thenState(t, {
    status: 'active',
    file: storedAgain.data,
    documentIds: [],
    pendingDeletions: [],
  });
});
