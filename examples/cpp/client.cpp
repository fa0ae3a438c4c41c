// The seed client in C++: connect to the trainer, send one JSON message, print the reply, close.
//
//     ./client [PORT]        (default 8001; connects to ws://127.0.0.1:PORT/env/0)
//
// Built by `make demo` (mk/cpp.mk), or as a CMake project against an installed wsbridge:
//     cmake -S examples/cpp -B build/example -DCMAKE_PREFIX_PATH=/usr/local && cmake --build build/example
#include <chrono>
#include <cstdio>
#include <string>

#include "wsbridge.hpp"

using namespace std::chrono_literals;

static int fail(const char *what, const wsbridge::Error &error) {
    std::fprintf(stderr, "client++: %s failed: %s\n", what, error.to_string().c_str());
    return 1;
}

int main(int argc, char **argv) {
    const std::string url = std::string("ws://127.0.0.1:") + (argc > 1 ? argv[1] : "8001") + "/env/0";

    wsbridge::Options options;
    options.connect_timeout_ms = 5000;
    wsbridge::Result<wsbridge::Client> connected = wsbridge::Client::connect(url, options);
    if (!connected) return fail("connect", connected.error());
    wsbridge::Client client = std::move(connected).value();
    std::printf("client++: connected to %s (wsbridge %s)\n", url.c_str(), wsbridge::version().data());

    const char *message = R"({"message": "Message from Client", "number": 256, "bool": true})";
    std::printf("client++: sent     %s\n", message);
    wsbridge::Result<wsbridge::Message> reply = client.exchange(message, 5000ms);  // send, wait for the answer
    if (!reply) return fail("exchange", reply.error());
    std::printf("client++: received %.*s\n", static_cast<int>(reply->size), reply->text().data());

    wsbridge::Result<void> closed = client.close(1000, "done", 2000ms);
    if (!closed) return fail("close", closed.error());
    std::printf("client++: closed\n");
    return 0;
}
