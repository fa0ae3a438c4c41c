// wsbridge for Unity WebGL builds: the connection over the browser's WebSocket. Called only by
// Runtime/NativeMethods.WebGL.cs, which gives the C# API (WsClient, WsConnection) the same
// functions as the native library; see that file for the contract of each function.
//
// The polling model of the native library, on the browser's main thread: the browser's events
// (open, message, close, error) only fill a queue here; C# takes from it in Update (WsbJs_Recv).
// Nothing here calls into C#, so nothing runs outside the game's own frame.
//
// Results are small private numbers (WSB_JS below), mapped to the library's WSB_* codes by
// NativeMethods.WebGL.cs, so this file holds none of the library's values.
//
// Emscripten copies each function of this object into the build as source text: a function may
// use only its arguments, the $WSB object (listed in __deps) and Emscripten's runtime
// (HEAPU8, HEAPU32, UTF8ToString, stringToUTF8, lengthBytesUTF8). Memory: size_t is 32 bits.

var WsbridgeLibrary = {
    $WSB: {
        // Private result numbers, shared with NativeMethods.WebGL.cs (JsResult there).
        OK: 0, EMPTY: 1, BUFFER_TOO_SMALL: 2, CLOSED: 3, LOST: 4, CONNECT_FAILED: 5,
        INVALID_ARGUMENT: 6, INVALID_HANDLE: 7, NOT_FLUSHED: 8, INVALID_UTF8: 9,
        // Message kinds, also private (mapped to WSB_TEXT / WSB_BINARY by the C# side).
        TEXT: 1, BINARY: 2,
        nextId: 1,
        sockets: {},
        lastError: '',

        fail: function (code, message) {
            WSB.lastError = message;
            return code;
        },

        get: function (id) {
            var s = WSB.sockets[id];
            if (!s) WSB.lastError = 'wsbridge: connection ' + id + ' is closed or unknown';
            return s;
        },

        // The options JSON of WsOptions.ToJson: only what a browser can honour is used.
        parseOptions: function (json) {
            if (!json) return { subprotocols: [] };
            var options = JSON.parse(json);
            if (options.headers && Object.keys(options.headers).length > 0)
                throw new Error('option headers: a browser WebSocket cannot send custom HTTP headers ' +
                                '(put the information in the URL query or the first message)');
            if (options.reconnect)
                throw new Error('option reconnect: not available over a browser WebSocket; after the Close ' +
                                'message, StartConnect again (with a delay) from the game');
            return { subprotocols: options.subprotocols || [] };
        },

        start: function (url, protocols) {
            var s = {
                url: url, ws: null, queue: [], sendQueue: [], opened: false, closed: false,
                closeCode: 0, closeReason: '', clean: false, errored: false,
                closedHere: false, encoder: new TextEncoder()
            };
            var ws = new WebSocket(url, protocols);
            ws.binaryType = 'arraybuffer';
            s.ws = ws;
            ws.onopen = function () {
                s.opened = true;
                // Messages sent while connecting were kept here (a browser refuses them until open).
                for (var i = 0; i < s.sendQueue.length; i++) ws.send(s.sendQueue[i]);
                s.sendQueue = [];
            };
            ws.onmessage = function (event) {
                if (typeof event.data === 'string')
                    s.queue.push({ kind: WSB.TEXT, bytes: s.encoder.encode(event.data) });
                else
                    s.queue.push({ kind: WSB.BINARY, bytes: new Uint8Array(event.data) });
            };
            ws.onerror = function () {
                s.errored = true;
            };
            ws.onclose = function (event) {
                s.closed = true;
                s.closeCode = event.code;
                s.closeReason = event.reason;
                s.clean = event.wasClean;
            };
            return s;
        },

        // How the connection ended, for WsbJs_Recv once the queue is empty.
        ending: function (s) {
            if (!s.opened) {
                return WSB.fail(WSB.CONNECT_FAILED, 'wsbridge: could not connect to ' + s.url +
                                ' (the browser does not say why: see its console; code ' + s.closeCode + ')');
            }
            if (s.clean) {
                return WSB.fail(WSB.CLOSED, 'wsbridge: ' + s.url + ' closed the connection with ' + s.closeCode +
                                (s.closeReason ? ' ' + s.closeReason : ''));
            }
            return WSB.fail(WSB.LOST, 'wsbridge: the connection to ' + s.url + ' was lost (code ' + s.closeCode + ')');
        }
    },

    // Starts connecting; writes the new id (> 0) to *outId. urlPtr, optionsPtr: UTF-8, NUL-terminated (options may be 0).
    WsbJs_Connect: function (urlPtr, optionsPtr, outId) {
        var url = UTF8ToString(urlPtr);
        var options;
        try {
            options = WSB.parseOptions(optionsPtr ? UTF8ToString(optionsPtr) : '');
        } catch (e) {
            return WSB.fail(WSB.INVALID_ARGUMENT, 'wsbridge: ' + e.message);
        }
        if (!/^wss?:\/\//i.test(url))
            return WSB.fail(WSB.INVALID_ARGUMENT, 'wsbridge: ' + url + ' is not a ws:// or wss:// URL');
        var s;
        try {
            s = WSB.start(url, options.subprotocols);
        } catch (e) {
            return WSB.fail(WSB.INVALID_ARGUMENT, 'wsbridge: ' + url + ': ' + e.message);
        }
        var id = WSB.nextId++;
        WSB.sockets[id] = s;
        HEAPU32[outId >> 2] = id;
        return WSB.OK;
    },

    // The state as the browser's readyState (0 connecting, 1 open, 2 closing, 3 closed) into *outState.
    WsbJs_State: function (id, outState) {
        var s = WSB.get(id);
        if (!s) return WSB.INVALID_HANDLE;
        HEAPU32[outState >> 2] = s.ws.readyState;
        return WSB.OK;
    },

    // Queues one whole message (the bytes are copied). kind: WSB.TEXT (UTF-8) or WSB.BINARY.
    WsbJs_Send: function (id, dataPtr, length, kind) {
        var s = WSB.get(id);
        if (!s) return WSB.INVALID_HANDLE;
        if (s.closed || s.ws.readyState >= 2) return WSB.ending(s);
        var bytes = HEAPU8.slice(dataPtr, dataPtr + length);
        var message = bytes;
        if (kind === WSB.TEXT) {
            try {
                message = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
            } catch (e) {
                return WSB.fail(WSB.INVALID_UTF8, 'wsbridge: a text message must be UTF-8');
            }
        }
        if (s.ws.readyState === 0) s.sendQueue.push(message);
        else s.ws.send(message);
        return WSB.OK;
    },

    // OK once everything queued went to the network (bufferedAmount 0), NOT_FLUSHED otherwise.
    WsbJs_Flush: function (id) {
        var s = WSB.get(id);
        if (!s) return WSB.INVALID_HANDLE;
        if (s.closed) return WSB.ending(s);
        return s.ws.readyState === 1 && s.ws.bufferedAmount === 0 ? WSB.OK : WSB.NOT_FLUSHED;
    },

    // Takes the next message into buf[0..cap): OK with *outLength, *outKind; BUFFER_TOO_SMALL
    // with *outLength the size needed (the message stays queued); EMPTY; or how it ended.
    WsbJs_Recv: function (id, buf, cap, outLength, outKind) {
        var s = WSB.get(id);
        if (!s) return WSB.INVALID_HANDLE;
        if (s.queue.length === 0) return s.closed ? WSB.ending(s) : WSB.EMPTY;
        var m = s.queue[0];
        HEAPU32[outLength >> 2] = m.bytes.length;
        if (m.bytes.length > cap) return WSB.BUFFER_TOO_SMALL;
        s.queue.shift();
        HEAPU8.set(m.bytes, buf);
        HEAPU32[outKind >> 2] = m.kind;
        return WSB.OK;
    },

    // The peer's close code into *outCode and reason (UTF-8, NUL-terminated, truncated to cap) into buf; once closed.
    WsbJs_CloseStatus: function (id, outCode, buf, cap, outLength) {
        var s = WSB.get(id);
        if (!s) return WSB.INVALID_HANDLE;
        if (!s.closed) return WSB.fail(WSB.INVALID_ARGUMENT, 'wsbridge: ' + s.url + ' has not closed');
        HEAPU32[outCode >> 2] = s.closeCode; // a 16-bit code: the C# side reads the low half
        HEAPU32[outLength >> 2] = lengthBytesUTF8(s.closeReason);
        if (cap > 0) stringToUTF8(s.closeReason, buf, cap);
        return WSB.OK;
    },

    // The subprotocol the server chose ("" if none) into buf (NUL-terminated), its length into *outLength.
    WsbJs_Subprotocol: function (id, buf, cap, outLength) {
        var s = WSB.get(id);
        if (!s) return WSB.INVALID_HANDLE;
        HEAPU32[outLength >> 2] = lengthBytesUTF8(s.ws.protocol);
        if (cap > 0) stringToUTF8(s.ws.protocol, buf, cap);
        return WSB.OK;
    },

    // Starts the close handshake and releases the id at once: the browser finishes the
    // handshake in the background (it never blocks). A code the browser refuses (only 1000 and
    // 3000-4999 may be sent by a page) or a reason over 123 bytes: INVALID_ARGUMENT, nothing changed.
    WsbJs_Close: function (id, code, reasonPtr) {
        var s = WSB.get(id);
        if (!s) return WSB.INVALID_HANDLE;
        var reason = reasonPtr ? UTF8ToString(reasonPtr) : '';
        if (s.ws.readyState < 2) {
            // A page may only send 1000 or 3000-4999; 1001 (going away) is what the browser
            // itself sends when the page unloads, so it is sent here as 1000.
            var sent = code === 1001 ? 1000 : code;
            try {
                s.ws.close(sent, reason);
            } catch (e) {
                return WSB.fail(WSB.INVALID_ARGUMENT, 'wsbridge: close code ' + code + ' / reason "' + reason + '": ' + e.message);
            }
        }
        s.closedHere = true;
        delete WSB.sockets[id];
        return WSB.OK;
    },

    // Closes every connection (1000 "going away"); ids become invalid.
    WsbJs_Shutdown: function () {
        for (var id in WSB.sockets) {
            var s = WSB.sockets[id];
            if (s.ws.readyState < 2) s.ws.close(1000, 'going away');
        }
        WSB.sockets = {};
        return WSB.OK;
    },

    // The last failure's message into buf (NUL-terminated, truncated to cap); returns its full length in bytes.
    WsbJs_LastError: function (buf, cap) {
        if (cap > 0) stringToUTF8(WSB.lastError, buf, cap);
        return lengthBytesUTF8(WSB.lastError);
    }
};

['WsbJs_Connect', 'WsbJs_State', 'WsbJs_Send', 'WsbJs_Flush', 'WsbJs_Recv', 'WsbJs_CloseStatus',
 'WsbJs_Subprotocol', 'WsbJs_Close', 'WsbJs_Shutdown', 'WsbJs_LastError'].forEach(function (name) {
    WsbridgeLibrary[name + '__deps'] = ['$WSB'];
});

mergeInto(LibraryManager.library, WsbridgeLibrary);
