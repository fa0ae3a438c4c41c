// A stand-in for Unity's Emscripten glue, so that bindings/unity/Plugins/WebGL/wsbridge.jslib runs
// in a plain page: the heap views (HEAPU8, HEAPU32), _malloc, the string helpers (UTF8ToString,
// stringToUTF8, lengthBytesUTF8), and the library linking (LibraryManager, mergeInto).
//
// linkLibrary() copies the library as Emscripten does, as source text: each function is
// re-created from its text in the global scope, so a function that relied on a variable of the
// .jslib file (a closure) fails here as it would in a Unity build. `$NAME` entries become the
// global NAME; a function that names one must list it in its __deps.

(function () {
    'use strict';
    const memory = new ArrayBuffer(1 << 22);
    globalThis.HEAPU8 = new Uint8Array(memory);
    globalThis.HEAPU32 = new Uint32Array(memory);
    let top = 16;

    globalThis._malloc = function (size) {
        const p = (top + 7) & ~7;
        top = p + size;
        if (top > memory.byteLength) throw new Error('harness heap exhausted');
        return p;
    };
    globalThis._free = function () {};

    globalThis.UTF8ToString = function (ptr) {
        let end = ptr;
        while (HEAPU8[end] !== 0) end++;
        return new TextDecoder().decode(HEAPU8.subarray(ptr, end));
    };
    globalThis.lengthBytesUTF8 = function (s) {
        return new TextEncoder().encode(s).length;
    };
    // As Emscripten's: at most cap - 1 bytes and a NUL, never half a character.
    globalThis.stringToUTF8 = function (s, ptr, cap) {
        if (cap <= 0) return 0;
        const bytes = new TextEncoder().encode(s);
        let n = Math.min(bytes.length, cap - 1);
        while (n > 0 && n < bytes.length && (bytes[n] & 0xc0) === 0x80) n--;
        HEAPU8.set(bytes.subarray(0, n), ptr);
        HEAPU8[ptr + n] = 0;
        return n;
    };

    globalThis.LibraryManager = { library: {} };
    globalThis.mergeInto = function (target, source) {
        Object.assign(target, source);
    };

    function source(value) {
        if (typeof value === 'function') return value.toString();
        if (Array.isArray(value)) return '[' + value.map(source).join(',') + ']';
        if (value !== null && typeof value === 'object')
            return '{' + Object.keys(value).map(k => JSON.stringify(k) + ':' + source(value[k])).join(',') + '}';
        return JSON.stringify(value);
    }

    globalThis.linkLibrary = function () {
        const lib = LibraryManager.library;
        const globalEval = eval;
        const objects = Object.keys(lib).filter(k => k.startsWith('$'));
        const linked = [];
        for (const key of Object.keys(lib)) {
            if (key.includes('__')) continue;
            if (key.startsWith('$')) {
                globalThis[key.slice(1)] = globalEval('(' + source(lib[key]) + ')');
                continue;
            }
            const text = lib[key].toString();
            for (const dep of objects) {
                if (new RegExp('\\b' + dep.slice(1) + '\\.').test(text) && !(lib[key + '__deps'] || []).includes(dep))
                    throw new Error(key + ' uses ' + dep.slice(1) + ' without listing ' + dep + ' in ' + key + '__deps');
            }
            globalThis['_' + key] = globalEval('(' + text + ')');
            linked.push(key);
        }
        return linked;
    };
})();
