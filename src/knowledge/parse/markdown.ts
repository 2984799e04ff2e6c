import { Lexer, type Token, type Tokens } from 'marked';
import { decodeText } from './text.js';
import type { ParsedDocument } from './types.js';
import { tableToText } from './table.js';
import { decodeEntities, stripTags } from './html-text.js';

/** Markdown to plain text with marked's lexer: headings and list items kept as lines, markup dropped. */
export function parseMarkdown(bytes: Uint8Array): ParsedDocument {
  const tokens = new Lexer({ gfm: true }).lex(decodeText(bytes));
  const blocks: string[] = [];
  blocksOf(tokens, blocks);
  return { pages: [{ page: null, text: blocks.filter((b) => b.trim()).join('\n\n') }] };
}

function blocksOf(tokens: Token[], out: string[]): void {
  for (const t of tokens) {
    switch (t.type) {
      case 'heading':
      case 'paragraph':
        out.push(inline((t as Tokens.Heading | Tokens.Paragraph).tokens));
        break;
      case 'list':
        out.push((t as Tokens.List).items.map((item) => `- ${listItem(item)}`).join('\n'));
        break;
      case 'table': {
        const table = t as Tokens.Table;
        out.push(tableLines(table));
        break;
      }
      case 'blockquote':
        blocksOf((t as Tokens.Blockquote).tokens, out);
        break;
      case 'code':
        out.push((t as Tokens.Code).text);
        break;
      case 'html':
        out.push(stripTags((t as Tokens.HTML).text));
        break;
      case 'text':
        out.push('tokens' in t && t.tokens ? inline(t.tokens) : (t as Tokens.Text).text);
        break;
      default:
        // space, hr, def: no text to keep.
        break;
    }
  }
}

function listItem(item: Tokens.ListItem): string {
  const parts: string[] = [];
  blocksOf(item.tokens, parts);
  return parts.join('\n  ').trim();
}

function tableLines(table: Tokens.Table): string {
  const header = table.header.map((c) => inline(c.tokens));
  return tableToText(header, table.rows.map((r) => r.map((c) => inline(c.tokens))));
}

function inline(tokens: Token[] | undefined): string {
  if (!tokens) return '';
  let s = '';
  for (const t of tokens) {
    if (t.type === 'br') s += '\n';
    else if (t.type === 'image') s += (t as Tokens.Image).text;
    else if (t.type === 'html') s += stripTags((t as Tokens.Tag).text);
    else if ('tokens' in t && t.tokens && t.tokens.length) s += inline(t.tokens);
    else if ('text' in t && typeof t.text === 'string') s += decodeEntities(t.text);
  }
  return s;
}
