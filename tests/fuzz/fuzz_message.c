/*
 * fuzz_message.c - libFuzzer target: oracle_message() (see oracle.h); a broken
 * invariant aborts, so libFuzzer keeps the input.
 */
#include <stdio.h>
#include <stdlib.h>

#include "oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[ORACLE_WHY];

	if (oracle_message(data, size, why) == -1) {
		fprintf(stderr, "fuzz_message: %s\n", why);
		abort();
	}
	return 0;
}
