// The cases run in headless Chromium against wsbridge.jslib (linked by harness.js), calling its
// functions exactly as Runtime/NativeMethods.WebGL.cs does: pointers into HEAPU8, results in the
// private numbers of $WSB. Each case polls frame by frame, as a game's Update would: a frame is
// one turn of the browser's event loop (that is when WebSocket events arrive).

(function () {
    'use strict';

    function fail(message) {
        throw new Error(message);
    }

    function equal(expected, actual, what) {
        if (expected !== actual) fail(what + ': expected <' + expected + '> but got <' + actual + '>');
    }

    function contains(part, text, what) {
        if (typeof text !== 'string' || !text.includes(part)) fail(what + ': expected to contain <' + part + '> but got <' + text + '>');
    }

    const name = {};
    function resultName(r) {
        if (!name.filled) {
            for (const k of Object.keys(WSB)) if (typeof WSB[k] === 'number' && k.toUpperCase() === k && k !== 'TEXT' && k !== 'BINARY') name[WSB[k]] = k;
            name.filled = true;
        }
        return name[r] + ' (' + r + ')';
    }

    function expectResult(expected, actual, what) {
        if (expected !== actual) fail(what + ': expected ' + resultName(expected) + ' but got ' + resultName(actual) + '; last error: ' + lastError());
    }

    function cstring(s) {
        const bytes = new TextEncoder().encode(s);
        const p = _malloc(bytes.length + 1);
        HEAPU8.set(bytes, p);
        HEAPU8[p + bytes.length] = 0;
        return p;
    }

    function lastError() {
        const size = _WsbJs_LastError(0, 0) + 1;
        const p = _malloc(size);
        _WsbJs_LastError(p, size);
        return UTF8ToString(p);
    }

    function connect(url, options) {
        const out = _malloc(4);
        const r = _WsbJs_Connect(cstring(url), options === undefined ? 0 : cstring(JSON.stringify(options)), out);
        return { r: r, id: HEAPU32[out >> 2] };
    }

    function send(id, data) {
        const text = typeof data === 'string';
        const bytes = text ? new TextEncoder().encode(data) : data;
        const p = _malloc(bytes.length);
        HEAPU8.set(bytes, p);
        return _WsbJs_Send(id, p, bytes.length, text ? WSB.TEXT : WSB.BINARY);
    }

    function recv(id, cap) {
        const buf = _malloc(cap), len = _malloc(4), kind = _malloc(4);
        const r = _WsbJs_Recv(id, buf, cap, len, kind);
        const n = HEAPU32[len >> 2];
        if (r !== WSB.OK) return { r: r, length: n };
        const bytes = HEAPU8.slice(buf, buf + n);
        return { r: r, kind: HEAPU32[kind >> 2], bytes: bytes, text: new TextDecoder().decode(bytes) };
    }

    function state(id) {
        const out = _malloc(4);
        const r = _WsbJs_State(id, out);
        return r === WSB.OK ? HEAPU32[out >> 2] : -r;
    }

    function closeStatus(id) {
        const code = _malloc(4), buf = _malloc(256), len = _malloc(4);
        const r = _WsbJs_CloseStatus(id, code, buf, 256, len);
        return { r: r, code: HEAPU32[code >> 2], reason: r === WSB.OK ? UTF8ToString(buf) : null };
    }

    function frame() {
        return new Promise(resolve => setTimeout(resolve, 1));
    }

    // Polls once per frame until `poll` returns something other than undefined.
    async function frames(poll, what) {
        const start = performance.now();
        while (true) {
            const got = poll();
            if (got !== undefined) return got;
            if (performance.now() - start > 15000) fail(what + ': nothing within 15000 ms of frames');
            await frame();
        }
    }

    // The next message or ending, frame by frame (EMPTY means: nothing this frame).
    function next(id, cap) {
        return frames(() => {
            const m = recv(id, cap || 4096);
            return m.r === WSB.EMPTY ? undefined : m;
        }, 'a message on ' + id);
    }

    const cases = {
        async echoTextAndBinaryQueuedWhileConnecting(cfg) {
            const c = connect(cfg.echo + '/echo');
            expectResult(WSB.OK, c.r, 'connect');
            equal(0, state(c.id), 'readyState while connecting');
            // Sent before the browser opened the socket: kept and sent once open, in order.
            expectResult(WSB.OK, send(c.id, 'héllo ✓ 🎮'), 'send text while connecting');
            const binary = new Uint8Array(1000).map((_, i) => (i * 7) & 255);
            expectResult(WSB.OK, send(c.id, binary), 'send binary while connecting');
            const text = await next(c.id);
            expectResult(WSB.OK, text.r, 'first echo');
            equal(WSB.TEXT, text.kind, 'first echo is text');
            equal('héllo ✓ 🎮', text.text, 'text round trip');
            equal(1, state(c.id), 'readyState open');
            // Too small a buffer: the size needed, and the message stays queued.
            const small = await next(c.id, 10);
            expectResult(WSB.BUFFER_TOO_SMALL, small.r, 'recv into 10 bytes');
            equal(1000, small.length, 'the size needed');
            const bin = recv(c.id, 1000);
            expectResult(WSB.OK, bin.r, 'recv the same message into 1000 bytes');
            equal(WSB.BINARY, bin.kind, 'binary kind');
            equal(binary.join(','), bin.bytes.join(','), 'binary bytes');
            expectResult(WSB.EMPTY, recv(c.id, 16).r, 'nothing more');
            expectResult(WSB.OK, _WsbJs_Flush(c.id), 'flushed');
            expectResult(WSB.OK, _WsbJs_Close(c.id, 1000, cstring('bye')), 'close');
            expectResult(WSB.INVALID_HANDLE, _WsbJs_State(c.id, _malloc(4)), 'the id is released by close');
            expectResult(WSB.INVALID_HANDLE, _WsbJs_Close(c.id, 1000, 0), 'closing twice');
        },

        async serverCloseIsReportedOnceWithCodeAndReason(cfg) {
            const c = connect(cfg.echo + '/close/4002/trainer%20done');
            const first = await next(c.id);
            expectResult(WSB.OK, first.r, 'the message before the close');
            equal('closing', first.text, 'its text');
            const end = await next(c.id);
            expectResult(WSB.CLOSED, end.r, 'the close');
            const status = closeStatus(c.id);
            expectResult(WSB.OK, status.r, 'close status');
            equal(4002, status.code, 'close code');
            equal('trainer done', status.reason, 'close reason');
            contains('4002', lastError(), 'the message names the code');
            expectResult(WSB.CLOSED, send(c.id, 'late'), 'send after the close');
            equal(3, state(c.id), 'readyState closed');
            expectResult(WSB.OK, _WsbJs_Close(c.id, 1000, 0), 'release');
        },

        async lostConnectionIsNotAClose(cfg) {
            const c = connect(cfg.misbehave + '/drop');
            const end = await next(c.id);
            expectResult(WSB.LOST, end.r, 'a reset without a close frame');
            contains('lost', lastError(), 'message');
            equal(1006, closeStatus(c.id).code, 'code 1006');
            _WsbJs_Close(c.id, 1000, 0);
        },

        async refusedConnectNamesTheUrl(cfg) {
            const url = 'ws://127.0.0.1:' + cfg.deadPort + '/env/0';
            const c = connect(url);
            expectResult(WSB.OK, c.r, 'connect starts');
            const end = await next(c.id);
            expectResult(WSB.CONNECT_FAILED, end.r, 'nobody listens');
            contains(url, lastError(), 'the message names the URL');
            _WsbJs_Close(c.id, 1000, 0);
        },

        async badArgumentsAreRefusedWithTheFacts(cfg) {
            const bad = connect('http://127.0.0.1:1/x');
            expectResult(WSB.INVALID_ARGUMENT, bad.r, 'http URL');
            contains('http://127.0.0.1:1/x', lastError(), 'message names the URL');
            const headers = connect(cfg.echo + '/echo', { headers: { 'X-Game': '1' } });
            expectResult(WSB.INVALID_ARGUMENT, headers.r, 'custom headers');
            contains('headers', lastError(), 'message names the option');
            const reconnect = connect(cfg.echo + '/echo', { reconnect: { delay_ms: 100 } });
            expectResult(WSB.INVALID_ARGUMENT, reconnect.r, 'reconnect is the native library\'s');
            contains('option reconnect', lastError(), 'message names the option');
            const c = connect(cfg.echo + '/echo', { subprotocols: [] , connect_timeout_ms: 5000 });
            expectResult(WSB.OK, c.r, 'options the browser decides are ignored');
            await frames(() => (state(c.id) === 1 ? true : undefined), 'open');
            const invalid = _malloc(1);
            HEAPU8[invalid] = 0xff;
            expectResult(WSB.INVALID_UTF8, _WsbJs_Send(c.id, invalid, 1, WSB.TEXT), 'invalid UTF-8 as text');
            expectResult(WSB.INVALID_ARGUMENT, _WsbJs_Close(c.id, 1002, 0), 'a close code a page may not send');
            equal(1, state(c.id), 'a refused close changes nothing');
            expectResult(WSB.INVALID_HANDLE, _WsbJs_Send(987654, 0, 0, WSB.TEXT), 'unknown id');
            _WsbJs_Close(c.id, 1000, 0);
        },

        async closeCodeAndReasonReachTheTrainer(cfg) {
            const c = connect(cfg.echo + '/record/' + cfg.id);
            await frames(() => (state(c.id) === 1 ? true : undefined), 'open');
            expectResult(WSB.OK, _WsbJs_Close(c.id, 4001, cstring('done ✓')), 'close');
            const report = connect(cfg.echo + '/report/' + cfg.id);
            const seen = JSON.parse((await next(report.id)).text);
            equal(4001, seen.code, 'code the trainer received');
            equal('done ✓', seen.reason, 'reason the trainer received');
            _WsbJs_Close(report.id, 1000, 0);
        },

        async closeReturnsAtOnceAgainstAFrozenTrainer(cfg) {
            const c = connect(cfg.misbehave + '/freeze/' + cfg.id);
            await frames(() => (state(c.id) === 1 ? true : undefined), 'open');
            // The trainer reads nothing, so the handshake cannot complete while we are here.
            expectResult(WSB.OK, _WsbJs_Close(c.id, 1000, cstring('level unloaded')), 'close');
            expectResult(WSB.INVALID_HANDLE, _WsbJs_State(c.id, _malloc(4)), 'released at once');
            const resume = connect(cfg.misbehave + '/resume/' + cfg.id);
            equal('resumed', (await next(resume.id)).text, 'resume');
            _WsbJs_Close(resume.id, 1000, 0);
        },

        async shutdownClosesEverything(cfg) {
            const a = connect(cfg.echo + '/echo');
            const b = connect(cfg.echo + '/silent');
            await frames(() => (state(a.id) === 1 && state(b.id) === 1 ? true : undefined), 'both open');
            expectResult(WSB.OK, _WsbJs_Shutdown(), 'shutdown');
            expectResult(WSB.INVALID_HANDLE, _WsbJs_State(a.id, _malloc(4)), 'a released');
            expectResult(WSB.INVALID_HANDLE, _WsbJs_State(b.id, _malloc(4)), 'b released');
        },
    };

    globalThis.caseNames = function () {
        return Object.keys(cases);
    };

    globalThis.runCase = async function (caseName, cfg) {
        try {
            await cases[caseName](cfg);
            return 'passed';
        } catch (e) {
            return 'FAILED: ' + (e && e.stack ? e.stack : e);
        }
    };
})();
