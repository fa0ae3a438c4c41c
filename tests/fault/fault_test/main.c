/*
 * The fault suite's game side: the C ABI against misbehaving peers.
 *
 *     fault_test CASE [ARG...]      run one case (exit 0 when it passed)
 *     fault_test --list             the case names
 *
 * tests/fault/test_faults.py starts the servers, passes their ports in the environment and
 * runs every case, also under valgrind and built with ASan/UBSan (tests/fault/test_memory.py).
 */
#include "../../common/c/harness.h"

#include <string.h>

void case_upgrade_timeout(int, char **);
void case_refused(int, char **);
void case_unresolvable(int, char **);
void case_status(int, char **);
void case_bad_upgrade(int, char **);
void case_killed(int, char **);
void case_frozen(int, char **);
void case_keepalive_idle(int, char **);
void case_oversize_in(int, char **);
void case_oversize_out(int, char **);
void case_noclose(int, char **);
void case_close_no_eof(int, char **);
void case_malformed(int, char **);
void case_malformed_close(int, char **);
void case_reset_while_sending(int, char **);
void case_flood(int, char **);
void case_flood_control(int, char **);
void case_backpressure(int, char **);
void case_ping_flood(int, char **);
void case_ping_flood_control(int, char **);
void case_ping_flood_keepalive(int, char **);
void case_stale_handles(int, char **);
void case_close_race(int, char **);

static const struct {
    const char *name;
    void (*run)(int, char **);
} cases[] = {
    {"upgrade_timeout", case_upgrade_timeout},
    {"refused", case_refused},
    {"unresolvable", case_unresolvable},
    {"status", case_status},
    {"bad_upgrade", case_bad_upgrade},
    {"killed", case_killed},
    {"frozen", case_frozen},
    {"keepalive_idle", case_keepalive_idle},
    {"oversize_in", case_oversize_in},
    {"oversize_out", case_oversize_out},
    {"noclose", case_noclose},
    {"close_no_eof", case_close_no_eof},
    {"malformed", case_malformed},
    {"malformed_close", case_malformed_close},
    {"reset_while_sending", case_reset_while_sending},
    {"flood", case_flood},
    {"flood_control", case_flood_control},
    {"backpressure", case_backpressure},
    {"ping_flood", case_ping_flood},
    {"ping_flood_control", case_ping_flood_control},
    {"ping_flood_keepalive", case_ping_flood_keepalive},
    {"stale_handles", case_stale_handles},
    {"close_race", case_close_race},
};

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s CASE [ARG...] | --list\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (strcmp(argv[1], "--list") == 0) {
            printf("%s\n", cases[i].name);
        } else if (strcmp(argv[1], cases[i].name) == 0) {
            start_case(cases[i].name);
            cases[i].run(argc - 2, argv + 2);
            /* Leave nothing running behind: the exit is clean for valgrind and LeakSanitizer. */
            wsb_result r = wsb_shutdown(2000);
            if (r != WSB_OK) {
                fprintf(stderr, "wsb_shutdown at exit returned %s: %s\n", wsb_result_name(r), last_error());
                failures++;
            }
            if (failures == 0) printf("%s: ok\n", cases[i].name);
            return failures ? 1 : 0;
        }
    }
    if (strcmp(argv[1], "--list") == 0) return 0;
    fprintf(stderr, "unknown case %s\n", argv[1]);
    return 2;
}
