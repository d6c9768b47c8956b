/**
 * A real browser for the dashboard's tests and benchmarks: Debian's
 * Chromium driven by `playwright-core`. Without Chromium the tests that
 * need it are skipped, except under `WEIR_REQUIRE_INTEGRATION=1` (CI),
 * where they run and fail saying what to install.
 *
 * @module
 */
import { accessSync, constants } from "node:fs";
import process from "node:process";
import { type Browser, chromium, type Page } from "playwright-core";
import { findOnPath, integrationSkip } from "./_prometheus.ts";

const INSTALL_HINT = "apt-get install chromium";

/** Chromium's binary: `WEIR_CHROMIUM`, on PATH, or Debian's `/usr/bin/chromium`. */
export function findChromium(): string | undefined {
  const named = process.env.WEIR_CHROMIUM;
  if (named) return named;
  for (const name of ["chromium", "chromium-browser"]) {
    const p = findOnPath(name);
    if (p !== undefined) return p;
  }
  try {
    accessSync("/usr/bin/chromium", constants.X_OK);
    return "/usr/bin/chromium";
  } catch {
    return undefined;
  }
}

/** The `skip` option of a test that needs Chromium (see `integrationSkip`). */
export function chromiumSkip(): string | false {
  if (findChromium() !== undefined) return false;
  return integrationSkip("chromium", INSTALL_HINT);
}

/** Starts headless Chromium (no sandbox: tests may run as root). */
export function launchChromium(args: string[] = []): Promise<Browser> {
  const executablePath = findChromium();
  if (executablePath === undefined) {
    throw new Error(
      `Chromium is not installed: the dashboard's browser tests need it (${INSTALL_HINT})`,
    );
  }
  return chromium.launch({
    executablePath,
    args: ["--no-sandbox", "--disable-dev-shm-usage", ...args],
  });
}

/** What a page said on its console and of its failed requests. */
export interface PageProblems {
  /** Console errors, uncaught exceptions and failed requests, as text. */
  errors: string[];
}

/** Records a page's console errors, uncaught exceptions and failed requests. */
export function watchProblems(page: Page): PageProblems {
  const problems: PageProblems = { errors: [] };
  page.on("console", (m) => {
    if (m.type() === "error") problems.errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.errors.push(`exception: ${e.message}`));
  page.on("requestfailed", (r) => {
    // A stream the page closes itself (an SSE it aborts on leaving a view)
    // is not a failure.
    const why = r.failure()?.errorText ?? "";
    if (why.includes("ERR_ABORTED")) return;
    problems.errors.push(`request: ${r.method()} ${r.url()} ${why}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) {
      problems.errors.push(`response: ${r.status()} ${r.url()}`);
    }
  });
  return problems;
}

/** An element as the functions that run in the page read it. */
export interface PageElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
}

/**
 * The page's `document` as those functions use it (the tests are
 * type-checked without the DOM's types): `declare const document:
 * PageDocument;` in a file that passes such functions.
 */
export interface PageDocument {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(
    selector: string,
  ): Iterable<PageElement> & { length: number };
}
