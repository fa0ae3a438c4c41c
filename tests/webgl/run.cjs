// Runs the cases of scenarios.js in headless Chromium (Debian's chromium, driven by playwright-core
// from npm; both installed by `make test-webgl`), each in a fresh page holding harness.js, the
// package's wsbridge.jslib and scenarios.js.
//
//     node run.cjs --list                 the case names
//     node run.cjs CONFIG_JSON CASE...    prints "CASE passed" or "CASE FAILED: ..." per case
//
// WSB_NODE_MODULES: the folder holding playwright-core; WSB_CHROMIUM: the browser (/usr/bin/chromium).
//
// The page is served from http://127.0.0.1 (a small server here), as a WebGL build is served by a
// web server: Chromium's local network access checks refuse a page that is not itself local
// (e.g. about:blank) a WebSocket to 127.0.0.1.

'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPTS = [
    path.join(__dirname, 'harness.js'),
    path.join(ROOT, 'bindings', 'unity', 'Plugins', 'WebGL', 'wsbridge.jslib'),
    path.join(__dirname, 'scenarios.js'),
];
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function main() {
    const args = process.argv.slice(2);
    if (args[0] === '--list') {
        // The names without a browser: evaluate scenarios.js with a stub global.
        const vm = require('vm');
        const context = { setTimeout, performance };
        context.globalThis = context;
        vm.runInNewContext(fs.readFileSync(SCRIPTS[2], 'utf8'), context);
        console.log(context.caseNames().join('\n'));
        return 0;
    }
    const config = JSON.parse(args[0]);
    const http = require('http');
    const server = http.createServer((req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><meta charset="utf-8"><title>wsbridge WebGL harness</title>');
    });
    await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
    const page_url = 'http://127.0.0.1:' + server.address().port + '/';
    const { chromium } = require(path.join(process.env.WSB_NODE_MODULES, 'playwright-core'));
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wsbridge-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
        executablePath: process.env.WSB_CHROMIUM || '/usr/bin/chromium',
        headless: true,
        args: FLAGS,
    });
    let failures = 0;
    try {
        for (const name of args.slice(1)) {
            const page = await context.newPage();
            page.on('console', m => console.log('[' + name + ' console] ' + m.text()));
            page.on('pageerror', e => console.log('[' + name + ' page error] ' + e));
            await page.goto(page_url);
            for (const script of SCRIPTS) await page.addScriptTag({ content: fs.readFileSync(script, 'utf8') });
            const linked = await page.evaluate(() => linkLibrary());
            if (linked.length === 0) throw new Error('wsbridge.jslib defined no function');
            const cfg = Object.assign({}, config, { id: name + '-' + Date.now() });
            const outcome = await page.evaluate(([n, c]) => runCase(n, c), [name, cfg]);
            console.log(name + ' ' + outcome);
            if (outcome !== 'passed') failures++;
            await page.close();
        }
    } finally {
        await context.close();
        server.close();
        fs.rmSync(profile, { recursive: true, force: true });
    }
    return failures === 0 ? 0 : 1;
}

main().then(code => process.exit(code), e => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(2);
});
