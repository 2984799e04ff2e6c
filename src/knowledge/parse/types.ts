/** What every parser returns: plain text per page (one page with `page: null` for formats without pages). */
export interface ParsedDocument {
  pages: Array<{ page: number | null; text: string }>;
  /** Page count for paged formats. */
  pageCount?: number;
}

/** A file that could not be parsed; the message is shown to the user as the document's error. */
export class ParseError extends Error {
  override name = 'ParseError';
}
