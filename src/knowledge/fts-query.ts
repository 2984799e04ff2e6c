/**
 * Turns any user or model text into a valid FTS5 MATCH expression: words only, each quoted (so FTS
 * syntax such as AND, NEAR, column filters, `*` or unbalanced quotes has no effect), joined with OR so
 * BM25 ranks chunks by how many of the rarer words they share. Pure function.
 */

// Words that carry no meaning for retrieval; BM25 would down-weight them, but with OR they still pull
// in chunks that share nothing else with the question.
const STOPWORDS = new Set(
  'a an and are as at be but by can could did do does for from had has have how i if in into is it its me my of on or our please should so than that the their them then there these they this to was we were what when where which who whom why will with would you your'.split(
    ' ',
  ),
);

const MAX_TERMS = 32;

/** The MATCH expression for a query, or undefined when it has no searchable words. */
export function ftsMatchExpression(query: string): string | undefined {
  const words = query.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const terms: string[] = [];
  for (const w of words) {
    if (STOPWORDS.has(w) || terms.includes(w)) continue;
    terms.push(w);
    if (terms.length === MAX_TERMS) break;
  }
  // A query made only of stopwords still deserves an answer: fall back to its words.
  if (!terms.length) for (const w of words) if (!terms.includes(w) && terms.length < MAX_TERMS) terms.push(w);
  return terms.length ? terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' OR ') : undefined;
}
