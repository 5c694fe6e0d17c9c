import t from 'tap';
import { detectContentType, safeFilename } from './content-type.ts';

const bytes = (...b: number[]) => Buffer.from(b);

t.test('the first bytes decide the type; a claim only where they do not', async (t) => {
  t.equal(detectContentType(Buffer.from('%PDF-1.7\n'), 'x.bin', 'text/plain'), 'application/pdf', 'a PDF claimed as text is a PDF');
  t.equal(detectContentType(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), 'a', undefined), 'image/png');
  t.equal(
    detectContentType(bytes(0x50, 0x4b, 0x03, 0x04), 'report.docx', 'application/zip'),
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'a zip container named .docx',
  );
  t.equal(detectContentType(Buffer.from('hello'), 'a.txt', 'application/pdf'), 'text/plain', 'a PDF claim without the PDF signature is not believed');
  t.equal(detectContentType(Buffer.from('a,b\n1,2\n'), 'a.csv', 'text/csv'), 'text/csv', 'a sane claim is kept');
  t.equal(detectContentType(bytes(0, 1, 2, 3), 'a', 'not a type'), 'application/octet-stream', 'binary with an insane claim');
});

t.test('filenames lose their paths and control characters', async (t) => {
  t.equal(safeFilename('../../etc/passwd'), 'passwd');
  t.equal(safeFilename('C:\\Users\\a\\report.pdf'), 'report.pdf');
  t.equal(safeFilename('a\r\nb"c.pdf'), 'abc.pdf');
  t.equal(safeFilename(undefined), 'file');
  t.equal(safeFilename('..'), 'file');
});
