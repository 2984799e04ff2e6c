/** The knowledge base's public surface. */
export { KnowledgeBase, documentId, MAX_K, type KnowledgeBaseOptions, type SearchOptions } from './knowledge-base.js';
export { KnowledgeError, type DocumentInfo, type DocumentStatus, type Embedder, type EmbeddingsProvider, type KnowledgeLog, type RetrievedChunk, type SearchMode, type SyncReport } from './types.js';
export { chunkPages, chunkText, DEFAULT_CHUNKING, type Chunk, type ChunkOptions } from './chunk.js';
export { ftsMatchExpression } from './fts-query.js';
export { reciprocalRankFusion, RRF_K } from './fusion.js';
export { parseDocument, ParseError, type ParsedDocument } from './parse/index.js';
