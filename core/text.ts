/** Small text helpers shared by the commands' renderers and messages. */

/** Text made safe for one markdown table cell: pipes escaped, line breaks turned into spaces. */
export function markdownCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The first line of a (possibly multi-line) message, trimmed. */
export function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

/** Orders strings by UTF-16 code unit, as `<` does (not localeCompare): the same order on every machine. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
