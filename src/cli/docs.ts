import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { action, paint, table, withConnection } from './output.js';
import { EXIT } from './exit-codes.js';

export function docsCommand(): Command {
  const docs = new Command('docs').description("A client's documents: upload, list, search as the agent would");

  docs.addCommand(
    withConnection(new Command('upload'))
      .description('Upload documents (.pdf, .docx, .md, .txt) for a client; they are indexed at once')
      .argument('<client>', 'the client id')
      .argument('<files...>', 'the files')
      .action(
        action(async (ctx, client: string, files: string[]) => {
          const parts = await Promise.all(files.map(async (f) => ({ name: basename(f), data: await openAsBlob(f) })));
          const r = await ctx.api.uploadDocuments(client, parts);
          ctx.print(r, () => [
            ...r.documents.map((d) => `${d.file}: ${d.status}, ${d.chunks} chunk(s)${d.error ? ` (${d.error})` : ''}`),
            ...r.errors.map((e) => paint(31, `${e.file}: ${e.error}`)),
          ]);
          // Some files stored, some refused: the refused ones are named above; the exit code says so too.
          return r.errors.length ? EXIT.usage : EXIT.ok;
        }),
      ),
  );

  docs.addCommand(
    withConnection(new Command('list'))
      .description("A client's documents, with index status and sharing rule")
      .argument('<client>', 'the client id')
      .action(
        action(async (ctx, client: string) => {
          const r = await ctx.api.listDocuments(client);
          ctx.print(r, () => (r.documents.length ? table(['ID', 'FILE', 'STATUS', 'CHUNKS', 'SHARE', 'BYTES'], r.documents.map((d) => [d.id, d.file, d.status + (d.error ? ` (${d.error})` : ''), d.chunks, d.share, d.bytes])) : 'No documents.'));
        }),
      ),
  );

  docs.addCommand(
    withConnection(new Command('search'))
      .description("Search a client's documents: what the agent would retrieve, with scores and sources")
      .argument('<client>', 'the client id')
      .argument('<query>', 'the question')
      .option('-k <n>', 'how many passages', (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number above 0');
        return n;
      })
      .addOption(new Option('--view <view>', 'owner: every passage, each saying whether the agent may share it; agent: only what the agent may be given').choices(['owner', 'agent']).default('owner'))
      .action(
        action(async (ctx, client: string, query: string, o: { k?: number; view: 'owner' | 'agent' }) => {
          const r = await ctx.api.searchDocuments(client, query, { k: o.k, view: o.view });
          ctx.print(r, () =>
            r.results.length
              ? r.results.flatMap((p, i) => [
                  paint(1, `${i + 1}. ${p.file}${p.page ? ` p.${p.page}` : ''}`) + paint(2, `  score ${p.score.toFixed(3)}, ${p.share}${p.agentCanShare ? '' : ', not shared by the agent'}`),
                  `   ${p.text.replace(/\s+/g, ' ').slice(0, 300)}`,
                ])
              : `Nothing found (${r.mode}).`,
          );
        }),
      ),
  );
  return docs;
}
