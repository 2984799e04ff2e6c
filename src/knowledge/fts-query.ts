/**
 * Turns any user or model text into a valid FTS5 MATCH expression: words only, each quoted (so FTS
 * syntax such as AND, NEAR, column filters, `*` or unbalanced quotes has no effect), joined with OR so
 * BM25 ranks chunks by how many of the rarer words they share. Pure function.
 */

import { fieldSynonyms } from './synonyms.js';

// Words that carry no meaning for retrieval; BM25 would down-weight them, but with OR they still pull
// in chunks that share nothing else with the question. Third-person pronouns are here because callers
// ask about the client ("When was he born?") while documents name him; the lone letters are what
// contractions split into ("what's" -> "what", "s"), and match every possessive.
const STOPWORDS = new Set(
  'a an and are as at be but by can could did do does for from had has have he her hers herself him himself his how i if in into is it its itself me my myself of on or our please she should so than that the their them themselves then there these they this to was we were what when where which who whom whose why will with would you your yourself s t d ll re ve m'.split(
    ' ',
  ),
);

const MAX_TERMS = 32;

/** The searchable words of a query (lower-cased, stopwords and repeats dropped), at most 32. */
export function ftsTerms(query: string): string[] {
  const words = query.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const terms: string[] = [];
  for (const w of words) {
    if (STOPWORDS.has(w) || terms.includes(w)) continue;
    terms.push(w);
    if (terms.length === MAX_TERMS) break;
  }
  // A query made only of stopwords still deserves an answer: fall back to its words.
  if (!terms.length) for (const w of words) if (!terms.includes(w) && terms.length < MAX_TERMS) terms.push(w);
  return terms;
}

/**
 * The terms keyword search looks for: the query's own (ftsTerms) and the field labels its words stand
 * for (synonyms.ts: "born" also looks for "birth" and "dob").
 */
export function searchTerms(query: string): string[] {
  const terms = ftsTerms(query);
  const words = query.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...terms, ...fieldSynonyms(words, terms)];
}

/**
 * The text whose embedding stands for the query in vector search: the question, and the field labels
 * its words stand for, so "When was he born?" also lands near "Date of Birth". Unchanged when the
 * table adds nothing.
 */
export function vectorQueryText(query: string): string {
  const terms = ftsTerms(query);
  const words = query.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const added = fieldSynonyms(words, terms);
  return added.length ? `${query.trim()} (${added.join(', ')})` : query;
}

/** Terms as a MATCH expression: each quoted (so no FTS syntax survives), OR-ed. */
export function matchExpression(terms: string[]): string | undefined {
  return terms.length ? terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' OR ') : undefined;
}

/** The MATCH expression for a query, or undefined when it has no searchable words. */
export function ftsMatchExpression(query: string): string | undefined {
  return matchExpression(ftsTerms(query));
}
