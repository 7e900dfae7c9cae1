// Shared by the browser tests: headless Chromium as configured in webdriver.json, a loopback
// static file server, processes stopped by PID, and small waiting helpers.
import { spawn } from "node:child_process";
import { createReadStream, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Launches the Chromium binary and flags of webdriver.json (goog:chromeOptions). */
export async function launchChromium() {
  const options = JSON.parse(readFileSync(join(ROOT, "webdriver.json"), "utf8"))["goog:chromeOptions"];
  const args = options.args.filter((arg) => !arg.startsWith("--headless"));
  return puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? options.binary,
    headless: true, // puppeteer passes --headless (the new mode), as webdriver.json's --headless=new
    args,
    protocolTimeout: 120_000,
  });
}

/** Logs the page's console and errors with a prefix; returns the collected lines. */
export function capturePage(page, prefix = "[page]") {
  const lines = [];
  const verbose = Boolean(process.env.BROWSER_TEST_LOG);
  page.on("console", (message) => {
    const line = `${message.type()}: ${message.text()}`;
    lines.push(line);
    if (verbose || message.type() === "error") console.error(prefix, line);
  });
  page.on("pageerror", (error) => {
    lines.push(`pageerror: ${error.message}`);
    console.error(prefix, "pageerror:", error.message);
  });
  page.on("requestfailed", (request) => {
    const line = `request failed: ${request.url()} ${request.failure()?.errorText ?? ""}`;
    lines.push(line);
    if (verbose) console.error(prefix, line);
  });
  return lines;
}

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".yaml": "text/plain; charset=utf-8",
  ".png": "image/png",
};

/**
 * Serves `mounts` ({"/prefix/": "/abs/dir"}) on 127.0.0.1 at a free port. Resolves to
 * {origin, close()}.
 */
export function serveStatic(mounts) {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
    const prefix = Object.keys(mounts)
      .sort((a, b) => b.length - a.length)
      .find((p) => path.startsWith(p));
    if (!prefix) {
      response.writeHead(404).end("not found");
      return;
    }
    const base = mounts[prefix];
    let file = normalize(join(base, path.slice(prefix.length)));
    if (file !== base && !file.startsWith(base + sep)) {
      response.writeHead(403).end("forbidden");
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = join(file, "index.html");
      const size = statSync(file).size;
      response.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "content-length": size,
        "cache-control": "no-store",
      });
      createReadStream(file).pipe(response);
    } catch {
      response.writeHead(404).end("not found");
    }
  });
  return new Promise((resolvePromise) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolvePromise({
        origin: `http://127.0.0.1:${port}`,
        close: () => new Promise((done) => server.close(done)),
      });
    });
  });
}

/**
 * Starts a process whose first stdout line is JSON; resolves {child, hello, lines} once it is
 * printed (rejects if it exits first or `timeoutMs` passes). Later stdout lines are kept in `lines`
 * (up to 2000); stderr goes to our stderr when BROWSER_TEST_LOG is set.
 */
export function startWithHello(label, command, args, { timeoutMs = 30_000, env } = {}) {
  const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  const lines = [];
  let stderrTail = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    stderrTail = (stderrTail + chunk).slice(-4000);
    if (process.env.BROWSER_TEST_LOG) process.stderr.write(chunk.replace(/^(?=.)/gm, `[${label}] `));
  });
  return new Promise((resolvePromise, reject) => {
    let buffered = "";
    let hello = null;
    const giveUp = (message) => {
      clearTimeout(timer);
      stopByPid(child);
      reject(new Error(message));
    };
    const timer = setTimeout(() => giveUp(`${label}: no first line within ${timeoutMs} ms; stderr: ${stderrTail}`), timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`${label}: ${error.message}`));
    });
    child.on("exit", (code, signal) => {
      if (hello === null) {
        clearTimeout(timer);
        reject(new Error(`${label} exited (${code ?? signal}) before its first line; stderr: ${stderrTail}`));
      }
    });
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (hello === null) {
          try {
            hello = JSON.parse(line);
          } catch {
            giveUp(`${label}: first line is not JSON: ${line}`);
            return;
          }
          clearTimeout(timer);
          resolvePromise({ child, hello, lines, stderrTail: () => stderrTail });
        } else if (!line.includes('"event":"published"')) {
          lines.push(line);
          if (lines.length > 2000) lines.shift();
        }
      }
    });
  });
}

/** Stops a child by its PID (SIGTERM, then SIGKILL after 3 s). */
export async function stopByPid(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  try {
    process.kill(child.pid, "SIGTERM");
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(child.pid, "SIGKILL");
    } catch {}
  }, 3000);
  await exited;
  clearTimeout(timer);
}

export const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Polls `check` (async, returns a truthy value when done) every `everyMs` until `timeoutMs`. */
export async function waitFor(what, timeoutMs, check, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ""}`);
    }
    await sleep(everyMs);
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolvePromise, reject) => {
    const server = createTcpServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePromise(port));
    });
  });
}

/** Closes the browser, then stops each started process ({child}) by PID; missing ones are skipped. */
export async function stopAll(browser, started) {
  await browser?.close().catch(() => {});
  for (const process of started) await stopByPid(process?.child);
}

/** On SIGINT/SIGTERM: says so, stops what `running()` returns ([browser, ...started]) and exits 1. */
export function stopOnSignal(label, running) {
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, async () => {
      console.error(`${label}: ${signal}, stopping the bridge and the peer`);
      const [browser, ...started] = running();
      await stopAll(browser, started);
      process.exit(1);
    });
  }
}
