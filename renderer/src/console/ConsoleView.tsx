// A real terminal (xterm.js) for a board's console: bytes in, keystrokes out, with copy, search, clear and scrollback,
// in the app's light or dark theme. The serial console and the QEMU trial both show their console in it.
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { Terminal, type ITheme } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import './console.css';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { adoptInjectedStyles } from './adopted-styles';

const SCROLLBACK_LINES = 10_000;

const THEMES: Record<'light' | 'dark', ITheme> = {
  light: {
    background: '#ffffff',
    foreground: '#17191c',
    cursor: '#1d4ed8',
    selectionBackground: '#bfdbfe',
    selectionForeground: '#17191c',
  },
  dark: { background: '#0b0e12', foreground: '#e8eaed', cursor: '#93c5fd', selectionBackground: '#1e3a8a', selectionForeground: '#ffffff' },
};

const darkQuery = () => window.matchMedia('(prefers-color-scheme: dark)');

/** Console bytes arrive one character per byte (latin1); the terminal decodes them as UTF-8. */
function latin1Bytes(data: string): Uint8Array {
  const bytes = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) bytes[i] = data.charCodeAt(i) & 0xff;
  return bytes;
}

export interface ConsoleViewProps {
  /** The terminal's accessible name ("Serial console", "QEMU console"). */
  label: string;
  testId: string;
  /** Hands the view a writer for incoming console bytes; returns what detaches it. */
  attach: (write: (data: string) => void) => () => void;
  /** Keystrokes, as the terminal encodes them (Ctrl-A is "\x01"); read-only without it. */
  onInput?: (text: string) => void;
  /** Buttons of the console's own (save log, Xen's input switch), after copy, search and clear. */
  actions?: ReactNode;
  /** A new value starts an empty screen (a new trial). */
  resetKey?: unknown;
}

export function ConsoleView({ label, testId, attach, onInput, actions, resetKey }: ConsoleViewProps) {
  const host = useRef<HTMLDivElement>(null);
  const terminal = useRef<Terminal | undefined>(undefined);
  const search = useRef<SearchAddon | undefined>(undefined);
  const inputRef = useRef(onInput);
  const [query, setQuery] = useState('');
  const [note, setNote] = useState('');
  inputRef.current = onInput;

  useEffect(() => {
    const element = host.current!;
    const stopStyles = adoptInjectedStyles(element);
    const term = new Terminal({
      scrollback: SCROLLBACK_LINES,
      cursorBlink: true,
      fontFamily: getComputedStyle(document.documentElement).getPropertyValue('--mono').trim() || 'monospace',
      fontSize: 13,
      theme: THEMES[darkQuery().matches ? 'dark' : 'light'],
      disableStdin: !inputRef.current,
      screenReaderMode: false,
    });
    const fit = new FitAddon();
    const finder = new SearchAddon();
    term.loadAddon(fit);
    term.loadAddon(finder);
    term.open(element);
    term.textarea?.setAttribute('aria-label', `${label}: type here to send keys to the board`);
    fit.fit();
    terminal.current = term;
    search.current = finder;
    const typed = term.onData((text) => inputRef.current?.(text));
    const resize = new ResizeObserver(() => fit.fit());
    resize.observe(element);
    const media = darkQuery();
    const onTheme = () => (term.options.theme = THEMES[media.matches ? 'dark' : 'light']);
    media.addEventListener('change', onTheme);
    return () => {
      media.removeEventListener('change', onTheme);
      resize.disconnect();
      typed.dispose();
      term.dispose();
      stopStyles();
      terminal.current = undefined;
    };
  }, [label]);

  useEffect(() => {
    terminal.current?.reset();
    return attach((data) => terminal.current?.write(latin1Bytes(data)));
  }, [attach, resetKey]);

  const copy = () => {
    const term = terminal.current;
    if (!term) return;
    const selected = term.getSelection();
    if (!selected) term.selectAll();
    const text = term.getSelection();
    navigator.clipboard.writeText(text).then(
      () => setNote(selected ? 'Copied the selection.' : 'Copied everything on the screen and in the scrollback.'),
      () => setNote('The browser did not allow copying: select the text and press Ctrl+Shift+C.'),
    );
  };
  const find = (backwards: boolean) => {
    if (!query) return;
    const found = backwards ? search.current?.findPrevious(query) : search.current?.findNext(query);
    setNote(found ? '' : `“${query}” is not in the console.`);
  };

  return (
    <div className="console-view">
      <div className="console-tools" role="toolbar" aria-label={`${label} tools`}>
        <button type="button" onClick={copy} data-testid={`${testId}-copy`}>
          Copy
        </button>
        <input
          type="search"
          value={query}
          placeholder="Search the console"
          aria-label={`Search the ${label.toLowerCase()}`}
          onChange={(event) => setQuery(event.target.value)}
          onKeyDown={(event) => event.key === 'Enter' && find(event.shiftKey)}
          data-testid={`${testId}-search`}
        />
        <button type="button" onClick={() => find(true)} aria-label="Find previous">
          ↑
        </button>
        <button type="button" onClick={() => find(false)} aria-label="Find next">
          ↓
        </button>
        <button type="button" onClick={() => terminal.current?.clear()} data-testid={`${testId}-clear`}>
          Clear
        </button>
        {actions}
      </div>
      {note && (
        <p className="field-hint" role="status">
          {note}
        </p>
      )}
      <div
        className="terminal-host"
        ref={host}
        data-testid={testId}
        aria-label={label}
        role="group"
        onClick={() => terminal.current?.focus()}
      />
    </div>
  );
}
