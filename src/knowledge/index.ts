/** The knowledge base's public surface. */
export { KnowledgeBase, documentId, MAX_K, type KnowledgeBaseOptions, type SearchOptions } from './knowledge-base.js';
export { LOOKUP_MIN_RELEVANCE } from './rank.js';
export { parseSharing, ruleFor, withRule, SHARE_RULES, DEFAULT_DOCUMENT_RULE, DEFAULT_PROFILE_RULE, type SharingRules } from './sharing.js';
export { KnowledgeError, type DocumentInfo, type DocumentStatus, type Embedder, type EmbeddingsProvider, type KnowledgeLog, type RetrievedChunk, type SearchMode, type SearchPurpose, type ShareRule, type SyncReport } from './types.js';
export { chunkPages, chunkText, DEFAULT_CHUNKING, type Chunk, type ChunkOptions } from './chunk.js';
export { ftsMatchExpression } from './fts-query.js';
export { reciprocalRankFusion, RRF_K } from './fusion.js';
export { parseDocument, ParseError, type ParsedDocument } from './parse/index.js';
