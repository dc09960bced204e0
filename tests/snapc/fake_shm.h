/* Shared memory of the fake ranks' simulated collectives (tests/snapc). */
#ifndef REVIVE_TESTS_FAKE_SHM_H
#define REVIVE_TESTS_FAKE_SHM_H

#include <stdint.h>

#define FAKE_MAX_RANKS 64
#define FAKE_MAX_COMMS 8

struct fake_shm {
    /* entered[c][r]: how many collectives rank r has entered on communicator c */
    volatile uint64_t entered[FAKE_MAX_COMMS][FAKE_MAX_RANKS];
};

#endif
