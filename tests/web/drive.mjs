// The browser half of tests/integration/test-web.sh: Debian's Chromium, headless, through
// puppeteer-core (which never downloads a browser). It reads one command a line on standard
// input and answers each with one line, "ok [VALUE]" or "err WHY", so that the shell keeps
// every server (Mosquitto, nginx, garaged) and every step's order, and bounds each wait.
//
//   launch P              a browser with its own profile P (a new user-data-dir)
//   goto P URL            load URL; answers with the HTTP version of the page ("h2")
//   keyline P             the page's authorized_keys line, once it has made its key
//   text P WHAT NAME      the text of a hook: state|result of door NAME, broker, availability,
//                         enrollment (NAME "-")
//   wait P WHAT NAME VALUE SECONDS
//                         until that text is VALUE; err with what it is instead
//   settle P enrollment - SECONDS
//                         until [data-enrollment] holds a word that is not a wait's
//   click P NAME ACTION   the door's button, once it is enabled
//   shot P FILE           a screenshot of the viewport to FILE (PNG)
//   page P                that the page is ours (not an error page): its URL and hooks
//   signer P HEX DEVICE DOOR ACTION TS NONCE KID
//                         the page's own signer (its modules, its WebCrypto) on these values
//   errors P              uncaught exceptions and console errors of the page, as JSON
//   quit                  close every browser and exit
//
// Environment: CHROMIUM (default /usr/bin/chromium); HOME is where Chromium finds the NSS
// database that trusts the test's CA ($HOME/.pki/nssdb); PROFILES, where profiles go.
import { createInterface } from "node:readline";
import { join } from "node:path";
import puppeteer from "puppeteer-core";

const browsers = new Map(); // P -> { browser, page, errors }

const HOOKS = {
	state: (n) => `[data-door="${n}"] [data-state]`,
	result: (n) => `[data-door="${n}"] [data-result]`,
	broker: () => "[data-broker]",
	availability: () => "[data-availability]",
	enrollment: () => "[data-enrollment]",
	keyline: () => "[data-keyline]",
};

function hook(what, name) {
	const f = HOOKS[what];
	if (!f) throw new Error(`no hook ${what}`);
	if (!/^[a-z0-9_-]{1,32}$/.test(name)) throw new Error(`bad door name ${name}`);
	return f(name);
}

function get(p) {
	const b = browsers.get(p);
	if (!b) throw new Error(`no browser ${p}`);
	return b;
}

async function textOf(page, sel) {
	return page.$eval(sel, (el) => el.textContent.trim()).catch(() => null);
}

async function until(page, sel, test, seconds) {
	const end = Date.now() + seconds * 1000;
	let last = null;
	while (Date.now() < end) {
		last = await textOf(page, sel);
		if (last !== null && test(last)) return last;
		await new Promise((r) => setTimeout(r, 100));
	}
	throw new Error(`${sel} is ${JSON.stringify(last)} after ${seconds} s`);
}

const commands = {
	async launch(p) {
		if (browsers.has(p)) throw new Error(`browser ${p} runs already`);
		const args = ["--no-first-run", "--no-default-browser-check", "--disable-gpu",
			"--password-store=basic", "--window-size=412,860"];
		// Chromium's sandbox needs user namespaces or a setuid helper, and refuses root.
		if (process.getuid && process.getuid() === 0) args.push("--no-sandbox");
		const browser = await puppeteer.launch({
			executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
			headless: true,
			userDataDir: join(process.env.PROFILES, p),
			args,
			env: process.env,
			protocolTimeout: 60000,
			timeout: 60000,
		});
		const page = await browser.newPage();
		await page.setViewport({ width: 412, height: 860, deviceScaleFactor: 1 });
		const errors = [];
		page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
		page.on("console", (m) => {
			if (m.type() === "error") errors.push(`console: ${m.text()}`);
		});
		browsers.set(p, { browser, page, errors });
		return (await browser.version()).replace(/\s+/g, "_");
	},
	async goto(p, url) {
		const { page } = get(p);
		const res = await page.goto(url, { waitUntil: "load", timeout: 30000 });
		if (!res || !res.ok()) throw new Error(`HTTP ${res ? res.status() : "no response"}`);
		await page.waitForSelector("body[data-app=garaged]", { timeout: 10000 });
		return page.evaluate(() => performance.getEntriesByType("navigation")[0].nextHopProtocol);
	},
	async keyline(p) {
		const { page } = get(p);
		return until(page, HOOKS.keyline(), (t) => /^ed25519 [A-Za-z0-9+/]{43}= \S+$/.test(t), 20);
	},
	async text(p, what, name) {
		return (await textOf(get(p).page, hook(what, name))) ?? "(none)";
	},
	async wait(p, what, name, value, seconds) {
		return until(get(p).page, hook(what, name), (t) => t === value, Number(seconds));
	},
	async settle(p, what, name, seconds) {
		const pending = ["", "pending", "waiting"];
		return until(get(p).page, hook(what, name), (t) => !pending.includes(t), Number(seconds));
	},
	async click(p, name, action) {
		const { page } = get(p);
		const sel = `[data-door="${name}"] button[data-action="${action}"]:not([disabled])`;
		await page.waitForSelector(sel, { timeout: 15000 });
		await page.click(sel);
		return "";
	},
	async shot(p, file) {
		const { page } = get(p);
		// The door's picture moves (a CSS transition): the screenshot shows where it ends.
		await page.evaluate(() =>
			Promise.race([
				Promise.all(document.getAnimations().map((a) => a.finished.catch(() => {}))),
				new Promise((r) => setTimeout(r, 3000)),
			]),
		);
		await page.screenshot({ path: file, type: "png" });
		return file;
	},
	async page(p) {
		const { page } = get(p);
		const info = await page.evaluate(() => ({
			url: location.href,
			app: document.body && document.body.dataset.app,
			title: document.title,
			keyline: !!document.querySelector("[data-keyline]"),
		}));
		if (!info.url.startsWith("https://") || info.app !== "garaged" || info.title !== "garaged" || !info.keyline)
			throw new Error(`not the web app: ${JSON.stringify(info)}`);
		return info.url;
	},
	async signer(p, hex, device, door, action, ts, nonce, kid) {
		return get(p).page.evaluate(
			async (a) => {
				const keys = await import("./lib/keys.js");
				const seed = Uint8Array.from(a.hex.match(/../g), (h) => parseInt(h, 16));
				const key = await keys.importSeed(crypto.subtle, seed);
				const out = await keys.signCommand(crypto.subtle, key, {
					device: a.device, door: a.door, action: a.action, ts: Number(a.ts), nonce: a.nonce, kid: a.kid,
				});
				return out.sig;
			},
			{ hex, device, door, action, ts, nonce, kid },
		);
	},
	async errors(p) {
		return JSON.stringify(get(p).errors);
	},
	async quit() {
		for (const { browser } of browsers.values()) await browser.close().catch(() => {});
		browsers.clear();
		return "";
	},
};

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
	const [cmd, ...args] = line.trim().split(/\s+/);
	let out;
	try {
		if (!commands[cmd]) throw new Error(`unknown command ${cmd}`);
		out = "ok " + String(await commands[cmd](...args)).replace(/\n/g, " ");
	} catch (e) {
		out = "err " + String(e && e.message ? e.message : e).replace(/\n/g, " ");
	}
	process.stdout.write(out.trimEnd() + "\n");
	if (cmd === "quit") break;
}
for (const { browser } of browsers.values()) await browser.close().catch(() => {});
process.exit(0);
