/**
 * Getting certificates and CRLs into and out of a store.
 */
export { EXPORT_FORMATS, exportItems, type ExportFormat } from './export.ts';
export { fileReadReason } from './file-errors.ts';
export {
  importFiles,
  type FileSummary,
  type ImportOptions,
  type ImportReport,
} from './import-files.ts';
export {
  MAX_IMPORT_FILE_BYTES,
  readCertificateFile,
  type FileContents,
  type FileFormat,
  type ImportProblem,
} from './read-file.ts';
