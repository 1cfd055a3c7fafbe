/* fuzz_store.c: libFuzzer target for the results-database reader on raw
 * bytes: the input is written as a file and read as `sensi analyze`,
 * `sensi runs` and `sensi merge` read an input database (see
 * fuzz_store_read.h for the calls and the checks).
 *
 * Most byte mutations of a SQLite file are refused by SQLite itself ("file
 * is not a database", "database disk image is malformed"), so this target
 * mainly exercises the refusal paths and SQLite's own corruption checks;
 * the corpus holds small real databases (two sweeps of 4 and 8 tiny runs,
 * 512-byte pages, 19 and 25 kB) so that some mutations land in row data.
 * fuzz_store_rows.c is the structure-aware variant that edits values of a
 * valid database. */
#include "fuzz_store_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[512];
    fuzz_path(in, "input.db");
    fuzz_write(in, data, size);
    fuzz_read_db(in, data, size);
    fuzz_clean_db(in);
    return 0;
}
