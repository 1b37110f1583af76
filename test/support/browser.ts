/**
 * Headless Chromium for browser tests: Debian's `chromium` (/usr/bin/chromium; `.ci/run` installs
 * it) driven by playwright-core, which never downloads a browser. Each browser gets a fresh
 * profile directory, removed on close. Waits on a page are bounded by progress like every other
 * wait in the tests (test/support/jam-server.ts): what the page shows and loads, never a fixed timeout.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { MAX_WAIT_MS, untilProgress, type JamProcess } from './jam-server';

/** Debian's Chromium. */
export const CHROMIUM = '/usr/bin/chromium';

/** Flags of every test browser: no sandbox (tests may run as root), no GPU, no network of its own, no first-run or sync. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A started Chromium with one context and one page. */
export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Distinct URLs the page has had an answer from (grows while a page loads; a page polling one URL adds nothing). */
  urlsAnswered(): number;
  close(): Promise<void>;
}

/**
 * Starts Chromium with a fresh `--user-data-dir`. `httpCredentials` answer an HTTP Basic
 * challenge (sent only after a 401 asks for them, as a person typing them would).
 */
export async function openBrowser(opts: { httpCredentials?: { username: string; password: string } } = {}): Promise<TestBrowser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: apt-get install -y --no-install-recommends chromium`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-chromium-'));
  // Playwright passes the profile as --user-data-dir itself (it refuses the flag in args).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    ...(opts.httpCredentials ? { httpCredentials: opts.httpCredentials } : {}),
  });
  const page = context.pages()[0] ?? (await context.newPage());
  // Locator and navigation waits are bounded by progress (untilShown), not by Playwright's clock.
  page.setDefaultTimeout(MAX_WAIT_MS);
  page.setDefaultNavigationTimeout(MAX_WAIT_MS);
  const urls = new Set<string>();
  page.on('response', (r) => urls.add(r.url()));
  return {
    context,
    page,
    urlsAnswered: () => urls.size,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until `locator` matches at least one element on the page. Bounded by the page's progress:
 * fails once, for `stallMs`, the page's text stayed the same and it got an answer from no new URL
 * (a page that polls its API keeps the browser and server busy, so their CPU is no sign of progress).
 * @throws Error naming `what`, with the page's text and the end of the server's output
 */
export async function untilShown(browser: TestBrowser, server: JamProcess, what: string, locator: Locator, stallMs = 120_000): Promise<void> {
  let text = '';
  await untilProgress(
    what,
    async () => {
      if ((await locator.count()) > 0) return true;
      text = await browser.page.innerText('body').catch(() => text);
      return undefined;
    },
    {
      progress: () => [browser.urlsAnswered(), text],
      stallMs,
      intervalMs: 250,
      diagnose: () => `page ${browser.page.url()} shows:\n${text.slice(0, 2000)}\nserver output:\n${server.tail(3000)}`,
    },
  );
}
