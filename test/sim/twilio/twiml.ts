/**
 * A small, strict XML parser for TwiML. Strict on purpose: Twilio rejects malformed documents
 * (error 12100), so a product bug that produces bad XML must fail here too, not be papered over.
 */

export interface TwimlNode {
  name: string;
  attrs: Record<string, string>;
  children: TwimlNode[];
  /** Concatenated, entity-decoded text content of this element (direct children only). */
  text: string;
}

export class TwimlParseError extends Error {}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (m, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    const e = ENTITIES[ref];
    if (e === undefined) throw new TwimlParseError(`unknown entity ${m}`);
    return e;
  });
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const ATTR = /\s+([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/y;

/** Parses an XML document into its root element. */
export function parseXml(xml: string): TwimlNode {
  let i = 0;
  const stack: TwimlNode[] = [];
  let root: TwimlNode | null = null;
  const fail = (msg: string): never => {
    throw new TwimlParseError(`${msg} at offset ${i}`);
  };
  const skipMisc = (): void => {
    for (;;) {
      const ws = /\s*/y;
      ws.lastIndex = i;
      ws.exec(xml);
      i = ws.lastIndex;
      if (xml.startsWith('<?', i)) {
        const end = xml.indexOf('?>', i);
        if (end < 0) fail('unterminated processing instruction');
        i = end + 2;
      } else if (xml.startsWith('<!--', i)) {
        const end = xml.indexOf('-->', i);
        if (end < 0) fail('unterminated comment');
        i = end + 3;
      } else return;
    }
  };

  if (xml.charCodeAt(0) === 0xfeff) i = 1;
  skipMisc();
  while (i < xml.length) {
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i);
      if (end < 0) fail('unterminated comment');
      i = end + 3;
    } else if (xml.startsWith('<![CDATA[', i)) {
      const end = xml.indexOf(']]>', i);
      if (end < 0) fail('unterminated CDATA');
      if (stack.length === 0) fail('CDATA outside the root element');
      stack[stack.length - 1].text += xml.slice(i + 9, end);
      i = end + 3;
    } else if (xml.startsWith('<?', i)) {
      const end = xml.indexOf('?>', i);
      if (end < 0) fail('unterminated processing instruction');
      i = end + 2;
    } else if (xml.startsWith('</', i)) {
      NAME.lastIndex = i + 2;
      const m = NAME.exec(xml);
      if (!m) fail('bad closing tag');
      const name = m![0];
      i = NAME.lastIndex;
      while (/\s/.test(xml[i] ?? '')) i++;
      if (xml[i] !== '>') fail('bad closing tag');
      i++;
      const open = stack.pop();
      if (!open || open.name !== name) fail(`mismatched </${name}>`);
      if (stack.length === 0) {
        skipMisc();
        if (i < xml.length) fail('content after the root element');
      }
    } else if (xml[i] === '<') {
      NAME.lastIndex = i + 1;
      const m = NAME.exec(xml);
      if (!m) fail('bad tag');
      const node: TwimlNode = { name: m![0], attrs: {}, children: [], text: '' };
      i = NAME.lastIndex;
      for (;;) {
        ATTR.lastIndex = i;
        const a = ATTR.exec(xml);
        if (!a) break;
        if (a[1] in node.attrs) fail(`duplicate attribute ${a[1]}`);
        node.attrs[a[1]] = decodeEntities(a[3] ?? a[4] ?? '');
        i = ATTR.lastIndex;
      }
      while (/\s/.test(xml[i] ?? '')) i++;
      let selfClosing = false;
      if (xml.startsWith('/>', i)) {
        selfClosing = true;
        i += 2;
      } else if (xml[i] === '>') i++;
      else fail(`bad tag <${node.name}>`);
      if (stack.length > 0) stack[stack.length - 1].children.push(node);
      else if (root) fail('more than one root element');
      else root = node;
      if (!selfClosing) stack.push(node);
      else if (stack.length === 0) {
        skipMisc();
        if (i < xml.length) fail('content after the root element');
      }
    } else {
      const end = xml.indexOf('<', i);
      const raw = xml.slice(i, end < 0 ? xml.length : end);
      if (stack.length === 0) {
        if (raw.trim() !== '') fail('text outside the root element');
      } else stack[stack.length - 1].text += decodeEntities(raw);
      i = end < 0 ? xml.length : end;
    }
  }
  if (stack.length > 0) fail(`unclosed <${stack[stack.length - 1].name}>`);
  if (!root) fail('no root element');
  return root!;
}

/** Parses a TwiML document and returns the verbs inside <Response>. */
export function parseTwiml(xml: string): TwimlNode[] {
  const root = parseXml(xml);
  if (root.name !== 'Response') throw new TwimlParseError(`root element is <${root.name}>, expected <Response>`);
  return root.children;
}

export interface StreamSpec {
  url: string;
  name?: string;
  statusCallback?: string;
  statusCallbackMethod?: string;
  customParameters: Record<string, string>;
}

/** Reads a <Stream> element the way Twilio does: `url` is required, <Parameter> children become customParameters. */
export function readStream(node: TwimlNode): StreamSpec {
  const url = node.attrs.url;
  if (!url) throw new TwimlParseError('<Stream> without url');
  const customParameters: Record<string, string> = {};
  for (const c of node.children) {
    if (c.name !== 'Parameter') continue;
    if (c.attrs.name === undefined) throw new TwimlParseError('<Parameter> without name');
    customParameters[c.attrs.name] = c.attrs.value ?? '';
  }
  return {
    url,
    name: node.attrs.name,
    statusCallback: node.attrs.statusCallback,
    statusCallbackMethod: node.attrs.statusCallbackMethod,
    customParameters,
  };
}
