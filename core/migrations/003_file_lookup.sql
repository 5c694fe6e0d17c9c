-- Deleting a document detaches it from its file's content stream, found by file id.
create index events_file_stored on events ((data->>'fileId')) where type = 'FileStored';
