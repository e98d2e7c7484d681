// xterm.js writes its theme and cell sizes into <style> elements, which the app's Content-Security-Policy (style-src
// 'self', no 'unsafe-inline') rightly refuses; this copies their text into constructable style sheets, which CSP allows.

/** Mirrors every <style> element under `root` into the document's adopted style sheets until the returned stop is called. */
export function adoptInjectedStyles(root: HTMLElement): () => void {
  const sheets = new Map<HTMLStyleElement, CSSStyleSheet>();
  const setAdopted = (next: CSSStyleSheet[]) => {
    document.adoptedStyleSheets = next;
  };
  const sync = () => {
    for (const element of root.querySelectorAll('style')) {
      let sheet = sheets.get(element);
      if (!sheet) {
        sheet = new CSSStyleSheet();
        sheets.set(element, sheet);
        setAdopted([...document.adoptedStyleSheets, sheet]);
      }
      sheet.replaceSync(element.textContent ?? '');
    }
    for (const [element, sheet] of sheets) {
      if (element.isConnected && root.contains(element)) continue;
      sheets.delete(element);
      setAdopted(document.adoptedStyleSheets.filter((adopted) => adopted !== sheet));
    }
  };
  const observer = new MutationObserver(sync);
  observer.observe(root, { subtree: true, childList: true, characterData: true });
  sync();
  return () => {
    observer.disconnect();
    const mine = new Set(sheets.values());
    setAdopted(document.adoptedStyleSheets.filter((adopted) => !mine.has(adopted)));
  };
}
